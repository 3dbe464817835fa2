// gomp/detail/proc.hpp: the goroutine scheduler (Go's runtime/proc.go and
// runtime2.go), for C++ fibers.
//
// The three objects, as in Go:
//
//   G  a goroutine: saved stack pointer, its stack, status, id, wait reason.
//      It lives at the top of its own stack (see stack.hpp).
//   P  a logical processor, gomaxprocs of them. Owns a run queue (256-slot
//      ring + runnext, runq.hpp), a free-G cache and per-P statistics. Code
//      runs only on an M that holds a P.
//   M  an OS thread. It runs schedule() on its own thread stack (g0) and
//      switches into goroutines from there.
//
//      M0 (the thread in gomp::run)     M1                 sysmon (no P)
//        |  holds                        |  holds             retakes Ps of
//        P0 [runnext][ring ....]         P1 [..]              Ms stuck in
//        |        \ steal half /                              blocking calls
//        +--------- global runq (sched.lock) ------+
//
// Switching. A goroutine that parks, yields or exits picks its successor
// itself when the successor is at hand (runnext, then the local ring, then
// every 61st time the global queue), and switches to it directly: one
// context switch per hand-off, which is what keeps ping-pong fast. Only when
// the P has nothing local does it switch to g0, which runs findrunnable:
// global queue, stealing (4 rounds over the Ps in a random coprime order,
// runnext only in the last), then releasing the P and sleeping on a futex.
//
// No lost wake-ups. A goroutine is marked waiting only after the switch, by
// the context that runs next ("post-switch action", Go's park_m), which also
// releases the lock the parker held (gopark's unlockf). A waker must take
// that lock to find the goroutine, so it cannot ready it before it is off
// its stack.
//
// Spinning. At most one M spins looking for work at a time unless the work
// is plentiful (nmspinning); an M that finds work while spinning wakes the
// next (resetspinning -> wakep). Submitting work is: publish, then a
// seq_cst barrier, then check npidle/nmspinning; an M going idle is:
// publish nmspinning--, then re-check every queue. The two orders meet, so
// no submitted goroutine is left with every M asleep. Unlike Go, goready
// wakes an idle P only once three goroutines wait on its P (the readied one
// is usually the peer its readier is about to block on); sysmon wakes one
// for queued work behind a P that has not switched for a tick.
//
// Fairness without preemption. gomp cannot interrupt running C++ code, so
// Go's 10 ms time slice becomes a count: runnext may be taken at most
// runnext_slice times in a row before the ring's head gets its turn, the
// global queue is checked every 61st schedule, and a `go` that overflows the
// local ring yields (where Go's sysmon would preempt the spawner).
#pragma once

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <exception>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <numeric>
#include <ostream>
#include <pthread.h>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unistd.h>
#include <utility>
#include <vector>

#include <gomp/detail/note.hpp>
#include <gomp/detail/runq.hpp>
#include <gomp/detail/stack.hpp>
#include <gomp/detail/switch.hpp>
#include <gomp/detail/timers.hpp>
#include <gomp/panic.hpp>

#if defined(__SANITIZE_ADDRESS__)
#define GOMP_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(__SANITIZE_THREAD__)
#define GOMP_TSAN 1
extern "C" {
void* __tsan_get_current_fiber(void);
void* __tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void* fiber);
void __tsan_switch_to_fiber(void* fiber, unsigned flags);
void __tsan_set_fiber_name(void* fiber, const char* name);
}
#endif

namespace gomp {

// Settings of one gomp::run.
struct config {
    // GOMAXPROCS: Ps, i.e. goroutines running in parallel. 0: the GOMAXPROCS
    // environment variable if set, else the number of cores.
    int procs = 0;
    // Default goroutine stack size in bytes (rounded up to pages, at least
    // 64 KiB). Only touched pages cost memory. Per goroutine: go_with_stack.
    std::size_t stack_size = 256 * 1024;
    // Report "all goroutines are asleep - deadlock!" and exit 2 when nothing
    // can run and nothing can wake anything. Threads that gomp did not start
    // are invisible to the check, so it stays silent while threads created
    // during the run are alive, and for the rest of a run once such a thread
    // has woken a goroutine. A thread that existed before gomp::run and wakes
    // goroutines is the one case it cannot see: turn it off for such programs.
    bool deadlock_detection = true;
};

// Per-P counters, from runtime_stats().
struct p_stats {
    std::uint64_t spawns = 0;    // goroutines created on this P
    std::uint64_t switches = 0;  // goroutines switched in on this P
    std::uint64_t steals = 0;    // successful steals by this P
    std::uint64_t parks = 0;     // goroutines parked on this P
};

struct runtime_stats_t {
    std::vector<p_stats> per_p;
    p_stats total() const {
        p_stats t;
        for (auto& s : per_p) {
            t.spawns += s.spawns;
            t.switches += s.switches;
            t.steals += s.steals;
            t.parks += s.parks;
        }
        return t;
    }
};

}  // namespace gomp

