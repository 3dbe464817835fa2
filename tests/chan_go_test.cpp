// Go's test/chan programs (sieve1, sieve2, select3, nonblock, fifo,
// goroutines, zerosize, sendstmt), one TEST_CASE each, asserting what the Go
// program checks.
//
// Two changes run through the ports. Go's programs end with goroutines still
// blocked (generators, filters); gomp abandons those with their stacks, and
// the channel handles they hold would leak, so each endless goroutine also
// selects on a quit channel and returns when main closes it. And Go's
// select3 and nonblock detect "blocks" with a clock; here the test runs at
// procs 1, where a new goroutine runs, once main yields, until it returns or
// parks: whether it parked, and on what, is read from the goroutine dump.
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "goroutine_util.hpp"
#include "test_util.hpp"

using gomp_test::scaled;
using gomp_test::join_goroutines;
using gomp_test::panic_message;
using gomp_test::run_joined;

namespace {

struct empty {};  // Go's struct{}

// Unwinds a goroutine of the sieves once quit is closed.
struct quit_signal {};

// `go f()` for a goroutine that ends by quit_signal.
template <class F>
void spawn(F f) {
    gomp::go([f = std::move(f)]() mutable {
        try {
            f();
        } catch (const quit_signal&) {
        }
    });
}

// out <- v, or quit.
template <class T>
void send_or_quit(const gomp::send_chan<T>& out, T v, const gomp::recv_chan<empty>& quit) {
    if (gomp::select(gomp::send(out, std::move(v)), gomp::recv(quit)) == 1) throw quit_signal{};
}

// <-in (which never closes in the sieves), or quit.
template <class T>
T recv_or_quit(const gomp::recv_chan<T>& in, const gomp::recv_chan<empty>& quit) {
    std::optional<T> v;
    if (gomp::select(gomp::recv(in, [&](std::optional<T> x) { v = std::move(x); }), gomp::recv(quit)) == 1)
        throw quit_signal{};
    REQUIRE(v.has_value());
    return std::move(*v);
}

std::vector<int> first_primes(std::size_t n) {
    std::vector<int> ps;
    for (int i = 2; ps.size() < n; i++)
        if (std::none_of(ps.begin(), ps.end(), [i](int p) { return i % p == 0; })) ps.push_back(i);
    return ps;
}

// Go's testBlock without a clock, for a run at procs 1. block_probe(f) runs
// f in a new goroutine and yields to it: it runs until it returns or parks,
// and nothing else runs meanwhile. Returns "" if f returned, else the wait
// reason the goroutine is parked with ("chan receive", "select", ...).
class block_probe {
public:
    template <class F>
    std::string operator()(F f) {
        slot& s = slots_.emplace_back();
        gomp::go([&s, f]() mutable {
            s.id = gomp::goroutine_id();
            f();
            s.returned = true;
        });
        gomp::yield();
        if (s.returned) return "";
        return wait_reason(s.id);
    }

    // Whether the n-th goroutine started (0-based) has returned.
    bool returned(std::size_t n) const { return slots_.at(n).returned; }

private:
    struct slot {
        std::atomic<std::uint64_t> id{0};
        std::atomic<bool> returned{false};
    };

    static std::string wait_reason(std::uint64_t id) {
        std::ostringstream os;
        gomp::dump_goroutines(os);
        std::string dump = os.str(), key = "goroutine " + std::to_string(id) + " [";
        std::size_t at = dump.find(key);
        if (at == std::string::npos) return "(not found)";
        at += key.size();
        return dump.substr(at, dump.find("]:", at) - at);
    }

    std::deque<slot> slots_;  // stable addresses: parked goroutines point into it
};

}  // namespace

