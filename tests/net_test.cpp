// gomp::net: listen/dial/accept over TCP (IPv4, IPv6) and Unix sockets,
// Go-style errors, half-close, peer reset, close during a read, deadlines,
// EMFILE on accept, TCP_NODELAY, and plain threads doing the same calls.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gomp/gomp.hpp>
#include <gomp/net.hpp>
#include <gomp/time.hpp>

#include "test_util.hpp"

using namespace std::chrono_literals;
namespace net = gomp::net;
using steady = std::chrono::steady_clock;

namespace {

// Echoes every connection of ln, each in its own goroutine, until stop():
// which closes the listener and the server ends of the connections and
// waits for every goroutine, so that none is abandoned holding a socket.
struct echo_server {
    net::listener ln;
    gomp::wait_group wg;
    gomp::mutex mu;
    std::vector<net::conn> conns;

    explicit echo_server(net::listener l) : ln(std::move(l)) {
        wg.add(1);
        gomp::go([this, ln = ln]() mutable {
            for (;;) {
                net::conn c;
                try {
                    c = ln.accept();
                } catch (const std::system_error&) {
                    ln = {};
                    wg.done();
                    return;
                }
                {
                    std::lock_guard lk(mu);
                    conns.push_back(c);
                }
                wg.add(1);
                gomp::go([this, c]() mutable {
                    char buf[4096];
                    try {
                        while (std::size_t n = c.read(buf, sizeof buf)) c.write(buf, n);
                    } catch (const std::system_error&) {
                    }
                    c = {};
                    wg.done();
                });
            }
        });
    }
    void stop() {
        ln.close();
        {
            std::lock_guard lk(mu);
            for (auto& c : conns) {
                try {
                    c.close();
                } catch (const std::system_error&) {
                }
            }
        }
        wg.wait();
        conns.clear();
    }
};

void check_echo(net::conn& c, const std::string& msg) {
    c.write_all(msg);
    std::string back(msg.size(), '\0');
    REQUIRE(c.read_full(back.data(), back.size()) == msg.size());
    CHECK(back == msg);
}

bool has_ipv6_loopback() {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("tcp: listen on port 0, dial its address, echo; addresses as Go prints them") {
    gomp::run([] {
        auto ln = net::listen("tcp", "127.0.0.1:0");
        CHECK(ln.addr().rfind("127.0.0.1:", 0) == 0);
        CHECK(ln.addr() != "127.0.0.1:0");
        echo_server srv(ln);
        auto c = net::dial("tcp", ln.addr());
        CHECK(c.remote_addr() == ln.addr());
        CHECK(c.local_addr().rfind("127.0.0.1:", 0) == 0);
        check_echo(c, "hello, gomp");
        check_echo(c, std::string(200000, 'z'));  // larger than the socket buffers
        c.close();
        srv.stop();
    });
}

TEST_CASE("tcp: TCP_NODELAY is on by default, on both ends") {
    gomp::run([] {
        auto ln = net::listen("tcp4", "127.0.0.1:0");
        auto ch = gomp::make_chan<net::conn>(1);
        gomp::go([&] { ch.send(ln.accept()); });
        auto c = net::dial("tcp", ln.addr());
        auto s = *ch.recv();
        for (auto* x : {&c, &s}) {
            int v = 0;
            socklen_t len = sizeof v;
            REQUIRE(::getsockopt(x->native_handle(), IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
            CHECK(v != 0);
        }
    });
}

TEST_CASE("tcp6 on [::1]") {
    if (!has_ipv6_loopback()) {
        MESSAGE("no IPv6 loopback here: skipped");
        return;
    }
    gomp::run([] {
        auto ln = net::listen("tcp6", "[::1]:0");
        CHECK(ln.addr().rfind("[::1]:", 0) == 0);
        echo_server srv(ln);
        auto c = net::dial("tcp6", ln.addr());
        CHECK(c.remote_addr() == ln.addr());
        check_echo(c, "over IPv6");
        auto c2 = net::dial("tcp", ln.addr());  // "tcp" takes either family
        check_echo(c2, "again");
        srv.stop();
    });
}

TEST_CASE("unix sockets: echo, and the socket file is removed on close") {
    std::string path = "/tmp/gomp_net_test_" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    gomp::run([&] {
        auto ln = net::listen("unix", path);
        CHECK(ln.addr() == path);
        CHECK(::access(path.c_str(), F_OK) == 0);
        echo_server srv(ln);
        auto c = net::dial("unix", path);
        CHECK(c.remote_addr() == path);
        check_echo(c, "through a unix socket");
        check_echo(c, std::string(100000, 'u'));
        c.close();
        srv.stop();
    });
    CHECK(::access(path.c_str(), F_OK) != 0);
}

TEST_CASE("half-close: the peer reads end of stream and can still answer") {
    gomp::run([] {
        auto ln = net::listen("tcp", "127.0.0.1:0");
        gomp::go([ln]() mutable {
            auto c = ln.accept();
            std::string all;
            char buf[100];
            while (std::size_t n = c.read(buf, sizeof buf)) all.append(buf, n);
            c.write_all("got " + std::to_string(all.size()) + " bytes");
            c.close();
        });
        auto c = net::dial("tcp", ln.addr());
        c.write_all(std::string(1000, 'h'));
        c.close_write();
        std::string reply;
        char buf[64];
        while (std::size_t n = c.read(buf, sizeof buf)) reply.append(buf, n);
        CHECK(reply == "got 1000 bytes");
        CHECK_THROWS_AS(c.write_all("more"), std::system_error);  // EPIPE after our shutdown
    });
}

TEST_CASE("a peer reset is reported with Go's message") {
    gomp::run([] {
        auto ln = net::listen("tcp", "127.0.0.1:0");
        auto ready = gomp::make_chan<int>(1);
        gomp::go([ln, ready]() mutable {
            auto c = ln.accept();
            ready.recv();
            // SO_LINGER 0: close sends RST instead of FIN.
            linger lg{1, 0};
            ::setsockopt(c.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
            c.close();
        });
        auto c = net::dial("tcp", ln.addr());
        ready.send(1);
        char buf[16];
        try {
            while (c.read(buf, sizeof buf) > 0) {
            }
            FAIL("read must fail with a reset, not end of stream");
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::errc::connection_reset);
            CHECK(std::string(e.what()) ==
                  "read tcp " + c.local_addr() + "->" + ln.addr() + ": connection reset by peer");
            CHECK_FALSE(net::is_timeout(e));
        }
    });
}

TEST_CASE("closing a conn wakes the goroutine reading it with 'use of closed network connection'") {
    for (int procs : {1, 2}) {
        gomp::run([] {
            auto ln = net::listen("tcp", "127.0.0.1:0");
            auto srv = gomp::make_chan<net::conn>(1);
            gomp::go([&] { srv.send(ln.accept()); });
            auto c = net::dial("tcp", ln.addr());
            auto peer = *srv.recv();  // keeps the connection open: only close() can end the read
            auto res = gomp::make_chan<std::string>(1);
            auto reading = gomp::make_chan<int>(1);
            gomp::go([&] {
                char buf[8];
                reading.send(1);
                try {
                    c.read(buf, sizeof buf);
                    res.send("read returned");
                } catch (const std::system_error& e) {
                    res.send(net::is_closed(e) ? std::string(e.what()) : "other error: " + std::string(e.what()));
                }
            });
            reading.recv();
            gomp::sleep(2ms);  // the reader parks in netpoll (if not, it sees the close on entry)
            c.close();
            std::string r = *res.recv();
            CHECK(contains(r, ": use of closed network connection"));
            CHECK(r.rfind("read tcp ", 0) == 0);
            // Every later operation fails the same way, close included.
            CHECK_THROWS_WITH_AS(c.write_all("x"), doctest::Contains("use of closed network connection"), std::system_error);
            CHECK_THROWS_AS(c.close(), std::system_error);
        }, {.procs = procs});
    }
}

TEST_CASE("closing a listener wakes a blocked accept") {
    gomp::run([] {
        auto ln = net::listen("tcp", "127.0.0.1:0");
        auto res = gomp::make_chan<bool>(1);
        gomp::go([&] {
            try {
                ln.accept();
                res.send(false);
            } catch (const std::system_error& e) {
                res.send(net::is_closed(e));
            }
        });
        gomp::sleep(2ms);
        ln.close();
        CHECK(*res.recv());
    });
}

TEST_CASE("deadlines: reads time out in deadline order; a timeout is distinguishable") {
    gomp::run([] {
        auto ln = net::listen("tcp", "127.0.0.1:0");
        std::vector<net::conn> keep;
        auto acc = gomp::make_chan<net::conn>(8);
        gomp::go([&] {
            for (int i = 0; i < 4; i++) acc.send(ln.accept());
        });
        std::vector<net::conn> cs;
        for (int i = 0; i < 4; i++) {
            cs.push_back(net::dial("tcp", ln.addr()));
            keep.push_back(*acc.recv());
        }
        auto order = gomp::make_chan<int>(4);
        int ms[4] = {40, 10, 30, 20};
        auto now = steady::now();
        for (int i = 0; i < 4; i++) {
            cs[std::size_t(i)].set_read_deadline(now + std::chrono::milliseconds(ms[i]));
            gomp::go([&, i] {
                char b;
                try {
                    cs[std::size_t(i)].read(&b, 1);
                    order.send(-1);
                } catch (const std::system_error& e) {
                    CHECK(net::is_timeout(e));
                    CHECK(contains(e.what(), ": i/o timeout"));
                    order.send(i);
                }
            });
        }
        std::vector<int> got;
        for (int i = 0; i < 4; i++) got.push_back(*order.recv());
        CHECK(got == std::vector<int>{1, 3, 2, 0});

        // A passed deadline fails even with data waiting; clearing it reads the data.
        keep[0].write_all("d");
        gomp::sleep(2ms);
        char b = 0;
        CHECK_THROWS_AS(cs[0].read(&b, 1), std::system_error);
        cs[0].set_read_deadline({});
        CHECK(cs[0].read(&b, 1) == 1);
        CHECK(b == 'd');
        // The write side has its own deadline: unaffected by the read one.
        cs[1].write_all("w");
        char w = 0;
        CHECK(keep[1].read(&w, 1) == 1);
    }, {.procs = 1});  // one P: deadlines expiring together run in expiry order
}

TEST_CASE("a write deadline fires when the peer does not read") {
    gomp::run([] {
        auto ln = net::listen("tcp", "127.0.0.1:0");
        auto acc = gomp::make_chan<net::conn>(1);
        gomp::go([&] { acc.send(ln.accept()); });
        auto c = net::dial("tcp", ln.addr());
        auto peer = *acc.recv();  // never reads
        c.set_write_deadline(steady::now() + 20ms);
        std::string chunk(1 << 16, 'w');
        try {
            for (int i = 0; i < 100000; i++) c.write_all(chunk);
            FAIL("the socket buffers cannot take that much");
        } catch (const std::system_error& e) {
            CHECK(net::is_timeout(e));
            CHECK(std::string(e.what()).rfind("write tcp ", 0) == 0);
        }
        // set_deadline covers both directions; extending it lets reads work.
        c.set_deadline(steady::now() + 10s);
        peer.write_all("ok");
        char buf[2];
        CHECK(c.read_full(buf, 2) == 2);
    });
}

TEST_CASE("dial errors name the operation and address") {
    gomp::run([] {
        // A port that was just free: nobody listens on it.
        std::string addr;
        {
            auto ln = net::listen("tcp", "127.0.0.1:0");
            addr = ln.addr();
            ln.close();
        }
        try {
            net::dial("tcp", addr);
            FAIL("dial must fail");
        } catch (const std::system_error& e) {
            CHECK(e.code() == std::errc::connection_refused);
            CHECK(std::string(e.what()) == "dial tcp " + addr + ": connect: connection refused");
        }
        CHECK_THROWS_WITH_AS(net::listen("tcp", addr.substr(0, addr.find(':'))), doctest::Contains("missing port"),
                             std::system_error);
        CHECK_THROWS_AS(net::listen("udp", "127.0.0.1:0"), std::system_error);
        auto ln = net::listen("tcp", "127.0.0.1:0");
        CHECK_THROWS_WITH_AS(net::listen("tcp", ln.addr()), doctest::Contains("bind: address already in use"),
                             std::system_error);
    });
}

TEST_CASE("accept under EMFILE: the error is reported and the server keeps serving") {
    auto r = gomp_test::run_in_child([] {
        int code = 0;
        gomp::run([&] {
            auto ln = net::listen("tcp", "127.0.0.1:0");
            auto events = gomp::make_chan<std::string>(16);
            auto release = gomp::make_chan<int>(1);
            std::vector<net::conn> held;
            // Handles by value: the goroutine's own copies outlive main's.
            gomp::go([&held, ln, events, release]() mutable {
                for (;;) {
                    try {
                        held.push_back(ln.accept());
                        events.send("accepted");
                    } catch (const std::system_error& e) {
                        events.send(net::is_closed(e) ? "closed" : e.what());
                        if (net::is_closed(e)) return;
                        release.recv();
                    }
                }
            });
            // The client's socket comes first: with every descriptor in use,
            // its connect needs none, while the server's accept needs one.
            // (Leaving one free for dial instead races with anything else in
            // the process that opens a file meanwhile, TSan's runtime included.)
            int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(std::uint16_t(std::stoi(ln.addr().substr(ln.addr().rfind(':') + 1))));
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            // Use up every descriptor (a low limit keeps this quick).
            int probe = ::dup(0);
            ::close(probe);
            rlimit rl{};
            getrlimit(RLIMIT_NOFILE, &rl);
            rlimit low = rl;
            low.rlim_cur = rlim_t(probe + 16);
            if (setrlimit(RLIMIT_NOFILE, &low) != 0) {
                code = 10;
                return;
            }
            std::vector<int> fillers;
            auto fill = [&] {
                for (int fd; (fd = ::dup(0)) >= 0;) fillers.push_back(fd);
            };
            // Another thread of the process (the C library or a sanitizer's
            // runtime reading a /proc or /sys file) may hold a descriptor for
            // a moment: take the ones given back too.
            for (int i = 0; i < 5; i++) {
                fill();
                gomp::sleep(std::chrono::milliseconds(2));
            }
            fill();
            if (::connect(client, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) code = 15;
            std::string ev = *events.recv();
            if (ev != "accept tcp " + ln.addr() + ": too many open files") {
                std::fprintf(stderr, "first event: %s\n", ev.c_str());
                code = 11;
            }
            // Free some: the pending connection is accepted and served.
            for (int fd : fillers) ::close(fd);
            setrlimit(RLIMIT_NOFILE, &rl);
            release.send(1);
            if (ev = *events.recv(); ev != "accepted") {
                std::fprintf(stderr, "second event: %s\n", ev.c_str());
                code = 12;
            }
            if (::write(client, "ping", 4) != 4) code = 16;
            char buf[4] = {};
            if (held.size() != 1 || held[0].read_full(buf, 4) != 4 || std::string(buf, 4) != "ping") code = 13;
            ln.close();
            // The accept loop has ended before main's locals go.
            if (*events.recv() != "closed") code = 14;
            ::close(client);
        });
        return code;
    });
    CHECK(r.err == "");
    CHECK(r.exit_code == 0);
}

TEST_CASE("plain threads use the same calls, blocking in poll(2), also outside gomp::run") {
    auto ln = net::listen("tcp", "127.0.0.1:0");
    std::thread server([ln]() mutable {
        auto c = ln.accept();
        char buf[256];
        while (std::size_t n = c.read(buf, sizeof buf)) c.write(buf, n);
    });
    {
        auto c = net::dial("tcp", ln.addr());
        check_echo(c, "from a thread");
        c.set_read_deadline(steady::now() + 5ms);
        char b;
        CHECK_THROWS_WITH_AS(c.read(&b, 1), doctest::Contains("i/o timeout"), std::system_error);
        c.set_read_deadline({});
        check_echo(c, "again");
        // A goroutine run talks to the thread server through the same conn type.
        gomp::run([&] { check_echo(c, "from a goroutine"); });
        c.close_write();
        CHECK(c.read(&b, 1) == 0);
    }
    server.join();

    // A thread blocked in read is woken by close from another thread.
    auto ln2 = net::listen("tcp", "127.0.0.1:0");
    std::thread acceptor([ln2]() mutable { auto c = ln2.accept(); char b; try { c.read(&b, 1); } catch (...) {} });
    auto c = net::dial("tcp", ln2.addr());
    std::atomic<int> result{0};
    std::thread reader([&] {
        char b;
        try {
            c.read(&b, 1);
            result = 1;
        } catch (const std::system_error& e) {
            result = net::is_closed(e) ? 2 : 3;
        }
    });
    std::this_thread::sleep_for(5ms);
    c.close();
    reader.join();
    CHECK(result.load() == 2);
    acceptor.join();
}