namespace gomp::detail {

enum gstatus : std::uint32_t { g_idle, g_runnable, g_running, g_syscall, g_waiting, g_dead };
enum pstatus : std::uint32_t { p_idle, p_running, p_syscall };

struct m;
struct p;

// A counter with one writer (the M holding the P) and racy readers.
struct counter {
    std::atomic<std::uint64_t> v{0};
    void inc() { v.store(v.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
    std::uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct g {
    void* sp = nullptr;  // saved stack pointer while switched out
    stack stk{};
    stack_pool* pool = nullptr;
    std::atomic<std::uint32_t> status{g_idle};
    std::atomic<const char*> waitreason{nullptr};
    std::uint64_t goid = 0;
    void (*fn)(void*) = nullptr; // runs and destroys the callable at fn_obj
    void* fn_obj = nullptr;
    void* param = nullptr;       // set by the waker (channels: the sudog that fired)
    bool is_main = false;
    // C++ exception-handling state follows the goroutine between threads.
    void* eh_caught = nullptr;
    unsigned eh_uncaught = 0;
#if GOMP_ASAN
    void* asan_fake_stack = nullptr;
    const void* asan_bottom = nullptr;
    std::size_t asan_size = 0;
#endif
#if GOMP_TSAN
    void* tsan_fiber = nullptr;
#endif
};

enum class post_kind : std::uint8_t { none, park, yield_local, yield_global, exit, syscall_nop };

struct p {
    int id = 0;
    std::atomic<std::uint32_t> status{p_idle};
    p* link = nullptr;  // idle list
    runq<g> q;
    std::uint32_t schedtick = 0;
    std::uint32_t runnext_streak = 0;
    std::atomic<std::uint32_t> syscalltick{0};
    std::uint32_t sysmon_syscalltick = 0;  // sysmon's last view (sysmon only)
    std::int64_t sysmon_when = 0;
    std::uint64_t sysmon_switches = 0;      // sysmon's last view of `switches`
    std::int64_t sysmon_switchwhen = 0;     // when that view changed
    std::atomic<bool> preempt{false};       // Go's gp.preempt: yield at the next chance
    g* gfree[64];  // free Gs of the default stack size (gfree_local_max)
    int gfree_n = 0;
    std::uint64_t goid_next = 0, goid_end = 0;
    counter spawns, exits, switches, steals, parks;
    void* sudogcache = nullptr;  // channels: free sudogs of this P
    timers ts;                   // Go's p.timers: this P's timer heap (timers.hpp)
};

struct m {
    int id = 0;
    g g0;                 // this thread's own stack: schedule() runs here
    g* curg = nullptr;    // goroutine running on this M
    p* pp = nullptr;      // attached P
    p* nextp = nullptr;   // P handed over by startm
    p* oldp = nullptr;    // P held before a blocking call
    bool spinning = false;
    note park;
    m* schedlink = nullptr;  // idle M list
    std::uint64_t rand = 0;
    // What the context that runs next must do about the one that switched out.
    post_kind post = post_kind::none;
    g* post_g = nullptr;
    bool (*waitunlockf)(void*) = nullptr;
    void* waitlock = nullptr;
    std::thread thread;
    void* sigstack = nullptr;

    std::uint32_t fastrand() {
        // xorshift64*: per-M, no sharing.
        rand ^= rand >> 12;
        rand ^= rand << 25;
        rand ^= rand >> 27;
        return std::uint32_t((rand * 2685821657736338717ull) >> 32);
    }
};

inline constexpr std::uint32_t runnext_slice = 128;
inline constexpr int gfree_local_max = 64;

struct sched_t {
    config cfg;
    int gomaxprocs = 1;
    std::vector<std::unique_ptr<p>> allp;

    std::mutex lock;  // protects everything below up to the atomics
    // Global run queue: a growable ring of G pointers (not a list through
    // the Gs, which sit one per stack page and would miss the TLB per step).
    std::vector<g*> runq_buf = std::vector<g*>(1024);
    std::size_t runq_head = 0;  // index of the first G; size in runqsize
    std::atomic<std::int32_t> runqsize{0};
    p* pidle = nullptr;
    m* midle = nullptr;
    int nmidle = 0;
    int mcount = 0;
    std::vector<std::unique_ptr<m>> allm;

    std::atomic<std::int32_t> npidle{0};
    std::atomic<std::int32_t> nmspinning{0};
    std::atomic<std::int32_t> nmsys{0};  // Ms inside blocking()
    int threads_at_start = 0;            // threads in the process when run began
    // /proc/self/status, open for the whole run: checkdead counts threads
    // with it and must not need a new descriptor (the process may have none
    // left, and a transient one would be taken from under the program).
    int status_fd = -1;
    std::atomic<bool> exiting{false};
    std::atomic<bool> external_wakeups{false};
    std::atomic<std::uint64_t> goidgen{1};  // 1 is main's
    std::atomic<std::int64_t> external_spawns{0};  // spawned by threads without a P

    std::exception_ptr main_exception;

    stack_pool default_pool;
    std::mutex pools_lock;
    std::vector<std::unique_ptr<stack_pool>> other_pools;

    std::mutex allg_lock;
    std::vector<g*> allgs;

    std::thread sysmon;
    note sysmon_note;

    // Extensions (timers, netpoll) report pending wake-ups here so that the
    // deadlock check does not fire while something could still wake a goroutine.
    std::atomic<std::int64_t> pending_wakers{0};

    // The one idle M sleeping until the earliest timer (Go: the M blocked in
    // netpoll with sched.pollUntil), and that deadline; under lock
    // (poll_until is also read without it).
    m* timer_sleeper = nullptr;
    std::atomic<std::int64_t> poll_until{0};
#if GOMP_TSAN
    std::atomic<int> tsan_fence{0};
#endif

    // Distinguishes runs: per-run caches (sync::pool) compare it.
    std::uint64_t run_id = next_run_id();

    explicit sched_t(const config& c)
        : cfg(c), status_fd(::open("/proc/self/status", O_RDONLY | O_CLOEXEC)), default_pool(c.stack_size) {}
    ~sched_t() {
        if (status_fd >= 0) ::close(status_fd);
    }

    static std::uint64_t next_run_id() {
        static std::atomic<std::uint64_t> seq{0};
        return seq.fetch_add(1, std::memory_order_relaxed) + 1;
    }
};

inline std::atomic<sched_t*> the_sched{nullptr};
inline thread_local m* tls_m = nullptr;

// Thread-local access must not be cached across a context switch: a
// goroutine can resume on another thread. Keep it out of line.
[[gnu::noinline]] inline m* getm() noexcept {
    asm volatile("" ::: "memory");
    return tls_m;
}
[[gnu::noinline]] inline void setm(m* mp) noexcept {
    asm volatile("" ::: "memory");
    tls_m = mp;
}

inline sched_t& sched() noexcept { return *the_sched.load(std::memory_order_acquire); }

inline sched_t& sched_or_panic(const char* what) {
    sched_t* s = the_sched.load(std::memory_order_acquire);
    if (!s) throw gomp::panic(std::string("gomp: ") + what + " called outside gomp::run (no runtime is running)");
    return *s;
}

// ---------------------------------------------------------------------------
// Context switch with the C++ and sanitizer bookkeeping around it.

struct eh_globals {
    void* caught;
    unsigned int uncaught;
};

// This thread's exception-handling globals. The address is fixed for the
// thread's life; asking libstdc++ each time costs a __tls_get_addr call.
inline eh_globals* this_thread_eh() noexcept {
    static thread_local eh_globals* const eh = reinterpret_cast<eh_globals*>(abi::__cxa_get_globals());
    return eh;
}

inline void switch_to(g* from, g* to, bool from_dies = false) {
    eh_globals* eh = this_thread_eh();
    from->eh_caught = eh->caught;
    from->eh_uncaught = eh->uncaught;
    eh->caught = to->eh_caught;
    eh->uncaught = to->eh_uncaught;
#if GOMP_ASAN
    __sanitizer_start_switch_fiber(from_dies ? nullptr : &from->asan_fake_stack, to->asan_bottom, to->asan_size);
#endif
#if GOMP_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)from_dies;
    gomp_switch(&from->sp, to->sp);
#if GOMP_ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, nullptr, nullptr);
#endif
}

// ---------------------------------------------------------------------------
// Global run queue, idle P and idle M lists. Callers hold sched.lock.

inline void globrunqput(sched_t& s, g* gp) {
    auto size = std::size_t(s.runqsize.load(std::memory_order_relaxed));
    if (size == s.runq_buf.size()) {
        std::vector<g*> bigger(size * 2);
        for (std::size_t i = 0; i < size; i++) bigger[i] = s.runq_buf[(s.runq_head + i) % size];
        s.runq_buf.swap(bigger);
        s.runq_head = 0;
    }
    s.runq_buf[(s.runq_head + size) % s.runq_buf.size()] = gp;
    s.runqsize.store(std::int32_t(size + 1), std::memory_order_seq_cst);
}

inline g* globrunqpop(sched_t& s) {
    g* gp = s.runq_buf[s.runq_head];
    s.runq_head = (s.runq_head + 1) % s.runq_buf.size();
    return gp;
}

// Takes a batch from the global queue: one to return, more into pp's ring.
inline g* globrunqget(sched_t& s, p* pp, int max) {
    int size = s.runqsize.load(std::memory_order_relaxed);
    if (size == 0) return nullptr;
    int n = std::min(size, size / s.gomaxprocs + 1);
    if (max > 0 && n > max) n = max;
    if (n > int(runq_size / 2)) n = runq_size / 2;
    s.runqsize.store(size - n, std::memory_order_relaxed);
    g* gp = globrunqpop(s);
    for (n--; n > 0; n--) pp->q.put_tail(globrunqpop(s));
    return gp;
}

inline void pidleput(sched_t& s, p* pp) {
    pp->status.store(p_idle, std::memory_order_relaxed);
    pp->link = s.pidle;
    s.pidle = pp;
    s.npidle.fetch_add(1, std::memory_order_seq_cst);
}

inline p* pidleget(sched_t& s) {
    p* pp = s.pidle;
    if (pp) {
        s.pidle = pp->link;
        s.npidle.fetch_sub(1, std::memory_order_seq_cst);
    }
    return pp;
}

inline void acquirep(m* mp, p* pp) {
    mp->pp = pp;
    pp->status.store(p_running, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Waking Ms.

void mstart(m* mp);
void checkdead(sched_t& s);

// netpoll (detail/netpoll.hpp, included at the end of this file).
inline constexpr int netpoll_max = 320;  // room netpoll(delay, out) needs in out
inline bool netpoll_inited();
inline bool netpoll_any_waiters();
inline std::int64_t netpoll_deadline();
inline std::int64_t netpoll_lastpoll();
inline void netpoll_break();
inline int netpoll(std::int64_t delay, g** out);

inline void newm(sched_t& s, p* pp, bool spinning) {
    m* mp;
    {
        std::lock_guard<std::mutex> lk(s.lock);
        s.allm.push_back(std::make_unique<m>());
        mp = s.allm.back().get();
        mp->id = s.mcount++;
        mp->rand = 0x9E3779B97F4A7C15ull * std::uint64_t(mp->id + 1);
        mp->nextp = pp;
        mp->spinning = spinning;
        mp->thread = std::thread([mp] { mstart(mp); });
    }
}

// Go's startm: runs pp (or an idle P) on an idle or new M.
inline void startm(sched_t& s, p* pp, bool spinning) {
    std::unique_lock<std::mutex> lk(s.lock);
    if (!pp) {
        pp = pidleget(s);
        if (!pp) {
            if (spinning) s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
            return;
        }
    }
    m* mp = s.midle;
    if (mp) {
        s.midle = mp->schedlink;
        s.nmidle--;
        lk.unlock();
        mp->spinning = spinning;
        mp->nextp = pp;
        mp->park.wakeup();
        return;
    }
    lk.unlock();
    newm(s, pp, spinning);
}

// Go's wakep: start one spinning M if there is an idle P and nobody spins.
inline void wakep(sched_t& s) {
    if (s.nmspinning.load(std::memory_order_seq_cst) != 0) return;
    std::int32_t zero = 0;
    if (!s.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_seq_cst)) return;
    p* pp;
    {
        std::lock_guard<std::mutex> lk(s.lock);
        pp = pidleget(s);
        if (!pp) {
            s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
            return;
        }
    }
    startm(s, pp, true);
}

// After publishing work: the StoreLoad barrier, then wake an M if one idles.
inline void wake_if_idle(sched_t& s) {
#if GOMP_TSAN
    s.tsan_fence.fetch_add(0, std::memory_order_seq_cst);  // TSan does not model fences
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
    if (s.npidle.load(std::memory_order_seq_cst) > 0 && s.nmspinning.load(std::memory_order_seq_cst) == 0) wakep(s);
}

// Puts gp on pp's queue (runnext when next); on overflow moves half the
// ring and gp to the global queue. Returns false on overflow.
inline bool runqput(sched_t& s, p* pp, g* gp, bool next) {
    if (next) {
        g* old = pp->q.put_next(gp);
        if (!old) return true;
        gp = old;
    }
    if (pp->q.put_tail(gp)) return true;
    g* batch[runq_size / 2 + 1];
    for (;;) {
        std::uint32_t n = pp->q.grab_half_for_overflow(batch);
        if (n == 0) {
            if (pp->q.put_tail(gp)) return true;
            continue;
        }
        batch[n] = gp;
        std::lock_guard<std::mutex> lk(s.lock);
        for (std::uint32_t i = 0; i <= n; i++) globrunqput(s, batch[i]);
        return false;
    }
}

// goready wakes an idle P when this many goroutines wait on its P.
inline constexpr std::uint32_t goready_wake_queued = 3;

// Go's goready: gp becomes runnable and runs next on the caller's P. From a
// thread that holds no P it goes to the global queue.
inline void goready(g* gp) {
    sched_t& s = sched();
    gp->status.store(g_runnable, std::memory_order_release);
    m* mp = getm();
    if (mp && mp->pp) {
        runqput(s, mp->pp, gp, true);
        // Unlike Go, wake an idle P only once three goroutines wait here
        // (docs/proc.md). The readied one is usually the peer the running
        // goroutine is about to block on (a channel round trip; a select's
        // senders), and this P runs it as soon as that happens: waking a P
        // for it made ping-pong on two Ps twice as slow as on one, for a
        // steal that is wasted or splits the pair across threads. A spinning
        // M may still steal, and sysmon wakes an idle P for work that waits
        // while its P does not switch for a tick.
        if (s.gomaxprocs == 1 || mp->pp->q.size() < goready_wake_queued) return;
    } else {
        if (!mp) s.external_wakeups.store(true, std::memory_order_relaxed);
        std::lock_guard<std::mutex> lk(s.lock);
        globrunqput(s, gp);
    }
    wake_if_idle(s);
}

// ---------------------------------------------------------------------------
// Picking the next goroutine.

// The local part of findrunnable: safe on any stack, never blocks.
inline g* runq_pick(sched_t& s, p* pp) {
    if (pp->schedtick % 61 == 0 && s.runqsize.load(std::memory_order_relaxed) > 0) {
        std::lock_guard<std::mutex> lk(s.lock);
        if (g* gp = globrunqget(s, pp, 1)) {
            pp->schedtick++;
            return gp;
        }
    }
    if (pp->runnext_streak < runnext_slice) {
        if (g* gp = pp->q.take_next()) {
            pp->runnext_streak++;
            return gp;
        }
    }
    pp->runnext_streak = 0;
    pp->schedtick++;
    if (g* gp = pp->q.get()) return gp;
    if (g* gp = pp->q.take_next()) return gp;
    if (s.runqsize.load(std::memory_order_relaxed) > 0) {
        std::lock_guard<std::mutex> lk(s.lock);
        return globrunqget(s, pp, 0);
    }
    return nullptr;
}

inline g* steal_work(sched_t& s, m* mp) {
    p* pp = mp->pp;
    int n = s.gomaxprocs;
    for (int round = 0; round < 4; round++) {
        // Random start and a random increment coprime with n visit every P once.
        std::uint32_t pos = mp->fastrand() % std::uint32_t(n);
        std::uint32_t inc = 1;
        for (int tries = 0; tries < 8; tries++) {
            std::uint32_t c = mp->fastrand() % std::uint32_t(n) + 1;
            if (std::gcd(c, std::uint32_t(n)) == 1) {
                inc = c;
                break;
            }
        }
        for (int k = 0; k < n; k++, pos = (pos + inc) % std::uint32_t(n)) {
            p* victim = s.allp[pos].get();
            if (victim == pp) continue;
            bool running = victim->status.load(std::memory_order_relaxed) == p_running;
            if (g* gp = pp->q.steal_from(victim->q, round == 3, running)) {
                pp->steals.inc();
                return gp;
            }
        }
    }
    return nullptr;
}

inline void stopm(sched_t& s, m* mp) {
    {
        std::lock_guard<std::mutex> lk(s.lock);
        // goexit(main) wakes the idle list under this lock: an M that comes
        // later must see `exiting` here rather than sleep forever.
        if (s.exiting.load(std::memory_order_relaxed)) return;
        mp->schedlink = s.midle;
        s.midle = mp;
        s.nmidle++;
        checkdead(s);
    }
    mp->park.sleep();
    mp->park.clear();
    if (mp->nextp) {
        acquirep(mp, mp->nextp);
        mp->nextp = nullptr;
    }
}

inline bool any_work(sched_t& s) {
    if (s.runqsize.load(std::memory_order_seq_cst) > 0) return true;
    for (auto& p2 : s.allp)
        if (!p2->q.empty()) return true;
    return false;
}

// ---------------------------------------------------------------------------
// Timers in the scheduler (the heaps are in timers.hpp, the API in time.hpp).

// Whether pp has a timer that may be due now (one atomic load when none).
inline bool timers_due(p* pp) {
    std::int64_t w = pp->ts.wake_time();
    return w != 0 && w <= nanotime();
}

// The earliest deadline over every P's heap; 0: no timers.
inline std::int64_t earliest_timer(sched_t& s) {
    std::int64_t next = 0;
    for (auto& p2 : s.allp) {
        std::int64_t w = p2->ts.wake_time();
        if (w != 0 && (next == 0 || w < next)) next = w;
    }
    return next;
}

// Runs the due timers of every P but pp; returns whether any ran.
inline bool run_other_timers(sched_t& s, p* pp, std::int64_t& now) {
    bool ran = false;
    for (auto& p2 : s.allp) {
        if (p2.get() == pp) continue;
        std::int64_t w = p2->ts.wake_time();
        if (w == 0) continue;
        if (now == 0) now = nanotime();
        if (w <= now) p2->ts.check(now, false, ran);
    }
    return ran;
}

// Go's injectglist: makes the goroutines netpoll readied runnable on the
// global queue and starts an M for each idle P, up to their number.
inline void injectglist(sched_t& s, g** gs, int n) {
    if (n == 0) return;
    {
        std::lock_guard<std::mutex> lk(s.lock);
        for (int i = 0; i < n; i++) {
            gs[i]->status.store(g_runnable, std::memory_order_release);
            globrunqput(s, gs[i]);
        }
    }
    for (int i = 0; i < n && s.npidle.load(std::memory_order_seq_cst) > 0; i++) startm(s, nullptr, false);
}

// The idle path of findrunnable when timers are pending (Go: the one M that
// blocks in netpoll(until) while the other idle Ms stopm). At most one M,
// sched.timer_sleeper, sleeps on its note until the earliest deadline of
// all heaps; it is not on the idle M list, so checkdead sees it as running:
// goroutines waiting on timers are not deadlocked. Returns false when this
// M should stopm instead (no timers, or another M sleeps on them); true
// after sleeping, holding an idle P if there was one. netpoll: block in the
// poller here, with the same deadline, instead of the futex wait.
//
// With netpoll in use the sleeper blocks in the poller instead (Go's
// findRunnable: netpoll(delay)), also when no timer is pending but
// goroutines wait on I/O (poll_until is then "forever"), and its deadline
// counts the earliest I/O deadline too. The goroutines it readies go to the
// global queue.
inline bool sleep_until_next_timer(sched_t& s, m* mp) {
    std::int64_t until;
    bool poll = netpoll_inited();
    {
        std::lock_guard<std::mutex> lk(s.lock);
        if (s.exiting.load(std::memory_order_relaxed) || s.timer_sleeper) return false;
        until = earliest_timer(s);
        if (std::int64_t io = poll ? netpoll_deadline() : 0; io != 0 && (until == 0 || io < until)) until = io;
        if (until == 0 && !(poll && netpoll_any_waiters())) return false;
        s.timer_sleeper = mp;
        s.poll_until.store(until ? until : INT64_MAX, std::memory_order_seq_cst);
    }
    std::int64_t now = nanotime();
    g* ready[netpoll_max];
    int nready = 0;
    if (poll) nready = netpoll(until == 0 ? -1 : std::max<std::int64_t>(until - now, 0), ready);
    else if (until > now) mp->park.sleep_for(until - now);
    p* pp;
    {
        // Once deregistered nobody wakes this note: clearing it is safe.
        std::lock_guard<std::mutex> lk(s.lock);
        s.timer_sleeper = nullptr;
        s.poll_until.store(0, std::memory_order_seq_cst);
        pp = s.exiting.load(std::memory_order_relaxed) ? nullptr : pidleget(s);
    }
    mp->park.clear();
    if (pp) acquirep(mp, pp);
    if (!s.exiting.load(std::memory_order_acquire)) injectglist(s, ready, nready);
    return true;
}

// Go's wakeNetPoller: a timer due at `when` was added; make sure some M
// wakes for it: the timer sleeper if it would sleep past it, else a spinning
// M if a P is idle (a P that is held will see the timer when it goes idle:
// the heap's seq_cst store meets its npidle/nmspinning update). netpoll:
// break the poller here instead of the note.
inline void wake_timer_sleeper(sched_t& s, std::int64_t when) {
    std::int64_t until = s.poll_until.load(std::memory_order_seq_cst);
    if (until != 0 && until <= when) return;
    // No sleeper and no idle P: a future sleeper computes its deadline
    // after our heap store, and a running P sees the timer itself.
    if (until == 0 && s.npidle.load(std::memory_order_seq_cst) == 0) return;
    {
        std::lock_guard<std::mutex> lk(s.lock);
        if (s.timer_sleeper) {
            if (s.poll_until.load(std::memory_order_relaxed) > when) {
                s.timer_sleeper->park.wakeup();
                netpoll_break();  // it may sleep in the poller
            }
            return;
        }
    }
    if (s.npidle.load(std::memory_order_seq_cst) > 0) wakep(s);
}

// Go's findRunnable, on g0: blocks until there is work; nullptr on exit.
inline g* findrunnable(sched_t& s, m* mp) {
    for (;;) {
        if (s.exiting.load(std::memory_order_acquire)) return nullptr;
        p* pp = mp->pp;
        if (!pp) {
            stopm(s, mp);
            continue;
        }
        // Go's checkTimers: run this P's due timers; what they ready lands
        // in this P's run queue.
        std::int64_t now = 0;
        bool ran = false;
        pp->ts.check(now, true, ran);
        if (g* gp = runq_pick(s, pp)) return gp;
        // Go: poll the network, without blocking, when goroutines wait on it.
        if (netpoll_any_waiters()) {
            g* ready[netpoll_max];
            if (int n = netpoll(0, ready)) {
                injectglist(s, ready + 1, n - 1);
                ready[0]->status.store(g_runnable, std::memory_order_release);
                return ready[0];
            }
        }
        if (s.gomaxprocs > 1 &&
            (mp->spinning || 2 * s.nmspinning.load(std::memory_order_relaxed) <
                                 s.gomaxprocs - s.npidle.load(std::memory_order_relaxed))) {
            if (!mp->spinning) {
                mp->spinning = true;
                s.nmspinning.fetch_add(1, std::memory_order_seq_cst);
            }
            if (g* gp = steal_work(s, mp)) return gp;
        }
        // Go's stealWork also runs other Ps' due timers (an idle P's heap
        // has nobody else to run it).
        if (s.gomaxprocs > 1 && run_other_timers(s, pp, now)) {
            if (g* gp = runq_pick(s, pp)) return gp;
        }
        {
            std::lock_guard<std::mutex> lk(s.lock);
            if (s.exiting.load(std::memory_order_relaxed)) return nullptr;
            if (s.runqsize.load(std::memory_order_relaxed) > 0) return globrunqget(s, pp, 0);
            mp->pp = nullptr;
            pidleput(s, pp);
        }
        if (mp->spinning) {
            mp->spinning = false;
            s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
            // Work submitted while we were spinning saw nmspinning > 0 and
            // woke nobody: look once more before sleeping.
            if (any_work(s)) {
                std::unique_lock<std::mutex> lk(s.lock);
                if (p* p2 = pidleget(s)) {
                    lk.unlock();
                    acquirep(mp, p2);
                    mp->spinning = true;
                    s.nmspinning.fetch_add(1, std::memory_order_seq_cst);
                    continue;
                }
            }
        }
        if (sleep_until_next_timer(s, mp)) continue;
        stopm(s, mp);
    }
}

inline void resetspinning(sched_t& s, m* mp) {
    mp->spinning = false;
    s.nmspinning.fetch_sub(1, std::memory_order_seq_cst);
    wake_if_idle(s);
}

// ---------------------------------------------------------------------------
// Free Gs.

inline void gfput(sched_t& s, p* pp, g* gp) {
    stack_pool* pool = gp->pool;
    if (pool == &s.default_pool && pp) {
        if (pp->gfree_n < gfree_local_max) {
            pp->gfree[pp->gfree_n++] = gp;
            return;
        }
        // Local cache full: move half of it to the pool's shared list.
        std::lock_guard<spinlock> lk(pool->free_lock);
        for (int i = gfree_local_max / 2; i < gfree_local_max; i++) pool->free_gs.push_back(pp->gfree[i]);
        pp->gfree_n = gfree_local_max / 2;
        pp->gfree[pp->gfree_n++] = gp;
        pool->nfree.store(int(pool->free_gs.size()), std::memory_order_relaxed);
        return;
    }
    std::lock_guard<spinlock> lk(pool->free_lock);
    pool->free_gs.push_back(gp);
    pool->nfree.store(int(pool->free_gs.size()), std::memory_order_relaxed);
}

inline g* gfget(sched_t& s, p* pp, stack_pool* pool) {
    if (pool == &s.default_pool && pp) {
        if (pp->gfree_n == 0 && pool->nfree.load(std::memory_order_relaxed) > 0) {
            std::lock_guard<spinlock> lk(pool->free_lock);
            while (!pool->free_gs.empty() && pp->gfree_n < gfree_local_max / 2) {
                pp->gfree[pp->gfree_n++] = static_cast<g*>(pool->free_gs.back());
                pool->free_gs.pop_back();
            }
            pool->nfree.store(int(pool->free_gs.size()), std::memory_order_relaxed);
        }
        return pp->gfree_n ? pp->gfree[--pp->gfree_n] : nullptr;
    }
    std::lock_guard<spinlock> lk(pool->free_lock);
    if (pool->free_gs.empty()) return nullptr;
    g* gp = static_cast<g*>(pool->free_gs.back());
    pool->free_gs.pop_back();
    pool->nfree.store(int(pool->free_gs.size()), std::memory_order_relaxed);
    return gp;
}

// A new G at the top of a new stack from pool.
inline g* malg(sched_t& s, stack_pool* pool) {
    stack st = pool->alloc();
    auto top = reinterpret_cast<std::uintptr_t>(st.hi) - sizeof(g);
    top &= ~std::uintptr_t(63);
    g* gp = new (reinterpret_cast<void*>(top)) g();
    gp->stk = st;
    gp->pool = pool;
    std::lock_guard<std::mutex> lk(s.allg_lock);
    s.allgs.push_back(gp);
    return gp;
}

inline stack_pool* pool_for(sched_t& s, std::size_t size) {
    if (size == 0 || stack_pool::round_up(size) == s.default_pool.stack_size()) return &s.default_pool;
    std::lock_guard<std::mutex> lk(s.pools_lock);
    for (auto& pl : s.other_pools)
        if (pl->stack_size() == stack_pool::round_up(size)) return pl.get();
    s.other_pools.push_back(std::make_unique<stack_pool>(size));
    return s.other_pools.back().get();
}

// ---------------------------------------------------------------------------
// Crash reports.

inline const char* status_name(const g* gp) {
    switch (gp->status.load(std::memory_order_acquire)) {
        case g_runnable: return "runnable";
        case g_running: return "running";
        case g_syscall: return "syscall";
        case g_waiting: {
            const char* r = gp->waitreason.load(std::memory_order_relaxed);
            return r ? r : "waiting";
        }
        default: return nullptr;
    }
}

inline std::string goroutine_dump(sched_t& s) {
    std::vector<std::pair<std::uint64_t, const char*>> rows;
    {
        std::lock_guard<std::mutex> lk(s.allg_lock);
        for (g* gp : s.allgs)
            if (const char* st = status_name(gp)) rows.emplace_back(gp->goid, st);
    }
    std::sort(rows.begin(), rows.end());
    std::string out;
    for (auto& [id, st] : rows) out += "goroutine " + std::to_string(id) + " [" + st + "]:\n\n";
    return out;
}

inline void fatal_dump(int fd) {
    if (sched_t* s = the_sched.load(std::memory_order_acquire)) write_all_fd(fd, goroutine_dump(*s));
}

// Threads in the process, from /proc/self/status read afresh at offset 0
// (status_fd); -1 when a read fails. Without the file (no /proc: macOS, or
// no descriptor left when the run began) 0: the check then sees gomp's own
// threads only, and threads made during the run go unnoticed.
inline int count_threads(int status_fd) {
    if (status_fd < 0) return 0;
    char buf[4096];
    ssize_t n = ::pread(status_fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return -1;
    buf[n] = 0;
    const char* t = std::strstr(buf, "\nThreads:");
    return t ? std::atoi(t + 9) : -1;
}

// Go's checkdead, with sched.lock held by an M about to sleep.
inline void checkdead(sched_t& s) {
    if (!s.cfg.deadlock_detection || s.exiting.load(std::memory_order_relaxed)) return;
    if (s.external_wakeups.load(std::memory_order_relaxed)) return;
    // An M inside blocking() counts as running: its call will return.
    int run = s.mcount - s.nmidle;
    if (run > 0) return;
    if (s.runqsize.load(std::memory_order_relaxed) > 0) return;
    for (auto& pp : s.allp)
        if (!pp->q.empty()) return;
    if (s.pending_wakers.load(std::memory_order_relaxed) > 0) return;
    // A thread that gomp did not start (a std::thread made during the run)
    // may still wake a goroutine through a channel or a mutex: the check
    // cannot see it, so it stays silent while such threads exist.
    const int threads = count_threads(s.status_fd);
    if (threads < 0 || threads > s.threads_at_start + (s.mcount - 1) + 1 /* sysmon */) return;
    fatal("all goroutines are asleep - deadlock!");
}

[[noreturn]] inline void crash_unrecovered(g* gp, std::exception_ptr ep) {
    std::string what = "unknown C++ exception";
    try {
        std::rethrow_exception(ep);
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
    }
    std::fflush(stdout);
    write_all_fd(2, "panic: " + what + "\n\ngoroutine " + std::to_string(gp->goid) + " [running]:\n\n");
    ::_exit(2);
}

// ---------------------------------------------------------------------------
// Switching out of the running goroutine.

void finish_switch(m* mp);

// The running goroutine gp leaves the CPU; mp->post says why. Runs the next
// local goroutine directly, or g0 when there is none.
inline void switch_out(sched_t& s, m* mp, g* gp, bool dies = false) {
    if (gp->stk.kind == guard_kind::canary && *reinterpret_cast<std::uint64_t*>(gp->stk.lo) != stack_canary) {
        fatal("stack overflow\n\ngoroutine " + std::to_string(gp->goid) + " stack overflow: its " +
              std::to_string(gp->stk.size()) + "-byte stack (unguarded, canary overwritten) was exceeded");
    }
    g* next = nullptr;
    // Due timers run on g0 (findrunnable), after this goroutine's parking
    // lock is released: a timer may need that lock (a channel's).
    if (mp->pp && !s.exiting.load(std::memory_order_relaxed) && !timers_due(mp->pp)) next = runq_pick(s, mp->pp);
    if (next) {
        mp->curg = next;
        next->status.store(g_running, std::memory_order_relaxed);
        mp->pp->switches.inc();
        switch_to(gp, next, dies);
    } else {
        mp->curg = nullptr;
        switch_to(gp, &mp->g0, dies);
    }
    finish_switch(getm());
}

// Runs next (already taken from this P's queue) in place of the running
// goroutine, which goes to the tail of the local queue (yield, handoff).
inline void yield_to(m* mp, g* next) {
    g* gp = mp->curg;
    mp->post = post_kind::yield_local;
    mp->post_g = gp;
    mp->curg = next;
    next->status.store(g_running, std::memory_order_relaxed);
    mp->pp->switches.inc();
    switch_to(gp, next);
    finish_switch(getm());
}

// Go's gopark: parks the running goroutine; unlockf(lock) runs after the
// switch, and if it returns false the goroutine is readied again at once.
inline void gopark(bool (*unlockf)(void*), void* lock, const char* reason) {
    m* mp = getm();
    g* gp = mp->curg;
    gp->waitreason.store(reason, std::memory_order_relaxed);
    mp->post = post_kind::park;
    mp->post_g = gp;
    mp->waitunlockf = unlockf;
    mp->waitlock = lock;
    mp->pp->parks.inc();
    switch_out(sched(), mp, gp);
}

template <class Lock>
inline void gopark_unlock(Lock* lk, const char* reason) {
    gopark([](void* l) { static_cast<Lock*>(l)->unlock(); return true; }, lk, reason);
}

// Runs what the context that switched out asked for (Go's park_m, gosched_m,
// goexit0), now that it is off its stack.
inline void finish_switch(m* mp) {
    post_kind k = mp->post;
    if (k == post_kind::none) return;
    mp->post = post_kind::none;
    g* gp = mp->post_g;
    mp->post_g = nullptr;
    sched_t& s = sched();
    switch (k) {
        case post_kind::park: {
            gp->status.store(g_waiting, std::memory_order_release);
            auto f = mp->waitunlockf;
            void* l = mp->waitlock;
            mp->waitunlockf = nullptr;
            mp->waitlock = nullptr;
            if (f && !f(l)) goready(gp);
            break;
        }
        case post_kind::yield_local:
            gp->status.store(g_runnable, std::memory_order_release);
            runqput(s, mp->pp, gp, false);
            break;
        case post_kind::yield_global:
        case post_kind::syscall_nop: {
            gp->status.store(g_runnable, std::memory_order_release);
            {
                std::lock_guard<std::mutex> lk(s.lock);
                globrunqput(s, gp);
            }
            wake_if_idle(s);
            break;
        }
        case post_kind::exit:
#if GOMP_TSAN
            __tsan_destroy_fiber(gp->tsan_fiber);
            gp->tsan_fiber = nullptr;
#endif
            gp->status.store(g_dead, std::memory_order_release);
            if (!gp->is_main) gfput(s, mp->pp, gp);
            break;
        case post_kind::none: break;
    }
}

// ---------------------------------------------------------------------------
// Goroutine entry and exit.

inline void goexit(g* gp);

inline void gstart(void* arg) {
    g* gp = static_cast<g*>(arg);
#if GOMP_ASAN
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
    finish_switch(getm());
    try {
        gp->fn(gp->fn_obj);
    } catch (...) {
        if (!gp->is_main) crash_unrecovered(gp, std::current_exception());
        sched().main_exception = std::current_exception();
    }
    goexit(gp);
}

inline void goexit(g* gp) {
    m* mp = getm();
    sched_t& s = sched();
    if (mp->pp) mp->pp->exits.inc();
    if (gp->is_main) {
        // Go: when main returns, the program ends; other goroutines are abandoned.
        s.exiting.store(true, std::memory_order_release);
        std::lock_guard<std::mutex> lk(s.lock);
        for (m* m1 = s.midle; m1; m1 = m1->schedlink) m1->park.wakeup();
        s.midle = nullptr;
        s.nmidle = 0;
        if (s.timer_sleeper) s.timer_sleeper->park.wakeup();
        netpoll_break();
        s.sysmon_note.wakeup();
    }
    mp->post = post_kind::exit;
    mp->post_g = gp;
    switch_out(s, mp, gp, true);
    __builtin_unreachable();
}

// The callable of a goroutine: its function and arguments, decayed and
// stored on the goroutine's own stack.
template <class Tuple>
void run_closure(void* obj) {
    auto* t = static_cast<Tuple*>(obj);
    struct destroy {
        Tuple* t;
        ~destroy() { t->~Tuple(); }
    } d{t};
    std::apply([](auto&& f, auto&&... args) { std::invoke(std::move(f), std::move(args)...); }, std::move(*t));
}

// Go's newproc.
template <class F, class... Args>
g* newproc(sched_t& s, stack_pool* pool, bool is_main, F&& f, Args&&... args) {
    using Tuple = std::tuple<std::decay_t<F>, std::decay_t<Args>...>;
    static_assert(std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>,
                  "gomp::go: the function cannot be called with these arguments (they are decay-copied, as by "
                  "std::thread)");
    m* mp = getm();
    p* pp = mp ? mp->pp : nullptr;
    g* gp = gfget(s, pp, pool);
    if (!gp) gp = malg(s, pool);
    // Callable just below the G; it must leave most of the stack free.
    constexpr std::size_t need = sizeof(Tuple) + alignof(Tuple);
    if (need > gp->stk.size() / 4) {
        gfput(s, pp, gp);
        throw gomp::panic("gomp::go: the function object and arguments (" + std::to_string(sizeof(Tuple)) +
                          " bytes) do not fit in a quarter of the goroutine stack; pass large data by pointer");
    }
    auto obj_addr = (reinterpret_cast<std::uintptr_t>(gp) - sizeof(Tuple)) & ~std::uintptr_t(alignof(Tuple) - 1);
    new (reinterpret_cast<void*>(obj_addr)) Tuple(std::forward<F>(f), std::forward<Args>(args)...);
    gp->fn = &run_closure<Tuple>;
    gp->fn_obj = reinterpret_cast<void*>(obj_addr);
    gp->sp = make_context(reinterpret_cast<void*>(obj_addr & ~std::uintptr_t(15)), &gstart, gp);
    gp->is_main = is_main;
    gp->param = nullptr;
    gp->waitreason.store(nullptr, std::memory_order_relaxed);
    gp->eh_caught = nullptr;
    gp->eh_uncaught = 0;
#if GOMP_ASAN
    // A dead goroutine never returned from its last frames (goexit switches
    // away), so their redzones are still poisoned: clear them for the new one.
    __asan_unpoison_memory_region(gp->stk.usable_lo(), std::size_t(reinterpret_cast<char*>(obj_addr) - gp->stk.usable_lo()));
    gp->asan_fake_stack = nullptr;
    gp->asan_bottom = gp->stk.usable_lo();
    gp->asan_size = std::size_t(reinterpret_cast<char*>(obj_addr) - gp->stk.usable_lo());
#endif
#if GOMP_TSAN
    gp->tsan_fiber = __tsan_create_fiber(0);
#endif
    if (is_main) {
        gp->goid = 1;
    } else if (pp) {
        if (pp->goid_next == pp->goid_end) {
            pp->goid_next = s.goidgen.fetch_add(16, std::memory_order_relaxed) + 1;
            pp->goid_end = pp->goid_next + 16;
        }
        gp->goid = pp->goid_next++;
    } else {
        gp->goid = s.goidgen.fetch_add(1, std::memory_order_relaxed) + 1;
    }
    gp->status.store(g_runnable, std::memory_order_release);
    if (pp) pp->spawns.inc();
    else s.external_spawns.fetch_add(1, std::memory_order_relaxed);
    return gp;
}

// ---------------------------------------------------------------------------
// M start, the schedule loop, sysmon.

inline void install_signal_stack(m* mp);
inline void init_g0(m* mp);

inline void schedule(sched_t& s, m* mp) {
    for (;;) {
        finish_switch(mp);
        g* gp = findrunnable(s, mp);
        if (!gp) return;
        if (mp->spinning) resetspinning(s, mp);
        mp->curg = gp;
        gp->status.store(g_running, std::memory_order_relaxed);
        mp->pp->switches.inc();
        switch_to(&mp->g0, gp);
    }
}

inline void mstart(m* mp) {
    setm(mp);
    init_g0(mp);
    install_signal_stack(mp);
    sched_t& s = sched();
    if (mp->nextp) {
        acquirep(mp, mp->nextp);
        mp->nextp = nullptr;
    }
    schedule(s, mp);
#if GOMP_TSAN
    // g0's fiber is the thread's own; nothing to destroy.
#endif
    setm(nullptr);
}

inline void init_g0(m* mp) {
    mp->g0.goid = 0;
    mp->g0.status.store(g_running, std::memory_order_relaxed);
#if GOMP_ASAN
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void* addr;
        std::size_t size;
        pthread_attr_getstack(&attr, &addr, &size);
        mp->g0.asan_bottom = addr;
        mp->g0.asan_size = size;
        pthread_attr_destroy(&attr);
    }
#endif
#if GOMP_TSAN
    mp->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
}

// Go's handoffp: a P taken from a blocked M goes to a new M if there is
// work for it, else to the idle list.
inline void handoffp(sched_t& s, p* pp) {
    if (!pp->q.empty() || s.runqsize.load(std::memory_order_seq_cst) > 0) {
        startm(s, pp, false);
        return;
    }
    std::int32_t zero = 0;
    if (s.nmspinning.load() + s.npidle.load() == 0 && s.nmspinning.compare_exchange_strong(zero, 1)) {
        startm(s, pp, true);
        return;
    }
    std::unique_lock<std::mutex> lk(s.lock);
    if (s.runqsize.load(std::memory_order_relaxed) > 0) {
        lk.unlock();
        startm(s, pp, false);
        return;
    }
    pidleput(s, pp);
}

// Go's sysmon: retakes Ps from Ms stuck in blocking calls, and wakes an idle
// P for goroutines left waiting behind a goroutine that does not switch.
// Sleeps 20 us while it has work, backing off to 10 ms when idle.
inline void sysmon_loop(sched_t& s) {
    std::int64_t delay_us = 20;
    int idle = 0;
    while (!s.exiting.load(std::memory_order_acquire)) {
        if (idle == 0) delay_us = 20;
        else if (idle > 50) delay_us = std::min<std::int64_t>(delay_us * 2, 10000);
        s.sysmon_note.sleep_for(delay_us * 1000);
        s.sysmon_note.clear();
        if (s.exiting.load(std::memory_order_acquire)) break;
        std::int64_t now = nanotime();
        int retaken = 0;
        for (auto& up : s.allp) {
            p* pp = up.get();
            // Go's retake, _Prunning half: one goroutine has held this P for
            // forcePreemptNS (10 ms). gomp cannot interrupt it; it is asked
            // to yield at its next gomp::blocking return (exitsyscall).
            if (std::uint64_t sw = pp->switches.get(); sw != pp->sysmon_switches) {
                pp->sysmon_switches = sw;
                pp->sysmon_switchwhen = now;
                if (pp->preempt.load(std::memory_order_relaxed)) pp->preempt.store(false, std::memory_order_relaxed);
            } else {
                if (now - pp->sysmon_switchwhen >= 10000000) pp->preempt.store(true, std::memory_order_relaxed);
                // Goroutines readied onto this P (goready may have woken
                // nobody) wait while it has not switched for a whole tick:
                // let an idle P steal them, and keep ticking fast.
                if (pp->status.load(std::memory_order_relaxed) == p_running && !pp->q.empty()) {
                    wake_if_idle(s);
                    retaken++;
                }
            }
            if (pp->status.load(std::memory_order_acquire) != p_syscall) continue;
            std::uint32_t t = pp->syscalltick.load(std::memory_order_relaxed);
            if (pp->sysmon_syscalltick != t) {
                pp->sysmon_syscalltick = t;
                pp->sysmon_when = now;
                continue;
            }
            // Leave the P alone if it has no work, others are idle and the
            // call has been short: taking it back would only add a switch.
            if (pp->q.empty() && s.nmspinning.load() + s.npidle.load() > 0 && now - pp->sysmon_when < 10000000)
                continue;
            std::uint32_t exp = p_syscall;
            if (pp->status.compare_exchange_strong(exp, p_idle, std::memory_order_acq_rel)) {
                handoffp(s, pp);
                retaken++;
            }
        }
        // Overdue timers with nobody on them (Go's sysmon: next < now ->
        // startm): start a spinning M if a P is idle.
        std::int64_t next = earliest_timer(s);
        if (next != 0 && now - next > 1000000 && s.poll_until.load(std::memory_order_seq_cst) == 0) wakep(s);
        // Go's sysmon: poll the network if nobody has for 10 ms.
        if (netpoll_any_waiters() && s.poll_until.load(std::memory_order_seq_cst) == 0 &&
            now - netpoll_lastpoll() > 10000000) {
            g* ready[netpoll_max];
            injectglist(s, ready, netpoll(0, ready));
        }
        if (retaken) idle = 0;
        else idle++;
    }
}

// ---------------------------------------------------------------------------
// Stack overflow: a fault in the running goroutine's guard is reported as
// such; any other fault goes to whoever handled SIGSEGV/SIGBUS before us.

inline struct sigaction prev_segv, prev_bus;

inline void chain_signal(int sig, siginfo_t* info, void* ctx) {
    struct sigaction& prev = sig == SIGSEGV ? prev_segv : prev_bus;
    if (prev.sa_flags & SA_SIGINFO) {
        if (prev.sa_sigaction) {
            prev.sa_sigaction(sig, info, ctx);
            return;
        }
    } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
        prev.sa_handler(sig);
        return;
    }
    // Default action: restore it and let the faulting instruction run again.
    sigaction(sig, &prev, nullptr);
}

inline void overflow_handler(int sig, siginfo_t* info, void* ctx) {
    m* mp = tls_m;
    g* gp = mp ? mp->curg : nullptr;
    char* addr = static_cast<char*>(info->si_addr);
    if (gp && addr >= gp->stk.lo - 16 * page_size && addr < gp->stk.usable_lo()) {
        char buf[320];
        int n = std::snprintf(buf, sizeof buf,
                              "fatal error: stack overflow\n\ngoroutine %llu stack overflow: stack size %zu bytes "
                              "(guard page hit at %p); give it a larger stack with gomp::go_with_stack or "
                              "gomp::config::stack_size\n",
                              static_cast<unsigned long long>(gp->goid), gp->stk.size() - gp->stk.guard,
                              static_cast<void*>(addr));
        if (n > 0) write_all_fd(2, std::string_view(buf, std::min<std::size_t>(std::size_t(n), sizeof buf - 1)));
        ::_exit(2);
    }
    chain_signal(sig, info, ctx);
}

inline void install_signal_stack(m* mp) {
    stack_t cur;
    if (sigaltstack(nullptr, &cur) == 0 && !(cur.ss_flags & SS_DISABLE)) return;  // someone (ASan) set one
    constexpr std::size_t size = 64 * 1024;
    mp->sigstack = std::malloc(size);
    stack_t ss{};
    ss.ss_sp = mp->sigstack;
    ss.ss_size = size;
    sigaltstack(&ss, nullptr);
}

inline void remove_signal_stack(m* mp) {
    if (!mp->sigstack) return;
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    std::free(mp->sigstack);
    mp->sigstack = nullptr;
}

// Installed at every gomp::run, so that it is on top of handlers installed
// since the last run (test frameworks reinstall theirs per test); chains to
// the handler it replaced.
inline void install_overflow_handler() {
    struct sigaction sa{};
    sa.sa_sigaction = &overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGSEGV, SIGBUS}) {
        struct sigaction old{};
        sigaction(sig, &sa, &old);
        bool ours = (old.sa_flags & SA_SIGINFO) && old.sa_sigaction == &overflow_handler;
        if (!ours) (sig == SIGSEGV ? prev_segv : prev_bus) = old;
    }
}

// ---------------------------------------------------------------------------
// Blocking calls (Go's entersyscall / exitsyscall).

inline void entersyscall(sched_t& s, m* mp) {
    p* pp = mp->pp;
    mp->curg->status.store(g_syscall, std::memory_order_relaxed);
    mp->oldp = pp;
    mp->pp = nullptr;
    s.nmsys.fetch_add(1, std::memory_order_relaxed);
    pp->syscalltick.store(pp->syscalltick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    pp->status.store(p_syscall, std::memory_order_release);
}

inline void exitsyscall(sched_t& s, m* mp) {
    g* gp = mp->curg;
    p* pp = mp->oldp;
    mp->oldp = nullptr;
    std::uint32_t exp = p_syscall;
    if (pp->status.compare_exchange_strong(exp, p_running, std::memory_order_acq_rel)) {
        mp->pp = pp;
        s.nmsys.fetch_sub(1, std::memory_order_relaxed);
        gp->status.store(g_running, std::memory_order_relaxed);
        if (pp->preempt.load(std::memory_order_relaxed)) [[unlikely]] {
            // sysmon saw this goroutine hold the P for 10 ms: to the global
            // queue, as Go's gopreempt_m, so a loop of short blocking calls
            // cannot starve the goroutines queued behind it.
            pp->preempt.store(false, std::memory_order_relaxed);
            mp->post = post_kind::yield_global;
            mp->post_g = gp;
            switch_out(s, mp, gp);
        }
        return;
    }
    // sysmon gave our P away: take an idle one, or queue the goroutine and
    // let this M sleep.
    p* p2 = nullptr;
    {
        std::lock_guard<std::mutex> lk(s.lock);
        p2 = pidleget(s);
    }
    s.nmsys.fetch_sub(1, std::memory_order_relaxed);
    if (p2) {
        acquirep(mp, p2);
        gp->status.store(g_running, std::memory_order_relaxed);
        return;
    }
    mp->post = post_kind::syscall_nop;
    mp->post_g = gp;
    mp->curg = nullptr;
    switch_to(gp, &mp->g0);
    finish_switch(getm());
}

}  // namespace gomp::detail

// netpoll calls into the scheduler (gopark, goready) and the scheduler into
// netpoll: its definitions come after all of the above.
#include <gomp/detail/netpoll.hpp>
