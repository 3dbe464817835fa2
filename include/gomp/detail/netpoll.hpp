// gomp/detail/netpoll.hpp: the network poller inside the scheduler (Go's
// runtime/netpoll.go and netpoll_epoll.go), on gomp::poller in edge mode.
//
// One poller for the process. Every fd is registered once, edge-triggered,
// for EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, with a poll_desc (Go's pollDesc)
// as its data: the fd is never re-armed, because an edge only matters to a
// goroutine that found EAGAIN, and that goroutine is parked on the pd.
//
// poll_desc. rg and wg are the read and write semaphores, each one of
//
//     pd_nil    nobody waits, no readiness noted
//     pd_ready  readiness noted (an edge came while nobody waited)
//     pd_wait   a goroutine is about to park (between the CAS and the switch)
//     G*        that goroutine, parked
//
//     waiter:  nil --CAS--> wait --(gopark; commit CAS)--> G ...   --> nil
//                |ready --CAS--> nil: go on without parking       (woken)
//     poller:  nil -> ready;  wait -> ready (commit fails: no park);
//              G -> ready and goready(G)  (netpollunblock, ioready)
//     close/deadline: wait|G -> nil (+ goready), ready stays (ioready=false)
//
// A goroutine parks only after the switch (gopark's commit CAS wait -> G),
// so an edge that arrives at any point either finds G or makes the commit
// fail: no lost wake-up. At most one reader and one writer wait per fd (the
// net layer serializes them, as internal/poll's fdMutex does).
//
// Reuse. pds are never freed (a late event may still point at one); a
// freed pd goes to a free list and its fdseq is bumped. The poller's data
// word carries the pointer and fdseq's low 16 bits, and an event whose tag
// differs from the pd's fdseq is for an fd that was closed: dropped.
//
// Deadlines. rd/wd: 0 none, > 0 a nanotime, -1 passed. Kept here rather
// than on the timer heaps: a min-heap of {when, pd, seq} under np.lock; an
// entry is stale once the pd's rseq/wseq moved on. netpoll() expires due
// entries (deadline passed: waiter woken with ioready=false, so it sees the
// timeout) and the idle M blocking in netpoll sleeps at most until the
// earliest entry; setting an earlier deadline breaks that sleep.
//
// Waking the poller. poller::wake() writes an eventfd, collapsing repeats
// (Go's netpollWakeSig); only a blocking poll consumes it.
//
// Runs. The poller outlives gomp::run. Goroutines abandoned when a run ends
// leave their G pointers in rg/wg: the first netpoll entry of the next run
// (run_id changed) clears them, so no stale G is ever readied.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <system_error>
#include <vector>

#include <gomp/detail/proc.hpp>
#include <gomp/poller.hpp>

namespace gomp::detail {

inline constexpr std::uintptr_t pd_nil = 0, pd_ready = 1, pd_wait = 2;

// Go's pollNoError, pollErrClosing, pollErrTimeout.
enum class poll_err { none, closing, timeout };

struct alignas(64) poll_desc {
    spinlock lock;  // closing, deadlines and their seqs
    int fd = -1;
    std::atomic<std::uint32_t> fdseq{0};
    std::atomic<std::uintptr_t> rg{pd_nil}, wg{pd_nil};
    std::atomic<bool> closing{false};
    std::atomic<std::int64_t> rd{0}, wd{0};
    std::atomic<std::uint32_t> rseq{0}, wseq{0};  // bumped when a deadline changes (under lock)
    poll_desc* link = nullptr;         // free list

