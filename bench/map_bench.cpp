// Map cases. The Go twins and the shared contract are in bench/go/map_test.go.
//
//   case                procs  workload (1M = 1,000,000)                 per-op figure
//   map_insert          1      insert 1M random int64 keys (value i)      ns per insert
//                              into an empty map
//   map_insert_reserve  1      the same into a map made with hint 1M      ns per insert
//   map_hit             1      2^20 lookups of present keys (random       ns per lookup
//                              order) in a 1M-entry map; sum the values
//   map_miss            1      2^20 lookups of absent keys                ns per lookup
//   map_erase           1      erase the 1M keys of a 1M-entry map (the   ns per erase
//                              map is built with the timer stopped)
//   map_iterate         1      range over a 1M-entry map, sum k + v       ns per element
//   map_str_hit         1      map[string]int, 1M 16-byte keys (16 hex    ns per lookup
//                              digits), 2^20 lookups of present keys
//   map_str_miss        1      the same with absent keys                  ns per lookup
//   map_insert_p999     1      time each of the 1M inserts growing from   p999_ns (= ns_per_op);
//                              empty; the 99.9th percentile latency       max_ns too
//
// Keys: splitmix64 from seed 1 (the map's keys), seed 2 (absent keys), seed 3
// (the order of hit lookups: index = next % 1M); the same generator and
// seeds as the Go twin. Strings are the keys printed as %016x.
//
// Impls: gomp (gomp::map), absl (absl::flat_hash_map), boost_unordered
// (boost::unordered_flat_map), std (std::unordered_map). All with their
// default hashers.
#include <absl/container/flat_hash_map.h>
#include <benchmark/benchmark.h>
#include <gomp/map.hpp>

#include <algorithm>
#include <boost/unordered/unordered_flat_map.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr std::size_t n_keys = 1000000;
constexpr std::size_t n_lookups = std::size_t{1} << 20;

struct splitmix64 {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

std::vector<std::int64_t> gen(std::uint64_t seed, std::size_t n) {
    splitmix64 g{seed};
    std::vector<std::int64_t> v(n);
    for (auto& x : v) x = static_cast<std::int64_t>(g.next());
    return v;
}

const std::vector<std::int64_t>& keys() {
    static const auto v = gen(1, n_keys);
    return v;
}
const std::vector<std::int64_t>& absent_keys() {
    static const auto v = gen(2, n_lookups);
    return v;
}
// Hit lookups: keys[next % 1M] for a splitmix64 stream from seed 3.
const std::vector<std::int64_t>& hit_keys() {
    static const auto v = [] {
        splitmix64 g{3};
        std::vector<std::int64_t> out(n_lookups);
        for (auto& x : out) x = keys()[g.next() % n_keys];
        return out;
    }();
    return v;
}
std::vector<std::string> to_strings(const std::vector<std::int64_t>& in) {
    std::vector<std::string> out;
    out.reserve(in.size());
    char buf[17];
    for (std::int64_t x : in) {
        std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
        out.emplace_back(buf, 16);
    }
    return out;
}
const std::vector<std::string>& str_keys() {
    static const auto v = to_strings(keys());
    return v;
}
const std::vector<std::string>& str_hit_keys() {
    static const auto v = to_strings(hit_keys());
    return v;
}
const std::vector<std::string>& str_absent_keys() {
    static const auto v = to_strings(absent_keys());
    return v;
}

// ---- a common face for the four maps ----
template <class M>
struct ops;

template <class K, class V>
struct ops<gomp::map<K, V>> {
    using M = gomp::map<K, V>;
    static M make(std::size_t hint) { return M(hint); }
    static void put(M& m, const K& k, V v) { m[k] = v; }
    static V get(const M& m, const K& k) {
        const V* p = m.find_ptr(k);
        return p ? *p : V();
    }
    static void erase(M& m, const K& k) { m.erase(k); }
};
template <class M>
struct std_ops {  // std::unordered_map, absl, Boost: the std interface
    using K = typename M::key_type;
    using V = typename M::mapped_type;
    static M make(std::size_t hint) {
        M m;
        if (hint) m.reserve(hint);
        return m;
    }
    static void put(M& m, const K& k, V v) { m[k] = v; }
    static V get(const M& m, const K& k) {
        auto it = m.find(k);
        return it != m.end() ? it->second : V();
    }
    static void erase(M& m, const K& k) { m.erase(k); }
};
template <class K, class V>
struct ops<std::unordered_map<K, V>> : std_ops<std::unordered_map<K, V>> {};
template <class K, class V>
struct ops<absl::flat_hash_map<K, V>> : std_ops<absl::flat_hash_map<K, V>> {};
template <class K, class V>
struct ops<boost::unordered_flat_map<K, V>> : std_ops<boost::unordered_flat_map<K, V>> {};

template <class M, class K>
M build(const std::vector<K>& ks) {
    M m = ops<M>::make(0);
    for (std::size_t i = 0; i < ks.size(); ++i) ops<M>::put(m, ks[i], static_cast<typename M::mapped_type>(i));
    return m;
}

template <class M>
void insert_case(benchmark::State& state, std::size_t hint) {
    const auto& ks = keys();
    for (auto _ : state) {
        M m = ops<M>::make(hint);
        for (std::size_t i = 0; i < ks.size(); ++i) ops<M>::put(m, ks[i], static_cast<std::int64_t>(i));
        benchmark::DoNotOptimize(m);
        benchmark::ClobberMemory();
        state.PauseTiming();  // not the destructor
        { M dead = std::move(m); }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(ks.size()));
}
template <class M>
void BM_insert(benchmark::State& state) {
    insert_case<M>(state, 0);
}
template <class M>
void BM_insert_reserve(benchmark::State& state) {
    insert_case<M>(state, n_keys);
}

template <class M, class K>
void lookup_case(benchmark::State& state, const std::vector<K>& ks, const std::vector<K>& lookups) {
    const M m = build<M>(ks);
    for (auto _ : state) {
        std::int64_t sum = 0;
        for (const K& k : lookups) sum += ops<M>::get(m, k);
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(lookups.size()));
}
template <class M>
void BM_hit(benchmark::State& state) {
    lookup_case<M>(state, keys(), hit_keys());
}
template <class M>
void BM_miss(benchmark::State& state) {
    lookup_case<M>(state, keys(), absent_keys());
}
template <class M>
void BM_str_hit(benchmark::State& state) {
    lookup_case<M>(state, str_keys(), str_hit_keys());
}
template <class M>
void BM_str_miss(benchmark::State& state) {
    lookup_case<M>(state, str_keys(), str_absent_keys());
}

template <class M>
void BM_erase(benchmark::State& state) {
    const auto& ks = keys();
    for (auto _ : state) {
        state.PauseTiming();
        M m = build<M>(ks);
        state.ResumeTiming();
        for (std::int64_t k : ks) ops<M>::erase(m, k);
        benchmark::DoNotOptimize(m);
        benchmark::ClobberMemory();
        state.PauseTiming();
        { M dead = std::move(m); }
        state.ResumeTiming();
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(ks.size()));
}

template <class M>
void BM_iterate(benchmark::State& state) {
    const M m = build<M>(keys());
    for (auto _ : state) {
        std::int64_t sum = 0;
        for (const auto& [k, v] : m) sum += k + v;
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(m.size()));
}

// Each insert timed on its own; the figure is the 99.9th percentile.
template <class M>
void BM_insert_p999(benchmark::State& state) {
    using clock = std::chrono::steady_clock;
    const auto& ks = keys();
    std::vector<std::int64_t> lat(ks.size());
    std::vector<std::int64_t> p999s, maxes;
    for (auto _ : state) {
        M m = ops<M>::make(0);
        for (std::size_t i = 0; i < ks.size(); ++i) {
            auto t0 = clock::now();
            ops<M>::put(m, ks[i], static_cast<std::int64_t>(i));
            auto t1 = clock::now();
            lat[i] = std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
        }
        benchmark::DoNotOptimize(m);
        state.PauseTiming();
        { M dead = std::move(m); }
        auto mx = *std::max_element(lat.begin(), lat.end());
        std::size_t at = lat.size() - lat.size() / 1000;
        std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(at), lat.end());
        p999s.push_back(lat[at]);
        maxes.push_back(mx);
        state.ResumeTiming();
    }
    std::sort(p999s.begin(), p999s.end());
    std::sort(maxes.begin(), maxes.end());
    double p999 = static_cast<double>(p999s[p999s.size() / 2]);
    state.counters["p999_ns"] = p999;
    state.counters["ns_per_op"] = p999;
    state.counters["max_ns"] = static_cast<double>(maxes[maxes.size() / 2]);
}

