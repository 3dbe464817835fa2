// select (select.hpp): case kinds, Go's select tests from runtime/chan_test.go,
// exactly-once firing under contention, run-time case lists, threads.
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "goroutine_util.hpp"
#include "test_util.hpp"

using gomp_test::run_in_child;
using gomp_test::join_goroutines;
using gomp_test::panic_message;
using gomp_test::run_joined;
using gomp_test::sleep_ms;
using gomp_test::scaled;

TEST_CASE("select: each case kind, the fired index, callback forms") {
    auto a = gomp::make_chan<int>(1), b = gomp::make_chan<int>(1);
    gomp::chan<int> nil;

    // Nothing ready: the default fires.
    bool dflt = false;
    CHECK(gomp::select(gomp::recv(a), gomp::recv(nil), gomp::otherwise([&] { dflt = true; })) == 2);
    CHECK(dflt);
    CHECK(gomp::select(gomp::otherwise(), gomp::recv(a)) == 0);

    // A send case with room fires; its callback runs.
    bool sent = false;
    CHECK(gomp::select(gomp::recv(a), gomp::send(b, 5, [&] { sent = true; }), gomp::send(nil, 1), gomp::otherwise()) == 1);
    CHECK(sent);
    CHECK(b.len() == 1);

    // A receive case gets the value: as optional, as T, or not at all.
    std::optional<int> got;
    CHECK(gomp::select(gomp::recv(b, [&](std::optional<int> v) { got = v; }), gomp::otherwise()) == 0);
    CHECK(got == 5);
    b.send(6);
    int x = 0;
    CHECK(gomp::select(gomp::recv(nil), gomp::recv(b, [&](int v) { x = v; })) == 1);
    CHECK(x == 6);
    b.send(7);
    CHECK(gomp::select(gomp::recv(b)) == 0);  // the value is dropped, as Go's `case <-b:`
    CHECK(b.len() == 0);

    // Closed: a receive fires with nullopt (or T{}), a send panics.
    a.close();
    got = 1;
    CHECK(gomp::select(gomp::recv(a, [&](std::optional<int> v) { got = v; }), gomp::recv(nil)) == 0);
    CHECK(got == std::nullopt);
    x = 9;
    CHECK(gomp::select(gomp::recv(a, [&](int v) { x = v; }), gomp::otherwise()) == 0);
    CHECK(x == 0);
    CHECK(panic_message([&] { gomp::select(gomp::send(a, 1), gomp::recv(nil)); }) == "send on closed channel");
    CHECK(panic_message([&] { gomp::select(gomp::send(a, 1), gomp::otherwise()); }) == "send on closed channel");
    CHECK(panic_message([&] { gomp::select(gomp::send(a, 1)); }) == "send on closed channel");

    // Views work as case channels (a timer's channel is a recv_chan).
    auto c = gomp::make_chan<int>(1);
    gomp::recv_chan<int> rc = c;
    gomp::send_chan<int> sc = c;
    CHECK(gomp::select(gomp::send(sc, 3), gomp::otherwise()) == 0);
    CHECK(gomp::select(gomp::recv(rc, [&](int v) { x = v; })) == 0);
    CHECK(x == 3);
}

TEST_CASE("select: a send case moves its rvalue only if it fires") {
    auto c = gomp::make_chan<std::unique_ptr<int>>();
    auto p = std::make_unique<int>(1);
    CHECK(gomp::select(gomp::send(c, std::move(p)), gomp::otherwise()) == 1);
    REQUIRE(p != nullptr);
    auto c2 = gomp::make_chan<std::unique_ptr<int>>(1);
    CHECK(gomp::select(gomp::send(c, std::move(p)), gomp::send(c2, std::move(p))) == 1);
    CHECK(p == nullptr);
    CHECK(**c2.recv() == 1);
    // An lvalue is copied (converted) into the case.
    auto s = gomp::make_chan<std::string>(1);
    std::string hello = "hello";
    CHECK(gomp::select(gomp::send(s, hello)) == 0);
    CHECK(hello == "hello");
    CHECK(gomp::select(gomp::send(s, "x"), gomp::otherwise()) == 1);
    CHECK(*s.recv() == "hello");
}

