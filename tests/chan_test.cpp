// Channels (chan.hpp): hchan semantics, Go's runtime/chan_test.go TestChan,
// element types, exceptions, threads, stress, and the deadlock report.
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
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

namespace {

// The API each handle type offers (checked at compile time).
template <class C>
concept can_recv = requires(const C& c, typename C::value_type& v) {
    c.recv();
    c.recv(v);
    c.try_recv(v);
    c.begin();
};
template <class C>
concept can_send = requires(const C& c, typename C::value_type v) {
    c.send(std::move(v));
    c.try_send(std::move(v));
};
template <class C>
concept can_close = requires(const C& c) { c.close(); };

static_assert(can_recv<gomp::chan<int>> && can_send<gomp::chan<int>> && can_close<gomp::chan<int>>);
static_assert(!can_recv<gomp::send_chan<int>> && can_send<gomp::send_chan<int>> && can_close<gomp::send_chan<int>>);
static_assert(can_recv<gomp::recv_chan<int>> && !can_send<gomp::recv_chan<int>> && !can_close<gomp::recv_chan<int>>);
static_assert(std::is_convertible_v<gomp::chan<int>, gomp::send_chan<int>>);
static_assert(std::is_convertible_v<gomp::chan<int>, gomp::recv_chan<int>>);
static_assert(!std::is_convertible_v<gomp::send_chan<int>, gomp::chan<int>>);
static_assert(!std::is_convertible_v<gomp::recv_chan<int>, gomp::send_chan<int>>);

// Counts live objects, copies and moves; optionally throws on the Nth move.
struct tracked {
    static inline std::atomic<long> live{0}, copies{0}, moves{0};
    static inline std::atomic<long> throw_on_move{-1};  // moves left before one throws; -1: never
    int v;
    explicit tracked(int x) : v(x) { live++; }
    tracked(const tracked& o) : v(o.v) {
        live++;
        copies++;
    }
    tracked(tracked&& o) noexcept(false) : v(o.v) {
        if (throw_on_move.load() >= 0 && throw_on_move.fetch_sub(1) == 0) throw std::runtime_error("move failed");
        o.v = -1;
        live++;
        moves++;
    }
    tracked& operator=(tracked&& o) noexcept(false) {
        v = o.v;
        o.v = -1;
        moves++;
        return *this;
    }
    ~tracked() { live--; }
    static void reset() {
        live = copies = moves = 0;
        throw_on_move = -1;
    }
};

}  // namespace

TEST_CASE("make_chan: len, cap, nil, comparison") {
    auto c = gomp::make_chan<int>(3);
    CHECK(c.len() == 0);
    CHECK(c.cap() == 3);
    c.send(1);
    c.send(2);
    CHECK(c.len() == 2);
    auto d = c;  // same channel
    CHECK(d == c);
    CHECK(d.len() == 2);
    CHECK(gomp::make_chan<int>(3) != c);
    gomp::recv_chan<int> r = c;
    CHECK(r == c);
    gomp::chan<int> nil;
    CHECK(nil == nullptr);
    CHECK_FALSE(nil);
    CHECK(nil.len() == 0);
    CHECK(nil.cap() == 0);
    CHECK(gomp::make_chan<int>().cap() == 0);
    CHECK(panic_message([] { gomp::make_chan<int>(-1); }) == "makechan: size out of range");
    CHECK(panic_message([] { gomp::make_chan<std::array<char, 1 << 20>>(std::ptrdiff_t(1) << 40); }) ==
          "makechan: size out of range");
}

TEST_CASE("buffered channel without a runtime: FIFO, close, drain") {
    auto c = gomp::make_chan<std::string>(4);
    for (int i = 0; i < 4; i++) c.send(std::to_string(i));
    CHECK(c.try_send("x") == gomp::chan_status::would_block);
    CHECK(*c.recv() == "0");
    CHECK(c.try_send("4") == gomp::chan_status::ok);
    c.close();
    std::vector<std::string> got;
    for (auto& s : c) got.push_back(s);
    CHECK(got == std::vector<std::string>{"1", "2", "3", "4"});
    CHECK_FALSE(c.recv().has_value());
    std::string out = "untouched";
    CHECK_FALSE(c.recv(out));
    CHECK(out == "untouched");
    CHECK(c.try_recv(out) == gomp::chan_status::closed);
    CHECK(c.try_send("y") == gomp::chan_status::closed);
}

