// gomp/map.hpp: Go's map, the classic hmap of runtime/map.go (Go <= 1.23).
//
// A map is a hash table of 2^B buckets (bmap). Each bucket holds up to 8
// entries and, for each slot, one byte of the key's hash (its tophash: the
// hash's top byte, raised to at least minTopHash). A bucket stores its 8 keys
// together, then its 8 values together (no padding between a small key and a
// small value). The low B bits of the hash pick the bucket; more than 8
// entries in a bucket chain overflow buckets after it.
//
// One departure from Go's layout: Go's bmap starts with the tophash bytes
// and ends with the overflow pointer. Here the 2^B buckets of an array keep
// those two out of line, in two dense arrays before the slots (tophash words,
// 8 bytes a bucket; overflow pointers); only overflow buckets (obucket) carry
// them inline. A lookup reads the tophash word first (2^18 buckets: 2 MiB of
// tophash, 32 MiB of slots), so a miss usually touches no bucket at all, a
// hit touches just its key's and value's lines, and a delete writes no
// bucket line.
//
//   tophash values below minTopHash are states, not hashes:
//     emptyRest      0  empty, and so is every later slot and overflow bucket
//     emptyOne       1  empty
//     evacuatedX     2  moved to the first half of the larger table
//     evacuatedY     3  moved to the second half
//     evacuatedEmpty 4  empty (or its entry moved) and the bucket is evacuated
//
// Growth. Inserting the (count+1)th entry when count+1 > 8 and count+1 >
// 6.5 * 2^B (the load factor), or when about as many overflow buckets exist as
// buckets (tooManyOverflowBuckets: deletes left chains long and sparse),
// allocates a new bucket array (twice the size, or the same size to compact)
// and keeps the old one as oldbuckets. Nothing moves yet: every later write
// first evacuates the old bucket it is about to use and one more, the lowest
// not yet evacuated (growWork; gomp does that one first, see grow_work), so
// a grow costs each write O(1) and no single insert rehashes the whole
// table. Lookups during a grow read the old bucket until it is evacuated.
// When the last old bucket is done, the old array is freed.
//
// Invariants:
//  * Entries never move within or between buckets except by evacuation.
//    That is what lets iteration be defined while the map changes.
//  * Every slot of an old bucket is in an evacuated state or none is; the
//    first slot's tophash tells which (evacuated()). (An empty overflow
//    chain after a first bucket with an emptyRest is left as it is.)
//  * A new bucket receives entries only after its old bucket was evacuated:
//    evacuation always starts from an empty destination.
//  * count is the number of live entries; hashWriting is set exactly while a
//    write runs (Go's concurrent-misuse check); growing_flag, gomp's, exactly
//    while oldbuckets is set (set_oldbuckets).
//
// Iteration (mapiterinit / mapiternext). An iterator starts at a random
// bucket and a random slot offset, walks the bucket array it saw at start
// (it.buckets, it.B) once round, and in each bucket chain visits slots from
// the offset. If a grow started before the iterator and is still running
// (it.B == h.B), a bucket whose old bucket is not yet evacuated is read from
// the old bucket instead, keeping only the entries that will land in the
// bucket being visited (checkBucket). If the table grew after the iterator
// started, a slot the iterator reaches may be evacuated: the iterator then
// looks the key up in the current table (mapaccessK) and produces the current
// entry, or nothing if it was deleted. So: an entry present for the whole
// iteration is produced exactly once; an entry deleted before it is reached
// is not produced; an entry inserted during the iteration may or may not be.
//
// What C++ needs beyond Go (Go's garbage collector does these for free):
//  * Old bucket arrays an iterator may still read are kept (retired) until no
//    iterator is alive; the map counts its live iterators.
//  * While an iterator is alive, evacuation copies keys (and copyable values)
//    instead of moving them, so the iterator can still read the key in an old
//    slot, and references the loop body holds stay readable. Without live
//    iterators it moves. Keys that cannot be copied, or whose move may throw,
//    are stored boxed (a pointer to a heap key); values whose move may throw
//    are boxed too (Go's indirectkey/indirectelem), so evacuation never throws
//    from a move.
//  * A key that does not equal itself (NaN) cannot be looked up again; Go
//    returns the stale copy from the old slot. gomp records where such an
//    entry went (a small forwarding table) so the iterator yields the live one.
//
// Exceptions: an insert whose key or value constructor throws leaves the map
// with its previous contents. Evacuation runs inside writes; the only things
// in it that may throw (allocation, copying a key or value while an iterator is
// alive, a user Hash or Eq) are either done before anything moves or undone,
// so the write that ran it throws with the map's contents unchanged. erase
// never throws from evacuation (it skips the grow work instead).
#pragma once

#include <gomp/hash.hpp>
#include <gomp/panic.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace gomp {

namespace detail {

inline constexpr std::size_t bucket_cnt = 8;

inline constexpr std::uint8_t empty_rest = 0;
inline constexpr std::uint8_t empty_one = 1;
inline constexpr std::uint8_t evacuated_x = 2;
inline constexpr std::uint8_t evacuated_y = 3;
inline constexpr std::uint8_t evacuated_empty = 4;
inline constexpr std::uint8_t min_top_hash = 5;

inline constexpr std::uint8_t hash_writing = 4;  // Go's flag value
// gomp's own flag: set exactly while oldbuckets is (a grow runs), so that a
// lookup tests "growing or being written" with the one load and branch.
inline constexpr std::uint8_t growing_flag = 16;

inline constexpr std::size_t no_check = ~std::size_t{0};

// Load factor 6.5 = 13/2, as integers.
inline constexpr std::size_t load_factor_num = 13;
inline constexpr std::size_t load_factor_den = 2;

inline constexpr bool is_empty_slot(std::uint8_t x) noexcept { return x <= empty_one; }

// (As a 64-bit value below 256: no byte re-extension before the broadcast.)
inline constexpr std::uint64_t tophash(std::uint64_t hash) noexcept {
    const std::uint64_t top = hash >> 56;
    return top < min_top_hash ? top + min_top_hash : top;
}

inline constexpr bool over_load_factor(std::size_t count, std::uint8_t B) noexcept {
    return count > bucket_cnt && count > load_factor_num * ((std::size_t{1} << B) / load_factor_den);
}

inline constexpr bool too_many_overflow_buckets(std::uint16_t noverflow, std::uint8_t B) noexcept {
    if (B > 15) B = 15;
    return noverflow >= static_cast<std::uint16_t>(1u << B);
}

// A bucket's 8 tophash bytes, compared all at once (absl's Group, for 8
// slots). On x86-64, SSE2: one byte compare and a movemask, bit i for slot
// i. Elsewhere SWAR on a 64-bit word: the high bit of byte i for slot i.
inline constexpr std::uint64_t lsb8 = 0x0101010101010101ull;
inline constexpr std::uint64_t msb8 = 0x8080808080808080ull;

// Slots picked by a tophash_group match, lowest first.
class slot_mask {
public:
#if defined(__SSE2__) && defined(__x86_64__)
    static constexpr unsigned shift = 0;
    using bits = std::uint32_t;
#else
    static constexpr unsigned shift = 3;
    using bits = std::uint64_t;
#endif
    explicit slot_mask(bits m) noexcept : m_(m) {}
    explicit operator bool() const noexcept { return m_ != 0; }
    std::size_t first() const noexcept { return static_cast<unsigned>(std::countr_zero(m_)) >> shift; }
    void drop_first() noexcept { m_ &= m_ - 1; }

private:
    bits m_;
};

class tophash_group {
public:
    explicit tophash_group(const std::uint8_t* t) noexcept {
#if defined(__SSE2__) && defined(__x86_64__)
        g_ = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(t));  // bytes 8-15 zero
#else
        std::memcpy(&g_, t, 8);
        if constexpr (std::endian::native == std::endian::big) g_ = __builtin_bswap64(g_);
#endif
    }
    // Slots whose tophash is top (>= minTopHash). SWAR may also pick a byte
    // just above a true match (borrow); callers confirm with the key, and
    // such a byte is top^1 >= 4, never an empty slot, so the extra compare
    // reads a live key.
    slot_mask match(std::uint64_t top) const noexcept {
#if defined(__SSE2__) && defined(__x86_64__)
        // The broadcast by multiply, not _mm_set1_epi8: GCC may build that
        // one through a byte store and a wider reload, a store-forwarding
        // stall. Bytes 8-15 of both are zero and compare equal: masked off.
        const __m128i t = _mm_cvtsi64_si128(static_cast<long long>(lsb8 * top));
        return slot_mask(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(t, g_))) & all);
#else
        const std::uint64_t x = g_ ^ (lsb8 * top);
        return slot_mask((x - lsb8) & ~x & msb8);
#endif
    }
    // Empty slots (emptyRest or emptyOne); exact.
    slot_mask match_empty() const noexcept { return slot_mask(empty_bits()); }
    // Slots that are not empty (live, or in an evacuated state); exact.
    slot_mask match_used() const noexcept { return slot_mask(~empty_bits() & all); }
    // Whether some slot is emptyRest: nothing after it in the chain.
    bool has_empty_rest() const noexcept {
#if defined(__SSE2__) && defined(__x86_64__)
        return (static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(g_, _mm_setzero_si128()))) & all) != 0;
#else
        return ((g_ - lsb8) & ~g_ & msb8) != 0;
#endif
    }

private:
#if defined(__SSE2__) && defined(__x86_64__)
    static constexpr std::uint32_t all = 0xff;
    std::uint32_t empty_bits() const noexcept {  // bytes <= 1: min(b, 1) == b
        const __m128i le1 = _mm_cmpeq_epi8(_mm_min_epu8(g_, _mm_set1_epi8(1)), g_);
        return static_cast<std::uint32_t>(_mm_movemask_epi8(le1)) & all;
    }
    __m128i g_;
#else
    static constexpr std::uint64_t all = msb8;
    std::uint64_t empty_bits() const noexcept {
        const std::uint64_t x = g_ & ~lsb8;
        return (x - lsb8) & ~x & msb8;
    }
    std::uint64_t g_;
#endif
};
// Stores 8 tophash bytes built as a word, byte i for slot i.
inline void store_tophash(std::uint8_t* t, std::uint64_t w) noexcept {
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    std::memcpy(t, &w, 8);
}
inline std::uint64_t load_tophash(const std::uint8_t* t) noexcept {
    std::uint64_t w;
    std::memcpy(&w, t, 8);
    if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
    return w;
}

