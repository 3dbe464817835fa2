// Slice cases: append. The Go twin and the shared contract are in
// bench/go/slice_test.go.
//
//   case    procs  workload                                   per-op figure
//   append  1      append 1,000,000 ints (int64), one at a    items_per_second over
//                  time, to a nil slice; keep the result      1M appends: ns per element
//
// Peer "std": std::vector<int64_t>::push_back from empty (no reserve).
#include <benchmark/benchmark.h>
#include <gomp/slice.hpp>

#include <cstdint>
#include <vector>

namespace {

constexpr std::int64_t n_append = 1000000;

void BM_append_gomp(benchmark::State& state) {
    for (auto _ : state) {
        gomp::slice<std::int64_t> s;
        for (std::int64_t i = 0; i < n_append; i++) s = gomp::append(std::move(s), i);
        benchmark::DoNotOptimize(s.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n_append);
}

void BM_append_std(benchmark::State& state) {
    for (auto _ : state) {
        std::vector<std::int64_t> v;
        for (std::int64_t i = 0; i < n_append; i++) v.push_back(i);
        benchmark::DoNotOptimize(v.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * n_append);
}

}  // namespace

BENCHMARK(BM_append_gomp)->Name("append/gomp/procs:1")->UseRealTime();
BENCHMARK(BM_append_std)->Name("append/std/procs:1")->UseRealTime();

BENCHMARK_MAIN();
