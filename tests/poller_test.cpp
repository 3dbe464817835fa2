// gomp::poller on its own: readiness of pipes, eventfds and sockets, level
// and edge triggers, modify/remove, timeouts, wake-ups. No gomp::run.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include <gomp/poller.hpp>

using namespace std::chrono_literals;

namespace {

struct pipe_pair {
    int r = -1, w = -1;
    pipe_pair() {
        int fds[2];
        REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
        r = fds[0];
        w = fds[1];
    }
    ~pipe_pair() {
        if (r >= 0) ::close(r);
        if (w >= 0) ::close(w);
    }
    void put(char c = 'x') const { REQUIRE(::write(w, &c, 1) == 1); }
    char take() const {
        char c = 0;
        REQUIRE(::read(r, &c, 1) == 1);
        return c;
    }
};

const gomp::poll_event* find(const std::vector<gomp::poll_event>& evs, std::uint64_t data) {
    for (auto& ev : evs)
        if (ev.data == data) return &ev;
    return nullptr;
}

}  // namespace

TEST_CASE("a pipe becomes readable when written and stops being so when drained") {
    gomp::poller pl;
    pipe_pair p;
    pl.add(p.r, gomp::interest::read);
    std::vector<gomp::poll_event> ready;
    CHECK(pl.wait(ready, 0ms) == 0);
    p.put('a');
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].fd() == p.r);
    CHECK(ready[0].readable);
    CHECK_FALSE(ready[0].writable);
    CHECK_FALSE(ready[0].hangup);
    // Level-triggered: still reported until read.
    CHECK(pl.wait(ready, 0ms) == 1);
    CHECK(p.take() == 'a');
    CHECK(pl.wait(ready, 0ms) == 0);
}

TEST_CASE("a blocking wait returns when another thread writes") {
    gomp::poller pl;
    pipe_pair p;
    pl.add(p.r, gomp::interest::read);
    std::thread t([&] { p.put('z'); });
    std::vector<gomp::poll_event> ready;
    while (pl.wait(ready) == 0) {
    }
    t.join();
    REQUIRE(ready.size() == 1);
    CHECK(ready[0].readable);
    CHECK(p.take() == 'z');
}

TEST_CASE("write interest: a pipe's write end is writable until full") {
    gomp::poller pl;
    pipe_pair p;
    pl.add(p.w, gomp::interest::write);
    std::vector<gomp::poll_event> ready;
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].writable);
    char buf[4096] = {};
    while (::write(p.w, buf, sizeof buf) > 0) {
    }
    CHECK(errno == EAGAIN);
    CHECK(pl.wait(ready, 0ms) == 0);
    while (::read(p.r, buf, sizeof buf) > 0) {
    }
    CHECK(pl.wait(ready, 0ms) == 1);
}

TEST_CASE("eventfd readiness and the data value") {
    gomp::poller pl;
    int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    REQUIRE(efd >= 0);
    pl.add(efd, gomp::interest::read, 0xabcdef12345ull);
    std::vector<gomp::poll_event> ready;
    CHECK(pl.wait(ready, 0ms) == 0);
    std::uint64_t one = 3;
    REQUIRE(::write(efd, &one, sizeof one) == sizeof one);
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].data == 0xabcdef12345ull);
    CHECK(ready[0].readable);
    std::uint64_t v = 0;
    REQUIRE(::read(efd, &v, sizeof v) == sizeof v);
    CHECK(v == 3);
    CHECK(pl.wait(ready, 0ms) == 0);
    ::close(efd);
}