// mapdelete's marking, on a bucket's tophash word w (byte i for slot i)
// whose slot i is being emptied: slot i becomes emptyOne; if rest (every
// slot after i in the chain is empty), slot i and the run of emptyOne slots
// just below it become emptyRest instead. Sets whole when that run reaches
// slot 0 (it may go on in the bucket before). Computed without a branch on
// the bytes: which case holds is a coin toss, and a mispredicted branch that
// waits on a load from memory holds up the deletes behind it. And in few
// instructions: they all wait for w, usually from memory, and while they
// wait they fill the scheduler and fewer deletes are in flight.
//
// Go's loop walks down from slot i; a borrow walks up: so the word is
// worked on with its bytes reversed, slot i at byte 7 - i. Subtracting 1
// there borrows through the emptyOne bytes (0 after xor with 0x01 each)
// from slot i down, making them 0xff; the first other byte stops it and
// cannot gain its top bit. A borrow out of the word: the run reached slot 0.
inline std::uint64_t empty_slot(std::uint64_t w, unsigned i, bool rest, bool& whole) noexcept {
    static_assert(empty_rest == 0 && empty_one == 1);
    const std::uint64_t at = std::uint64_t{1} << (56 - 8 * i);  // bit 0 of slot i's byte, reversed
    std::uint64_t r = __builtin_bswap64(w);
    r = (r & ~(at * 0xff)) | at;                            // slot i: emptyOne
    const std::uint64_t e = r ^ lsb8;                       // 0 bytes: emptyOne
    const std::uint64_t run = ((e - at) & ~e & msb8) >> 7;  // bit 0 of each byte of the run
    whole = rest && e < at;
    return __builtin_bswap64(r & ~(run & (std::uint64_t{0} - rest)));  // emptyOne (1) & ~1: emptyRest (0)
}

// Whether any of Bits (default hashWriting) is set in the flags byte, as a
// read sees it: a relaxed load of a byte another thread may write. GCC moves
// no ordinary load across an atomic one, even a relaxed one, so a loop of
// lookups checking the flag with std::atomic reloaded the map's fields on
// every lookup (about ten more instructions each, and fewer lookups in
// flight). An asm load reads the byte in place and clobbers nothing else; on
// x86-64 it is a single test whose flag the branch uses. ThreadSanitizer
// builds keep the atomic load, which TSan sees.
template <std::uint8_t Bits = hash_writing>
inline bool peek_flags(const std::atomic<std::uint8_t>& f) noexcept {
    [[maybe_unused]] bool tsan = false;
#if defined(__SANITIZE_THREAD__)
    tsan = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
    tsan = true;
#endif
#endif
#if defined(__x86_64__)
    if (!tsan) {
        bool set;
        asm volatile("testb %[w], %[f]" : "=@ccnz"(set) : [f] "m"(f), [w] "i"(Bits));
        return set;
    }
#elif defined(__aarch64__)
    if (!tsan) {
        unsigned v;
        asm volatile("ldrb %w0, %1" : "=r"(v) : "Q"(f));
        return (v & Bits) != 0;
    }
#endif
    return (f.load(std::memory_order_relaxed) & Bits) != 0;
}


// Old-slot -> new-slot forwarding for keys that do not equal themselves
// (NaN), which the iterator cannot look up again. Open addressing; capacity is
// reserved before an evacuation so that put never allocates.
class fwd_table {
public:
    fwd_table() = default;
    fwd_table(const fwd_table&) = delete;
    fwd_table& operator=(const fwd_table&) = delete;
    ~fwd_table() { std::free(slots_); }

    void reserve(std::size_t extra) {
        std::size_t want = (size_ + extra) * 2;
        if (want <= cap_) return;
        std::size_t ncap = 16;
        while (ncap < want) ncap *= 2;
        auto* ns = static_cast<std::uintptr_t*>(std::calloc(ncap * 2, sizeof(std::uintptr_t)));
        if (!ns) throw std::bad_alloc();
        std::uintptr_t* old = slots_;
        std::size_t ocap = cap_;
        slots_ = ns;
        cap_ = ncap;
        size_ = 0;
        for (std::size_t i = 0; i < ocap; ++i)
            if (old[2 * i]) put(old[2 * i], old[2 * i + 1]);
        std::free(old);
    }
    void put(std::uintptr_t k, std::uintptr_t v) noexcept {
        std::size_t i = index(k);
        while (slots_[2 * i] != 0 && slots_[2 * i] != k) i = (i + 1) & (cap_ - 1);
        if (slots_[2 * i] == 0) ++size_;
        slots_[2 * i] = k;
        slots_[2 * i + 1] = v;
    }
    std::uintptr_t get(std::uintptr_t k) const noexcept {
        if (cap_ == 0) return 0;
        for (std::size_t i = index(k);; i = (i + 1) & (cap_ - 1)) {
            if (slots_[2 * i] == k) return slots_[2 * i + 1];
            if (slots_[2 * i] == 0) return 0;
        }
    }
    bool empty() const noexcept { return size_ == 0; }
    void clear() noexcept {
        std::free(slots_);
        slots_ = nullptr;
        cap_ = size_ = 0;
    }

private:
    std::size_t index(std::uintptr_t k) const noexcept { return mix64(k) & (cap_ - 1); }
    std::uintptr_t* slots_ = nullptr;
    std::size_t cap_ = 0, size_ = 0;
};

// Storage for a bucket's 8 values; nothing at all for an empty value type
// (a set: map<K, std::monostate>).
template <class VS, bool Empty>
struct value_block {
    alignas(VS) unsigned char b[bucket_cnt * sizeof(VS)];
};
template <class VS>
struct value_block<VS, true> {};

// A bucket's slots (Go's bmap less its tophash bytes and overflow pointer,
// which a bucket of the array keeps out of line; see map::head). KS/VS are
// the stored key/value representations: the type itself, or a pointer to a
// boxed one. Aligned to 8 at least: a slot id is the address | the index.
template <class KS, class VS, bool VEmpty>
struct bmap {
    alignas(KS) alignas(8) unsigned char keys[bucket_cnt * sizeof(KS)];
    [[no_unique_address]] value_block<VS, VEmpty> vals;
};
// An overflow bucket: Go's bmap in full.
template <class KS, class VS, bool VEmpty>
struct obucket {
    std::uint8_t tophash[bucket_cnt];
    obucket* overflow;
    bmap<KS, VS, VEmpty> slots;
};

}  // namespace detail

// What iterating a gomp::map yields: references to one entry's key and value.
// Structured bindings work in every form:
//
//     for (auto& [k, v] : m) v += 1;           // k is const K&, v is V&
//     for (const auto& [k, v] : m) use(k, v);
//
// Unlike std::unordered_map's value_type, the members are references even
// when the entry is copied (`auto [k, v]` still refers into the map); copy
// the value itself (`V copy = v;`) to keep it past the next write.
template <class K, class V>
struct map_entry {
    const K& first;
    V& second;
    // A constructor, not an aggregate: std::construct_at builds it with
    // parentheses, which clang before 16 does not accept for aggregates.
    map_entry(const K& k, V& v) noexcept : first(k), second(v) {}
};

// gomp::map<K, V>: Go's map. An unordered hash map with Go's semantics:
// random iteration order, iteration that stays defined while the loop inserts
// and erases, incremental growth (no insert pays for rehashing the table),
// NaN keys as in Go, and Go's fatal error on concurrent misuse.
//
//     gomp::map<std::string, int> ages;          // m := map[string]int{}
//     ages["alice"] = 31;                         // m["alice"] = 31
//     if (int* a = ages.find_ptr("bob")) ...      // if a, ok := m["bob"]; ok
//     int b = ages.get("bob");                    // b := m["bob"]  (0 if absent)
//     ages.erase("alice");                        // delete(m, "alice")
//     for (auto& [name, age] : ages) ...          // for name, age := range m
//     for (auto& [k, v] : m) if (v == 0) m.erase(k);   // defined, as in Go
//
// Differences from std::unordered_map:
//  * Iteration order is random and different each time (Go's rule); the map
//    has no positional iterators: find_ptr returns V* (nullptr if absent),
//    try_emplace and insert_or_assign return {V&, inserted}.
//  * A write (insert, erase, clear) may move entries (evacuation), so
//    references and pointers into the map are valid only until the next
//    write, as in absl::flat_hash_map. Do not pass a reference into the map
//    as an argument to a write of the same map (`m[a] = m[b]` reads m[b]
//    after m[a] may have moved it): copy it first. During an iteration the
//    entry references the loop got stay readable across writes.
//  * Inserting and erasing while iterating are defined (Go's range rules),
//    not undefined.
//  * The hasher takes a seed: Hash(key, seed) -> uint64 (gomp::hash); a
//    std-style Hash(key) -> size_t also works and is mixed with the seed.
//  * Writes overlapping another write, a read or an iteration on another
//    thread end the process with Go's "fatal error: concurrent map writes"
//    (best effort, like Go's), never silent corruption.
//  * Destroying or moving a map while an iterator over it is alive is
//    undefined, as for any container.
//
// Prefer it to std::unordered_map for speed (open buckets of 8, no node per
// entry, SWAR tophash probing) and for Go's semantics; prefer the std map
// when you need stable references across writes or ordered-by-insertion
// nothing (neither gives that) ... or node handles.
template <class K, class V, class Hash = gomp::hash<K>, class Eq = std::equal_to<>>
class map {
    // Keys that cannot be copied (the old slot keeps a copy while an iterator
    // is alive) or whose move may throw are boxed; values whose move may throw
    // are boxed. Empty trivial values take no space.
    static constexpr bool key_boxed = !std::is_copy_constructible_v<K> || !std::is_nothrow_move_constructible_v<K>;
    static constexpr bool val_empty = std::is_empty_v<V> && std::is_trivially_default_constructible_v<V> &&
                                      std::is_trivially_destructible_v<V> && std::is_trivially_copyable_v<V>;
    static constexpr bool val_boxed = !val_empty && !std::is_nothrow_move_constructible_v<V>;
    static constexpr bool val_copyable = std::is_copy_constructible_v<V>;
    static constexpr bool reflexive =
        detail::reflexive_key_v<K> && (std::is_same_v<Eq, std::equal_to<>> || std::is_same_v<Eq, std::equal_to<K>>);
    static constexpr bool transparent = requires {
        typename Hash::is_transparent;
        typename Eq::is_transparent;
    };

    struct key_box {
        K key;
        key_box* next_dead;
    };
    using KS = std::conditional_t<key_boxed, key_box*, K>;
    using VS = std::conditional_t<val_boxed, V*, V>;
    using bmap = detail::bmap<KS, VS, val_empty>;
    using obucket = detail::obucket<KS, VS, val_empty>;

