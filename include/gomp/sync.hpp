// gomp/sync.hpp: Go's sync package on goroutines: mutex, rw_mutex,
// wait_group, once, cond, pool.
//
// Each blocks a goroutine by parking it (the thread runs other goroutines)
// and a plain thread that is not a goroutine by sleeping on a futex, so the
// same object can be shared by both. The algorithms are Go's:
//
//  * sema (runtime/sema.go): a count plus a FIFO of waiters. release with
//    handoff gives the count straight to the first waiter and yields to it,
//    so a woken waiter cannot lose the race to a newcomer. Unlike Go, whose
//    semaphores live in a global hash table keyed by address, each gomp
//    object carries its own waiter list (a few words bigger, no table).
//
//  * mutex (sync/mutex.go): a state word {locked, woken, starving, waiter
//    count}. Normal mode lets a running goroutine barge in ahead of woken
//    waiters (throughput); a waiter that has waited over 1 ms switches the
//    mutex to starvation mode, where unlock hands ownership directly to the
//    head waiter (fairness), until the last waiter or a short wait ends it.
//
//  * rw_mutex, wait_group, once, cond: Go's RWMutex (reader count biased by
//    -max_readers while a writer waits), WaitGroup (counter and waiter count
//    in one 64-bit word), Once (fast path one atomic load) and Cond (a list
//    of waiters; signal wakes the oldest).
//
// How they differ from std: gomp::mutex is not recursive and not tied to an
// owner (as in Go, one goroutine may lock and another unlock); misuse is a
// Go fatal error or panic, not undefined behaviour ("sync: unlock of
// unlocked mutex", "sync: negative WaitGroup counter").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include <gomp/detail/proc.hpp>
#include <gomp/panic.hpp>

namespace gomp {

namespace detail {

// A goroutine or a plain thread blocked on a sync object.
struct waiter {
    g* gp = nullptr;      // the goroutine, or nullptr for a thread
    note thread_note;     // a thread sleeps here
    waiter* next = nullptr;
    bool ticket = false;  // sema handed over directly (handoff)
    bool parked = false;  // cond: the waiter went to sleep
    bool notified = false;

    waiter() {
        m* mp = getm();
        gp = mp ? mp->curg : nullptr;
    }
};

// Blocks the current goroutine or thread; lk is released once it is safe
// to be woken (after the switch, for a goroutine).
inline void block(waiter& w, spinlock& lk, const char* reason) {
    if (w.gp) {
        gopark_unlock(&lk, reason);
    } else {
        lk.unlock();
        w.thread_note.sleep();
    }
}

inline void wake(waiter* w) {
    if (w->gp) goready(w->gp);
    else w->thread_note.wakeup();
}

// Go's runtime semaphore (semacquire/semrelease), one per object.
class sema {
public:
    void acquire(bool lifo, const char* reason) {
        if (try_acquire()) return;
        waiter w;
        for (;;) {
            lock_.lock();
            nwait_.fetch_add(1, std::memory_order_seq_cst);
            if (try_acquire()) {
                nwait_.fetch_sub(1, std::memory_order_relaxed);
                lock_.unlock();
                return;
            }
            if (lifo) {
                w.next = head_;
                head_ = &w;
                if (!tail_) tail_ = &w;
            } else {
                w.next = nullptr;
                if (tail_) tail_->next = &w;
                else head_ = &w;
                tail_ = &w;
            }
            w.thread_note.clear();
            block(w, lock_, reason);
            if (w.ticket || try_acquire()) return;
        }
    }

    void release(bool handoff) {
        count_.fetch_add(1, std::memory_order_seq_cst);
        if (nwait_.load(std::memory_order_seq_cst) == 0) return;
        lock_.lock();
        if (nwait_.load(std::memory_order_relaxed) == 0) {
            lock_.unlock();
            return;
        }
        waiter* w = head_;
        if (w) {
            head_ = w->next;
            if (!head_) tail_ = nullptr;
            nwait_.fetch_sub(1, std::memory_order_relaxed);
        }
        lock_.unlock();
        if (!w) return;
        bool handed = handoff && try_acquire();
        w->ticket = handed;
        bool goroutine = w->gp != nullptr;
        wake(w);  // w may be gone from here on
        if (handed && goroutine) yield_to_readied();
    }

private:
    bool try_acquire() {
        std::uint32_t v = count_.load(std::memory_order_relaxed);
        while (v > 0)
            if (count_.compare_exchange_weak(v, v - 1, std::memory_order_acquire, std::memory_order_relaxed))
                return true;
        return false;
    }

    // Go's goyield after a handoff: the woken goroutine sits in runnext and
    // runs now; we go to the tail of the local queue.
    static void yield_to_readied() {
        m* mp = getm();
        if (!mp || !mp->curg) return;
        if (g* next = mp->pp->q.take_next()) yield_to(mp, next);
    }

