// Go's sync package on goroutines: mutex, rw_mutex, wait_group, once, cond, pool.
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <chrono>
#include <thread>
#include <vector>

#include "test_util.hpp"

using gomp_test::run_in_child;
using gomp_test::scaled;

TEST_CASE("mutex: mutual exclusion under contention at procs 1, 2 and 8") {
    for (int procs : {1, 2, 8}) {
        long counter = 0;  // deliberately not atomic: the mutex protects it
        const int workers = 16, iters = int(scaled(2000, 500));
        gomp::run(
            [&] {
                gomp::mutex mu;
                gomp::wait_group wg;
                wg.add(workers);
                for (int w = 0; w < workers; w++)
                    gomp::go([&] {
                        for (int i = 0; i < iters; i++) {
                            std::lock_guard lk(mu);
                            long v = counter;
                            if (i % 7 == 0) gomp::yield();  // hold it across a switch
                            counter = v + 1;
                        }
                        wg.done();
                    });
                wg.wait();
            },
            {.procs = procs});
        CHECK(counter == long(workers) * iters);
    }
}

TEST_CASE("mutex: try_lock, and plain threads contend with goroutines") {
    long counter = 0;
    gomp::run(
        [&] {
            gomp::mutex mu;
            CHECK(mu.try_lock());
            CHECK_FALSE(mu.try_lock());
            mu.unlock();
            gomp::wait_group wg;
            wg.add(4);
            for (int w = 0; w < 4; w++)
                gomp::go([&] {
                    for (int i = 0; i < 1000; i++) {
                        std::lock_guard lk(mu);
                        counter++;
                    }
                    wg.done();
                });
            std::thread t([&] {
                for (int i = 0; i < 1000; i++) {
                    std::lock_guard lk(mu);
                    counter++;
                }
            });
            wg.wait();
            gomp::blocking([&] { t.join(); });
        },
        {.procs = 2});
    CHECK(counter == 5000);
}

TEST_CASE("mutex: starvation mode hands the lock to a long-waiting goroutine") {
    // Go's TestMutexFairness: one goroutine relocks in a tight loop, another
    // asks for the lock now and then; it must get it within bounded time.
    bool got_it = false;
    gomp::run(
        [&] {
            gomp::mutex mu;
            std::atomic<bool> stop{false};
            gomp::wait_group wg;
            wg.add(1);
            gomp::go([&] {
                while (!stop.load()) {
                    mu.lock();
                    auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
                    while (std::chrono::steady_clock::now() < until) {
                    }
                    mu.unlock();
                }
                wg.done();
            });
            gomp::wait_group wg2;
            wg2.add(1);
            gomp::go([&] {
                for (int i = 0; i < 10; i++) {
                    gomp::blocking([] { std::this_thread::sleep_for(std::chrono::microseconds(100)); });
                    mu.lock();
                    mu.unlock();
                }
                got_it = true;
                stop = true;
                wg2.done();
            });
            wg2.wait();
            wg.wait();
        },
        {.procs = 2});
    CHECK(got_it);
}

