// gomp/detail/timers.hpp: the per-P timer heap (Go's runtime/time.go, Go
// 1.23: type timer, type timers).
//
// Every P owns a `timers`: a 4-ary min-heap of {timer*, when} entries under
// its own lock. A timer is in at most one heap (t->ts). The key stored in
// the heap entry may lag behind the timer's own `when`: changing or stopping
// a heaped timer only edits the timer (under its own lock), and the heap is
// fixed lazily, as Go does:
//
//   heap (4-ary: children of i are 4i+1 .. 4i+4)
//
//                     [0] {t3, 10}                 min_when_heap = 10
//          +---------+---------+----------+
//     [1] {t1,20} [2] {t7,35} [3] {t2,15} [4] {t9,50}
//      +--+--+--+
//    [5] [6] [7] [8]  ...
//
//   t->when == key         : clean entry
//   t->when == 0           : zombie (stopped while heaped); counted in
//                            `zombies`; removed when it reaches the top, or
//                            by adjust() once zombies > len/4
//   t->when != key, != 0   : modified; min_when_modified is lowered to the
//                            new when, so wake_time() stays a lower bound of
//                            the earliest real deadline; adjust() rewrites
//                            keys when a modified timer may be due
//
// Invariants: wake_time() (min of min_when_heap and min_when_modified,
// ignoring 0) is <= the earliest `when` of any active timer in the heap; a
// timer is heaped iff t->ts is set; lock order is ts->mu, then t->mu, then
// whatever f takes (a channel's lock, sched.lock).
//
// Running: check(now) takes the lock, fixes the top, pops every due timer
// (a periodic one is re-keyed at when + k*period, skipping missed ticks)
// and calls its f. f runs with t->mu held (so stop/reset, which take t->mu,
// see a timer either before or after it fired, never half-way), except for
// timers marked f_unlocked (a sleeping goroutine's timer lives on its stack
// and may be gone as soon as f has readied it).
//
// Ownership: a timer with a `destroy` function is reference counted; the
// heap holds one reference while the timer is heaped. The heap drops it
// only after unlocking ts->mu and t->mu (ts.dead): the drop may be the last,
// and the timer must not be touched after it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <ctime>
#include <vector>

#include <gomp/detail/note.hpp>

namespace gomp::detail {

// CLOCK_MONOTONIC in nanoseconds (the clock of std::chrono::steady_clock).
inline std::int64_t nanotime() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct timers;

struct timer {
    spinlock mu;
    std::int64_t when = 0;    // deadline (nanotime); 0: not active
    std::int64_t period = 0;  // > 0: a ticker
    timers* ts = nullptr;     // the heap holding it (Go's timerHeaped)
    bool f_unlocked = false;  // run f after releasing mu (sleep timers)
    // Channel timers: the channel (a chan<time_point>*) and Go's
    // timerchandrain, which stop/reset call (Go 1.23: no stale values).
    void* chan_ptr = nullptr;
    bool (*drain)(timer* t) = nullptr;
    // Runs when the timer fires (with mu held unless f_unlocked).
    void (*f)(timer* t, std::int64_t now) = nullptr;
    // Reference counting: null for a timer owned by its creator (sleep's).
    void (*destroy)(timer* t) = nullptr;
    std::atomic<std::int32_t> refs{1};

    void retain() noexcept {
        if (destroy) refs.fetch_add(1, std::memory_order_relaxed);
    }
    // Drops a reference; the last frees the timer. Never with t->mu held.
    void unref() noexcept {
        if (destroy && refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(this);
    }
};

struct timer_when {
    timer* t;
    std::int64_t when;
};

struct timers {
    spinlock mu;
    std::vector<timer_when> heap;
    std::atomic<std::int64_t> min_when_heap{0};      // heap[0].when, 0 if empty
    std::atomic<std::int64_t> min_when_modified{0};  // lower bound of modified timers' when
    std::atomic<std::int32_t> zombies{0};
    std::atomic<std::int32_t> len{0};
    // The heap's references to drop once mu and the timers' own mu are
    // unlocked: the drop may be the last, and nothing may touch the timer
    // after it (another thread may hold the other reference).
    std::vector<timer*> dead;

    timers() = default;
    timers(const timers&) = delete;
    timers& operator=(const timers&) = delete;
    ~timers() { release_all(); }

