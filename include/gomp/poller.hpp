// gomp/poller.hpp: the raw readiness poller (the Poller of seed 002; the
// portable half of Go's runtime/netpoll.go): epoll on Linux, kqueue on
// macOS and the BSDs, chosen at compile time.
//
// A poller watches file descriptors for interest (read, write or both) and
// wait() returns those that became ready: one thread, many connections, no
// thread per connection. It needs no gomp::run and no goroutines; netpoll
// (detail/netpoll.hpp) is built on it in edge mode.
//
//   add(fd, interest, data) --> kernel set (epoll / kqueue)
//   wait(ready, timeout)    <-- [{data, readable, writable, hangup, error}...]
//   wake()  --(eventfd / EVFILT_USER)--> breaks a blocked wait
//
// Triggers. Level (the default): an fd is reported at every wait while it
// is ready, so a handler may read part of what is there. Edge: it is
// reported once per change of readiness, so a handler must read or write
// until EAGAIN before waiting again (what netpoll does).
//
// Waking. wake() interrupts a blocking wait from any thread. Repeated
// wake()s before the wait sees one collapse into one (Go's netpollWakeSig):
// a flag set by the first wake() and cleared only by a blocking wait that
// consumed the wake-up, so a non-blocking wait never steals a wake-up meant
// for a sleeping one.
//
// Backends. All logic is here; detail/poller_epoll.hpp and
// detail/poller_kqueue.hpp are thin system-call shims. The kqueue backend is
// UNTESTED on a real kqueue (it only type-checks in CI, against a stand-in
// <sys/event.h>). Differences callers may see: kqueue reports one event per
// filter, so the same fd can appear twice in one wait.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

// GOMP_POLLER_KQUEUE forces kqueue (CI's compile check on Linux).
#if defined(GOMP_POLLER_KQUEUE) || defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || \
    defined(__OpenBSD__) || defined(__DragonFly__)
#include <gomp/detail/poller_kqueue.hpp>
#elif defined(__linux__)
#include <gomp/detail/poller_epoll.hpp>
#else
#error "gomp/poller.hpp: no poller backend for this system (epoll or kqueue needed)"
#endif

namespace gomp {

// What to watch an fd for; a bit set.
enum class interest : unsigned { read = 1, write = 2, read_write = 3 };

// How often a ready fd is reported: at every wait while ready (level) or
// once per change of readiness (edge: read or write until EAGAIN first).
enum class trigger { level, edge };

// One ready fd, as wait() reports it.
struct poll_event {
    std::uint64_t data = 0;  // the value given to add(); the fd by default
    bool readable = false;   // also on hang-up or error, so a read reports it
    bool writable = false;   // also on hang-up or error
    bool hangup = false;     // the peer closed (its side or both)
    bool error = false;      // an error is pending on the fd (read it with SO_ERROR)
    int fd() const { return int(data); }
};

// A readiness poller. add/modify/remove/wake may be called from any thread,
// also while another waits.
//
//     gomp::poller pl;
//     pl.add(listen_fd, gomp::interest::read);
//     std::vector<gomp::poll_event> ready;
//     for (;;) {
//         pl.wait(ready);                       // blocks until something is ready
//         for (auto& ev : ready)
//             if (ev.fd() == listen_fd) pl.add(accept_one(listen_fd), gomp::interest::read);
//             else if (ev.readable) echo(ev.fd());
//     }
class poller {
public:
    using backend_event = detail::poller_backend::raw_event;
    static constexpr std::chrono::nanoseconds forever{-1};
    // Events taken from the kernel per system call.
    static constexpr int batch = 128;

    explicit poller(trigger t = trigger::level) : edge_(t == trigger::edge) {
        if (int e = detail::poller_backend::open(h_))
            throw std::system_error(e, std::generic_category(), std::string("gomp::poller: ") + backend_name());
    }
    ~poller() { detail::poller_backend::close(h_); }
    poller(const poller&) = delete;
    poller& operator=(const poller&) = delete;

