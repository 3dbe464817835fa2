// gomp/detail/runq.hpp: the per-P run queue (Go's runqput/runqget/runqgrab/
// runqsteal in runtime/proc.go).
//
// A 256-slot ring with one producer (the P's owner) and many consumers (the
// owner and stealers). head is advanced only by CAS; tail only by the owner,
// with a release store. Beside it, runnext: one G that runs next on this P
// and inherits the current time slice; a readied goroutine goes there, so a
// channel peer runs next on the same thread.
//
// Invariant: tail - head <= 256. A put into a full ring moves half of it,
// plus the new G, to the global queue in one batch (runqputslow), so a
// spawning goroutine never blocks on a full queue.
//
// runnext changes hands on every channel hand-off, so its owner avoids
// locked instructions where it can (Go uses a CAS each time). Stealers only
// ever turn runnext from a G into null, so an empty runnext is filled with a
// plain store. Taking or displacing a G depends on the run (next_mode):
//   solo        one P: nobody steals; plain loads and stores.
//   asymmetric  Linux membarrier: the owner marks itself busy with a plain
//               store, checks that no stealer has announced itself, and
//               uses plain loads and stores. A stealer announces itself,
//               has the kernel run a memory barrier on every thread of the
//               process (membarrier), then waits until the owner is not
//               busy: after the barrier either the owner sees the stealer
//               (and uses a CAS) or the stealer sees the owner busy. The
//               stealer pays microseconds, but only for runnext, and only
//               when the ring is empty.
//   shared      otherwise (no membarrier, ThreadSanitizer, which does not
//               model it): a locked read-modify-write, as Go.
#pragma once

#include <atomic>
#include <cstdint>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gomp/detail/note.hpp>

namespace gomp::detail {

inline constexpr std::uint32_t runq_size = 256;

enum class next_mode : std::uint8_t { shared, solo, asymmetric };

// Registers the process for membarrier's private expedited barrier; false
// where the kernel (or a seccomp filter) does not offer it.
inline bool membarrier_register() noexcept {
    return ::syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}
// A full memory barrier on every running thread of the process; false if
// the kernel refused (then the caller must not rely on it).
inline bool membarrier_all() noexcept { return ::syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) == 0; }

template <class G>
struct runq {
    std::atomic<std::uint32_t> head{0};
    std::atomic<std::uint32_t> tail{0};
    std::atomic<G*> next{nullptr};  // runnext
    next_mode mode = next_mode::shared;
    std::atomic<std::uint32_t> owner_busy{0};  // asymmetric: the owner is in a runnext operation
    std::atomic<std::uint32_t> thieves{0};     // asymmetric: stealers after runnext
    std::atomic<G*> ring[runq_size] = {};

    bool empty() const {
        // Go's runqempty: a consistent snapshot of head, tail and runnext.
        for (;;) {
            std::uint32_t h = head.load(std::memory_order_seq_cst);
            std::uint32_t t = tail.load(std::memory_order_seq_cst);
            G* n = next.load(std::memory_order_seq_cst);
            if (tail.load(std::memory_order_seq_cst) == t) return h == t && n == nullptr;
        }
    }

    std::uint32_t size() const {
        std::uint32_t h = head.load(std::memory_order_acquire);
        std::uint32_t t = tail.load(std::memory_order_acquire);
        return t - h + (next.load(std::memory_order_relaxed) ? 1 : 0);
    }

    // Owner only. Puts g at the tail; returns false when the ring is full and
    // the caller must use the slow path (overflow to the global queue).
    bool put_tail(G* g) {
        std::uint32_t h = head.load(std::memory_order_acquire);
        std::uint32_t t = tail.load(std::memory_order_relaxed);
        if (t - h < runq_size) {
            ring[t % runq_size].store(g, std::memory_order_relaxed);
            tail.store(t + 1, std::memory_order_release);
            return true;
        }
        return false;
    }

    // Owner only. Takes half the ring into batch[0..n) for the global queue,
    // or returns 0 if a stealer got there first (then put_tail succeeds).
    std::uint32_t grab_half_for_overflow(G** batch) {
        std::uint32_t h = head.load(std::memory_order_acquire);
        std::uint32_t t = tail.load(std::memory_order_relaxed);
        std::uint32_t n = (t - h) / 2;
        if (n != runq_size / 2) return 0;
        for (std::uint32_t i = 0; i < n; i++) batch[i] = ring[(h + i) % runq_size].load(std::memory_order_relaxed);
        if (!head.compare_exchange_strong(h, h + n, std::memory_order_release, std::memory_order_relaxed)) return 0;
        return n;
    }

    // Owner only: pops the head of the ring (not runnext).
    G* get() {
        for (;;) {
            std::uint32_t h = head.load(std::memory_order_acquire);
            std::uint32_t t = tail.load(std::memory_order_relaxed);
            if (t == h) return nullptr;
            G* g = ring[h % runq_size].load(std::memory_order_relaxed);
            if (mode == next_mode::solo) {
                head.store(h + 1, std::memory_order_release);
                return g;
            }
            if (head.compare_exchange_weak(h, h + 1, std::memory_order_release, std::memory_order_relaxed)) {
                // The G after this one is likely cold (one per stack page):
                // start loading it now.
                if (t - h > 1) __builtin_prefetch(ring[(h + 1) % runq_size].load(std::memory_order_relaxed), 1);
                return g;
            }
        }
    }

