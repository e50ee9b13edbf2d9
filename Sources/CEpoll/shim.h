#ifndef SGW_CEPOLL_SHIM_H
#define SGW_CEPOLL_SHIM_H
// <sys/epoll.h> is not part of Swift's Glibc module; GatewayLoop's Poller is its only user.
#include <sys/epoll.h>
#endif