    // A bucket array: this header sits just before bucket 0.
    struct chunk_hdr {
        void* raw;
        std::size_t mapped;  // mmap length, or 0: from calloc
        chunk_hdr* next;
    };
    struct array_hdr {
        void* raw;
        std::size_t mapped;
        array_hdr* next_retired;
        chunk_hdr* chunks;    // overflow buckets allocated after the array
        obucket* pool_next;   // free preallocated overflow buckets [pool_next, pool_end)
        obucket* pool_end;
        std::uint8_t B;
    };
    static constexpr std::size_t bucket_align = alignof(obucket) > 64 ? alignof(obucket) : 64;
    static constexpr std::size_t hdr_size = (sizeof(array_hdr) + bucket_align - 1) / bucket_align * bucket_align;
    static constexpr std::size_t chunk_size = (sizeof(chunk_hdr) + bucket_align - 1) / bucket_align * bucket_align;

    template <bool Const>
    class basic_iterator;

public:
    using key_type = K;
    using mapped_type = V;
    using size_type = std::size_t;
    using hasher = Hash;
    using key_equal = Eq;
    using entry = map_entry<K, V>;
    using const_entry = map_entry<K, const V>;
    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;

    map() noexcept : hash0_(detail::rand64()) {}

    // make(map[K]V, hint): room for hint entries before the first grow.
    explicit map(std::size_t hint, const Hash& h = Hash(), const Eq& eq = Eq())
        : hash0_(detail::rand64()), hash_(h), eq_(eq) {
        std::uint8_t B = 0;
        while (detail::over_load_factor(hint, B)) ++B;
        B_ = B;
        if (B != 0) buckets_ = alloc_array(B);
    }

    map(std::initializer_list<std::pair<const K, V>> init) : map(init.size()) {
        for (const auto& kv : init) insert_or_assign(kv.first, kv.second);
    }

    // Copying is Go's maps.Clone: a new map with its own seed.
    map(const map& o) requires(std::is_copy_constructible_v<K> && std::is_copy_constructible_v<V>)
        : map(o.count_, o.hash_, o.eq_) {
        for (const auto& [k, v] : o) try_emplace(k, v);
    }
    map(map&& o) noexcept : hash_(std::move(o.hash_)), eq_(std::move(o.eq_)) { steal(o); }

    map& operator=(const map& o) requires(std::is_copy_constructible_v<K> && std::is_copy_constructible_v<V>) {
        if (this != &o) {
            map tmp(o);
            swap(tmp);
        }
        return *this;
    }
    map& operator=(map&& o) noexcept {
        if (this != &o) {
            release_all();
            hash_ = std::move(o.hash_);
            eq_ = std::move(o.eq_);
            steal(o);
        }
        return *this;
    }
    ~map() { release_all(); }

    void swap(map& o) noexcept {
        map tmp(std::move(o));
        o = std::move(*this);
        *this = std::move(tmp);
    }
    friend void swap(map& a, map& b) noexcept { a.swap(b); }

    // ---- Go's operations ----

    // m[k]: the value for k, inserting V() first if k is absent (as `m[k] = v`
    // and `m[k] += x` do in Go).
    V& operator[](const K& k) requires std::default_initializable<V> {
        return *assign<true>(k, [&](bmap* b, unsigned i) { construct_entry(b, i, k); }).first;
    }
    V& operator[](K&& k) requires std::default_initializable<V> {
        return *assign<true>(k, [&](bmap* b, unsigned i) { construct_entry(b, i, std::move(k)); }).first;
    }
    // Heterogeneous (string maps): the key is built only if it is inserted.
    template <class KK>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K> && std::constructible_from<K, KK &&> &&
                 std::default_initializable<V>)
    V& operator[](KK&& k) {
        return *assign<false>(k, [&](bmap* b, unsigned i) { construct_entry(b, i, std::forward<KK>(k)); }).first;
    }

    // Inserts (k, V(args...)) if k is absent; otherwise leaves the map and
    // args untouched. Returns the value and whether it was inserted.
    template <class... Args>
    std::pair<V&, bool> try_emplace(const K& k, Args&&... args) {
        auto r = assign<false>(k, [&](bmap* b, unsigned i) { construct_entry(b, i, k, std::forward<Args>(args)...); });
        return {*r.first, r.second};
    }
    template <class... Args>
    std::pair<V&, bool> try_emplace(K&& k, Args&&... args) {
        auto r = assign<false>(
            k, [&](bmap* b, unsigned i) { construct_entry(b, i, std::move(k), std::forward<Args>(args)...); });
        return {*r.first, r.second};
    }
    template <class KK, class... Args>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K> && std::constructible_from<K, KK &&>)
    std::pair<V&, bool> try_emplace(KK&& k, Args&&... args) {
        auto r = assign<false>(
            k, [&](bmap* b, unsigned i) { construct_entry(b, i, std::forward<KK>(k), std::forward<Args>(args)...); });
        return {*r.first, r.second};
    }

    // m[k] = v: inserts or assigns. Returns the value and whether it was
    // inserted. If V's assignment throws, the entry keeps whatever state the
    // assignment left (V's own guarantee); if its construction throws, the
    // map is unchanged.
    template <class M>
    std::pair<V&, bool> insert_or_assign(const K& k, M&& v) {
        auto r = assign<true>(k, [&](bmap* b, unsigned i) { construct_entry(b, i, k, std::forward<M>(v)); });
        if (!r.second) *r.first = std::forward<M>(v);
        return {*r.first, r.second};
    }
    template <class M>
    std::pair<V&, bool> insert_or_assign(K&& k, M&& v) {
        auto r = assign<true>(k, [&](bmap* b, unsigned i) { construct_entry(b, i, std::move(k), std::forward<M>(v)); });
        if (!r.second) *r.first = std::forward<M>(v);
        return {*r.first, r.second};
    }
    template <class KK, class M>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K> && std::constructible_from<K, KK &&>)
    std::pair<V&, bool> insert_or_assign(KK&& k, M&& v) {
        auto r = assign<false>(
            k, [&](bmap* b, unsigned i) { construct_entry(b, i, std::forward<KK>(k), std::forward<M>(v)); });
        if (!r.second) *r.first = std::forward<M>(v);
        return {*r.first, r.second};
    }

    // delete(m, k): removes k; an absent key is a no-op. Returns whether an
    // entry was removed.
    bool erase(const K& k) { return mapdelete(k); }
    template <class KK>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K>)
    bool erase(const KK& k) {
        return mapdelete(k);
    }

    // v, ok := m[k] as a pointer: the value for k, or nullptr if absent.
    // Never inserts. Valid until the next write to the map.
    V* find_ptr(const K& k) { return find_impl(k); }
    const V* find_ptr(const K& k) const { return find_impl(k); }
    template <class KK>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K>)
    V* find_ptr(const KK& k) {
        return find_impl(k);
    }
    template <class KK>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K>)
    const V* find_ptr(const KK& k) const {
        return find_impl(k);
    }

    bool contains(const K& k) const { return find_impl(k) != nullptr; }
    template <class KK>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K>)
    bool contains(const KK& k) const {
        return find_impl(k) != nullptr;
    }

    // v := m[k]: a copy of the value, or V() (Go's zero value) if absent.
    V get(const K& k) const requires(std::default_initializable<V> && std::is_copy_constructible_v<V>) {
        const V* p = find_impl(k);
        return p ? *p : V();
    }
    template <class KK>
        requires(transparent && !std::is_same_v<std::remove_cvref_t<KK>, K> && std::default_initializable<V> &&
                 std::is_copy_constructible_v<V>)
    V get(const KK& k) const {
        const V* p = find_impl(k);
        return p ? *p : V();
    }
    // A copy of the value, or dflt if absent.
    template <class KK>
    V get(const KK& k, V dflt) const requires std::is_copy_constructible_v<V> {
        const V* p = find_impl(k);
        return p ? *p : std::move(dflt);
    }

    // len(m)
    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }

    // clear(m): removes every entry; keeps the bucket array for reuse (unless
    // an iterator is alive: then the arrays are emptied in place, so running
    // iterations end, and freed once they are gone).
    void clear() noexcept {
        if (count_ == 0) return;
        if (flags_.load(std::memory_order_relaxed) & detail::hash_writing) fatal("concurrent map writes");
        write_guard guard(flags_);
        if (iters_.load(std::memory_order_acquire) != 0) {
            wipe(buckets_);
            wipe(oldbuckets_);
            for (array_hdr* r = retired_; r; r = r->next_retired) wipe(buckets_of(r));
            retire(buckets_);
            retire(oldbuckets_);
            buckets_ = nullptr;
            B_ = 0;
        } else {
            collect();
            if (oldbuckets_) free_array(oldbuckets_);
            reset_array(buckets_);
        }
        set_oldbuckets(nullptr);
        same_size_ = false;
        nevacuate_ = 0;
        noverflow_ = 0;
        count_ = 0;
        hash0_ = detail::rand64();  // Go: make collisions hard to repeat (issue 25237)
    }

    // Makes room for n entries without a grow: finishes a running grow and
    // grows (doubling, evacuating everything) until n fits.
    void reserve(std::size_t n) {
        if (!detail::over_load_factor(n, B_) && (buckets_ || B_ == 0)) return;
        if (flags_.load(std::memory_order_relaxed) & detail::hash_writing) fatal("concurrent map writes");
        write_guard guard(flags_);
        if (pending_) collect();
        std::uint8_t target = B_;
        while (detail::over_load_factor(n, target)) ++target;
        if (count_ == 0 && !oldbuckets_ && iters_.load(std::memory_order_acquire) == 0) {
            bmap* a = alloc_array(target);
            if (buckets_) free_array(buckets_);
            buckets_ = a;
            B_ = target;
            noverflow_ = 0;
            return;
        }
        if (!buckets_) buckets_ = alloc_array(B_);
        finish_grow();
        while (B_ < target) {
            hash_grow(true);
            finish_grow();
        }
    }

    // ---- iteration: for (auto& [k, v] : m), Go's range ----
    iterator begin() { return iterator(this); }
    iterator end() noexcept { return iterator(); }
    const_iterator begin() const { return const_iterator(this); }
    const_iterator end() const noexcept { return const_iterator(); }
    const_iterator cbegin() const { return const_iterator(this); }
    const_iterator cend() const noexcept { return const_iterator(); }

    // ---- introspection (tests, debugging) ----
    std::size_t bucket_count() const noexcept { return std::size_t{1} << B_; }  // 2^B
    // Overflow buckets chained in the current bucket array (a walk: O(buckets)).
    std::size_t overflow_bucket_count() const noexcept {
        std::size_t n = 0;
        if (buckets_)
            for (std::size_t i = 0; i < bucket_count(); ++i)
                for (const obucket* o = head(i).next(); o; o = o->overflow) ++n;
        return n;
    }
    bool growing() const noexcept { return oldbuckets_ != nullptr; }
    bool same_size_growing() const noexcept { return oldbuckets_ != nullptr && same_size_; }
    // Bytes a bucket takes: its slots, tophash bytes and overflow pointer.
    static constexpr std::size_t bucket_bytes() noexcept { return sizeof(bmap) + detail::bucket_cnt + sizeof(void*); }

    const Hash& hash_function() const noexcept { return hash_; }
    const Eq& key_eq() const noexcept { return eq_; }

