/// Carries a loop-confined reference through a `@Sendable` closure that hops back to the same loop.
struct UnsafeTransfer<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
