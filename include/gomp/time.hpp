// gomp/time.hpp: sleep, timers, tickers (Go's time package and
// runtime/time.go, Go 1.23 semantics).
//
// Every timer is a detail::timer in some P's 4-ary heap (detail/timers.hpp).
// The scheduler runs due timers (detail/proc.hpp: findrunnable checks its
// own P's heap, then the other Ps'; a goroutine switch goes through g0 when
// its P has a due timer), and an idle M sleeps until the earliest deadline
// (sleep_until_next_timer). What a timer does when it fires:
//
//   sleep       readies the sleeping goroutine (the timer is on its stack)
//   new_timer,  try-sends the current time into a channel of capacity 1
//   after,      (a tick that finds the buffer full is dropped, as Go's)
//   new_ticker
//   after_func  starts a goroutine running the callback
//
// Stop and reset, Go 1.23: the decision to fire and the send (or the
// goroutine's start) happen under the timer's lock, and stop/reset take
// that lock and drain the channel. So after stop() or reset() returns, no
// value from before it can be received, and stop() returns true iff it
// prevented a delivery: the timer was active, or its value was still in the
// channel unreceived (Go's "the timer channel is unbuffered-like"). For
// after_func, stop() returns true iff the callback had not been started and
// now will not be. Unlike Go 1.23, the channel's len() may briefly be 1
// while a value waits (Go reports 0), and an unreferenced, unstopped timer
// stays in its heap until it fires (Go >= 1.23 collects it): stop timers
// you no longer need, e.g. a long after() in a select loop.
//
// Durations are std::chrono durations; the clock is CLOCK_MONOTONIC
// (std::chrono::steady_clock), and channels carry its time_point.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <utility>

#include <gomp/chan.hpp>
#include <gomp/panic.hpp>
#include <gomp/runtime.hpp>