// test/chan/sieve1.go: a daisy chain of Filter goroutines, one per prime.
TEST_CASE("sieve1: a chain of filter goroutines yields the primes in order") {
    const std::vector<int> want = first_primes(std::size_t(scaled(400, 60)));
    for (int procs : {1, 2}) {
        CAPTURE(procs);
        std::vector<int> got;
        run_joined(
            [&] {
                auto quit = gomp::make_chan<empty>();
                // Send the sequence 2, 3, 4, ... to ch.
                auto generate = [quit](gomp::send_chan<int> ch) {
                    for (int i = 2;; i++) send_or_quit(ch, i, quit);
                };
                // Copy the values from in to out, removing those divisible by prime.
                auto filter = [quit](gomp::recv_chan<int> in, gomp::send_chan<int> out, int prime) {
                    for (;;) {
                        int i = recv_or_quit(in, quit);
                        if (i % prime != 0) send_or_quit(out, i, quit);
                    }
                };
                auto primes = gomp::make_chan<int>();
                spawn([=] {
                    auto ch = gomp::make_chan<int>();
                    spawn([=] { generate(ch); });
                    for (;;) {
                        int prime = recv_or_quit<int>(ch, quit);
                        send_or_quit<int>(primes, prime, quit);
                        auto ch1 = gomp::make_chan<int>();
                        spawn([=] { filter(ch, ch1, prime); });
                        ch = ch1;
                    }
                });
                for (std::size_t i = 0; i < want.size(); i++) got.push_back(*primes.recv());
                quit.close();
            },
            procs);
        CHECK(got == want);
    }
}

// test/chan/sieve2.go: Eratosthenes over odd candidates. A merging goroutine
// keeps a heap of channels of multiples (one per prime, peeked at their
// head), a proxy goroutine buffers without bound by disabling its send case
// with a nil channel while its buffer is empty.
TEST_CASE("sieve2: merged multiples, a heap of peeked channels and an unbounded proxy") {
    const std::vector<int> want = first_primes(std::size_t(scaled(1000, 150)));
    for (int procs : {1, 2}) {
        CAPTURE(procs);
        std::vector<int> got;
        run_joined(
            [&] {
                auto quit = gomp::make_chan<empty>();
                gomp::recv_chan<empty> q = quit;
                // A channel of odd numbers from 5.
                auto odds = [q] {
                    auto out = gomp::make_chan<int>(50);
                    spawn([=] {
                        for (int n = 5;; n += 2) send_or_quit<int>(out, n, q);
                    });
                    return out;
                };
                // A channel of the odd multiples of p from p*p.
                auto multiples = [q](int p) {
                    auto out = gomp::make_chan<int>(10);
                    spawn([=] {
                        for (int n = p * p;; n += 2 * p) send_or_quit<int>(out, n, q);
                    });
                    return out;
                };
                // A proxy to out that never blocks its sender: an expanding
                // queue, and a send case that is nil while the queue is empty.
                auto sendproxy = [q](gomp::send_chan<int> out) {
                    auto proxy = gomp::make_chan<int>(10);
                    spawn([=] {
                        std::deque<int> buf;
                        for (;;) {
                            gomp::send_chan<int> c = buf.empty() ? gomp::send_chan<int>() : out;
                            int e = buf.empty() ? 0 : buf.front();
                            std::size_t i = gomp::select(gomp::recv(proxy, [&](int v) { buf.push_back(v); }),
                                                         gomp::send(c, e, [&] { buf.pop_front(); }),
                                                         gomp::recv(q));
                            if (i == 2) throw quit_signal{};
                        }
                    });
                    return gomp::send_chan<int>(proxy);
                };

                struct peek_ch {
                    int head;
                    gomp::chan<int> ch;
                };
                auto later = [](const peek_ch& a, const peek_ch& b) { return a.head > b.head; };  // a min-heap

                auto out = gomp::make_chan<int>(10);
                out.send(2);
                out.send(3);
                auto composites = gomp::make_chan<int>(50);  // every composite, in increasing order
                auto primes = gomp::make_chan<int>(10);      // the feedback loop
                primes.send(3);

                // Merge the channels of multiples of primes into composites.
                spawn([=] {
                    std::vector<peek_ch> h;
                    int min = 15;
                    auto advance = [&] {  // min = the smallest head; refill that channel's head
                        std::pop_heap(h.begin(), h.end(), later);
                        peek_ch& m = h.back();
                        min = m.head;
                        m.head = recv_or_quit<int>(m.ch, q);
                        std::push_heap(h.begin(), h.end(), later);
                    };
                    for (;;) {
                        auto m = multiples(recv_or_quit<int>(primes, q));
                        int head = recv_or_quit<int>(m, q);
                        while (min < head) {
                            send_or_quit<int>(composites, min, q);
                            advance();
                        }
                        while (min == head) advance();
                        send_or_quit<int>(composites, head, q);
                        h.push_back({recv_or_quit<int>(m, q), m});
                        std::push_heap(h.begin(), h.end(), later);
                    }
                });

                // Sieve the composites out of the candidates.
                spawn([=] {
                    // Only primes up to sqrt(n) are needed to reach n, so the
                    // merger reads primes far slower than they come: the proxy
                    // keeps this goroutine from blocking on a full buffer.
                    gomp::send_chan<int> primes_in = sendproxy(primes);
                    auto candidates = odds();
                    int p = recv_or_quit<int>(candidates, q);
                    for (;;) {
                        int c = recv_or_quit<int>(composites, q);
                        while (p < c) {
                            send_or_quit<int>(primes_in, p, q);
                            send_or_quit<int>(out, p, q);
                            p = recv_or_quit<int>(candidates, q);
                        }
                        if (p == c) p = recv_or_quit<int>(candidates, q);
                    }
                });

                for (std::size_t i = 0; i < want.size(); i++) got.push_back(*out.recv());
                quit.close();
            },
            procs);
        CHECK(got == want);
    }
}

