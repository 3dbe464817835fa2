// gomp/net.hpp: blocking-style networking on netpoll (Go's net package and
// internal/poll): listen, accept, dial, read, write, deadlines, close.
//
//     gomp::run([] {
//         auto ln = gomp::net::listen("tcp", "127.0.0.1:0");
//         gomp::go([ln]() mutable {
//             for (;;) {
//                 gomp::net::conn c = ln.accept();
//                 gomp::go([c]() mutable {          // one goroutine per connection
//                     char buf[4096];
//                     while (std::size_t n = c.read(buf, sizeof buf)) c.write(buf, n);
//                 });
//             }
//         });
//         auto c = gomp::net::dial("tcp", ln.addr());
//         c.write("ping");
//         ...
//     });
//
// Every socket is non-blocking and registered once with netpoll
// (detail/netpoll.hpp). An operation tries the system call first; on EAGAIN
// a goroutine parks on the fd's pollDesc and its thread runs other
// goroutines, so code reads as blocking while the runtime runs an event loop:
//
//     read(): rmu.lock, incref --> ::read --EAGAIN--> netpoll_wait(pd, read)
//               ^                                     (goroutine parked; the
//               +------------- ready / retry ---------  poller readies it)
//
// A plain thread (not a goroutine, or one inside gomp::blocking) doing the
// same call blocks in poll(2) on the fd instead.
//
// Closing (internal/poll's fdMutex, reduced): each operation holds a
// reference; close() marks the fd closing, wakes every waiter (they fail
// with "use of closed network connection") and drops the open reference;
// the last reference closes the descriptor, so an fd number is never reused
// while an operation on it is still running. Reads are serialized among
// themselves, and so are writes (one reader and one writer may wait on a
// pollDesc), as in Go.
//
// Errors are std::system_error with Go's text, e.g.
//   "read tcp 127.0.0.1:1234->127.0.0.1:5678: connection reset by peer",
// code() in net::category() (compares equal to the std::errc values).
// A passed deadline is std::errc::timed_out ("i/o timeout", is_timeout),
// a closed conn std::errc::bad_file_descriptor ("use of closed network
// connection", is_closed).
//
// How it differs from Go: read() returns 0 at end of stream instead of
// io.EOF, and read_full() returns fewer bytes than asked only at end of
// stream; deadlines are std::chrono::steady_clock time points (a default
// time point clears one); a conn is a shared handle (copies are the same
// connection, the last copy closes it if close() was not called); "tcp"
// with an empty host listens on 0.0.0.0 (Go: dual-stack ::).
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <gomp/detail/netpoll.hpp>
#include <gomp/runtime.hpp>
#include <gomp/sync.hpp>

