#ifndef SGW_CTSAN_SHIM_H
#define SGW_CTSAN_SHIM_H
// ThreadSanitizer's happens-before annotations, for the one lock it cannot see: Swift's `Synchronization.Mutex`
// on Linux hands a contended lock over with FUTEX_LOCK_PI / FUTEX_UNLOCK_PI syscalls (the kernel writes the new
// owner into the lock word), which TSan neither intercepts nor instruments. `Locked` (GatewayCore) calls these
// on every lock and unlock.
//
// The symbols are weak: a `--sanitize=thread` build links TSan's runtime, which defines them; any other build
// leaves them null and each call is one not-taken branch, so no build setting has to tell the two apart.
void __tsan_acquire(void *addr) __attribute__((weak));
void __tsan_release(void *addr) __attribute__((weak));

/// After taking the lock at `addr`: everything done before its last release happens before what follows.
static inline void sgw_tsan_acquire(void *addr) {
    if (__tsan_acquire) __tsan_acquire(addr);
}

/// Before giving the lock at `addr` up.
static inline void sgw_tsan_release(void *addr) {
    if (__tsan_release) __tsan_release(addr);
}

/// Whether this process runs under ThreadSanitizer (for the test that checks the annotations are live).
static inline int sgw_tsan_active(void) {
    return __tsan_acquire != 0;
}
#endif