TEST_CASE("Go's panics: send on closed, close of closed, close of nil") {
    auto c = gomp::make_chan<int>(1);
    c.close();
    CHECK(panic_message([&] { c.send(1); }) == "send on closed channel");
    CHECK(panic_message([&] { c.close(); }) == "close of closed channel");
    gomp::chan<int> nil;
    CHECK(panic_message([&] { nil.close(); }) == "close of nil channel");
    gomp::send_chan<int> s;
    CHECK(panic_message([&] { s.close(); }) == "close of nil channel");
}

TEST_CASE("try_send / try_recv tell would_block from closed; a failed try_send keeps its value") {
    for (int cap : {0, 1}) {
        auto c = gomp::make_chan<std::unique_ptr<int>>(cap);
        auto p = std::make_unique<int>(7);
        if (cap == 1) {
            CHECK(c.try_send(std::move(p)) == gomp::chan_status::ok);
            CHECK(p == nullptr);
            p = std::make_unique<int>(8);
        }
        CHECK(c.try_send(std::move(p)) == gomp::chan_status::would_block);
        REQUIRE(p != nullptr);  // not moved from
        std::optional<std::unique_ptr<int>> v;
        if (cap == 1) {
            CHECK(c.try_recv(v) == gomp::chan_status::ok);
            CHECK(**v == 7);
        }
        CHECK(c.try_recv(v) == gomp::chan_status::would_block);
        CHECK_FALSE(v.has_value());
        c.close();
        CHECK(c.try_send(std::move(p)) == gomp::chan_status::closed);
        CHECK(p != nullptr);
        CHECK(c.try_recv(v) == gomp::chan_status::closed);
        gomp::chan<int> nil;
        CHECK(nil.try_send(1) == gomp::chan_status::would_block);
        int x = 0;
        CHECK(nil.try_recv(x) == gomp::chan_status::would_block);
    }
}

TEST_CASE("unbuffered ping-pong between goroutines at procs 1 and 2") {
    for (int procs : {1, 2}) {
        long sum = 0;
        run_joined(
            [&] {
                auto ping = gomp::make_chan<long>(), pong = gomp::make_chan<long>();
                gomp::go([=] {
                    for (long v : ping) pong.send(v + 1);
                    pong.close();
                });
                for (long i = 0; i < 1000; i++) {
                    ping.send(i);
                    sum += *pong.recv();
                }
                ping.close();
                CHECK_FALSE(pong.recv().has_value());
            },
            {.procs = procs});
        CHECK(sum == 1000 * 999 / 2 + 1000);
    }
}

