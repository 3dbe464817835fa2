// Differential fuzz target for gomp::map against std::unordered_map.
//
// The input is a program: each op byte picks an operation (insert, assign,
// try_emplace, erase, find, iterate-while-mutating, clear, reserve) and the
// bytes after it its keys. Every op is applied to a gomp::map and to a
// std::unordered_map reference and the results compared. An iteration checks
// Go's range rules while the following bytes mutate the map under it:
//  * a produced key is present, with its current value, at that moment;
//  * no key is produced twice (unless erased in between: a re-inserted key is
//    a new entry, which Go may produce again);
//  * every key present at the start and never erased during the iteration is
//    produced.
// Three map flavours run each input: integer keys with gomp::hash, integer
// keys with a hash of only 4 bits (long overflow chains, same-size grows), and
// std::string keys (evacuation copies non-trivial keys under iterators).
//
// With libFuzzer (clang++ -fsanitize=fuzzer,address -DGOMP_LIBFUZZER, see
// docs/map.md) this file is the whole fuzzer. Without it, it is part of the
// map_test executable: a doctest case feeds it deterministic inputs.
#include <gomp/map.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

[[noreturn]] void fuzz_fail(const char* what, int line) {
    std::fprintf(stderr, "map_fuzz: check failed at line %d: %s\n", line, what);
    std::abort();
}
#define FUZZ_CHECK(c) \
    do {              \
        if (!(c)) fuzz_fail(#c, __LINE__); \
    } while (0)

// Only 4 bits of hash: 16 distinct hashes, all keys in a few long chains.
struct weak_hash {
    std::uint64_t operator()(std::uint64_t k, std::uint64_t seed) const noexcept {
        return ((k ^ seed) & 15) * 0x1000000000000001ull;
    }
};

struct u64_keys {
    using key = std::uint64_t;
    static key make(unsigned v) { return v; }
};
struct str_keys {
    using key = std::string;
    // Long enough to live on the heap (no small-string buffer).
    static key make(unsigned v) { return "key-with-a-long-prefix-" + std::to_string(v); }
};

class reader {
public:
    reader(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
    bool done() const { return i_ >= n_; }
    unsigned byte() { return i_ < n_ ? d_[i_++] : 0; }
    unsigned key() { return (byte() | (byte() << 8)) & 1023; }

private:
    const std::uint8_t* d_;
    std::size_t n_, i_ = 0;
};

template <class Keys, class Map>
void run(const std::uint8_t* data, std::size_t size) {
    using K = typename Keys::key;
    Map m;
    std::unordered_map<K, std::uint64_t> ref;
    std::uint64_t next_value = 1;
    reader in(data, size);

    auto check_all = [&] {
        FUZZ_CHECK(m.size() == ref.size());
        for (const auto& [k, v] : ref) {
            const std::uint64_t* p = m.find_ptr(k);
            FUZZ_CHECK(p && *p == v);
        }
    };

    while (!in.done()) {
        unsigned op = in.byte();
        switch (op % 10) {
        case 0:
        case 1: {  // m[k] = v
            K k = Keys::make(in.key());
            std::uint64_t v = next_value++;
            m[k] = v;
            ref[k] = v;
            break;
        }
        case 2: {  // try_emplace
            K k = Keys::make(in.key());
            std::uint64_t v = next_value++;
            auto [val, inserted] = m.try_emplace(k, v);
            auto [rit, rinserted] = ref.try_emplace(k, v);
            FUZZ_CHECK(inserted == rinserted);
            FUZZ_CHECK(val == rit->second);
            break;
        }
        case 3:
        case 4: {  // delete
            K k = Keys::make(in.key());
            FUZZ_CHECK(m.erase(k) == (ref.erase(k) == 1));
            break;
        }
        case 5: {  // lookup
            K k = Keys::make(in.key());
            const std::uint64_t* p = m.find_ptr(k);
            auto it = ref.find(k);
            FUZZ_CHECK((p != nullptr) == (it != ref.end()));
            if (p) FUZZ_CHECK(*p == it->second);
            FUZZ_CHECK(m.contains(k) == (p != nullptr));
            break;
        }
        case 6:
        case 7: {  // range, mutating as it goes
            std::unordered_set<K> start, produced, erased;
            for (const auto& kv : ref) start.insert(kv.first);
            unsigned budget = in.byte();  // mutation ops available to this loop
            for (auto& [k, v] : m) {
                auto rit = ref.find(k);
                FUZZ_CHECK(rit != ref.end());
                FUZZ_CHECK(rit->second == v);
                FUZZ_CHECK(produced.insert(k).second);
                // Copy before mutating: the references may refer to a slot a
                // write evacuates (they stay readable, but are not the entry).
                const K cur = k;
                unsigned nmut = budget ? in.byte() % 4 : 0;
                for (unsigned j = 0; j < nmut && budget; ++j, --budget) {
                    unsigned mop = in.byte();
                    K k2 = (mop & 1) ? cur : Keys::make(in.key());
                    if (mop & 2) {
                        m.erase(k2);
                        ref.erase(k2);
                        erased.insert(k2);
                        produced.erase(k2);
                    } else {
                        std::uint64_t nv = next_value++;
                        m[k2] = nv;
                        ref[k2] = nv;
                    }
                }
            }
            for (const K& k : start)
                if (!erased.count(k)) FUZZ_CHECK(produced.count(k));
            check_all();
            break;
        }
        case 8: {  // clear (rarely), else a full check
            if (in.byte() < 16) {
                m.clear();
                ref.clear();
            }
            check_all();
            break;
        }
        case 9: {  // reserve
            m.reserve(in.key());
            check_all();
            break;
        }
        }
    }
    check_all();
    std::size_t n = 0;
    for (const auto& kv : m) {
        (void)kv;
        ++n;
    }
    FUZZ_CHECK(n == ref.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    switch (data[0] % 3) {
    case 0: run<u64_keys, gomp::map<std::uint64_t, std::uint64_t>>(data + 1, size - 1); break;
    case 1: run<u64_keys, gomp::map<std::uint64_t, std::uint64_t, weak_hash>>(data + 1, size - 1); break;
    case 2: run<str_keys, gomp::map<std::string, std::uint64_t>>(data + 1, size - 1); break;
    }
    return 0;
}

#ifndef GOMP_LIBFUZZER
#include <doctest/doctest.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GOMP_MAP_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define GOMP_MAP_TEST_SANITIZED 1
#endif
#endif
// Without libFuzzer: a few thousand deterministic pseudo-random programs
// (fewer under the sanitizers, which run them 10-20 times slower).
#ifdef GOMP_MAP_TEST_SANITIZED
constexpr int fuzz_programs = 800;
#else
constexpr int fuzz_programs = 3000;
#endif
TEST_CASE("map fuzz target: deterministic differential inputs") {
    std::uint64_t s = 0x5EED;
    auto next = [&s] {
        s += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    std::vector<std::uint8_t> buf;
    for (int n = 0; n < fuzz_programs; ++n) {
        buf.resize(1 + next() % 1200);
        for (auto& b : buf) b = static_cast<std::uint8_t>(next());
        // Bias some programs towards inserts so that maps grow large.
        if (n % 3 == 0)
            for (std::size_t i = 1; i < buf.size(); i += 3) buf[i] = static_cast<std::uint8_t>(buf[i] / 10 * 10);
        LLVMFuzzerTestOneInput(buf.data(), buf.size());  // a failed FUZZ_CHECK aborts
    }
}
#endif
