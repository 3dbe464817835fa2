// gomp/detail/note.hpp: one-shot sleep and wake-up of an OS thread on a
// futex (Go's runtime/lock_futex.go: note, notesleep, notewakeup).
//
// A note is cleared, then exactly one thread sleeps on it and any thread
// wakes it once. A wake-up that comes before the sleep is not lost: the
// sleeper sees key == 1 and does not block.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gomp::detail {

inline void futex_wait(std::atomic<std::uint32_t>* addr, std::uint32_t val, const timespec* ts) {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, ts, nullptr, 0);
}
inline void futex_wake(std::atomic<std::uint32_t>* addr, int n) {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

struct note {
    std::atomic<std::uint32_t> key{0};

    void clear() { key.store(0, std::memory_order_relaxed); }
    void wakeup() {
        if (key.exchange(1, std::memory_order_release) == 0) futex_wake(&key, 1);
    }
    void sleep() {
        while (key.load(std::memory_order_acquire) == 0) futex_wait(&key, 0, nullptr);
    }
    // Sleeps at most ns nanoseconds; returns whether it was woken.
    bool sleep_for(std::int64_t ns) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
        while (key.load(std::memory_order_acquire) == 0) {
            auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - std::chrono::steady_clock::now()).count();
            if (left <= 0) return false;
            timespec ts{time_t(left / 1000000000), long(left % 1000000000)};
            futex_wait(&key, 0, &ts);
        }
        return true;
    }
};

// Go's procyield: n CPU pause hints, for spin loops.
inline void procyield(int n) noexcept {
    for (int i = 0; i < n; i++) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        asm volatile("yield");
#endif
    }
}

// A short-critical-section lock that never parks a goroutine: it spins, then
// yields the thread. Used for the waiter lists of channels and sync objects,
// where the holder is never switched out while holding it (gopark releases it
// only after the switch, from the next context).
//
// The spin backs off exponentially (up to 64 pauses between looks): a waiter
// that reads the lock's cache line keeps taking it away from the holder,
// whose next operation then waits for it. Where the backoff starts is learnt
// per lock: the pauses before the look that won (half of them when the first
// look won), averaged over recent contended acquisitions. A lock that one
// thread holds again and again (a channel both Ps hammer: bench mpmc at
// procs 2) learns to wait long and leaves the holder alone, which halved its
// cost per message; one taken in passing (a select's eight channels:
// fanin8) keeps looking soon.
class spinlock {
public:
    void lock() noexcept {
        if (flag_.exchange(true, std::memory_order_acquire)) [[unlikely]]
            lock_slow();
    }
    bool try_lock() noexcept { return !flag_.exchange(true, std::memory_order_acquire); }
    void unlock() noexcept { flag_.store(false, std::memory_order_release); }

private:
    [[gnu::noinline]] void lock_slow() noexcept {
        int backoff = start_.load(std::memory_order_relaxed);
        int last = 0, waits = 0;
        for (int spins = 0;; ++spins) {
            while (flag_.load(std::memory_order_relaxed)) {
                if (spins < 64) {
                    ++spins;
                    procyield(backoff);
                    last = backoff;
                    ++waits;
                    if (backoff < 64) backoff <<= 1;
                } else {
                    ::sched_yield();
                }
            }
            if (!flag_.exchange(true, std::memory_order_acquire)) break;
        }
        // Toward the wait that won; half of it when the first wait already
        // did (a shorter one might have too), so that the start can fall.
        int target = waits <= 1 ? last / 2 : last;
        int s = start_.load(std::memory_order_relaxed);
        start_.store(static_cast<std::uint8_t>(std::max(1, (3 * s + target) / 4)), std::memory_order_relaxed);
    }

    std::atomic<bool> flag_{false};
    std::atomic<std::uint8_t> start_{1};
};

}  // namespace gomp::detail
