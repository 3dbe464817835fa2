// Timer cases: timer_churn, sleep_wake. Their Go twins and the shared
// contract (sizes, what one op is) are in bench/go/time_test.go.
#include <benchmark/benchmark.h>
#include <gomp/gomp.hpp>

#include <atomic>
#include <chrono>

namespace {

using namespace std::chrono_literals;

// timer_churn: gomaxprocs goroutines together start and stop 1M
// after_func timers (1 h, so none fires); ns_per_op = one start + stop.
void BM_timer_churn(benchmark::State& state) {
    constexpr long count = 1000000;
    const int workers = int(state.range(0));
    std::atomic<long> bad{0};
    gomp::run(
        [&] {
            for (auto _ : state) {
                gomp::wait_group wg;
                for (int w = 0; w < workers; w++) {
                    long n = count / workers + (w == 0 ? count % workers : 0);
                    wg.add(1);
                    gomp::go([&, n] {
                        for (long k = 0; k < n; k++) {
                            auto t = gomp::after_func(1h, [] {});
                            if (!t.stop()) bad.fetch_add(1, std::memory_order_relaxed);
                        }
                        wg.done();
                    });
                }
                wg.wait();
            }
        },
        {.procs = workers});
    if (bad.load()) state.SkipWithError("a stop returned false");
    state.SetItemsProcessed(state.iterations() * count);
}

// sleep_wake: 10k goroutines each sleep 1 ms once; ns_per_op = the mean
// overshoot beyond 1 ms per wake.
void BM_sleep_wake(benchmark::State& state) {
    constexpr long count = 10000;
    std::atomic<long long> over{0};
    gomp::run(
        [&] {
            for (auto _ : state) {
                gomp::wait_group wg;
                wg.add(int(count));
                for (long k = 0; k < count; k++)
                    gomp::go([&] {
                        auto start = gomp::now();
                        gomp::sleep(1ms);
                        auto slept = std::chrono::duration_cast<std::chrono::nanoseconds>(gomp::now() - start - 1ms);
                        over.fetch_add(slept.count(), std::memory_order_relaxed);
                        wg.done();
                    });
                wg.wait();
            }
        },
        {.procs = int(state.range(0))});
    state.counters["ns_per_op"] = double(over.load()) / double(state.iterations() * count);
}

}  // namespace

BENCHMARK(BM_timer_churn)->Name("timer_churn/gomp")->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_sleep_wake)->Name("sleep_wake/gomp")->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();

BENCHMARK_MAIN();