namespace gomp::net {

// Error codes of gomp::net: errno values with Go's messages.
class error_category_t final : public std::error_category {
public:
    const char* name() const noexcept override { return "gomp.net"; }
    std::string message(int ev) const override {
        if (ev == ETIMEDOUT) return "i/o timeout";
        if (ev == EBADF) return "use of closed network connection";
        std::string s = std::strerror(ev);
        if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z' && !(s.size() > 1 && s[1] >= 'A' && s[1] <= 'Z')) s[0] = char(s[0] - 'A' + 'a');
        return s;
    }
    std::error_condition default_error_condition(int ev) const noexcept override {
        return std::error_condition(ev, std::generic_category());
    }
};

inline const std::error_category& category() {
    static const error_category_t c;
    return c;
}

// Whether e is a passed deadline (Go's os.ErrDeadlineExceeded / Timeout()).
inline bool is_timeout(const std::system_error& e) { return e.code() == std::errc::timed_out; }
// Whether e reports an operation on a closed conn or listener (Go's net.ErrClosed).
inline bool is_closed(const std::system_error& e) { return e.code() == std::errc::bad_file_descriptor; }

namespace detail {

using gomp::detail::poll_desc;
using gomp::detail::poll_err;

inline std::string addr_string(const sockaddr_storage& ss, socklen_t len) {
    char host[INET6_ADDRSTRLEN] = {};
    if (ss.ss_family == AF_INET) {
        auto& a = reinterpret_cast<const sockaddr_in&>(ss);
        ::inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
        return std::string(host) + ":" + std::to_string(ntohs(a.sin_port));
    }
    if (ss.ss_family == AF_INET6) {
        auto& a = reinterpret_cast<const sockaddr_in6&>(ss);
        ::inet_ntop(AF_INET6, &a.sin6_addr, host, sizeof host);
        return "[" + std::string(host) + "]:" + std::to_string(ntohs(a.sin6_port));
    }
    if (ss.ss_family == AF_UNIX) {
        auto& a = reinterpret_cast<const sockaddr_un&>(ss);
        std::size_t off = offsetof(sockaddr_un, sun_path);
        if (std::size_t(len) <= off) return "";
        return std::string(a.sun_path, ::strnlen(a.sun_path, std::size_t(len) - off));
    }
    return "";
}

inline std::string sock_name(int fd, bool peer) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int r = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                 : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    return r == 0 ? addr_string(ss, len) : "";
}

// Go's OpError text: "op net src->dst" (src only when known).
inline std::string op_text(std::string_view op, std::string_view net, const std::string& src, const std::string& dst) {
    std::string s(op);
    s += ' ';
    s += net;
    if (!src.empty()) s += " " + src;
    if (!dst.empty()) s += (src.empty() ? " " : "->") + dst;
    return s;
}

[[noreturn]] inline void throw_err(int err, const std::string& what) {
    throw std::system_error(err, category(), what);
}

inline bool on_goroutine() {
    gomp::detail::m* mp = gomp::detail::getm();
    return mp && mp->curg && mp->pp;
}

struct resolved {
    sockaddr_storage ss{};
    socklen_t len = 0;
};

inline int family_of(std::string_view net) {
    if (net == "tcp4") return AF_INET;
    if (net == "tcp6") return AF_INET6;
    if (net == "unix") return AF_UNIX;
    return AF_UNSPEC;
}

// Go's netFD plus poll.FD: the descriptor, its pollDesc and the reference
// count that keeps the number from being reused under a running operation.
struct netfd {
    int fd = -1;
    poll_desc* pd = nullptr;
    std::string net, laddr, raddr;
    std::string unlink_path;  // a unix listener's socket file
    // Operations in flight plus the open reference, and the closed bit: once
    // set no reference is taken, so the count reaches zero exactly once.
    static constexpr std::uint32_t closed_bit = 1u << 31;
    std::atomic<std::uint32_t> state{1};
    std::atomic<int> thread_waiters{0};  // threads in poll(2) on fd
    gomp::mutex rmu, wmu;

    netfd(int f, std::string_view n) : fd(f), net(n) {
        try {
            pd = gomp::detail::netpoll_open(fd);
        } catch (...) {
            ::close(fd);
            throw;
        }
    }
    ~netfd() { close_fd(); }

    bool closed() const { return state.load(std::memory_order_seq_cst) & closed_bit; }
    bool incref() {
        std::uint32_t v = state.load(std::memory_order_relaxed);
        do {
            if (v & closed_bit) return false;
        } while (!state.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel));
        return true;
    }
    void decref() {
        if (state.fetch_sub(1, std::memory_order_acq_rel) == (closed_bit | 1)) destroy();
    }
    void destroy() {
        gomp::detail::netpoll_close(pd);
        ::close(fd);
    }
    // Returns false if it was closed already.
    bool close_fd() {
        if (state.fetch_or(closed_bit, std::memory_order_seq_cst) & closed_bit) return false;
        if (!unlink_path.empty()) ::unlink(unlink_path.c_str());  // as Go's UnixListener.Close
        gomp::detail::netpoll_evict(pd);
        // Threads in poll(2) do not see the pollDesc: wake them the hard way.
        if (thread_waiters.load(std::memory_order_seq_cst) > 0) ::shutdown(fd, SHUT_RDWR);
        decref();
        return true;
    }

    [[noreturn]] void fail(std::string_view op, int err) const { throw_err(err, op_text(op, net, laddr, raddr)); }
    [[noreturn]] void fail_poll(std::string_view op, poll_err e) const {
        fail(op, e == poll_err::closing ? EBADF : ETIMEDOUT);
    }

    // Before an operation: the error a passed deadline or a close gives.
    void prepare(std::string_view op, bool write) {
        poll_err e = gomp::detail::netpoll_reset(pd, write);
        if (e != poll_err::none) fail_poll(op, e);
    }

