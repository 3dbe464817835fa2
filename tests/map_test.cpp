// Tests for gomp/map.hpp: Go's map operations, growth, range semantics, NaN
// keys, element lifetimes, exceptions and the concurrent-misuse fatal error.
// Many cases follow Go's runtime/map_test.go.
#include <gomp/map.hpp>

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace {

// ---- instrumented element type ----
// Counts live objects; a magic word catches use of dead objects and double
// destruction; throw_after makes the Nth copy or construction throw.
struct tracker {
    static inline long live = 0;
    static inline long errors = 0;
    static inline long throw_after = 0;  // 0: never; else throw on the Nth throwing op from now
    static void maybe_throw() {
        if (throw_after > 0 && --throw_after == 0) throw std::runtime_error("tracker: injected failure");
    }
};

struct counted {
    static constexpr std::uint32_t alive = 0xA11CE5u, dead = 0xDEADu;
    std::uint64_t v = 0;
    std::uint32_t magic = alive;

    explicit counted(std::uint64_t x) : v(x) {
        tracker::maybe_throw();
        ++tracker::live;
    }
    counted(const counted& o) : v(o.v) {
        if (o.magic != alive) ++tracker::errors;
        tracker::maybe_throw();
        ++tracker::live;
    }
    counted(counted&& o) noexcept : v(o.v) {
        if (o.magic != alive) ++tracker::errors;
        ++tracker::live;
    }
    counted& operator=(const counted& o) {
        if (o.magic != alive || magic != alive) ++tracker::errors;
        v = o.v;
        return *this;
    }
    counted& operator=(counted&& o) noexcept {
        if (o.magic != alive || magic != alive) ++tracker::errors;
        v = o.v;
        return *this;
    }
    ~counted() {
        if (magic != alive) ++tracker::errors;  // double destruction
        magic = dead;
        --tracker::live;
    }
    bool operator==(const counted& o) const {
        if (o.magic != alive || magic != alive) ++tracker::errors;
        return v == o.v;
    }
    friend std::uint64_t gomp_hash(const counted& c, std::uint64_t seed) noexcept {
        return gomp::hash<std::uint64_t>{}(c.v, seed);
    }
};

struct tracker_scope {
    tracker_scope() {
        tracker::live = 0;
        tracker::errors = 0;
        tracker::throw_after = 0;
    }
    ~tracker_scope() { tracker::throw_after = 0; }
};

using cmap = gomp::map<counted, counted>;

// Identity hash: keys choose their bucket (k mod 2^B) deterministically.
struct ident_hash {
    std::uint64_t operator()(std::uint64_t k, std::uint64_t) const noexcept { return k; }
};

template <class M>
std::vector<typename M::key_type> keys_in_order(M& m) {
    std::vector<typename M::key_type> out;
    for (auto& [k, v] : m) {
        (void)v;
        out.push_back(k);
    }
    return out;
}

}  // namespace

TEST_CASE("an empty map: lookups, erase and range do nothing") {
    gomp::map<int, int> m;
    CHECK(m.size() == 0);
    CHECK(m.empty());
    CHECK(m.find_ptr(1) == nullptr);
    CHECK(!m.contains(1));
    CHECK(m.get(1) == 0);
    CHECK(m.get(1, 7) == 7);
    CHECK(!m.erase(1));
    CHECK(m.begin() == m.end());
    m.clear();
    CHECK(m.bucket_count() == 1);
}

TEST_CASE("m[k], find_ptr, get, contains, erase: Go's map operations") {
    gomp::map<int, std::string> m;
    m[1] = "one";
    m[2] = "two";
    m[2] += "!";
    CHECK(m.size() == 2);
    REQUIRE(m.find_ptr(2) != nullptr);
    CHECK(*m.find_ptr(2) == "two!");
    CHECK(m.get(1) == "one");
    CHECK(m.get(3) == "");  // Go's zero value
    CHECK(m.get(3, "none") == "none");
    CHECK(m.contains(1));
    CHECK(m.size() == 2);  // get/find never insert
    CHECK(m.erase(1));
    CHECK(!m.erase(1));  // delete of an absent key: no-op
    CHECK(m.size() == 1);
    CHECK(!m.contains(1));
    const auto& cm = m;
    REQUIRE(cm.find_ptr(2) != nullptr);
    CHECK(*cm.find_ptr(2) == "two!");
}

TEST_CASE("try_emplace keeps an existing value; insert_or_assign replaces it") {
    gomp::map<std::string, std::unique_ptr<int>> m;
    auto [v1, ins1] = m.try_emplace("a", std::make_unique<int>(1));
    CHECK(ins1);
    CHECK(*v1 == 1);
    auto p = std::make_unique<int>(2);
    auto [v2, ins2] = m.try_emplace("a", std::move(p));
    CHECK(!ins2);
    CHECK(*v2 == 1);
    CHECK(p != nullptr);  // not moved from: nothing was inserted
    auto [v3, ins3] = m.insert_or_assign("a", std::make_unique<int>(3));
    CHECK(!ins3);
    CHECK(*v3 == 3);
    auto [v4, ins4] = m.insert_or_assign(std::string("b"), std::make_unique<int>(4));
    CHECK(ins4);
    CHECK(*v4 == 4);
    CHECK(m.size() == 2);
}

