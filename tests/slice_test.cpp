// Tests for gomp/slice.hpp: Go's slice rules (nil, make, index, reslice,
// append aliasing, growslice's cap sequence, copy) and C++ lifetimes
// (instrumented element types count every construction and destruction).
#include <gomp/slice.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <numeric>
#include <ranges>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

// Counts every special member call of every instance.
struct counts {
    int def = 0, val = 0, copy = 0, move = 0, copy_asg = 0, move_asg = 0, dtor = 0;
    int constructed() const { return def + val + copy + move; }
    int live() const { return constructed() - dtor; }
};
counts cnt;

struct tracked {
    int v;
    tracked() : v(0) { cnt.def++; }
    tracked(int x) : v(x) { cnt.val++; }  // NOLINT: implicit, like an int
    tracked(const tracked& o) : v(o.v) { cnt.copy++; }
    tracked(tracked&& o) noexcept : v(o.v) {
        o.v = -1;
        cnt.move++;
    }
    tracked& operator=(const tracked& o) {
        v = o.v;
        cnt.copy_asg++;
        return *this;
    }
    tracked& operator=(tracked&& o) noexcept {
        v = o.v;
        o.v = -1;
        cnt.move_asg++;
        return *this;
    }
    ~tracked() { cnt.dtor++; }
};

// No zero value: exercises the raw-tail regime (high-water mark).
struct nodefault {
    int v;
    explicit nodefault(int x) : v(x) { cnt.val++; }
    nodefault(const nodefault& o) : v(o.v) { cnt.copy++; }
    nodefault(nodefault&& o) noexcept : v(o.v) { cnt.move++; }
    nodefault& operator=(const nodefault& o) {
        v = o.v;
        cnt.copy_asg++;
        return *this;
    }
    nodefault& operator=(nodefault&& o) noexcept {
        v = o.v;
        cnt.move_asg++;
        return *this;
    }
    ~nodefault() { cnt.dtor++; }
};

// Copying throws once armed: for exception safety.
int throw_after = -1;
struct thrower {
    int v = 0;
    thrower() = default;
    thrower(int x) : v(x) {}  // NOLINT
    thrower(const thrower& o) : v(o.v) {
        if (throw_after >= 0 && throw_after-- == 0) throw std::runtime_error("copy");
        cnt.copy++;
    }
    thrower& operator=(const thrower&) = default;
};

struct s24 {
    std::int64_t a, b, c;
};
static_assert(sizeof(s24) == 24);

struct alignas(64) wide {
    int v = 0;
};

std::string panic_msg(auto&& f) {
    try {
        f();
    } catch (const gomp::runtime_error& e) {
        return e.what();
    } catch (const gomp::panic& e) {
        return std::string("panic: ") + e.what();
    }
    return "no panic";
}

template <class T>
std::string caps_seen(std::size_t limit, std::size_t chunk) {
    gomp::slice<T> s;
    gomp::slice<T> add = gomp::make_slice<T>(static_cast<std::ptrdiff_t>(chunk));
    std::ostringstream out;
    std::ptrdiff_t last = -1;
    while (s.size() < limit) {
        s = gomp::append(std::move(s), add);
        if (s.cap() != last) {
            if (last != -1) out << ", ";
            last = s.cap();
            out << last;
        }
    }
    return out.str();
}

// tests/go/growth/main.go, found from this file's path (__FILE__ is
// relative to the build directory, which is the working directory under
// meson test or the executable's parent's parent).
std::filesystem::path growth_program() {
    namespace fs = std::filesystem;
    fs::path rel = fs::path(__FILE__).parent_path() / "go" / "growth" / "main.go";
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    for (fs::path base : {fs::current_path(), exe.parent_path().parent_path()}) {
        fs::path p = rel.is_absolute() ? rel : base / rel;
        if (fs::exists(p, ec)) return p;
    }
    return {};
}

