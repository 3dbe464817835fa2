// Timers: sleep, new_timer, after, after_func, ticker; the scheduler's
// timer heaps, idle sleep and deadlock detection (time.hpp, detail/timers.hpp).
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using gomp_test::run_in_child;
using gomp_test::scaled;

namespace {

// Waits (yielding the goroutine in small sleeps) until pred holds; false
// after a generous limit, so a broken runtime fails instead of hanging.
template <class Pred>
bool eventually(Pred pred) {
    for (int i = 0; i < 20000; i++) {
        if (pred()) return true;
        gomp::sleep(1ms);
    }
    return pred();
}

}  // namespace

// One P: every due timer is run by that P, in heap order, and the sleepers
// it readies queue in that order. With more Ps the woken goroutines run in
// parallel, so only "never early" and "all wake" hold there.
TEST_CASE("sleepers wake in deadline order and never early") {
    for (int procs : {1, 2, 4}) {
        CAPTURE(procs);
        gomp::run(
            [] {
                const int n = 32;
                const auto step = std::chrono::microseconds(scaled(500, 1000));
                std::vector<gomp::time_point> deadlines;  // in wake order
                std::mutex mu;
                std::atomic<int> early{0};
                gomp::wait_group wg;
                // Started in reverse (and interleaved) so that start order is not wake order.
                for (int k = 0; k < n; k++) {
                    int i = (k * 7) % n;
                    wg.add(1);
                    gomp::go([&, i] {
                        auto d = step * (n - i);
                        auto deadline = gomp::now() + d;
                        gomp::sleep(d);
                        if (gomp::now() < deadline) early++;
                        {
                            std::lock_guard lk(mu);
                            deadlines.push_back(deadline);
                        }
                        wg.done();
                    });
                }
                wg.wait();
                CHECK(early.load() == 0);
                CHECK(int(deadlines.size()) == n);
                if (gomp::gomaxprocs() == 1) CHECK(std::is_sorted(deadlines.begin(), deadlines.end()));
            },
            {.procs = procs});
    }
}

TEST_CASE("many goroutines sleeping random short durations all wake") {
    gomp::run(
        [] {
            const int n = int(scaled(10000, 2000));
            std::atomic<int> woke{0};
            gomp::wait_group wg;
            wg.add(n);
            for (int i = 0; i < n; i++)
                gomp::go([&, i] {
                    gomp::sleep(std::chrono::microseconds((i * 7919) % 3000));
                    woke++;
                    wg.done();
                });
            wg.wait();
            CHECK(woke.load() == n);
        },
        {.procs = 4});
}

TEST_CASE("sleep from a plain thread and inside blocking()") {
    auto start = gomp::now();
    gomp::sleep(2ms);  // no runtime at all
    CHECK(gomp::now() - start >= 2ms);
    gomp::sleep(-1s);  // returns at once
    gomp::run([] {
        std::thread t([] {
            auto s = gomp::now();
            gomp::sleep(2ms);
            CHECK(gomp::now() - s >= 2ms);
        });
        gomp::blocking([] { gomp::sleep(1ms); });
        t.join();
    });
}

TEST_CASE("after() in select: fires as a timeout when nothing else is ready") {
    for (int procs : {1, 3}) {
        gomp::run(
            [] {
                auto never = gomp::make_chan<int>();
                int which = -1;
                auto start = gomp::now();
                std::size_t i = gomp::select(gomp::recv(never, [&](std::optional<int>) { which = 0; }),
                                             gomp::recv(gomp::after(5ms), [&](std::optional<gomp::time_point> t) {
                                                 which = 1;
                                                 CHECK(t.has_value());
                                                 CHECK(*t - start >= 5ms);
                                             }));
                CHECK(i == 1);
                CHECK(which == 1);
            },
            {.procs = procs});
    }
}

