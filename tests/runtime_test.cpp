// The scheduler: run, go, yield, blocking, stats, crash reports.
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cfenv>
#include <csignal>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using gomp_test::run_in_child;
using gomp_test::scaled;

// Defined in link_a.cpp and link_b.cpp: two translation units that both
// include gomp must link into one program with one context switch.
int link_a_sum(int n);
int link_b_sum(int n);

TEST_CASE("two translation units that include gomp link and run") {
    CHECK(link_a_sum(100) == 4950);
    CHECK(link_b_sum(100) == 4950);
}

TEST_CASE("run executes main as goroutine 1 and honours procs") {
    for (int procs : {1, 2, 8}) {
        int seen_procs = 0;
        std::uint64_t id = 0;
        gomp::run(
            [&] {
                seen_procs = gomp::gomaxprocs();
                id = gomp::goroutine_id();
            },
            {.procs = procs});
        CHECK(seen_procs == procs);
        CHECK(id == 1);
    }
}

TEST_CASE("GOMAXPROCS from the environment when config.procs is 0") {
    setenv("GOMAXPROCS", "3", 1);
    int seen = 0;
    gomp::run([&] { seen = gomp::gomaxprocs(); });
    unsetenv("GOMAXPROCS");
    CHECK(seen == 3);
}

TEST_CASE("runtime calls outside run are a clear error") {
    CHECK_THROWS_WITH_AS(gomp::go([] {}), doctest::Contains("outside gomp::run"), gomp::panic);
    CHECK_THROWS_WITH_AS(gomp::yield(), doctest::Contains("outside gomp::run"), gomp::panic);
    CHECK_THROWS_WITH_AS(gomp::gomaxprocs(), doctest::Contains("outside gomp::run"), gomp::panic);
    CHECK_THROWS_WITH_AS(gomp::num_goroutine(), doctest::Contains("outside gomp::run"), gomp::panic);
    CHECK_THROWS_AS(gomp::goroutine_id(), gomp::panic);
    CHECK_THROWS_AS(gomp::runtime_stats(), gomp::panic);
}

TEST_CASE("run cannot nest") {
    bool threw = false;
    gomp::run([&] {
        try {
            gomp::run([] {});
        } catch (const gomp::panic& p) {
            threw = std::string(p.what()).find("already running") != std::string::npos;
        }
    });
    CHECK(threw);
}

TEST_CASE("an exception escaping main is rethrown by run") {
    CHECK_THROWS_WITH_AS(gomp::run([] { throw std::runtime_error("from main"); }), "from main", std::runtime_error);
    // The runtime is usable again afterwards.
    int x = 0;
    gomp::run([&] { x = 1; });
    CHECK(x == 1);
}

TEST_CASE("run order: runnext first, then the local queue in FIFO order") {
    std::vector<int> order;
    gomp::run(
        [&] {
            gomp::wait_group wg;
            wg.add(5);
            for (int i = 0; i < 5; i++)
                gomp::go([&, i] {
                    order.push_back(i);
                    wg.done();
                });
            wg.wait();
        },
        {.procs = 1});
    // The last goroutine spawned sits in runnext and runs first, as in Go;
    // the others follow in spawn order.
    CHECK(order == std::vector<int>{4, 0, 1, 2, 3});
}

TEST_CASE("yield runs the other goroutines and returns when alone") {
    std::vector<int> order;
    gomp::run(
        [&] {
            gomp::yield();  // nothing else to run: returns at once
            order.push_back(0);
            gomp::go([&] { order.push_back(1); });
            gomp::yield();
            order.push_back(2);
        },
        {.procs = 1});
    CHECK(order == std::vector<int>{0, 1, 2});
}