// The output of `go run tests/go/growth/main.go`, or "" (with a MESSAGE)
// when go or the program is not there or does not run.
std::string run_go_growth() {
    std::filesystem::path prog = growth_program();
    if (prog.empty()) {
        MESSAGE("tests/go/growth/main.go not found from " << __FILE__ << ": live Go comparison skipped");
        return "";
    }
    if (std::system("command -v go >/dev/null 2>&1") != 0) {
        MESSAGE("go is not installed: live Go comparison skipped");
        return "";
    }
    // GOTOOLCHAIN=local: never download a toolchain. Go needs a cache
    // directory; without HOME (CI) give it one under /tmp.
    std::string cmd = "GOTOOLCHAIN=local ";
    if (!std::getenv("GOCACHE") && !std::getenv("HOME") && !std::getenv("XDG_CACHE_HOME"))
        cmd += "GOCACHE=/tmp/gomp-test-gocache ";
    cmd += "go run '" + prog.string() + "' 2>&1";
    std::string out;
    if (FILE* f = popen(cmd.c_str(), "r")) {
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
        if (pclose(f) != 0) {
            MESSAGE("`" << cmd << "` failed: live Go comparison skipped:\n" << out);
            return "";
        }
    }
    return out;
}

}  // namespace

static_assert(std::ranges::contiguous_range<gomp::slice<int>>);
static_assert(std::ranges::sized_range<gomp::slice<int>>);
static_assert(std::is_same_v<std::ranges::range_value_t<gomp::slice<std::string>>, std::string>);
static_assert(sizeof(gomp::slice<int>) == 4 * sizeof(void*));

TEST_CASE("nil slice: zero header, appendable, nil reslices stay nil") {
    gomp::slice<int> s;
    CHECK(s.is_nil());
    CHECK(s == nullptr);
    CHECK(gomp::len(s) == 0);
    CHECK(gomp::cap(s) == 0);
    CHECK(s.begin() == s.end());
    CHECK(s.sub(0, 0).is_nil());
    CHECK(gomp::append(s).is_nil());
    CHECK(gomp::append(s, gomp::slice<int>{}).is_nil());
    auto t = gomp::append(s, 7);
    CHECK(!t.is_nil());
    CHECK(t.len() == 1);
    CHECK(t.cap() == 2);  // 4-byte int: the 8-byte size class holds 2 (Go's []int32 too)
    CHECK(t[0] == 7);
    CHECK(s.is_nil());  // append did not touch s
}

TEST_CASE("make_slice: zero values, exact cap, non-nil when empty, Go's panics") {
    auto s = gomp::make_slice<int>(3, 10);
    CHECK(s.len() == 3);
    CHECK(s.cap() == 10);  // make does not round to a size class
    CHECK(s[0] == 0);
    CHECK(s[2] == 0);
    auto all = s.sub(0, 10);
    CHECK(std::all_of(all.begin(), all.end(), [](int v) { return v == 0; }));

    auto e = gomp::make_slice<int>(0);
    CHECK(!e.is_nil());
    CHECK(e.len() == 0);
    CHECK(e.cap() == 0);
    CHECK(!gomp::slice<int>{}.sub(0, 0, 0).data());

    auto strs = gomp::make_slice<std::string>(2, 4);
    CHECK(strs[1].empty());
    CHECK(strs.sub(0, 4)[3].empty());

    CHECK(panic_msg([] { gomp::make_slice<int>(-1); }) == "runtime error: makeslice: len out of range");
    CHECK(panic_msg([] { gomp::make_slice<int>(3, 2); }) == "runtime error: makeslice: cap out of range");
    CHECK(panic_msg([] { gomp::make_slice<int>(1, std::ptrdiff_t(1) << 62); }) ==
          "runtime error: makeslice: cap out of range");
    CHECK(panic_msg([] { gomp::make_slice<int>(std::ptrdiff_t(1) << 62); }) ==
          "runtime error: makeslice: len out of range");
}

TEST_CASE("index and reslice panics carry Go's exact messages") {
    // Expected strings: the output of tests/go/growth/main.go on the same
    // operations (s := make([]int, 3, 5)).
    auto s = gomp::make_slice<int>(3, 5);
    std::ptrdiff_t i = 5, j = 2, k = 7, neg = -1;
    CHECK(panic_msg([&] { (void)s[i]; }) == "runtime error: index out of range [5] with length 3");
    CHECK(panic_msg([&] { (void)s[neg]; }) == "runtime error: index out of range [-1]");
    CHECK(panic_msg([&] { s.sub(0, k); }) == "runtime error: slice bounds out of range [:7] with capacity 5");
    CHECK(panic_msg([&] { s.sub(3, j); }) == "runtime error: slice bounds out of range [3:2]");
    CHECK(panic_msg([&] { s.sub(i); }) == "runtime error: slice bounds out of range [5:3]");
    CHECK(panic_msg([&] { s.sub(neg); }) == "runtime error: slice bounds out of range [-1:]");
    CHECK(panic_msg([&] { s.sub(0, neg); }) == "runtime error: slice bounds out of range [:-1]");
    CHECK(panic_msg([&] { s.sub(0, 1, k); }) == "runtime error: slice bounds out of range [::7] with capacity 5");
    CHECK(panic_msg([&] { s.sub(0, i, 3); }) == "runtime error: slice bounds out of range [:5:3]");
    CHECK(panic_msg([&] { s.sub(3, j, 4); }) == "runtime error: slice bounds out of range [3:2:]");
    // Within cap but past len is legal for a reslice, as in Go.
    CHECK(s.sub(0, 5).len() == 5);
    CHECK(s.sub(3).len() == 0);
    CHECK(s.unchecked(2) == 0);
}