TEST_CASE("after() in select: not chosen while another case is ready") {
    gomp::run(
        [] {
            auto c = gomp::make_chan<int>(1);
            for (int round = 0; round < 100; round++) {
                c.send(round);
                int got = -1;
                std::size_t i = gomp::select(gomp::recv(gomp::after(1h), [] {}),
                                             gomp::recv(c, [&](std::optional<int> v) { got = *v; }));
                CHECK(i == 1);
                CHECK(got == round);
            }
            // A case that becomes ready later, still long before the timeout.
            auto d = gomp::make_chan<int>();
            gomp::go([d] {
                gomp::sleep(2ms);
                d.send(7);
            });
            int got = 0;
            std::size_t i = gomp::select(gomp::recv(gomp::after(1h)), gomp::recv(d, [&](int v) { got = v; }));
            CHECK(i == 1);
            CHECK(got == 7);
        },
        {.procs = 2});
}

TEST_CASE("new_timer: fires once; stop and reset follow Go 1.23") {
    gomp::run([] {
        auto t = gomp::new_timer(1ms);
        auto v = t.c().recv();
        CHECK(v.has_value());
        CHECK_FALSE(t.stop());  // fired and received
        std::optional<gomp::time_point> x;
        CHECK(t.c().try_recv(x) == gomp::chan_status::would_block);

        // Fired but not received: stop still prevents the delivery.
        auto t2 = gomp::new_timer(1ms);
        gomp::sleep(5ms);
        CHECK(t2.stop());
        CHECK(t2.c().try_recv(x) == gomp::chan_status::would_block);
        CHECK_FALSE(t2.stop());

        // Reset of a fired, unreceived timer: no stale value afterwards.
        auto t3 = gomp::new_timer(1ms);
        gomp::sleep(5ms);
        CHECK(t3.reset(1h));
        CHECK(t3.c().try_recv(x) == gomp::chan_status::would_block);
        CHECK(t3.reset(1ms));  // still pending (1h)
        CHECK(t3.c().recv().has_value());
        CHECK_FALSE(t3.reset(1h));
        CHECK(t3.stop());

        // A stopped timer never fires; a reset one fires again.
        auto t4 = gomp::new_timer(2ms);
        CHECK(t4.stop());
        gomp::sleep(6ms);
        CHECK(t4.c().try_recv(x) == gomp::chan_status::would_block);
        CHECK_FALSE(t4.reset(1ms));
        CHECK(t4.c().recv().has_value());

        gomp::timer none;
        CHECK_THROWS_WITH_AS(none.stop(), "time: Stop called on uninitialized Timer", gomp::panic);
        CHECK_THROWS_WITH_AS(none.reset(1s), "time: Reset called on uninitialized Timer", gomp::panic);
        CHECK_FALSE(none.c());
    });
}

TEST_CASE("after_func: runs once in its own goroutine; stop prevents it") {
    gomp::run(
        [] {
            auto done = gomp::make_chan<std::uint64_t>(1);
            auto t = gomp::after_func(1ms, [done] { done.send(gomp::goroutine_id()); });
            auto id = done.recv();
            CHECK(id.has_value());
            CHECK(*id != gomp::goroutine_id());
            CHECK_FALSE(t.stop());
            CHECK_FALSE(t.c());

            std::atomic<int> ran{0};
            auto t2 = gomp::after_func(2ms, [&] { ran++; });
            CHECK(t2.stop());
            gomp::sleep(6ms);
            CHECK(ran.load() == 0);
            CHECK_FALSE(t2.reset(1ms));  // rearm a stopped timer
            CHECK(eventually([&] { return ran.load() == 1; }));
        },
        {.procs = 2});
}

