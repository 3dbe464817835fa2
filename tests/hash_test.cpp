// Tests for gomp/hash.hpp: Go's key hashing rules and the quality the map
// relies on (good low bits for the bucket index, a good top byte for tophash).
#include <gomp/hash.hpp>

#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace {

constexpr std::uint64_t seed1 = 0x0123456789ABCDEFull;
constexpr std::uint64_t seed2 = 0xFEDCBA9876543210ull;

template <class T>
std::uint64_t h(const T& v, std::uint64_t seed = seed1) {
    return gomp::hash<T>{}(v, seed);
}

// Counts how evenly n hashes spread over 256 cells taken from bits
// [shift, shift+8): the largest cell must stay near the mean n/256.
template <class F>
std::size_t max_cell(std::size_t n, unsigned shift, F&& hash_of_i) {
    std::array<std::size_t, 256> cells{};
    for (std::size_t i = 0; i < n; ++i) ++cells[(hash_of_i(i) >> shift) & 255];
    std::size_t mx = 0;
    for (auto c : cells) mx = std::max(mx, c);
    return mx;
}

enum class color : std::uint8_t { red = 1, green = 2 };

struct point {
    int x, y;
    bool operator==(const point&) const = default;
    friend std::uint64_t gomp_hash(const point& p, std::uint64_t seed) noexcept {
        return gomp::hash_values(seed, p.x, p.y);
    }
};

struct only_std {
    int v;
    bool operator==(const only_std&) const = default;
};

struct specialized {
    int v;
};

}  // namespace

template <>
struct std::hash<only_std> {
    std::size_t operator()(const only_std& o) const noexcept { return static_cast<std::size_t>(o.v); }
};

template <>
struct gomp::hash<specialized> {
    std::uint64_t operator()(const specialized& s, std::uint64_t seed) const noexcept {
        return gomp::hash<int>{}(s.v * 7, seed);
    }
};

TEST_CASE("integers: deterministic per seed, different across seeds") {
    CHECK(h(42) == h(42));
    CHECK(h(42, seed1) != h(42, seed2));
    CHECK(h(std::int64_t{-1}) != h(std::int64_t{1}));
    CHECK(h(0) != h(1));
    std::set<std::uint64_t> seen;
    for (std::uint64_t i = 0; i < 100000; ++i) seen.insert(h(i));
    CHECK(seen.size() == 100000);
}

TEST_CASE("integers: sequential keys spread over low bits and the top byte") {
    // 64K sequential keys into 256 cells: 256 per cell on average.
    const std::size_t n = 65536;
    auto seq = [](std::size_t i) { return h(static_cast<std::uint64_t>(i)); };
    CHECK(max_cell(n, 0, seq) < 256 * 3 / 2);   // bucket index bits
    CHECK(max_cell(n, 56, seq) < 256 * 3 / 2);  // tophash byte
    // Keys that differ only in high bits (multiples of 2^32) too.
    auto high = [](std::size_t i) { return h(static_cast<std::uint64_t>(i) << 32); };
    CHECK(max_cell(n, 0, high) < 256 * 3 / 2);
    CHECK(max_cell(n, 56, high) < 256 * 3 / 2);
}

TEST_CASE("integers: one flipped input bit flips about half the output bits") {
    std::uint64_t total = 0, trials = 0;
    for (std::uint64_t x = 1; x < 2000; x += 7) {
        for (unsigned b = 0; b < 64; ++b) {
            total += static_cast<std::uint64_t>(std::popcount(h(x) ^ h(x ^ (std::uint64_t{1} << b))));
            ++trials;
        }
    }
    double mean = static_cast<double>(total) / static_cast<double>(trials);
    CHECK(mean > 24.0);
    CHECK(mean < 40.0);
}

TEST_CASE("floating point: +0 and -0 hash alike; NaN hashes randomly") {
    CHECK(h(0.0) == h(-0.0));
    CHECK(h(0.0f) == h(-0.0f));
    CHECK(h(1.0) != h(-1.0));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::set<std::uint64_t> nans;
    for (int i = 0; i < 16; ++i) nans.insert(h(nan));
    CHECK(nans.size() > 8);  // Go's f64hash: a NaN's hash is random
    std::set<std::uint64_t> fnans;
    for (int i = 0; i < 16; ++i) fnans.insert(h(std::numeric_limits<float>::quiet_NaN()));
    CHECK(fnans.size() > 8);
}