TEST_CASE("reslices share the array; a full slice expression limits cap") {
    gomp::slice<int> s{0, 1, 2, 3, 4, 5};
    CHECK(s.len() == 6);
    CHECK(s.cap() == 6);
    auto t = s.sub(2, 4);
    CHECK(t.len() == 2);
    CHECK(t.cap() == 4);
    t[0] = 20;
    CHECK(s[2] == 20);
    auto u = s.sub(1, 3, 4);
    CHECK(u.cap() == 3);
    CHECK(u.sub(0, 3)[2] == 3);
    // Appending past a 3-index cap must not clobber s.
    u = gomp::append(std::move(u), 100, 101);  // len 2 -> 4 > cap 3: new array
    CHECK(s[3] == 3);
    CHECK(s[4] == 4);
    CHECK(u[2] == 100);
    CHECK(u[3] == 101);
    u[0] = -5;
    CHECK(s[1] == 1);
}

TEST_CASE("append in place is visible through every slice of the array") {
    // The classic Go surprise: b and c share a's array.
    auto a = gomp::make_slice<int>(0, 10);
    auto b = gomp::append(a, 1);
    auto c = gomp::append(a, 2);
    CHECK(b[0] == 2);
    CHECK(c[0] == 2);
    CHECK(b.data() == c.data());
    CHECK(a.len() == 0);

    // Appending to a prefix overwrites what a longer slice sees.
    gomp::slice<std::string> full = gomp::make_slice<std::string>(0, 4);
    full = gomp::append(std::move(full), "a", "b", "c");
    auto pre = full.sub(0, 1);
    pre = gomp::append(std::move(pre), "X");
    CHECK(full[1] == "X");
    CHECK(full[2] == "c");
    // Past cap: a new array, the old one is left alone.
    auto grown = gomp::append(full, "d", "e");
    CHECK(grown.data() != full.data());
    grown[0] = "changed";
    CHECK(full[0] == "a");
}

TEST_CASE("growslice's cap sequence matches Go's") {
    // Copied from the output of `go run tests/go/growth/main.go` (go1.26.8,
    // linux/amd64): the distinct caps while appending to a nil slice until
    // len reaches the limit, one element at a time (and 7 at a time for the
    // last line). The next test case reruns that program when go is
    // installed and compares with its live output.
    CHECK(caps_seen<std::int64_t>(1 << 20, 1) ==
          "1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 848, 1280, 1792, 2560, 3408, 5120, 7168, 9216, "
          "12288, 16384, 21504, 27648, 34816, 44032, 55296, 69632, 88064, 110592, 139264, 175104, "
          "219136, 274432, 344064, 431104, 539648, 674816, 843776, 1055744");
    CHECK(caps_seen<s24>(1 << 20, 1) ==
          "1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 853, 1365, 2048, 3072, 4096, 5461, 7168, 9216, "
          "11946, 15360, 19456, 24576, 31061, 39253, 49493, 62122, 78165, 97962, 122880, 153941, "
          "192853, 241322, 302080, 377856, 472746, 591189, 739328, 924672, 1156096");
    CHECK(caps_seen<std::uint8_t>(1 << 16, 1) ==
          "8, 16, 32, 64, 128, 256, 512, 896, 1408, 2048, 3072, 4096, 5376, 6912, 9472, 12288, "
          "16384, 21760, 28672, 40960, 57344, 73728");
    CHECK(caps_seen<std::int64_t>(1 << 14, 7) ==
          "8, 16, 32, 64, 128, 256, 512, 848, 1280, 1792, 2560, 3408, 5120, 7168, 9216, 12288, "
          "16384, 21504");
    // The same growth through push_back and through the copying form.
    gomp::slice<std::int64_t> p, q;
    for (int i = 0; i < 1000; i++) {
        p.push_back(i);
        q = gomp::append(q, std::int64_t(i));
    }
    CHECK(p.cap() == 1280);
    CHECK(q.cap() == 1280);
    CHECK(std::equal(p.begin(), p.end(), q.begin(), q.end()));
    // Overflow is Go's growslice panic.
    CHECK(panic_msg([] { gomp::detail::growslice_cap(std::size_t(1) << 50, 0, 8); }) ==
          "runtime error: growslice: len out of range");
    CHECK(gomp::detail::roundupsize(33000) == 40960);  // large: whole 8 KiB pages
    CHECK(gomp::detail::roundupsize(32760) == 32768);
    CHECK(gomp::detail::roundupsize(1025) == 1152);
}

