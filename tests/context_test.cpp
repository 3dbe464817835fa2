// context.hpp: cancellation trees, deadlines, values, done() in select.
#include <gomp/gomp.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"

using namespace std::chrono_literals;
using gomp_test::scaled;

namespace {

bool is_done(const gomp::context& c) {
    std::optional<std::monostate> v;
    return c.done().try_recv(v) == gomp::chan_status::closed;
}

}  // namespace

TEST_CASE("background: never done, no deadline, nil done channel") {
    auto bg = gomp::background();
    CHECK_FALSE(bg.err());
    CHECK_FALSE(bg.deadline());
    CHECK_FALSE(bg.done());
    CHECK_FALSE(gomp::todo().done());
    CHECK(bg.value("x") == nullptr);
}

TEST_CASE("error messages are Go's") {
    CHECK(std::error_code(gomp::context_errc::canceled).message() == "context canceled");
    CHECK(std::error_code(gomp::context_errc::deadline_exceeded).message() == "context deadline exceeded");
}

TEST_CASE("cancellation tree: canceling a middle node cancels its subtree only") {
    //  bg - a - b - v(value) - d
    //         \    \- c
    //          \- e
    auto [a, cancel_a] = gomp::with_cancel(gomp::background());
    auto [b, cancel_b] = gomp::with_cancel(a);
    auto [c, cancel_c] = gomp::with_cancel(b);
    auto v = gomp::with_value(b, "user", std::string("gopher"));
    auto [d, cancel_d] = gomp::with_cancel(v);
    auto [e, cancel_e] = gomp::with_cancel(a);
    for (auto* x : {&a, &b, &c, &v, &d, &e}) {
        CHECK_FALSE(x->err());
        CHECK_FALSE(is_done(*x));
    }
    cancel_b();
    for (auto* x : {&b, &c, &v, &d}) {
        CHECK(x->err() == gomp::context_errc::canceled);
        CHECK(x->err().message() == "context canceled");
        CHECK(is_done(*x));
    }
    CHECK_FALSE(a.err());
    CHECK_FALSE(e.err());
    CHECK_FALSE(is_done(a));
    CHECK_FALSE(is_done(e));
    CHECK(std::any_cast<std::string>(*d.value("user")) == "gopher");
    cancel_b();  // idempotent
    cancel_a();
    CHECK(e.err() == gomp::context_errc::canceled);
    CHECK(is_done(a));
    cancel_c();
    cancel_d();
    cancel_e();
}

TEST_CASE("a child of a canceled parent starts canceled; a child's cancel leaves the parent") {
    auto [p, cancel_p] = gomp::with_cancel(gomp::background());
    auto [c1, cancel_c1] = gomp::with_cancel(p);
    cancel_c1();
    CHECK(c1.err());
    CHECK_FALSE(p.err());
    cancel_p();
    auto [c2, cancel_c2] = gomp::with_cancel(p);
    CHECK(c2.err() == gomp::context_errc::canceled);
    CHECK(is_done(c2));
    cancel_c2();
}

TEST_CASE("many children canceled and dropped: the parent's list does not keep them") {
    auto [p, cancel_p] = gomp::with_cancel(gomp::background());
    for (int i = 0; i < 1000; i++) {
        auto [c, cancel] = gomp::with_cancel(p);
        if (i % 2) cancel();  // the others are just dropped
    }
    cancel_p();
    CHECK(p.err());
}

TEST_CASE("done() wakes goroutines blocked in select; cancel from a plain thread") {
    gomp::run(
        [] {
            auto [root, cancel] = gomp::with_cancel(gomp::background());
            const int n = int(scaled(200, 50));
            auto jobs = gomp::make_chan<int>();
            std::atomic<int> stopped{0};
            gomp::wait_group wg;
            for (int i = 0; i < n; i++) {
                wg.add(1);
                auto [ctx, child_cancel] = gomp::with_cancel(root);
                gomp::go([&, ctx = ctx, child_cancel = child_cancel] {  // copies (clang < 16 cannot capture bindings)
                    for (bool stop = false; !stop;)
                        gomp::select(gomp::recv(ctx.done(), [&] { stop = true; }), gomp::recv(jobs));
                    if (ctx.err() == gomp::context_errc::canceled) stopped++;
                    child_cancel();
                    wg.done();
                });
            }
            for (int i = 0; i < 100; i++) jobs.send(i);
            std::thread([cancel = cancel] { cancel(); }).join();
            wg.wait();
            CHECK(stopped.load() == n);
        },
        {.procs = 4});
}