    // After EAGAIN: waits until fd may be ready for the mode (Go's
    // pd.waitRead / waitWrite); throws on close or a passed deadline.
    void wait(std::string_view op, bool write) {
        if (on_goroutine()) {
            poll_err e = gomp::detail::netpoll_wait(pd, write);
            if (e != poll_err::none) fail_poll(op, e);
            return;
        }
        thread_waiters.fetch_add(1, std::memory_order_seq_cst);
        struct done {
            std::atomic<int>& n;
            ~done() { n.fetch_sub(1, std::memory_order_seq_cst); }
        } d{thread_waiters};
        for (;;) {
            poll_err e = gomp::detail::netpollcheckerr(pd, write);
            if (closed()) e = poll_err::closing;
            if (e != poll_err::none) fail_poll(op, e);
            int timeout_ms = -1;
            if (std::int64_t dl = pd->deadline(write).load(std::memory_order_acquire); dl > 0)
                timeout_ms = int((dl - gomp::detail::nanotime() + 999999) / 1000000);
            pollfd p{fd, short(write ? POLLOUT : POLLIN), 0};
            int r = ::poll(&p, 1, timeout_ms);
            if (r > 0) {
                if (closed()) fail_poll(op, poll_err::closing);
                return;
            }
            if (r < 0 && errno != EINTR) fail(op, errno);
        }
    }

    // An operation's reference; throws "use of closed network connection".
    struct ref {
        netfd* f;
        ref(netfd* fd, std::string_view op) : f(fd) {
            if (!f->incref()) f->fail(op, EBADF);
        }
        ~ref() { f->decref(); }
    };

    std::size_t read(void* buf, std::size_t n) {
        std::lock_guard<gomp::mutex> lk(rmu);
        ref r(this, "read");
        prepare("read", false);
        for (;;) {
            ssize_t k = ::read(fd, buf, n);
            if (k >= 0) return std::size_t(k);
            if (errno == EINTR) continue;
            if (errno != EAGAIN) fail("read", errno);
            wait("read", false);
        }
    }

    // Go's fd.Write: loops until everything is written.
    std::size_t write(const void* buf, std::size_t n) {
        std::lock_guard<gomp::mutex> lk(wmu);
        ref r(this, "write");
        prepare("write", true);
        std::size_t done = 0;
        while (done < n) {
            ssize_t k = ::send(fd, static_cast<const char*>(buf) + done, n - done, MSG_NOSIGNAL);
            if (k >= 0) {
                done += std::size_t(k);
                continue;
            }
            if (errno == EINTR) continue;
            if (errno != EAGAIN) fail("write", errno);
            wait("write", true);
        }
        return done;
    }

    int accept() {
        std::lock_guard<gomp::mutex> lk(rmu);
        ref r(this, "accept");
        prepare("accept", false);
        for (;;) {
            int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c >= 0) return c;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN) throw_err(errno, op_text("accept", net, "", laddr));
            wait("accept", false);
        }
    }

    void set_deadline(std::chrono::steady_clock::time_point t, bool rd, bool wr) {
        ref r(this, "set deadline");
        std::int64_t d = 0;
        if (t != std::chrono::steady_clock::time_point{}) {
            d = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
            if (d <= 0) d = 1;  // a time long past
        }
        gomp::detail::netpoll_set_deadline(pd, d, rd, wr);
    }
};

// Resolves "host:port" (or a path for unix) to socket addresses.
inline std::vector<resolved> resolve(std::string_view op, std::string_view net, std::string_view address, bool passive) {
    std::vector<resolved> out;
    if (net == "unix") {
        resolved r;
        auto& a = reinterpret_cast<sockaddr_un&>(r.ss);
        a.sun_family = AF_UNIX;
        if (address.size() >= sizeof a.sun_path) throw_err(ENAMETOOLONG, op_text(op, net, "", std::string(address)));
        std::memcpy(a.sun_path, address.data(), address.size());
        r.len = socklen_t(offsetof(sockaddr_un, sun_path) + address.size() + 1);
        out.push_back(r);
        return out;
    }
    if (net != "tcp" && net != "tcp4" && net != "tcp6")
        throw std::system_error(EAFNOSUPPORT, category(), std::string(op) + " " + std::string(net) + ": unknown network");
    auto colon = address.rfind(':');
    if (colon == std::string_view::npos)
        throw std::system_error(EINVAL, category(), std::string(op) + " " + std::string(net) + " " + std::string(address) + ": missing port in address");
    std::string host(address.substr(0, colon)), port(address.substr(colon + 1));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_family = family_of(net);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
    if (host.empty() && hints.ai_family == AF_UNSPEC) hints.ai_family = AF_INET;
    addrinfo* res = nullptr;
    hints.ai_flags |= AI_NUMERICHOST;
    int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
    if (rc == EAI_NONAME && !host.empty()) {
        // A name: the lookup may block its thread.
        hints.ai_flags &= ~AI_NUMERICHOST;
        rc = gomp::blocking([&] { return ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); });
    }
    if (rc != 0) {
        std::string msg = op_text(op, net, "", std::string(address)) + ": lookup " + host + ": " + ::gai_strerror(rc);
        throw std::system_error(std::make_error_code(std::errc::address_not_available), msg);
    }
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        resolved r;
        std::memcpy(&r.ss, ai->ai_addr, ai->ai_addrlen);
        r.len = ai->ai_addrlen;
        out.push_back(r);
    }
    ::freeaddrinfo(res);
    return out;
}