TEST_CASE("delete's emptyRest marking matches Go's loop, for every bucket state") {
    // mapdelete empties slot i; if every later slot of the chain is empty
    // (rest), slot i and the emptyOne run just below it become emptyRest.
    // gomp computes that on the tophash word without branches
    // (detail::empty_slot); Go's loop, byte by byte, is the reference.
    const std::uint8_t states[] = {gomp::detail::empty_rest, gomp::detail::empty_one, 7, 200};
    int cases = 0;
    for (int code = 0; code < 4 * 4 * 4 * 4 * 4 * 4 * 4 * 4; ++code) {
        std::uint8_t t[8];
        for (int k = 0, c = code; k < 8; ++k, c /= 4) t[k] = states[c % 4];
        for (unsigned i = 0; i < 8; ++i) {
            for (bool rest : {false, true}) {
                std::uint8_t want[8];
                std::memcpy(want, t, 8);
                want[i] = gomp::detail::empty_one;
                bool want_whole = false;
                if (rest) {
                    for (unsigned j = i;; --j) {
                        want[j] = gomp::detail::empty_rest;
                        if (j == 0) {
                            want_whole = true;
                            break;
                        }
                        if (want[j - 1] != gomp::detail::empty_one) break;
                    }
                }
                bool whole = !want_whole;
                const std::uint64_t got =
                    gomp::detail::empty_slot(gomp::detail::load_tophash(t), i, rest, whole);
                std::uint8_t g[8];
                gomp::detail::store_tophash(g, got);
                REQUIRE(std::memcmp(g, want, 8) == 0);
                REQUIRE(whole == want_whole);
                ++cases;
            }
        }
    }
    CHECK(cases == 65536 * 16);
}

TEST_CASE("bucket counts follow Go's load factor 6.5, from empty and from a hint") {
    // Go's overLoadFactor(count, B): count > 8 && count > 6.5 * 2^B.
    const std::pair<std::size_t, std::size_t> cases[] = {
        {0, 1}, {8, 1}, {9, 2}, {13, 2}, {14, 4}, {26, 4}, {27, 8}, {52, 8}, {53, 16}, {104, 16}, {105, 32}};
    for (const auto& c : cases) {
        const std::size_t n = c.first, buckets = c.second;  // not a binding: CAPTURE's lambda takes it
        CAPTURE(n);
        gomp::map<std::size_t, int> m;
        for (std::size_t i = 0; i < n; ++i) m[i] = 1;
        CHECK(m.bucket_count() == buckets);
        gomp::map<std::size_t, int> h(n);  // make(map, n)
        CHECK(h.bucket_count() == buckets);
        for (std::size_t i = 0; i < n; ++i) h[i] = 1;
        CHECK(h.bucket_count() == buckets);  // a hint means no grow up to n
        CHECK(!h.growing());
    }
}

TEST_CASE("growth is incremental: two old buckets per write until done") {
    gomp::map<std::uint64_t, std::uint64_t> m;
    std::uint64_t i = 0;
    while (m.bucket_count() < 2048) {
        m[i] = i;
        ++i;
    }
    // The insert that crossed 6.5 * 1024 started a grow of 1024 old buckets.
    CHECK(m.growing());
    CHECK(!m.same_size_growing());
    int writes = 0;
    while (m.growing()) {
        m[i] = i;
        ++i;
        ++writes;
        for (std::uint64_t j = 0; j < i; j += 97) REQUIRE(m.get(j) == j);  // lookups read old or new buckets
    }
    CHECK(writes >= 511);  // at most two old buckets per write
    CHECK(writes <= 1024);
    for (std::uint64_t j = 0; j < i; ++j) REQUIRE(m.get(j) == j);
    // Deletes do grow work too.
    while (m.bucket_count() < 4096) {
        m[i] = i;
        ++i;
    }
    CHECK(m.growing());
    std::uint64_t j = 0;
    while (m.growing()) CHECK(m.erase(j++));
    CHECK(m.size() == i - j);
}