TEST_CASE("modify switches interest and data; remove stops reporting") {
    gomp::poller pl;
    pipe_pair p, q;
    p.put();
    pl.add(p.r, gomp::interest::read);
    pl.add(q.r, gomp::interest::read);
    std::vector<gomp::poll_event> ready;
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].fd() == p.r);

    // Interest in write only: the readable pipe is no longer reported.
    pl.modify(p.r, gomp::interest::write);
    CHECK(pl.wait(ready, 0ms) == 0);
    pl.modify(p.r, gomp::interest::read_write, 42);
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].data == 42);

    q.put();
    REQUIRE(pl.wait(ready, 0ms) == 2);
    CHECK(find(ready, 42));
    CHECK(find(ready, std::uint64_t(q.r)));
    pl.remove(p.r);
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].fd() == q.r);
}

TEST_CASE("edge trigger reports a change of readiness once") {
    gomp::poller pl(gomp::trigger::edge);
    pipe_pair p;
    pl.add(p.r, gomp::interest::read);
    std::vector<gomp::poll_event> ready;
    p.put('1');
    CHECK(pl.wait(ready, 0ms) == 1);
    CHECK(pl.wait(ready, 0ms) == 0);  // still readable, but no new edge
    p.put('2');
    CHECK(pl.wait(ready, 0ms) == 1);
    CHECK(p.take() == '1');
    CHECK(p.take() == '2');
}

TEST_CASE("hang-up: closing the write end makes the read end readable with hangup") {
    gomp::poller pl;
    pipe_pair p;
    pl.add(p.r, gomp::interest::read);
    ::close(p.w);
    p.w = -1;
    std::vector<gomp::poll_event> ready;
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].readable);
    CHECK(ready[0].hangup);
    char c;
    CHECK(::read(p.r, &c, 1) == 0);
}

TEST_CASE("a socket peer's close is a hang-up on the other end") {
    gomp::poller pl;
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
    pl.add(sv[0], gomp::interest::read_write);
    std::vector<gomp::poll_event> ready;
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].writable);
    CHECK_FALSE(ready[0].hangup);
    ::close(sv[1]);
    REQUIRE(pl.wait(ready, 0ms) == 1);
    CHECK(ready[0].readable);
    CHECK(ready[0].hangup);
    ::close(sv[0]);
}

TEST_CASE("timeouts: a wait with nothing ready returns no events") {
    gomp::poller pl;
    pipe_pair p;
    pl.add(p.r, gomp::interest::read);
    std::vector<gomp::poll_event> ready;
    CHECK(pl.wait(ready, 0ms) == 0);
    CHECK(pl.wait(ready, 1ms) == 0);
    CHECK(pl.wait(ready, 20ms) == 0);
    CHECK(pl.wait(ready, 1ns) == 0);  // rounds up to a real wait, not a spin
    CHECK(ready.empty());
}

TEST_CASE("wake breaks a blocking wait; a non-blocking wait leaves the wake-up for it") {
    gomp::poller pl;
    std::vector<gomp::poll_event> ready;
    std::thread t([&] { pl.wake(); });
    CHECK(pl.wait(ready) == 0);  // returns: woken, no events
    t.join();

    // Two wakes collapse into one; a non-blocking look does not consume it.
    pl.wake();
    pl.wake();
    CHECK(pl.wait(ready, 0ms) == 0);
    CHECK(pl.wait(ready) == 0);  // would hang if the wake-up had been lost

    // Consumed: the next wake is delivered again.
    std::thread t2([&] { pl.wake(); });
    CHECK(pl.wait(ready) == 0);
    t2.join();
}

TEST_CASE("errors carry errno and name the operation") {
    gomp::poller pl;
    pipe_pair p;
    pl.add(p.r, gomp::interest::read);
    try {
        pl.add(p.r, gomp::interest::read);
        FAIL("adding twice must throw");
    } catch (const std::system_error& e) {
        CHECK(e.code() == std::errc::file_exists);
        CHECK(std::string(e.what()).find("add fd") != std::string::npos);
    }
    CHECK_THROWS_AS(pl.remove(12345), std::system_error);
    CHECK_THROWS_AS(pl.modify(-1, gomp::interest::read), std::system_error);
}