// Go's runtime/chan_test.go TestChan, with time.Sleep(1 ms) as a blocking
// sleep and the shared results gathered through channels.
TEST_CASE("TestChan: capacities 0..N: blocking, non-blocking, close, FIFO, len/cap") {
    const int N = int(scaled(60, 12));
    run_joined(
        [&] {
            for (int chan_cap = 0; chan_cap < N; chan_cap++) {
                {
                    // Receive from an empty channel blocks.
                    auto c = gomp::make_chan<int>(chan_cap);
                    std::atomic<bool> recv1{false}, recv2{false};
                    gomp::wait_group wg;
                    wg.add(2);
                    gomp::go([&, c] {
                        (void)c.recv();
                        recv1 = true;
                        wg.done();
                    });
                    gomp::go([&, c] {
                        int v;
                        (void)c.recv(v);
                        recv2 = true;
                        wg.done();
                    });
                    sleep_ms(1);
                    CHECK_FALSE((recv1 || recv2));
                    // Non-blocking receive does not block.
                    CHECK(gomp::select(gomp::recv(c), gomp::otherwise()) == 1);
                    int x;
                    CHECK(c.try_recv(x) == gomp::chan_status::would_block);
                    c.send(0);
                    c.send(0);
                    wg.wait();
                }
                {
                    // Send to a full channel blocks.
                    auto c = gomp::make_chan<int>(chan_cap);
                    for (int i = 0; i < chan_cap; i++) c.send(i);
                    std::atomic<bool> sent{false};
                    gomp::wait_group wg;
                    wg.add(1);
                    gomp::go([&, c] {
                        c.send(0);
                        sent = true;
                        wg.done();
                    });
                    sleep_ms(1);
                    CHECK_FALSE(sent.load());
                    CHECK(gomp::select(gomp::send(c, 0), gomp::otherwise()) == 1);
                    (void)c.recv();
                    wg.wait();
                }
                {
                    // Receive the buffered values, then "closed", from a closed channel.
                    auto c = gomp::make_chan<int>(chan_cap);
                    for (int i = 0; i < chan_cap; i++) c.send(i);
                    c.close();
                    for (int i = 0; i < chan_cap; i++) CHECK(c.recv() == i);
                    CHECK(c.recv() == std::nullopt);
                    int v = 0;
                    CHECK_FALSE(c.recv(v));
                }
                {
                    // Close unblocks a receive.
                    auto c = gomp::make_chan<int>(chan_cap);
                    auto done = gomp::make_chan<bool>();
                    gomp::go([=] { done.send(!c.recv().has_value()); });
                    sleep_ms(1);
                    c.close();
                    CHECK(*done.recv());
                }
                {
                    // 100 values in FIFO order, by recv() and by recv(T&).
                    auto c = gomp::make_chan<int>(chan_cap);
                    gomp::go([=] {
                        for (int i = 0; i < 100; i++) c.send(i);
                    });
                    for (int i = 0; i < 100; i++) REQUIRE(c.recv() == i);
                    gomp::go([=] {
                        for (int i = 0; i < 100; i++) c.send(i);
                    });
                    for (int i = 0; i < 100; i++) {
                        int v = -1;
                        REQUIRE(c.recv(v));
                        REQUIRE(v == i);
                    }
                    // 4 senders of 0..L-1, 4 receivers: each value arrives 4 times.
                    constexpr int P = 4, L = 1000;
                    for (int p = 0; p < P; p++)
                        gomp::go([=] {
                            for (int i = 0; i < L; i++) c.send(i);
                        });
                    auto done = gomp::make_chan<std::map<int, int>>();
                    for (int p = 0; p < P; p++)
                        gomp::go([=] {
                            std::map<int, int> recv;
                            for (int i = 0; i < L; i++) recv[*c.recv()]++;
                            done.send(std::move(recv));
                        });
                    std::map<int, int> recv;
                    for (int p = 0; p < P; p++) {
                        std::map<int, int> part = *done.recv();
                        for (auto [k, v] : part) recv[k] += v;
                    }
                    REQUIRE(recv.size() == std::size_t(L));
                    for (auto [k, v] : recv) REQUIRE(v == P);
                }
                {
                    // len and cap.
                    auto c = gomp::make_chan<int>(chan_cap);
                    CHECK(c.len() == 0);
                    CHECK(c.cap() == std::size_t(chan_cap));
                    for (int i = 0; i < chan_cap; i++) c.send(i);
                    CHECK(c.len() == std::size_t(chan_cap));
                    CHECK(c.cap() == std::size_t(chan_cap));
                }
            }
        },
        {.procs = 4});
}

TEST_CASE("FIFO with senders parked on a full buffer: the receiver moves the first sender's value to the tail") {
    run_joined(
        [] {
            auto c = gomp::make_chan<int>(3);
            for (int i = 0; i < 3; i++) c.send(i);
            // Three senders park in order 3, 4, 5 (procs 1: each runs until it parks).
            gomp::wait_group wg;
            for (int i = 3; i < 6; i++) {
                wg.add(1);
                gomp::go([&wg, c, i] {
                    c.send(i);
                    wg.done();
                });
                gomp::yield();
            }
            CHECK(c.len() == 3);
            for (int i = 0; i < 6; i++) CHECK(c.recv() == i);
            wg.wait();
        },
        {.procs = 1});
}

TEST_CASE("range-for ends when the channel is closed and drained") {
    run_joined([] {
        for (int cap : {0, 1, 10}) {
            auto c = gomp::make_chan<int>(cap);
            gomp::go([c] {
                for (int i = 1; i <= 100; i++) c.send(i);
                c.close();
            });
            long sum = 0, n = 0;
            for (int v : c) {
                sum += v;
                n++;
            }
            CHECK(n == 100);
            CHECK(sum == 5050);
        }
    });
}

