// Tests for gomp/iface.hpp: structural conversion by value and by pointer,
// small-buffer versus heap storage, lifetimes, nil rules, equality and
// hashing, type assertion (concrete and interface, success and failure),
// the run-time itab registry, and type_switch.
#include <gomp/iface.hpp>
#include <gomp/map.hpp>
#include <gomp/slice.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

GOMP_INTERFACE(Shape, (area, double() const), (scale, void(double)));
GOMP_INTERFACE(Areaer, (area, double() const));
GOMP_INTERFACE(Namer, (name, std::string() const));
GOMP_INTERFACE(Reader, (read, long(std::string&)));
GOMP_INTERFACE(Writer, (write, long(const std::string&)));
GOMP_INTERFACE(ReadWriter, (read, long(std::string&)), (write, long(const std::string&)));
GOMP_INTERFACE(Counter, (add, int(int, int)), (get, int() const));

namespace {

struct Circle {
    double r = 1;
    double area() const { return 3.0 * r * r; }
    void scale(double f) { r *= f; }
    bool operator==(const Circle&) const = default;
};

struct Square {
    double side = 1;
    double area() const { return side * side; }
    void scale(double f) { side *= f; }
    std::string name() const { return "square"; }
    bool operator==(const Square&) const = default;
};

// 40 bytes: too big for the 16-byte buffer.
struct Big {
    double a[5] = {1, 2, 3, 4, 5};
    double area() const { return a[0] + a[4]; }
    void scale(double f) { a[0] *= f; }
};

// Counts lifetimes; 8 bytes, stored inline.
struct counts {
    int made = 0, copies = 0, moves = 0, dtors = 0;
    int live() const { return made + copies + moves - dtors; }
};
counts cnt;
struct Tracked {
    double r = 1;
    Tracked() { cnt.made++; }
    explicit Tracked(double x) : r(x) { cnt.made++; }
    Tracked(const Tracked& o) : r(o.r) { cnt.copies++; }
    Tracked(Tracked&& o) noexcept : r(o.r) { cnt.moves++; }
    ~Tracked() { cnt.dtors++; }
    double area() const { return r; }
    void scale(double f) { r *= f; }
};
// Same but too big for the buffer.
struct TrackedBig : Tracked {
    char pad[64] = {};
    using Tracked::Tracked;
};

struct File {
    std::string data;
    long read(std::string& out) {
        out = data;
        return static_cast<long>(data.size());
    }
    long write(const std::string& s) {
        data += s;
        return static_cast<long>(s.size());
    }
};

// Only ever travels as any; registered explicitly.
struct Registered {
    double area() const { return 7; }
    void scale(double) {}
};
[[maybe_unused]] const bool registered = gomp::implements<Registered, Shape>();

// Never converted to Shape anywhere; has the methods.
struct Unknown {
    double area() const { return 9; }
    void scale(double) {}
};
// Has no area at all.
struct NoArea {
    void scale(double) {}
};
// Registered by hand at run time (see the epoch test).
struct Late {
    double area() const { return 11; }
    void scale(double) {}
};

struct Acc {
    int total = 0;
    int add(int a, int b) {
        total += a + b;
        return total;
    }
    int get() const { return total; }
};

struct MoveOnly {
    std::unique_ptr<int> p;
    double area() const { return p ? *p : -1; }
    void scale(double) {}
};

std::string panic_msg(auto&& f) {
    try {
        f();
    } catch (const gomp::panic& e) {
        return e.what();
    }
    return "no panic";
}

bool inside(const void* p, const void* obj, std::size_t size) {
    auto a = reinterpret_cast<std::uintptr_t>(p), b = reinterpret_cast<std::uintptr_t>(obj);
    return a >= b && a < b + size;
}

}  // namespace

template <>
inline constexpr std::string_view gomp::type_name<Square> = "main.Square";