namespace gomp {

// The value a timer channel delivers: when it fired.
using time_point = std::chrono::steady_clock::time_point;

namespace detail {

// A duration in nanoseconds, saturating (Go's when(): overflow -> maxWhen).
template <class Rep, class Period>
std::int64_t duration_ns(std::chrono::duration<Rep, Period> d) {
    using ld = std::chrono::duration<long double, std::nano>;
    long double ns = std::chrono::duration_cast<ld>(d).count();
    if (ns >= 4.0e18L) return std::int64_t(4000000000000000000LL);
    if (ns <= 0) return 0;
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

// Deadline of a timer started now for ns (never 0, never overflowing).
inline std::int64_t when_after(std::int64_t ns) {
    std::int64_t now = nanotime();
    std::int64_t w;
    if (__builtin_add_overflow(now, ns, &w)) w = INT64_MAX / 2;
    return w > 0 ? w : 1;
}

inline time_point to_time_point(std::int64_t ns) {
    return time_point(std::chrono::duration_cast<time_point::duration>(std::chrono::nanoseconds(ns)));
}

// A channel timer (new_timer, after, new_ticker): buffer of one time_point.
struct chan_timer : timer {
    chan<time_point> c = make_chan<time_point>(1);

    chan_timer() {
        chan_ptr = &c;
        drain = &drain_it;
        f = &send;
        destroy = &destroy_it;
    }
    static void send(timer* t, std::int64_t now) { (void)static_cast<chan_timer*>(t)->c.try_send(to_time_point(now)); }
    static void destroy_it(timer* t) { delete static_cast<chan_timer*>(t); }
    // Go's timerchandrain: returns whether a stale value was removed.
    static bool drain_it(timer* t) {
        auto& c = *static_cast<chan<time_point>*>(t->chan_ptr);
        std::optional<time_point> v;
        bool any = false;
        while (c.try_recv(v) == chan_status::ok) any = true;
        return any;
    }
};

// A callback timer (after_func): each firing starts a goroutine running fn.
template <class F>
struct func_timer : timer {
    F fn;
    explicit func_timer(F&& f) : fn(std::move(f)) {}

    static void fire(timer* t, std::int64_t) {
        t->retain();  // the goroutine's reference
        gomp::go([t] {
            struct unref_at_exit {
                timer* t;
                ~unref_at_exit() { t->unref(); }
            } guard{t};
            static_cast<func_timer*>(t)->fn();
        });
    }
    static void destroy_it(timer* t) { delete static_cast<func_timer*>(t); }
};

// A heap for a timer started outside a goroutine (a plain thread, or a
// goroutine inside gomp::blocking): round robin over the Ps.
inline p* timer_home(sched_t& s) {
    m* mp = getm();
    if (mp && mp->pp) return mp->pp;
    static std::atomic<std::uint32_t> rr{0};
    return s.allp[rr.fetch_add(1, std::memory_order_relaxed) % s.allp.size()].get();
}

// Go's timer.maybeAdd: puts an active, unheaped t into the caller's P's heap.
inline void timer_maybe_add(timer* t) {
    sched_t& s = sched_or_panic("timer");
    timers& ts = timer_home(s)->ts;
    ts.mu.lock();
    ts.clean_head();
    t->mu.lock();
    std::int64_t when = 0;
    bool wake = false;
    if (!t->ts && t->when > 0) {
        when = t->when;
        std::int64_t w = ts.wake_time();
        wake = w == 0 || when < w;
        ts.add_heap(t);
    }
    t->mu.unlock();
    ts.unlock_and_free();
    if (wake) wake_timer_sleeper(s, when);
}

// Go's timer.modify: (re)arms t for `when` (and period); returns whether
// it was pending (active, or its value still unreceived in its channel).
inline bool timer_modify(timer* t, std::int64_t when, std::int64_t period) {
    t->mu.lock();
    t->period = period;
    bool pending = t->when > 0;
    bool wake = false;
    t->when = when;
    timers* ts = t->ts;
    if (ts) {
        if (!pending) ts->zombies.fetch_sub(1, std::memory_order_relaxed);  // a zombie revived
        std::int64_t min = ts->min_when_modified.load(std::memory_order_relaxed);
        if (min == 0 || when < min) {
            wake = true;
            ts->update_min_when_modified(when);
        }
    }
    if (t->drain && t->drain(t)) pending = true;
    t->mu.unlock();
    if (!ts) timer_maybe_add(t);
    if (wake) wake_timer_sleeper(sched(), when);
    return pending;
}

// Arms a timer nobody else can see yet: no lock, straight to a heap.
inline void timer_start(timer* t, std::int64_t when, std::int64_t period) {
    t->when = when;
    t->period = period;
    timer_maybe_add(t);
}

// Go's timer.stop.
inline bool timer_stop(timer* t) {
    t->mu.lock();
    bool pending = t->when > 0;
    if (pending && t->ts) t->ts->zombies.fetch_add(1, std::memory_order_relaxed);
    t->when = 0;
    if (t->drain && t->drain(t)) pending = true;
    t->mu.unlock();
    return pending;
}

// A sleeping goroutine's timer, on its stack (Go's gp.timer, goroutineReady).
// Unlike Go's goroutineReady (runnext), the sleeper joins the tail of the
// local run queue: sleepers whose timers are due in the same check resume
// in deadline order (timers run on g0, which always holds a P).
struct sleep_timer : timer {
    g* gp = nullptr;
    std::int64_t deadline = 0;
    static void ready(timer* t, std::int64_t) {
        g* gp = static_cast<sleep_timer*>(t)->gp;
        m* mp = getm();
        if (!mp || !mp->pp) {
            goready(gp);
            return;
        }
        sched_t& s = sched();
        gp->status.store(g_runnable, std::memory_order_release);
        runqput(s, mp->pp, gp, false);
        wake_if_idle(s);
    }
};

inline void sleep_ns(std::int64_t ns) {
    m* mp = getm();
    if (!mp || !mp->curg || !mp->pp) {
        if (ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
        return;
    }
    if (ns <= 0) return;  // Go's Sleep(d <= 0) returns at once
    sleep_timer t;
    t.gp = mp->curg;
    t.f = &sleep_timer::ready;
    t.f_unlocked = true;
    t.deadline = when_after(ns);
    // Armed after the switch (Go's resetForSleep): it cannot fire before
    // this goroutine is off its stack.
    gopark(
        [](void* a) {
            auto* st = static_cast<sleep_timer*>(a);
            timer_start(st, st->deadline, 0);
            return true;
        },
        &t, "sleep");
}

// The shared part of timer and ticker: a counted reference to a timer.
class timer_ref {
public:
    timer_ref() noexcept = default;
    timer_ref(const timer_ref& o) noexcept : t_(o.t_) {
        if (t_) t_->retain();
    }
    timer_ref(timer_ref&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
    timer_ref& operator=(timer_ref o) noexcept {
        std::swap(t_, o.t_);
        return *this;
    }
    ~timer_ref() {
        if (t_) t_->unref();
    }

protected:
    explicit timer_ref(timer* t) noexcept : t_(t) {}
    timer* t_ = nullptr;
};

}  // namespace detail

// Go's time.Sleep: pauses the calling goroutine for at least d (other
// goroutines run meanwhile). On a thread that is not a goroutine, or inside
// gomp::blocking, it sleeps the thread. d <= 0 returns at once.
//
//     gomp::sleep(std::chrono::milliseconds(10));
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
    detail::sleep_ns(detail::duration_ns(d));
}

class timer;
template <class Rep, class Period>
timer new_timer(std::chrono::duration<Rep, Period> d);
template <class Rep, class Period, class F>
timer after_func(std::chrono::duration<Rep, Period> d, F f);

// Go's *time.Timer: a single event, either a value on c() (new_timer) or a
// callback run in its own goroutine (after_func). Copies refer to the same
// timer; dropping every handle does not stop it. Needs a running gomp::run.
//
//     auto t = gomp::new_timer(std::chrono::seconds(1));
//     gomp::select(gomp::recv(t.c(), [] { puts("timeout"); }),
//                  gomp::recv(results, [](std::optional<int> r) { use(r); }));
//     t.stop();   // true if it had not fired (or its value was not received)
class timer : public detail::timer_ref {
public:
    timer() noexcept = default;  // no timer: stop/reset panic, as on Go's zero Timer

    // Go's t.C: the channel the fire time is sent on (nil for after_func).
    recv_chan<time_point> c() const {
        if (!t_ || !t_->chan_ptr) return {};
        return *static_cast<chan<time_point>*>(t_->chan_ptr);
    }

    // Go's Timer.Stop: prevents the timer from firing. Returns true if that
    // stopped it, false if it had already fired (and its value was
    // received) or been stopped. No value from before stop() is received
    // after it. It does not wait for a started after_func callback.
    bool stop() {
        if (!t_) throw gomp::panic("time: Stop called on uninitialized Timer");
        return detail::timer_stop(t_);
    }

    // Go's Timer.Reset: (re)arms the timer for d from now; returns what
    // stop() would have. No value from before reset() is received after it.
    template <class Rep, class Period>
    bool reset(std::chrono::duration<Rep, Period> d) {
        if (!t_) throw gomp::panic("time: Reset called on uninitialized Timer");
        return detail::timer_modify(t_, detail::when_after(detail::duration_ns(d)), 0);
    }

private:
    using timer_ref::timer_ref;
    template <class Rep, class Period>
    friend timer new_timer(std::chrono::duration<Rep, Period> d);
    template <class Rep, class Period, class F>
    friend timer after_func(std::chrono::duration<Rep, Period> d, F f);
};

// Go's time.NewTimer: sends the current time on c() after at least d.
template <class Rep, class Period>
timer new_timer(std::chrono::duration<Rep, Period> d) {
    detail::sched_or_panic("new_timer");
    auto* t = new detail::chan_timer;
    timer h(t);
    detail::timer_start(t, detail::when_after(detail::duration_ns(d)), 0);
    return h;
}

// Go's time.AfterFunc: after at least d, runs f() in its own goroutine.
//
//     auto t = gomp::after_func(std::chrono::milliseconds(50), [&] { expired.close(); });
//     if (t.stop()) { /* f will not run */ }
template <class Rep, class Period, class F>
timer after_func(std::chrono::duration<Rep, Period> d, F f) {
    detail::sched_or_panic("after_func");
    auto* t = new detail::func_timer<F>(std::move(f));
    t->f = &detail::func_timer<F>::fire;
    t->destroy = &detail::func_timer<F>::destroy_it;
    timer h(t);
    detail::timer_start(t, detail::when_after(detail::duration_ns(d)), 0);
    return h;
}

// Go's time.After: new_timer(d).c(). A select timeout:
//
//     gomp::select(gomp::recv(jobs, handle), gomp::recv(gomp::after(100ms), [] { timed_out(); }));
//
// The timer is not stopped when the select takes another case: it stays in
// its heap until d passes (use new_timer and stop() in hot loops).
template <class Rep, class Period>
recv_chan<time_point> after(std::chrono::duration<Rep, Period> d) {
    return new_timer(d).c();
}

class ticker;
template <class Rep, class Period>
ticker new_ticker(std::chrono::duration<Rep, Period> d);

// Go's *time.Ticker: sends the time on c() every period d; a tick that
// finds the previous one unreceived is dropped (slow receivers skip ticks).
//
//     auto tk = gomp::new_ticker(std::chrono::milliseconds(10));
//     for (int i = 0; i < 3; i++) tk.c().recv();
//     tk.stop();
class ticker : public detail::timer_ref {
public:
    ticker() noexcept = default;

    recv_chan<time_point> c() const {
        if (!t_) return {};
        return *static_cast<chan<time_point>*>(t_->chan_ptr);
    }
    // Go's Ticker.Stop: no more ticks; an unreceived tick is discarded.
    void stop() {
        if (t_) detail::timer_stop(t_);
    }
    // Go's Ticker.Reset: stops it and restarts it with period d.
    template <class Rep, class Period>
    void reset(std::chrono::duration<Rep, Period> d) {
        std::int64_t ns = detail::duration_ns(d);
        if (ns <= 0) throw gomp::panic("non-positive interval for Ticker.Reset");
        if (!t_) throw gomp::panic("time: Reset called on uninitialized Ticker");
        detail::timer_modify(t_, detail::when_after(ns), ns);
    }

private:
    using timer_ref::timer_ref;
    template <class Rep, class Period>
    friend ticker new_ticker(std::chrono::duration<Rep, Period> d);
};

// Go's time.NewTicker: panics "non-positive interval for NewTicker" if d <= 0.
template <class Rep, class Period>
ticker new_ticker(std::chrono::duration<Rep, Period> d) {
    std::int64_t ns = detail::duration_ns(d);
    if (ns <= 0) throw gomp::panic("non-positive interval for NewTicker");
    detail::sched_or_panic("new_ticker");
    auto* t = new detail::chan_timer;
    ticker h(t);
    detail::timer_start(t, detail::when_after(ns), ns);
    return h;
}

// The current time on the timers' clock (Go's time.Now, monotonic part).
inline time_point now() { return detail::to_time_point(detail::nanotime()); }

}  // namespace gomp