TEST_CASE("move-only and non-default-constructible elements; nothing leaks") {
    struct no_default {
        explicit no_default(int x) : v(x) {}
        no_default(no_default&&) = default;
        no_default& operator=(no_default&&) = default;
        int v;
    };
    tracked::reset();
    run_joined(
        [] {
            for (int cap : {0, 1, 8}) {
                auto c = gomp::make_chan<std::unique_ptr<int>>(cap);
                auto d = gomp::make_chan<no_default>(cap);
                auto t = gomp::make_chan<tracked>(cap);
                gomp::go([=] {
                    for (int i = 0; i < 20; i++) {
                        c.send(std::make_unique<int>(i));
                        d.send(no_default(i));
                        t.send(tracked(i));
                    }
                    c.close();
                    d.close();
                });
                for (int i = 0; i < 20; i++) {
                    CHECK(**c.recv() == i);
                    CHECK(d.recv()->v == i);
                    CHECK(t.recv()->v == i);
                }
                CHECK(c.recv() == std::nullopt);
                CHECK_FALSE(d.recv().has_value());
            }
            // Values left in a buffer are destroyed with the channel.
            auto t = gomp::make_chan<tracked>(5);
            for (int i = 0; i < 4; i++) t.send(tracked(i));
            (void)t.recv();
        },
        {.procs = 2});
    CHECK(tracked::live == 0);
    CHECK(tracked::copies == 0);
}

TEST_CASE("a throwing move leaves the channel consistent") {
    tracked::reset();
    SUBCASE("buffered send: not enqueued") {
        auto c = gomp::make_chan<tracked>(2);
        tracked x(1);
        tracked::throw_on_move = 0;
        CHECK_THROWS_AS(c.send(std::move(x)), std::runtime_error);
        CHECK(x.v == 1);
        CHECK(c.len() == 0);
        c.send(std::move(x));
        CHECK(c.len() == 1);
        CHECK(c.recv()->v == 1);
    }
    SUBCASE("buffered receive: the value stays at the head") {
        auto c = gomp::make_chan<tracked>(2);
        c.send(tracked(1));
        c.send(tracked(2));
        tracked::throw_on_move = 0;
        CHECK_THROWS_AS((void)c.recv(), std::runtime_error);
        CHECK(c.len() == 2);
        CHECK(c.recv()->v == 1);
        CHECK(c.recv()->v == 2);
    }
    SUBCASE("unbuffered hand-off to a parked receiver: the receiver retries") {
        run_joined(
            [] {
                auto c = gomp::make_chan<tracked>();
                auto got = gomp::make_chan<int>(1);
                gomp::go([=] { got.send(c.recv()->v); });
                gomp::yield();  // the receiver parks
                tracked x(5);
                tracked::throw_on_move = 0;
                CHECK_THROWS_AS(c.send(std::move(x)), std::runtime_error);
                CHECK(got.len() == 0);
                c.send(std::move(x));  // the receiver is waiting again
                CHECK(got.recv() == 5);
            },
            {.procs = 1});
    }
    SUBCASE("receive from a parked sender: the receive throws, the sender retries") {
        run_joined(
            [] {
                auto c = gomp::make_chan<tracked>();
                auto done = gomp::make_chan<bool>(1);
                gomp::go([=] {
                    c.send(tracked(9));
                    done.send(true);
                });
                gomp::yield();  // the sender parks
                tracked::throw_on_move = 0;
                CHECK_THROWS_AS((void)c.recv(), std::runtime_error);
                CHECK(c.recv()->v == 9);
                CHECK(*done.recv());
            },
            {.procs = 1});
    }
    SUBCASE("full buffer with a parked sender: the receive succeeds, the sender resends") {
        run_joined(
            [] {
                auto c = gomp::make_chan<tracked>(1);
                c.send(tracked(1));
                gomp::go([=] { c.send(tracked(2)); });
                gomp::yield();  // the sender parks on the full buffer
                // First move (head -> us) succeeds, second (sender -> tail) throws.
                tracked::throw_on_move = 1;
                CHECK(c.recv()->v == 1);
                CHECK(c.recv()->v == 2);  // resent by the retried sender
                CHECK(c.len() == 0);
            },
            {.procs = 1});
    }
    tracked::throw_on_move = -1;
    CHECK(tracked::live == 0);
}

TEST_CASE("close wakes every blocked receiver and makes every blocked sender panic") {
    for (int cap : {0, 2}) {
        run_joined(
            [cap] {
                auto c = gomp::make_chan<int>(cap);
                auto full = gomp::make_chan<int>(cap);
                for (int i = 0; i < cap; i++) full.send(i);
                auto results = gomp::make_chan<std::string>(20);
                for (int i = 0; i < 5; i++) {
                    gomp::go([=] { results.send(c.recv() ? "value" : "closed"); });
                    gomp::go([=] { results.send(panic_message([&] { full.send(100); })); });
                }
                sleep_ms(2);
                c.close();
                full.close();
                std::map<std::string, int> n;
                for (int i = 0; i < 10; i++) n[*results.recv()]++;
                CHECK(n["closed"] == 5);
                CHECK(n["send on closed channel"] == 5);
                // Buffered values sent before the close are still delivered.
                for (int i = 0; i < cap; i++) CHECK(full.recv() == i);
                CHECK(full.recv() == std::nullopt);
            },
            {.procs = 2});
    }
}

