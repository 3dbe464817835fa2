// gomp/hash.hpp: seeded hashing for map keys, as Go's runtime/alg.go.
//
// Every gomp::map draws a random 64-bit seed when it is created (Go's hash0)
// and hashes each key together with it, so two maps, or two runs, place the
// same keys differently and an attacker cannot precompute collisions without
// knowing the seed. gomp::hash<K> is the default hasher; its call operator is
//
//     std::uint64_t operator()(const K& key, std::uint64_t seed) const noexcept;
//
// The map uses the low bits of the result to pick a bucket and the top byte
// as the slot's tophash, so every hash here must mix well into both ends.
// The building block is the folded multiply (Go's memhash on AES-less
// machines, wyhash, aHash): the 128-bit product of two 64-bit words, high
// half xor low half. One such multiply is the whole hash of an integer.
//
// Go's rules, kept:
//  * floating point: +0 and -0 are one key (they compare equal), so they hash
//    alike; NaN never equals itself, so each NaN inserted is a new entry, and
//    its hash is random (Go's f64hash: "NaN != NaN, so it can't be found
//    anyway; use a random hash so NaNs spread over the buckets").
//  * strings hash their bytes; std::string, std::string_view and const char*
//    hash the same, so a map<std::string, V> can be searched with a
//    string_view or a literal without building a std::string (the hasher is
//    transparent: it declares is_transparent).
//  * pointers hash their address; enums their underlying integer; pairs and
//    tuples chain their elements (each element is hashed with the previous
//    element's hash as its seed).
//
// User types, the customization point: define a function gomp_hash found by
// argument-dependent lookup (a friend, or a function in the type's namespace),
// usually in terms of gomp::hash_values:
//
//     struct point { int x, y; bool operator==(const point&) const = default;
//         friend std::uint64_t gomp_hash(const point& p, std::uint64_t seed) noexcept {
//             return gomp::hash_values(seed, p.x, p.y);
//         }
//     };
//     gomp::map<point, std::string> names;      // uses gomp_hash
//
// Or specialize gomp::hash<T> with the call operator above. A type with
// neither but with a std::hash specialization is hashed by mixing std::hash's
// result with the seed (std::hash is often the identity for integers, which
// is why its output is mixed rather than used).
//
// How gomp::hash differs from std::hash: it takes the seed as an argument,
// treats NaN and -0 as Go does, and guarantees well-mixed low and high bits
// (std::hash<int> is the identity in libstdc++). Results change from run to
// run; never persist them.
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace gomp {

template <class T, class = void>
struct hash;

namespace detail {

__extension__ typedef unsigned __int128 u128;

// Odd 64-bit constants with balanced bits (golden ratio, splitmix64's
// multipliers, xxh64's prime 2).
inline constexpr std::uint64_t hk0 = 0x9E3779B97F4A7C15ull;
inline constexpr std::uint64_t hk1 = 0xBF58476D1CE4E5B9ull;
inline constexpr std::uint64_t hk2 = 0x94D049BB133111EBull;
inline constexpr std::uint64_t hk3 = 0xC2B2AE3D27D4EB4Full;

// Folded multiply: every bit of a and b reaches the middle of the 128-bit
// product; folding the halves brings that to both ends of the result.
inline std::uint64_t mum(std::uint64_t a, std::uint64_t b) noexcept {
    u128 r = static_cast<u128>(a) * b;
    return static_cast<std::uint64_t>(r) ^ static_cast<std::uint64_t>(r >> 64);
}

inline std::uint64_t hash_u64(std::uint64_t x, std::uint64_t seed) noexcept {
    return mum(x ^ seed, hk0);
}

// splitmix64's finalizer: a full avalanche, used to turn weak seeds (a time,
// an address) into random-looking ones.
inline std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * hk1;
    z = (z ^ (z >> 27)) * hk2;
    return z ^ (z >> 31);
}

// Go's runtime.rand for the map: per-thread wyrand-style generator, seeded on
// first use from the clock, the thread's address space and a global counter.
// Not cryptographic (neither is the seed's purpose: collision resistance
// against input chosen without knowledge of the seed).
inline std::uint64_t rand64() noexcept {
    thread_local std::uint64_t state = 0;
    if (state == 0) [[unlikely]] {
        static std::atomic<std::uint64_t> counter{0};
        std::uint64_t c = counter.fetch_add(1, std::memory_order_relaxed) + 1;
        auto t = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        state = mix64(t ^ mix64(reinterpret_cast<std::uintptr_t>(&state)) ^ (c * hk3)) | 1;
    }
    state += hk0;
    return mum(state, state ^ hk3);
}

inline std::uint64_t load64(const unsigned char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    return v;
}
inline std::uint64_t load32(const unsigned char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
    return v;
}

// The bytes' hash (Go's memhash). Short inputs (the common map key) take one
// or two overlapping loads and two multiplies; long ones run three
// independent 16-byte lanes so the multiplies overlap.
inline std::uint64_t hash_bytes(const void* data, std::size_t len, std::uint64_t seed) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    seed ^= mum(seed ^ hk1, hk0);
    std::uint64_t a, b;
    if (len <= 16) {
        if (len >= 8) {
            a = load64(p);
            b = load64(p + len - 8);
        } else if (len >= 4) {
            a = load32(p);
            b = load32(p + len - 4);
        } else if (len > 0) {
            a = (std::uint64_t{p[0]} << 16) | (std::uint64_t{p[len >> 1]} << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        std::size_t i = len;
        if (i > 48) {
            std::uint64_t s1 = seed, s2 = seed;
            do {
                seed = mum(load64(p) ^ hk1, load64(p + 8) ^ seed);
                s1 = mum(load64(p + 16) ^ hk2, load64(p + 24) ^ s1);
                s2 = mum(load64(p + 32) ^ hk3, load64(p + 40) ^ s2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= s1 ^ s2;
        }
        while (i > 16) {
            seed = mum(load64(p) ^ hk1, load64(p + 8) ^ seed);
            p += 16;
            i -= 16;
        }
        a = load64(p + i - 16);
        b = load64(p + i - 8);
    }
    return mum(hk1 ^ len, mum(a ^ hk1, b ^ seed));
}

template <class T>
concept adl_hashable = requires(const T& v, std::uint64_t s) {
    { gomp_hash(v, s) } -> std::convertible_to<std::uint64_t>;
};

template <class T>
concept std_hashable = requires(const T& v) {
    { std::hash<T>{}(v) } -> std::convertible_to<std::size_t>;
};

template <class T>
concept tuple_like = requires { std::tuple_size<T>::value; };

template <class T>
inline constexpr bool is_string_like_v = false;
template <class C, class Tr, class A>
inline constexpr bool is_string_like_v<std::basic_string<C, Tr, A>> = true;
template <class C, class Tr>
inline constexpr bool is_string_like_v<std::basic_string_view<C, Tr>> = true;

// The types the generic user-type hasher must leave to the specializations.
template <class T>
inline constexpr bool builtin_hashed_v = std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_pointer_v<T> ||
                                         std::is_null_pointer_v<T> || is_string_like_v<T> || tuple_like<T>;

}  // namespace detail

// hash_values(seed, a, b, ...): the hash of several values in order, for
// writing gomp_hash of a struct. Each value is hashed with gomp::hash and
// the previous value's hash as its seed.
template <class... Ts>
std::uint64_t hash_values(std::uint64_t seed, const Ts&... vs) noexcept {
    std::uint64_t h = seed;
    ((h = hash<Ts>{}(vs, h)), ...);
    return h;
}

// Integers, bool, characters, enums: one folded multiply.
template <class T>
struct hash<T, std::enable_if_t<std::is_integral_v<T> || std::is_enum_v<T>>> {
    std::uint64_t operator()(T v, std::uint64_t seed) const noexcept {
        if constexpr (std::is_enum_v<T>)
            return detail::hash_u64(static_cast<std::uint64_t>(static_cast<std::underlying_type_t<T>>(v)), seed);
        else
            return detail::hash_u64(static_cast<std::uint64_t>(v), seed);
    }
};

// float and double: Go's f32hash / f64hash.
template <class T>
struct hash<T, std::enable_if_t<std::is_same_v<T, float> || std::is_same_v<T, double>>> {
    std::uint64_t operator()(T v, std::uint64_t seed) const noexcept {
        if (v == 0) return detail::hash_u64(0, seed);  // +0 and -0
        if (v != v) return detail::hash_u64(detail::rand64(), seed);  // NaN: random
        if constexpr (sizeof(T) == 4)
            return detail::hash_u64(std::bit_cast<std::uint32_t>(v), seed);
        else
            return detail::hash_u64(std::bit_cast<std::uint64_t>(v), seed);
    }
};

// Pointers hash their address (Go's pointer keys), as does nullptr.
template <class T>
struct hash<T*> {
    std::uint64_t operator()(const T* p, std::uint64_t seed) const noexcept {
        return detail::hash_u64(reinterpret_cast<std::uintptr_t>(p), seed);
    }
};
template <>
struct hash<std::nullptr_t> {
    std::uint64_t operator()(std::nullptr_t, std::uint64_t seed) const noexcept { return detail::hash_u64(0, seed); }
};

// Strings: transparent, so a map<std::string, V> finds a key from a
// string_view or a literal with no allocation.
template <class C, class Tr>
struct hash<std::basic_string_view<C, Tr>> {
    using is_transparent = void;
    std::uint64_t operator()(std::basic_string_view<C, Tr> s, std::uint64_t seed) const noexcept {
        return detail::hash_bytes(s.data(), s.size() * sizeof(C), seed);
    }
};
template <class C, class Tr, class A>
struct hash<std::basic_string<C, Tr, A>> : hash<std::basic_string_view<C, Tr>> {};

// Pairs, tuples, std::array: the chained hash of the elements.
template <class T>
struct hash<T, std::enable_if_t<detail::tuple_like<T> && !detail::adl_hashable<T>>> {
    std::uint64_t operator()(const T& t, std::uint64_t seed) const noexcept {
        return std::apply([seed](const auto&... e) { return hash_values(seed, e...); }, t);
    }
};

// User types: gomp_hash found by ADL; else std::hash, mixed with the seed.
template <class T>
struct hash<T, std::enable_if_t<detail::adl_hashable<T> && (!detail::builtin_hashed_v<T> || detail::tuple_like<T>)>> {
    std::uint64_t operator()(const T& v, std::uint64_t seed) const noexcept(noexcept(gomp_hash(v, seed))) {
        return static_cast<std::uint64_t>(gomp_hash(v, seed));
    }
};
template <class T>
struct hash<T, std::enable_if_t<!detail::adl_hashable<T> && !detail::builtin_hashed_v<T> && detail::std_hashable<T>>> {
    std::uint64_t operator()(const T& v, std::uint64_t seed) const noexcept(noexcept(std::hash<T>{}(v))) {
        return detail::hash_u64(static_cast<std::uint64_t>(std::hash<T>{}(v)), seed);
    }
};

namespace detail {
// Calls a map's hasher: gomp's seeded form h(key, seed), or a std-style
// hasher h(key) (std::hash, absl::Hash), whose result is mixed with the seed.
template <class H, class KK>
inline constexpr bool seeded_hasher_v = std::is_invocable_r_v<std::uint64_t, const H&, const KK&, std::uint64_t>;
template <class H, class KK>
inline constexpr bool nothrow_hash_v = seeded_hasher_v<H, KK> ? std::is_nothrow_invocable_v<const H&, const KK&, std::uint64_t>
                                                              : std::is_nothrow_invocable_v<const H&, const KK&>;
template <class H, class KK>
inline std::uint64_t call_hash(const H& h, const KK& k, std::uint64_t seed) noexcept(nothrow_hash_v<H, KK>) {
    if constexpr (seeded_hasher_v<H, KK>)
        return h(k, seed);
    else
        return hash_u64(static_cast<std::uint64_t>(h(k)), seed);
}

// Keys for which k == k always holds (Go's ReflexiveKey): the map can skip
// the self-comparison that detects NaN-like keys.
template <class T>
inline constexpr bool reflexive_key_v = std::is_integral_v<T> || std::is_enum_v<T> || std::is_pointer_v<T>;
template <class C, class Tr, class A>
inline constexpr bool reflexive_key_v<std::basic_string<C, Tr, A>> = true;
template <class C, class Tr>
inline constexpr bool reflexive_key_v<std::basic_string_view<C, Tr>> = true;
template <class A, class B>
inline constexpr bool reflexive_key_v<std::pair<A, B>> = reflexive_key_v<A> && reflexive_key_v<B>;
template <class... Ts>
inline constexpr bool reflexive_key_v<std::tuple<Ts...>> = (reflexive_key_v<Ts> && ...);
}  // namespace detail

}  // namespace gomp