private:
    // ---- slots ----
    static void* kraw(bmap* b, std::size_t i) noexcept { return b->keys + i * sizeof(KS); }
    static void* vraw(bmap* b, std::size_t i) noexcept {
        if constexpr (val_empty) {
            (void)i;
            return b;
        } else {
            return b->vals.b + i * sizeof(VS);
        }
    }
    static KS* kslot(bmap* b, std::size_t i) noexcept { return std::launder(static_cast<KS*>(kraw(b, i))); }
    static K& key_at(bmap* b, std::size_t i) noexcept {
        if constexpr (key_boxed)
            return (*kslot(b, i))->key;
        else
            return *kslot(b, i);
    }
    static inline std::conditional_t<val_empty, V, char> empty_value_{};
    static V& val_at(bmap* b, std::size_t i) noexcept {
        if constexpr (val_empty) {
            (void)b;
            (void)i;
            return empty_value_;
        } else if constexpr (val_boxed) {
            return **std::launder(reinterpret_cast<V**>(b->vals.b + i * sizeof(V*)));
        } else {
            return *std::launder(reinterpret_cast<V*>(b->vals.b + i * sizeof(V)));
        }
    }
    static V** vbox_slot(bmap* b, unsigned i) noexcept
        requires val_boxed
    {
        return std::launder(reinterpret_cast<V**>(b->vals.b + i * sizeof(V*)));
    }

    template <class... A>
    static void construct_key(bmap* b, unsigned i, A&&... a) {
        if constexpr (key_boxed)
            ::new (kraw(b, i)) KS(new key_box{K(std::forward<A>(a)...), nullptr});
        else
            ::new (kraw(b, i)) K(std::forward<A>(a)...);
    }
    template <class... A>
    static void construct_val(bmap* b, unsigned i, A&&... a) {
        if constexpr (val_empty) {
            (void)b;
            (void)i;
            ((void)a, ...);
        } else if constexpr (val_boxed) {
            ::new (vraw(b, i)) V*(new V(std::forward<A>(a)...));
        } else {
            ::new (vraw(b, i)) V(std::forward<A>(a)...);
        }
    }
    // Key then value; if the value throws, the key is destroyed again: the
    // slot stays empty.
    template <class KA, class... VA>
    static void construct_entry(bmap* b, unsigned i, KA&& ka, VA&&... va) {
        construct_key(b, i, std::forward<KA>(ka));
        try {
            construct_val(b, i, std::forward<VA>(va)...);
        } catch (...) {
            destroy_key_now(b, i);
            throw;
        }
    }
    static void destroy_key_now(bmap* b, unsigned i) noexcept {
        if constexpr (key_boxed)
            delete *kslot(b, i);
        else
            std::destroy_at(kslot(b, i));
    }
    static void destroy_val(bmap* b, unsigned i) noexcept {
        if constexpr (val_boxed)
            delete *vbox_slot(b, i);
        else if constexpr (!val_empty)
            std::destroy_at(&val_at(b, i));
        else {
            (void)b;
            (void)i;
        }
    }
    // A live entry's key on delete: a boxed key may still be read through an
    // old slot by a live iterator, so it waits in the graveyard until none is.
    void drop_key(bmap* b, unsigned i) noexcept {
        if constexpr (key_boxed) {
            if (iters_.load(std::memory_order_acquire) != 0) {
                key_box* kb = *kslot(b, i);
                kb->next_dead = graveyard_;
                graveyard_ = kb;
                pending_ = true;
                return;
            }
        }
        destroy_key_now(b, i);
    }
    // Moves a value between slots (evacuation); never throws.
    static void relocate_val(bmap* d, unsigned di, bmap* s, unsigned si) noexcept {
        if constexpr (val_boxed) {
            ::new (vraw(d, di)) V*(*vbox_slot(s, si));
        } else if constexpr (!val_empty) {
            V& sv = val_at(s, si);
            ::new (vraw(d, di)) V(std::move(sv));
            std::destroy_at(&sv);
        } else {
            (void)d, (void)di, (void)s, (void)si;
        }
    }
    // The parts of an evacuatedX/Y slot the map still owns (the key copy or
    // husk; the value copy or husk), destroyed when the old array is freed.
    static void destroy_evacuated(bmap* b, unsigned i) noexcept {
        if constexpr (!key_boxed) std::destroy_at(kslot(b, i));
        if constexpr (!val_boxed && !val_empty) std::destroy_at(&val_at(b, i));
        (void)b, (void)i;
    }

    static std::uintptr_t slot_id(bmap* b, unsigned i) noexcept { return reinterpret_cast<std::uintptr_t>(b) | i; }
    static bmap* slot_bucket(std::uintptr_t id) noexcept { return reinterpret_cast<bmap*>(id & ~std::uintptr_t{7}); }
    static unsigned slot_index(std::uintptr_t id) noexcept { return static_cast<unsigned>(id & 7); }

    // ---- hashing ----
    template <class KK>
    std::uint64_t hash_of(const KK& k) const {
        return detail::call_hash(hash_, k, hash0_);
    }
    bool self_equal(const K& k) const {
        if constexpr (reflexive) {
            (void)k;
            return true;
        } else {
            return eq_(k, k);
        }
    }

    static std::size_t bucket_mask(std::uint8_t B) noexcept { return (std::size_t{1} << B) - 1; }
    // oldbuckets_ changes only through this, which keeps growing_flag, the
    // lookup's shortcut to it, in step.
    void set_oldbuckets(bmap* old) noexcept {
        oldbuckets_ = old;
        const std::uint8_t f = flags_.load(std::memory_order_relaxed);
        flags_.store(static_cast<std::uint8_t>(old ? f | detail::growing_flag : f & ~detail::growing_flag),
                     std::memory_order_relaxed);
    }
    std::size_t noldbuckets() const noexcept { return std::size_t{1} << (same_size_ ? B_ : B_ - 1); }
    std::size_t oldbucket_mask() const noexcept { return noldbuckets() - 1; }
    bool evacuated(std::size_t oldbucket) const noexcept {
        std::uint8_t h = old_head(oldbucket).t[0];
        return h > detail::empty_one && h < detail::min_top_hash;
    }

    // ---- bucket arrays ----
    static array_hdr* hdr_of(bmap* buckets) noexcept {
        return reinterpret_cast<array_hdr*>(reinterpret_cast<char*>(buckets) - hdr_size);
    }
    static bmap* buckets_of(array_hdr* h) noexcept {
        return reinterpret_cast<bmap*>(reinterpret_cast<char*>(h) + hdr_size);
    }
    // Zeroed memory: a header of `header` bytes, then `body` bytes, the body
    // aligned to bucket_align. Blocks of 2 MiB and more come straight from
    // mmap (already zero), 2 MiB-aligned and marked for transparent huge
    // pages: a lookup in a big table then needs one TLB entry per 2 MiB
    // instead of per 4 KiB, and filling a new array during evacuation faults
    // once per 2 MiB instead of on every 4 KiB, which would otherwise land on
    // thousands of single inserts.
    static constexpr std::size_t huge_page = std::size_t{2} << 20;
    static void* zalloc(std::size_t header, std::size_t body, void*& raw, std::size_t& mapped) {
        if (body > SIZE_MAX / 4 || header > SIZE_MAX / 4) throw std::bad_alloc();
        const std::size_t bytes = header + body + bucket_align;
        mapped = 0;
#if defined(__linux__)
        if (bytes >= huge_page) {
            const std::size_t len = (bytes + 2 * huge_page - 1) & ~(huge_page - 1);  // room to align
            raw = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (raw == MAP_FAILED) throw std::bad_alloc();
            mapped = len;
            auto p = (reinterpret_cast<std::uintptr_t>(raw) + huge_page - 1) & ~(huge_page - 1);
            ::madvise(reinterpret_cast<void*>(p), len - (p - reinterpret_cast<std::uintptr_t>(raw)), MADV_HUGEPAGE);
            return reinterpret_cast<void*>(p);
        }
#endif
        raw = std::calloc(1, bytes);
        if (!raw) throw std::bad_alloc();
        // calloc hands a large block over fresh from mmap, unfaulted: touch
        // its pages now, so that the allocating write takes their faults
        // instead of hundreds of later inserts taking one each.
        for (std::size_t off = 0; off < bytes; off += 4096) static_cast<volatile char*>(raw)[off] = 0;
        auto p = reinterpret_cast<std::uintptr_t>(raw);
        p = (p + bucket_align - 1) & ~(bucket_align - 1);
        return reinterpret_cast<void*>(p);
    }
    static void raw_free(void* raw, std::size_t mapped) noexcept {
#if defined(__linux__)
        if (mapped) {
            ::munmap(raw, mapped);
            return;
        }
#endif
        (void)mapped;
        std::free(raw);
    }

    // An array of 2^B buckets in one allocation:
    //
    //   2^B overflow pointers | 2^B tophash words | array_hdr |
    //   2^B bmap (slots only) | 2^(B-4) obucket (B >= 4: the overflow pool)
    //
    // The buckets' tophash bytes and overflow pointers live out of line, in
    // two dense control arrays before the header, each running backwards
    // (bucket 0's entry last). The tophash words, 8 bytes a bucket, are what
    // every access reads first: 2 MiB for 2^18 buckets, against 32 MiB of
    // slots, so that line is likely cached (as likely as absl's control
    // bytes: the same density). A miss then usually ends without touching a
    // bucket, a hit reads only its key's and value's lines (a bucket of int64
    // pairs is exactly two), and a delete writes no bucket line. The
    // overflow pointers are read only to go on along a chain. Overflow
    // buckets (obucket) keep Go's layout: tophash, overflow pointer, slots.
    // Zeroed: every tophash byte starts as emptyRest.
    static constexpr std::size_t round_up(std::size_t n) noexcept {
        return (n + bucket_align - 1) / bucket_align * bucket_align;
    }
    static constexpr std::size_t ctrl_bytes(std::uint8_t B) noexcept {
        return round_up((detail::bucket_cnt + sizeof(obucket*)) << B);
    }
    static constexpr std::size_t lead_bytes(std::uint8_t B) noexcept { return ctrl_bytes(B) + hdr_size; }
    static constexpr std::size_t pool_buckets(std::uint8_t B) noexcept {
        return B >= 4 ? std::size_t{1} << (B - 4) : 0;
    }
    static constexpr std::size_t body_bytes(std::uint8_t B) noexcept {
        return round_up(sizeof(bmap) << B) + pool_buckets(B) * sizeof(obucket);
    }
    // makeBucketArray.
    static bmap* alloc_array(std::uint8_t B) {
        if (B >= 48) throw std::bad_alloc();  // 2^48 buckets: more than any machine has
        void* raw;
        std::size_t mapped;
        char* lead = static_cast<char*>(zalloc(lead_bytes(B), body_bytes(B), raw, mapped));
        char* p = lead + ctrl_bytes(B);
        bmap* buckets = reinterpret_cast<bmap*>(p + hdr_size);
        auto* pool = reinterpret_cast<obucket*>(reinterpret_cast<char*>(buckets) + round_up(sizeof(bmap) << B));
        ::new (static_cast<void*>(p))
            array_hdr{raw, mapped, nullptr, nullptr, pool, pool + pool_buckets(B), B};
        return buckets;
    }
    // Bucket j's tophash bytes: the words run backwards from the header
    // (bucket 0's just before it), so finding them takes no B.
    static std::uint8_t* tophash_of(bmap* bk, std::size_t j) noexcept {
        return reinterpret_cast<std::uint8_t*>(hdr_of(bk)) - detail::bucket_cnt * (j + 1);
    }

    // A walk along a bucket chain: the slots, tophash bytes and overflow
    // pointer of each bucket in turn.
    struct chain {
        bmap* b;          // null: past the end
        std::uint8_t* t;  // the bucket's tophash bytes
        obucket** ov;     // its overflow pointer
        obucket*& next() const noexcept { return *ov; }
        void advance() noexcept {
            if (obucket* o = next())
                *this = of(o);
            else
                b = nullptr;
        }
        static chain of(obucket* o) noexcept { return {&o->slots, o->tophash, &o->overflow}; }
    };
    // Bucket j of the nb (= 2^B) at bk; its overflow pointer is nb words
    // before its tophash word.
    static chain head(bmap* bk, std::size_t j, std::size_t nb) noexcept {
        std::uint8_t* t = tophash_of(bk, j);
        return {bk + j, t, std::launder(reinterpret_cast<obucket**>(t)) - nb};
    }
    static chain head(bmap* bk, std::size_t j) noexcept { return head(bk, j, std::size_t{1} << hdr_of(bk)->B); }
    chain head(std::size_t bucket) const noexcept { return head(buckets_, bucket, bucket_count()); }
    chain old_head(std::size_t oldbucket) const noexcept { return head(oldbuckets_, oldbucket, noldbuckets()); }

    // The tophash byte of slot s (an iterator following a NaN key's
    // forwarding): a slot of an array the map still holds (current, old, or
    // retired for live iterators), first bucket or overflow.
    std::uint8_t top_of_slot(std::uintptr_t s) const noexcept {
        bmap* b = slot_bucket(s);
        const unsigned i = slot_index(s);
        const auto in = [&](bmap* bk) -> const std::uint8_t* {
            if (!bk) return nullptr;
            const std::size_t off = reinterpret_cast<std::uintptr_t>(b) - reinterpret_cast<std::uintptr_t>(bk);
            if (off >= (sizeof(bmap) << hdr_of(bk)->B)) return nullptr;
            return tophash_of(bk, off / sizeof(bmap));
        };
        const std::uint8_t* t = in(buckets_);
        if (!t) t = in(oldbuckets_);
        for (array_hdr* r = retired_; !t && r; r = r->next_retired) t = in(buckets_of(r));
        if (!t) t = reinterpret_cast<obucket*>(reinterpret_cast<char*>(b) - offsetof(obucket, slots))->tophash;
        return t[i];
    }
    static void add_chunk(array_hdr* h, std::size_t n) {
        void* raw;
        std::size_t mapped;
        char* p = static_cast<char*>(zalloc(chunk_size, n * sizeof(obucket), raw, mapped));
        h->chunks = ::new (static_cast<void*>(p)) chunk_hdr{raw, mapped, h->chunks};
        h->pool_next = reinterpret_cast<obucket*>(p + chunk_size);
        h->pool_end = h->pool_next + n;
    }
    static std::size_t chunk_buckets(std::uint8_t B) noexcept { return std::max(pool_buckets(B), std::size_t{1}); }

    void incr_noverflow() noexcept {
        // Exact below B = 16; above, counts with probability 1/2^(B-15), so
        // 2^15 still means "about as many overflow buckets as buckets".
        if (B_ < 16) {
            ++noverflow_;
            return;
        }
        std::uint64_t mask = (std::uint64_t{1} << (B_ - 15)) - 1;
        if ((detail::rand64() & mask) == 0) ++noverflow_;
    }
    // Chains a new overflow bucket after c's bucket; returns it.
    chain new_overflow(const chain& c) {
        reserve_overflow(1);
        return take_overflow(c);
    }
    void reserve_overflow(std::size_t n) {
        array_hdr* h = hdr_of(buckets_);
        if (static_cast<std::size_t>(h->pool_end - h->pool_next) < n) add_chunk(h, std::max(n, chunk_buckets(h->B)));
    }
    chain take_overflow(const chain& c) noexcept {  // after reserve_overflow
        obucket* ovf = hdr_of(buckets_)->pool_next++;
        incr_noverflow();
        c.next() = ovf;
        return chain::of(ovf);
    }

    // Destroys what the array's slots own; optionally marks every slot
    // emptyRest (so a running iterator sees nothing more).
    void destroy_contents(bmap* bk, bool mark_empty) noexcept {
        constexpr bool trivial = !key_boxed && !val_boxed && std::is_trivially_destructible_v<K> &&
                                 (val_empty || std::is_trivially_destructible_v<V>);
        if (trivial && !mark_empty) return;
        const std::uint8_t B = hdr_of(bk)->B;
        for (std::size_t j = 0; j < (std::size_t{1} << B); ++j) {
            for (chain c = head(bk, j); c.b; c.advance()) {
                if constexpr (!trivial) {
                    for (unsigned i = 0; i < detail::bucket_cnt; ++i) {
                        std::uint8_t top = c.t[i];
                        if (top >= detail::min_top_hash) {
                            destroy_key_now(c.b, i);
                            destroy_val(c.b, i);
                        } else if (top == detail::evacuated_x || top == detail::evacuated_y) {
                            destroy_evacuated(c.b, i);
                        }
                    }
                }
                if (mark_empty) std::memset(c.t, detail::empty_rest, detail::bucket_cnt);
            }
        }
    }
    void free_array(bmap* bk) noexcept {
        if (!bk) return;
        destroy_contents(bk, false);
        array_hdr* h = hdr_of(bk);
        for (chunk_hdr* c = h->chunks; c;) {
            chunk_hdr* next = c->next;
            raw_free(c->raw, c->mapped);
            c = next;
        }
        raw_free(h->raw, h->mapped);
    }
    // clear() without iterators: empty the array in place for reuse.
    void reset_array(bmap* bk) noexcept {
        if (!bk) return;
        destroy_contents(bk, false);
        array_hdr* h = hdr_of(bk);
        for (chunk_hdr* c = h->chunks; c;) {
            chunk_hdr* next = c->next;
            raw_free(c->raw, c->mapped);
            c = next;
        }
        h->chunks = nullptr;
        // Slots hold nothing once their tophash says empty; the pool's
        // buckets carry their own tophash and overflow pointer.
        std::memset(reinterpret_cast<char*>(h) - ctrl_bytes(h->B), 0, ctrl_bytes(h->B));
        h->pool_next = reinterpret_cast<obucket*>(reinterpret_cast<char*>(bk) + round_up(sizeof(bmap) << h->B));
        h->pool_end = h->pool_next + pool_buckets(h->B);
        std::memset(static_cast<void*>(h->pool_next), 0, pool_buckets(h->B) * sizeof(obucket));
    }
    void wipe(bmap* bk) noexcept {
        if (bk) destroy_contents(bk, true);
    }
    // An array no longer in use: freed now, or kept while an iterator may read it.
    void retire(bmap* bk) noexcept {
        if (!bk) return;
        if (iters_.load(std::memory_order_acquire) == 0) {
            free_array(bk);
            return;
        }
        array_hdr* h = hdr_of(bk);
        h->next_retired = retired_;
        retired_ = h;
        pending_ = true;
    }
    // Frees what was kept for iterators, once none is alive. Runs at writes.
    void collect() noexcept {
        if (iters_.load(std::memory_order_acquire) != 0) return;
        while (retired_) {
            array_hdr* h = retired_;
            retired_ = h->next_retired;
            free_array(buckets_of(h));
        }
        while (graveyard_) {
            key_box* kb = graveyard_;
            graveyard_ = kb->next_dead;
            delete kb;
        }
        if (fwd_) fwd_->clear();
        pending_ = false;
    }
    void release_all() noexcept {
        free_array(buckets_);
        free_array(oldbuckets_);
        while (retired_) {
            array_hdr* h = retired_;
            retired_ = h->next_retired;
            free_array(buckets_of(h));
        }
        while (graveyard_) {
            key_box* kb = graveyard_;
            graveyard_ = kb->next_dead;
            delete kb;
        }
        delete fwd_;
        buckets_ = nullptr;
        set_oldbuckets(nullptr);
        fwd_ = nullptr;
        count_ = 0;
    }
    void steal(map& o) noexcept {
        buckets_ = std::exchange(o.buckets_, nullptr);
        count_ = std::exchange(o.count_, 0);
        hash0_ = o.hash0_;
        o.hash0_ = detail::rand64();
        B_ = std::exchange(o.B_, 0);
        same_size_ = std::exchange(o.same_size_, false);
        noverflow_ = std::exchange(o.noverflow_, 0);
        set_oldbuckets(o.oldbuckets_);
        o.set_oldbuckets(nullptr);
        nevacuate_ = std::exchange(o.nevacuate_, 0);
        retired_ = std::exchange(o.retired_, nullptr);
        graveyard_ = std::exchange(o.graveyard_, nullptr);
        fwd_ = std::exchange(o.fwd_, nullptr);
        pending_ = std::exchange(o.pending_, false);
    }

    // ---- hashWriting ----
    struct write_guard {
        std::atomic<std::uint8_t>& f;
        explicit write_guard(std::atomic<std::uint8_t>& flags) noexcept : f(flags) {
            f.store(f.load(std::memory_order_relaxed) ^ detail::hash_writing, std::memory_order_relaxed);
        }
        write_guard(const write_guard&) = delete;
        write_guard& operator=(const write_guard&) = delete;
        ~write_guard() {
            std::uint8_t v = f.load(std::memory_order_relaxed);
            if (!(v & detail::hash_writing)) fatal("concurrent map writes");
            f.store(static_cast<std::uint8_t>(v & ~detail::hash_writing), std::memory_order_relaxed);
        }
    };

    // Asks for every cache line of bucket b's slots at once (8-byte keys and
    // values: two lines, keys then values): a hit needs a key and a value,
    // which Go's layout puts on different lines, and this fetches them while
    // the tophash bytes are read. RW: 1 when b is about to be written.
    template <int RW>
    [[gnu::always_inline]] static void prefetch_bucket(const bmap* b) noexcept {
        const char* p = reinterpret_cast<const char*>(b);
        for (std::size_t off = 0; off < sizeof(bmap); off += 64) __builtin_prefetch(p + off, RW);
        if constexpr (sizeof(bmap) % 64 != 0) __builtin_prefetch(p + sizeof(bmap) - 1, RW);
    }
    [[gnu::always_inline]] static void prefetch_keys(const bmap* b) noexcept {
        const char* p = reinterpret_cast<const char*>(b->keys);
        for (std::size_t off = 0; off < sizeof(b->keys); off += 64) __builtin_prefetch(p + off);
        if constexpr (sizeof(b->keys) % 64 != 0) __builtin_prefetch(p + sizeof(b->keys) - 1);
    }
    [[gnu::always_inline]] static void prefetch_overflow(const obucket* o) noexcept {
        const char* p = reinterpret_cast<const char*>(o);
        for (std::size_t off = 0; off < sizeof(obucket); off += 64) __builtin_prefetch(p + off);
    }

    // ---- mapaccess ----
    // The bucket chain that holds key's hash: the old one until evacuated.
    chain chain_for(std::uint64_t hash) const noexcept {
        const std::size_t m = bucket_mask(B_);
        if (oldbuckets_) [[unlikely]] {
            const std::size_t ob = hash & (same_size_ ? m : m >> 1);
            if (!evacuated(ob)) return old_head(ob);
        }
        return head(hash & m);
    }
    // mapaccess: found(b, i) for key's slot, or absent.
    template <class KK, class Found, class R>
    R access(const KK& key, std::uint64_t hash, Found found, R absent) const {
        return access_chain(key, detail::tophash(hash), chain_for(hash), found, absent);
    }
    // The same along chain c, the one that holds key's hash (tophash top).
    template <class KK, class Found, class R>
    R access_chain(const KK& key, const std::uint8_t top, chain c, Found found, R absent) const {
        for (;;) {
            const detail::tophash_group g(c.t);
            detail::slot_mask m = g.match(top);
            // A candidate: ask for the bucket's lines. Where lookups mostly
            // hit, the branch is predicted taken and the prefetch issues
            // before the tophash bytes arrive; where they mostly miss, it is
            // predicted not taken and a miss reads no bucket line.
            if (m) prefetch_bucket<0>(c.b);
            for (; m; m.drop_first()) {
                const std::size_t i = m.first();
                if (eq_(key, key_at(c.b, i))) [[likely]]
                    return found(c.b, i);
            }
            if (g.has_empty_rest()) break;
            c.advance();
            if (!c.b) break;
        }
        return absent;
    }
    template <class KK>
    V* find_impl(const KK& key) const {
        // A run of independent lookups (hits go to memory) is bound by how
        // many the core keeps in flight, which its load queue and reorder
        // buffer limit; fewer loads measured faster (9 to 5: about 32 to
        // 29 ns a hit), so the common lookup makes few:
        //  * the map's fields it needs (buckets, B, hash0) are read before
        //    any branch: loads that every call makes are ones GCC can hoist,
        //    with the mask computed from B, out of a caller's loop of
        //    lookups (it leaves those behind a branch in the loop);
        //  * one test of the flags byte covers both rare cases, a grow in
        //    progress (growing_flag, instead of loading oldbuckets_) and a
        //    concurrent write.
        bmap* const bk = buckets_;
        const std::size_t mask = bucket_mask(B_);
        const std::uint64_t hash = hash_of(key);
        if (count_ == 0) return nullptr;
        const auto found = [](bmap* b, std::size_t i) {
            V* v = &val_at(b, i);
            if (!v) __builtin_unreachable();  // lets a caller's null check go
            return v;
        };
        if (detail::peek_flags<detail::hash_writing | detail::growing_flag>(flags_)) [[unlikely]] {
            if (detail::peek_flags(flags_)) fatal("concurrent map read and map write");
            return access(key, hash, found, static_cast<V*>(nullptr));
        }
        return access_chain(key, detail::tophash(hash), head(bk, hash & mask, mask + 1), found,
                            static_cast<V*>(nullptr));
    }

    // ---- mapassign ----
    template <bool UpdateKey, class KK, class Construct>
    std::pair<V*, bool> assign(const KK& key, Construct&& construct) {
        if (flags_.load(std::memory_order_relaxed) & detail::hash_writing) [[unlikely]]
            fatal("concurrent map writes");
        const std::uint64_t hash = hash_of(key);
        // Set hashWriting after hashing: a throwing hash did not write.
        write_guard guard(flags_);
        if (pending_) [[unlikely]]
            collect();
        if (!buckets_) [[unlikely]]
            buckets_ = alloc_array(B_);
        const std::uint8_t top = detail::tophash(hash);
        for (;;) {
            const std::size_t bucket = hash & bucket_mask(B_);
            if (oldbuckets_) [[unlikely]]
                grow_work(bucket);
            else
                prefetch_bucket<1>(buckets_ + bucket);
            // A new key that finds room in the first bucket is written without
            // waiting to read that bucket: its tophash bytes are in the
            // control array. A full one has its overflow pointer read next:
            // ask for that line now, not after the tophash word arrives.
            chain c = head(bucket);
            __builtin_prefetch(c.ov);
            chain ins{nullptr, nullptr, nullptr};
            unsigned insi = 0;
            for (;;) {
                const detail::tophash_group g(c.t);
                for (detail::slot_mask m = g.match(top); m; m.drop_first()) {
                    unsigned i = m.first();
                    if (eq_(key, key_at(c.b, i))) {
                        if constexpr (UpdateKey && std::is_floating_point_v<K>) key_at(c.b, i) = key;  // +0 vs -0
                        return {&val_at(c.b, i), false};
                    }
                }
                if (!ins.b) {
                    if (detail::slot_mask e = g.match_empty()) {
                        ins = c;
                        insi = e.first();
                    }
                }
                if (g.has_empty_rest() || !c.next()) break;
                c.advance();
            }
            // Not found. Start a grow if we hit the load factor or have too many
            // overflow buckets, and are not growing already; then start over.
            if (!oldbuckets_ && (detail::over_load_factor(count_ + 1, B_) ||
                                 detail::too_many_overflow_buckets(noverflow_, B_))) {
                hash_grow(detail::over_load_factor(count_ + 1, B_));
                continue;
            }
            if (!ins.b) {
                ins = new_overflow(c);
                insi = 0;
            }
            construct(ins.b, insi);
            ins.t[insi] = top;
            ++count_;
            return {&val_at(ins.b, insi), true};
        }
    }

    // ---- mapdelete ----
    template <class KK>
    bool mapdelete(const KK& key) {
        if (count_ == 0) return false;
        if (flags_.load(std::memory_order_relaxed) & detail::hash_writing) [[unlikely]]
            fatal("concurrent map writes");
        const std::uint64_t hash = hash_of(key);
        write_guard guard(flags_);
        if (pending_) [[unlikely]]
            collect();
        if (oldbuckets_) [[unlikely]] {
            try {
                grow_work(hash & bucket_mask(B_));
            } catch (...) {
                // The grow can wait for the next write; the delete can still be
                // done in whichever bucket holds the key now.
            }
        }
        const std::uint8_t top = detail::tophash(hash);
        const chain first = chain_for(hash);
        // It reads the keys; the values only if they have a destructor to run.
        if constexpr (val_boxed || !std::is_trivially_destructible_v<V>)
            prefetch_bucket<1>(first.b);
        else
            prefetch_keys(first.b);
        for (chain c = first; c.b; c.advance()) {
            const detail::tophash_group g(c.t);
            for (detail::slot_mask m = g.match(top); m; m.drop_first()) {
                unsigned i = m.first();
                if (!eq_(key, key_at(c.b, i))) continue;
                // key may refer to this very slot: do not use it from here on.
                drop_key(c.b, i);
                destroy_val(c.b, i);
                // The chain after slot i is empty if the next slot is emptyRest
                // (slot 7: if no overflow bucket follows, or its first is).
                const std::uint64_t w = detail::load_tophash(c.t);
                bool rest = (((w >> (8 * i)) >> 8) & 0xff) == detail::empty_rest;  // slot 7: 0
                if (i == detail::bucket_cnt - 1) [[unlikely]]  // the last slot: the next bucket decides
                    rest = !c.next() || c.next()->tophash[0] == detail::empty_rest;
                bool whole;
                detail::store_tophash(c.t, detail::empty_slot(w, i, rest, whole));
                // Rare: the emptyRest run filled an overflow bucket and goes on
                // in the one before it.
                while (c.b != first.b && whole) [[unlikely]] {
                    bmap* const after = c.b;
                    for (c = first; &c.next()->slots != after; c.advance()) {
                    }
                    unsigned j = detail::bucket_cnt;
                    while (j > 0 && c.t[j - 1] == detail::empty_one) c.t[--j] = detail::empty_rest;
                    whole = j == 0;
                }
                if (--count_ == 0) hash0_ = detail::rand64();
                return true;
            }
            if (g.has_empty_rest()) break;
        }
        return false;
    }

    // ---- growth ----
    void hash_grow(bool bigger) {
        bmap* nb = alloc_array(static_cast<std::uint8_t>(B_ + (bigger ? 1 : 0)));  // may throw: nothing changed
        set_oldbuckets(buckets_);
        buckets_ = nb;
        B_ = static_cast<std::uint8_t>(B_ + (bigger ? 1 : 0));
        same_size_ = !bigger;
        nevacuate_ = 0;
        noverflow_ = 0;
    }
    // Go's growWork: the old bucket the write is about to use, then one more
    // (nevacuate, the lowest not yet evacuated). When the two differ, gomp
    // evacuates them in the other order: the write's old bucket is random and
    // its lines come from memory, while nevacuate's were asked for by the
    // previous write, so evacuating nevacuate fills the wait. The same two
    // buckets are evacuated either way.
    void grow_work(std::size_t bucket) {
        const std::size_t ob = bucket & oldbucket_mask();
        if (ob == nevacuate_) {
            evacuate(ob);
            if (oldbuckets_) evacuate(nevacuate_);
        } else {
            prefetch_evacuation<false>(ob);
            evacuate(nevacuate_);
            if (oldbuckets_) evacuate(ob);
        }
        // The next write's nevacuate is known now: ask for its lines, so that
        // they arrive while the program runs up to that write. (With this
        // and the prefetches in evacuate and evacuate_chain, map_insert_p999
        // went from about 2x absl's to 0.8-1.4x on an AMD VM; 1.1-1.6x on an
        // Intel VM whose memory round trip is ~170 ns.)
        if (oldbuckets_) prefetch_evacuation(nevacuate_);
    }
    // Asks for the lines evacuating oldbucket reads or writes: the old
    // bucket and its tophash word, both destinations and their tophash words
    // (a store that misses holds up the stores behind it), and the old
    // bucket's overflow pointer. Chase: also reads that pointer and asks for
    // the overflow bucket; a load that waits, so not for the write's own
    // (random) old bucket while other work could run, only where the wait
    // is short or the data is needed next. Always inlined: GCC finds a
    // function of prefetches alone free of side effects and drops calls to it.
    template <bool Chase = true>
    [[gnu::always_inline]] void prefetch_evacuation(std::size_t oldbucket) const noexcept {
        const chain ob = old_head(oldbucket);
        __builtin_prefetch(ob.t);
        prefetch_bucket<0>(ob.b);
        prefetch_bucket<1>(buckets_ + oldbucket);
        __builtin_prefetch(tophash_of(buckets_, oldbucket), 1);
        if (!same_size_) {
            const std::size_t y = oldbucket + noldbuckets();
            prefetch_bucket<1>(buckets_ + y);
            __builtin_prefetch(tophash_of(buckets_, y), 1);
        }
        if constexpr (Chase) {
            if (const obucket* o = ob.next()) prefetch_overflow(o);
        } else {
            __builtin_prefetch(ob.ov);
        }
    }
    void finish_grow() {
        while (oldbuckets_) evacuate(nevacuate_);
    }

    // One evacuation decision, per live entry of the old chain, in order.
    struct evac_plan {
        std::uint8_t orig_top, new_top;
        bool use_y, forward;
    };
    struct evac_dst {
        chain c;
        unsigned i;  // the next free slot of c's bucket
    };

    void evacuate(std::size_t oldbucket) {
        const std::size_t newbit = noldbuckets();
        // The cache misses overlap instead of following one another.
        prefetch_evacuation(oldbucket);
        if (!evacuated(oldbucket)) evacuate_chain(oldbucket, newbit);
        if (oldbucket == nevacuate_) advance_evacuation_mark(newbit);
    }

    void evacuate_chain(std::size_t oldbucket, std::size_t newbit) {
        const chain ob = old_head(oldbucket);
        const bool iter_live = iters_.load(std::memory_order_acquire) != 0;
        if constexpr (detail::nothrow_hash_v<Hash, K>) {
            // One bucket's entries at most: an emptyRest in the first bucket
            // says the chain after it is empty.
            if (!iter_live && (detail::tophash_group(ob.t).has_empty_rest() || !ob.next())) {
                evacuate_one(ob, oldbucket, newbit);
                return;
            }
        }
        // Phase 1, nothing changed yet (a throwing Hash, Eq or allocation here
        // leaves the map as it was): decide where every entry goes, reserve the
        // overflow buckets and forwarding slots that will take.
        evac_plan small[2 * detail::bucket_cnt];
        std::vector<evac_plan> big;
        evac_plan* plan = small;
        std::size_t n = 0, ny = 0, nfwd = 0;
        for (chain c = ob; c.b; c.advance()) {
            if (const obucket* o = c.next()) prefetch_overflow(o);  // while this bucket is read
            for (unsigned i = 0; i < detail::bucket_cnt; ++i) {
                const std::uint8_t top = c.t[i];
                if (detail::is_empty_slot(top)) continue;
                const K& k = key_at(c.b, i);
                evac_plan p{top, top, false, false};
                // A key != key (NaN) cannot be found again by hash: with an
                // iterator alive, its side is the low bit of its tophash (the
                // iterator decided by that bit too) and its new slot is recorded.
                p.forward = iter_live && !self_equal(k);
                if (!same_size_) {
                    std::uint64_t hash = hash_of(k);
                    if (p.forward) {
                        p.use_y = (top & 1) != 0;
                        p.new_top = detail::tophash(hash);
                    } else {
                        p.use_y = (hash & newbit) != 0;
                    }
                }
                if (n == 2 * detail::bucket_cnt) {
                    big.assign(small, small + n);
                    plan = nullptr;
                }
                if (plan)
                    plan[n] = p;
                else
                    big.push_back(p);
                ++n;
                ny += p.use_y;
                nfwd += p.forward;
            }
        }
        if (!plan) plan = big.data();
        auto spill = [](std::size_t m) { return m > detail::bucket_cnt ? (m - 1) / detail::bucket_cnt : 0; };
        reserve_overflow(spill(n - ny) + spill(ny));
        if (nfwd) {
            if (!fwd_) fwd_ = new detail::fwd_table();
            fwd_->reserve(nfwd);
            pending_ = true;
        }

        // Phase 2: move (no iterator: nothing can throw) or copy (an iterator
        // may read the old slots: a key or value copy may throw; then undo).
        const evac_dst x0{head(oldbucket), 0};
        const evac_dst y0{same_size_ ? chain{nullptr, nullptr, nullptr} : head(oldbucket + newbit), 0};
        evac_dst xy[2] = {x0, y0};
        std::size_t j = 0;
        try {
            for (chain c = ob; c.b; c.advance()) {
                for (unsigned i = 0; i < detail::bucket_cnt; ++i) {
                    if (detail::is_empty_slot(c.t[i])) {
                        c.t[i] = detail::evacuated_empty;
                        continue;
                    }
                    const evac_plan p = plan[j];
                    evac_dst& d = xy[p.use_y];
                    if (d.i == detail::bucket_cnt) {
                        d.c = take_overflow(d.c);
                        d.i = 0;
                    }
                    move_entry(d.c.b, d.i, c.b, i, iter_live);
                    ++j;
                    d.c.t[d.i] = p.new_top;
                    c.t[i] = iter_live ? static_cast<std::uint8_t>(detail::evacuated_x + p.use_y)
                                       : detail::evacuated_empty;
                    if (p.forward) fwd_->put(slot_id(c.b, i), slot_id(d.c.b, d.i));
                    ++d.i;
                }
            }
        } catch (...) {
            undo_evacuate(ob, x0, y0, plan);
            throw;
        }
    }

    // The common case in one pass: entries in the first bucket only (at most
    // 8, so neither destination overflows; an empty overflow chain after it
    // is left as it is), no iterator (entries move; moves cannot
    // throw, see key_boxed and val_boxed) and a hash that cannot throw:
    // nothing can fail part way, so no plan and no undo.
    void evacuate_one(const chain ob, std::size_t oldbucket, std::size_t newbit) noexcept {
        bmap* dst[2] = {buckets_ + oldbucket, same_size_ ? nullptr : buckets_ + oldbucket + newbit};
        unsigned di[2] = {0, 0};
        // The destinations start empty: their tophash words are built here
        // and stored once each.
        std::uint64_t dw[2] = {0, 0};
        // Live slots: an old bucket not yet evacuated holds only empty and
        // live tophash bytes.
        for (detail::slot_mask live = detail::tophash_group(ob.t).match_used(); live; live.drop_first()) {
            const unsigned i = live.first();
            const unsigned y = same_size_ ? 0 : (hash_of(key_at(ob.b, i)) & newbit) != 0;
            move_entry(dst[y], di[y], ob.b, i, false);
            dw[y] |= std::uint64_t{ob.t[i]} << (8 * di[y]++);
        }
        std::memset(ob.t, detail::evacuated_empty, detail::bucket_cnt);
        detail::store_tophash(head(oldbucket).t, dw[0]);
        if (dst[1]) detail::store_tophash(head(oldbucket + newbit).t, dw[1]);
    }

    // Puts old slot (c, i)'s entry into new slot (d, di). With iterators alive
    // the old slot keeps a copy (or a moved-from husk for a non-copyable
    // value; boxed parts are shared, the new slot owning them).
    void move_entry(bmap* d, unsigned di, bmap* c, unsigned i, bool keep_old) {
        if constexpr (key_boxed) {
            ::new (kraw(d, di)) KS(*kslot(c, i));
        } else if (keep_old) {
            ::new (kraw(d, di)) K(std::as_const(key_at(c, i)));  // may throw
        } else {
            ::new (kraw(d, di)) K(std::move(key_at(c, i)));
            std::destroy_at(kslot(c, i));
        }
        if constexpr (!val_boxed && !val_empty) {
            if (keep_old) {
                V& sv = val_at(c, i);
                if constexpr (val_copyable) {
                    try {
                        ::new (vraw(d, di)) V(std::as_const(sv));
                    } catch (...) {
                        if constexpr (!key_boxed) std::destroy_at(kslot(d, di));
                        throw;
                    }
                } else {
                    ::new (vraw(d, di)) V(std::move(sv));
                }
                return;
            }
        }
        relocate_val(d, di, c, i);
    }

    // Phase 2 failed (only possible with iterators alive, copying): put back
    // every entry already copied, leave the destinations empty. The old chain
    // then reads as before, its emptyRest marks possibly weakened to emptyOne.
    void undo_evacuate(const chain ob, const evac_dst x0, const evac_dst y0, const evac_plan* plan) noexcept {
        evac_dst xy[2] = {x0, y0};
        std::size_t j = 0;
        for (chain c = ob; c.b; c.advance()) {
            for (unsigned i = 0; i < detail::bucket_cnt; ++i) {
                const std::uint8_t top = c.t[i];
                if (top == detail::evacuated_empty) {
                    c.t[i] = detail::empty_one;
                } else if (top == detail::evacuated_x || top == detail::evacuated_y) {
                    evac_dst& d = xy[top - detail::evacuated_x];
                    if (d.i == detail::bucket_cnt) {
                        d.c.advance();
                        d.i = 0;
                    }
                    // The old slot kept its key and value (copies were made):
                    // drop the new ones. Boxed parts were shared: nothing to drop.
                    if constexpr (!key_boxed) std::destroy_at(kslot(d.c.b, d.i));
                    if constexpr (!val_boxed && !val_empty) {
                        if constexpr (val_copyable) {
                            std::destroy_at(&val_at(d.c.b, d.i));
                        } else {
                            V& nv = val_at(d.c.b, d.i);
                            std::destroy_at(&val_at(c.b, i));  // the husk
                            ::new (vraw(c.b, i)) V(std::move(nv));
                            std::destroy_at(&nv);
                        }
                    }
                    c.t[i] = plan[j].orig_top;
                    ++j;
                    ++d.i;
                } else if (!detail::is_empty_slot(top)) {
                    ++j;  // not reached before the failure: untouched
                }
            }
        }
        for (chain d = x0.c; d.b; d.advance()) std::memset(d.t, detail::empty_rest, detail::bucket_cnt);
        for (chain d = y0.c; d.b; d.advance()) std::memset(d.t, detail::empty_rest, detail::bucket_cnt);
    }

    void advance_evacuation_mark(std::size_t newbit) noexcept {
        ++nevacuate_;
        // Bounded look-ahead over buckets already evacuated by writes, O(1).
        std::size_t stop = std::min(nevacuate_ + 1024, newbit);
        while (nevacuate_ != stop && evacuated(nevacuate_)) ++nevacuate_;
        if (nevacuate_ == newbit) {
            // Grow done: the old array goes (or waits for the iterators).
            retire(oldbuckets_);
            set_oldbuckets(nullptr);
            same_size_ = false;
        }
    }

    // ---- mapiterinit / mapiternext ----
    template <bool Const>
    class basic_iterator {
        using map_ptr = std::conditional_t<Const, const map*, map*>;
        using vref = std::conditional_t<Const, const V, V>;
        using entry_t = map_entry<K, vref>;

    public:
        using iterator_category = std::input_iterator_tag;
        using iterator_concept = std::input_iterator_tag;
        using value_type = entry_t;
        using difference_type = std::ptrdiff_t;
        using reference = entry_t&;
        using pointer = entry_t*;

        basic_iterator() noexcept {}
        basic_iterator(const basic_iterator& o) noexcept { copy_from(o); }
        basic_iterator(basic_iterator&& o) noexcept {
            copy_from(o);
            o.finish();
        }
        basic_iterator& operator=(const basic_iterator& o) noexcept {
            if (this != &o) {
                finish();
                copy_from(o);
            }
            return *this;
        }
        basic_iterator& operator=(basic_iterator&& o) noexcept {
            if (this != &o) {
                finish();
                copy_from(o);
                o.finish();
            }
            return *this;
        }
        ~basic_iterator() { finish(); }

        reference operator*() const noexcept { return u_.e; }
        pointer operator->() const noexcept { return &u_.e; }
        basic_iterator& operator++() {
            next();
            return *this;
        }
        void operator++(int) { next(); }

        // Iterators compare equal when both are done, or at the same slot.
        friend bool operator==(const basic_iterator& a, const basic_iterator& b) noexcept {
            if (!a.h_ || !b.h_) return a.h_ == b.h_;
            return a.cur_.b == b.cur_.b && a.i_ == b.i_ && a.bucket_ == b.bucket_;
        }

    private:
        friend class map;

        explicit basic_iterator(map_ptr h) {
            if (h->count_ == 0) return;
            h_ = h;
            h->iters_.fetch_add(1, std::memory_order_relaxed);
            B_ = h->B_;
            buckets_ = h->buckets_;
            // Decide where to start: a random bucket and slot offset.
            std::uint64_t r = detail::rand64();
            start_bucket_ = r & bucket_mask(B_);
            offset_ = static_cast<std::uint8_t>((r >> B_) & (detail::bucket_cnt - 1));
            bucket_ = start_bucket_;
            next();
        }

        void copy_from(const basic_iterator& o) noexcept {
            h_ = o.h_;
            if (!h_) return;
            h_->iters_.fetch_add(1, std::memory_order_relaxed);
            buckets_ = o.buckets_;
            cur_ = o.cur_;
            start_bucket_ = o.start_bucket_;
            bucket_ = o.bucket_;
            check_bucket_ = o.check_bucket_;
            B_ = o.B_;
            offset_ = o.offset_;
            i_ = o.i_;
            wrapped_ = o.wrapped_;
            std::construct_at(&u_.e, o.u_.e.first, o.u_.e.second);
        }
        void finish() noexcept {
            if (h_) {
                h_->iters_.fetch_sub(1, std::memory_order_acq_rel);
                h_ = nullptr;
            }
        }
        void yield(chain c, unsigned i, const K& k, vref& v, std::size_t bucket, std::size_t check) noexcept {
            std::construct_at(&u_.e, k, v);
            bucket_ = bucket;
            cur_ = c;
            i_ = static_cast<std::uint8_t>(i + 1);
            check_bucket_ = check;
        }

        void next() {
            const map& h = *h_;
            if (detail::peek_flags(h.flags_)) [[unlikely]]
                fatal("concurrent map iteration and map write");
            std::size_t bucket = bucket_;
            chain c = cur_;
            unsigned i = i_;
            std::size_t check = check_bucket_;
            for (;;) {
                if (!c.b) {
                    if (bucket == start_bucket_ && wrapped_) {
                        finish();  // end of iteration
                        return;
                    }
                    c = head(buckets_, bucket);
                    check = detail::no_check;
                    if (h.oldbuckets_ && B_ == h.B_) {
                        // Started during a grow that is still running: if the
                        // bucket's old bucket is not evacuated yet, walk the old
                        // one, keeping only entries headed for this bucket.
                        const std::size_t ob = bucket & h.oldbucket_mask();
                        if (!h.evacuated(ob)) {
                            c = h.old_head(ob);
                            check = bucket;
                        }
                    }
                    if (++bucket == (std::size_t{1} << B_)) {
                        bucket = 0;
                        wrapped_ = true;
                    }
                    i = 0;
                }
                for (; i < detail::bucket_cnt; ++i) {
                    const unsigned offi = (i + offset_) & (detail::bucket_cnt - 1);
                    const std::uint8_t top = c.t[offi];
                    if (detail::is_empty_slot(top) || top == detail::evacuated_empty) continue;
                    const K& k = key_at(c.b, offi);
                    if (check != detail::no_check && !h.same_size_) {
                        if (h.self_equal(k)) {
                            // Skip entries that evacuation sends to the other half.
                            if ((h.hash_of(k) & bucket_mask(B_)) != check) continue;
                        } else {
                            // key != key (NaN): the hash is not repeatable; the
                            // low tophash bit picks the half, as evacuate does.
                            if ((check >> (B_ - 1)) != static_cast<std::size_t>(top & 1)) continue;
                        }
                    }
                    if (top != detail::evacuated_x && top != detail::evacuated_y) {
                        yield(c, i, k, val_at(c.b, offi), bucket, check);  // the golden data
                        return;
                    }
                    // Evacuated since the iterator started: the entry lives on
                    // in the current table, or was deleted. Find it again.
                    std::uintptr_t s;
                    if (h.self_equal(k)) {
                        s = h.access(k, h.hash_of(k), slot_id, std::uintptr_t{0});
                    } else {
                        s = slot_id(c.b, offi);
                        for (std::uintptr_t f; h.fwd_ && (f = h.fwd_->get(s)) != 0;) s = f;
                        if (s == slot_id(c.b, offi) || h.top_of_slot(s) < detail::min_top_hash) s = 0;
                    }
                    if (!s) continue;  // deleted
                    bmap* nb = slot_bucket(s);
                    unsigned ni = slot_index(s);
                    yield(c, i, key_at(nb, ni), val_at(nb, ni), bucket, check);
                    return;
                }
                c.advance();
                i = 0;
            }
        }

        // The entry (two references) is rebuilt in place at each step. raw
        // starts the union zeroed, so a copied iterator never reads
        // indeterminate bytes (and GCC's -Wmaybe-uninitialized agrees).
        union storage {
            storage() noexcept : raw{} {}
            ~storage() {}
            const void* raw[2];
            entry_t e;
        };

        map_ptr h_ = nullptr;  // null: done
        bmap* buckets_ = nullptr;
        chain cur_{nullptr, nullptr, nullptr};  // the bucket being walked; b null: go to bucket_
        std::size_t start_bucket_ = 0;
        std::size_t bucket_ = 0;
        std::size_t check_bucket_ = detail::no_check;
        std::uint8_t B_ = 0;
        std::uint8_t offset_ = 0;
        std::uint8_t i_ = 0;
        bool wrapped_ = false;
        mutable storage u_;
    };

    // ---- hmap ----
    bmap* buckets_ = nullptr;  // 2^B buckets; null until the first insert
    std::size_t count_ = 0;    // live entries: len(m)
    std::uint64_t hash0_;      // the seed
    std::uint8_t B_ = 0;       // log2 of the bucket count
    bool same_size_ = false;   // the running grow keeps the size
    bool pending_ = false;     // something is kept for iterators (collect() has work)
    std::atomic<std::uint8_t> flags_{0};  // hashWriting, growing_flag; relaxed, best effort, as Go
    std::uint16_t noverflow_ = 0;         // overflow buckets, approximately
    bmap* oldbuckets_ = nullptr;          // the previous array while growing
    std::size_t nevacuate_ = 0;           // old buckets below this are evacuated
    mutable std::atomic<std::uint32_t> iters_{0};  // live iterators
    array_hdr* retired_ = nullptr;                 // arrays kept for live iterators
    key_box* graveyard_ = nullptr;                 // deleted boxed keys kept for them
    detail::fwd_table* fwd_ = nullptr;             // NaN forwarding
    [[no_unique_address]] Hash hash_;
    [[no_unique_address]] Eq eq_;
};

}  // namespace gomp
