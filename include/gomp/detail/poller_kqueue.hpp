// gomp/detail/poller_kqueue.hpp: the kqueue backend of gomp::poller for
// macOS and the BSDs (Go's runtime/netpoll_kqueue.go, the system-call half).
//
// UNTESTED ON A REAL KQUEUE: the project's machines run Linux; CI only
// type-checks this file against a stand-in <sys/event.h>
// (tests/kqueue_stub). Keep it small: the logic lives in poller.hpp.
//
// kqueue keeps one registration per (fd, filter): read interest is
// EVFILT_READ, write interest EVFILT_WRITE, edge mode adds EV_CLEAR. A
// ready fd comes back as one event per filter, so one wait may report the
// same fd twice. The wake-up channel is an EVFILT_USER event (ident 0,
// data wake_data) triggered with NOTE_TRIGGER and reset by EV_CLEAR.
#pragma once

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>

namespace gomp::detail::poller_backend {

inline constexpr const char* name = "kqueue";
inline constexpr std::uint64_t wake_data = ~std::uint64_t(0);

using raw_event = struct kevent;

struct handle {
    int pfd = -1;  // the kqueue
};

inline void* to_udata(std::uint64_t data) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(data)); }

inline int change(const handle& h, struct kevent* evs, int n) {
    struct kevent* none = nullptr;
    return ::kevent(h.pfd, evs, n, none, 0, nullptr) < 0 ? errno : 0;
}

inline int open(handle& h) {
    h.pfd = ::kqueue();
    if (h.pfd < 0) return errno;
    struct kevent ev;
    EV_SET(&ev, 0, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, to_udata(wake_data));
    if (int e = change(h, &ev, 1)) {
        ::close(h.pfd);
        h.pfd = -1;
        return e;
    }
    return 0;
}

inline void close(handle& h) {
    if (h.pfd >= 0) ::close(h.pfd);
    h.pfd = -1;
}

// One filter on or off; deleting a filter that is not there is no error.
inline int set_filter(const handle& h, int fd, short filter, bool on, bool edge, std::uint64_t data) {
    struct kevent ev;
    unsigned short flags = on ? (EV_ADD | EV_ENABLE | (edge ? EV_CLEAR : 0)) : EV_DELETE;
    EV_SET(&ev, uintptr_t(fd), filter, flags, 0, 0, to_udata(data));
    int e = change(h, &ev, 1);
    return (!on && e == ENOENT) ? 0 : e;
}

inline int modify(const handle& h, int fd, bool rd, bool wr, bool edge, std::uint64_t data) {
    if (int e = set_filter(h, fd, EVFILT_READ, rd, edge, data)) return e;
    return set_filter(h, fd, EVFILT_WRITE, wr, edge, data);
}
inline int add(const handle& h, int fd, bool rd, bool wr, bool edge, std::uint64_t data) {
    return modify(h, fd, rd, wr, edge, data);
}
inline int remove(const handle& h, int fd) {
    if (int e = set_filter(h, fd, EVFILT_READ, false, false, 0)) return e;
    return set_filter(h, fd, EVFILT_WRITE, false, false, 0);
}

inline int wait(const handle& h, raw_event* evs, int n, int timeout_ms) {
    timespec ts{time_t(timeout_ms / 1000), long(timeout_ms % 1000) * 1000000L};
    int r = ::kevent(h.pfd, nullptr, 0, evs, n, timeout_ms < 0 ? nullptr : &ts);
    return r < 0 ? -errno : r;
}

inline std::uint64_t data(const raw_event& ev) { return std::uint64_t(reinterpret_cast<std::uintptr_t>(ev.udata)); }

// As Go's netpoll_kqueue.go: EOF on the read filter wakes the writer too.
inline bool readable(const raw_event& ev) { return ev.filter == EVFILT_READ; }
inline bool writable(const raw_event& ev) {
    return ev.filter == EVFILT_WRITE || (ev.filter == EVFILT_READ && (ev.flags & EV_EOF));
}
inline bool hangup(const raw_event& ev) { return ev.flags & EV_EOF; }
inline bool error(const raw_event& ev) { return ev.flags & EV_ERROR; }

inline void wake(const handle& h) {
    struct kevent ev;
    EV_SET(&ev, 0, EVFILT_USER, 0, NOTE_TRIGGER, 0, to_udata(wake_data));
    (void)change(h, &ev, 1);
}
// Any kevent call that returns the user event resets it (EV_CLEAR).
inline constexpr bool wait_consumes_wake = true;
inline void drain(const handle&) {}

}  // namespace gomp::detail::poller_backend
