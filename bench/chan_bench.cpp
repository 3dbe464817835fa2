// Channel and select cases: pingpong, buffered, mpmc, select2, fanin8,
// sieve, ring, skynet; Boost.Fiber channels as the peer `boost_fiber` for
// pingpong, buffered and mpmc. The Go twins and the shared contract (sizes,
// what one op is) are in bench/go/chan_test.go (skynet: runtime_test.go).
// Every case checks what it received and fails (SkipWithError) on a
// mismatch, as the Go twin does (b.Fatal).
//
// Boost.Fiber: procs:1 runs the fibers on one fresh thread (round_robin);
// procs:2 on two threads with the work_stealing algorithm, the nearest to
// gomp's scheduler (see boost_pool). Boost's
// buffered_channel of capacity 1024 holds 1023 values (one slot stays empty).
#include <benchmark/benchmark.h>
#include <gomp/gomp.hpp>

#include "rss.hpp"


#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#if __has_include(<boost/fiber/all.hpp>)
#include <boost/fiber/all.hpp>
#define GOMP_BENCH_BOOST 1
#endif

namespace {

using gomp_bench::peak_rss_kib;

gomp::config procs_of(const benchmark::State& state) { return {.procs = int(state.range(0))}; }

// 0 + 1 + ... + (n - 1)
constexpr long triangle(long n) { return n * (n - 1) / 2; }

void check(benchmark::State& state, bool ok, const char* what) {
    if (!ok) state.SkipWithError(what);
}

// pingpong: main sends i on ping; the echo goroutine answers i + 1 on pong.
// One op: one round trip.
constexpr long pingpong_batch = 20000;

void BM_pingpong(benchmark::State& state) {
    long answers = 0;
    gomp::run(
        [&] {
            auto ping = gomp::make_chan<long>(), pong = gomp::make_chan<long>();
            gomp::wait_group wg;
            wg.add(1);
            gomp::go([&] {
                for (long v : ping) pong.send(v + 1);
                wg.done();
            });
            for (auto _ : state)
                for (long i = 0; i < pingpong_batch; i++) {
                    ping.send(i);
                    answers += *pong.recv() - i;
                }
            ping.close();
            wg.wait();
        },
        procs_of(state));
    check(state, answers == long(state.iterations()) * pingpong_batch, "pingpong: wrong answers");
    state.SetItemsProcessed(state.iterations() * pingpong_batch);
}

// buffered: capacity 1024; a producer sends 0..n-1 and closes, main sums.
constexpr long buffered_batch = 200000;

void BM_buffered(benchmark::State& state) {
    bool ok = true;
    gomp::run(
        [&] {
            for (auto _ : state) {
                auto c = gomp::make_chan<long>(1024);
                gomp::go([c] {
                    for (long i = 0; i < buffered_batch; i++) c.send(i);
                    c.close();
                });
                long sum = 0;
                for (long v : c) sum += v;
                ok &= sum == triangle(buffered_batch);
            }
        },
        procs_of(state));
    check(state, ok, "buffered: wrong sum");
    state.SetItemsProcessed(state.iterations() * buffered_batch);
}

// mpmc: capacity 64; 4 producers send n/4 values each, 4 consumers range
// and sum; the channel is closed once every producer is done.
constexpr long mpmc_batch = 200000;
constexpr int mpmc_producers = 4, mpmc_consumers = 4;

void BM_mpmc(benchmark::State& state) {
    bool ok = true;
    gomp::run(
        [&] {
            for (auto _ : state) {
                constexpr long per = mpmc_batch / mpmc_producers;
                auto c = gomp::make_chan<long>(64);
                gomp::wait_group pwg, cwg;
                struct alignas(64) padded {
                    long v = 0;
                };
                std::array<padded, mpmc_consumers> sums{};
                pwg.add(mpmc_producers);
                cwg.add(mpmc_consumers);
                for (int p = 0; p < mpmc_producers; p++)
                    gomp::go([&, p] {
                        for (long i = p * per; i < (p + 1) * per; i++) c.send(i);
                        pwg.done();
                    });
                for (int k = 0; k < mpmc_consumers; k++)
                    gomp::go([&, k] {
                        long s = 0;
                        for (long v : c) s += v;
                        sums[k].v = s;
                        cwg.done();
                    });
                pwg.wait();
                c.close();
                cwg.wait();
                long sum = 0;
                for (auto& s : sums) sum += s.v;
                ok &= sum == triangle(mpmc_batch);
            }
        },
        procs_of(state));
    check(state, ok, "mpmc: wrong sum");
    state.SetItemsProcessed(state.iterations() * mpmc_batch);
}

// Sends base, base + 1, ..., base + count - 1 on c.
void feed(gomp::send_chan<long> c, long base, long count) {
    for (long i = base; i < base + count; i++) c.send(i);
}

// select2: two unbuffered channels, each fed by its own sender; main
// selects over both. One op: one received message.
constexpr long select2_batch = 20000;

void BM_select2(benchmark::State& state) {
    bool ok = true;
    gomp::run(
        [&] {
            for (auto _ : state) {
                constexpr long per = select2_batch / 2;
                auto c0 = gomp::make_chan<long>(), c1 = gomp::make_chan<long>();
                gomp::go(feed, c0, 0L, per);
                gomp::go(feed, c1, per, per);
                long sum = 0;
                auto add = [&sum](long v) { sum += v; };
                for (long i = 0; i < select2_batch; i++) gomp::select(gomp::recv(c0, add), gomp::recv(c1, add));
                ok &= sum == triangle(select2_batch);
            }
        },
        procs_of(state));
    check(state, ok, "select2: wrong sum");
    state.SetItemsProcessed(state.iterations() * select2_batch);
}

// fanin8: eight unbuffered channels, eight senders; main selects over all
// eight in one select with eight cases.
constexpr long fanin8_batch = 20000;

void BM_fanin8(benchmark::State& state) {
    bool ok = true;
    gomp::run(
        [&] {
            for (auto _ : state) {
                constexpr long per = fanin8_batch / 8;
                std::array<gomp::chan<long>, 8> c;
                for (long k = 0; k < 8; k++) {
                    c[k] = gomp::make_chan<long>();
                    gomp::go(feed, c[k], k * per, per);
                }
                long sum = 0;
                auto add = [&sum](long v) { sum += v; };
                for (long i = 0; i < fanin8_batch; i++)
                    gomp::select(gomp::recv(c[0], add), gomp::recv(c[1], add), gomp::recv(c[2], add),
                                 gomp::recv(c[3], add), gomp::recv(c[4], add), gomp::recv(c[5], add),
                                 gomp::recv(c[6], add), gomp::recv(c[7], add));
                ok &= sum == triangle(fanin8_batch);
            }
        },
        procs_of(state));
    check(state, ok, "fanin8: wrong sum");
    state.SetItemsProcessed(state.iterations() * fanin8_batch);
}

// sieve: Go's test/chan/sieve1.go up to 20000, with closes so that a run
// leaves no goroutine behind. One op: one run (2262 primes).
constexpr long sieve_max = 20000, sieve_primes = 2262, sieve_sum = 21171191;

void sieve_generate(gomp::send_chan<long> ch) {
    for (long i = 2; i <= sieve_max; i++) ch.send(i);
    ch.close();
}

void sieve_filter(gomp::recv_chan<long> in, gomp::send_chan<long> out, long prime) {
    for (long i : in)
        if (i % prime != 0) out.send(i);
    out.close();
}

void BM_sieve(benchmark::State& state) {
    bool ok = true;
    gomp::run(
        [&] {
            for (auto _ : state) {
                long count = 0, sum = 0;
                auto ch = gomp::make_chan<long>();
                gomp::go(sieve_generate, ch);
                while (std::optional<long> prime = ch.recv()) {
                    count++;
                    sum += *prime;
                    auto ch1 = gomp::make_chan<long>();
                    gomp::go(sieve_filter, ch, ch1, *prime);
                    ch = std::move(ch1);
                }
                ok &= count == sieve_primes && sum == sieve_sum;
            }
        },
        procs_of(state));
    check(state, ok, "sieve: wrong primes");
    state.SetItemsProcessed(state.iterations());
}

// ring: 1000 goroutines in a ring of unbuffered channels; a token carrying
// the hops left goes round; the node that takes the last hop reports its
// index. One op: one hop.
constexpr long ring_size = 1000, ring_batch = 200000;

void BM_ring(benchmark::State& state) {
    bool ok = true;
    gomp::run(
        [&] {
            std::vector<gomp::chan<long>> ch(ring_size);
            for (auto& c : ch) c = gomp::make_chan<long>();
            auto done = gomp::make_chan<long>(1);
            gomp::wait_group wg;
            wg.add(int(ring_size));
            for (long i = 0; i < ring_size; i++)
                gomp::go(
                    [&wg, done](long i, gomp::recv_chan<long> in, gomp::send_chan<long> out) {
                        for (long v : in) {
                            if (v == 1) done.send(i);
                            else out.send(v - 1);
                        }
                        if (i != ring_size - 1) out.close();
                        wg.done();
                    },
                    i, ch[i], ch[(i + 1) % ring_size]);
            for (auto _ : state) {
                ch[0].send(ring_batch);
                ok &= *done.recv() == (ring_batch - 1) % ring_size;
            }
            ch[0].close();  // each node closes the next channel, up to the last node
            wg.wait();
        },
        procs_of(state));
    check(state, ok, "ring: the last hop reached the wrong node");
    state.SetItemsProcessed(state.iterations() * ring_batch);
}

// skynet: atemerev/skynet with channels, as Benchmark_skynet in
// bench/go/runtime_test.go: a 10-ary tree of goroutines, 1M leaves, each
// leaf sends its number on its parent's unbuffered channel. One op: one leaf.
constexpr long skynet_leaves = 1000000, skynet_div = 10, skynet_sum = 499999500000;

void skynet(gomp::send_chan<long> c, long num, long size, long div) {
    if (size == 1) {
        c.send(num);
        return;
    }
    auto rc = gomp::make_chan<long>();
    long sum = 0;
    for (long i = 0; i < div; i++) gomp::go(skynet, rc, num + i * (size / div), size / div, div);
    for (long i = 0; i < div; i++) sum += *rc.recv();
    c.send(sum);
}

void BM_skynet(benchmark::State& state) {
    bool ok = true;
    gomp::run(
        [&] {
            for (auto _ : state) {
                auto c = gomp::make_chan<long>();
                gomp::go(skynet, c, 0L, skynet_leaves, skynet_div);
                ok &= *c.recv() == skynet_sum;
            }
        },
        procs_of(state));
    check(state, ok, "skynet: wrong sum");
    state.SetItemsProcessed(state.iterations() * skynet_leaves);
    state.counters["peak_rss_kib"] = peak_rss_kib();
}

#if GOMP_BENCH_BOOST
namespace bf = boost::fibers;

// Two fiber threads under work_stealing, made once per process (the
// algorithm's registry is process-wide) and kept for every procs:2 Boost
// case: thread 0 runs the jobs the benchmark thread hands it, as its main
// fiber; thread 1 only serves the scheduler (steals) until the process ends.
class boost_pool {
public:
    static boost_pool& get() {
        static boost_pool pool;
        return pool;
    }
    template <class F>
    void run(F& body) {
        std::unique_lock lk(mu_);
        job_ = [&body] { bf::fiber(body).join(); };  // a fiber, not the pinned main context
        cv_.notify_all();
        cv_.wait(lk, [&] { return !job_; });
    }
    ~boost_pool() {
        {
            std::lock_guard lk(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto& t : threads_) t.join();
    }

private:
    static constexpr std::uint32_t nthreads = 2;
    boost_pool() {
        threads_.emplace_back([this] {
            bf::use_scheduling_algorithm<bf::algo::work_stealing>(nthreads);
            std::unique_lock lk(mu_);
            for (;;) {
                cv_.wait(lk, [&] { return job_ || stop_; });
                if (!job_) break;
                lk.unlock();
                job_();
                lk.lock();
                job_ = nullptr;
                cv_.notify_all();
            }
            // Release thread 1 (a fiber wait: its scheduler keeps stealing while it waits).
            std::lock_guard flk(fmu_);
            fdone_ = true;
            fcv_.notify_all();
        });
        threads_.emplace_back([this] {
            bf::use_scheduling_algorithm<bf::algo::work_stealing>(nthreads);
            std::unique_lock flk(fmu_);
            fcv_.wait(flk, [&] { return fdone_; });
        });
    }
    std::mutex mu_;
    std::condition_variable cv_;
    std::function<void()> job_;
    bool stop_ = false;
    bf::mutex fmu_;
    bf::condition_variable fcv_;
    bool fdone_ = false;
    std::vector<std::thread> threads_;
};

// Runs body() on fiber threads: procs:1 a fresh thread (round_robin),
// procs:2 the work_stealing pool.
template <class F>
void boost_run(benchmark::State& state, F body) {
    if (state.range(0) == 1) std::thread(body).join();
    else boost_pool::get().run(body);
}

void BM_pingpong_boost(benchmark::State& state) {
    long answers = 0;
    boost_run(state, [&] {
        bf::unbuffered_channel<long> ping, pong;
        bf::fiber echo([&] {
            long v;
            while (ping.pop(v) == bf::channel_op_status::success) pong.push(v + 1);
        });
        for (auto _ : state)
            for (long i = 0; i < pingpong_batch; i++) {
                ping.push(i);
                answers += pong.value_pop() - i;
            }
        ping.close();
        echo.join();
    });
    check(state, answers == long(state.iterations()) * pingpong_batch, "pingpong: wrong answers");
    state.SetItemsProcessed(state.iterations() * pingpong_batch);
}

void BM_buffered_boost(benchmark::State& state) {
    bool ok = true;
    boost_run(state, [&] {
        for (auto _ : state) {
            bf::buffered_channel<long> c(1024);
            bf::fiber producer([&c] {
                for (long i = 0; i < buffered_batch; i++) c.push(i);
                c.close();
            });
            long sum = 0, v;
            while (c.pop(v) == bf::channel_op_status::success) sum += v;
            producer.join();
            ok &= sum == triangle(buffered_batch);
        }
    });
    check(state, ok, "buffered: wrong sum");
    state.SetItemsProcessed(state.iterations() * buffered_batch);
}

void BM_mpmc_boost(benchmark::State& state) {
    bool ok = true;
    boost_run(state, [&] {
        for (auto _ : state) {
            constexpr long per = mpmc_batch / mpmc_producers;
            bf::buffered_channel<long> c(64);
            struct alignas(64) padded {
                long v = 0;
            };
            std::array<padded, mpmc_consumers> sums{};
            std::vector<bf::fiber> producers, consumers;
            for (int p = 0; p < mpmc_producers; p++)
                producers.emplace_back([&c, p] {
                    for (long i = p * per; i < (p + 1) * per; i++) c.push(i);
                });
            for (int k = 0; k < mpmc_consumers; k++)
                consumers.emplace_back([&c, &sums, k] {
                    long s = 0, v;
                    while (c.pop(v) == bf::channel_op_status::success) s += v;
                    sums[k].v = s;
                });
            for (auto& f : producers) f.join();
            c.close();
            for (auto& f : consumers) f.join();
            long sum = 0;
            for (auto& s : sums) sum += s.v;
            ok &= sum == triangle(mpmc_batch);
        }
    });
    check(state, ok, "mpmc: wrong sum");
    state.SetItemsProcessed(state.iterations() * mpmc_batch);
}
#endif

}  // namespace

#define GOMP_CHAN_CASE(fn, name) BENCHMARK(fn)->Name(name)->ArgName("procs")->Arg(1)->Arg(2)->UseRealTime()
GOMP_CHAN_CASE(BM_pingpong, "pingpong/gomp");
GOMP_CHAN_CASE(BM_buffered, "buffered/gomp");
GOMP_CHAN_CASE(BM_mpmc, "mpmc/gomp");
GOMP_CHAN_CASE(BM_select2, "select2/gomp");
GOMP_CHAN_CASE(BM_fanin8, "fanin8/gomp");
GOMP_CHAN_CASE(BM_sieve, "sieve/gomp");
GOMP_CHAN_CASE(BM_ring, "ring/gomp");
GOMP_CHAN_CASE(BM_skynet, "skynet/gomp");
#if GOMP_BENCH_BOOST
GOMP_CHAN_CASE(BM_pingpong_boost, "pingpong/boost_fiber");
GOMP_CHAN_CASE(BM_buffered_boost, "buffered/boost_fiber");
GOMP_CHAN_CASE(BM_mpmc_boost, "mpmc/boost_fiber");
#endif

BENCHMARK_MAIN();