TEST_CASE("growslice's cap sequence equals the live output of the Go program") {
    std::string go_out = run_go_growth();
    if (go_out.empty()) return;  // no go, or it could not run: said in a MESSAGE
    auto line = [&](std::string_view label) {
        std::string key = std::string(label) + ": ";
        std::size_t b = go_out.find(key);
        REQUIRE_MESSAGE(b != std::string::npos, "no '" << label << "' line in:\n" << go_out);
        b += key.size();
        return go_out.substr(b, go_out.find('\n', b) - b);
    };
    CHECK(caps_seen<std::int64_t>(1 << 20, 1) == line("int"));
    CHECK(caps_seen<s24>(1 << 20, 1) == line("s24"));
    CHECK(caps_seen<std::uint8_t>(1 << 16, 1) == line("byte"));
    CHECK(caps_seen<std::int64_t>(1 << 14, 7) == line("int by 7"));
}

TEST_CASE("growth keeps every element and releases the old array") {
    gomp::slice<std::int64_t> s;
    for (std::int64_t i = 0; i < 5000; i++) s = gomp::append(std::move(s), i);
    for (std::int64_t i = 0; i < 5000; i++) REQUIRE(s[i] == i);
    // Growing a shared array copies; the other slice keeps the old one.
    auto keep = s.sub(0, 10);
    auto big = gomp::append(s.sub(0, s.len(), s.len()), std::int64_t(-1));
    big[0] = 99;
    CHECK(keep[0] == 0);
    CHECK(big[5000] == -1);
    // Offset slice grows from its own start.
    auto mid = s.sub(4990);
    mid = gomp::append(std::move(mid), std::int64_t(7), std::int64_t(8));
    CHECK(mid.len() == 12);
    CHECK(mid[0] == 4990);
    CHECK(mid[11] == 8);
}

TEST_CASE("append(s, s) and overlapping append of a slice behave as memmove") {
    gomp::slice<int> s{1, 2, 3};
    s = gomp::append(std::move(s), s);  // grows: Go's append(s, s...)
    CHECK(std::ranges::equal(s, std::vector{1, 2, 3, 1, 2, 3}));

    auto a = gomp::make_slice<int>(0, 16);
    a = gomp::append(std::move(a), 1, 2, 3);
    a = gomp::append(std::move(a), a);  // in place: fits in cap
    CHECK(std::ranges::equal(a, std::vector{1, 2, 3, 1, 2, 3}));
    CHECK(a.cap() == 16);

    // t overlaps the destination of the in-place append.
    auto b = gomp::make_slice<std::string>(0, 8);
    b = gomp::append(std::move(b), "a", "b", "c", "d");
    auto head = b.sub(0, 2);
    auto t = b.sub(1, 4);  // b c d, will be written to positions 2..4
    head = gomp::append(std::move(head), t);
    CHECK(std::ranges::equal(head, std::vector<std::string>{"a", "b", "b", "c", "d"}));

    gomp::slice<int> c{1, 2, 3, 4, 5};
    auto lo = c.sub(0, 1);
    lo = gomp::append(std::move(lo), c.sub(2, 5));  // writes 1..3 from 2..4: forward overlap
    CHECK(std::ranges::equal(c, std::vector{1, 3, 4, 5, 5}));

    auto d = gomp::append(gomp::slice<int>{}, {4, 5, 6});
    CHECK(std::ranges::equal(d, std::vector{4, 5, 6}));
}