TEST_CASE("strings: std::string, string_view and const char* hash alike") {
    const std::string s = "the quick brown fox jumps over the lazy dog";
    gomp::hash<std::string> hs;
    CHECK(hs(s, seed1) == hs(std::string_view(s), seed1));
    CHECK(hs(s, seed1) == hs(s.c_str(), seed1));
    CHECK(hs(s, seed1) != hs(s, seed2));
    // Lengths matter even for zero bytes.
    CHECK(hs(std::string_view("", 0), seed1) != hs(std::string_view("\0", 1), seed1));
    CHECK(hs(std::string_view("\0", 1), seed1) != hs(std::string_view("\0\0", 2), seed1));
}

TEST_CASE("strings: every length and every flipped bit changes the hash") {
    gomp::hash<std::string_view> hs;
    std::string buf(200, 'a');
    for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>('a' + i * 7 % 26);
    std::set<std::uint64_t> by_len;
    for (std::size_t len = 0; len <= buf.size(); ++len) by_len.insert(hs(std::string_view(buf.data(), len), seed1));
    CHECK(by_len.size() == buf.size() + 1);
    std::uint64_t total = 0, trials = 0;
    for (std::size_t len : {1u, 3u, 4u, 7u, 8u, 15u, 16u, 17u, 33u, 48u, 49u, 100u, 200u}) {
        std::string t = buf.substr(0, len);
        const std::uint64_t base = hs(t, seed1);
        for (std::size_t byte = 0; byte < len; ++byte) {
            for (unsigned bit = 0; bit < 8; ++bit) {
                t[byte] = static_cast<char>(t[byte] ^ (1 << bit));
                const std::uint64_t flipped = hs(t, seed1);
                t[byte] = static_cast<char>(t[byte] ^ (1 << bit));
                CHECK(flipped != base);
                total += static_cast<std::uint64_t>(std::popcount(flipped ^ base));
                ++trials;
            }
        }
    }
    double mean = static_cast<double>(total) / static_cast<double>(trials);
    CHECK(mean > 24.0);
    CHECK(mean < 40.0);
}

TEST_CASE("strings: 16-byte keys spread over low bits and the top byte") {
    gomp::hash<std::string> hs;
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < 65536; ++i) {
        char b[17];
        std::snprintf(b, sizeof b, "key-%012zu", i);
        keys.emplace_back(b, 16);
    }
    auto f = [&](std::size_t i) { return hs(keys[i], seed1); };
    CHECK(max_cell(keys.size(), 0, f) < 256 * 3 / 2);
    CHECK(max_cell(keys.size(), 56, f) < 256 * 3 / 2);
}

TEST_CASE("pointers, enums, pairs, tuples, arrays") {
    int a = 0, b = 0;
    CHECK(h(&a) == h(&a));
    CHECK(h(&a) != h(&b));
    CHECK(h(static_cast<int*>(nullptr)) == gomp::hash<std::nullptr_t>{}(nullptr, seed1));
    CHECK(h(color::red) == h(std::uint8_t{1}));
    CHECK(h(color::red) != h(color::green));
    CHECK(h(std::pair{1, 2}) == gomp::hash_values(seed1, 1, 2));
    CHECK(h(std::pair{1, 2}) != h(std::pair{2, 1}));
    CHECK(h(std::tuple{1, std::string("x"), 2.5}) == gomp::hash_values(seed1, 1, std::string("x"), 2.5));
    CHECK(h(std::array<int, 3>{1, 2, 3}) == gomp::hash_values(seed1, 1, 2, 3));
    CHECK(h(std::pair{0.0, 1}) == h(std::pair{-0.0, 1}));
}

TEST_CASE("user types: gomp_hash by ADL, gomp::hash specialization, std::hash fallback") {
    CHECK(h(point{1, 2}) == gomp::hash_values(seed1, 1, 2));
    CHECK(h(point{1, 2}) != h(point{2, 1}));
    CHECK(h(specialized{3}) == gomp::hash<int>{}(21, seed1));
    // std::hash<only_std> is the identity; gomp mixes it with the seed.
    CHECK(h(only_std{5}) != 5);
    CHECK(h(only_std{5}, seed1) != h(only_std{5}, seed2));
    CHECK(max_cell(65536, 56, [](std::size_t i) { return h(only_std{static_cast<int>(i)}); }) < 256 * 3 / 2);
}

TEST_CASE("rand64 (map seeds, iteration starts, NaN hashes) yields distinct values") {
    std::set<std::uint64_t> vals;
    for (int i = 0; i < 1000; ++i) vals.insert(gomp::detail::rand64());
    CHECK(vals.size() == 1000);
}