TEST_CASE("timer stop races a receiver: stop's result says whether the value was received") {
    gomp::run(
        [] {
            const int n = int(scaled(2000, 300));
            std::atomic<int> bad{0}, stopped{0};
            gomp::wait_group wg;
            wg.add(n);
            for (int i = 0; i < n; i++)
                gomp::go([&, i] {
                    auto t = gomp::new_timer(std::chrono::microseconds(i % 200));
                    auto quit = gomp::make_chan<int>();
                    auto got = gomp::make_chan<bool>(1);
                    gomp::go([&, c = t.c(), quit, got] {
                        bool received = false;
                        gomp::select(gomp::recv(c, [&] { received = true; }), gomp::recv(quit));
                        got.send(received);
                    });
                    if (i % 3 == 0) gomp::yield();
                    if (i % 5 == 0) gomp::sleep(std::chrono::microseconds(i % 150));
                    bool prevented = t.stop();
                    quit.close();
                    bool received = *got.recv();
                    if (prevented == received) bad++;
                    if (prevented) stopped++;
                    wg.done();
                });
            wg.wait();
            CHECK(bad.load() == 0);
            MESSAGE("stopped before delivery: " << stopped.load() << " of " << n);
        },
        {.procs = 4});
}

TEST_CASE("after_func reset/stop races from goroutines and threads: no lost or double fire") {
    for (int procs : {1, 4}) {
        CAPTURE(procs);
        gomp::run(
            [] {
                std::atomic<long> fires{0}, resets{0}, reset_true{0}, stop_true{0};
                auto t = gomp::after_func(50us, [&] { fires++; });
                const int iters = int(scaled(3000, 400));
                auto hammer = [&, t](int seed) mutable {
                    std::minstd_rand rng{static_cast<unsigned>(seed)};
                    for (int k = 0; k < iters; k++) {
                        if (rng() % 3 == 0) {
                            if (t.stop()) stop_true++;
                        } else {
                            resets++;
                            if (t.reset(std::chrono::microseconds(rng() % 100))) reset_true++;
                        }
                        if (rng() % 8 == 0) gomp::yield();
                    }
                };
                gomp::wait_group wg;
                for (int g = 0; g < 4; g++) {
                    wg.add(1);
                    gomp::go([&, g] {
                        hammer(g + 1);
                        wg.done();
                    });
                }
                std::vector<std::thread> threads;
                for (int th = 0; th < 2; th++) threads.emplace_back([&, th] { hammer(100 + th); });
                wg.wait();
                for (auto& th : threads) th.join();
                if (t.stop()) stop_true++;
                // Every arming (the first, and each reset) ends exactly once:
                // it fires, or a stop/reset that returned true ends it.
                long expected = 1 + resets.load() - stop_true.load() - reset_true.load();
                CHECK(eventually([&] { return fires.load() >= expected; }));
                gomp::sleep(20ms);  // a double fire would show up now
                CHECK(fires.load() == expected);
            },
            {.procs = procs});
    }
}

TEST_CASE("timers started and received on plain threads") {
    gomp::run(
        [] {
            std::vector<std::thread> threads;
            std::atomic<int> ok{0};
            for (int i = 0; i < 4; i++)
                threads.emplace_back([&] {
                    auto t = gomp::new_timer(1ms);
                    if (t.c().recv()) ok++;
                    auto c = gomp::after(1ms);
                    if (c.recv()) ok++;
                });
            for (auto& th : threads) th.join();
            CHECK(ok.load() == 8);
        },
        {.procs = 2});
}

TEST_CASE("ticker: delivers increasing ticks, drops them for a slow receiver, stops") {
    gomp::run([] {
        auto tk = gomp::new_ticker(2ms);
        gomp::time_point last{};
        for (int i = 0; i < 5; i++) {
            auto v = tk.c().recv();
            REQUIRE(v.has_value());
            CHECK(*v > last);
            last = *v;
        }
        gomp::sleep(10ms);  // several periods: at most one tick waits
        CHECK(tk.c().len() <= 1);
        tk.reset(1ms);
        CHECK(tk.c().recv().has_value());
        tk.stop();
        std::optional<gomp::time_point> x;
        CHECK(tk.c().try_recv(x) == gomp::chan_status::would_block);
        gomp::sleep(6ms);
        CHECK(tk.c().try_recv(x) == gomp::chan_status::would_block);
        CHECK_THROWS_WITH_AS(gomp::new_ticker(0s), "non-positive interval for NewTicker", gomp::panic);
        CHECK_THROWS_WITH_AS(tk.reset(-1ms), "non-positive interval for Ticker.Reset", gomp::panic);
    });
}