static_assert(sizeof(Shape) == 3 * sizeof(void*));
static_assert(sizeof(gomp::any) == 3 * sizeof(void*));
static_assert(std::is_convertible_v<Circle, Shape>);
static_assert(std::is_convertible_v<Circle*, Shape>);
static_assert(std::is_convertible_v<const Circle*, Areaer>);
static_assert(!std::is_convertible_v<const Circle*, Shape>);  // scale needs a mutable receiver
static_assert(!std::is_convertible_v<NoArea, Shape>);
static_assert(!std::is_convertible_v<int, Shape>);
static_assert(std::is_convertible_v<Shape, Areaer>);   // method subset: implicit
static_assert(!std::is_convertible_v<Areaer, Shape>);  // needs an assertion
static_assert(std::is_convertible_v<ReadWriter, Reader>);

TEST_CASE("structural conversion by value and by pointer; calls dispatch through the itab") {
    Shape s = Circle{2};
    CHECK(s.area() == 12);
    s.scale(2);  // the interface owns its Circle
    CHECK(s.area() == 48);

    Circle c{1};
    Shape p = &c;  // Go's *Circle: the methods run on c itself
    p.scale(3);
    CHECK(c.r == 3);
    CHECK(p.area() == 27);

    std::vector<Shape> shapes{Circle{1}, Square{2}, Big{}, &c};
    double sum = 0;
    for (auto& sh : shapes) sum += sh.area();
    CHECK(sum == 3 + 4 + 6 + 27);

    Counter k = Acc{};
    CHECK(k.add(2, 3) == 5);
    CHECK(k.add(1, 1) == 7);
    CHECK(k.get() == 7);

    ReadWriter rw = File{};
    CHECK(rw.write("hello") == 5);
    std::string out;
    CHECK(rw.read(out) == 5);
    CHECK(out == "hello");

    const Shape cs = Square{3};
    CHECK(cs.area() == 9);  // const methods callable on a const interface
}

TEST_CASE("small values live in the buffer, large ones on the heap") {
    Shape small = Circle{1};
    Shape big = Big{};
    CHECK(inside(gomp::as<Circle>(small), &small, sizeof small));
    CHECK(!inside(gomp::as<Big>(big), &big, sizeof big));
    Circle c;
    Shape ptr = &c;
    CHECK(*gomp::as<Circle*>(ptr) == &c);  // a pointer is a small value
    CHECK(inside(gomp::as<Circle*>(ptr), &ptr, sizeof ptr));
    // Moving an interface moves a heap value's pointer, not the value.
    const Big* before = gomp::as<Big>(big);
    Shape moved = std::move(big);
    CHECK(gomp::as<Big>(moved) == before);
    CHECK(big == nullptr);  // moved-from is nil
}

TEST_CASE("lifetimes: copies copy the value, each value destroyed once") {
    cnt = {};
    {
        Shape a = Tracked(2);  // made + moved into the buffer
        CHECK(cnt.live() == 1);
        Shape b = a;
        CHECK(cnt.copies == 1);
        b.scale(10);
        CHECK(a.area() == 2);  // b is its own copy
        CHECK(b.area() == 20);
        Shape c = std::move(a);
        CHECK(cnt.live() == 2);
        a = c;
        CHECK(cnt.live() == 3);
        gomp::any e = b;  // I2E copies the value
        CHECK(cnt.live() == 4);
        Shape f = gomp::as<Shape>(e);
        CHECK(cnt.live() == 5);
        Shape g = gomp::as<Shape>(std::move(e));  // moves out of e
        CHECK(cnt.live() == 5);
        CHECK(e == nullptr);
    }
    CHECK(cnt.live() == 0);
    cnt = {};
    {
        Shape a = TrackedBig(3);  // heap: made, moved into the heap copy
        CHECK(cnt.moves == 1);
        Shape b = a;
        CHECK(cnt.copies == 1);
        Shape c = std::move(a);  // the pointer moves, not the value
        CHECK(cnt.moves == 1);
        c = Shape();
        CHECK(cnt.live() == 1);
        CHECK(b.area() == 3);
    }
    CHECK(cnt.live() == 0);
}

