// netpoll in the scheduler: goroutines parked on fds and woken by the
// poller, many connections at once, deadlines in order, idle Ms blocking in
// the poller, deadlock reports with and without I/O waiters, stale waiters
// across runs and reused pollDescs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gomp/gomp.hpp>
#include <gomp/net.hpp>
#include <gomp/time.hpp>

#include "test_util.hpp"

using namespace std::chrono_literals;
namespace gd = gomp::detail;

namespace {

// A non-blocking pipe read end registered with netpoll, read by goroutines.
struct polled_pipe {
    int r = -1, w = -1;
    gd::poll_desc* pd = nullptr;
    polled_pipe() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        r = fds[0];
        w = fds[1];
        pd = gd::netpoll_open(r);
    }
    ~polled_pipe() {
        gd::netpoll_evict(pd);
        gd::netpoll_close(pd);
        ::close(r);
        ::close(w);
    }
    // Reads one byte, parking on the pollDesc while the pipe is empty.
    gd::poll_err read_byte(char& c) {
        if (gd::poll_err e = gd::netpoll_reset(pd, false); e != gd::poll_err::none) return e;
        for (;;) {
            if (::read(r, &c, 1) == 1) return gd::poll_err::none;
            REQUIRE(errno == EAGAIN);
            if (gd::poll_err e = gd::netpoll_wait(pd, false); e != gd::poll_err::none) return e;
        }
    }
    void put(char c) const { REQUIRE(::write(w, &c, 1) == 1); }
};

void raise_fd_limit() {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace

TEST_CASE("a goroutine parked on a pipe is woken by a write from another goroutine") {
    for (int procs : {1, 2, 4}) {
        gomp::run([] {
            polled_pipe p;
            auto got = gomp::make_chan<char>(0);
            gomp::go([&] {
                std::string s;
                char c;
                for (int i = 0; i < 100; i++) {
                    REQUIRE(p.read_byte(c) == gd::poll_err::none);
                    got.send(c);
                }
            });
            for (int i = 0; i < 100; i++) {
                gomp::yield();
                p.put(char('a' + i % 26));
                CHECK(*got.recv() == char('a' + i % 26));
            }
        }, {.procs = procs});
    }
}

TEST_CASE("evict wakes the parked reader with poll_err::closing") {
    gomp::run([] {
        int fds[2];
        REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        gd::poll_desc* pd = gd::netpoll_open(fds[0]);
        auto res = gomp::make_chan<int>(1);
        gomp::go([&] { res.send(int(gd::netpoll_wait(pd, false))); });
        // Let the reader park (it cannot be woken by anything but evict).
        for (int i = 0; i < 100; i++) gomp::yield();
        gd::netpoll_evict(pd);
        CHECK(*res.recv() == int(gd::poll_err::closing));
        gd::netpoll_close(pd);
        ::close(fds[0]);
        ::close(fds[1]);
    });
}

TEST_CASE("a freed pollDesc is reused with a new fdseq, so late events for the old fd are dropped") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    gd::poll_desc* a = gd::netpoll_open(fds[0]);
    std::uint32_t seq_a = a->fdseq.load();
    gd::netpoll_evict(a);
    gd::netpoll_close(a);
    gd::poll_desc* b = gd::netpoll_open(fds[1]);
    CHECK(b == a);                     // from the free list
    CHECK(b->fdseq.load() != seq_a);   // an event tagged seq_a no longer matches
    CHECK(gd::pd_tag(b, seq_a) != gd::pd_tag(b, b->fdseq.load()));
    gd::netpoll_evict(b);
    gd::netpoll_close(b);
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST_CASE("deadlines wake parked readers in deadline order, as timeouts") {
    gomp::run([] {
        constexpr int n = 5;
        std::vector<std::unique_ptr<polled_pipe>> pipes;
        for (int i = 0; i < n; i++) pipes.push_back(std::make_unique<polled_pipe>());
        auto order = gomp::make_chan<int>(n);
        gomp::wait_group wg;
        auto now = gd::nanotime();
        // Deadlines 50, 10, 40, 20, 30 ms ahead: expiry order 1, 3, 4, 2, 0.
        int ms[n] = {50, 10, 40, 20, 30};
        for (int i = 0; i < n; i++) {
            gd::netpoll_set_deadline(pipes[std::size_t(i)]->pd, now + ms[i] * 1000000ll, true, false);
            wg.add(1);
            gomp::go([&, i] {
                char c;
                CHECK(pipes[std::size_t(i)]->read_byte(c) == gd::poll_err::timeout);
                order.send(i);
                wg.done();
            });
        }
        wg.wait();
        std::vector<int> got;
        for (int i = 0; i < n; i++) got.push_back(*order.recv());
        CHECK(got == std::vector<int>{1, 3, 4, 2, 0});
    }, {.procs = 1});
}

TEST_CASE("clearing or extending a deadline lets the read complete") {
    gomp::run([] {
        polled_pipe p;
        gd::netpoll_set_deadline(p.pd, gd::nanotime() + 5'000'000, true, false);
        gd::netpoll_set_deadline(p.pd, 0, true, false);  // cleared before it passes
        auto res = gomp::make_chan<int>(1);
        gomp::go([&] {
            char c;
            res.send(int(p.read_byte(c)) * 1000 + c);
        });
        gomp::sleep(20ms);  // past the first deadline
        p.put('k');
        CHECK(*res.recv() == 'k');
        // A deadline in the past fails at once, even with data there.
        p.put('x');
        gd::netpoll_set_deadline(p.pd, gd::nanotime() - 1, true, false);
        char c;
        CHECK(p.read_byte(c) == gd::poll_err::timeout);
    });
}

TEST_CASE("I/O and timers together: the idle M in the poller wakes for both") {
    for (int procs : {1, 3}) {
        gomp::run([] {
            polled_pipe p;
            auto ev = gomp::make_chan<std::string>(4);
            gomp::go([&] {
                char c;
                REQUIRE(p.read_byte(c) == gd::poll_err::none);
                ev.send(std::string("io:") + c);
            });
            gomp::go([&] {
                gomp::sleep(5ms);
                ev.send("timer");
                p.put('q');  // the reader is woken by I/O after the timer
            });
            CHECK(*ev.recv() == "timer");
            CHECK(*ev.recv() == "io:q");
        }, {.procs = procs});
    }
}

// A checksum of a byte stream that the receiver can compute read by read:
// each byte weighted by its offset in the stream.
struct stream_sum {
    std::uint64_t off = 0, sum = 0;
    void add(const char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; i++, off++) sum += std::uint64_t(std::uint8_t(p[i])) * (off % 65521 + 1);
    }
};