inline void set_nodelay(int fd, int family) {
    if (family == AF_INET || family == AF_INET6) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

}  // namespace detail

// A network connection (Go's net.Conn): a shared handle; copies are the
// same connection. Safe to use from several goroutines and threads at
// once (reads are serialized among themselves, and writes).
//
//     gomp::net::conn c = gomp::net::dial("tcp", "127.0.0.1:8080");
//     c.set_read_deadline(std::chrono::steady_clock::now() + std::chrono::seconds(5));
//     c.write_all("hello\n");
//     char buf[64];
//     std::size_t n = c.read(buf, sizeof buf);  // 0: the peer closed its side
class conn {
public:
    conn() = default;

    // Reads at most n bytes; blocks until at least one is there. Returns 0
    // at end of stream (Go: io.EOF).
    std::size_t read(void* buf, std::size_t n) { return n == 0 ? 0 : pin()->read(buf, n); }
    // Reads exactly n bytes, or fewer only at end of stream (io.ReadFull).
    std::size_t read_full(void* buf, std::size_t n) {
        std::size_t got = 0;
        while (got < n) {
            std::size_t k = read(static_cast<char*>(buf) + got, n - got);
            if (k == 0) break;
            got += k;
        }
        return got;
    }
    // Writes all n bytes (as Go's Write does) and returns n.
    std::size_t write(const void* buf, std::size_t n) { return pin()->write(buf, n); }
    std::size_t write(std::string_view s) { return write(s.data(), s.size()); }
    void write_all(const void* buf, std::size_t n) { write(buf, n); }
    void write_all(std::string_view s) { write(s.data(), s.size()); }

    // Closes the connection; blocked reads and writes fail with "use of
    // closed network connection". Closing twice throws that error too.
    void close() {
        if (!fd().close_fd()) fd().fail("close", EBADF);
    }
    // Shuts down the writing side (the peer reads end of stream); reading
    // goes on (Go's TCPConn.CloseWrite).
    void close_write() {
        detail::netfd::ref r(&fd(), "close_write");
        if (::shutdown(fd_->fd, SHUT_WR) != 0) fd().fail("shutdown", errno);
    }

    // Deadlines (Go's SetDeadline...): an operation blocked at or started
    // after t fails with a timeout error (is_timeout). A default time point
    // clears the deadline; a later one extends it.
    void set_deadline(std::chrono::steady_clock::time_point t) { fd().set_deadline(t, true, true); }
    void set_read_deadline(std::chrono::steady_clock::time_point t) { fd().set_deadline(t, true, false); }
    void set_write_deadline(std::chrono::steady_clock::time_point t) { fd().set_deadline(t, false, true); }

    const std::string& local_addr() const { return fd().laddr; }
    const std::string& remote_addr() const { return fd().raddr; }
    // The socket, for setsockopt; do not read, write or close it directly.
    int native_handle() const { return fd().fd; }
    explicit operator bool() const { return fd_ != nullptr; }

private:
    friend class listener;
    friend conn dial(std::string_view, std::string_view);
    explicit conn(std::shared_ptr<detail::netfd> f) : fd_(std::move(f)) {}
    detail::netfd& fd() const {
        if (!fd_) throw std::system_error(EBADF, category(), "gomp::net::conn: not connected");
        return *fd_;
    }
    // For a call that may block: the descriptor outlives the call even if
    // every handle goes meanwhile (Go's GC keeps an fd alive the same way).
    std::shared_ptr<detail::netfd> pin() const {
        fd();
        return fd_;
    }
    std::shared_ptr<detail::netfd> fd_;
};