TEST_CASE("big tables (bucket arrays of 2 MiB and more, mmap'd): grow, clear, reuse, grow under a range") {
    // Mismatches are counted and checked once: a doctest assertion per
    // operation would make this case slow under the sanitizers.
    using M = gomp::map<std::uint64_t, std::uint64_t>;
    constexpr std::uint64_t n = 120000;  // 2^15 buckets of 144 bytes: 4.7 MB
    long bad = 0;
    M m;
    for (std::uint64_t i = 0; i < n; ++i) m[i * 7919] = i;
    CHECK(m.bucket_count() >= 16384);
    CHECK(m.bucket_count() * M::bucket_bytes() >= (std::size_t{2} << 20));
    for (std::uint64_t i = 0; i < n; i += 3) bad += m.get(i * 7919) != i;
    for (std::uint64_t i = 0; i < n; i += 2) bad += !m.erase(i * 7919);
    CHECK(bad == 0);
    CHECK(m.size() == n / 2);
    m.clear();  // the array is emptied in place and reused
    CHECK(m.empty());
    CHECK(m.bucket_count() >= 16384);
    for (std::uint64_t i = 0; i < n; ++i) bad += m.contains(i * 7919);
    CHECK(bad == 0);
    for (std::uint64_t i = 0; i < n; ++i) m[i] = i;
    // A range during which the table grows from 2^15 to 2^16 buckets: every
    // entry present at the start is produced exactly once, with its value.
    std::vector<char> seen(n, 0);
    std::uint64_t next = n;
    for (auto& [k, v] : m) {
        if (k < n) {
            bad += v != k;
            bad += seen[k]++ != 0;
        }
        for (int t = 0; t < 2; ++t, ++next) m[next] = next;
    }
    CHECK(bad == 0);
    CHECK(std::count(seen.begin(), seen.end(), 1) == static_cast<long>(n));
    CHECK(m.bucket_count() >= 65536);
    for (std::uint64_t i = 0; i < next; i += 5) bad += m.get(i) != i;
    CHECK(bad == 0);
}

TEST_CASE("a same-size grow compacts overflow buckets left behind by deletes") {
    gomp::map<std::uint64_t, int, ident_hash> m(200);
    REQUIRE(m.bucket_count() == 32);
    // Fill each bucket's chain past 8 (one overflow bucket each), then empty it.
    for (std::uint64_t b = 0; b < 32; ++b) {
        for (std::uint64_t t = 0; t < 9; ++t) m[b + 32 * t] = 1;
        for (std::uint64_t t = 0; t < 9; ++t) CHECK(m.erase(b + 32 * t));
    }
    CHECK(m.size() == 0);
    CHECK(m.overflow_bucket_count() == 32);
    CHECK(!m.growing());
    m[5] = 1;  // tooManyOverflowBuckets: as many overflow buckets as buckets
    CHECK(m.same_size_growing());
    CHECK(m.bucket_count() == 32);
    int writes = 0;
    for (std::uint64_t k = 1000; m.growing(); ++k, ++writes) m[k] = 1;
    CHECK(writes >= 15);
    CHECK(m.bucket_count() == 32);
    CHECK(m.get(5) == 1);
    CHECK(m.overflow_bucket_count() == 0);
}

TEST_CASE("NaN keys: every insert is a new entry, none is found, all are iterated") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    gomp::map<double, int> m;
    for (int i = 0; i < 1000; ++i) m[nan] = i;  // grows several times
    CHECK(m.size() == 1000);
    CHECK(m.find_ptr(nan) == nullptr);
    CHECK(!m.erase(nan));
    std::set<int> vals;
    for (auto& [k, v] : m) {
        CHECK(std::isnan(k));
        CHECK(vals.insert(v).second);
    }
    CHECK(vals.size() == 1000);
    m.clear();  // Go 1.21's clear removes NaN entries too
    CHECK(m.size() == 0);
    CHECK(m.begin() == m.end());
}

TEST_CASE("NaN keys: finishing a grow mid-iteration (Go's TestMapNanGrowIterator)") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    gomp::map<double, int> m;
    const int nbuckets = 16;
    const int nkeys = nbuckets * 13 / 2;  // fills 16 buckets to the load factor
    for (int i = 0; i < nkeys; ++i) m[nan] = i;
    m[1.0] = 1;  // trigger a grow
    m.erase(1.0);
    REQUIRE(m.growing());
    std::set<int> found;
    for (auto& [k, v] : m) {
        (void)k;
        CHECK(found.insert(v).second);  // no repeats
        if (static_cast<int>(found.size()) == nkeys / 2)
            for (int i = 0; i < nbuckets; ++i) m.erase(1.0);  // grow work: finish the grow
    }
    CHECK(static_cast<int>(found.size()) == nkeys);
}

TEST_CASE("NaN keys: a grow started under the iteration still yields each current value once") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    gomp::map<double, int> m;
    for (int i = 0; i < 500; ++i) m[nan] = i;
    for (auto& [k, v] : m) {
        (void)k;
        v += 10000;  // values are changed in place
    }
    std::set<int> found;
    bool first = true;
    for (auto& [k, v] : m) {
        if (!std::isnan(k)) continue;  // inserted during the loop: may or may not be produced
        CHECK(v >= 10000);             // the current value, not a stale copy
        CHECK(found.insert(v).second);
        if (first) {
            first = false;
            for (int i = 0; i < 5000; ++i) m[static_cast<double>(i)] = i;  // two grows, evacuating NaN entries
        }
    }
    CHECK(found.size() == 500);
}