TEST_CASE("goroutine arguments are decay-copied, std::ref shares") {
    gomp::run([] {
        int shared = 0;
        std::string s = "abc";
        gomp::wait_group wg;
        wg.add(2);
        gomp::go(
            [&wg](std::string copy, int& ref) {
                copy += "d";
                ref = int(copy.size());
                wg.done();
            },
            s, std::ref(shared));
        gomp::go([&wg](std::unique_ptr<int> p) { CHECK(*p == 7); wg.done(); }, std::make_unique<int>(7));
        wg.wait();
        CHECK(s == "abc");
        CHECK(shared == 4);
    });
}

TEST_CASE("100k goroutines spawned and joined at procs 1, 2 and 8") {
    const long n = scaled(100000, 20000);
    for (int procs : {1, 2, 8}) {
        std::atomic<long> sum{0};
        int after = -1;
        gomp::run(
            [&] {
                gomp::wait_group wg;
                wg.add(int(n));
                for (long i = 0; i < n; i++)
                    gomp::go([&, i] {
                        sum.fetch_add(i, std::memory_order_relaxed);
                        wg.done();
                    });
                wg.wait();
                // As in Go, the last goroutines may still be exiting when
                // Wait returns: give them a moment.
                for (int i = 0; i < 1000 && gomp::num_goroutine() > 1; i++)
                    gomp::blocking([] { std::this_thread::sleep_for(std::chrono::milliseconds(1)); });
                after = gomp::num_goroutine();
            },
            {.procs = procs});
        CHECK(sum.load() == n * (n - 1) / 2);
        CHECK(after == 1);
    }
}

TEST_CASE("stealing: idle Ps take work from the P that spawned everything") {
    gomp::p_stats total;
    std::atomic<int> done{0};
    gomp::run(
        [&] {
            gomp::wait_group wg;
            wg.add(200);
            for (int i = 0; i < 200; i++)
                gomp::go([&] {
                    // Busy for a while without yielding, so the spawner's P
                    // cannot drain its queue alone.
                    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
                    while (std::chrono::steady_clock::now() < until) {
                    }
                    done.fetch_add(1);
                    wg.done();
                });
            wg.wait();
            total = gomp::runtime_stats().total();
        },
        {.procs = 2});
    CHECK(done.load() == 200);
    CHECK(total.steals > 0);
    CHECK(total.spawns == 201);  // the 200 and main
}

TEST_CASE("goroutines readied by one that keeps running get another P (sysmon)") {
    // goready wakes no idle P for one or two waiting goroutines (docs/proc.md):
    // the readier is expected to block soon. This one spins instead, never
    // switching, so only another P can run the two receivers (one in runnext,
    // one in the ring): sysmon must wake one for them.
    int received = 0;
    gomp::run(
        [&] {
            auto c = gomp::make_chan<int>(0);
            std::atomic<int> ran{0};
            for (int i = 0; i < 2; i++)
                gomp::go([&] {
                    if (c.recv()) ran++;
                });
            gomp::sleep(std::chrono::milliseconds(20));  // both receivers park on c
            auto spin = [](auto d, auto done) {
                auto until = std::chrono::steady_clock::now() + d;
                while (!done() && std::chrono::steady_clock::now() < until) {
                }
            };
            // Busy long enough for every other M to stop spinning and sleep.
            spin(std::chrono::milliseconds(20), [] { return false; });
            c.send(1);  // readies one into this P's runnext
            c.send(2);  // the other: runnext, the first to the ring
            spin(std::chrono::seconds(10), [&] { return ran.load() == 2; });
            received = ran.load();
        },
        {.procs = 2});
    CHECK(received == 2);
}

