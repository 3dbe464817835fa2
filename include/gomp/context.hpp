// gomp/context.hpp: Go's context package: cancellation, deadlines and
// request-scoped values, propagated down a tree of contexts.
//
// A context is a shared handle to a node. Nodes form a tree through their
// parent pointers (a child keeps its parent alive):
//
//     background ─┬─ with_cancel A ─┬─ with_timeout B ── with_value C
//                 │                 └─ with_cancel D
//                 └─ with_cancel E
//
// A cancelable node (with_cancel, with_deadline, with_timeout) has a done
// channel, closed when it is canceled, and registers in the children list of
// its nearest cancelable ancestor (Go's propagateCancel; a value node is
// skipped). Canceling a node (Go's cancelCtx.cancel): under its lock, set
// err and close done once, take its children; then cancel them outside the
// lock (lock order parent -> child is never needed), remove the node from
// its ancestor's list (a child's own cancel; not when the parent cancels it)
// and stop its deadline timer. In the tree above, canceling A closes A, B,
// C's and D's done (C shares B's) but not E's; canceling B leaves A and D.
//
// Differences from Go: err() is a std::error_code (empty: not done) whose
// message is Go's "context canceled" / "context deadline exceeded";
// compare it with gomp::context_errc. Value keys are strings, values
// std::any. A child that is never canceled is dropped from its parent's
// list when its last handle goes (Go keeps it until the parent is done).
// Deadlines are on the steady clock (gomp::time_point) and need a running
// gomp::run (the deadline is an after_func timer).
#pragma once

#include <any>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <gomp/chan.hpp>
#include <gomp/time.hpp>

namespace gomp {

// The errors of a done context (Go's context.Canceled, DeadlineExceeded).
enum class context_errc { canceled = 1, deadline_exceeded = 2 };

inline const std::error_category& context_category() noexcept {
    struct category : std::error_category {
        const char* name() const noexcept override { return "context"; }
        std::string message(int ev) const override {
            switch (context_errc(ev)) {
                case context_errc::canceled: return "context canceled";
                case context_errc::deadline_exceeded: return "context deadline exceeded";
            }
            return "unknown context error";
        }
    };
    static const category c;
    return c;
}

inline std::error_code make_error_code(context_errc e) noexcept { return {int(e), context_category()}; }

}  // namespace gomp

template <>
struct std::is_error_code_enum<gomp::context_errc> : std::true_type {};

namespace gomp {

namespace detail {

struct ctx_node {
    std::shared_ptr<ctx_node> parent;
    // Cancelable nodes only:
    bool cancelable = false;
    std::mutex mu;
    chan<std::monostate> done;
    std::atomic<int> err{0};  // a context_errc once done
    std::vector<std::pair<ctx_node*, std::weak_ptr<ctx_node>>> children;
    // The ancestor whose children list holds this node; changed under that
    // ancestor's lock.
    std::atomic<ctx_node*> registered_with{nullptr};
    std::optional<time_point> deadline;   // set by with_deadline (else the parent's)
    gomp::timer deadline_timer;
    // Value nodes only:
    std::string key;
    std::any value;
    bool has_value = false;

    ~ctx_node() { unregister(); }

    // Go's removeChild. The ancestor outlives this call (we hold its chain).
    void unregister() {
        ctx_node* a = registered_with.load(std::memory_order_acquire);
        if (!a) return;
        std::lock_guard<std::mutex> lk(a->mu);
        if (registered_with.load(std::memory_order_relaxed) != a) return;
        remove_child_locked(a, this);
        registered_with.store(nullptr, std::memory_order_relaxed);
    }

    static void remove_child_locked(ctx_node* a, ctx_node* child) {
        auto& ch = a->children;
        for (auto it = ch.begin(); it != ch.end(); ++it)
            if (it->first == child) {
                *it = std::move(ch.back());
                ch.pop_back();
                return;
            }
    }