TEST_CASE("nil interface versus an interface holding a null pointer") {
    Shape nil;
    CHECK(nil == nullptr);
    CHECK(!nil);
    CHECK(gomp::type_name_of(nil) == "nil");
    CHECK(panic_msg([&] { nil.area(); }) == "runtime error: invalid memory address or nil pointer dereference");

    Circle* none = nullptr;
    Shape typed = none;
    CHECK(typed != nullptr);
    CHECK(static_cast<bool>(typed));
    CHECK(gomp::type_name_of(typed) == "{anonymous}::Circle*");
    CHECK(typed != nil);
    CHECK(gomp::as<Circle*>(typed) != nullptr);
    CHECK(*gomp::as<Circle*>(typed) == nullptr);

    gomp::any a;
    CHECK(a == nullptr);
    gomp::any b = nullptr;
    CHECK(b == nullptr);
    gomp::any c = none;
    CHECK(c != nullptr);
    CHECK(a == b);
    CHECK(a != c);
}

TEST_CASE("type assertion to a concrete type") {
    gomp::any x = 42;
    CHECK(gomp::as<int>(x) != nullptr);
    CHECK(*gomp::as<int>(x) == 42);
    CHECK(gomp::as<long>(x) == nullptr);
    gomp::type_assert<int>(x) = 7;
    CHECK(*gomp::as<int>(x) == 7);
    const gomp::any& cx = x;
    static_assert(std::is_same_v<decltype(gomp::as<int>(cx)), const int*>);

    CHECK(panic_msg([&] { gomp::type_assert<std::string>(x); }) ==
          "interface conversion: interface {} is int, not std::string");
    gomp::any nil;
    CHECK(panic_msg([&] { gomp::type_assert<int>(nil); }) == "interface conversion: interface {} is nil, not int");

    Shape s = Circle{1};
    CHECK(gomp::as<Circle>(s)->r == 1);
    CHECK(gomp::as<Circle*>(s) == nullptr);  // Circle and *Circle are different types
    // A registered Go-like name prints instead of the C++ one.
    CHECK(panic_msg([&] { gomp::type_assert<Square>(s); }) ==
          "interface conversion: Shape is {anonymous}::Circle, not main.Square");
    try {
        gomp::type_assert<Square>(s);
    } catch (const gomp::type_assertion_error&) {
        CHECK(true);  // catchable as its own type, and as gomp::panic
    }
}

TEST_CASE("comma-ok assertion: the value and true, or the zero value and false") {
    gomp::any x = 42;
    auto [i, ok] = gomp::as_ok<int>(x);
    CHECK(ok);
    CHECK(i == 42);
    auto [s, sok] = gomp::as_ok<std::string>(x);
    CHECK(!sok);
    CHECK(s.empty());
    auto [l, lok] = gomp::as_ok<long>(x);  // trivially copyable: the selected copy
    CHECK(!lok);
    CHECK(l == 0);
    gomp::any nil;
    CHECK(!gomp::as_ok<int>(nil).ok);
    CHECK(gomp::as_ok<int>(nil).value == 0);
    gomp::any str = std::string("go");
    CHECK(gomp::as_ok<std::string>(str).value == "go");

    Shape sh = Circle{2};
    auto [c, cok] = gomp::as_ok<Circle>(sh);
    CHECK(cok);
    CHECK(c.r == 2);
    CHECK(!gomp::as_ok<Square>(sh).ok);
    CHECK(gomp::as_ok<Square>(sh).value.side == 1);  // Square{}

    // To an interface: an I and ok; a nil I and false.
    auto [ar, aok] = gomp::as_ok<Areaer>(sh);
    CHECK(aok);
    CHECK(ar.area() == 12);
    auto [nm, nok] = gomp::as_ok<Namer>(sh);  // Circle has no name()
    CHECK(!nok);
    CHECK(nm == nullptr);
    // A null pointer inside is still ok: the interface is not nil.
    Circle* none = nullptr;
    gomp::any np = none;
    auto [np_shape, np_ok] = gomp::as_ok<Shape>(np);
    CHECK(np_ok);
    CHECK(np_shape != nullptr);
}