TEST_CASE("copy: count, overlap in both directions, different arrays") {
    gomp::slice<int> s{0, 1, 2, 3, 4, 5, 6, 7};
    CHECK(gomp::copy(s.sub(2), s) == 6);  // shift right
    CHECK(std::ranges::equal(s, std::vector{0, 1, 0, 1, 2, 3, 4, 5}));
    CHECK(gomp::copy(s, s.sub(2)) == 6);  // shift left
    CHECK(std::ranges::equal(s, std::vector{0, 1, 2, 3, 4, 5, 4, 5}));
    gomp::slice<int> small{9, 9};
    CHECK(gomp::copy(small, s) == 2);
    CHECK(small[1] == 1);
    CHECK(gomp::copy(gomp::slice<int>{}, s) == 0);

    gomp::slice<std::string> w{"a", "b", "c", "d"};
    CHECK(gomp::copy(w.sub(1), w) == 3);
    CHECK(std::ranges::equal(w, std::vector<std::string>{"a", "a", "b", "c"}));
    CHECK(gomp::copy(w, w.sub(2)) == 2);
    CHECK(std::ranges::equal(w, std::vector<std::string>{"b", "c", "b", "c"}));
}

TEST_CASE("lifetimes: every element constructed once and destroyed once") {
    cnt = {};
    {
        gomp::slice<tracked> s;
        for (int i = 0; i < 100; i++) s = gomp::append(std::move(s), tracked(i));
        CHECK(s.len() == 100);
        CHECK(s.cap() == 128);  // 16-byte size class path: 4-byte tracked
        // The array holds cap live elements: the tail is value-initialized.
        CHECK(cnt.live() == 128);
        // Uniquely held arrays move their elements when they grow.
        CHECK(cnt.copy == 0);
        for (int i = 0; i < 100; i++) REQUIRE(s[i].v == i);

        // Shared arrays are copied when one slice grows.
        auto other = s;
        auto before = cnt;
        auto grown = gomp::append(s.sub(0, 100, 100), tracked(100));
        CHECK(cnt.copy - before.copy == 100);
        CHECK(cnt.move - before.move == 1);
        CHECK(s[99].v == 99);  // old array intact
        // An in-place append into the shared tail is an assignment.
        before = cnt;
        auto inplace = gomp::append(s, tracked(7));
        CHECK(cnt.move_asg - before.move_asg == 1);
        CHECK(cnt.constructed() - before.constructed() == 1);  // just the argument
        CHECK(other.sub(0, 101)[100].v == 7);
    }
    CHECK(cnt.live() == 0);
}

TEST_CASE("move-only elements: appended and moved on growth, never copied") {
    gomp::slice<std::unique_ptr<int>> s;
    for (int i = 0; i < 50; i++) s = gomp::append(std::move(s), std::make_unique<int>(i));
    for (int i = 0; i < 50; i++) REQUIRE(*s[i] == i);
    CHECK(s.sub(0, s.cap())[s.cap() - 1] == nullptr);  // the zero value
    s.emplace_back(new int(50));
    CHECK(*s[50] == 50);
    // Growing a shared array would need copies.
    auto full = s.sub(0, s.len(), s.len());
    auto keep = s;
    CHECK(panic_msg([&] { full = gomp::append(std::move(full), std::make_unique<int>(1)); })
              .starts_with("panic: gomp: append must copy a shared array"));
    CHECK(*full[0] == 0);  // unchanged by the failed append
}

TEST_CASE("no zero value: raw tail with a high-water mark") {
    cnt = {};
    {
        gomp::slice<nodefault> s;
        for (int i = 0; i < 5; i++) s = gomp::append(std::move(s), nodefault(i));
        CHECK(s.cap() == 8);
        // Only appended elements are alive, not the raw tail.
        CHECK(cnt.live() == 5);
        auto a = s.sub(0, 2);
        auto b = s.sub(0, 5);
        // Below the high-water mark an append assigns over what b sees.
        auto before = cnt;
        a = gomp::append(std::move(a), nodefault(42));
        CHECK(cnt.move_asg - before.move_asg == 1);
        CHECK(b[2].v == 42);
        CHECK(cnt.live() == 5);
        // At the mark it constructs and raises it.
        b = gomp::append(std::move(b), nodefault(5));
        CHECK(cnt.live() == 6);
        CHECK(s.sub(0, 6)[5].v == 5);
        // Past it there is nothing to show.
        CHECK(panic_msg([&] { s.sub(0, 8); }).starts_with("panic: gomp: slice bounds reach array elements [6:8]"));
        CHECK(panic_msg([] { gomp::make_slice<nodefault>(1); }).starts_with("panic: gomp: make_slice"));
        auto r = gomp::make_slice<nodefault>(0, 3);
        r = gomp::append(std::move(r), nodefault(1), nodefault(2));
        CHECK(r.cap() == 3);
        CHECK(r[1].v == 2);
        // Overlapping append of a slice, half assigned and half constructed.
        auto c = s.sub(0, 3);  // hw is 6; c appends at 3..5 (assign) and 6..7 (construct)
        c = gomp::append(std::move(c), s.sub(1, 6));
        CHECK(c.len() == 8);
        CHECK(c[3].v == 1);
        CHECK(c[4].v == 42);
        CHECK(c[7].v == 5);
    }
    CHECK(cnt.live() == 0);
}