// test/chan/select3.go: which operations and selects block, which panic.
TEST_CASE("select3: blocking and panicking of operations and selects on nil, closed and ready channels") {
    gomp::run(
        [] {
            block_probe blocks;
            gomp::chan<int> nilch;
            auto closedch = gomp::make_chan<int>();
            closedch.close();
            int forever = 0;  // goroutines left parked for good (nil channels, select {})

            // Sending/receiving from a nil channel blocks.
            CHECK(blocks([nilch] { nilch.send(7); }) == "chan send (nil chan)");
            CHECK(blocks([nilch] { (void)nilch.recv(); }) == "chan receive (nil chan)");
            forever += 2;

            // A nil channel's case in a select is never selected.
            CHECK(gomp::select(gomp::send(nilch, 7), gomp::otherwise()) == 1);
            CHECK(gomp::select(gomp::recv(nilch), gomp::otherwise()) == 1);

            // Sending to a channel with free buffer space never blocks.
            CHECK(blocks([] { gomp::make_chan<int>(1).send(7); }) == "");

            // Receiving from a closed channel never blocks; Go's zero value is
            // nullopt here (or T{} in a select callback taking T).
            bool all_closed = true;
            CHECK(blocks([closedch, &all_closed] {
                      for (int i = 0; i < 10; i++) {
                          if (closedch.recv().has_value()) all_closed = false;
                          int x = -1;
                          if (closedch.recv(x) || x != -1) all_closed = false;
                          gomp::select(gomp::recv(closedch, [&](int v) { x = v; }));
                          if (x != 0) all_closed = false;
                      }
                  }) == "");
            CHECK(all_closed);

            // Sending to a closed channel panics.
            CHECK(panic_message([&] { closedch.send(7); }) == "send on closed channel");

            // Receiving from a non-ready channel blocks (until a peer comes).
            auto ch = gomp::make_chan<int>();
            CHECK(blocks([ch] { (void)ch.recv(); }) == "chan receive");
            ch.send(1);

            // Empty selects, and selects over nil channels only, block.
            CHECK(blocks([] { gomp::select(); }) == "select (no cases)");
            CHECK(blocks([nilch] { gomp::select(gomp::recv(nilch)); }) == "chan receive (nil chan)");
            CHECK(blocks([nilch] { gomp::select(gomp::send(nilch, 7)); }) == "chan send (nil chan)");
            CHECK(blocks([nilch] { gomp::select(gomp::recv(nilch), gomp::send(nilch, 7)); }) == "select");
            CHECK(blocks([nilch] {
                      std::optional<int> v;
                      std::array<gomp::select_case, 2> cases{gomp::select_case(), gomp::select_case::recv(nilch, v)};
                      gomp::select(cases);
                  }) == "select");
            forever += 5;

            // Selects over non-ready non-nil channels block (until a peer comes).
            CHECK(blocks([ch] { gomp::select(gomp::recv(ch)); }) == "chan receive");
            ch.send(2);
            auto ch2 = gomp::make_chan<int>();
            CHECK(blocks([ch, ch2] { gomp::select(gomp::recv(ch), gomp::recv(ch2)); }) == "select");
            ch2.send(3);

            // Selects with a default case do not block.
            CHECK(blocks([] { CHECK(gomp::select(gomp::otherwise()) == 0); }) == "");
            CHECK(blocks([nilch] { CHECK(gomp::select(gomp::recv(nilch), gomp::otherwise()) == 1); }) == "");
            CHECK(blocks([nilch] { CHECK(gomp::select(gomp::send(nilch, 7), gomp::otherwise()) == 1); }) == "");

            // Selects with ready channels do not block, and do not take the default.
            CHECK(blocks([] { CHECK(gomp::select(gomp::send(gomp::make_chan<int>(1), 7), gomp::otherwise()) == 0); }) ==
                  "");
            CHECK(blocks([] {
                      auto c = gomp::make_chan<int>(1);
                      c.send(7);
                      CHECK(gomp::select(gomp::recv(c), gomp::otherwise()) == 0);
                  }) == "");

            // Selects with closed channels behave like the plain operations.
            CHECK(blocks([closedch] { gomp::select(gomp::recv(closedch)); }) == "");
            CHECK(blocks([closedch] { gomp::select(gomp::recv(closedch, [](int x) { CHECK(x == 0); })); }) == "");
            CHECK(blocks([closedch] {
                      gomp::select(gomp::recv(closedch, [](std::optional<int> x) { CHECK_FALSE(x.has_value()); }));
                  }) == "");
            CHECK(panic_message([&] { gomp::select(gomp::send(closedch, 7)); }) == "send on closed channel");
            CHECK(panic_message([&] { gomp::select(gomp::send(closedch, 7), gomp::recv(nilch)); }) ==
                  "send on closed channel");

            // A select does not get confused if it sees itself: it blocks, and
            // a peer then takes its send, not its receive.
            auto self = gomp::make_chan<int>();
            std::size_t self_fired = 99;
            CHECK(blocks([self, &self_fired] { self_fired = gomp::select(gomp::send(self, 1), gomp::recv(self)); }) ==
                  "select");
            CHECK(self.recv() == 1);

            join_goroutines(forever);
            CHECK(self_fired == 0);
            CHECK(blocks.returned(4));  // the receive from ch, released by ch.send(1)
        },
        {.procs = 1});
}