TEST_CASE("type assertion to an interface: cached itabs, Go's failure messages") {
    gomp::any x = Circle{2};
    Shape s = gomp::as<Shape>(x);
    REQUIRE(s);
    CHECK(s.area() == 12);
    // The itab is the one the static conversion built, found in the cache.
    Shape direct = Circle{1};
    CHECK(s.gomp_tab() == direct.gomp_tab());
    CHECK(gomp::as<Shape>(x).gomp_tab() == s.gomp_tab());
    // Assertion to a subset interface, built from Circle's learnt methods.
    Areaer a = gomp::type_assert<Areaer>(x);
    CHECK(a.area() == 12);

    gomp::any i = 5;
    CHECK(!gomp::as<Shape>(i));
    // int is not a class: gomp knows it has no methods, Go's exact message.
    CHECK(panic_msg([&] { gomp::type_assert<Shape>(i); }) ==
          "interface conversion: int is not Shape: missing method area");
    gomp::any na = NoArea{};
    std::string m = panic_msg([&] { gomp::type_assert<Shape>(na); });
    CHECK(m.starts_with("interface conversion: {anonymous}::NoArea is not Shape: missing method area (or gomp never "
                        "learnt it"));
    CHECK(m.find("gomp::implements<{anonymous}::NoArea, Shape>()") != std::string::npos);
    // A type that has the methods but was never converted or registered.
    gomp::any u = Unknown{};
    CHECK(!gomp::as<Shape>(u));
    CHECK(!gomp::as<Shape>(u));  // the cached negative answer
    gomp::any nil;
    CHECK(!gomp::as<Shape>(nil));
    CHECK(panic_msg([&] { gomp::type_assert<Shape>(nil); }) == "interface conversion: interface is nil, not Shape");

    // implements<T, I>() made Registered assertable though it only travels as any.
    gomp::any r = Registered{};
    REQUIRE(gomp::as<Shape>(r));
    CHECK(gomp::as<Shape>(r).area() == 7);
    // Square's name method was learnt from a conversion to Namer below.
    gomp::any sq = Square{2};
    CHECK(gomp::as<Namer>(sq).name() == "square");

    // A pointer dynamic type asserts too, and still points at the original.
    Circle c{1};
    gomp::any pc = &c;
    gomp::as<Shape>(pc).scale(5);
    CHECK(c.r == 5);
}

Namer namer_of_square() {  // compiled, so Square's name() is known to gomp
    return Square{};
}

TEST_CASE("methods learnt from one interface serve another (Go's itabInit by name and signature)") {
    // File is converted to ReadWriter only (below); Reader and Writer come
    // from its learnt read and write.
    ReadWriter rw = File{"abc"};
    gomp::any x = File{"xyz"};
    Reader r = gomp::type_assert<Reader>(x);
    std::string out;
    CHECK(r.read(out) == 3);
    CHECK(out == "xyz");
    Writer w = gomp::as<Writer>(x);
    REQUIRE(w);
    CHECK(w.write("12") == 2);
    // Static I2I conversion to a subset interface.
    Reader r2 = rw;
    CHECK(r2.read(out) == 3);
    CHECK(out == "abc");
    Areaer ar = Shape(Circle{1});
    CHECK(ar.area() == 3);
    CHECK(namer_of_square().name() == "square");
}

TEST_CASE("a negative cached answer is dropped when a later registration teaches the method") {
    gomp::any x = Late{};
    CHECK(!gomp::as<Shape>(x));
    gomp::detail::register_itab<Shape>(&gomp::detail::iface_info<Shape>::itab_of<Late>);
    Shape s = gomp::as<Shape>(x);
    REQUIRE(s);
    CHECK(s.area() == 11);
}