    // The nearest cancelable node at or above this one (nullptr: none).
    ctx_node* cancel_node() {
        ctx_node* n = this;
        while (n && !n->cancelable) n = n->parent.get();
        return n;
    }

    // Go's cancelCtx.cancel.
    void cancel(bool remove_from_parent, context_errc e) {
        std::vector<std::pair<ctx_node*, std::weak_ptr<ctx_node>>> kids;
        {
            std::lock_guard<std::mutex> lk(mu);
            if (err.load(std::memory_order_relaxed) != 0) return;
            err.store(int(e), std::memory_order_release);
            done.close();
            kids.swap(children);
        }
        for (auto& kid : kids)
            if (auto c = kid.second.lock()) {
                {
                    std::lock_guard<std::mutex> lk(mu);
                    c->registered_with.store(nullptr, std::memory_order_relaxed);  // out of our list
                }
                c->cancel(false, e);
            }
        if (remove_from_parent) unregister();
        if (deadline_timer_armed.exchange(false, std::memory_order_acq_rel)) deadline_timer.stop();
    }
    std::atomic<bool> deadline_timer_armed{false};

    // Go's propagateCancel: ties this (cancelable) node to its ancestor.
    void propagate() {
        ctx_node* a = parent ? parent->cancel_node() : nullptr;
        if (!a) return;  // background: never canceled
        context_errc perr{};
        {
            std::lock_guard<std::mutex> lk(a->mu);
            int e = a->err.load(std::memory_order_relaxed);
            if (e == 0) {
                a->children.emplace_back(this, weak_from_this_of(this));
                registered_with.store(a, std::memory_order_release);
                return;
            }
            perr = context_errc(e);
        }
        cancel(false, perr);
    }

    // Set by make_cancel_node (shared_from_this without the base class).
    std::weak_ptr<ctx_node> self;
    static std::weak_ptr<ctx_node> weak_from_this_of(ctx_node* n) { return n->self; }
};

inline std::shared_ptr<ctx_node> make_cancel_node(std::shared_ptr<ctx_node> parent) {
    auto n = std::make_shared<ctx_node>();
    n->self = n;
    n->parent = std::move(parent);
    n->cancelable = true;
    n->done = make_chan<std::monostate>();
    return n;
}

inline const std::shared_ptr<ctx_node>& background_node() {
    static const std::shared_ptr<ctx_node> bg = std::make_shared<ctx_node>();
    return bg;
}

}  // namespace detail

class cancel_func;
struct cancel_context;

// Go's context.Context: carries a done signal, an error, an optional
// deadline and values down a call tree. Cheap to copy (a shared handle);
// safe to use from any goroutine or thread.
//
//     void worker(gomp::context ctx, gomp::chan<int> jobs) {
//         for (;;) {
//             bool stop = false;
//             gomp::select(gomp::recv(ctx.done(), [&] { stop = true; }),
//                          gomp::recv(jobs, [&](std::optional<int> j) { if (j) run(*j); else stop = true; }));
//             if (stop) return;
//         }
//     }
class context {
public:
    context() : n_(detail::background_node()) {}  // background

