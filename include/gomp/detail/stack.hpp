// gomp/detail/stack.hpp: goroutine stacks (Go's runtime/stack.go, reshaped
// for C++, which cannot move a stack).
//
// Go starts a goroutine on 2 KiB and copies the stack when it grows. C++
// frames hold raw pointers into the stack, so gomp gives each goroutine a
// fixed-size stack (default_stack_size, settable per run and per go) and
// relies on lazy commit: the kernel backs a page only when it is touched, so
// a parked goroutine costs the pages it actually used (usually one).
//
// Layout of one stack, low to high addresses:
//
//     lo                                                       hi
//     | guard (no access) | usable stack, grows down <- | G | fn |
//
// The G (goroutine descriptor) and the goroutine's callable live at the top
// of their own stack, so spawning allocates nothing beyond the stack and a
// parked goroutine usually costs exactly one resident page.
//
// Mapping budget. vm.max_map_count is 65530 by default, and a guard made
// with mprotect splits the mapping: two maps per stack, so at most ~32k
// guarded stacks. gomp carves stacks out of large slabs (one mmap for many
// stacks, MAP_NORESERVE) and makes guards with madvise(MADV_GUARD_INSTALL)
// (Linux 6.13+), which marks pages as guards without splitting the mapping:
// a million goroutines then cost a few dozen maps. On older kernels gomp
// falls back to mprotect guards for the first (max_map_count - 8192) / 2
// stacks and leaves later stacks unguarded, checking a canary word at the
// bottom of each unguarded stack whenever its goroutine switches out; the
// trade-off is documented in docs/proc.md.
//
// Stacks are never unmapped while a run lasts: a dead goroutine's stack goes
// to a per-P free list with its G (Go's gfree), so spawning does not mmap.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <new>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include <gomp/detail/note.hpp>
#include <gomp/panic.hpp>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

namespace gomp::detail {

inline constexpr std::size_t page_size = 4096;
inline constexpr std::uint64_t stack_canary = 0x676f6d70'5354434bull;  // "gompSTCK"

enum class guard_kind : std::uint8_t { madvise_guard, mprotect_guard, canary };

struct stack {
    char* lo = nullptr;        // lowest address, the guard starts here
    char* hi = nullptr;        // one past the highest address
    std::size_t guard = 0;     // bytes of guard at lo
    guard_kind kind = guard_kind::madvise_guard;

    std::size_t size() const { return std::size_t(hi - lo); }
    char* usable_lo() const { return lo + guard; }
};

// Allocates stacks of one size from slabs. Slabs grow geometrically so that
// a million stacks take a few dozen mappings.
class stack_pool {
public:
    explicit stack_pool(std::size_t stack_size) : size_(round_up(stack_size)) {}
    stack_pool(const stack_pool&) = delete;
    stack_pool& operator=(const stack_pool&) = delete;
    ~stack_pool() {
        for (auto& s : slabs_) {
#if defined(__SANITIZE_ADDRESS__)
            // Goroutines abandoned at exit leave redzones poisoned.
            __asan_unpoison_memory_region(s.first, s.second);
#endif
            ::munmap(s.first, s.second);
        }
    }

    std::size_t stack_size() const { return size_; }

    // Dead goroutines (their G at the top of their stack) waiting for reuse,
    // as an array: following links through G structs, one per page, would
    // miss the TLB on every step.
    spinlock free_lock;
    std::vector<void*> free_gs;
    std::atomic<int> nfree{0};  // racy hint; exact under free_lock

    stack alloc() {
        std::lock_guard<std::mutex> lk(mu_);
        if (next_ == end_) grow();
        char* lo = next_;
        next_ += size_;
        return make_guard(lo);
    }

    static std::size_t round_up(std::size_t n) {
        std::size_t min = 16 * page_size;
        if (n < min) n = min;
        return (n + page_size - 1) & ~(page_size - 1);
    }

private:
    void grow() {
        std::size_t count = slab_count_;
        if (slab_count_ < 4096) slab_count_ *= 2;
        std::size_t bytes = count * size_;
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            fatal("out of memory: cannot map " + std::to_string(bytes) + " bytes of goroutine stacks (errno " +
                  std::to_string(errno) + ")");
        }
        slabs_.emplace_back(static_cast<char*>(p), bytes);
        next_ = static_cast<char*>(p);
        end_ = next_ + bytes;
    }

    stack make_guard(char* lo) {
        stack s{lo, lo + size_, 0, guard_kind::canary};
        static std::atomic<int> madv_works{1};
        if (madv_works.load(std::memory_order_relaxed)) {
            if (::madvise(lo, guard_bytes_madv, MADV_GUARD_INSTALL) == 0) {
                s.guard = guard_bytes_madv;
                s.kind = guard_kind::madvise_guard;
                return s;
            }
            madv_works.store(0, std::memory_order_relaxed);
        }
        if (mprotect_budget() > 0 && ::mprotect(lo, page_size, PROT_NONE) == 0) {
            mprotect_used_.fetch_add(1, std::memory_order_relaxed);
            s.guard = page_size;
            s.kind = guard_kind::mprotect_guard;
            return s;
        }
        // Unguarded: a canary at the bottom, checked on every switch-out.
        *reinterpret_cast<std::uint64_t*>(lo) = stack_canary;
        s.guard = sizeof(std::uint64_t) * 2;
        return s;
    }

    long mprotect_budget() {
        static const long max_maps = [] {
            long v = 65530;
            if (FILE* f = std::fopen("/proc/sys/vm/max_map_count", "r")) {
                if (std::fscanf(f, "%ld", &v) != 1) v = 65530;
                std::fclose(f);
            }
            return v;
        }();
        return (max_maps - 8192) / 2 - mprotect_used_.load(std::memory_order_relaxed);
    }

    // madvise guards cost no mapping, so they can be wide enough that a large
    // frame is unlikely to jump over them.
    static constexpr std::size_t guard_bytes_madv = 4 * page_size;

    std::size_t size_;
    std::mutex mu_;
    std::vector<std::pair<char*, std::size_t>> slabs_;
    char* next_ = nullptr;
    char* end_ = nullptr;
    std::size_t slab_count_ = 16;
    inline static std::atomic<long> mprotect_used_{0};
};

}  // namespace gomp::detail
