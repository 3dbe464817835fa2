// gomp/detail/poller_epoll.hpp: the epoll backend of gomp::poller (Go's
// runtime/netpoll_epoll.go, the system-call half).
//
// A backend is a handful of static functions over one kernel object; every
// decision above them (readiness bits, timeouts, the wake-up protocol) is in
// poller.hpp and shared with the kqueue backend. Interest maps to
// EPOLLIN|EPOLLRDHUP (read) and EPOLLOUT (write); edge mode adds EPOLLET.
// The wake-up channel is an eventfd registered level-triggered with the
// reserved data value wake_data, so it stays ready until a blocking wait
// drains it.
#pragma once

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace gomp::detail::poller_backend {

inline constexpr const char* name = "epoll";
inline constexpr std::uint64_t wake_data = ~std::uint64_t(0);

using raw_event = epoll_event;

struct handle {
    int pfd = -1;   // the epoll instance
    int wake = -1;  // the eventfd that breaks a wait
};

// Returns 0 or an errno.
inline int open(handle& h) {
    h.pfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (h.pfd < 0) return errno;
    h.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (h.wake < 0) {
        int e = errno;
        ::close(h.pfd);
        return e;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wake_data;
    if (::epoll_ctl(h.pfd, EPOLL_CTL_ADD, h.wake, &ev) != 0) {
        int e = errno;
        ::close(h.wake);
        ::close(h.pfd);
        return e;
    }
    return 0;
}

inline void close(handle& h) {
    if (h.wake >= 0) ::close(h.wake);
    if (h.pfd >= 0) ::close(h.pfd);
    h.pfd = h.wake = -1;
}

inline int ctl(const handle& h, int op, int fd, bool rd, bool wr, bool edge, std::uint64_t data) {
    epoll_event ev{};
    ev.events = (rd ? EPOLLIN | EPOLLRDHUP : 0u) | (wr ? EPOLLOUT : 0u) | (edge ? unsigned(EPOLLET) : 0u);
    ev.data.u64 = data;
    return ::epoll_ctl(h.pfd, op, fd, &ev) == 0 ? 0 : errno;
}

inline int add(const handle& h, int fd, bool rd, bool wr, bool edge, std::uint64_t data) {
    return ctl(h, EPOLL_CTL_ADD, fd, rd, wr, edge, data);
}
inline int modify(const handle& h, int fd, bool rd, bool wr, bool edge, std::uint64_t data) {
    return ctl(h, EPOLL_CTL_MOD, fd, rd, wr, edge, data);
}
inline int remove(const handle& h, int fd) {
    epoll_event ev{};  // non-null for kernels before 2.6.9
    return ::epoll_ctl(h.pfd, EPOLL_CTL_DEL, fd, &ev) == 0 ? 0 : errno;
}

// Waits up to timeout_ms (-1: forever); returns the count or -errno.
inline int wait(const handle& h, raw_event* evs, int n, int timeout_ms) {
    int r = ::epoll_wait(h.pfd, evs, n, timeout_ms);
    return r < 0 ? -errno : r;
}

inline std::uint64_t data(const raw_event& ev) { return ev.data.u64; }

// Readiness as Go's netpoll reads it: hang-up and error wake both sides.
inline bool readable(const raw_event& ev) { return ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR); }
inline bool writable(const raw_event& ev) { return ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR); }
inline bool hangup(const raw_event& ev) { return ev.events & (EPOLLHUP | EPOLLRDHUP); }
inline bool error(const raw_event& ev) { return ev.events & EPOLLERR; }

inline void wake(const handle& h) {
    std::uint64_t one = 1;
    while (::write(h.wake, &one, sizeof one) < 0 && errno == EINTR) {
    }
}
// A wait that sees the eventfd does not consume it: it stays ready until drained.
inline constexpr bool wait_consumes_wake = false;
inline void drain(const handle& h) {
    std::uint64_t v;
    while (::read(h.wake, &v, sizeof v) < 0 && errno == EINTR) {
    }
}

}  // namespace gomp::detail::poller_backend
