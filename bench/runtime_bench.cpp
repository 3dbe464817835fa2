// Runtime cases: switch, spawn, skynet_wg, park_rss. Their Go twins and the
// shared contract (sizes, what one op is) are in bench/go/runtime_test.go.
#include <benchmark/benchmark.h>
#include <gomp/gomp.hpp>

#include "rss.hpp"


#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

using gomp_bench::peak_rss_kib;
long vm_rss_kib() { return gomp_bench::status_kib("VmRSS"); }

// switch: the main goroutine and a partner yield to each other on one P.
void BM_switch(benchmark::State& state) {
    constexpr long batch = 10000;
    gomp::run(
        [&] {
            std::atomic<bool> stop{false};
            gomp::wait_group wg;
            wg.add(1);
            gomp::go([&] {
                while (!stop.load(std::memory_order_relaxed)) gomp::yield();
                wg.done();
            });
            gomp::yield();  // let the partner start
            for (auto _ : state)
                for (long i = 0; i < batch; i++) gomp::yield();
            stop = true;
            wg.wait();
        },
        {.procs = int(state.range(0))});
    // Each main yield is answered by one partner yield: two switches.
    state.SetItemsProcessed(state.iterations() * batch * 2);
}

// spawn: 1M empty goroutines, each calling done on one wait_group.
void BM_spawn(benchmark::State& state) {
    constexpr long n = 1000000;
    gomp::run(
        [&] {
            for (auto _ : state) {
                gomp::wait_group wg;
                wg.add(int(n));
                for (long i = 0; i < n; i++) gomp::go([&wg] { wg.done(); });
                wg.wait();
            }
        },
        {.procs = int(state.range(0))});
    state.SetItemsProcessed(state.iterations() * n);
    state.counters["peak_rss_kib"] = peak_rss_kib();
}

// skynet_wg: a 10-ary tree of 1M leaves; each node has its own wait_group
// and atomic sum; a child adds its sum to its parent's, then calls done.
void skynet_wg(std::atomic<long>* parent_sum, gomp::wait_group* parent_wg, long num, long size, long div) {
    if (size == 1) {
        parent_sum->fetch_add(num, std::memory_order_relaxed);
        parent_wg->done();
        return;
    }
    std::atomic<long> sum{0};
    gomp::wait_group wg;
    wg.add(int(div));
    long sub = size / div;
    for (long i = 0; i < div; i++) gomp::go(skynet_wg, &sum, &wg, num + i * sub, sub, div);
    wg.wait();
    parent_sum->fetch_add(sum.load(std::memory_order_relaxed), std::memory_order_relaxed);
    parent_wg->done();
}

void BM_skynet_wg(benchmark::State& state) {
    constexpr long leaves = 1000000;
    gomp::run(
        [&] {
            for (auto _ : state) {
                std::atomic<long> sum{0};
                gomp::wait_group wg;
                wg.add(1);
                gomp::go(skynet_wg, &sum, &wg, 0L, leaves, 10L);
                wg.wait();
                if (sum.load() != 499999500000L) state.SkipWithError("skynet_wg: wrong sum");
            }
        },
        {.procs = int(state.range(0))});
    state.SetItemsProcessed(state.iterations() * leaves);
    state.counters["peak_rss_kib"] = peak_rss_kib();
}

// park_rss: resident bytes per parked goroutine, 100k parked on one gate.
void BM_park_rss(benchmark::State& state) {
    constexpr int n = 100000;
    double per_g = 0;
    gomp::run(
        [&] {
            for (auto _ : state) {
                long before = vm_rss_kib();
                gomp::wait_group started, gate, finished;
                gate.add(1);
                started.add(n);
                finished.add(n);
                for (int i = 0; i < n; i++)
                    gomp::go([&] {
                        started.done();
                        gate.wait();
                        finished.done();
                    });
                started.wait();
                gomp::blocking([] { std::this_thread::sleep_for(std::chrono::milliseconds(10)); });
                long after = vm_rss_kib();
                per_g = double(after - before) * 1024 / n;
                gate.done();
                finished.wait();
            }
        },
        {.procs = int(state.range(0))});
    state.counters["ns_per_op"] = -1;
    state.counters["bytes_per_goroutine"] = per_g;
    state.counters["peak_rss_kib"] = peak_rss_kib();
}

}  // namespace

BENCHMARK(BM_switch)->Name("switch/gomp")->ArgName("procs")->Arg(1)->UseRealTime();
BENCHMARK(BM_spawn)->Name("spawn/gomp")->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_skynet_wg)->Name("skynet_wg/gomp")->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_park_rss)->Name("park_rss/gomp")->ArgName("procs")->Arg(1)->Iterations(1)->UseRealTime();

BENCHMARK_MAIN();