    std::atomic<std::uint32_t> count_{0};
    std::atomic<std::uint32_t> nwait_{0};
    spinlock lock_;
    waiter* head_ = nullptr;
    waiter* tail_ = nullptr;
};

inline std::int64_t now_ns() { return nanotime(); }

}  // namespace detail

// Go's sync.Mutex: a mutual exclusion lock for goroutines (and threads).
// Satisfies Lockable, so std::lock_guard and std::unique_lock work.
//
//     gomp::mutex mu;
//     int balance = 0;
//     gomp::go([&] { std::lock_guard lk(mu); balance += 10; });
class mutex {
public:
    mutex() = default;
    mutex(const mutex&) = delete;
    mutex& operator=(const mutex&) = delete;

    void lock() {
        std::int32_t zero = 0;
        if (state_.compare_exchange_strong(zero, locked, std::memory_order_acquire, std::memory_order_relaxed)) return;
        lock_slow();
    }

    bool try_lock() {
        std::int32_t old = state_.load(std::memory_order_relaxed);
        if (old & (locked | starving)) return false;
        return state_.compare_exchange_strong(old, old | locked, std::memory_order_acquire, std::memory_order_relaxed);
    }

    void unlock() {
        std::int32_t nw = state_.fetch_sub(locked, std::memory_order_release) - locked;
        if (nw != 0) unlock_slow(nw);
    }

private:
    static constexpr std::int32_t locked = 1, woken = 2, starving = 4, waiter_shift = 3;
    static constexpr std::int64_t starvation_threshold_ns = 1000000;

    static bool can_spin(int iter) {
        if (iter >= 4) return false;
        detail::m* mp = detail::getm();
        if (!mp || !mp->pp) return std::thread::hardware_concurrency() > 1;
        auto& s = detail::sched();
        return s.gomaxprocs > s.npidle.load(std::memory_order_relaxed) + s.nmspinning.load(std::memory_order_relaxed) + 1 &&
               mp->pp->q.empty();
    }

    void lock_slow() {
        std::int64_t wait_start = 0;
        bool starve = false, awoke = false;
        int iter = 0;
        std::int32_t old = state_.load(std::memory_order_relaxed);
        for (;;) {
            // Spin while the lock is held in normal mode: it may be released soon.
            if ((old & (locked | starving)) == locked && can_spin(iter)) {
                if (!awoke && !(old & woken) && (old >> waiter_shift) != 0 &&
                    state_.compare_exchange_strong(old, old | woken, std::memory_order_relaxed))
                    awoke = true;
                detail::procyield(30);
                iter++;
                old = state_.load(std::memory_order_relaxed);
                continue;
            }
            std::int32_t nw = old;
            if (!(old & starving)) nw |= locked;
            if (old & (locked | starving)) nw += 1 << waiter_shift;
            if (starve && (old & locked)) nw |= starving;
            if (awoke) nw &= ~woken;
            if (state_.compare_exchange_strong(old, nw, std::memory_order_acquire, std::memory_order_relaxed)) {
                if (!(old & (locked | starving))) return;  // took it
                bool lifo = wait_start != 0;
                if (wait_start == 0) wait_start = detail::now_ns();
                sema_.acquire(lifo, "sync.Mutex.Lock");
                starve = starve || detail::now_ns() - wait_start > starvation_threshold_ns;
                old = state_.load(std::memory_order_acquire);
                if (old & starving) {
                    // Ownership was handed to us; fix up the state.
                    std::int32_t delta = locked - (1 << waiter_shift);
                    if (!starve || (old >> waiter_shift) == 1) delta -= starving;
                    state_.fetch_add(delta, std::memory_order_acquire);
                    return;
                }
                awoke = true;
                iter = 0;
            }
        }
    }

    void unlock_slow(std::int32_t nw) {
        if (!((nw + locked) & locked)) fatal("sync: unlock of unlocked mutex");
        if (!(nw & starving)) {
            std::int32_t old = nw;
            for (;;) {
                if ((old >> waiter_shift) == 0 || (old & (locked | woken | starving))) return;
                std::int32_t next = (old - (1 << waiter_shift)) | woken;
                if (state_.compare_exchange_strong(old, next, std::memory_order_release, std::memory_order_relaxed)) {
                    sema_.release(false);
                    return;
                }
            }
        }
        sema_.release(true);
    }