TEST_CASE("+0 and -0 are one key; assigning through -0 stores -0 (Go's key update)") {
    gomp::map<double, int> m;
    m[0.0] = 1;
    m[-0.0] = 2;
    CHECK(m.size() == 1);
    CHECK(m.get(0.0) == 2);
    for (auto& [k, v] : m) {
        (void)v;
        CHECK(std::signbit(k));
    }
    m.try_emplace(0.0, 3);  // does not assign, so does not update the key either
    for (auto& [k, v] : m) {
        CHECK(std::signbit(k));
        CHECK(v == 2);
    }
}

TEST_CASE("deleting during a growing iteration (Go's TestIterGrowAndDelete)") {
    gomp::map<int, int> m(4);
    for (int i = 0; i < 100; ++i) m[i] = i;
    bool growflag = true;
    for (auto& [k, v] : m) {
        (void)v;
        if (growflag) {
            for (int i = 100; i < 1000; ++i) m[i] = i;  // grow the table
            for (int i = 1; i < 1000; i += 2) m.erase(i);  // delete all odd keys
            growflag = false;
        } else {
            CHECK((k & 1) == 0);  // no deleted key is produced
        }
    }
}

TEST_CASE("every entry is produced once while the table grows under the iteration (Go's TestIterGrowWithGC)") {
    gomp::map<int, int> m(4);
    for (int i = 0; i < 8; ++i) m[i] = i;
    for (int i = 8; i < 16; ++i) m[i] += i;
    bool growflag = true;
    std::uint32_t bitmask = 0;
    int produced_small = 0;
    for (auto& [k, v] : m) {
        (void)v;
        if (k < 16) {
            CHECK((bitmask & (1u << k)) == 0);
            bitmask |= 1u << k;
            ++produced_small;
        }
        if (growflag) {
            for (int i = 100; i < 1000; ++i) m[i] = i;
            growflag = false;
        }
    }
    CHECK(bitmask == 0xFFFFu);
    CHECK(produced_small == 16);
}

TEST_CASE("a range started during a grow reads unevacuated old buckets exactly once") {
    for (int round = 0; round < 20; ++round) {
        gomp::map<std::uint64_t, std::uint64_t> m;
        std::uint64_t n = 0;
        while (m.bucket_count() < 512) {
            m[n] = n;
            ++n;
        }
        REQUIRE(m.growing());
        std::unordered_set<std::uint64_t> seen;
        std::uint64_t extra = 1u << 20;
        for (auto& [k, v] : m) {
            CHECK(v == k);
            if (k < n) CHECK(seen.insert(k).second);
            m[extra] = extra;  // keeps evacuating as the iteration goes
            ++extra;
        }
        for (std::uint64_t k = 0; k < n; ++k) CHECK(seen.count(k) == 1);
    }
}

TEST_CASE("iteration order differs between iterations (Go's TestMapIterOrder)") {
    for (int n : {3, 7, 9, 15}) {
        CAPTURE(n);
        gomp::map<int, bool> m;
        for (int i = 0; i < n; ++i) m[i] = true;
        auto first = keys_in_order(m);
        bool differs = false;
        for (int tries = 0; tries < 1000 && !differs; ++tries) differs = keys_in_order(m) != first;
        CHECK(differs);
    }
}

TEST_CASE("range: delete every key as it comes (for k := range m { delete(m, k) })") {
    gomp::map<std::string, int> m;
    for (int i = 0; i < 3000; ++i) m[std::to_string(i)] = i;
    int n = 0;
    for (auto& [k, v] : m) {
        (void)v;
        CHECK(m.erase(k));  // k refers to the slot erase destroys
        ++n;
    }
    CHECK(n == 3000);
    CHECK(m.empty());
}

TEST_CASE("range: the entry references stay readable across writes in the loop body") {
    gomp::map<int, std::string> m;
    for (int i = 0; i < 600; ++i) m[i] = "value-that-is-long-enough-to-allocate-" + std::to_string(i);
    for (auto& [k, v] : m) {
        if (k < 600) m[k + 100000] = v;  // m[...] may evacuate v's bucket before v is read
    }
    for (int i = 0; i < 600; ++i) CHECK(m.get(i + 100000) == m.get(i));
}

TEST_CASE("clear during a range ends it") {
    gomp::map<int, int> m;
    for (int i = 0; i < 1000; ++i) m[i] = i;
    int produced = 0;
    for (auto& [k, v] : m) {
        (void)k;
        (void)v;
        ++produced;
        m.clear();
    }
    CHECK(produced == 1);
    CHECK(m.empty());
    m[1] = 1;  // the map is usable afterwards
    CHECK(m.get(1) == 1);
}

