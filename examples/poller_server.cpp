// A single-threaded echo server on gomp::poller (the event loop of seed 002):
// one thread, one poller, every connection a non-blocking fd. No goroutines.
//
//   poller_server [port]       serve on 127.0.0.1:port (default 7000) until killed
//   poller_server --self-test  serve on a free port while a client thread
//                              checks 20 connections' echoes, then exit 0
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gomp/poller.hpp>

namespace {

int listen_on(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(std::uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
        std::perror("poller_server: listen");
        std::exit(1);
    }
    return fd;
}

int port_of(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

// The event loop. Level-triggered: a connection whose echo did not fit in
// the socket buffer keeps the rest in `pending` and waits for write interest.
void serve(int lfd, const std::atomic<bool>& stop) {
    gomp::poller pl;
    pl.add(lfd, gomp::interest::read);
    std::unordered_map<int, std::string> pending;
    std::vector<gomp::poll_event> ready;
    char buf[16384];
    while (!stop.load()) {
        pl.wait(ready);
        for (const gomp::poll_event& ev : ready) {
            int fd = ev.fd();
            if (fd == lfd) {
                int c;
                while ((c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    pl.add(c, gomp::interest::read);
                    pending[c];
                }
                continue;
            }
            std::string& out = pending[fd];
            bool closed = false;
            if (ev.readable && out.empty()) {
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n > 0) out.assign(buf, std::size_t(n));
                else if (n == 0 || errno != EAGAIN) closed = true;
            }
            while (!closed && !out.empty()) {
                ssize_t n = ::write(fd, out.data(), out.size());
                if (n < 0) {
                    closed = errno != EAGAIN;
                    break;
                }
                out.erase(0, std::size_t(n));
            }
            if (closed) {
                pl.remove(fd);
                pending.erase(fd);
                ::close(fd);
            } else {
                // Read only once the last echo is out: the client's backlog
                // waits in the kernel, not in this process.
                pl.modify(fd, out.empty() ? gomp::interest::read : gomp::interest::write);
            }
        }
    }
    for (auto& [fd, out] : pending) ::close(fd);
}

int self_test() {
    int lfd = listen_on(0);
    int port = port_of(lfd);
    std::atomic<bool> stop{false};
    int failures = 0;
    std::thread client([&] {
        constexpr int conns = 20, rounds = 100;
        std::vector<int> fds;
        for (int i = 0; i < conns; i++) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(std::uint16_t(port));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) failures++;
            fds.push_back(fd);
        }
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < conns; i++) {
                std::string msg = "conn " + std::to_string(i) + " round " + std::to_string(r);
                if (::write(fds[std::size_t(i)], msg.data(), msg.size()) != ssize_t(msg.size())) failures++;
                std::string got(msg.size(), '\0');
                std::size_t have = 0;
                while (have < got.size()) {
                    ssize_t n = ::read(fds[std::size_t(i)], got.data() + have, got.size() - have);
                    if (n <= 0) break;
                    have += std::size_t(n);
                }
                if (got != msg) failures++;
            }
        for (int fd : fds) ::close(fd);
        stop = true;
        // Wake the loop: one more connection makes the listener readable.
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(std::uint16_t(port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::close(fd);
    });
    serve(lfd, stop);
    client.join();
    ::close(lfd);
    std::printf("poller_server self-test (%s): %s\n", gomp::poller::backend_name(), failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--self-test") == 0) return self_test();
    int port = argc > 1 ? std::atoi(argv[1]) : 7000;
    int lfd = listen_on(port);
    std::printf("poller_server: echo on 127.0.0.1:%d (%s)\n", port_of(lfd), gomp::poller::backend_name());
    std::fflush(stdout);
    std::atomic<bool> stop{false};
    serve(lfd, stop);
}