// A listening socket (Go's net.Listener); a shared handle like conn.
//
//     auto ln = gomp::net::listen("tcp", "127.0.0.1:0");
//     std::string where = ln.addr();   // "127.0.0.1:41234"
//     for (;;) gomp::go(serve, ln.accept());
class listener {
public:
    listener() = default;

    // Waits for a connection. Errors (EMFILE, say) leave the listener usable.
    conn accept() {
        auto pinned = pin();  // see conn::pin
        detail::netfd& l = *pinned;
        int c = l.accept();
        auto f = std::make_shared<detail::netfd>(c, l.net);
        detail::set_nodelay(c, family_);
        f->laddr = detail::sock_name(c, false);
        f->raddr = detail::sock_name(c, true);
        return conn(std::move(f));
    }
    // The address it listens on, e.g. "127.0.0.1:41234", "[::1]:80", "/tmp/s".
    const std::string& addr() const { return fd().laddr; }
    // Stops listening; a blocked accept fails with "use of closed network connection".
    void close() {
        if (!fd().close_fd()) fd().fail("close", EBADF);
    }
    int native_handle() const { return fd().fd; }
    explicit operator bool() const { return fd_ != nullptr; }

private:
    friend listener listen(std::string_view, std::string_view);
    listener(std::shared_ptr<detail::netfd> f, int family) : fd_(std::move(f)), family_(family) {}
    detail::netfd& fd() const {
        if (!fd_) throw std::system_error(EBADF, category(), "gomp::net::listener: not listening");
        return *fd_;
    }
    std::shared_ptr<detail::netfd> pin() const {
        fd();
        return fd_;
    }
    std::shared_ptr<detail::netfd> fd_;
    int family_ = AF_INET;
};

// Go's net.Listen: network "tcp", "tcp4", "tcp6" with "host:port" (port 0:
// any free one), or "unix" with a socket path (removed again on close).
inline listener listen(std::string_view network, std::string_view address) {
    auto addrs = detail::resolve("listen", network, address, true);
    int err = 0;
    for (auto& a : addrs) {
        int fd = ::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        if (a.ss.ss_family != AF_UNIX) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a.ss.ss_family == AF_INET6 && network == "tcp6") ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        const char* step = "bind";
        if (::bind(fd, reinterpret_cast<sockaddr*>(&a.ss), a.len) != 0 || (step = "listen", ::listen(fd, 4096) != 0)) {
            err = errno;
            ::close(fd);
            detail::throw_err(err, detail::op_text("listen", network, "", std::string(address)) + ": " + step);
        }
        auto f = std::make_shared<detail::netfd>(fd, network);
        f->laddr = detail::sock_name(fd, false);
        if (a.ss.ss_family == AF_UNIX) f->unlink_path = std::string(address);
        return listener(std::move(f), a.ss.ss_family);
    }
    detail::throw_err(err ? err : EADDRNOTAVAIL, detail::op_text("listen", network, "", std::string(address)) + ": socket");
}

// Go's net.Dial: connects to "host:port" ("tcp", "tcp4", "tcp6"; each
// address of a name in turn) or to a socket path ("unix"). TCP_NODELAY is on.
inline conn dial(std::string_view network, std::string_view address) {
    auto addrs = detail::resolve("dial", network, address, false);
    int err = ECONNREFUSED;
    for (auto& a : addrs) {
        int fd = ::socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int r = ::connect(fd, reinterpret_cast<sockaddr*>(&a.ss), a.len);
        if (r != 0 && errno != EINPROGRESS) {
            err = errno;
            ::close(fd);
            continue;
        }
        auto f = std::make_shared<detail::netfd>(fd, network);  // owns fd from here
        f->raddr = detail::addr_string(a.ss, a.len);
        if (r != 0) {
            // Go's connect: wait until writable, then read SO_ERROR.
            detail::netfd::ref ref(f.get(), "dial");
            f->wait("dial", true);
            socklen_t len = sizeof err;
            if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err != 0) continue;  // f closes fd
        }
        detail::set_nodelay(fd, a.ss.ss_family);
        f->laddr = detail::sock_name(fd, false);
        return conn(std::move(f));
    }
    detail::throw_err(err, detail::op_text("dial", network, "", std::string(address)) + ": connect");
}

}  // namespace gomp::net