TEST_CASE("close races with blocked senders and receivers: nothing is lost or duplicated") {
    const int rounds = int(scaled(200, 40));
    for (int procs : {2, 4}) {
        run_joined(
            [&] {
                for (int r = 0; r < rounds; r++) {
                    int cap = r % 3 == 0 ? 0 : r % 3 == 1 ? 1 : 4;
                    auto c = gomp::make_chan<int>(cap);
                    constexpr int senders = 4, per = 20;
                    auto sent = gomp::make_chan<long>(senders);
                    auto received = gomp::make_chan<long>(4);
                    for (int s = 0; s < senders; s++)
                        gomp::go([=] {
                            long sum = 0;
                            try {
                                for (int i = 1; i <= per; i++) {
                                    c.send(s * 1000 + i);
                                    sum += s * 1000 + i;  // counted once the send returned
                                }
                            } catch (const gomp::panic& p) {
                                if (std::string(p.what()) != "send on closed channel") sum = -1000000;
                            }
                            sent.send(sum);
                        });
                    for (int k = 0; k < 4; k++)
                        gomp::go([=] {
                            long sum = 0;
                            for (int v : c) sum += v;
                            received.send(sum);
                        });
                    if (r % 2) gomp::yield();
                    c.close();
                    long s = 0, rc = 0;
                    for (int i = 0; i < senders; i++) s += *sent.recv();
                    for (int i = 0; i < 4; i++) rc += *received.recv();
                    REQUIRE(s >= 0);
                    REQUIRE(s == rc);
                }
            },
            {.procs = procs});
    }
}

TEST_CASE("MPMC stress: the multiset received equals the multiset sent") {
    const int per = int(scaled(20000, 3000));
    for (int procs : {2, 4})
        for (int cap : {0, 1, 64}) {
            CAPTURE(procs);
            CAPTURE(cap);
            constexpr int producers = 4, consumers = 3;
            std::vector<int> seen(std::size_t(producers * per), 0);
            run_joined(
                [&] {
                    auto c = gomp::make_chan<int>(cap);
                    gomp::wait_group pw, cw;
                    pw.add(producers);
                    cw.add(consumers);
                    std::vector<std::vector<int>> got(consumers);
                    for (int p = 0; p < producers; p++)
                        gomp::go([&, c, p] {
                            for (int i = 0; i < per; i++) c.send(p * per + i);
                            pw.done();
                        });
                    for (int k = 0; k < consumers; k++)
                        gomp::go([&, c, k] {
                            for (int v : c) got[std::size_t(k)].push_back(v);
                            cw.done();
                        });
                    pw.wait();
                    c.close();
                    cw.wait();
                    for (auto& g : got)
                        for (int v : g) seen[std::size_t(v)]++;
                },
                {.procs = procs});
            CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
        }
}

TEST_CASE("plain threads send to goroutines and goroutines to plain threads") {
    for (int cap : {0, 4}) {
        long from_threads = 0, at_thread = 0;
        run_joined(
            [&] {
                auto in = gomp::make_chan<int>(cap), out = gomp::make_chan<int>(cap);
                std::vector<std::thread> ts;
                for (int t = 0; t < 2; t++)
                    ts.emplace_back([in] {
                        for (int i = 1; i <= 500; i++) in.send(i);
                    });
                std::thread reader([out, &at_thread] {
                    for (int v : out) at_thread += v;
                });
                for (int i = 0; i < 1000; i++) from_threads += *in.recv();
                for (int i = 1; i <= 1000; i++) out.send(i);
                out.close();
                gomp::blocking([&] {
                    for (auto& t : ts) t.join();
                    reader.join();
                });
            },
            {.procs = 2});
        CHECK(from_threads == 2 * 500 * 501 / 2);
        CHECK(at_thread == 1000 * 1001 / 2);
    }
}

TEST_CASE("channels between plain threads, with no runtime") {
    auto c = gomp::make_chan<int>();
    auto done = gomp::make_chan<long>(1);
    std::thread consumer([=] {
        long sum = 0;
        for (int v : c) sum += v;
        done.send(sum);
    });
    for (int i = 1; i <= 1000; i++) c.send(i);
    c.close();
    CHECK(done.recv() == 500500L);
    consumer.join();
}