TEST_CASE("mutex: unlock of an unlocked mutex is Go's fatal error") {
    auto r = run_in_child([] {
        gomp::run([] {
            gomp::mutex mu;
            mu.unlock();
        });
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("fatal error: sync: unlock of unlocked mutex") == 0);
}

TEST_CASE("rw_mutex: readers share, writers exclude") {
    bool writer_alone = true;
    gomp::run(
        [&] {
            gomp::rw_mutex mu;
            std::atomic<int> readers{0}, writers{0};
            gomp::wait_group wg;
            const int n = 32;
            wg.add(n);
            for (int i = 0; i < n; i++)
                gomp::go([&, i] {
                    for (int k = 0; k < 200; k++) {
                        if ((i + k) % 8 == 0) {
                            std::lock_guard lk(mu);
                            if (writers.fetch_add(1) != 0 || readers.load() != 0) writer_alone = false;
                            gomp::yield();
                            writers.fetch_sub(1);
                        } else {
                            std::shared_lock lk(mu);
                            readers.fetch_add(1);
                            if (writers.load() != 0) writer_alone = false;
                            gomp::yield();
                            readers.fetch_sub(1);
                        }
                    }
                    wg.done();
                });
            wg.wait();
        },
        {.procs = 4});
    CHECK(writer_alone);
    // Readers share: a second reader gets the lock while main holds it
    // shared (were it exclusive, in.wait() would be reported as a deadlock).
    bool second_reader_in = false;
    gomp::run([&] {
        gomp::rw_mutex mu;
        gomp::wait_group in;
        in.add(1);
        mu.lock_shared();
        gomp::go([&] {
            mu.lock_shared();
            second_reader_in = true;
            mu.unlock_shared();
            in.done();
        });
        in.wait();
        mu.unlock_shared();
    });
    CHECK(second_reader_in);
}

TEST_CASE("rw_mutex: a waiting writer blocks new readers (no writer starvation)") {
    std::vector<std::string> events;
    gomp::run(
        [&] {
            gomp::rw_mutex mu;
            gomp::mutex ev_mu;
            auto log = [&](std::string e) {
                std::lock_guard lk(ev_mu);
                events.push_back(std::move(e));
            };
            mu.rlock();
            gomp::wait_group wg;
            wg.add(2);
            gomp::go([&] {
                mu.lock();  // waits for the first reader
                log("writer");
                mu.unlock();
                wg.done();
            });
            gomp::yield();  // writer is now waiting
            gomp::go([&] {
                mu.rlock();  // must queue behind the writer
                log("reader2");
                mu.runlock();
                wg.done();
            });
            gomp::yield();
            log("reader1 done");
            mu.runlock();
            wg.wait();
        },
        {.procs = 1});
    CHECK(events == std::vector<std::string>{"reader1 done", "writer", "reader2"});
}

TEST_CASE("wait_group: Go's panics for misuse") {
    gomp::run([] {
        gomp::wait_group wg;
        CHECK_THROWS_WITH_AS(wg.add(-1), "sync: negative WaitGroup counter", gomp::panic);
    });
    gomp::wait_group outside;  // works on plain threads too
    outside.add(1);
    std::thread t([&] { outside.done(); });
    outside.wait();
    t.join();
}

TEST_CASE("wait_group: many waiters are all released") {
    std::atomic<int> released{0};
    gomp::run(
        [&] {
            gomp::wait_group gate, all;
            gate.add(1);
            all.add(50);
            for (int i = 0; i < 50; i++)
                gomp::go([&] {
                    gate.wait();
                    released.fetch_add(1);
                    all.done();
                });
            gomp::yield();
            gate.done();
            all.wait();
        },
        {.procs = 2});
    CHECK(released.load() == 50);
}

TEST_CASE("once: runs exactly once under contention; a throwing f still counts as done") {
    std::atomic<int> calls{0};
    gomp::run(
        [&] {
            gomp::once o;
            gomp::wait_group wg;
            wg.add(64);
            for (int i = 0; i < 64; i++)
                gomp::go([&] {
                    o.call([&] {
                        gomp::yield();  // others arrive and wait
                        calls.fetch_add(1);
                    });
                    CHECK(calls.load() == 1);  // nobody returns before f has
                    wg.done();
                });
            wg.wait();

            gomp::once t;
            CHECK_THROWS_AS(t.call([] { throw std::runtime_error("x"); }), std::runtime_error);
            bool again = false;
            t.call([&] { again = true; });
            CHECK_FALSE(again);
            CHECK(t.done());
        },
        {.procs = 4});
    CHECK(calls.load() == 1);
}

TEST_CASE("cond: signal wakes one waiter, broadcast wakes all") {
    gomp::run(
        [] {
            gomp::mutex mu;
            gomp::cond cv(mu);
            int tokens = 0, woken = 0;
            gomp::wait_group wg;
            const int n = 10;
            wg.add(n);
            for (int i = 0; i < n; i++)
                gomp::go([&] {
                    {
                        std::unique_lock lk(mu);
                        while (tokens == 0) cv.wait();
                        tokens--;
                        woken++;
                    }
                    // After unlocking: done() may let main return and
                    // destroy mu.
                    wg.done();
                });
            for (int i = 0; i < 3; i++) {
                std::unique_lock lk(mu);
                tokens++;
                cv.signal();
            }
            // Each signal wakes a waiter: all three tokens get taken (the
            // waiters may run on the other P, so wait for them, bounded).
            auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            for (int k = 1; std::chrono::steady_clock::now() < until; k++) {
                {
                    std::unique_lock lk(mu);
                    if (woken == 3) break;
                }
                gomp::yield();
                if (k % 64 == 0) gomp::blocking([] { std::this_thread::sleep_for(std::chrono::microseconds(100)); });
            }
            {
                std::unique_lock lk(mu);
                CHECK(woken == 3);
                tokens += n - 3;
                cv.broadcast();
            }
            wg.wait();
            CHECK(woken == n);
        },
        {.procs = 2});
}

TEST_CASE("cond: a plain thread can wait for a goroutine") {
    gomp::run(
        [] {
            gomp::mutex mu;
            gomp::cond cv(mu);
            bool ready = false, seen = false;
            std::thread t([&] {
                std::unique_lock lk(mu);
                while (!ready) cv.wait();
                seen = true;
            });
            gomp::blocking([] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); });
            {
                std::unique_lock lk(mu);
                ready = true;
                cv.broadcast();
            }
            gomp::blocking([&] { t.join(); });
            CHECK(seen);
        },
        {.procs = 2});
}

TEST_CASE("pool: objects are reused, new_fn is called when empty") {
    std::atomic<int> created{0};
    gomp::run(
        [&] {
            gomp::pool<std::string> bufs([&] {
                created.fetch_add(1);
                return std::make_unique<std::string>();
            });
            auto a = bufs.get();
            a->assign("hello");
            std::string* raw = a.get();
            bufs.put(std::move(a));
            auto b = bufs.get();  // same P: the same object comes back
            CHECK(b.get() == raw);
            CHECK(*b == "hello");
            CHECK(created.load() == 1);
            bufs.put(std::move(b));

            gomp::wait_group wg;
            wg.add(100);
            for (int i = 0; i < 100; i++)
                gomp::go([&] {
                    auto x = bufs.get();
                    CHECK(x != nullptr);
                    gomp::yield();
                    bufs.put(std::move(x));
                    wg.done();
                });
            wg.wait();
            CHECK(created.load() <= 101);
        },
        {.procs = 2});
    // Outside any run the pool still works, through its shared list.
    gomp::pool<int> ints;
    auto x = ints.get();
    *x = 5;
    ints.put(std::move(x));
    CHECK(*ints.get() == 5);
}