TEST_CASE("a busy P still runs its due timers (goroutines handing off, yield loops)") {
    gomp::run(
        [] {
            std::atomic<bool> fired{false};
            auto t = gomp::after_func(1ms, [&] { fired = true; });
            // Ping-pong that never leaves the P idle.
            auto a = gomp::make_chan<int>(), b = gomp::make_chan<int>();
            gomp::go([&] {
                while (auto v = a.recv()) b.send(*v);
                b.close();
            });
            int rounds = 0;
            while (!fired.load()) {
                a.send(rounds++);
                b.recv();
            }
            a.close();
            b.recv();
            // A yield loop.
            std::atomic<bool> fired2{false};
            auto t2 = gomp::after_func(1ms, [&] { fired2 = true; });
            gomp::go([&] {
                while (!fired2.load()) gomp::yield();
            });
            while (!fired2.load()) gomp::yield();
            CHECK(rounds > 0);
        },
        {.procs = 1});
}

TEST_CASE("main returns while goroutines sleep and timers are pending; a later run starts clean") {
    gomp::timer kept;
    for (int round = 0; round < 2; round++) {
        gomp::run(
            [&] {
                for (int i = 0; i < 8; i++) gomp::go([] { gomp::sleep(1h); });
                // By reference: an abandoned goroutine is not unwound, so
                // whatever it owns would leak.
                auto ready = gomp::make_chan<int>();
                gomp::go([&ready] {
                    ready.send(1);
                    gomp::sleep(1h);
                });
                ready.recv();
                (void)gomp::after(1h);
                kept = gomp::after_func(1h, [] {});
                auto tk = gomp::new_ticker(1h);
                gomp::yield();
            },
            {.procs = 2});
    }
    // The handle outlives the run: stopping an unheaped timer is harmless.
    CHECK_FALSE(kept.stop());
    CHECK_THROWS_AS(kept.reset(1s), gomp::panic);
}

TEST_CASE("deadlock: still reported when no timer can wake anything") {
    auto r = run_in_child([] {
        gomp::run(
            [] {
                auto t = gomp::new_timer(1h);
                t.stop();  // a stopped timer wakes nobody
                gomp::sleep(1ms);
                auto c = gomp::make_chan<int>();
                gomp::go([c] { c.recv(); });
                c.recv();
            },
            {.procs = 2});
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("fatal error: all goroutines are asleep - deadlock!") == 0);
    CHECK(r.err.find("goroutine 1 [chan receive]:") != std::string::npos);
}

TEST_CASE("deadlock: not reported while a goroutine sleeps on a timer") {
    for (int procs : {1, 2}) {
        auto r = run_in_child([procs] {
            gomp::run(
                [] {
                    auto c = gomp::make_chan<int>();
                    gomp::go([c] {
                        gomp::sleep(30ms);
                        c.send(1);
                    });
                    auto blocked = gomp::make_chan<int>();
                    gomp::go([blocked] { blocked.recv(); });  // asleep for good
                    if (c.recv() != 1) std::_Exit(3);
                    // Only a timer can wake main here, too.
                    gomp::after(20ms).recv();
                    auto t = gomp::new_timer(10ms);
                    gomp::select(gomp::recv(t.c()), gomp::recv(blocked));
                },
                {.procs = procs});
            return 0;
        });
        CAPTURE(r.err);
        CHECK(r.exit_code == 0);
    }
}