TEST_CASE("a throwing copy during growth leaves the slice as it was") {
    gomp::slice<thrower> s;
    for (int i = 0; i < 4; i++) s = gomp::append(std::move(s), thrower(i));
    auto keep = s;  // shared: growth must copy
    throw_after = 2;
    CHECK_THROWS_AS(s = gomp::append(std::move(s), thrower(4)), std::runtime_error);
    throw_after = -1;
    // The moved-in slice is intact: the append works on the caller's object.
    CHECK(s.len() == 4);
    CHECK(s[3].v == 3);
    // And through push_back.
    throw_after = 0;
    CHECK_THROWS_AS(keep.push_back(thrower(9)), std::runtime_error);
    throw_after = -1;
    CHECK(keep.len() == 4);
}

TEST_CASE("contiguous range: span, ranges algorithms, back_inserter") {
    gomp::slice<int> s{5, 3, 1, 4, 2};
    std::span<int> sp = s;
    CHECK(sp.size() == 5);
    std::ranges::sort(s);
    CHECK(std::ranges::equal(sp, std::vector{1, 2, 3, 4, 5}));
    gomp::slice<int> out;
    std::ranges::copy(s | std::views::filter([](int v) { return v % 2; }), std::back_inserter(out));
    CHECK(std::ranges::equal(out, std::vector{1, 3, 5}));
    int sum = 0;
    for (int v : s) sum += v;
    CHECK(sum == 15);
    CHECK(std::accumulate(s.begin(), s.end(), 0) == 15);
}

TEST_CASE("clone lets a huge array go; a sub-slice keeps it alive") {
    cnt = {};
    gomp::slice<tracked> small, cloned;
    {
        auto huge = gomp::make_slice<tracked>(1000);
        for (int i = 0; i < 1000; i++) huge[i].v = i;
        small = huge.sub(10, 12);
        cloned = gomp::clone(huge.sub(20, 22));
    }
    CHECK(cnt.live() == 1000 + cloned.cap());  // small pins all 1000
    small = nullptr;
    CHECK(cnt.live() == cloned.cap());
    CHECK(cloned.len() == 2);
    CHECK(cloned[1].v == 21);
    CHECK(gomp::clone(gomp::slice<int>{}).is_nil());
    auto e = gomp::clone(gomp::make_slice<int>(0, 100));
    CHECK(!e.is_nil());
    CHECK(e.cap() == 0);
    cloned = nullptr;
    CHECK(cnt.live() == 0);
}

TEST_CASE("over-aligned elements stay aligned") {
    gomp::slice<wide> s;
    for (int i = 0; i < 40; i++) s = gomp::append(std::move(s), wide{i});
    for (auto& w : s) REQUIRE(reinterpret_cast<std::uintptr_t>(&w) % 64 == 0);
    CHECK(s[39].v == 39);
}

TEST_CASE("copies of one slice may be made and dropped on many threads") {
    cnt = {};
    {
        gomp::slice<tracked> s = gomp::make_slice<tracked>(8);
        std::vector<std::thread> ts;
        std::atomic<long> sum{0};
        for (int t = 0; t < 4; t++)
            ts.emplace_back([s, &sum, t] {
                long local = 0;
                for (int i = 0; i < 2000; i++) {
                    gomp::slice<tracked> c = s;        // atomic retain
                    auto d = c.sub(t, t + 1);          // and another
                    local += d.len();
                }
                sum += local;
            });
        for (auto& t : ts) t.join();
        CHECK(sum == 8000);
        CHECK(cnt.live() == 8);
    }
    CHECK(cnt.live() == 0);
}