TEST_CASE("a goroutine inside gomp::blocking blocks its thread on a channel") {
    run_joined(
        [] {
            auto c = gomp::make_chan<int>();
            gomp::go([c] {
                int v = gomp::blocking([&] { return *c.recv(); });
                c.send(v * 2);
            });
            c.send(21);
            CHECK(c.recv() == 42);
        },
        {.procs = 2});
}

TEST_CASE("deadlock: a goroutine blocked forever on a nil channel is reported") {
    auto r = run_in_child([] {
        gomp::run([] {
            gomp::chan<int> nil;
            (void)nil.recv();
        }, {.procs = 1});
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("fatal error: all goroutines are asleep - deadlock!") != std::string::npos);
    CHECK(r.err.find("goroutine 1 [chan receive (nil chan)]:") != std::string::npos);

    auto s = run_in_child([] {
        gomp::run([] {
            auto c = gomp::make_chan<int>();
            gomp::go([c] { c.send(1); });
            gomp::chan<int> nil;
            nil.send(1);
        }, {.procs = 2});
        return 0;
    });
    CHECK(s.exit_code == 2);
    CHECK(s.err.find("goroutine 1 [chan send (nil chan)]:") != std::string::npos);
    CHECK(s.err.find("[chan send]:") != std::string::npos);

    auto t = run_in_child([] {
        gomp::run([] { (void)gomp::make_chan<int>().recv(); }, {.procs = 1});
        return 0;
    });
    CHECK(t.exit_code == 2);
    CHECK(t.err.find("goroutine 1 [chan receive]:") != std::string::npos);
}

TEST_CASE("an unrecovered send on a closed channel ends the program as Go's panic does") {
    auto r = run_in_child([] {
        gomp::run([] {
            auto c = gomp::make_chan<int>(1);
            c.close();
            auto done = gomp::make_chan<int>();
            gomp::go([c] { c.send(1); });
            (void)done.recv();
        });
        return 0;
    });
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("panic: send on closed channel") != std::string::npos);
}

// Allocation counting for the test below: the replaceable global operator
// new counts, per thread, the allocations made while counting is on.
namespace {
thread_local bool count_allocs = false;
thread_local long allocs = 0;
}  // namespace

// Not inlined: GCC would pair an inlined free() with the new-expression
// at the call site and warn (-Wmismatched-new-delete).
__attribute__((noinline)) void* operator new(std::size_t n) {
    if (count_allocs) allocs++;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept { std::free(p); }

// Go takes sudogs from a per-P cache; gomp's live in the blocked frame (its
// stacks never move). Either way an operation allocates nothing: blocking
// hand-offs, buffered operations, try_*, range-for and select, at procs 1
// where every goroutine runs on this thread.
TEST_CASE("no allocation per channel operation or select") {
    long counted = -1;
    gomp::run(
        [&] {
            auto c = gomp::make_chan<int>(), d = gomp::make_chan<int>(), buf = gomp::make_chan<int>(4);
            gomp::go([=] {
                for (int v : c) d.send(v);
                d.close();
            });
            std::optional<int> v;
            std::vector<gomp::select_case> cases{gomp::select_case::recv(d, v), gomp::select_case::recv(buf, v)};
            long sum = 0;
            auto round = [&](int i) {
                c.send(i);                                         // hand-off to the parked echo goroutine
                sum += *d.recv();                                  // park until it answers
                buf.send(i);                                       // buffered
                (void)buf.try_send(i);                             // buffered, non-blocking
                sum += buf.recv().value_or(0);
                (void)buf.try_recv(v);
                gomp::select(gomp::send(c, i), gomp::recv(buf));   // buf is empty: the send fires
                gomp::select(cases);                               // d's answer to it (parks if not yet there)
                sum += v.value_or(0);
                gomp::select(gomp::recv(d, [&](int x) { sum += x; }), gomp::otherwise([] {}));  // no answer due
            };
            for (int i = 0; i < 100; i++) round(i);  // warm up
            count_allocs = true;
            for (int i = 0; i < 1000; i++) round(i);
            count_allocs = false;
            counted = allocs;
            c.close();
            for (int x : d) sum += x;
            CHECK(sum > 0);
        },
        {.procs = 1});
    CHECK(counted == 0);
}
