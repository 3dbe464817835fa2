// gomp/runtime.hpp: goroutines. The public face of the scheduler in
// detail/proc.hpp (Go's runtime/proc.go): run, go, yield, blocking.
//
//     #include <gomp/gomp.hpp>
//
//     int main() {
//         gomp::run([] {
//             gomp::wait_group wg;
//             for (int i = 0; i < 10; i++) {
//                 wg.add(1);
//                 gomp::go([&wg](int n) { std::printf("hello from %d\n", n); wg.done(); }, i);
//             }
//             wg.wait();
//         });
//     }
//
// How it differs from std::thread: a goroutine is a fiber with its own
// stack (256 KiB of address space by default, of which only touched pages
// cost memory), scheduled cooperatively on gomaxprocs OS threads. It gives
// up its thread only at gomp operations (channel, sync, yield, blocking, a
// spawn that finds its run queue full): a loop that never calls into gomp
// keeps its thread, since C++ code cannot be preempted as Go code can.
//
// A blocking system call or C library call made directly from a goroutine
// blocks its thread and with it the goroutines queued on its P; wrap it in
// gomp::blocking(fn) so the P is handed to another thread meanwhile.
//
// Exceptions: one that escapes a goroutine ends the process as an
// unrecovered Go panic does ("panic: <what()>", exit status 2); one that
// escapes the main goroutine is rethrown by gomp::run.
//
// When the main goroutine returns, gomp::run returns once every thread has
// reached a scheduling point; goroutines still blocked are abandoned as in
// Go: their stacks are freed without unwinding, so objects they own are not
// destroyed.
#pragma once

#include <cstdlib>
#include <ostream>
#include <thread>

#include <gomp/detail/proc.hpp>