TEST_CASE("1000 concurrent connections echo through goroutine-per-connection, every byte checksummed") {
    raise_fd_limit();
    const int conns = int(gomp_test::scaled(1000, 200));
    const int rounds = int(gomp_test::scaled(20, 5));
    for (int procs : {1, 4}) {
        std::atomic<std::uint64_t> client_sent{0}, client_recv{0}, server_recv{0};
        std::atomic<std::uint64_t> client_bytes{0}, server_bytes{0};
        std::atomic<int> server_done{0};
        gomp::run([&] {
            auto ln = gomp::net::listen("tcp", "127.0.0.1:0");
            gomp::wait_group served;
            auto acceptor_done = gomp::make_chan<int>(1);
            gomp::go([&, ln]() mutable {
                for (;;) {
                    gomp::net::conn c;
                    try {
                        c = ln.accept();
                    } catch (const std::system_error& e) {
                        CHECK(gomp::net::is_closed(e));
                        ln = {};  // release the listener before saying so
                        acceptor_done.send(1);
                        return;
                    }
                    served.add(1);
                    gomp::go([&, c]() mutable {
                        char buf[1500];
                        stream_sum in;
                        while (std::size_t n = c.read(buf, sizeof buf)) {
                            in.add(buf, n);
                            c.write(buf, n);
                        }
                        server_recv += in.sum;
                        server_bytes += in.off;
                        server_done++;
                        c.close();
                        served.done();
                    });
                }
            });
            gomp::wait_group wg;
            for (int i = 0; i < conns; i++) {
                wg.add(1);
                gomp::go([&, i] {
                    auto c = gomp::net::dial("tcp", ln.addr());
                    stream_sum out, in;
                    for (int r = 0; r < rounds; r++) {
                        // Messages of varying size, some larger than a server read.
                        std::string msg(std::size_t(1 + (i * 131 + r * 977) % 3000), '\0');
                        for (std::size_t k = 0; k < msg.size(); k++) msg[k] = char((i + r + k * 7) & 0xff);
                        c.write_all(msg);
                        out.add(msg.data(), msg.size());
                        std::string back(msg.size(), '\0');
                        REQUIRE(c.read_full(back.data(), back.size()) == back.size());
                        in.add(back.data(), back.size());
                        CHECK(back == msg);
                    }
                    client_sent += out.sum;
                    client_recv += in.sum;
                    client_bytes += out.off;
                    c.close_write();
                    char x;
                    CHECK(c.read(&x, 1) == 0);  // the server saw EOF and closed
                    c.close();
                    wg.done();
                });
            }
            wg.wait();
            served.wait();
            ln.close();
            acceptor_done.recv();  // an abandoned goroutine would leak its copy of ln
        }, {.procs = procs});
        CHECK(server_done.load() == conns);
        CHECK(client_bytes.load() > 0);
        CHECK(server_bytes.load() == client_bytes.load());
        CHECK(server_recv.load() == client_sent.load());
        CHECK(client_recv.load() == client_sent.load());
    }
}