TEST_CASE("runnext changes hands safely while other Ps steal it") {
    // Each hand-off readies the peer into the sender's runnext, and the sender
    // then spins a little, so Ms woken by the spawner's go statements find
    // runnext full on a running P and steal it (runq.hpp: plain accesses by
    // the owner, membarrier for the stealer where the kernel has it). A G
    // taken by both would run on two threads at once: the exact sums and
    // counts below would not survive it.
    constexpr int pairs = 2;
    constexpr long rounds = 50000;
    std::vector<long> sums(pairs);
    long spawned = 0, ran = 0;
    gomp::run(
        [&] {
            gomp::wait_group wg;
            std::atomic<bool> stop{false};
            std::atomic<long> tiny{0};
            wg.add(pairs);
            for (int p = 0; p < pairs; p++) {
                auto ping = gomp::make_chan<long>(0), pong = gomp::make_chan<long>(0);
                gomp::go([=]() mutable {
                    for (long v : ping) pong.send(v + 1);
                });
                gomp::go([=, &sums, &wg]() mutable {
                    long s = 0;
                    for (long i = 0; i < rounds; i++) {
                        ping.send(i);
                        // Mostly short; every 64th long enough for sysmon to
                        // see a P that does not switch with runnext full.
                        const long spin = i % 64 == 0 ? 200000 : (i % 8) * 300;
                        for (long k = 0; k < spin; k++) __asm__ volatile("");
                        s += *pong.recv();
                    }
                    ping.close();
                    sums[static_cast<std::size_t>(p)] = s;
                    wg.done();
                });
            }
            gomp::wait_group spawner;
            spawner.add(1);
            gomp::go([&] {
                while (!stop.load()) {
                    gomp::go([&] { tiny++; });
                    spawned++;
                    gomp::yield();
                }
                spawner.done();
            });
            wg.wait();
            stop = true;
            spawner.wait();
            while (tiny.load() != spawned) gomp::yield();
            ran = tiny.load();
        },
        {.procs = 4});
    for (int p = 0; p < pairs; p++) CHECK(sums[static_cast<std::size_t>(p)] == rounds * (rounds + 1) / 2);
    CHECK(ran == spawned);
    CHECK(spawned > 0);
}

TEST_CASE("fairness: a yielding hog does not starve a ping-pong pair, nor the reverse") {
    // Go's TestPingPongHog idea on one P: the pair hands off through a cond
    // (each hand-off readies the peer into runnext); the hog only yields.
    long hog_before_pair_done = 0;
    bool pair_done_first = false;
    gomp::run(
        [&] {
            gomp::mutex mu;
            gomp::cond cv(mu);
            int turn = 0;
            std::atomic<bool> pair_done{false};
            std::atomic<long> hog{0};
            const int rounds = 20000;
            gomp::wait_group wg;
            wg.add(3);
            gomp::go([&] {
                for (long i = 0; i < 10000000 && !pair_done.load(); i++) {
                    hog.fetch_add(1);
                    gomp::yield();
                }
                wg.done();
            });
            auto player = [&](int me) {
                for (int i = 0; i < rounds; i++) {
                    std::unique_lock lk(mu);
                    while (turn != me) cv.wait();
                    turn = 1 - me;
                    cv.signal();
                }
                if (me == 1) {
                    hog_before_pair_done = hog.load();
                    pair_done = true;
                }
                wg.done();
            };
            gomp::go(player, 0);
            gomp::go(player, 1);
            wg.wait();
            pair_done_first = hog.load() < 10000000;
        },
        {.procs = 1});
    CHECK(pair_done_first);
    CHECK(hog_before_pair_done > 0);
}

TEST_CASE("blocking hands the P over so other goroutines keep running") {
    std::atomic<bool> other_ran{false};
    bool seen_during = false;
    gomp::run(
        [&] {
            gomp::go([&] { other_ran = true; });
            // procs = 1: without the hand-off the other goroutine could not
            // run until this call returned.
            gomp::blocking([&] {
                auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (!other_ran.load() && std::chrono::steady_clock::now() < until)
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                seen_during = other_ran.load();
            });
        },
        {.procs = 1});
    CHECK(seen_during);
}