namespace gomp {

namespace detail {

inline int resolve_procs(int procs) {
    if (procs > 0) return procs;
    if (const char* env = std::getenv("GOMAXPROCS")) {
        char* end = nullptr;
        long v = std::strtol(env, &end, 10);
        if (end != env && *end == '\0' && v > 0 && v <= 1024) return int(v);
    }
    unsigned n = std::thread::hardware_concurrency();
    return n ? int(n) : 1;
}

inline void spawn(sched_t& s, g* gp) {
    m* mp = getm();
    if (mp && mp->pp) {
        bool fit = runqput(s, mp->pp, gp, true);
        if (s.gomaxprocs > 1) wake_if_idle(s);
        // A spawner that overflows its run queue yields, as Go's sysmon would
        // preempt it: the queued goroutines run and their stacks are reused.
        if (!fit && mp->curg) {
            mp->post = post_kind::yield_global;
            mp->post_g = mp->curg;
            switch_out(s, mp, mp->curg);
        }
        return;
    }
    {
        std::lock_guard<std::mutex> lk(s.lock);
        globrunqput(s, gp);
    }
    if (!mp) s.external_wakeups.store(true, std::memory_order_relaxed);
    wake_if_idle(s);
}

}  // namespace detail

// Runs main_fn as the main goroutine (id 1) on a fresh runtime and returns
// when it returns. gomaxprocs threads run goroutines; the calling thread is
// one of them. One run at a time per process; runs may follow each other.
//
//     gomp::run([] { ... }, {.procs = 4});
template <class F>
void run(F&& main_fn, config cfg = {}) {
    using namespace detail;
    cfg.procs = resolve_procs(cfg.procs);
    auto s = std::make_unique<sched_t>(cfg);
    s->gomaxprocs = cfg.procs;
    // How each P's runnext is shared (runq.hpp).
    next_mode mode = next_mode::shared;
    if (cfg.procs == 1)
        mode = next_mode::solo;
#if !GOMP_TSAN
    else if (membarrier_register())
        mode = next_mode::asymmetric;
#endif
    for (int i = 0; i < cfg.procs; i++) {
        s->allp.push_back(std::make_unique<p>());
        s->allp.back()->id = i;
        s->allp.back()->q.mode = mode;
    }
    sched_t* expected = nullptr;
    if (!the_sched.compare_exchange_strong(expected, s.get()))
        throw gomp::panic("gomp::run: a runtime is already running (gomp::run cannot nest or run concurrently)");
    s->threads_at_start = count_threads(s->status_fd);
    fatal_dump_hook = &fatal_dump;
    install_overflow_handler();

    s->allm.push_back(std::make_unique<m>());
    m* m0 = s->allm.back().get();
    m0->rand = 0x2545F4914F6CDD1Dull;
    s->mcount = 1;
    setm(m0);
    init_g0(m0);
    install_signal_stack(m0);
    acquirep(m0, s->allp[0].get());
    for (int i = cfg.procs - 1; i >= 1; i--) pidleput(*s, s->allp[i].get());

    g* main_g = newproc(*s, &s->default_pool, true, std::forward<F>(main_fn));
    runqput(*s, m0->pp, main_g, true);
    s->sysmon = std::thread([sp = s.get()] { sysmon_loop(*sp); });

    schedule(*s, m0);

    // Teardown: every M has seen `exiting` or will at its next scheduling point.
    s->sysmon_note.wakeup();
    s->sysmon.join();
    for (;;) {
        std::thread t;
        {
            std::lock_guard<std::mutex> lk(s->lock);
            for (m* m1 = s->midle; m1; m1 = m1->schedlink) m1->park.wakeup();
            s->midle = nullptr;
            for (auto& mp : s->allm)
                if (mp->thread.joinable()) {
                    t = std::move(mp->thread);
                    break;
                }
        }
        if (!t.joinable()) break;
        t.join();
    }
    // Timers go while the stacks that sleep timers live on are still mapped.
    for (auto& pp : s->allp) pp->ts.release_all();
    remove_signal_stack(m0);
    setm(nullptr);
#if GOMP_TSAN
    for (g* gp : s->allgs)
        if (gp->tsan_fiber && gp->status.load() != g_dead) __tsan_destroy_fiber(gp->tsan_fiber);
#endif
    std::exception_ptr ep = s->main_exception;
    fatal_dump_hook = nullptr;
    the_sched.store(nullptr, std::memory_order_release);
    s.reset();
    if (ep) std::rethrow_exception(ep);
}

// Go's `go f(args...)`: starts f(args...) in a new goroutine. Arguments are
// decay-copied as by std::thread (use std::ref to share). Callable from a
// goroutine or from any thread while a run is active.
//
//     gomp::go(worker, 42);                      // go worker(42)
//     gomp::go([&] { results.push_back(f()); }); // go func() { ... }()
template <class F, class... Args>
void go(F&& f, Args&&... args) {
    auto& s = detail::sched_or_panic("go");
    detail::spawn(s, detail::newproc(s, &s.default_pool, false, std::forward<F>(f), std::forward<Args>(args)...));
}

// `go` with this goroutine's stack size in bytes (at least 64 KiB).
//
//     gomp::go_with_stack(8 << 20, [] { deep_recursion(); });   // 8 MiB
template <class F, class... Args>
void go_with_stack(std::size_t stack_size, F&& f, Args&&... args) {
    auto& s = detail::sched_or_panic("go_with_stack");
    detail::spawn(s, detail::newproc(s, detail::pool_for(s, stack_size), false, std::forward<F>(f),
                                     std::forward<Args>(args)...));
}

// Go's runtime.Gosched: lets other goroutines run; returns at once when no
// other goroutine is waiting for this P. On a thread that is not a
// goroutine, yields the thread.
//
//     while (!done.load(std::memory_order_acquire)) gomp::yield();
inline void yield() {
    using namespace detail;
    m* mp = getm();
    if (!mp || !mp->curg) {
        sched_or_panic("yield");
        std::this_thread::yield();
        return;
    }
    sched_t& s = sched();
    if (timers_due(mp->pp)) {
        // Through g0, which runs the due timers (Go's schedule: checkTimers).
        mp->post = post_kind::yield_local;
        mp->post_g = mp->curg;
        switch_out(s, mp, mp->curg);
        return;
    }
    if (g* next = runq_pick(s, mp->pp)) yield_to(mp, next);
}

// Go's runtime.GOMAXPROCS(0).
inline int gomaxprocs() { return detail::sched_or_panic("gomaxprocs").gomaxprocs; }

// Go's runtime.NumGoroutine: goroutines that exist (running, runnable or blocked).
inline int num_goroutine() {
    auto& s = detail::sched_or_panic("num_goroutine");
    std::int64_t n = s.external_spawns.load(std::memory_order_relaxed);
    for (auto& pp : s.allp) n += std::int64_t(pp->spawns.get()) - std::int64_t(pp->exits.get());
    return int(n);
}

// The running goroutine's id (main is 1); 0 on a thread that is not a goroutine.
inline std::uint64_t goroutine_id() {
    detail::sched_or_panic("goroutine_id");
    detail::m* mp = detail::getm();
    return mp && mp->curg ? mp->curg->goid : 0;
}

// Per-P counters of spawns, switches, steals and parks.
//
//     auto t = gomp::runtime_stats().total();
//     std::printf("%llu steals\n", static_cast<unsigned long long>(t.steals));
inline runtime_stats_t runtime_stats() {
    auto& s = detail::sched_or_panic("runtime_stats");
    runtime_stats_t r;
    for (auto& pp : s.allp) r.per_p.push_back({pp->spawns.get(), pp->switches.get(), pp->steals.get(), pp->parks.get()});
    return r;
}

// Writes "goroutine N [state]:" for every goroutine, as Go's crash dump does.
//
//     gomp::dump_goroutines(std::cerr);
inline void dump_goroutines(std::ostream& os) { os << detail::goroutine_dump(detail::sched_or_panic("dump_goroutines")); }

// Runs fn(), which may block its OS thread (a system call, a C library, a
// std::mutex), without stalling other goroutines: the P is handed to
// another thread if fn takes long (Go's entersyscall/exitsyscall; sysmon
// retakes the P after about 20 us). Returns fn's result.
//
//     auto n = gomp::blocking([&] { return ::read(fd, buf, sizeof buf); });
template <class F>
decltype(auto) blocking(F&& fn) {
    using namespace detail;
    m* mp = getm();
    if (!mp || !mp->curg) return std::invoke(std::forward<F>(fn));
    entersyscall(sched(), mp);
    struct exit_guard {
        ~exit_guard() { exitsyscall(sched(), getm()); }
    } guard;
    return std::invoke(std::forward<F>(fn));
}

}  // namespace gomp