TEST_CASE("equality: Go's efaceeq rules, uncomparable types panic") {
    gomp::any a = 1, b = 1, c = 2, d = 1L;
    CHECK(a == b);
    CHECK(a != c);
    CHECK(a != d);  // int and long are different types
    CHECK(gomp::any(std::string("x")) == gomp::any(std::string("x")));
    Shape s1 = Circle{1}, s2 = Circle{1}, s3 = Square{1};
    CHECK(s1 == s2);
    CHECK(s1 != s3);
    CHECK(s1 == gomp::any(Circle{1}));  // an interface and an any compare by dynamic value
    Circle c1, c2;
    Shape p1 = &c1, p2 = &c1;
    Shape p3 = &c2;
    CHECK(p1 == p2);  // pointers compare by address
    CHECK(p1 != p3);

    gomp::any sl = gomp::slice<int>{1};
    CHECK(panic_msg([&] { (void)(sl == sl); }) == "runtime error: comparing uncomparable type gomp::slice<int>");
    CHECK(sl != a);  // different types: unequal without comparing
    Shape big1 = Big{}, big2 = Big{};
    CHECK(panic_msg([&] { (void)(big1 == big2); }).starts_with("runtime error: comparing uncomparable type"));
}

TEST_CASE("interface values as map keys: gomp::hash specialized for any and interfaces") {
    gomp::hash<gomp::any> h;
    const std::uint64_t seed = 0x1234;
    CHECK(h(gomp::any(7), seed) == h(gomp::any(7), seed));
    CHECK(h(gomp::any(std::string("k")), seed) == h(gomp::any(std::string("k")), seed));
    CHECK(h(gomp::any(7), seed) != h(gomp::any(8), seed));
    CHECK(h(gomp::any(), seed) == h(gomp::any(nullptr), seed));
    CHECK(panic_msg([&] { h(gomp::any(gomp::slice<int>{}), seed); }) ==
          "runtime error: hash of unhashable type gomp::slice<int>");
    CHECK(panic_msg([&] { h(gomp::any(Circle{}), seed); }) ==
          "runtime error: hash of unhashable type {anonymous}::Circle");
    gomp::hash<Shape> hs;
    Circle circle;
    CHECK(hs(Shape(&circle), seed) == hs(Shape(&circle), seed));

    struct any_hash {
        std::size_t operator()(const gomp::any& x) const { return gomp::hash<gomp::any>{}(x, 99); }
    };
    std::unordered_map<gomp::any, int, any_hash> m;
    m[gomp::any(1)] = 10;
    m[gomp::any(std::string("one"))] = 20;
    m[gomp::any(1L)] = 30;
    m[gomp::any()] = 40;
    CHECK(m.size() == 4);
    CHECK(m[gomp::any(1)] == 10);
    CHECK(m[gomp::any(std::string("one"))] == 20);
    CHECK(m[gomp::any(nullptr)] == 40);
}

TEST_CASE("gomp::map with interface keys, as Go's map[any]V and map[Shape]V") {
    gomp::map<gomp::any, int> m;
    m[gomp::any(1)] = 1;
    m[gomp::any(1L)] = 2;  // another dynamic type: another key
    m[gomp::any(std::string("a"))] = 3;
    m[gomp::any()] = 4;
    m[gomp::any(1)] += 10;
    CHECK(m.size() == 4);
    CHECK(m.get(gomp::any(1)) == 11);
    CHECK(m.get(gomp::any(std::string("a"))) == 3);
    CHECK(m.contains(gomp::any(nullptr)));
    CHECK(!m.contains(gomp::any(2)));
    CHECK(panic_msg([&] { m[gomp::any(gomp::slice<int>{})] = 5; }) ==
          "runtime error: hash of unhashable type gomp::slice<int>");

    Circle c1, c2;
    gomp::map<Shape, std::string> names;
    names[Shape(&c1)] = "one";
    names[Shape(&c2)] = "two";
    CHECK(names.get(Shape(&c1)) == "one");
    CHECK(names.size() == 2);
}