    // Go's ctx.Done(): closed when the context is canceled or its deadline
    // passes; a nil channel (never ready) for background.
    recv_chan<std::monostate> done() const {
        detail::ctx_node* c = n_->cancel_node();
        return c ? recv_chan<std::monostate>(c->done) : recv_chan<std::monostate>();
    }
    // Go's ctx.Err(): empty while not done, then context_errc::canceled or
    // ::deadline_exceeded ("context canceled", "context deadline exceeded").
    std::error_code err() const {
        detail::ctx_node* c = n_->cancel_node();
        int e = c ? c->err.load(std::memory_order_acquire) : 0;
        return e ? make_error_code(context_errc(e)) : std::error_code();
    }
    // Go's ctx.Deadline(): the earliest deadline on the way to the root.
    std::optional<time_point> deadline() const {
        for (detail::ctx_node* n = n_.get(); n; n = n->parent.get())
            if (n->deadline) return n->deadline;
        return std::nullopt;
    }
    // Go's ctx.Value(key): the nearest value stored under key, or nullptr.
    const std::any* value(std::string_view key) const {
        for (detail::ctx_node* n = n_.get(); n; n = n->parent.get())
            if (n->has_value && n->key == key) return &n->value;
        return nullptr;
    }

private:
    explicit context(std::shared_ptr<detail::ctx_node> n) : n_(std::move(n)) {}
    std::shared_ptr<detail::ctx_node> n_;
    friend cancel_context with_cancel(const context&);
    friend cancel_context with_deadline(const context&, time_point);
    friend context with_value(const context&, std::string, std::any);
};

// Go's context.CancelFunc: cancels its context and its descendants with
// "context canceled" and detaches it from its parent. Idempotent; callable
// from any goroutine or thread.
class cancel_func {
public:
    cancel_func() = default;
    void operator()() const {
        if (n_) n_->cancel(true, context_errc::canceled);
    }

private:
    explicit cancel_func(std::shared_ptr<detail::ctx_node> n) : n_(std::move(n)) {}
    std::shared_ptr<detail::ctx_node> n_;
    friend cancel_context with_cancel(const context&);
    friend cancel_context with_deadline(const context&, time_point);
};

// What with_cancel / with_deadline / with_timeout return: auto [ctx, cancel] = ...
struct cancel_context {
    context ctx;
    cancel_func cancel;
};

// Go's context.Background and TODO: never canceled, no deadline, no values.
inline context background() { return context(); }
inline context todo() { return context(); }

// Go's context.WithCancel.
//
//     auto [ctx, cancel] = gomp::with_cancel(gomp::background());
//     gomp::go([ctx] { ctx.done().recv(); /* canceled */ });
//     cancel();
inline cancel_context with_cancel(const context& parent) {
    auto n = detail::make_cancel_node(parent.n_);
    n->propagate();
    return {context(n), cancel_func(n)};
}

// Go's context.WithDeadline: also canceled, with "context deadline
// exceeded", at d. A parent deadline that comes first wins (the child is
// then a plain with_cancel, as in Go).
inline cancel_context with_deadline(const context& parent, time_point d) {
    if (auto pd = parent.deadline(); pd && *pd <= d) return with_cancel(parent);
    auto n = detail::make_cancel_node(parent.n_);
    n->deadline = d;
    n->propagate();
    auto left = d - gomp::now();
    if (left <= time_point::duration::zero()) {
        n->cancel(true, context_errc::deadline_exceeded);
    } else {
        std::lock_guard<std::mutex> lk(n->mu);
        if (n->err.load(std::memory_order_relaxed) == 0) {
            std::weak_ptr<detail::ctx_node> w = n;
            n->deadline_timer = after_func(left, [w] {
                if (auto c = w.lock()) c->cancel(true, context_errc::deadline_exceeded);
            });
            n->deadline_timer_armed.store(true, std::memory_order_release);
        }
    }
    return {context(n), cancel_func(n)};
}

// Go's context.WithTimeout: with_deadline(parent, now + d).
//
//     auto [ctx, cancel] = gomp::with_timeout(parent, std::chrono::milliseconds(100));
//     ctx.done().recv();
//     assert(ctx.err() == gomp::context_errc::deadline_exceeded);
template <class Rep, class Period>
cancel_context with_timeout(const context& parent, std::chrono::duration<Rep, Period> d) {
    return with_deadline(parent, gomp::now() + std::chrono::duration_cast<time_point::duration>(d));
}

// Go's context.WithValue: a child carrying key -> v (keys are strings here).
inline context with_value(const context& parent, std::string key, std::any v) {
    auto n = std::make_shared<detail::ctx_node>();
    n->parent = parent.n_;
    n->key = std::move(key);
    n->value = std::move(v);
    n->has_value = true;
    return context(n);
}

}  // namespace gomp