namespace {
struct big {
    std::array<std::uint64_t, 40> w{};
    bool operator==(const big&) const = default;
    friend std::uint64_t gomp_hash(const big& b, std::uint64_t seed) noexcept {
        return gomp::detail::hash_bytes(b.w.data(), sizeof b.w, seed);
    }
};
template <class M>
concept has_subscript = requires(M m) { m[1]; };
}  // namespace

TEST_CASE("big keys and values") {
    gomp::map<big, big> m;
    for (std::uint64_t i = 0; i < 2000; ++i) {
        big k, v;
        k.w[0] = i;
        k.w[39] = i * 3;
        v.w[5] = i + 1;
        m[k] = v;
    }
    CHECK(m.size() == 2000);
    for (std::uint64_t i = 0; i < 2000; ++i) {
        big k;
        k.w[0] = i;
        k.w[39] = i * 3;
        const big* v = m.find_ptr(k);
        REQUIRE(v != nullptr);
        CHECK(v->w[5] == i + 1);
    }
}

TEST_CASE("a set: an empty value type takes no space in the buckets") {
    struct empty {};
    static_assert(gomp::map<int, std::monostate>::bucket_bytes() == 8 + 8 + 8 * sizeof(int));
    static_assert(gomp::map<int, empty>::bucket_bytes() == 8 + 8 + 8 * sizeof(int));
    static_assert(gomp::map<int, char>::bucket_bytes() > gomp::map<int, empty>::bucket_bytes());
    gomp::map<int, std::monostate> set;
    for (int i = 0; i < 1000; ++i) set[i % 300];
    CHECK(set.size() == 300);
    CHECK(set.contains(299));
    CHECK(!set.contains(300));
    int n = 0;
    for (auto& [k, v] : set) {
        (void)k;
        (void)v;
        ++n;
    }
    CHECK(n == 300);
}

namespace {
struct move_only_key {
    int v;
    explicit move_only_key(int x) : v(x) {}
    move_only_key(move_only_key&&) noexcept = default;
    move_only_key(const move_only_key&) = delete;
    bool operator==(const move_only_key& o) const { return v == o.v; }
    friend std::uint64_t gomp_hash(const move_only_key& k, std::uint64_t seed) noexcept {
        return gomp::hash<int>{}(k.v, seed);
    }
};
struct no_default {
    int v;
    explicit no_default(int x) : v(x) {}
};
struct throwing_move {
    int v;
    explicit throwing_move(int x) : v(x) {}
    throwing_move(const throwing_move&) = default;
    throwing_move(throwing_move&& o) noexcept(false) : v(o.v) {}
    throwing_move& operator=(const throwing_move&) = default;
};
}  // namespace

TEST_CASE("move-only keys and values, also across growth under an iteration") {
    gomp::map<move_only_key, std::unique_ptr<int>> m;
    for (int i = 0; i < 50; ++i) m.try_emplace(move_only_key(i), std::make_unique<int>(i));
    std::set<int> seen;
    int next = 1000;
    for (auto& [k, v] : m) {
        CHECK(*v == k.v);
        if (k.v < 50) CHECK(seen.insert(k.v).second);
        for (int j = 0; j < 20; ++j, ++next) m.try_emplace(move_only_key(next), std::make_unique<int>(next));
        if (k.v < 50 && k.v % 2 == 0) m.erase(move_only_key(k.v + 1));  // may be unreached yet
    }
    for (int i = 0; i < 50; i += 2) CHECK(seen.count(i));
    for (int i = 1; i < 50; i += 2) CHECK(!m.contains(move_only_key(i)));
    for (int i = 1000; i < next; ++i) REQUIRE(*m.find_ptr(move_only_key(i)) != nullptr);
    CHECK(m[move_only_key(7000)] == nullptr);  // operator[] inserts a default value
}

TEST_CASE("values that are not default-constructible; values whose move may throw") {
    gomp::map<int, no_default> m;
    static_assert(!has_subscript<gomp::map<int, no_default>>);
    static_assert(has_subscript<gomp::map<int, int>>);
    for (int i = 0; i < 100; ++i) m.try_emplace(i, i * 2);
    m.insert_or_assign(5, no_default(-1));
    CHECK(m.find_ptr(5)->v == -1);
    CHECK(m.find_ptr(6)->v == 12);

    gomp::map<int, throwing_move> t;  // stored boxed: evacuation never moves them
    for (int i = 0; i < 1000; ++i) t.try_emplace(i, i);
    for (auto& [k, v] : t) {
        if (k == 0)
            for (int i = 1000; i < 3000; ++i) t.try_emplace(i, i);
        CHECK(v.v == k);
    }
    for (int i = 0; i < 3000; ++i) CHECK(t.find_ptr(i)->v == i);
}