TEST_CASE("type_switch: cases in order, interfaces, nil and default") {
    auto kind = [](const gomp::any& x) {
        return gomp::type_switch(
            x, [](gomp::default_case) { return std::string("other"); },
            [](int i) { return "int " + std::to_string(i); },
            [](const std::string& s) { return "string " + s; },
            [](Square) { return std::string("square first"); },  // before the Shape case: wins
            [](Shape s) { return "shape " + std::to_string(static_cast<int>(s.area())); },
            [](gomp::nil_case) { return std::string("nil"); });
    };
    CHECK(kind(3) == "int 3");
    CHECK(kind(std::string("go")) == "string go");
    CHECK(kind(Circle{1}) == "shape 3");
    CHECK(kind(Square{2}) == "square first");
    CHECK(kind(gomp::any()) == "nil");
    CHECK(kind(2.5) == "other");

    int hits = 0;
    gomp::any x = 1.5;
    gomp::type_switch(x, [&](double& d) { d *= 2; hits++; }, [&](int) { hits += 100; });
    CHECK(hits == 1);
    CHECK(*gomp::as<double>(x) == 3.0);
    // Without a default nothing runs and a value result is value-initialized.
    CHECK(gomp::type_switch(gomp::any(1), [](double) { return 5; }) == 0);
}

TEST_CASE("move-only values: movable interfaces, copying panics") {
    gomp::any m = MoveOnly{std::make_unique<int>(4)};
    gomp::any n = std::move(m);
    CHECK(m == nullptr);
    CHECK(gomp::as<MoveOnly>(n)->p);
    CHECK(panic_msg([&] { gomp::any copy = n; }).starts_with("gomp: copy of an interface value holding"));
    Shape s = MoveOnly{std::make_unique<int>(6)};
    CHECK(s.area() == 6);
    Shape t = std::move(s);
    CHECK(t.area() == 6);
}

TEST_CASE("dynamic assertions from many threads share the caches safely") {
    std::vector<gomp::any> xs{Circle{1}, Square{2}, File{}, 5, Unknown{}, Registered{}, std::string("s")};
    std::atomic<int> ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; t++)
        ts.emplace_back([&xs, &ok] {
            int local = 0;
            for (int i = 0; i < 500; i++)
                for (const auto& x : xs) {
                    if (gomp::as<Shape>(x)) local++;
                    if (gomp::as<Areaer>(x)) local++;
                    if (gomp::as<Writer>(x)) local++;
                }
            ok += local;
        });
    for (auto& t : ts) t.join();
    // Shape: Circle, Square, Registered; Areaer: the same three; Writer: File.
    CHECK(ok == 4 * 500 * 7);
}

// Forty types that each know Areaer (the conversion below registers them) and
// travel as `any`: the interfaces' assertion caches grow and are relaid out
// several times while four threads assert them in different orders.
template <int N>
struct Many {
    double area() const { return N; }
};
template <int... N>
std::vector<gomp::any> many_types(std::integer_sequence<int, N...>) {
    [[maybe_unused]] Areaer registered[] = {Many<N>{}...};
    return {gomp::any(Many<N>{})...};
}
TEST_CASE("the assertion cache keeps every type while it grows") {
    auto xs = many_types(std::make_integer_sequence<int, 40>{});
    std::atomic<int> wrong{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; t++)
        ts.emplace_back([&xs, &wrong, t] {
            for (int round = 0; round < 50; round++)
                for (std::size_t j = 0; j < xs.size(); j++) {
                    std::size_t i = (j * (2 * t + 1) + static_cast<std::size_t>(round)) % xs.size();
                    Areaer a = gomp::as<Areaer>(xs[i]);
                    if (!a || a.area() != static_cast<double>(i)) wrong++;
                    // No Many has name(): negative entries, grown too.
                    if (gomp::as<Namer>(xs[i])) wrong++;
                }
        });
    for (auto& t : ts) t.join();
    CHECK(wrong == 0);
}