    // Owner only: takes runnext.
    G* take_next() {
        if (!next.load(std::memory_order_relaxed)) return nullptr;
        if (begin_plain()) {
            G* n = next.load(std::memory_order_relaxed);  // a stealer may have taken it meanwhile
            next.store(nullptr, std::memory_order_relaxed);
            end_plain();
            return n;
        }
        G* n = next.load(std::memory_order_relaxed);
        if (n && next.compare_exchange_strong(n, nullptr, std::memory_order_acquire)) return n;
        return nullptr;
    }
    // Owner only: g becomes runnext; returns the one it displaced.
    G* put_next(G* g) {
        G* old = next.load(std::memory_order_relaxed);
        if (!old) {  // stealers never fill it
            next.store(g, std::memory_order_release);
            return nullptr;
        }
        if (begin_plain()) {
            old = next.load(std::memory_order_relaxed);
            next.store(g, std::memory_order_release);
            end_plain();
            return old;
        }
        return next.exchange(g, std::memory_order_acq_rel);
    }
    // Owner: true when runnext may be read and written with plain accesses
    // until end_plain (solo; asymmetric with no stealer announced, the owner
    // then marked busy).
    bool begin_plain() noexcept {
        if (mode == next_mode::solo) return true;
        if (mode != next_mode::asymmetric) return false;
        owner_busy.store(1, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);  // the store, then the load: membarrier orders them
        if (thieves.load(std::memory_order_acquire) == 0) return true;
        owner_busy.store(0, std::memory_order_release);
        return false;
    }
    void end_plain() noexcept {
        if (mode == next_mode::asymmetric) owner_busy.store(0, std::memory_order_release);
    }
    // Stealer: takes runnext if it is still nx: 1 taken, 0 it changed, -1
    // the kernel refused the barrier (not expected after registering).
    int take_next_from_owner(G* nx) {
        if (mode != next_mode::asymmetric) return next.compare_exchange_strong(nx, nullptr, std::memory_order_acq_rel);
        if (next.load(std::memory_order_acquire) != nx) return 0;  // taken meanwhile: no barrier for nothing
        thieves.fetch_add(1, std::memory_order_seq_cst);
        if (!membarrier_all()) {
            thieves.fetch_sub(1, std::memory_order_release);
            return -1;
        }
        for (int spins = 0; owner_busy.load(std::memory_order_acquire); spins++) {
            if (spins < 64)
                procyield(4);
            else
                ::sched_yield();  // the owner's thread was preempted mid-operation
        }
        bool ok = next.compare_exchange_strong(nx, nullptr, std::memory_order_acq_rel);
        thieves.fetch_sub(1, std::memory_order_release);
        return ok ? 1 : 0;
    }

    // Stealer: grabs half of this queue into dst's ring starting at dst_tail
    // (Go's runqgrab). With steal_next, takes runnext when the ring is empty.
    std::uint32_t grab(std::atomic<G*>* dst, std::uint32_t dst_tail, bool steal_next, bool victim_running) {
        for (;;) {
            std::uint32_t h = head.load(std::memory_order_acquire);
            std::uint32_t t = tail.load(std::memory_order_acquire);
            std::uint32_t n = t - h;
            n = n - n / 2;
            if (n == 0) {
                if (steal_next) {
                    G* nx = next.load(std::memory_order_acquire);
                    if (nx) {
                        if (victim_running) {
                            // The victim is about to run runnext: give it a
                            // moment (Go sleeps 3us) rather than bouncing a
                            // channel peer to another thread.
                            procyield(300);
                        }
                        if (int r = take_next_from_owner(nx); r <= 0) {
                            if (r < 0) return 0;
                            continue;
                        }
                        dst[dst_tail % runq_size].store(nx, std::memory_order_relaxed);
                        return 1;
                    }
                }
                return 0;
            }
            if (n > runq_size / 2) continue;  // read an inconsistent h and t
            for (std::uint32_t i = 0; i < n; i++) {
                G* g = ring[(h + i) % runq_size].load(std::memory_order_relaxed);
                dst[(dst_tail + i) % runq_size].store(g, std::memory_order_relaxed);
            }
            if (head.compare_exchange_strong(h, h + n, std::memory_order_acq_rel, std::memory_order_relaxed)) return n;
        }
    }

    // Stealer side, run by the owner of *this: steal from victim into this
    // ring and return one G to run (Go's runqsteal).
    G* steal_from(runq& victim, bool steal_next, bool victim_running) {
        std::uint32_t t = tail.load(std::memory_order_relaxed);
        std::uint32_t n = victim.grab(ring, t, steal_next, victim_running);
        if (n == 0) return nullptr;
        n--;
        G* g = ring[(t + n) % runq_size].load(std::memory_order_relaxed);
        if (n == 0) return g;
        tail.store(t + n, std::memory_order_release);
        return g;
    }
};

}  // namespace gomp::detail