TEST_CASE("with_timeout: done with \"context deadline exceeded\"; cancel first gives \"context canceled\"") {
    gomp::run(
        [] {
            auto start = gomp::now();
            auto [ctx, cancel] = gomp::with_timeout(gomp::background(), 5ms);
            REQUIRE(ctx.deadline());
            CHECK(*ctx.deadline() >= start + 5ms);
            CHECK_FALSE(ctx.err());
            int which = -1;
            gomp::select(gomp::recv(ctx.done(), [&] { which = 0; }), gomp::recv(gomp::after(1h), [&] { which = 1; }));
            CHECK(which == 0);
            CHECK(gomp::now() >= *ctx.deadline());
            CHECK(ctx.err() == gomp::context_errc::deadline_exceeded);
            CHECK(ctx.err().message() == "context deadline exceeded");
            cancel();  // after the deadline: err stays deadline exceeded
            CHECK(ctx.err() == gomp::context_errc::deadline_exceeded);

            // Children of a timed-out context are done with its error.
            auto [child, cancel_child] = gomp::with_cancel(ctx);
            CHECK(child.err() == gomp::context_errc::deadline_exceeded);
            cancel_child();

            auto [c2, cancel2] = gomp::with_timeout(gomp::background(), 1h);
            cancel2();
            CHECK(c2.err() == gomp::context_errc::canceled);

            // A deadline in the past: done at once.
            auto [c3, cancel3] = gomp::with_deadline(gomp::background(), gomp::now() - 1s);
            CHECK(c3.err() == gomp::context_errc::deadline_exceeded);
            cancel3();
        },
        {.procs = 2});
}

TEST_CASE("deadlines: the parent's earlier deadline wins and cancels the subtree") {
    gomp::run([] {
        auto [p, cancel_p] = gomp::with_timeout(gomp::background(), 5ms);
        auto [c, cancel_c] = gomp::with_timeout(p, 1h);
        CHECK(c.deadline() == p.deadline());
        auto v = gomp::with_value(c, "k", 1);
        CHECK(v.deadline() == p.deadline());
        auto [sib, cancel_sib] = gomp::with_timeout(gomp::background(), 1h);
        v.done().recv();
        CHECK(c.err() == gomp::context_errc::deadline_exceeded);
        CHECK(v.err() == gomp::context_errc::deadline_exceeded);
        CHECK_FALSE(sib.err());
        cancel_c();
        cancel_p();
        cancel_sib();
    });
}

TEST_CASE("values: nearest key wins, lookups pass through cancel nodes") {
    auto a = gomp::with_value(gomp::background(), "k", 1);
    auto [b, cancel] = gomp::with_cancel(a);
    auto c = gomp::with_value(b, "k", 2);
    auto d = gomp::with_value(c, "other", 3);
    CHECK(std::any_cast<int>(*b.value("k")) == 1);
    CHECK(std::any_cast<int>(*d.value("k")) == 2);
    CHECK(d.value("missing") == nullptr);
    cancel();
}

TEST_CASE("concurrent cancels of a tree from goroutines and threads") {
    gomp::run(
        [] {
            for (int round = 0; round < int(scaled(50, 10)); round++) {
                auto [root, cancel_root] = gomp::with_cancel(gomp::background());
                std::vector<gomp::cancel_context> nodes;
                nodes.push_back(gomp::with_cancel(root));
                for (int i = 1; i < 64; i++) nodes.push_back(gomp::with_cancel(nodes[std::size_t(i / 2)].ctx));
                gomp::wait_group wg;
                for (int i = 0; i < 64; i += 8) {
                    wg.add(1);
                    gomp::go([&, i] {
                        nodes[std::size_t(i)].cancel();
                        wg.done();
                    });
                }
                std::thread t([&] { nodes[63].cancel(); });
                cancel_root();
                wg.wait();
                t.join();
                for (auto& n : nodes) CHECK(n.ctx.err() == gomp::context_errc::canceled);
            }
        },
        {.procs = 4});
}