TEST_CASE("a loop of short blocking calls is preempted after its time slice (sysmon, Go's forcePreemptNS)") {
    // Each call is too short for sysmon to retake the P, and the loop never
    // parks: only the time-slice preemption at blocking's return lets the
    // queued goroutine run on the single P. The 30 s bound only keeps a broken
    // scheduler from hanging the suite.
    std::atomic<bool> other_ran{false};
    bool seen = false;
    gomp::run(
        [&] {
            gomp::go([&] { other_ran = true; });
            auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (!other_ran.load() && std::chrono::steady_clock::now() < until) gomp::blocking([] {});
            seen = other_ran.load();
        },
        {.procs = 1});
    CHECK(seen);
}

TEST_CASE("blocking returns the function's result and propagates its exception") {
    gomp::run([] {
        CHECK(gomp::blocking([] { return 42; }) == 42);
        CHECK_THROWS_WITH(gomp::blocking([]() -> int { throw std::runtime_error("io"); }), "io");
        // Still a working goroutine afterwards.
        gomp::wait_group wg;
        wg.add(1);
        gomp::go([&] { wg.done(); });
        wg.wait();
    });
}

TEST_CASE("C++ exception state follows a goroutine that parks inside a catch block") {
    std::atomic<int> rethrown{0};
    const int n = 200;
    gomp::run(
        [&] {
            gomp::wait_group wg;
            wg.add(n);
            for (int i = 0; i < n; i++)
                gomp::go([&, i] {
                    try {
                        try {
                            throw std::runtime_error("e" + std::to_string(i));
                        } catch (...) {
                            for (int k = 0; k < 5; k++) gomp::yield();  // may resume on another thread
                            CHECK(std::uncaught_exceptions() == 0);
                            throw;  // rethrows the exception this goroutine caught
                        }
                    } catch (const std::runtime_error& e) {
                        if (std::string(e.what()) == "e" + std::to_string(i)) rethrown.fetch_add(1);
                    }
                    wg.done();
                });
            wg.wait();
        },
        {.procs = 2});
    CHECK(rethrown.load() == n);
}

TEST_CASE("floating-point control state is per goroutine") {
    int mode_in_other = -1, mode_back = -1;
    gomp::run(
        [&] {
            std::fesetround(FE_UPWARD);
            gomp::wait_group wg;
            wg.add(1);
            gomp::go([&] {
                mode_in_other = std::fegetround();
                wg.done();
            });
            wg.wait();
            mode_back = std::fegetround();
            std::fesetround(FE_TONEAREST);
        },
        {.procs = 1});
    CHECK(mode_in_other == FE_TONEAREST);
    CHECK(mode_back == FE_UPWARD);
}

TEST_CASE("a thread that is not a goroutine can spawn goroutines") {
    std::atomic<int> ran{0};
    gomp::run(
        [&] {
            gomp::wait_group wg;
            wg.add(100);
            std::thread t([&] {
                for (int i = 0; i < 100; i++)
                    gomp::go([&] {
                        ran.fetch_add(1);
                        wg.done();
                    });
                CHECK(gomp::goroutine_id() == 0);
            });
            wg.wait();
            gomp::blocking([&] { t.join(); });
        },
        {.procs = 2});
    CHECK(ran.load() == 100);
}

TEST_CASE("go_with_stack gives a goroutine a bigger stack") {
    long result = 0;
    gomp::run([&] {
        gomp::wait_group wg;
        wg.add(1);
        gomp::go_with_stack(4 << 20, [&] {
            // 1 MiB of locals: more than the 256 KiB default.
            volatile char big[1 << 20];
            for (std::size_t i = 0; i < sizeof big; i += 4096) big[i] = char(i);
            long s = 0;
            for (std::size_t i = 0; i < sizeof big; i += 4096) s += big[i];
            result = s;
            wg.done();
        });
        wg.wait();
    });
    long expect = 0;
    for (std::size_t i = 0; i < (1 << 20); i += 4096) expect += char(i);
    CHECK(result == expect);
}