    // At the end of a run, while abandoned goroutines' stacks (and the sleep
    // timers on them) are still mapped: the heap's references go; a timer a
    // handle still refers to is left stopped and unheaped (a later reset
    // panics: no runtime). Sleep timers (no destroy) are just forgotten.
    void release_all() {
        for (auto& tw : heap) {
            if (!tw.t->destroy) continue;
            tw.t->mu.lock();
            tw.t->ts = nullptr;
            tw.t->when = 0;  // it will never fire
            tw.t->mu.unlock();
            tw.t->unref();
        }
        heap.clear();
        zombies.store(0, std::memory_order_relaxed);
        len.store(0, std::memory_order_relaxed);
        min_when_heap.store(0, std::memory_order_relaxed);
        min_when_modified.store(0, std::memory_order_relaxed);
        free_dead();
    }

    // Earliest time at which a timer may be due; 0: no timers. Lock-free.
    std::int64_t wake_time() const noexcept {
        std::int64_t a = min_when_heap.load(std::memory_order_seq_cst);
        std::int64_t b = min_when_modified.load(std::memory_order_seq_cst);
        return a == 0 || (b != 0 && b < a) ? b : a;
    }

    void update_min_when_heap() noexcept {
        min_when_heap.store(heap.empty() ? 0 : heap[0].when, std::memory_order_seq_cst);
    }
    void update_min_when_modified(std::int64_t when) noexcept {
        std::int64_t old = min_when_modified.load(std::memory_order_relaxed);
        while ((old == 0 || when < old) &&
               !min_when_modified.compare_exchange_weak(old, when, std::memory_order_seq_cst)) {
        }
    }