    std::atomic<std::int32_t> state_{0};
    detail::sema sema_;
};

// Go's sync.RWMutex: many readers or one writer. A waiting writer stops new
// readers from entering, so writers do not starve.
//
//     gomp::rw_mutex mu;
//     { std::shared_lock r(mu); read(); }     // rlock/runlock
//     { std::lock_guard w(mu); write(); }     // lock/unlock
class rw_mutex {
public:
    void rlock() {
        if (reader_count_.fetch_add(1, std::memory_order_acquire) + 1 < 0)
            reader_sem_.acquire(false, "sync.RWMutex.RLock");
    }
    void runlock() {
        std::int32_t r = reader_count_.fetch_sub(1, std::memory_order_release) - 1;
        if (r < 0) {
            if (r + 1 == 0 || r + 1 == -max_readers) fatal("sync: RUnlock of unlocked RWMutex");
            if (reader_wait_.fetch_sub(1, std::memory_order_acq_rel) - 1 == 0) writer_sem_.release(false);
        }
    }
    void lock() {
        w_.lock();
        std::int32_t r = reader_count_.fetch_sub(max_readers, std::memory_order_acq_rel);
        if (r != 0 && reader_wait_.fetch_add(r, std::memory_order_acq_rel) + r != 0)
            writer_sem_.acquire(false, "sync.RWMutex.Lock");
    }
    void unlock() {
        std::int32_t r = reader_count_.fetch_add(max_readers, std::memory_order_release) + max_readers;
        if (r >= max_readers) fatal("sync: Unlock of unlocked RWMutex");
        for (std::int32_t i = 0; i < r; i++) reader_sem_.release(false);
        w_.unlock();
    }
    // std::shared_lock spelling.
    void lock_shared() { rlock(); }
    void unlock_shared() { runlock(); }

private:
    static constexpr std::int32_t max_readers = 1 << 30;
    mutex w_;
    detail::sema writer_sem_, reader_sem_;
    std::atomic<std::int32_t> reader_count_{0};
    std::atomic<std::int32_t> reader_wait_{0};
};

// Go's sync.WaitGroup: waits for a collection of goroutines to finish.
//
//     gomp::wait_group wg;
//     for (auto& job : jobs) {
//         wg.add(1);
//         gomp::go([&wg, &job] { job.run(); wg.done(); });
//     }
//     wg.wait();
class wait_group {
public:
    void add(int delta) {
        std::uint64_t st = state_.fetch_add(std::uint64_t(std::int64_t(delta)) << 32, std::memory_order_acq_rel) +
                           (std::uint64_t(std::int64_t(delta)) << 32);
        auto v = std::int32_t(st >> 32);
        auto w = std::uint32_t(st);
        if (v < 0) throw gomp::panic("sync: negative WaitGroup counter");
        if (w != 0 && delta > 0 && v == delta) throw gomp::panic("sync: WaitGroup misuse: Add called concurrently with Wait");
        if (v > 0 || w == 0) return;
        // Counter is 0 and there are waiters: release them all.
        if (state_.load(std::memory_order_relaxed) != st)
            throw gomp::panic("sync: WaitGroup misuse: Add called concurrently with Wait");
        state_.store(0, std::memory_order_relaxed);
        for (; w != 0; w--) sema_.release(false);
    }
    void done() { add(-1); }
    void wait() {
        std::uint64_t st = state_.load(std::memory_order_acquire);
        for (;;) {
            if ((st >> 32) == 0) return;
            if (state_.compare_exchange_weak(st, st + 1, std::memory_order_acq_rel)) {
                sema_.acquire(false, "sync.WaitGroup.Wait");
                if (state_.load(std::memory_order_acquire) != 0)
                    throw gomp::panic("sync: WaitGroup is reused before previous Wait has returned");
                return;
            }
        }
    }

private:
    std::atomic<std::uint64_t> state_{0};  // counter << 32 | waiters
    detail::sema sema_;
};

// Go's sync.Once: call(f) runs f the first time only; later and concurrent
// callers wait until it has returned. As in Go (and unlike std::call_once),
// if f throws, the Once still counts as done.
//
//     static gomp::once init;
//     init.call([] { load_config(); });
class once {
public:
    template <class F>
    void call(F&& f) {
        if (done_.load(std::memory_order_acquire)) return;
        std::lock_guard<mutex> lk(m_);
        if (done_.load(std::memory_order_relaxed)) return;
        struct set_done {
            std::atomic<std::uint32_t>& d;
            ~set_done() { d.store(1, std::memory_order_release); }
        } guard{done_};
        std::invoke(std::forward<F>(f));
    }
    bool done() const { return done_.load(std::memory_order_acquire) != 0; }

private:
    std::atomic<std::uint32_t> done_{0};
    mutex m_;
};

// Go's sync.Cond: goroutines wait for a condition guarded by a lock L
// (anything with lock() and unlock()). wait() unlocks L, sleeps until
// signal or broadcast, and locks L again; check the condition in a loop.
//
//     gomp::mutex mu;
//     gomp::cond ready(mu);
//     mu.lock();
//     while (!queue_has_items) ready.wait();
//     mu.unlock();
class cond {
public:
    template <class Lock>
    explicit cond(Lock& l)
        : l_(&l),
          lock_([](void* x) { static_cast<Lock*>(x)->lock(); }),
          unlock_([](void* x) { static_cast<Lock*>(x)->unlock(); }) {}