    std::atomic<std::uintptr_t>& sema(bool write) { return write ? wg : rg; }
    std::atomic<std::int64_t>& deadline(bool write) { return write ? wd : rd; }
    std::atomic<std::uint32_t>& seq(bool write) { return write ? wseq : rseq; }
};

struct netpoll_t {
    poller pl{trigger::edge};
    std::mutex lock;  // pollcache, deadline heap, run_id
    std::vector<std::unique_ptr<poll_desc>> all;
    poll_desc* free = nullptr;
    struct deadline_entry {
        std::int64_t when;
        poll_desc* pd;
        std::uint32_t seq;
        bool write;
    };
    std::vector<deadline_entry> heap;       // min-heap on when
    std::size_t heap_compacted = 0;         // its size after the last compaction
    std::atomic<std::int64_t> heap_min{0};  // heap.front().when, 0 when empty
    std::atomic<std::int32_t> waiters{0};   // Go's netpollWaiters: parked Gs
    std::atomic<std::int64_t> lastpoll{0};  // nanotime of the last netpoll
    std::atomic<std::uint64_t> run_id{0};
};

inline std::atomic<netpoll_t*> netpoll_instance{nullptr};

// Created on first use, never destroyed (Go's netpollGenericInit).
inline netpoll_t& netpoll_init() {
    if (netpoll_t* np = netpoll_instance.load(std::memory_order_acquire)) return *np;
    static netpoll_t* np = new netpoll_t;
    netpoll_instance.store(np, std::memory_order_release);
    return *np;
}

inline bool netpoll_inited() { return netpoll_instance.load(std::memory_order_acquire) != nullptr; }

inline bool netpoll_any_waiters() {
    netpoll_t* np = netpoll_instance.load(std::memory_order_acquire);
    return np && np->waiters.load(std::memory_order_seq_cst) > 0;
}

// The earliest deadline a parked goroutine waits for; 0: none.
inline std::int64_t netpoll_deadline() {
    netpoll_t* np = netpoll_instance.load(std::memory_order_acquire);
    if (!np || np->waiters.load(std::memory_order_relaxed) == 0) return 0;
    return np->heap_min.load(std::memory_order_acquire);
}

// Go's netpollBreak: a blocking netpoll returns.
inline void netpoll_break() {
    if (netpoll_t* np = netpoll_instance.load(std::memory_order_acquire)) np->pl.wake();
}

// The previous run's parked goroutines are gone: forget them.
// Called before anything that may ready a G; between runs the id is 0.
inline void netpoll_sync_run(netpoll_t& np) {
    auto* s = the_sched.load(std::memory_order_acquire);
    std::uint64_t id = s ? s->run_id : 0;
    if (np.run_id.load(std::memory_order_acquire) == id) return;
    std::lock_guard<std::mutex> lk(np.lock);
    if (np.run_id.load(std::memory_order_relaxed) == id) return;
    for (auto& pd : np.all)
        for (bool w : {false, true}) {
            std::uintptr_t v = pd->sema(w).load(std::memory_order_relaxed);
            if (v != pd_nil && v != pd_ready) pd->sema(w).store(pd_nil, std::memory_order_relaxed);
        }
    np.waiters.store(0, std::memory_order_seq_cst);
    np.run_id.store(id, std::memory_order_release);
}

inline constexpr int pd_tag_shift = 48;
inline std::uint64_t pd_tag(poll_desc* pd, std::uint32_t seq) {
    return std::uint64_t(reinterpret_cast<std::uintptr_t>(pd)) | (std::uint64_t(seq & 0xffff) << pd_tag_shift);
}

// Go's netpollunblock: takes the waiter off gpp; ioready notes readiness.
inline g* netpollunblock(netpoll_t& np, poll_desc* pd, bool write, bool ioready) {
    auto& gpp = pd->sema(write);
    for (;;) {
        std::uintptr_t old = gpp.load(std::memory_order_acquire);
        if (old == pd_ready) return nullptr;
        if (old == pd_nil && !ioready) return nullptr;
        std::uintptr_t nv = ioready ? pd_ready : pd_nil;
        if (gpp.compare_exchange_weak(old, nv, std::memory_order_acq_rel)) {
            if (old == pd_nil || old == pd_wait) return nullptr;
            np.waiters.fetch_sub(1, std::memory_order_seq_cst);
            return reinterpret_cast<g*>(old);
        }
    }
}

// Go's netpollcheckerr. A deadline passed but not yet expired by netpoll
// counts as passed.
inline poll_err netpollcheckerr(poll_desc* pd, bool write) {
    if (pd->closing.load(std::memory_order_acquire)) return poll_err::closing;
    std::int64_t d = pd->deadline(write).load(std::memory_order_acquire);
    if (d < 0 || (d > 0 && d <= nanotime())) return poll_err::timeout;
    return poll_err::none;
}

// Takes the due deadlines off the heap and wakes their waiters into out.
inline int netpoll_expire(netpoll_t& np, std::int64_t now, g** out, int max) {
    if (max <= 0) return 0;
    std::int64_t first = np.heap_min.load(std::memory_order_acquire);
    if (first == 0 || first > now) return 0;
    netpoll_t::deadline_entry due[64];
    int ndue = 0;
    {
        auto later = [](const auto& a, const auto& b) { return a.when > b.when; };
        std::lock_guard<std::mutex> lk(np.lock);
        while (!np.heap.empty() && np.heap.front().when <= now && ndue < std::min(max, 64)) {
            std::pop_heap(np.heap.begin(), np.heap.end(), later);
            due[ndue++] = np.heap.back();
            np.heap.pop_back();
        }
        np.heap_min.store(np.heap.empty() ? 0 : np.heap.front().when, std::memory_order_release);
    }
    int n = 0;
    for (int i = 0; i < ndue; i++) {
        poll_desc* pd = due[i].pd;
        bool w = due[i].write;
        g* gp = nullptr;
        {
            std::lock_guard<spinlock> lk(pd->lock);
            if (pd->seq(w).load(std::memory_order_relaxed) != due[i].seq || pd->deadline(w).load(std::memory_order_relaxed) <= 0)
                continue;  // the deadline was changed or cleared since
            pd->deadline(w).store(-1, std::memory_order_release);
            gp = netpollunblock(np, pd, w, false);
        }
        if (gp) out[n++] = gp;
    }
    return n;
}

// netpoll_max (proc.hpp) is the largest batch netpoll returns: two Gs per
// event plus deadlines.
static_assert(netpoll_max >= 2 * poller::batch + 64, "netpoll_max too small for a poller batch");

inline std::int64_t netpoll_lastpoll() {
    netpoll_t* np = netpoll_instance.load(std::memory_order_acquire);
    return np ? np->lastpoll.load(std::memory_order_relaxed) : 0;
}

// Go's netpoll(delay): polls the kernel (delay < 0: block until an event or
// netpoll_break; 0: do not block; > 0: at most delay ns, and never past the
// earliest deadline), expires due deadlines, and stores the goroutines made
// ready in out (room for netpoll_max). They are still g_waiting: the caller
// makes them runnable.
inline int netpoll(std::int64_t delay, g** out) {
    netpoll_t* np = netpoll_instance.load(std::memory_order_acquire);
    if (!np) return 0;
    netpoll_sync_run(*np);
    if (delay != 0) {
        if (std::int64_t d = netpoll_deadline()) {
            std::int64_t left = std::max<std::int64_t>(d - nanotime(), 0);
            if (delay < 0 || left < delay) delay = left;
        }
    }
    int n = 0;
    np->pl.wait_each(delay, [&](const poll_event& ev) {
        auto* pd = reinterpret_cast<poll_desc*>(std::uintptr_t(ev.data & ((std::uint64_t(1) << pd_tag_shift) - 1)));
        std::uint32_t tag = std::uint32_t(ev.data >> pd_tag_shift);
        if ((pd->fdseq.load(std::memory_order_acquire) & 0xffff) != tag) return;  // a closed fd's late event
        if (ev.readable)
            if (g* gp = netpollunblock(*np, pd, false, true)) out[n++] = gp;
        if (ev.writable)
            if (g* gp = netpollunblock(*np, pd, true, true)) out[n++] = gp;
    });
    std::int64_t now = nanotime();
    n += netpoll_expire(*np, now, out + n, netpoll_max - n);
    np->lastpoll.store(now, std::memory_order_relaxed);
    return n;
}

// ---------------------------------------------------------------------------
// The goroutine side (Go's poll_runtime_* functions, used by net.hpp).

// Go's poll_runtime_pollOpen: registers fd; throws std::system_error.
inline poll_desc* netpoll_open(int fd) {
    bool first = !netpoll_inited();
    netpoll_t& np = netpoll_init();
    netpoll_sync_run(np);
    poll_desc* pd;
    {
        std::lock_guard<std::mutex> lk(np.lock);
        if (np.free) {
            pd = np.free;
            np.free = pd->link;
        } else {
            np.all.push_back(std::make_unique<poll_desc>());
            pd = np.all.back().get();
        }
    }
    std::uint32_t seq;
    {
        std::lock_guard<spinlock> lk(pd->lock);
        pd->fd = fd;
        if (pd->fdseq.load(std::memory_order_relaxed) == 0) pd->fdseq.store(1, std::memory_order_relaxed);
        seq = pd->fdseq.load(std::memory_order_relaxed);
        pd->closing.store(false, std::memory_order_relaxed);
        pd->rseq.fetch_add(1, std::memory_order_relaxed);
        pd->wseq.fetch_add(1, std::memory_order_relaxed);
        pd->rg.store(pd_nil, std::memory_order_relaxed);
        pd->wg.store(pd_nil, std::memory_order_relaxed);
        pd->rd.store(0, std::memory_order_relaxed);
        pd->wd.store(0, std::memory_order_relaxed);
    }
    try {
        np.pl.add(fd, interest::read_write, pd_tag(pd, seq));
    } catch (...) {
        pd->closing.store(true);
        std::lock_guard<std::mutex> lk(np.lock);
        pd->link = np.free;
        np.free = pd;
        throw;
    }
    // An M sleeping on a futex until its next timer would not see this fd's
    // events: have it sleep in the poller from now on.
    if (first)
        if (sched_t* s = the_sched.load(std::memory_order_acquire)) wake_timer_sleeper(*s, 1);
    return pd;
}

// Go's poll_runtime_pollClose: after netpoll_evict, with nobody waiting.
inline void netpoll_close(poll_desc* pd) {
    netpoll_t& np = netpoll_init();
    netpoll_sync_run(np);
    if (!pd->closing.load(std::memory_order_acquire)) fatal("runtime: close polldesc w/o unblock");
    if (pd->fd < 0) fatal("runtime: close of a free polldesc");
    std::uintptr_t r = pd->rg.load(), w = pd->wg.load();
    if ((r != pd_nil && r != pd_ready) || (w != pd_nil && w != pd_ready))
        fatal("runtime: blocked write on closing polldesc");
    try {
        np.pl.remove(pd->fd);
    } catch (const std::system_error&) {
        // Already gone from the set (the fd was closed behind our back).
    }
    {
        std::lock_guard<spinlock> lk(pd->lock);
        std::uint32_t seq = (pd->fdseq.load(std::memory_order_relaxed) + 1) & 0xffff;
        pd->fdseq.store(seq ? seq : 1, std::memory_order_release);  // late events now mismatch
        pd->fd = -1;
    }
    std::lock_guard<std::mutex> lk(np.lock);
    pd->link = np.free;
    np.free = pd;
}

// Go's poll_runtime_pollUnblock: marks pd closing and wakes its waiters,
// who then see poll_err::closing.
inline void netpoll_evict(poll_desc* pd) {
    netpoll_t& np = netpoll_init();
    netpoll_sync_run(np);
    g *rg, *wg;
    {
        std::lock_guard<spinlock> lk(pd->lock);
        if (pd->closing.load(std::memory_order_relaxed)) fatal("runtime: unblock on closing polldesc");
        pd->closing.store(true, std::memory_order_release);
        pd->rseq.fetch_add(1, std::memory_order_relaxed);
        pd->wseq.fetch_add(1, std::memory_order_relaxed);
        rg = netpollunblock(np, pd, false, false);
        wg = netpollunblock(np, pd, true, false);
    }
    if (rg) goready(rg);
    if (wg) goready(wg);
}

// Go's poll_runtime_pollReset: before an operation; drops stale readiness.
inline poll_err netpoll_reset(poll_desc* pd, bool write) {
    poll_err e = netpollcheckerr(pd, write);
    if (e != poll_err::none) return e;
    if (!write) pd->rg.store(pd_nil, std::memory_order_relaxed);
    else pd->wg.store(pd_nil, std::memory_order_relaxed);
    return poll_err::none;
}

struct netpoll_commit_arg {
    std::atomic<std::uintptr_t>* gpp;
    g* gp;
    netpoll_t* np;
};

// Go's netpollblockcommit: runs after the switch; parks unless readiness
// came in between. *arg lives in the parking goroutine's frame: once gp is
// in gpp, gp may be readied, run and reuse that frame, so nothing of *arg is
// read after the CAS (the waiter count goes up first, down if no park).
inline bool netpollblockcommit(void* arg) {
    auto* a = static_cast<netpoll_commit_arg*>(arg);
    std::atomic<std::int32_t>& waiters = a->np->waiters;
    waiters.fetch_add(1, std::memory_order_seq_cst);
    std::uintptr_t exp = pd_wait;
    if (a->gpp->compare_exchange_strong(exp, reinterpret_cast<std::uintptr_t>(a->gp), std::memory_order_acq_rel))
        return true;
    waiters.fetch_sub(1, std::memory_order_seq_cst);
    return false;
}

// Go's netpollblock: true if IO is ready, false on timeout or close.
inline bool netpollblock(netpoll_t& np, poll_desc* pd, bool write) {
    auto& gpp = pd->sema(write);
    for (;;) {
        std::uintptr_t exp = pd_ready;
        if (gpp.compare_exchange_strong(exp, pd_nil, std::memory_order_acq_rel)) return true;
        exp = pd_nil;
        if (gpp.compare_exchange_strong(exp, pd_wait, std::memory_order_acq_rel)) break;
        if (exp != pd_ready && exp != pd_nil) fatal("runtime: double wait");
    }
    if (netpollcheckerr(pd, write) == poll_err::none) {
        netpoll_commit_arg a{&gpp, getm()->curg, &np};
        gopark(&netpollblockcommit, &a, "IO wait");
    }
    return gpp.exchange(pd_nil, std::memory_order_acq_rel) == pd_ready;
}

// Go's poll_runtime_pollWait: parks the running goroutine (it must hold a
// P) until pd is ready for the mode, closed or past its deadline.
inline poll_err netpoll_wait(poll_desc* pd, bool write) {
    netpoll_t& np = netpoll_init();
    netpoll_sync_run(np);
    poll_err e = netpollcheckerr(pd, write);
    if (e != poll_err::none) return e;
    while (!netpollblock(np, pd, write)) {
        e = netpollcheckerr(pd, write);
        if (e != poll_err::none) return e;
        // Woken without readiness or error: a spurious wake-up; wait again.
    }
    return poll_err::none;
}

// Go's poll_runtime_pollSetDeadline: d is a nanotime (0: none; in the past:
// passed now) for reads, writes or both. Waiters past it are woken.
inline void netpoll_set_deadline(poll_desc* pd, std::int64_t d, bool read, bool write) {
    netpoll_t& np = netpoll_init();
    netpoll_sync_run(np);
    std::int64_t now = nanotime();
    if (d > 0 && d <= now) d = -1;
    g *rg = nullptr, *wg = nullptr;
    bool earliest = false;
    {
        std::lock_guard<spinlock> lk(pd->lock);
        if (pd->closing.load(std::memory_order_relaxed)) return;
        for (bool w : {false, true}) {
            if (w ? !write : !read) continue;
            std::uint32_t seq = pd->seq(w).fetch_add(1, std::memory_order_relaxed) + 1;
            pd->deadline(w).store(d, std::memory_order_release);
            if (d > 0) {
                auto later = [](const auto& a, const auto& b) { return a.when > b.when; };
                std::lock_guard<std::mutex> lk2(np.lock);
                // A deadline reset per request leaves a stale entry each
                // time: drop them once the heap doubled since the last sweep.
                if (np.heap.size() >= 1024 && np.heap.size() >= 2 * np.heap_compacted) {
                    std::erase_if(np.heap, [](const auto& e) { return e.pd->seq(e.write).load(std::memory_order_relaxed) != e.seq; });
                    std::make_heap(np.heap.begin(), np.heap.end(), later);
                    np.heap_compacted = np.heap.size();
                }
                np.heap.push_back({d, pd, seq, w});
                std::push_heap(np.heap.begin(), np.heap.end(), later);
                earliest = np.heap.front().when == d;
                np.heap_min.store(np.heap.front().when, std::memory_order_release);
            } else if (d < 0) {
                (w ? wg : rg) = netpollunblock(np, pd, w, false);
            }
        }
    }
    if (rg) goready(rg);
    if (wg) goready(wg);
    // The M asleep in netpoll may sleep past the new deadline.
    if (earliest)
        if (sched_t* s = the_sched.load(std::memory_order_acquire)) wake_timer_sleeper(*s, d);
}

}  // namespace gomp::detail
