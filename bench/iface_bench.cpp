// Interface cases: iface_call, type_assert, iface_assert. The Go twins and
// the shared contract are in bench/go/iface_test.go.
//
// Workload shared by every case: 1024 objects of 4 types (A, B, C, D, each
// with a method value() returning int64), the type of object i drawn from an
// LCG (state = state * 6364136223846793005 + 1442695040888963407, seed 42,
// kind = (state >> 33) & 3) so the compiler cannot know the mix. One
// benchmark iteration is one pass over the 1024 objects; the per-op figure is
// items_per_second over 1024 items per pass.
//
//   case          procs  per object                                        C++ peers
//   iface_call    1      sum += x.value() through the interface Valuer      virtual, std_function
//   type_assert   1      a, ok := x.(A) on an any; if ok: sum += a.x        dynamic_cast
//   iface_assert  1      if x (an any) asserts to Valuer: sum += v.value()  (none)
//
// type_assert is the compiler's case, not the library's: as_ok inlines to
// Go's own loop (load the type word, compare, load the value, add). GCC 12
// lowers `if (ok) sum += a.x` to a forward branch over the add (a cmov with
// --param max-rtl-if-conversion-unpredictable-cost=30, docs/iface.md); the
// benchmark keeps the plain `if`, as users write it. Its speed depended on
// where the loop landed (0.3 or 1.6 ns per element from identical code),
// hence the loop alignment in bench/meson.build.
#include <benchmark/benchmark.h>
#include <gomp/iface.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

GOMP_INTERFACE(Valuer, (value, std::int64_t() const));

namespace {

constexpr int n_objects = 1024;

struct A {
    std::int64_t x;
    std::int64_t value() const { return x + 1; }
};
struct B {
    std::int64_t x;
    std::int64_t value() const { return x * 2; }
};
struct C {
    std::int64_t x, y;
    std::int64_t value() const { return x + y; }
};
struct D {
    std::int64_t x;
    std::int64_t value() const { return x ^ 0x55; }
};

// The same four types as a class hierarchy, for the virtual and
// dynamic_cast peers.
struct VBase {
    virtual ~VBase() = default;
    virtual std::int64_t value() const = 0;
};
struct VA : VBase {
    std::int64_t x;
    explicit VA(std::int64_t v) : x(v) {}
    std::int64_t value() const override { return x + 1; }
};
struct VB : VBase {
    std::int64_t x;
    explicit VB(std::int64_t v) : x(v) {}
    std::int64_t value() const override { return x * 2; }
};
struct VC : VBase {
    std::int64_t x, y;
    VC(std::int64_t v, std::int64_t w) : x(v), y(w) {}
    std::int64_t value() const override { return x + y; }
};
struct VD : VBase {
    std::int64_t x;
    explicit VD(std::int64_t v) : x(v) {}
    std::int64_t value() const override { return x ^ 0x55; }
};

// The object mix: kinds[i] in 0..3, from the shared LCG.
std::vector<int> kinds() {
    std::vector<int> k(n_objects);
    std::uint64_t state = 42;
    for (int i = 0; i < n_objects; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        k[i] = static_cast<int>((state >> 33) & 3);
    }
    return k;
}

template <class Make>
auto build(Make make) {
    std::vector<decltype(make(0, 0))> v;
    auto k = kinds();
    for (int i = 0; i < n_objects; i++) v.push_back(make(k[i], i));
    benchmark::DoNotOptimize(v.data());
    return v;
}

Valuer make_valuer(int kind, std::int64_t i) {
    switch (kind) {
    case 0: return A{i};
    case 1: return B{i};
    case 2: return C{i, 3};
    default: return D{i};
    }
}
gomp::any make_any(int kind, std::int64_t i) {
    switch (kind) {
    case 0: return A{i};
    case 1: return B{i};
    case 2: return C{i, 3};
    default: return D{i};
    }
}
std::unique_ptr<VBase> make_virtual(int kind, std::int64_t i) {
    switch (kind) {
    case 0: return std::make_unique<VA>(i);
    case 1: return std::make_unique<VB>(i);
    case 2: return std::make_unique<VC>(i, 3);
    default: return std::make_unique<VD>(i);
    }
}
std::function<std::int64_t()> make_function(int kind, std::int64_t i) {
    switch (kind) {
    case 0: return [a = A{i}] { return a.value(); };
    case 1: return [b = B{i}] { return b.value(); };
    case 2: return [c = C{i, 3}] { return c.value(); };
    default: return [d = D{i}] { return d.value(); };
    }
}

template <class F>
void passes(benchmark::State& state, F body) {
    for (auto _ : state) {
        std::int64_t sum = 0;
        for (int i = 0; i < n_objects; i++) body(i, sum);
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(state.iterations() * n_objects);
}

void BM_iface_call_gomp(benchmark::State& state) {
    auto objs = build(make_valuer);
    passes(state, [&](int i, std::int64_t& sum) { sum += objs[i].value(); });
}
void BM_iface_call_virtual(benchmark::State& state) {
    auto objs = build(make_virtual);
    passes(state, [&](int i, std::int64_t& sum) { sum += objs[i]->value(); });
}
void BM_iface_call_std_function(benchmark::State& state) {
    auto objs = build(make_function);
    passes(state, [&](int i, std::int64_t& sum) { sum += objs[i](); });
}

void BM_type_assert_gomp(benchmark::State& state) {
    auto xs = build(make_any);
    passes(state, [&](int i, std::int64_t& sum) {
        auto [a, ok] = gomp::as_ok<A>(xs[i]);  // Go's a, ok := x.(A)
        if (ok) sum += a.x;
    });
}
void BM_type_assert_dynamic_cast(benchmark::State& state) {
    auto objs = build(make_virtual);
    passes(state, [&](int i, std::int64_t& sum) {
        if (const auto* a = dynamic_cast<const VA*>(objs[i].get())) sum += a->x;
    });
}

void BM_iface_assert_gomp(benchmark::State& state) {
    auto xs = build(make_any);
    passes(state, [&](int i, std::int64_t& sum) {
        if (Valuer v = gomp::as<Valuer>(xs[i])) sum += v.value();
    });
}

}  // namespace

BENCHMARK(BM_iface_call_gomp)->Name("iface_call/gomp/procs:1")->UseRealTime();
BENCHMARK(BM_iface_call_virtual)->Name("iface_call/virtual/procs:1")->UseRealTime();
BENCHMARK(BM_iface_call_std_function)->Name("iface_call/std_function/procs:1")->UseRealTime();
BENCHMARK(BM_type_assert_gomp)->Name("type_assert/gomp/procs:1")->UseRealTime();
BENCHMARK(BM_type_assert_dynamic_cast)->Name("type_assert/dynamic_cast/procs:1")->UseRealTime();
BENCHMARK(BM_iface_assert_gomp)->Name("iface_assert/gomp/procs:1")->UseRealTime();

BENCHMARK_MAIN();