    void wait() {
        detail::waiter w;
        w.thread_note.clear();
        lk_.lock();
        w.next = nullptr;
        if (tail_) tail_->next = &w;
        else head_ = &w;
        tail_ = &w;
        lk_.unlock();
        unlock_(l_);
        lk_.lock();
        if (w.notified) {
            lk_.unlock();
        } else {
            w.parked = true;
            detail::block(w, lk_, "sync.Cond.Wait");
        }
        lock_(l_);
    }
    void signal() {
        lk_.lock();
        detail::waiter* w = head_;
        if (w) pop_head();
        wake_locked(w);
    }
    void broadcast() {
        lk_.lock();
        detail::waiter* all = head_;
        head_ = tail_ = nullptr;
        std::vector<detail::waiter*> parked;
        for (detail::waiter* w = all; w;) {
            detail::waiter* nx = w->next;
            w->notified = true;
            if (w->parked) parked.push_back(w);
            w = nx;
        }
        lk_.unlock();
        for (auto* w : parked) detail::wake(w);
    }

private:
    void pop_head() {
        head_ = head_->next;
        if (!head_) tail_ = nullptr;
    }
    void wake_locked(detail::waiter* w) {
        if (!w) {
            lk_.unlock();
            return;
        }
        w->notified = true;
        bool parked = w->parked;
        lk_.unlock();
        if (parked) detail::wake(w);
    }

    void* l_;
    void (*lock_)(void*);
    void (*unlock_)(void*);
    detail::spinlock lk_;
    detail::waiter* head_ = nullptr;
    detail::waiter* tail_ = nullptr;
};

// Go's sync.Pool: a cache of reusable objects, per P so that get and put
// take no lock on the fast path. Go's pool is emptied by the garbage
// collector; gomp has none, so each P keeps at most per_p_max objects and
// a shared overflow list at most shared_max; extra objects are destroyed.
//
//     gomp::pool<std::string> bufs([] { return std::make_unique<std::string>(); });
//     auto b = bufs.get();   // std::unique_ptr<std::string>
//     b->clear(); ...
//     bufs.put(std::move(b));
template <class T>
class pool {
public:
    static constexpr std::size_t per_p_max = 128, shared_max = 1024;

    explicit pool(std::function<std::unique_ptr<T>()> new_fn = [] { return std::make_unique<T>(); })
        : new_(std::move(new_fn)) {}

    std::unique_ptr<T> get() {
        if (local* l = local_for_current_p()) {
            if (!l->items.empty()) {
                auto x = std::move(l->items.back());
                l->items.pop_back();
                return x;
            }
        }
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (!shared_.empty()) {
                auto x = std::move(shared_.back());
                shared_.pop_back();
                return x;
            }
        }
        return new_ ? new_() : nullptr;
    }

    void put(std::unique_ptr<T> x) {
        if (!x) return;
        if (local* l = local_for_current_p()) {
            if (l->items.size() < per_p_max) {
                l->items.push_back(std::move(x));
                return;
            }
        }
        std::lock_guard<std::mutex> lk(mu_);
        if (shared_.size() < shared_max) shared_.push_back(std::move(x));
    }

private:
    struct alignas(64) local {
        std::vector<std::unique_ptr<T>> items;
    };

    // The calling goroutine's P's cache: only the M holding that P touches
    // it, and goroutines are not preempted, so no lock is needed.
    local* local_for_current_p() {
        detail::m* mp = detail::getm();
        if (!mp || !mp->pp || !mp->curg) return nullptr;
        detail::sched_t* s = detail::the_sched.load(std::memory_order_acquire);
        if (owner_.load(std::memory_order_acquire) != s->run_id) {
            std::lock_guard<std::mutex> lk(mu_);
            if (owner_.load(std::memory_order_relaxed) != s->run_id) {
                locals_.reset(new local[std::size_t(s->gomaxprocs)]);
                owner_.store(s->run_id, std::memory_order_release);
            }
        }
        return &locals_[std::size_t(mp->pp->id)];
    }

    std::function<std::unique_ptr<T>()> new_;
    std::mutex mu_;
    std::vector<std::unique_ptr<T>> shared_;
    std::unique_ptr<local[]> locals_;
    std::atomic<std::uint64_t> owner_{0};  // run_id of the run the locals belong to
};

}  // namespace gomp