    // --- the 4-ary heap (ts locked) ---
    void sift_up(std::size_t i) {
        timer_when tw = heap[i];
        while (i > 0) {
            std::size_t parent = (i - 1) / 4;
            if (tw.when >= heap[parent].when) break;
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = tw;
    }
    void sift_down(std::size_t i) {
        std::size_t n = heap.size();
        timer_when tw = heap[i];
        for (;;) {
            std::size_t c = 4 * i + 1;
            if (c >= n) break;
            std::size_t best = c;
            for (std::size_t k = c + 1; k < std::min(c + 4, n); k++)
                if (heap[k].when < heap[best].when) best = k;
            if (heap[best].when >= tw.when) break;
            heap[i] = heap[best];
            i = best;
        }
        heap[i] = tw;
    }
    void init_heap() {
        if (heap.size() <= 1) return;
        for (std::size_t i = (heap.size() - 2) / 4 + 1; i-- > 0;) sift_down(i);
    }

    // Adds t (ts and t locked, t->when > 0, t not heaped); takes a reference.
    void add_heap(timer* t) {
        t->ts = this;
        t->retain();
        heap.push_back({t, t->when});
        sift_up(heap.size() - 1);
        len.store(std::int32_t(heap.size()), std::memory_order_relaxed);
        update_min_when_heap();
    }

    // Removes heap[0] (ts and heap[0].t locked); the heap's reference goes
    // to `dead`.
    void delete_min() {
        timer* t = heap[0].t;
        t->ts = nullptr;
        heap[0] = heap.back();
        heap.pop_back();
        if (!heap.empty()) sift_down(0);
        len.store(std::int32_t(heap.size()), std::memory_order_relaxed);
        update_min_when_heap();
        drop_later(t);
    }

    // Go's updateHeap: heap[0]'s timer t is locked; fixes its entry if it is
    // a zombie or modified. Returns whether the top changed.
    bool update_heap(timer* t) {
        if (t->when == 0) {
            zombies.fetch_sub(1, std::memory_order_relaxed);
            delete_min();
            return true;
        }
        if (t->when != heap[0].when) {
            heap[0].when = t->when;
            sift_down(0);
            update_min_when_heap();
            return true;
        }
        return false;
    }

    // Go's cleanHead: drops zombies and re-keys modified timers at the top,
    // so that a new timer is compared with a real deadline.
    void clean_head() {
        while (!heap.empty()) {
            timer* t = heap[0].t;
            t->mu.lock();
            bool changed = update_heap(t);
            t->mu.unlock();
            if (!changed) return;
        }
    }

    // Go's adjust: rewrites every modified key and removes every zombie,
    // when a modified timer may be due (or force: too many zombies).
    void adjust(std::int64_t now, bool force) {
        if (!force) {
            std::int64_t first = min_when_modified.load(std::memory_order_relaxed);
            if (first == 0 || first > now) return;
        }
        // Conservative while we work: a concurrent wake_time() stays a lower bound.
        min_when_heap.store(wake_time(), std::memory_order_seq_cst);
        min_when_modified.store(0, std::memory_order_seq_cst);
        bool changed = false;
        for (std::size_t i = 0; i < heap.size(); i++) {
            timer* t = heap[i].t;
            t->mu.lock();
            if (t->when == 0) {
                t->ts = nullptr;
                zombies.fetch_sub(1, std::memory_order_relaxed);
                drop_later(t);
                t->mu.unlock();
                heap[i] = heap.back();
                heap.pop_back();
                i--;
                changed = true;
                continue;
            }
            if (t->when != heap[i].when) {
                heap[i].when = t->when;
                changed = true;
            }
            t->mu.unlock();
        }
        if (changed) init_heap();
        len.store(std::int32_t(heap.size()), std::memory_order_relaxed);
        update_min_when_heap();
    }

    // Go's run: runs heap[0] if due. Returns 0 if it ran (or changed the
    // top), else the next deadline (-1: empty). ts locked.
    std::int64_t run(std::int64_t now) {
        if (heap.empty()) return -1;
        timer_when tw = heap[0];
        if (tw.when > now) return tw.when;
        timer* t = tw.t;
        t->mu.lock();
        if (update_heap(t)) {
            t->mu.unlock();
            return 0;
        }
        if (t->period > 0) {
            // Skip missed ticks, as Go's unlockAndRun does.
            std::int64_t step;
            if (__builtin_mul_overflow(t->period, 1 + (now - t->when) / t->period, &step) ||
                __builtin_add_overflow(t->when, step, &t->when))
                t->when = INT64_MAX;
            heap[0].when = t->when;
            sift_down(0);
            update_min_when_heap();
        } else {
            t->when = 0;
            // The heap's reference is dropped below, after f.
            t->ts = nullptr;
            heap[0] = heap.back();
            heap.pop_back();
            if (!heap.empty()) sift_down(0);
            len.store(std::int32_t(heap.size()), std::memory_order_relaxed);
            update_min_when_heap();
        }
        bool one_shot = t->period == 0;
        if (t->f_unlocked) {
            auto f = t->f;
            t->mu.unlock();  // t may be gone once f has run
            f(t, now);
            return 0;
        }
        t->f(t, now);
        if (one_shot) drop_later(t);
        t->mu.unlock();
        return 0;
    }

    // A heap reference to drop after the unlocks (sleep timers, not
    // reference counted, have none).
    void drop_later(timer* t) {
        if (t->destroy) dead.push_back(t);
    }
    // Drops the references in `dead` (ts unlocked).
    void free_dead() {
        while (!dead.empty()) {
            timer* t = dead.back();
            dead.pop_back();
            t->unref();
        }
    }

    // Go's timers.check: runs every due timer. Returns the next deadline
    // (0: none) and sets ran. `local`: this is the caller's own P, which
    // also sweeps zombies when they are a quarter of the heap.
    std::int64_t check(std::int64_t& now, bool local, bool& ran) {
        std::int64_t next = wake_time();
        if (next == 0) return 0;
        if (now == 0) now = nanotime();
        bool force = local && zombies.load(std::memory_order_relaxed) > len.load(std::memory_order_relaxed) / 4;
        if (now < next && !force) return next;
        mu.lock();
        if (!heap.empty()) {
            adjust(now, false);
            for (;;) {
                std::int64_t tw = run(now);
                if (tw != 0) break;
                ran = true;
            }
            if (local && zombies.load(std::memory_order_relaxed) > std::int32_t(heap.size()) / 4) adjust(now, true);
        }
        next = wake_time();
        unlock_and_free();
        return next;
    }

    // Releases mu, then drops the references in `dead`.
    void unlock_and_free() {
        if (dead.empty()) {
            mu.unlock();
            return;
        }
        // Usually one (the zombie a new timer swept off the top): keep the
        // vector's buffer, free after unlocking.
        timer* few[8];
        if (dead.size() <= 8) {
            std::size_t n = dead.size();
            std::copy(dead.begin(), dead.end(), few);
            dead.clear();
            mu.unlock();
            for (std::size_t i = 0; i < n; i++) few[i]->unref();
            return;
        }
        std::vector<timer*> gone;
        gone.swap(dead);
        mu.unlock();
        for (timer* t : gone) t->unref();
    }
};

}  // namespace gomp::detail