using gomp_m = gomp::map<std::int64_t, std::int64_t>;
using absl_m = absl::flat_hash_map<std::int64_t, std::int64_t>;
using boost_m = boost::unordered_flat_map<std::int64_t, std::int64_t>;
using std_m = std::unordered_map<std::int64_t, std::int64_t>;
using gomp_s = gomp::map<std::string, std::int64_t>;
using absl_s = absl::flat_hash_map<std::string, std::int64_t>;
using boost_s = boost::unordered_flat_map<std::string, std::int64_t>;
using std_s = std::unordered_map<std::string, std::int64_t>;

#define MAP_CASE(fn, name, M, impl) BENCHMARK(fn<M>)->Name(name "/" impl "/procs:1")->UseRealTime()
#define MAP_CASES(fn, name, G, A, B, S) \
    MAP_CASE(fn, name, G, "gomp");       \
    MAP_CASE(fn, name, A, "absl");       \
    MAP_CASE(fn, name, B, "boost_unordered"); \
    MAP_CASE(fn, name, S, "std")

MAP_CASES(BM_insert, "map_insert", gomp_m, absl_m, boost_m, std_m);
MAP_CASES(BM_insert_reserve, "map_insert_reserve", gomp_m, absl_m, boost_m, std_m);
MAP_CASES(BM_hit, "map_hit", gomp_m, absl_m, boost_m, std_m);
MAP_CASES(BM_miss, "map_miss", gomp_m, absl_m, boost_m, std_m);
MAP_CASES(BM_erase, "map_erase", gomp_m, absl_m, boost_m, std_m);
MAP_CASES(BM_iterate, "map_iterate", gomp_m, absl_m, boost_m, std_m);
MAP_CASES(BM_str_hit, "map_str_hit", gomp_s, absl_s, boost_s, std_s);
MAP_CASES(BM_str_miss, "map_str_miss", gomp_s, absl_s, boost_s, std_s);
MAP_CASES(BM_insert_p999, "map_insert_p999", gomp_m, absl_m, boost_m, std_m);

}  // namespace

BENCHMARK_MAIN();