namespace {

// nonblock.go's receiver and sender: receive (check) or send one value,
// then strobe.
template <class T>
void check_nonblock(T to_receiver, T from_sender) {
    const int max_tries = 10000;
    gomp::run(
        [&] {
            auto sync = gomp::make_chan<bool>();
            for (int buffer = 0; buffer < 2; buffer++) {
                CAPTURE(buffer);
                auto c = gomp::make_chan<T>(buffer);

                // Nothing to receive: the default fires, try_recv would block.
                CHECK(gomp::select(gomp::recv(c, [](T) { FAIL("blocked sender"); }), gomp::otherwise()) == 1);
                T v{};
                CHECK(c.try_recv(v) == gomp::chan_status::would_block);

                // A receiver appears: a send with default succeeds within
                // max_tries polls (yielding between them lets it run).
                gomp::go([=] {
                    CHECK(*c.recv() == to_receiver);
                    sync.send(true);
                });
                int tries = 0;
                while (gomp::select(gomp::send(c, to_receiver), gomp::otherwise()) == 1) {
                    REQUIRE(++tries <= max_tries);
                    gomp::yield();
                }
                (void)sync.recv();

                // A sender appears: a receive with default gets its value.
                gomp::go([=] {
                    c.send(from_sender);
                    sync.send(true);
                });
                if (buffer > 0) (void)sync.recv();
                tries = 0;
                std::optional<T> got;
                while (gomp::select(gomp::recv(c, [&](T x) { got = std::move(x); }), gomp::otherwise()) == 1) {
                    REQUIRE(++tries <= max_tries);
                    gomp::yield();
                }
                CHECK(got == from_sender);
                if (buffer == 0) (void)sync.recv();

                // The same through try_send / try_recv.
                gomp::go([=] {
                    CHECK(*c.recv() == to_receiver);
                    sync.send(true);
                });
                tries = 0;
                while (c.try_send(to_receiver) == gomp::chan_status::would_block) {
                    REQUIRE(++tries <= max_tries);
                    gomp::yield();
                }
                (void)sync.recv();
                gomp::go([=] {
                    c.send(from_sender);
                    sync.send(true);
                });
                if (buffer > 0) (void)sync.recv();
                tries = 0;
                while (c.try_recv(v) == gomp::chan_status::would_block) {
                    REQUIRE(++tries <= max_tries);
                    gomp::yield();
                }
                CHECK(v == from_sender);
                if (buffer == 0) (void)sync.recv();
            }
            join_goroutines();
        },
        {.procs = 1});
}

}  // namespace