TEST_CASE("a deadlock is still reported when no I/O could wake anything") {
    auto r = gomp_test::run_in_child([] {
        gomp::run([] {
            auto ln = gomp::net::listen("tcp", "127.0.0.1:0");  // registered, nobody waits on it
            polled_pipe p;                                      // likewise
            auto never = gomp::make_chan<int>();
            never.recv();
        });
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("fatal error: all goroutines are asleep - deadlock!") != std::string::npos);
}

TEST_CASE("goroutines waiting on I/O are not deadlocked") {
    auto r = gomp_test::run_in_child([] {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return 3;
        // Another process writes, later: no thread of this one could.
        pid_t pid = ::fork();
        if (pid == 0) {
            ::usleep(100000);
            char c = 'w';
            (void)!::write(fds[1], &c, 1);
            ::_exit(0);
        }
        ::close(fds[1]);
        int code = 1;
        gomp::run([&] {
            gd::poll_desc* pd = gd::netpoll_open(fds[0]);
            auto got = gomp::make_chan<char>(1);
            gomp::go([&] {
                char c = 0;
                while (::read(fds[0], &c, 1) != 1) gd::netpoll_wait(pd, false);
                got.send(c);
            });
            if (*got.recv() == 'w') code = 0;
            gd::netpoll_evict(pd);
            gd::netpoll_close(pd);
        });
        ::waitpid(pid, nullptr, 0);
        return code;
    });
    CHECK(r.err == "");
    CHECK(r.exit_code == 0);
}

TEST_CASE("a goroutine abandoned in a read when a run ends does not haunt the next run") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    gd::poll_desc* pd = gd::netpoll_open(fds[0]);
    gomp::run([&] {
        auto parked = gomp::make_chan<int>(1);
        gomp::go([&] {
            parked.send(1);
            gd::netpoll_wait(pd, false);  // never returns: abandoned with the run
        });
        parked.recv();
        for (int i = 0; i < 10; i++) gomp::yield();
    });
    // The stale waiter's G is gone; readiness now must not ready it.
    gomp::run([&] {
        char c = 'r';
        REQUIRE(::write(fds[1], &c, 1) == 1);
        auto got = gomp::make_chan<char>(1);
        gomp::go([&] {
            char x = 0;
            while (::read(fds[0], &x, 1) != 1) REQUIRE(gd::netpoll_wait(pd, false) == gd::poll_err::none);
            got.send(x);
        });
        CHECK(*got.recv() == 'r');
    });
    gd::netpoll_evict(pd);
    gd::netpoll_close(pd);
    ::close(fds[0]);
    ::close(fds[1]);
}