    static constexpr const char* backend_name() { return detail::poller_backend::name; }
    // The epoll fd or the kqueue.
    int native_handle() const { return h_.pfd; }

    // Starts watching fd; data comes back in its events (default: the fd).
    // data must not be ~0 (reserved for the wake-up).
    void add(int fd, interest in) { add(fd, in, std::uint64_t(unsigned(fd))); }
    void add(int fd, interest in, std::uint64_t data) {
        check(detail::poller_backend::add(h_, fd, rd(in), wr(in), edge_, data), "add", fd);
    }
    // Replaces fd's interest (and data).
    void modify(int fd, interest in) { modify(fd, in, std::uint64_t(unsigned(fd))); }
    void modify(int fd, interest in, std::uint64_t data) {
        check(detail::poller_backend::modify(h_, fd, rd(in), wr(in), edge_, data), "modify", fd);
    }
    // Stops watching fd (closing an fd also removes it, once no dup of it remains).
    void remove(int fd) { check(detail::poller_backend::remove(h_, fd), "remove", fd); }

    // Waits until some fd is ready, wake() is called or timeout passes
    // (forever: no limit; zero: just look). Fills ready (cleared first) and
    // returns its size: 0 on timeout, wake-up or a signal.
    std::size_t wait(std::vector<poll_event>& ready, std::chrono::nanoseconds timeout = forever) {
        ready.clear();
        wait_each(timeout.count(), [&](const poll_event& ev) { ready.push_back(ev); });
        return ready.size();
    }

    // Breaks a blocking wait (from any thread); wake()s that come before the
    // waiter sees one count once.
    void wake() {
        if (wake_sig_.exchange(1, std::memory_order_acq_rel) == 0) detail::poller_backend::wake(h_);
    }

    // wait() without the vector: calls on_event(poll_event) for each ready fd,
    // returns how many. timeout_ns < 0: forever. netpoll's entry point.
    template <class F>
    int wait_each(std::int64_t timeout_ns, F&& on_event) {
        namespace be = detail::poller_backend;
        backend_event evs[batch];
        int n = be::wait(h_, evs, batch, to_ms(timeout_ns));
        if (n < 0) {
            if (n == -EINTR) return 0;
            check(-n, "wait", -1);
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            const backend_event& ev = evs[i];
            if (be::data(ev) == be::wake_data) {
                if (timeout_ns != 0) {
                    // A blocking wait consumes the wake-up.
                    be::drain(h_);
                    wake_sig_.store(0, std::memory_order_release);
                } else if (be::wait_consumes_wake) {
                    be::wake(h_);  // give it back to the sleeper it was meant for
                }
                continue;
            }
            poll_event pe;
            pe.data = be::data(ev);
            pe.readable = be::readable(ev);
            pe.writable = be::writable(ev);
            pe.hangup = be::hangup(ev);
            pe.error = be::error(ev);
            on_event(pe);
            count++;
        }
        return count;
    }

private:
    static bool rd(interest in) { return unsigned(in) & unsigned(interest::read); }
    static bool wr(interest in) { return unsigned(in) & unsigned(interest::write); }

    // Go's rounding: below 1 ms waits 1 ms (a zero would spin); others round up.
    static int to_ms(std::int64_t ns) {
        if (ns < 0) return -1;
        if (ns == 0) return 0;
        constexpr std::int64_t max_ms = 1000000000;  // ~11 days; the caller loops
        return int(std::min<std::int64_t>((ns + 999999) / 1000000, max_ms));
    }

    static void check(int err, const char* op, int fd) {
        if (err == 0) return;
        std::string what = std::string("gomp::poller: ") + backend_name() + " " + op;
        if (fd >= 0) what += " fd " + std::to_string(fd);
        throw std::system_error(err, std::generic_category(), what);
    }

    detail::poller_backend::handle h_;
    bool edge_;
    std::atomic<std::uint32_t> wake_sig_{0};
};

}  // namespace gomp
