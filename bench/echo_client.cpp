// echo_client: the one load generator of the echo cases (bench/net_bench.cpp
// and their Go twins in bench/go/net_test.go both run this executable, so
// gomp's server and Go's are driven by the same client, measured the same way).
//
//   echo_client ADDR CONNS MSG_BYTES WINDOW DURATION_MS
//
// Opens CONNS TCP connections to ADDR (host:port, IPv4), then for
// DURATION_MS keeps WINDOW messages of MSG_BYTES in flight on each: a message
// counts as done when all its bytes have come back, and is then replaced by
// a new one. WINDOW 1 is request/response (echo_c1, _c100, _c1000); a larger
// window streams (echo_stream). Prints one line on stdout,
//
//   round_trips=<messages echoed> ns=<elapsed wall time>
//
// and exits 0, or prints the reason to stderr and exits 1.
//
// One thread, level-triggered epoll: the client costs one core however many
// connections it drives, and never more. Bytes are counted, not compared;
// the echo servers return what they read, so the count is the check.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "echo_client: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

struct connection {
    int fd = -1;
    long unsent = 0;    // bytes of the messages in flight not yet written
    long received = 0;  // bytes of the oldest message in flight received so far
    bool want_out = false;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: echo_client ADDR CONNS MSG_BYTES WINDOW DURATION_MS\n");
        return 1;
    }
    std::string addr = argv[1];
    const long conns = std::atol(argv[2]), msg = std::atol(argv[3]), window = std::atol(argv[4]);
    const auto duration = std::chrono::milliseconds(std::atol(argv[5]));
    auto colon = addr.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (colon == std::string::npos || conns < 1 || msg < 1 || window < 1 ||
        ::inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
        std::fprintf(stderr, "echo_client: bad arguments\n");
        return 1;
    }
    sa.sin_port = htons(std::uint16_t(std::atoi(addr.c_str() + colon + 1)));

    rlimit rl{};  // echo_c1000 needs more descriptors than the usual soft limit
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }

    std::vector<connection> cs(static_cast<std::size_t>(conns));
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    for (std::size_t i = 0; i < cs.size(); i++) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) die("socket");
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as Go's and gomp's servers set
        if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("connect");
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
        cs[i].fd = fd;
    }

    std::vector<char> out(std::size_t(msg * window), 'x'), in(std::size_t(msg * window) + 65536);
    auto flush = [&](std::size_t i) {
        connection& c = cs[i];
        while (c.unsent > 0) {
            ssize_t n = ::write(c.fd, out.data(), std::size_t(std::min<long>(c.unsent, long(out.size()))));
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno != EAGAIN) die("write");
                break;
            }
            c.unsent -= n;
        }
        bool want = c.unsent > 0;
        if (want != c.want_out) {  // wait for room only while there is something to write
            epoll_event ev{};
            ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
            ev.data.u64 = i;
            if (::epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev) != 0) die("epoll_ctl");
            c.want_out = want;
        }
    };

    long done = 0;
    auto start = std::chrono::steady_clock::now(), deadline = start + duration, now = start;
    for (std::size_t i = 0; i < cs.size(); i++) {
        cs[i].unsent = msg * window;
        flush(i);
    }
    std::vector<epoll_event> evs(1024);
    while ((now = std::chrono::steady_clock::now()) < deadline) {
        int n = ::epoll_wait(ep, evs.data(), int(evs.size()), 10);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int k = 0; k < n; k++) {
            std::size_t i = evs[std::size_t(k)].data.u64;
            connection& c = cs[i];
            if (evs[std::size_t(k)].events & EPOLLIN) {
                ssize_t r = ::read(c.fd, in.data(), in.size());
                if (r == 0) {
                    errno = ECONNRESET;
                    die("read (server closed the connection)");
                }
                if (r < 0 && errno != EAGAIN && errno != EINTR) die("read");
                if (r > 0) {
                    c.received += r;
                    long finished = c.received / msg;
                    c.received %= msg;
                    done += finished;
                    c.unsent += finished * msg;  // replace every message that came back
                }
            }
            flush(i);
        }
    }
    for (connection& c : cs) ::close(c.fd);
    std::printf("round_trips=%ld ns=%lld\n", done,
                (long long)std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count());
    return done > 0 ? 0 : 1;
}