TEST_CASE("select: blocks until a peer arrives, for receive, send and close") {
    for (int procs : {1, 2}) {
        run_joined(
            [] {
                auto in = gomp::make_chan<int>(), out = gomp::make_chan<int>(), quit = gomp::make_chan<int>();
                auto log = gomp::make_chan<std::string>(10);
                gomp::go([=] {
                    for (int round = 0; round < 3; round++) {
                        std::size_t i = gomp::select(
                            gomp::recv(in, [&](int v) { log.send("in " + std::to_string(v)); }),
                            gomp::send(out, 42, [&] { log.send("out"); }),
                            gomp::recv(quit, [&](std::optional<int> v) { log.send(v ? "quit?" : "quit"); }));
                        (void)i;
                    }
                });
                in.send(1);
                CHECK(*log.recv() == "in 1");
                CHECK(out.recv() == 42);
                CHECK(*log.recv() == "out");
                quit.close();
                CHECK(*log.recv() == "quit");
            },
            {.procs = procs});
    }
}

TEST_CASE("select: no cases, or only nil channels, blocks forever (deadlock report)") {
    auto r = run_in_child([] {
        gomp::run([] { gomp::select(); }, {.procs = 1});
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("fatal error: all goroutines are asleep - deadlock!") != std::string::npos);
    CHECK(r.err.find("goroutine 1 [select (no cases)]:") != std::string::npos);

    auto s = run_in_child([] {
        gomp::run([] {
            gomp::chan<int> nil;
            gomp::select(gomp::recv(nil), gomp::send(nil, 1));
        }, {.procs = 1});
        return 0;
    });
    CHECK(s.exit_code == 2);
    CHECK(s.err.find("goroutine 1 [select]:") != std::string::npos);

    auto t = run_in_child([] {
        gomp::run([] {
            auto a = gomp::make_chan<int>(), b = gomp::make_chan<int>();
            gomp::select(gomp::recv(a), gomp::send(b, 1));
        }, {.procs = 2});
        return 0;
    });
    CHECK(t.exit_code == 2);
    CHECK(t.err.find("goroutine 1 [select]:") != std::string::npos);

    auto u = run_in_child([] {
        gomp::run([] {
            std::vector<gomp::select_case> none;
            gomp::select(none);
        }, {.procs = 1});
        return 0;
    });
    CHECK(u.exit_code == 2);
    CHECK(u.err.find("goroutine 1 [select (no cases)]:") != std::string::npos);
}

// runtime/chan_test.go TestSelfSelect: send and receive on the same channel
// in one select never receives its own value and never deadlocks.
TEST_CASE("TestSelfSelect") {
    for (int chan_cap : {0, 10}) {
        std::atomic<int> self_receives{0};
        run_joined(
            [&] {
                gomp::wait_group wg;
                wg.add(2);
                auto c = gomp::make_chan<int>(chan_cap);
                for (int p = 0; p < 2; p++)
                    gomp::go([&, c, p] {
                        auto check = [&](int v) {
                            if (chan_cap == 0 && v == p) self_receives++;
                        };
                        for (int i = 0; i < 1000; i++) {
                            if (p == 0 || i % 2 == 0) gomp::select(gomp::send(c, p), gomp::recv(c, check));
                            else gomp::select(gomp::recv(c, check), gomp::send(c, p));
                        }
                        wg.done();
                    });
                wg.wait();
            },
            {.procs = 2});
        CHECK(self_receives == 0);
    }
}

// runtime/chan_test.go TestSelectStress: plain senders and receivers and
// one select-sender and one select-receiver over four channels, chaotic but
// deadlock-free.
TEST_CASE("TestSelectStress") {
    const int N = int(scaled(20000, 2000));
    run_joined(
        [=] {
            std::array<gomp::chan<int>, 4> c{gomp::make_chan<int>(), gomp::make_chan<int>(), gomp::make_chan<int>(2),
                                            gomp::make_chan<int>(3)};
            gomp::wait_group wg;
            wg.add(10);
            for (int k = 0; k < 4; k++) {
                gomp::go([&, k] {
                    for (int i = 0; i < N; i++) c[std::size_t(k)].send(0);
                    wg.done();
                });
                gomp::go([&, k] {
                    for (int i = 0; i < N; i++) (void)c[std::size_t(k)].recv();
                    wg.done();
                });
            }
            gomp::go([&] {
                std::array<int, 4> n{};
                auto c1 = c;
                for (int i = 0; i < 4 * N; i++) {
                    auto bump = [&](int k) {
                        return [&, k] {
                            if (++n[std::size_t(k)] == N) c1[std::size_t(k)] = {};
                        };
                    };
                    gomp::select(gomp::send(c1[3], 0, bump(3)), gomp::send(c1[2], 0, bump(2)),
                                 gomp::send(c1[0], 0, bump(0)), gomp::send(c1[1], 0, bump(1)));
                }
                wg.done();
            });
            gomp::go([&] {
                std::array<int, 4> n{};
                auto c1 = c;
                for (int i = 0; i < 4 * N; i++) {
                    auto bump = [&](int k) {
                        return [&, k] {
                            if (++n[std::size_t(k)] == N) c1[std::size_t(k)] = {};
                        };
                    };
                    gomp::select(gomp::recv(c1[0], bump(0)), gomp::recv(c1[1], bump(1)), gomp::recv(c1[2], bump(2)),
                                 gomp::recv(c1[3], bump(3)));
                }
                wg.done();
            });
            wg.wait();
        },
        {.procs = 4});
}

// runtime/chan_test.go TestNonblockSelectRace and ...Race2: from the moment
// the goroutine starts one of c1, c2 is always ready, so the default case
// must never fire (select sees the channels at one moment).
TEST_CASE("TestNonblockSelectRace and TestNonblockSelectRace2") {
    const int n = int(scaled(5000, 500));
    for (bool close_c2 : {false, true}) {
        int defaults = 0;
        run_joined(
            [&] {
                auto done = gomp::make_chan<bool>(1);
                for (int i = 0; i < n; i++) {
                    auto c1 = gomp::make_chan<int>(1), c2 = gomp::make_chan<int>(close_c2 ? 0 : 1);
                    c1.send(1);
                    gomp::go([=] {
                        done.send(gomp::select(gomp::recv(c1), gomp::recv(c2), gomp::otherwise()) != 2);
                    });
                    if (close_c2) c2.close();
                    else c2.send(1);
                    gomp::select(gomp::recv(c1), gomp::otherwise());
                    if (!*done.recv()) defaults++;
                }
            },
            {.procs = 2});
        CHECK(defaults == 0);
    }
}

// runtime/chan_test.go TestSelectDuplicateChannel: one goroutine queued
// twice on the same channel dequeues itself cleanly.
TEST_CASE("TestSelectDuplicateChannel") {
    run_joined(
        [] {
            auto c = gomp::make_chan<int>(), d = gomp::make_chan<int>(), e = gomp::make_chan<int>();
            gomp::go([=] {
                gomp::select(gomp::recv(c), gomp::recv(c), gomp::recv(d));
                e.send(9);
            });
            sleep_ms(1);  // A queues on c first
            auto b_got = gomp::make_chan<int>(1);
            gomp::go([=] { b_got.send(*c.recv()); });
            sleep_ms(1);  // then B
            d.send(7);    // wakes A, which dequeues itself from c twice
            CHECK(e.recv() == 9);
            c.send(8);  // must wake B, not A
            CHECK(b_got.recv() == 8);
        },
        {.procs = 2});
}

// runtime/chan_test.go TestSelectFairness: the random poll order picks each
// of two ready channels about half the time.
TEST_CASE("TestSelectFairness") {
    constexpr int trials = 10000;
    int cnt1 = 0, cnt2 = 0;
    run_joined(
        [&] {
            auto c1 = gomp::make_chan<char>(trials + 1), c2 = gomp::make_chan<char>(trials + 1);
            for (int i = 0; i < trials + 1; i++) {
                c1.send(1);
                c2.send(2);
            }
            auto c3 = gomp::make_chan<char>(), c4 = gomp::make_chan<char>();
            auto out = gomp::make_chan<char>(), done = gomp::make_chan<char>();
            gomp::go([=] {
                for (;;) {
                    char b = 0;
                    auto take = [&](char v) { b = v; };
                    gomp::select(gomp::recv(c3, take), gomp::recv(c4, take), gomp::recv(c1, take),
                                 gomp::recv(c2, take));
                    if (gomp::select(gomp::send(out, b), gomp::recv(done)) == 1) return;
                }
            });
            for (int i = 0; i < trials; i++) {
                char b = *out.recv();
                if (b == 1) cnt1++;
                else if (b == 2) cnt2++;
            }
            done.close();
        },
        {.procs = 2});
    CHECK(cnt1 + cnt2 == trials);
    const double mean = trials * 0.5, stddev = std::sqrt(trials * 0.25);
    CHECK(std::abs(cnt1 - mean) <= 10 * stddev);
}

TEST_CASE("select fires exactly once under contention: receive and send selects over shared channels") {
    const int per = int(scaled(4000, 600));
    for (int procs : {2, 4}) {
        constexpr int producers = 4, nchans = 3, selectors = 4;
        std::vector<std::atomic<int>> seen(std::size_t(producers * per));
        run_joined(
            [&] {
                std::vector<gomp::chan<int>> cs;
                for (int i = 0; i < nchans; i++) cs.push_back(gomp::make_chan<int>(i));  // caps 0, 1, 2
                gomp::wait_group pw, sw;
                pw.add(producers);
                sw.add(selectors);
                // Producers: each value goes out through a select over every channel.
                for (int p = 0; p < producers; p++)
                    gomp::go([&, p] {
                        for (int i = 0; i < per; i++) {
                            int v = p * per + i;
                            gomp::select(gomp::send(cs[0], v), gomp::send(cs[1], v), gomp::send(cs[2], v));
                        }
                        pw.done();
                    });
                // Receivers: selects over every channel and a quit channel.
                auto quit = gomp::make_chan<int>();
                for (int s = 0; s < selectors; s++)
                    gomp::go([&] {
                        auto take = [&](int v) { seen[std::size_t(v)]++; };
                        for (bool stop = false; !stop;) {
                            gomp::select(gomp::recv(cs[0], take), gomp::recv(cs[1], take), gomp::recv(cs[2], take),
                                         gomp::recv(quit, [&] { stop = true; }));
                        }
                        sw.done();
                    });
                pw.wait();
                // Drain what is buffered before stopping the receivers.
                while (cs[1].len() + cs[2].len() > 0) gomp::yield();
                quit.close();
                sw.wait();
            },
            {.procs = procs});
        int bad = 0;
        for (auto& s : seen)
            if (s.load() != 1) bad++;
        CHECK(bad == 0);
    }
}

TEST_CASE("select over a run-time list of cases (reflect.Select): fan-in over a vector") {
    run_joined(
        [] {
            constexpr int n = 8, per = 200;
            std::vector<gomp::chan<int>> inputs;
            for (int i = 0; i < n; i++) inputs.push_back(gomp::make_chan<int>(i % 2));
            for (int i = 0; i < n; i++)
                gomp::go([c = inputs[std::size_t(i)], i] {
                    for (int k = 0; k < per; k++) c.send(i * per + k);
                    c.close();
                });
            std::optional<int> v;
            std::vector<gomp::select_case> cases;
            for (auto& c : inputs) cases.push_back(gomp::select_case::recv(c, v));
            std::vector<int> next(n, 0);
            int open = n;
            long total = 0;
            while (open > 0) {
                std::size_t i = gomp::select(cases);
                REQUIRE(i < std::size_t(n));
                if (!v) {
                    cases[i] = gomp::select_case();  // closed: never again, as a nil channel
                    open--;
                    continue;
                }
                REQUIRE(*v == int(i) * per + next[i]);  // per-channel FIFO
                next[i]++;
                total++;
            }
            CHECK(total == n * per);

            // Send cases and a default in the same list.
            auto out = gomp::make_chan<std::unique_ptr<int>>(1);
            auto p = std::make_unique<int>(3);
            std::vector<gomp::select_case> mixed{gomp::select_case::send(out, p), gomp::select_case::otherwise()};
            CHECK(gomp::select(mixed) == 0);
            CHECK(p == nullptr);
            p = std::make_unique<int>(4);
            CHECK(gomp::select(mixed) == 1);  // full: the default fires, p stays
            CHECK(p != nullptr);
            gomp::recv_chan<std::unique_ptr<int>> ro = out;
            std::optional<std::unique_ptr<int>> got;
            std::vector<gomp::select_case> r{gomp::select_case::recv(ro, got)};
            CHECK(gomp::select(r) == 0);
            CHECK(**got == 3);

            std::vector<gomp::select_case> two{gomp::select_case::otherwise(), gomp::select_case::otherwise()};
            CHECK(panic_message([&] { gomp::select(two); }) == "reflect.Select: multiple default cases");
        },
        {.procs = 2});
}

TEST_CASE("select from plain threads, woken by goroutines, and the reverse") {
    long at_thread = 0;
    run_joined(
        [&] {
            auto a = gomp::make_chan<int>(), b = gomp::make_chan<int>(), back = gomp::make_chan<int>();
            std::thread t([=, &at_thread] {
                int open = 2;
                auto take = [&](std::optional<int> v) {
                    if (v) at_thread += *v;
                    else open--;
                };
                while (open > 0) gomp::select(gomp::recv(a, take), gomp::recv(b, take));
                for (int i = 1; i <= 100; i++) back.send(i);
                back.close();
            });
            for (int i = 1; i <= 100; i++) (i % 2 ? a : b).send(i);
            a.close();
            b.close();
            long sum = 0;
            for (;;) {
                std::optional<int> v;
                gomp::select(gomp::recv(back, [&](std::optional<int> x) { v = x; }));
                if (!v) break;
                sum += *v;
            }
            CHECK(sum == 5050);
            gomp::blocking([&] { t.join(); });
        },
        {.procs = 2});
    CHECK(at_thread == 5050);
}

namespace {
struct flaky {
    static inline std::atomic<int> throw_on_move{-1};
    int v;
    explicit flaky(int x) : v(x) {}
    flaky(flaky&& o) noexcept(false) : v(o.v) {
        if (throw_on_move.load() >= 0 && throw_on_move.fetch_sub(1) == 0) throw std::runtime_error("move failed");
    }
};
}  // namespace

TEST_CASE("select: a throwing move fires no case and leaves the channels usable") {
    run_joined(
        [] {
            auto c = gomp::make_chan<flaky>(), d = gomp::make_chan<flaky>();
            auto got = gomp::make_chan<int>(4);
            // A parked receiver; the select's own move into it throws.
            gomp::go([=] { got.send(c.recv()->v); });
            gomp::yield();
            flaky::throw_on_move = 0;
            CHECK_THROWS_AS(gomp::select(gomp::send(c, flaky(1)), gomp::recv(d)), std::runtime_error);
            CHECK(got.len() == 0);
            CHECK(gomp::select(gomp::send(c, flaky(2)), gomp::recv(d)) == 0);  // the receiver retried
            CHECK(got.recv() == 2);

            // A parked select with a send case; the receiver's move from it throws:
            // the receive throws, the select polls again and still fires once.
            auto fired = gomp::make_chan<std::size_t>(1);
            gomp::go([=] { fired.send(gomp::select(gomp::send(c, flaky(3)), gomp::recv(d))); });
            gomp::yield();
            flaky::throw_on_move = 0;
            CHECK_THROWS_AS((void)c.recv(), std::runtime_error);
            CHECK(c.recv()->v == 3);
            CHECK(fired.recv() == 0u);
        },
        {.procs = 1});
    flaky::throw_on_move = -1;
}

// The compiler enforces the direction of a view in select too: no receive
// case on a send-only channel, no send case on a receive-only one.
template <class C>
concept recv_case_ok = requires(const C& c) { gomp::recv(c); };
template <class C>
concept send_case_ok = requires(const C& c, typename C::value_type v) { gomp::send(c, std::move(v)); };
template <class C>
concept recv_select_case_ok = requires(const C& c, std::optional<typename C::value_type>& v) {
    gomp::select_case::recv(c, v);
};
template <class C>
concept send_select_case_ok = requires(const C& c, typename C::value_type& v) { gomp::select_case::send(c, v); };
static_assert(recv_case_ok<gomp::chan<int>> && send_case_ok<gomp::chan<int>>);
static_assert(recv_case_ok<gomp::recv_chan<int>> && !send_case_ok<gomp::recv_chan<int>>);
static_assert(!recv_case_ok<gomp::send_chan<int>> && send_case_ok<gomp::send_chan<int>>);
static_assert(recv_select_case_ok<gomp::chan<int>> && send_select_case_ok<gomp::chan<int>>);
static_assert(recv_select_case_ok<gomp::recv_chan<int>> && !send_select_case_ok<gomp::recv_chan<int>>);
static_assert(!recv_select_case_ok<gomp::send_chan<int>> && send_select_case_ok<gomp::send_chan<int>>);

// More cases than the insertion sort handles: the lock order comes from the
// heap sort. Each channel appears in several cases, far apart in the list,
// and two selects list the channels in opposite orders: a channel not
// locked exactly once, or two selects locking in different orders, would
// hang here.
TEST_CASE("select over 40 cases with duplicate channels, from two selects in opposite orders") {
    const int per = int(scaled(3000, 400));
    for (int procs : {1, 2, 4}) {
        CAPTURE(procs);
        constexpr int nch = 7, ncases = 40, producers = 2;
        std::vector<std::atomic<int>> seen(std::size_t(producers * per));
        std::atomic<int> wrong_channel{0};
        run_joined(
            [&] {
                std::vector<gomp::chan<int>> chans;
                for (int i = 0; i < nch; i++) chans.push_back(gomp::make_chan<int>(i % 3));
                auto quit = gomp::make_chan<int>();
                gomp::wait_group pw, sw;
                pw.add(producers);
                sw.add(2);
                for (int p = 0; p < producers; p++)
                    gomp::go([&, p] {
                        for (int i = 0; i < per; i++) {
                            int v = p * per + i;
                            chans[std::size_t(v % nch)].send(v);
                        }
                        pw.done();
                    });
                for (int s = 0; s < 2; s++)
                    gomp::go([&, s] {
                        std::optional<int> v;
                        std::vector<gomp::select_case> cases;
                        std::vector<int> chan_of;
                        for (int k = 0; k < ncases; k++) {
                            int ch = (s == 0 ? k : ncases - 1 - k) * 3 % nch;  // every channel 5 or 6 times
                            cases.push_back(gomp::select_case::recv(chans[std::size_t(ch)], v));
                            chan_of.push_back(ch);
                        }
                        std::optional<int> q;
                        cases.push_back(gomp::select_case::recv(quit, q));
                        for (;;) {
                            std::size_t i = gomp::select(cases);
                            if (i == std::size_t(ncases)) break;
                            if (*v % nch != chan_of[i]) wrong_channel++;
                            seen[std::size_t(*v)]++;
                        }
                        sw.done();
                    });
                pw.wait();
                for (bool buffered = true; buffered;) {
                    buffered = false;
                    for (auto& c : chans) buffered |= c.len() > 0;
                    if (buffered) gomp::yield();
                }
                quit.close();
                sw.wait();
            },
            {.procs = procs});
        int bad = 0;
        for (auto& s : seen) bad += s.load() != 1;
        CHECK(bad == 0);
        CHECK(wrong_channel == 0);
    }
}

namespace {
using time_point = std::chrono::steady_clock::time_point;

// The shape of time.hpp's gomp::after(d): a new receive-only channel with a
// buffer of one, filled by a non-blocking send from outside any goroutine
// (here a plain thread released by `fire`, not by a clock). The sender keeps
// its own handle, so a select may drop the returned one at any time.
gomp::recv_chan<time_point> fake_after(std::vector<std::thread>& timers, gomp::chan<int> fire) {
    auto c = gomp::make_chan<time_point>(1);
    timers.emplace_back([c, fire] {
        (void)fire.recv();
        (void)c.try_send(std::chrono::steady_clock::now());
    });
    return c;
}
}  // namespace

TEST_CASE("a timer's channel plugs into select: recv(after(d)) as a fixed case and in a run-time list") {
    run_joined(
        [] {
            std::vector<std::thread> timers;
            auto fire = gomp::make_chan<int>();
            auto never = gomp::make_chan<int>();

            // Not fired yet: the default is taken; the temporary handle dies
            // with the select, the timer's own handle keeps the channel.
            CHECK(gomp::select(gomp::recv(fake_after(timers, fire)), gomp::recv(never), gomp::otherwise()) == 2);

            // Fired while the select is parked: the timeout case wins, with its value.
            gomp::go([fire] { fire.close(); });
            time_point when{};
            CHECK(gomp::select(gomp::recv(never),
                               gomp::recv(fake_after(timers, fire), [&](time_point t) { when = t; })) == 1);
            CHECK(when != time_point{});

            // The same case in a reflect.Select-style list.
            gomp::recv_chan<time_point> t = fake_after(timers, fire);
            std::optional<time_point> tv;
            std::optional<int> nv;
            std::vector<gomp::select_case> cases{gomp::select_case::recv(never, nv), gomp::select_case::recv(t, tv)};
            CHECK(gomp::select(cases) == 1);
            CHECK(tv.has_value());

            gomp::blocking([&] {
                for (auto& th : timers) th.join();
            });
        },
        {.procs = 2});
}