TEST_CASE("string keys: lookup, erase and insert by string_view and const char*") {
    gomp::map<std::string, int> m;
    for (int i = 0; i < 100; ++i) m["a-key-long-enough-to-need-the-heap-" + std::to_string(i)] = i;
    std::string probe = "a-key-long-enough-to-need-the-heap-42";
    std::string_view sv = probe;
    CHECK(m.get(sv) == 42);
    CHECK(m.contains(probe.c_str()));
    CHECK(m.find_ptr("nope") == nullptr);
    CHECK(m.erase(sv));
    CHECK(!m.contains(sv));
    m[sv] = 7;  // heterogeneous insert: builds the key only now
    CHECK(m.get(probe) == 7);
}

namespace {
long g_string_allocs = 0;
template <class T>
struct counting_allocator {
    using value_type = T;
    counting_allocator() = default;
    template <class U>
    counting_allocator(const counting_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) {
        ++g_string_allocs;
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    bool operator==(const counting_allocator&) const noexcept { return true; }
};
using counted_string = std::basic_string<char, std::char_traits<char>, counting_allocator<char>>;
}  // namespace

TEST_CASE("string keys: heterogeneous lookups allocate nothing") {
    gomp::map<counted_string, int> m;
    for (int i = 0; i < 200; ++i) m[counted_string("key-long-enough-for-heap-") + std::to_string(i).c_str()] = i;
    const long before = g_string_allocs;
    std::string_view hit = "key-long-enough-for-heap-77";
    int sum = 0;
    for (int r = 0; r < 100; ++r) {
        sum += m.get(hit);
        sum += m.contains("key-long-enough-for-heap-miss") ? 1 : 0;
        if (const int* p = m.find_ptr("key-long-enough-for-heap-5")) sum += *p;
    }
    CHECK(sum == 100 * (77 + 5));
    CHECK(g_string_allocs == before);
}

TEST_CASE("copy (maps.Clone), move, swap, initializer list") {
    gomp::map<std::string, int> a{{"x", 1}, {"y", 2}, {"z", 3}};
    CHECK(a.size() == 3);
    gomp::map<std::string, int> b = a;
    b["x"] = 10;
    CHECK(a.get("x") == 1);  // a copy, not Go's shared reference
    CHECK(b.get("x") == 10);
    gomp::map<std::string, int> c = std::move(b);
    CHECK(c.size() == 3);
    CHECK(b.size() == 0);  // NOLINT: moved-from map is empty and usable
    b["w"] = 4;
    CHECK(b.size() == 1);
    swap(b, c);
    CHECK(b.size() == 3);
    CHECK(c.get("w") == 4);
    a = c;
    CHECK(a.size() == 1);
    a = std::move(b);
    CHECK(a.size() == 3);
    CHECK(a.get("z") == 3);
}

TEST_CASE("reserve and the hint make room without a grow; reserve keeps entries") {
    gomp::map<int, int> m;
    for (int i = 0; i < 100; ++i) m[i] = i;
    m.reserve(10000);
    CHECK(!m.growing());
    const std::size_t b = m.bucket_count();
    CHECK(b >= 2048);  // 10000 / 6.5 = 1539 buckets at least
    for (int i = 0; i < 100; ++i) CHECK(m.get(i) == i);
    for (int i = 100; i < 10000; ++i) m[i] = i;
    CHECK(m.bucket_count() == b);
    CHECK(!m.growing());
}

TEST_CASE("iterators: input_iterator, const maps, std algorithms") {
    static_assert(std::input_iterator<gomp::map<int, int>::iterator>);
    static_assert(std::input_iterator<gomp::map<int, int>::const_iterator>);
    gomp::map<int, int> m;
    for (int i = 0; i < 100; ++i) m[i] = i % 3;
    const auto& cm = m;
    CHECK(std::count_if(cm.begin(), cm.end(), [](const auto& e) { return e.second == 0; }) == 34);
    for (const auto& [k, v] : cm) CHECK(v == k % 3);
    auto it = m.begin();
    auto copy = it;
    CHECK(copy == it);
    ++copy;
    CHECK(copy != it);
    it->second = 42;
    CHECK(m.get(it->first) == 42);
}

TEST_CASE("lifetimes: no leak, no double destruction through inserts, erases, growth, clear") {
    tracker_scope ts;
    {
        cmap m;
        for (std::uint64_t i = 0; i < 5000; ++i) m.insert_or_assign(counted(i), counted(i * 2));
        CHECK(tracker::live == 2 * 5000);
        for (std::uint64_t i = 0; i < 5000; i += 3) CHECK(m.erase(counted(i)));
        CHECK(tracker::live == 2 * static_cast<long>(m.size()));
        for (std::uint64_t i = 0; i < 5000; ++i) m.insert_or_assign(counted(i), counted(i));  // assign + insert
        CHECK(tracker::live == 2 * 5000);
        m.clear();
        CHECK(tracker::live == 0);
        for (std::uint64_t i = 0; i < 3000; ++i) m.try_emplace(counted(i), i);
        CHECK(tracker::live == 2 * 3000);
    }
    CHECK(tracker::live == 0);
    CHECK(tracker::errors == 0);
}

TEST_CASE("lifetimes: destroying a map in the middle of a grow") {
    tracker_scope ts;
    {
        cmap m;
        std::uint64_t i = 0;
        while (m.bucket_count() < 1024) {
            m.try_emplace(counted(i), i + 1);
            ++i;
        }
        REQUIRE(m.growing());
    }
    CHECK(tracker::live == 0);
    CHECK(tracker::errors == 0);
}

TEST_CASE("lifetimes: copies kept for a live iteration are freed after it") {
    tracker_scope ts;
    {
        cmap m;
        for (std::uint64_t i = 0; i < 1000; ++i) m.try_emplace(counted(i), i);
        std::uint64_t next = 100000;
        std::set<std::uint64_t> seen;
        for (auto& [k, v] : m) {
            CHECK(k.v == v.v);
            if (k.v < 1000) CHECK(seen.insert(k.v).second);
            for (int j = 0; j < 8; ++j, ++next) m.try_emplace(counted(next), next);  // grows while iterating
            m.erase(counted(next - 3));
        }
        CHECK(seen.size() == 1000);
        CHECK(tracker::live > 2 * static_cast<long>(m.size()));  // old slots' copies, kept for the iterator
        m.try_emplace(counted(1), 1);  // a write with no iterator alive frees them
        for (std::uint64_t n = 0; n < 100000 && m.growing(); ++n) m.erase(counted(n + 5000000));
        CHECK(!m.growing());
        m.erase(counted(1u << 30));
        CHECK(tracker::live == 2 * static_cast<long>(m.size()));
        m.clear();
        CHECK(tracker::live == 0);
    }
    CHECK(tracker::live == 0);
    CHECK(tracker::errors == 0);
}

TEST_CASE("exceptions: a throwing key or value constructor leaves the map as it was") {
    tracker_scope ts;
    {
        cmap m;
        for (std::uint64_t i = 0; i < 100; ++i) m.try_emplace(counted(i), i);
        counted key(500);
        const long live = tracker::live;
        tracker::throw_after = 1;  // the key copy throws
        CHECK_THROWS_AS(m.try_emplace(key, 1), std::runtime_error);
        tracker::throw_after = 2;  // the value construction throws
        CHECK_THROWS_AS(m.try_emplace(key, 1), std::runtime_error);
        tracker::throw_after = 0;
        CHECK(m.size() == 100);
        CHECK(!m.contains(key));
        CHECK(tracker::live == live);
        for (std::uint64_t i = 0; i < 100; ++i) CHECK(m.find_ptr(counted(i))->v == i);
        m.try_emplace(key, 1);
        CHECK(m.size() == 101);
    }
    CHECK(tracker::live == 0);
    CHECK(tracker::errors == 0);
}

TEST_CASE("exceptions: a copy that throws during evacuation under an iteration is undone") {
    tracker_scope ts;
    {
        cmap m;
        std::uint64_t n = 0;
        while (m.bucket_count() < 256) {
            m.try_emplace(counted(n), n);
            ++n;
        }
        REQUIRE(m.growing());
        std::set<std::uint64_t> seen;
        int failures = 0;
        std::uint64_t extra = 1000000;
        long step = 0;
        for (auto& [k, v] : m) {
            CHECK(k.v == v.v);
            if (k.v < n) CHECK(seen.insert(k.v).second);
            // Copies made by evacuation (an iterator is alive) fail now and then.
            tracker::throw_after = 2 + step++ % 11;
            try {
                m.try_emplace(counted(extra), extra);
                ++extra;
            } catch (const std::runtime_error&) {
                ++failures;
            }
            tracker::throw_after = 0;
        }
        CHECK(failures > 0);
        CHECK(seen.size() == n);  // no entry lost or produced twice
        for (std::uint64_t i = 0; i < n; ++i) CHECK(m.find_ptr(counted(i))->v == i);
        for (std::uint64_t i = 1000000; i < extra; ++i) CHECK(m.find_ptr(counted(i))->v == i);
        CHECK(m.size() == n + (extra - 1000000));
    }
    CHECK(tracker::live == 0);
    CHECK(tracker::errors == 0);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GOMP_MAP_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GOMP_MAP_TEST_SANITIZED 1
#endif
#endif
// Keyspaces 200 << round; the sanitizers run it 10-20 times slower, so they
// stop at 1600 keys.
#ifdef GOMP_MAP_TEST_SANITIZED
constexpr int random_rounds = 4;
#else
constexpr int random_rounds = 6;
#endif

TEST_CASE("random operations against std::unordered_map, with ranges that mutate the map") {
    tracker_scope ts;
    std::uint64_t s = 12345;
    auto rnd = [&s](std::uint64_t n) {
        s += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return (z ^ (z >> 31)) % n;
    };
    for (int round = 0; round < random_rounds; ++round) {
        cmap m;
        std::unordered_map<std::uint64_t, std::uint64_t> ref;
        const std::uint64_t keyspace = 200u << round;  // up to 6400 keys
        std::uint64_t val = 0;
        for (int op = 0; op < 4000; ++op) {
            std::uint64_t r = rnd(100);
            std::uint64_t k = rnd(keyspace);
            if (r < 45) {
                m.insert_or_assign(counted(k), counted(++val));
                ref[k] = val;
            } else if (r < 75) {
                CHECK(m.erase(counted(k)) == (ref.erase(k) == 1));
            } else if (r < 97) {
                const counted* p = m.find_ptr(counted(k));
                auto it = ref.find(k);
                REQUIRE((p != nullptr) == (it != ref.end()));
                if (p) CHECK(p->v == it->second);
            } else {
                // A range with Go's rules checked while it inserts and erases.
                std::unordered_set<std::uint64_t> start, produced, erased;
                for (auto& kv : ref) start.insert(kv.first);
                for (auto& [ek, ev] : m) {
                    auto it = ref.find(ek.v);
                    REQUIRE(it != ref.end());
                    CHECK(it->second == ev.v);
                    CHECK(produced.insert(ek.v).second);
                    const std::uint64_t cur = ek.v;
                    for (std::uint64_t j = rnd(6); j > 0; --j) {
                        std::uint64_t k2 = rnd(3) == 0 ? cur : rnd(keyspace);
                        if (rnd(2)) {
                            m.erase(counted(k2));
                            ref.erase(k2);
                            erased.insert(k2);
                            produced.erase(k2);
                        } else {
                            m.insert_or_assign(counted(k2), counted(++val));
                            ref[k2] = val;
                        }
                    }
                }
                for (auto k0 : start)
                    if (!erased.count(k0)) CHECK(produced.count(k0));
            }
        }
        CHECK(m.size() == ref.size());
        for (auto& [rk, rv] : ref) CHECK(m.find_ptr(counted(rk))->v == rv);
    }
    CHECK(tracker::live == 0);
    CHECK(tracker::errors == 0);
}

// ---- Go's fatal error on concurrent misuse ----
namespace {

// A value whose construction blocks while `block` is set: a write that
// constructs one stays inside the map with hashWriting set, so another
// thread's access overlaps it every time.
struct gate_value {
    static inline std::atomic<bool> block{false};
    static inline std::atomic<bool> entered{false};
    int v = 0;
    gate_value() {
        if (block.load(std::memory_order_acquire)) {
            entered.store(true, std::memory_order_release);
            for (;;) pause();
        }
    }
};

struct child_result {
    int status;
    std::string err;
};

// Runs fn in a forked child with stderr captured; the child dies by alarm if
// fn neither exits nor finishes.
child_result run_child(void (*fn)()) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        alarm(20);
        fn();
        _exit(0);  // fn returned: the misuse was not detected
    }
    close(fds[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return {status, out};
}

void start_blocked_writer(gomp::map<int, gate_value>& m) {
    gate_value::block.store(true, std::memory_order_release);
    std::thread([&m] { m[1000]; }).detach();  // blocks inside the write
    while (!gate_value::entered.load(std::memory_order_acquire)) std::this_thread::yield();
}

void child_two_writes() {
    static gomp::map<int, gate_value> m;
    for (int i = 0; i < 100; ++i) m[i];
    start_blocked_writer(m);
    m.erase(5);  // a second write while the first is running
}

void child_read_during_write() {
    static gomp::map<int, gate_value> m;
    for (int i = 0; i < 100; ++i) m[i];
    start_blocked_writer(m);
    (void)m.find_ptr(5);
}

void child_range_during_write() {
    static gomp::map<int, gate_value> m;
    for (int i = 0; i < 100; ++i) m[i];
    auto it = m.begin();
    start_blocked_writer(m);
    ++it;
}

}  // namespace

TEST_CASE("concurrent misuse is Go's fatal error, exit status 2") {
    struct {
        void (*fn)();
        const char* msg;
    } cases[] = {
        {child_two_writes, "fatal error: concurrent map writes\n"},
        {child_read_during_write, "fatal error: concurrent map read and map write\n"},
        {child_range_during_write, "fatal error: concurrent map iteration and map write\n"},
    };
    for (auto& c : cases) {
        CAPTURE(c.msg);
        child_result r = run_child(c.fn);
        CHECK(WIFEXITED(r.status));
        CHECK(WEXITSTATUS(r.status) == 2);
        CHECK(r.err.find(c.msg) != std::string::npos);
    }
}