TEST_CASE("dump_goroutines lists every goroutine with its wait reason") {
    std::string dump;
    gomp::run([&] {
        gomp::wait_group gate, started, finished;
        gate.add(1);
        started.add(1);
        finished.add(1);
        gomp::go([&] {
            started.done();
            gate.wait();
            finished.done();  // gate must outlive this goroutine's wait()
        });
        started.wait();
        gomp::yield();
        std::ostringstream os;
        gomp::dump_goroutines(os);
        dump = os.str();
        gate.done();
        finished.wait();
    });
    CHECK(dump.find("goroutine 1 [running]:") != std::string::npos);
    CHECK(dump.find("[sync.WaitGroup.Wait]:") != std::string::npos);
}

TEST_CASE("an exception escaping a goroutine is Go's unrecovered panic: message, exit 2") {
    auto r = run_in_child([] {
        gomp::run([] {
            gomp::wait_group wg;
            wg.add(1);
            gomp::go([] { throw std::runtime_error("boom"); });
            wg.wait();
        });
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("panic: boom\n\ngoroutine ") == 0);
    CHECK(r.err.find(" [running]:") != std::string::npos);
}

TEST_CASE("deadlock: all goroutines asleep is reported with a dump, exit 2") {
    auto r = run_in_child([] {
        gomp::run(
            [] {
                gomp::wait_group never;
                never.add(1);
                gomp::go([&] { never.wait(); });
                gomp::mutex mu;
                mu.lock();
                mu.lock();  // nobody can unlock it
            },
            {.procs = 2});
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("fatal error: all goroutines are asleep - deadlock!") == 0);
    CHECK(r.err.find("goroutine 1 [sync.Mutex.Lock]:") != std::string::npos);
    CHECK(r.err.find("[sync.WaitGroup.Wait]:") != std::string::npos);
}

#if !GOMP_TEST_SANITIZED
// Sanitizers install their own SIGSEGV handling and stack bookkeeping.
// Recursion without end, hidden from -Winfinite-recursion by a flag the
// compiler cannot see through.
volatile bool keep_going = true;
int recurse(int depth) {
    volatile char pad[1024];
    pad[0] = char(depth);
    if (!keep_going) return pad[0];
    return recurse(depth + 1) + pad[0];
}

TEST_CASE("stack overflow names the goroutine and its stack size, exit 2") {
    auto r = run_in_child([] {
        gomp::run([] {
            gomp::wait_group wg;
            wg.add(1);
            gomp::go([] { recurse(0); });
            wg.wait();
        });
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("fatal error: stack overflow") == 0);
    CHECK(r.err.find("goroutine 2 stack overflow: stack size 245760 bytes") != std::string::npos);
}

TEST_CASE("faults outside goroutine stacks still reach the default handler") {
    auto r = run_in_child([] {
        signal(SIGSEGV, SIG_DFL);  // not the test framework's crash handler
        gomp::run([] {
            volatile int* p = nullptr;
            *p = 1;
        });
        return 0;
    });
    CHECK(r.signal == SIGSEGV);
}
#endif

TEST_CASE("a million goroutines parked at once, then released") {
    // 1M in release builds: with madvise guard regions the stacks cost no
    // extra mappings, so vm.max_map_count (65530) is no limit.
    const long n = scaled(1000000, GOMP_TEST_TSAN ? 5000 : 50000);
    long parked = 0;
    std::atomic<long> finished{0};
    gomp::run(
        [&] {
            gomp::wait_group started, gate, all;
            started.add(int(n));
            all.add(int(n));
            gate.add(1);
            for (long i = 0; i < n; i++)
                gomp::go([&] {
                    started.done();
                    gate.wait();
                    finished.fetch_add(1, std::memory_order_relaxed);
                    all.done();
                });
            started.wait();
            parked = gomp::num_goroutine() - 1;
            gate.done();
            all.wait();
        },
        {.procs = 2, .stack_size = 64 * 1024});
    CHECK(parked == n);
    CHECK(finished.load() == n);
}