// test/chan/nonblock.go: non-blocking sends and receives (select with
// default) of several sizes and types, unbuffered and buffered.
TEST_CASE("nonblock: select with default, try_send and try_recv, for int32, int64, bool and string") {
    check_nonblock<std::int32_t>(123, 234);
    check_nonblock<std::int64_t>(123456, 234567);
    check_nonblock<bool>(true, true);
    check_nonblock<std::string>("hello", "hello again");
}

// test/chan/fifo.go: a buffered channel is a FIFO; so is an unbuffered one,
// served to receivers that queue in a daisy chain.
TEST_CASE("fifo: asynchronous and synchronous channels deliver in order") {
    const int n = int(scaled(1000, 100));
    // AsynchFifo.
    {
        auto ch = gomp::make_chan<int>(n);
        for (int i = 0; i < n; i++) ch.send(i);
        bool in_order = true;
        for (int i = 0; i < n; i++) in_order &= ch.recv() == i;
        CHECK(in_order);
    }
    // SynchFifo: goroutine i waits for its turn on in, receives from ch
    // (it must get i), then passes the turn on.
    for (int procs : {1, 2}) {
        CAPTURE(procs);
        std::atomic<int> wrong{0};
        run_joined(
            [&] {
                auto ch = gomp::make_chan<int>();
                auto in = gomp::make_chan<int>();
                auto start = in;
                for (int i = 0; i < n; i++) {
                    auto out = gomp::make_chan<int>();
                    gomp::go([&wrong, ch, in, out, i] {
                        (void)in.recv();
                        if (ch.recv() != i) wrong++;
                        out.send(1);
                    });
                    in = out;
                }
                start.send(0);
                for (int i = 0; i < n; i++) ch.send(i);
                CHECK(in.recv() == 1);
            },
            procs);
        CHECK(wrong == 0);
    }
}

// test/chan/goroutines.go: many goroutines threaded together by unbuffered
// channels, each passing one value left; torn down cleanly.
TEST_CASE("goroutines: a chain of goroutines passes a value along and exits") {
    // TSan: each goroutine is a TSan fiber, costly to make and switch to.
    const int n = GOMP_TEST_TSAN ? 250 : int(scaled(10000, 1000));
    for (int procs : {1, 2}) {
        CAPTURE(procs);
        run_joined(
            [&] {
                auto leftmost = gomp::make_chan<int>();
                auto left = leftmost, right = leftmost;
                for (int i = 0; i < n; i++) {
                    right = gomp::make_chan<int>();
                    gomp::go([left, right] { left.send(*right.recv()); });  // left <- <-right
                    left = right;
                }
                gomp::go([right] { right.send(1); });
                CHECK(leftmost.recv() == 1);
            },
            procs);
    }
}

// test/chan/zerosize.go: channels of Go's zero-sized types. C++ has none
// (sizeof is at least 1); the nearest, an empty struct and a zero-length
// array, make, send and receive like any other element.
TEST_CASE("zerosize: channels of empty structs and zero-length arrays") {
    auto check = [](auto zero) {
        using T = decltype(zero);
        auto a = gomp::make_chan<T>();
        auto b = gomp::make_chan<T>(1);
        CHECK(a.cap() == 0);
        CHECK(b.cap() == 1);
        b.send(zero);
        CHECK(b.len() == 1);
        CHECK(b.try_send(zero) == gomp::chan_status::would_block);
        CHECK(b.recv().has_value());
        b.close();
        CHECK_FALSE(b.recv().has_value());
        gomp::run(
            [&] {
                gomp::go([a, zero] { a.send(zero); });
                CHECK(a.recv().has_value());
                join_goroutines();
            },
            {.procs = 1});
    };
    check(empty{});
    check(std::array<std::byte, 0>{});
}

// test/chan/sendstmt.go: a send whose channel is itself received
// (`case <-cc <- 2:`) and a send of an expression.
TEST_CASE("sendstmt: send to a received channel inside a select; send of an expression") {
    // chanchan: the channel operand is evaluated on entering the select.
    auto cc = gomp::make_chan<gomp::chan<int>>(1);
    auto c = gomp::make_chan<int>(1);
    cc.send(c);
    CHECK(gomp::select(gomp::send(*cc.recv(), 2), gomp::otherwise([] { FAIL("nonblock"); })) == 0);
    CHECK(c.recv() == 2);

    // sendprec: c <- false || true sends true.
    auto b = gomp::make_chan<bool>(1);
    bool f = false;
    b.send(f || true);
    CHECK(b.recv() == true);
}
