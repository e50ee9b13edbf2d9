#ifndef SGW_CEPOLL_SHIM_H
#define SGW_CEPOLL_SHIM_H
// <sys/epoll.h> and <sys/eventfd.h> are not part of Swift's Glibc module; GatewayLoop's Poller is their only user.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
