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
#pragma once

#include <atomic>
#include <cstdint>

#include <gomp/detail/note.hpp>

namespace gomp::detail {

inline constexpr std::uint32_t runq_size = 256;

template <class G>
struct runq {
    std::atomic<std::uint32_t> head{0};
    std::atomic<std::uint32_t> tail{0};
    std::atomic<G*> next{nullptr};  // runnext
    // The only queue of a one-P run: nobody steals, so the owner needs no
    // read-modify-write (a locked instruction per switch, a third of a
    // channel round trip). Readers elsewhere (sysmon) only look.
    bool solo = false;
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
            if (solo) {
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

    // Owner only.
    G* take_next() {
        G* n = next.load(std::memory_order_relaxed);
        if (!n) return nullptr;
        if (solo) {
            next.store(nullptr, std::memory_order_relaxed);
            return n;
        }
        if (next.compare_exchange_strong(n, nullptr, std::memory_order_acquire)) return n;
        return nullptr;
    }
    // Owner only: g becomes runnext; returns the one it displaced. Stealers
    // only ever turn runnext from a G into null, so an empty runnext can be
    // filled with a plain store; displacing a G races with them.
    G* put_next(G* g) {
        G* old = next.load(std::memory_order_relaxed);
        if (!old || solo) {
            next.store(g, std::memory_order_release);
            return old;
        }
        return next.exchange(g, std::memory_order_acq_rel);
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
                        if (!next.compare_exchange_strong(nx, nullptr, std::memory_order_acq_rel)) continue;
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
