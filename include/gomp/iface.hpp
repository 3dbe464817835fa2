// gomp/iface.hpp: Go's interfaces: GOMP_INTERFACE, any (eface), itab, type
// assertion, type switch (runtime/iface.go, runtime/type.go, runtime/alg.go).
//
// An interface is declared once, as a list of method signatures, and any type
// that has those methods converts to it: structurally, with no base class and
// no inheritance, as in Go.
//
//     GOMP_INTERFACE(Shape,
//         (area, double() const),
//         (scale, void(double)));
//
//     struct Circle { double r; double area() const { return 3.14159 * r * r; }
//                     void scale(double f) { r *= f; } };
//     Shape s = Circle{2};          // by value: owned, small-buffer storage
//     Circle c{1};
//     Shape p = &c;                 // by pointer: Go's *Circle, non-owning
//     s.area();                     // one indirect call through the itab
//
// Representation (Go's iface and eface, plus an owned small buffer):
//
//     Shape (24 bytes)                    itab for (Shape, Circle), built once
//     +-----------+                       +-------------------------------+
//     | tab       |---------------------->| inter -> Shape's iface_desc   |
//     | buf[16]   |  Circle{r} inline,    | type  -> type_of<Circle>      |
//     +-----------+  or a T* to the heap, | fun   = { &area thunk,        |
//                    or the Circle* of    |           &scale thunk }      |
//     any (24 bytes)  Shape p = &c        +-------------------------------+
//     +-----------+
//     | type      |----> type_desc: name, hash, size, copy/move/destroy, ==, hash
//     | buf[16]   |
//     +-----------+
//
// A value lives in buf when it is at most 16 bytes, pointer-aligned and
// nothrow-movable; otherwise buf holds a pointer to a heap copy. A pointer
// (Go's pointer receiver) is just a small value whose thunks dereference it.
// Every method thunk knows its type's storage mode statically, so a call is
// `tab->fun.k(&buf, args...)`: one load of the itab and one indirect call, as
// a C++ virtual call (vptr, slot, call), with no branch on the storage mode.
//
// Invariants:
//  * tab is never null: a nil interface points at its interface's nil itab,
//    whose type is null and whose thunks panic with Go's "invalid memory
//    address or nil pointer dereference". any's type is null exactly when nil.
//  * A nil interface and one holding a null pointer differ, as in Go: the
//    latter has a type (Circle*) and is not == nullptr.
//  * A type's descriptor type_of<T> and a statically known itab
//    itab_of<I, T> are constexpr objects: one per type (per pair) in the
//    program, no initialization order to worry about.
//
// Assertion to an interface at run time (Go's x.(I)) needs an itab for a
// pair the compiler never saw together: I is known where the assertion is
// written, T only at run time, and C++ cannot list a type's members. gomp
// does what Go's getitab does, matching methods by name and signature, over
// the methods it has learnt for T:
//  * every conversion of T to an interface J compiled anywhere in the
//    program registers, before main (a static data member's initializer),
//    the itab (J, T) and J's methods for T under keys (name, signature);
//  * gomp::implements<T, I...>() registers more pairs the same way, for types
//    that only ever travel as `any`;
//  * x.(I) looks up (I, T) in a per-I direct-mapped cache (one load and one
//    compare on a hit), then in the global itab table (lock-free reads, as
//    Go's itabTable), then builds the itab from T's method table under a
//    lock and caches it, negative results included. A method absent from the
//    table gives Go's "interface conversion: T is not I: missing method M";
//    for a class type (which may have M unregistered) the message names the
//    registration that would have made gomp know it.
// So T converted to ReadWriter asserts to Reader without any registration;
// the limits are in docs/iface.md.
//
// How this differs from C++ virtual functions: no base class, a type may
// satisfy interfaces declared after it and in code it does not know; the
// dispatch table belongs to the (interface, type) pair, not to the object,
// so objects carry no vptr and a value of an int converts as well as a class.
// How any differs from std::any: it compares with == (Go's rules: different
// dynamic types are unequal, an uncomparable type panics), hashes as a map
// key, converts to interfaces by assertion, and prints Go's messages.
#pragma once

#include <gomp/hash.hpp>
#include <gomp/panic.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gomp {

// The panic of a failed type assertion (Go's *runtime.TypeAssertionError).
// Go's message carries no "runtime error: " prefix, so neither does this one:
// "interface conversion: interface {} is int, not std::string".
class type_assertion_error : public panic {
public:
    using panic::panic;
};

// How a type prints in gomp's messages. The default is the C++ name as the
// compiler spells it, tidied (std::string, not std::__cxx11::basic_string<char>).
// Specialize for a Go-like name; the specialization must precede the first
// conversion of T:
//
//     template <> inline constexpr std::string_view gomp::type_name<Point> = "main.Point";
namespace detail {
template <class T>
constexpr std::string_view compiler_type_name() {
    std::string_view f = __PRETTY_FUNCTION__;  // "... [with T = int; ...]" or "... [T = int]"
    std::size_t b = f.find("T = ") + 4;
    std::size_t e = f.find_first_of(";]", b);
    return f.substr(b, e - b);
}
}  // namespace detail
template <class T>
inline constexpr std::string_view type_name = detail::compiler_type_name<T>();

namespace detail {

// ---- type descriptors (Go's _type) -----------------------------------------

struct no_init_t {
    explicit no_init_t() = default;
};
inline constexpr no_init_t no_init{};

// The storage every interface value carries: 16 bytes, pointer-aligned.
// Zeroed, so its bytes are determinate even where no value fills them
// (as_ok reads them); no_init leaves it for a copy that fills every byte.
struct alignas(void*) iface_storage {
    unsigned char bytes[2 * sizeof(void*)];
    constexpr iface_storage() noexcept : bytes{} {}
    explicit iface_storage(no_init_t) noexcept {}
};

// Copies a trivially copyable value's storage word by word. A 16-byte
// vector store (what the compiler would use) crosses a cache line wherever
// the buffer starts 56 bytes into one, and a method called right after then
// misses store-to-load forwarding when it reads its receiver:
// `if (I v = as<I>(x)) v.m()` took 8 ns instead of 3.5 there (AMD EPYC).
// The empty asm keeps the two words in integer registers.
inline void copy_storage(iface_storage& dst, const iface_storage& src) noexcept {
    static_assert(sizeof(iface_storage) == 2 * sizeof(std::uintptr_t));
    std::uintptr_t w[2];
    std::memcpy(w, src.bytes, sizeof w);
#if defined(__GNUC__)
    asm("" : "+r"(w[0]), "+r"(w[1]));
#endif
    std::memcpy(dst.bytes, w, sizeof w);
}

template <class T>
inline constexpr bool stored_inline_v = sizeof(T) <= sizeof(iface_storage) &&
                                        alignof(T) <= alignof(iface_storage) &&
                                        std::is_nothrow_move_constructible_v<T>;

// The object of type T held in storage p.
template <class T>
T* object(void* p) noexcept {
    if constexpr (stored_inline_v<T>) return std::launder(reinterpret_cast<T*>(p));
    else return *static_cast<T**>(p);
}
template <class T>
const T* object(const void* p) noexcept {
    return object<T>(const_cast<void*>(p));
}

// The receiver a method is called on: the object, or for a pointer type
// (Go's pointer receiver) the object it points at.
template <class T>
auto& receiver(void* p) noexcept {
    if constexpr (std::is_pointer_v<T>) return **object<T>(p);
    else return *object<T>(p);
}

template <class T>
concept equality_comparable_v = requires(const T& a, const T& b) {
    { a == b } -> std::convertible_to<bool>;
};
template <class T>
concept go_hashable = requires(const T& v, std::uint64_t s) {
    { ::gomp::hash<T>{}(v, s) } -> std::convertible_to<std::uint64_t>;
};

struct type_desc {
    std::string_view name;  // type_name<T>, tidied when printed
    std::uint64_t hash;     // FNV-1a of the name: cache index (Go's type.Hash)
    bool trivial;           // inline, trivially copyable and destructible: memcpy, no destroy
    bool may_have_methods;  // a class, or a pointer to one: gomp may not know all its methods
    void (*copy)(void* dst, const void* src);        // null: not copyable
    void (*relocate)(void* dst, void* src) noexcept;  // move to dst, end src
    void (*destroy)(void* p) noexcept;
    bool (*equal)(const void* a, const void* b);                  // null: uncomparable
    std::uint64_t (*hash_value)(const void* p, std::uint64_t seed);  // null: unhashable
};

constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

template <class T>
void op_copy(void* dst, const void* src) {
    if constexpr (stored_inline_v<T>) ::new (dst) T(*object<T>(src));
    else *static_cast<T**>(dst) = new T(*object<T>(src));
}
template <class T>
void op_relocate(void* dst, void* src) noexcept {
    if constexpr (stored_inline_v<T>) {
        T* s = object<T>(src);
        ::new (dst) T(std::move(*s));
        s->~T();
    } else {
        *static_cast<T**>(dst) = *static_cast<T**>(src);
    }
}
template <class T>
void op_destroy(void* p) noexcept {
    if constexpr (stored_inline_v<T>) object<T>(p)->~T();
    else delete object<T>(p);
}
template <class T>
bool op_equal(const void* a, const void* b) {
    return static_cast<bool>(*object<T>(a) == *object<T>(b));
}
template <class T>
std::uint64_t op_hash(const void* p, std::uint64_t seed) {
    return ::gomp::hash<T>{}(*object<T>(p), seed);
}

// The optional operations: null when T lacks them (only then instantiated).
template <class T>
constexpr auto copy_op() {
    if constexpr (std::is_copy_constructible_v<T>) return &op_copy<T>;
    else return static_cast<void (*)(void*, const void*)>(nullptr);
}
template <class T>
constexpr auto equal_op() {
    if constexpr (equality_comparable_v<T>) return &op_equal<T>;
    else return static_cast<bool (*)(const void*, const void*)>(nullptr);
}
template <class T>
constexpr auto hash_op() {
    if constexpr (go_hashable<T>) return &op_hash<T>;
    else return static_cast<std::uint64_t (*)(const void*, std::uint64_t)>(nullptr);
}

// type_of<T>: the one descriptor of T, a constant.
template <class T>
inline constexpr type_desc type_of = {
    type_name<T>,
    fnv1a(type_name<T>),
    stored_inline_v<T> && std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
    std::is_class_v<std::remove_pointer_t<T>> || std::is_union_v<std::remove_pointer_t<T>>,
    copy_op<T>(),
    &op_relocate<T>,
    &op_destroy<T>,
    equal_op<T>(),
    hash_op<T>(),
};

// Messages print names tidied: libstdc++'s inline namespace and default
// template arguments are noise to a reader.
inline std::string pretty_name(std::string_view n) {
    std::string s(n);
    auto replace_all = [&s](std::string_view from, std::string_view to) {
        for (std::size_t i; (i = s.find(from)) != std::string::npos;) s.replace(i, from.size(), to);
    };
    replace_all("std::__cxx11::basic_string<char>", "std::string");
    replace_all("std::basic_string<char>", "std::string");
    replace_all("std::__cxx11::", "std::");
    replace_all("std::basic_string_view<char>", "std::string_view");
    return s;
}
inline std::string type_string(const type_desc* t) { return t ? pretty_name(t->name) : "nil"; }

[[noreturn, gnu::cold, gnu::noinline]] inline void panic_uncomparable(const type_desc* t) {
    throw runtime_error("comparing uncomparable type " + type_string(t));
}
[[noreturn, gnu::cold, gnu::noinline]] inline void panic_unhashable(const type_desc* t) {
    throw runtime_error("hash of unhashable type " + type_string(t));
}
[[noreturn, gnu::cold, gnu::noinline]] inline void panic_uncopyable(const type_desc* t) {
    throw panic("gomp: copy of an interface value holding " + type_string(t) +
                ", which is not copyable (move the interface instead)");
}
[[noreturn, gnu::cold, gnu::noinline]] inline void panic_nil_call() {
    throw runtime_error("invalid memory address or nil pointer dereference");
}

// The value operations shared by any and every interface: (type, storage).
inline void value_copy(const type_desc* t, iface_storage& dst, const iface_storage& src) {
    if (!t) return;
    if (t->trivial) copy_storage(dst, src);
    else if (t->copy) t->copy(&dst, &src);
    else panic_uncopyable(t);
}
inline void value_relocate(const type_desc* t, iface_storage& dst, iface_storage& src) noexcept {
    if (!t) return;
    if (t->trivial) copy_storage(dst, src);
    else t->relocate(&dst, &src);
}
// value_copy and value_relocate into storage made with no_init: a trivial
// value (or nil) is copied whole, which saves zeroing it first; anything
// else is built in zeroed storage.
inline void value_copy_init(const type_desc* t, iface_storage& dst, const iface_storage& src) {
    if (!t || t->trivial) return copy_storage(dst, src);
    dst = iface_storage();
    value_copy(t, dst, src);
}
inline void value_relocate_init(const type_desc* t, iface_storage& dst, iface_storage& src) noexcept {
    if (!t || t->trivial) return copy_storage(dst, src);
    dst = iface_storage();
    value_relocate(t, dst, src);
}
inline void value_destroy(const type_desc* t, iface_storage& s) noexcept {
    if (t && !t->trivial) t->destroy(&s);
}
// Go's efaceeq: different types are unequal; equal types compare by value,
// and an uncomparable type panics.
inline bool value_equal(const type_desc* t1, const void* a, const type_desc* t2, const void* b) {
    if (t1 != t2) return false;
    if (!t1) return true;
    if (!t1->equal) panic_uncomparable(t1);
    return t1->equal(a, b);
}
inline std::uint64_t value_hash(const type_desc* t, const void* p, std::uint64_t seed) {
    if (!t) return hash_u64(0, seed);
    if (!t->hash_value) panic_unhashable(t);
    // Mix in the type so equal bit patterns of different types spread.
    return t->hash_value(p, seed ^ t->hash);
}

// ---- interface descriptors, method keys, itabs -------------------------------

template <std::size_t N>
struct fixed_string {
    char s[N]{};
    constexpr fixed_string(const char (&a)[N]) {
        for (std::size_t i = 0; i < N; i++) s[i] = a[i];
    }
};

// One key per (method name, signature) in the whole program: its address.
template <fixed_string Name, class Sig>
struct method_key {
    static constexpr char id = 0;
};

struct method_desc {
    const void* key;
    std::string_view name;
};

// Go's interfacetype.
struct iface_desc {
    std::string_view name;
    std::uint64_t hash;
    std::size_t n;
    const method_desc* methods;
};

// Go's itab header; itab_t<I> below adds the typed method table. missing is
// set on a negative entry (the type lacks a method) and names the method.
struct itab {
    const iface_desc* inter;
    const type_desc* type;
    bool trivial;  // type->trivial, or true for the nil itab: saves copies and
                   // destructors a dependent load
    const char* missing = nullptr;
    std::uint64_t epoch = 0;  // negative entries: the registry epoch they saw
};

// Value operations through an itab (see itab::trivial).
inline void tab_relocate(const itab* tab, iface_storage& dst, iface_storage& src) noexcept {
    if (tab->trivial) copy_storage(dst, src);
    else value_relocate(tab->type, dst, src);
}
inline void tab_copy_init(const itab* tab, iface_storage& dst, const iface_storage& src) {
    if (tab->trivial) [[likely]]
        return copy_storage(dst, src);
    value_copy_init(tab->type, dst, src);
}
inline void tab_relocate_init(const itab* tab, iface_storage& dst, iface_storage& src) noexcept {
    if (tab->trivial) return copy_storage(dst, src);
    value_relocate_init(tab->type, dst, src);
}
inline void tab_destroy(const itab* tab, iface_storage& s) noexcept {
    if (!tab->trivial) [[unlikely]]
        value_destroy(tab->type, s);
}

using erased_fn = void (*)();

template <class... Ts>
struct type_list {};

template <class S>
struct sig_traits;

// Per signature: the itab slot's function type, the thunk that fills it, and
// the check that a receiver has the method. A thunk finds the receiver in the
// storage (its storage mode is a compile-time fact) and calls the method; the
// compiler inlines the method into the thunk.
template <class R, class... A>
struct sig_traits<R(A...)> {
    using result = R;
    using fn = R (*)(void*, A...);
    static constexpr bool is_const = false;

    template <class M, class Recv>
    static constexpr bool callable_on() {
        if constexpr (requires(Recv r, A&&... a) { M::call(r, static_cast<A&&>(a)...); }) {
            if constexpr (std::is_void_v<R>) return true;
            else return std::is_convertible_v<decltype(M::call(std::declval<Recv>(), std::declval<A>()...)), R>;
        } else {
            return false;
        }
    }
    template <class M, class U>
    static constexpr bool has = callable_on<M, U&>();

    template <class M, class T>
    static R thunk(void* p, A... a) {
        if constexpr (std::is_void_v<R>) M::call(receiver<T>(p), static_cast<A&&>(a)...);
        else return M::call(receiver<T>(p), static_cast<A&&>(a)...);
    }
    static R nil_thunk(void*, A...) { panic_nil_call(); }
};
template <class R, class... A>
struct sig_traits<R(A...) const> : sig_traits<R(A...)> {
    using base = sig_traits<R(A...)>;
    static constexpr bool is_const = true;
    template <class M, class U>
    static constexpr bool has = base::template callable_on<M, const U&>();
    template <class M, class T>
    static R thunk(void* p, A... a) {
        const auto& self = receiver<T>(p);
        if constexpr (std::is_void_v<R>) M::call(self, static_cast<A&&>(a)...);
        else return M::call(self, static_cast<A&&>(a)...);
    }
};

// Method M (a struct GOMP_INTERFACE writes) is satisfied by T when the
// receiver (T, or for a pointer the pointee) has a member callable with the
// signature's arguments whose result converts to the signature's result.
template <class M, class T>
constexpr bool has_method() {
    return sig_traits<typename M::sig>::template has<M, std::remove_pointer_t<T>>;
}

template <class L>
struct methods_of;
template <class... Ms>
struct methods_of<type_list<Ms...>> {
    static constexpr std::size_t n = sizeof...(Ms);
    using fns = std::tuple<typename sig_traits<typename Ms::sig>::fn...>;
    template <class T>
    static constexpr bool satisfied_by = (has_method<Ms, T>() && ...);
    static constexpr method_desc descs[n ? n : 1] = {method_desc{Ms::key, Ms::gomp_name}...};
    template <class T>
    static constexpr fns thunks{&sig_traits<typename Ms::sig>::template thunk<Ms, T>...};
    static constexpr fns nil_thunks{&sig_traits<typename Ms::sig>::nil_thunk...};
    // The first method T lacks (for compile-time diagnostics).
    template <class T>
    static constexpr std::string_view first_missing() {
        std::string_view r;
        ((r.empty() && !has_method<Ms, T>() ? (r = Ms::gomp_name, 0) : 0), ...);
        return r;
    }
    // Erased function pointers <-> the typed tuple, for the run-time registry.
    static void erase(const fns& f, erased_fn* out) {
        std::size_t i = 0;
        std::apply([&](auto... p) { ((out[i++] = reinterpret_cast<erased_fn>(p)), ...); }, f);
    }
    static fns unerase(const erased_fn* in) {
        return unerase_impl(in, std::make_index_sequence<n>{});
    }
    template <std::size_t... K>
    static fns unerase_impl(const erased_fn* in, std::index_sequence<K...>) {
        return fns{reinterpret_cast<std::tuple_element_t<K, fns>>(in[K])...};
    }
};

template <class I>
using iface_methods = methods_of<typename I::gomp_methods>;

// Whether T has I's methods. A variable template, so that a constraint on T
// inside iface_base<I> names I's methods only when it is checked (I is still
// incomplete while iface_base<I> is instantiated; clang looks eagerly).
template <class I, class T>
inline constexpr bool satisfies_v = iface_methods<I>::template satisfied_by<T>;

// The itab of interface I: the header and one typed function pointer per
// method, in declaration order.
template <class I>
struct itab_t : itab {
    typename iface_methods<I>::fns fun;
};

template <class I>
struct iface_info {
    using M = iface_methods<I>;
    static constexpr iface_desc desc{I::gomp_name, fnv1a(I::gomp_name), M::n, M::descs};
    static constexpr itab_t<I> nil_itab{{&desc, nullptr, true}, M::nil_thunks};
    // itab_of<I, T>: the itab of a conversion the compiler sees.
    template <class T>
    static constexpr itab_t<I> itab_of{{&desc, &type_of<T>, type_of<T>.trivial}, M::template thunks<T>};
};

// ---- the run-time registry (Go's itabTable and the types' method sets) -------

// Lock-free reads, locked writes, as Go's itabTable: open addressing with
// linear probing; a full table is copied to one twice the size and published
// with a release store. Old tables stay allocated (readers may hold them);
// their total is less than the live one.
struct itab_table {
    std::size_t mask;
    std::unique_ptr<std::atomic<const itab*>[]> entries;
    std::size_t count = 0;

    explicit itab_table(std::size_t size)
        : mask(size - 1), entries(new std::atomic<const itab*>[size]) {
        for (std::size_t i = 0; i < size; i++) entries[i].store(nullptr, std::memory_order_relaxed);
    }
    static std::size_t slot(const iface_desc* i, const type_desc* t) noexcept {
        return static_cast<std::size_t>(mix64(i->hash ^ (t->hash * hk0)));
    }
    const itab* find(const iface_desc* i, const type_desc* t) const noexcept {
        for (std::size_t h = slot(i, t) & mask;; h = (h + 1) & mask) {
            const itab* e = entries[h].load(std::memory_order_acquire);
            if (!e) return nullptr;
            if (e->inter == i && e->type == t) return e;
        }
    }
};

struct registry {
    std::mutex mu;
    std::atomic<itab_table*> table{new itab_table(64)};
    std::vector<std::unique_ptr<itab_table>> tables;  // every table ever published
    std::vector<std::unique_ptr<itab>> built;         // itabs built at run time
    // T's methods, as learnt: (type, method key) -> thunk.
    struct pair_hash {
        std::size_t operator()(const std::pair<const void*, const void*>& p) const noexcept {
            return static_cast<std::size_t>(mix64(reinterpret_cast<std::uintptr_t>(p.first) ^
                                                  (reinterpret_cast<std::uintptr_t>(p.second) * hk0)));
        }
    };
    std::unordered_map<std::pair<const void*, const void*>, erased_fn, pair_hash> methods;
    // Bumped by every registration: a negative itab from an older epoch may
    // have been made positive by a method learnt since.
    std::atomic<std::uint64_t> epoch{1};

    registry() { tables.emplace_back(table.load(std::memory_order_relaxed)); }

    // Adds or replaces (a stale negative entry) e. Holds mu.
    void put(const itab* e) {
        itab_table* t = table.load(std::memory_order_relaxed);
        for (std::size_t h = itab_table::slot(e->inter, e->type) & t->mask;; h = (h + 1) & t->mask) {
            const itab* cur = t->entries[h].load(std::memory_order_relaxed);
            if (!cur) break;
            if (cur->inter == e->inter && cur->type == e->type) {
                t->entries[h].store(e, std::memory_order_release);
                return;
            }
        }
        if ((t->count + 1) * 4 > (t->mask + 1) * 3) {  // keep it under 3/4 full
            auto* bigger = new itab_table((t->mask + 1) * 2);
            tables.emplace_back(bigger);
            for (std::size_t i = 0; i <= t->mask; i++)
                if (const itab* x = t->entries[i].load(std::memory_order_relaxed)) insert(bigger, x);
            table.store(bigger, std::memory_order_release);
            t = bigger;
        }
        insert(t, e);
    }
    static void insert(itab_table* t, const itab* e) {
        std::size_t h = itab_table::slot(e->inter, e->type) & t->mask;
        while (t->entries[h].load(std::memory_order_relaxed)) h = (h + 1) & t->mask;
        t->entries[h].store(e, std::memory_order_release);
        t->count++;
    }
};

// Never destroyed: interfaces may be converted during static destruction.
inline registry& reg() {
    static registry* r = new registry;
    return *r;
}

// Registers a statically built itab and its methods for its type.
template <class I>
bool register_itab(const itab_t<I>* tab) {
    using M = iface_methods<I>;
    erased_fn fns[M::n ? M::n : 1];
    M::erase(tab->fun, fns);
    registry& r = reg();
    std::lock_guard<std::mutex> lock(r.mu);
    for (std::size_t k = 0; k < M::n; k++) r.methods[{tab->type, M::descs[k].key}] = fns[k];
    r.put(tab);
    r.epoch.fetch_add(1, std::memory_order_release);
    return true;
}

// Instantiated by every conversion of T to I in the program text: its
// initializer runs before main and teaches the registry (I, T).
template <class I, class T>
struct itab_registration {
    static inline const bool done = register_itab<I>(&iface_info<I>::template itab_of<T>);
};

// getitab: the itab of (I, t), built from t's learnt methods when the
// compiler never saw the pair; a negative itab (missing set) when t lacks a
// method. Slow path of every dynamic assertion; the result is cached.
template <class I>
const itab* getitab(const type_desc* t) {
    using M = iface_methods<I>;
    const iface_desc* d = &iface_info<I>::desc;
    registry& r = reg();
    std::uint64_t ep = r.epoch.load(std::memory_order_acquire);
    if (const itab* e = r.table.load(std::memory_order_acquire)->find(d, t))
        if (!e->missing || e->epoch == ep) return e;
    std::lock_guard<std::mutex> lock(r.mu);
    ep = r.epoch.load(std::memory_order_relaxed);
    if (const itab* e = r.table.load(std::memory_order_relaxed)->find(d, t))
        if (!e->missing || e->epoch == ep) return e;
    erased_fn fns[M::n ? M::n : 1];
    const char* missing = nullptr;
    for (std::size_t k = 0; k < M::n && !missing; k++) {
        auto it = r.methods.find({t, M::descs[k].key});
        if (it == r.methods.end()) missing = M::descs[k].name.data();
        else fns[k] = it->second;
    }
    std::unique_ptr<itab> e;
    if (missing) {
        e = std::make_unique<itab>(itab{d, t, t->trivial, missing, ep});
    } else {
        auto* full = new itab_t<I>{{d, t, t->trivial}, M::unerase(fns)};
        e.reset(full);
    }
    const itab* p = e.get();
    r.built.push_back(std::move(e));
    r.put(p);
    return p;
}

// The per-interface cache in front of getitab (Go's typeAssertCache, here
// per interface rather than per call site): open addressing with linear
// probing on the type descriptor's address, positive and negative entries,
// never evicting. Reads are lock-free; writers hold mu.
//
// Built for the branch predictor. An assertion to an interface is usually
// followed by a method call through the itab it found: an indirect call whose
// target depends on the dynamic type. The predictor can only learn that
// target from the branches taken just before, so a hit branches on the low
// three bits of its slot. A table is laid out afresh (the best multiplier of
// 16 tries) for each of the first eight types, so that types do not share a
// home slot and those eight do not share the low bits: each takes one probe
// and leaves its own trace. Later types go in by linear probing, until the
// table is a quarter full and is laid out afresh. In the bench's
// iface_assert (four types in a random order) the call was mispredicted
// without these branches: 9.4 ns per assertion and call, against 3.1 with
// them; with a fixed hash the figure swung between 3.7 and 7.4 ns with where
// ASLR put the type descriptors.
template <class I>
struct assert_cache {
    // Constant-initialized and never freed: assertions may run during static
    // initialization and destruction. A table is published complete; after
    // that only a free slot is filled or a stale negative entry replaced.
    // A replacement table links the one it replaced (a reader may hold it).
    struct table {
        std::size_t mask;
        std::uint64_t mult;
        std::atomic<const itab*>* slots;
        const table* older;
    };
    static inline std::atomic<const itab*> no_slots[1] = {};
    static inline const table empty{0, 1, no_slots, nullptr};
    static inline std::atomic<const table*> current{&empty};
    static inline std::mutex mu;

    static std::size_t index(std::size_t mask, std::uint64_t mult, const type_desc* t) noexcept {
        return static_cast<std::size_t>((reinterpret_cast<std::uintptr_t>(t) * mult) >> 32) & mask;
    }
    // The entry for t in c, or null. The home slot inline, probing out of line.
    static const itab* find(const table* c, const type_desc* t) noexcept {
        std::size_t h = index(c->mask, c->mult, t);
        const itab* e = c->slots[h].load(std::memory_order_acquire);
        if (e && e->type == t) [[likely]] {
            // The trace of the slot in the branch history (see above); the
            // empty asm keeps each branch.
            if (h & 1) __asm__ volatile("");
            if (h & 2) __asm__ volatile("");
            if (h & 4) __asm__ volatile("");
            return e;
        }
        return probe(c, t, h);
    }
    [[gnu::noinline]] static const itab* probe(const table* c, const type_desc* t, std::size_t h) noexcept {
        for (;;) {
            const itab* e = c->slots[h].load(std::memory_order_acquire);
            if (!e || e->type == t) return e;
            h = (h + 1) & c->mask;
        }
    }
    // Adds e, or replaces t's stale negative entry with it.
    static void put(const itab* e) {
        std::lock_guard<std::mutex> lock(mu);
        const table* c = current.load(std::memory_order_relaxed);
        std::vector<const itab*> all;
        for (std::size_t i = 0; i <= c->mask; i++) {
            const itab* x = c->slots[i].load(std::memory_order_relaxed);
            if (!x) continue;
            if (x->type == e->type) {  // another thread's miss was first, or stale
                c->slots[i].store(e, std::memory_order_release);
                return;
            }
            all.push_back(x);
        }
        all.push_back(e);
        std::size_t n = c->mask + 1;
        if (all.size() > 8 && all.size() * 4 <= n) {  // past the traced eight: plain linear probing
            insert(c->mask, c->mult, c->slots, e);
            return;
        }
        // A new table, at most a quarter full, laid out afresh.
        while (all.size() * 4 > n) n *= 2;
        n = std::max<std::size_t>(n, 16);
        auto* slots = new std::atomic<const itab*>[n];
        for (std::size_t i = 0; i < n; i++) slots[i].store(nullptr, std::memory_order_relaxed);
        current.store(new table{n - 1, place(n - 1, slots, all), slots, c}, std::memory_order_release);
    }
    // Lays out `all` in the empty slots[0..mask] with the best of 16
    // multipliers (fewest shared home slots, then fewest shared low bits
    // among the first eight entries) and returns that multiplier.
    static std::uint64_t place(std::size_t mask, std::atomic<const itab*>* slots, const std::vector<const itab*>& all) {
        std::vector<unsigned char> used(mask + 1);
        std::uint64_t best = 1;
        std::size_t best_cost = SIZE_MAX;
        for (std::uint64_t k = 1; k <= 16 && best_cost; k++) {
            std::uint64_t m = mix64(k * hk3) | 1;
            std::fill(used.begin(), used.end(), 0);
            std::size_t shared = 0, shared_low = 0;
            unsigned low = 0;
            for (std::size_t j = 0; j < all.size(); j++) {
                std::size_t h = index(mask, m, all[j]->type);
                shared += used[h]++ != 0;
                if (j < 8) {
                    shared_low += (low >> (h & 7)) & 1;
                    low |= 1u << (h & 7);
                }
            }
            std::size_t cost = shared * 16 + shared_low;
            if (cost < best_cost) best = m, best_cost = cost;
        }
        for (const itab* x : all) insert(mask, best, slots, x);
        return best;
    }
    static void insert(std::size_t mask, std::uint64_t mult, std::atomic<const itab*>* slots, const itab* e) noexcept {
        std::size_t h = index(mask, mult, e->type);
        while (slots[h].load(std::memory_order_relaxed)) h = (h + 1) & mask;
        slots[h].store(e, std::memory_order_release);
    }
};

// The itab of (I, t) or a negative itab; t is not null.
template <class I>
const itab* find_itab(const type_desc* t) {
    using cache = assert_cache<I>;
    const itab* e = cache::find(cache::current.load(std::memory_order_acquire), t);
    if (e) [[likely]] {
        if (!e->missing) [[likely]]
            return e;
        if (e->epoch == reg().epoch.load(std::memory_order_acquire)) return e;
    }
    e = getitab<I>(t);
    cache::put(e);
    return e;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void panic_assert_concrete(std::string_view inter,
                                                                          const type_desc* have,
                                                                          const type_desc* want) {
    std::string m = "interface conversion: " + pretty_name(inter) + " is " + type_string(have) + ", not " +
                    type_string(want);
    if (have && have != want && pretty_name(have->name) == pretty_name(want->name))
        m += " (types from different scopes)";
    throw type_assertion_error(m);
}

[[noreturn, gnu::cold, gnu::noinline]] inline void panic_assert_iface(const itab* e, const type_desc* have,
                                                                       std::string_view want) {
    if (!have)  // Go names no source interface here: "interface is nil"
        throw type_assertion_error("interface conversion: interface is nil, not " + std::string(want));
    std::string m = "interface conversion: " + type_string(have) + " is not " + std::string(want) +
                    ": missing method " + e->missing;
    // A class may well have the method; gomp just never learnt it.
    if (have->may_have_methods)
        m += " (or gomp never learnt it: no conversion of " + type_string(have) + " to an interface with " +
             e->missing + " is compiled; gomp::implements<" + type_string(have) + ", " + std::string(want) +
             ">() registers it)";
    throw type_assertion_error(m);
}

// ---- the value classes ------------------------------------------------------

template <class D>
class iface_base;
class any_base;

template <class X>
inline constexpr bool is_iface_v = requires {
    typename X::gomp_methods;
    X::gomp_name;
} && std::is_base_of_v<iface_base<X>, X>;

struct value_access;

// I's methods are a subset of J's: J converts to I statically. (Compared as
// name and signature type, not key address: address comparisons are not
// constant expressions under the sanitizers.)
template <class A, class B>
inline constexpr bool same_method_v =
    std::is_same_v<typename A::sig, typename B::sig> && A::gomp_name == B::gomp_name;
template <class M, class... Ns>
constexpr bool has_key(type_list<Ns...>) {
    return (same_method_v<M, Ns> || ...);
}
template <class... Ms, class JL>
constexpr bool methods_in(type_list<Ms...>, JL j) {
    return (has_key<Ms>(j) && ...);
}
template <class I, class J>
constexpr bool method_subset() {
    return methods_in(typename I::gomp_methods{}, typename J::gomp_methods{});
}

}  // namespace detail

class any;

namespace detail {
template <class X>
inline constexpr bool is_value_v = is_iface_v<X> || std::is_same_v<X, ::gomp::any>;

// The common part of any and interfaces: storage plus operations on it.
template <class T, class... Args>
void emplace_value(iface_storage& buf, Args&&... args) {
    if constexpr (stored_inline_v<T>) ::new (static_cast<void*>(buf.bytes)) T(std::forward<Args>(args)...);
    else *reinterpret_cast<T**>(buf.bytes) = new T(std::forward<Args>(args)...);
}

// The base of every GOMP_INTERFACE type D: {itab*, storage}.
template <class D>
class iface_base {
public:
    // The nil interface.
    constexpr iface_base() noexcept : tab_(&iface_info<D>::nil_itab) {}
    constexpr iface_base(std::nullptr_t) noexcept : tab_(&iface_info<D>::nil_itab) {}
    // Nil, with storage left for a copy that fills it (value_access::make).
    explicit iface_base(no_init_t) noexcept : tab_(&iface_info<D>::nil_itab), buf_(no_init) {}

    // Any type with D's methods, by value (T) or by pointer (T*).
    template <class T>
        requires(!is_value_v<std::remove_cvref_t<T>> && !std::is_same_v<std::remove_cvref_t<T>, std::nullptr_t> &&
                 satisfies_v<D, std::decay_t<T>>)
    iface_base(T&& v) : tab_(&iface_info<D>::template itab_of<std::decay_t<T>>) {
        static_cast<void>(&itab_registration<D, std::decay_t<T>>::done);
        emplace_value<std::decay_t<T>>(buf_, std::forward<T>(v));
    }

    // Another interface whose methods include D's (Go's implicit I2I).
    template <class J>
        requires(is_iface_v<J> && !std::is_same_v<J, D> && method_subset<D, J>())
    iface_base(const J& j) : tab_(&iface_info<D>::nil_itab) {
        const type_desc* t = j.gomp_tab()->type;
        if (!t) return;
        const itab* e = find_itab<D>(t);
        if (e->missing) panic_assert_iface(e, t, D::gomp_name);
        value_copy(t, buf_, j.buf_);
        tab_ = e;
    }

    iface_base(const iface_base& o) : tab_(o.tab_), buf_(no_init) { tab_copy_init(tab_, buf_, o.buf_); }
    iface_base(iface_base&& o) noexcept : tab_(o.tab_), buf_(no_init) {
        tab_relocate_init(tab_, buf_, o.buf_);
        o.tab_ = &iface_info<D>::nil_itab;
    }
    iface_base& operator=(const iface_base& o) {
        if (this != &o) {
            iface_base tmp(o);
            *this = std::move(tmp);
        }
        return *this;
    }
    iface_base& operator=(iface_base&& o) noexcept {
        if (this != &o) {
            tab_destroy(tab_, buf_);
            tab_ = o.tab_;
            tab_relocate(tab_, buf_, o.buf_);
            o.tab_ = &iface_info<D>::nil_itab;
        }
        return *this;
    }
    ~iface_base() { tab_destroy(tab_, buf_); }

    explicit operator bool() const noexcept { return tab_ != &iface_info<D>::nil_itab; }
    friend bool operator==(const iface_base& x, std::nullptr_t) noexcept { return !x; }

    // The itab (never null) and the storage: for gomp's free functions.
    const itab* gomp_tab() const noexcept { return tab_; }

protected:
    // A call of method K: one load of the itab's slot, one indirect call.
    template <class M, class... A>
    decltype(auto) gomp_invoke(A&&... a) const {
        constexpr std::size_t k = index_of<M>(typename D::gomp_methods{});
        const auto* t = static_cast<const itab_t<D>*>(tab_);
        return std::get<k>(t->fun)(const_cast<unsigned char*>(buf_.bytes), std::forward<A>(a)...);
    }

private:
    template <class M, class... Ms>
    static constexpr std::size_t index_of(type_list<Ms...>) {
        std::size_t i = 0, r = 0;
        ((std::is_same_v<M, Ms> ? (r = i, ++i) : ++i), ...);
        return r;
    }
    template <class>
    friend class iface_base;
    friend struct value_access;
    friend class ::gomp::any;

    const itab* tab_;
    iface_storage buf_;
};

}  // namespace detail

// any: Go's empty interface (eface): {type, storage}. Holds a value of any
// copyable or movable type; nil when default-constructed or given nullptr.
//
//     gomp::any x = 42;
//     if (int* i = gomp::as<int>(x)) *i += 1;        // v, ok := x.(int)
//     std::string s = gomp::type_assert<std::string>(x);  // panics: x is int
class any {
public:
    constexpr any() noexcept = default;
    constexpr any(std::nullptr_t) noexcept {}

    template <class T>
        requires(!detail::is_value_v<std::remove_cvref_t<T>> &&
                 !std::is_same_v<std::remove_cvref_t<T>, std::nullptr_t>)
    any(T&& v) : type_(&detail::type_of<std::decay_t<T>>) {
        detail::emplace_value<std::decay_t<T>>(buf_, std::forward<T>(v));
    }
    // An interface's dynamic value (Go's I2E: the itab's type, the same data).
    template <class I>
        requires detail::is_iface_v<I>
    any(const I& x) : type_(x.gomp_tab()->type) {
        detail::value_copy(type_, buf_, x.buf_);
    }
    template <class I>
        requires(detail::is_iface_v<I> && !std::is_reference_v<I>)
    any(I&& x) noexcept : type_(x.gomp_tab()->type) {
        detail::value_relocate(type_, buf_, x.buf_);
        x.tab_ = &detail::iface_info<I>::nil_itab;
    }
    // Builds a T in place.
    template <class T, class... Args>
    explicit any(std::in_place_type_t<T>, Args&&... args) : type_(&detail::type_of<T>) {
        detail::emplace_value<T>(buf_, std::forward<Args>(args)...);
    }

    any(const any& o) : type_(o.type_), buf_(detail::no_init) { detail::value_copy_init(type_, buf_, o.buf_); }
    any(any&& o) noexcept : type_(o.type_), buf_(detail::no_init) {
        detail::value_relocate_init(type_, buf_, o.buf_);
        o.type_ = nullptr;
    }
    any& operator=(const any& o) {
        if (this != &o) {
            any tmp(o);
            *this = std::move(tmp);
        }
        return *this;
    }
    any& operator=(any&& o) noexcept {
        if (this != &o) {
            detail::value_destroy(type_, buf_);
            type_ = o.type_;
            detail::value_relocate(type_, buf_, o.buf_);
            o.type_ = nullptr;
        }
        return *this;
    }
    ~any() { detail::value_destroy(type_, buf_); }

    explicit operator bool() const noexcept { return type_ != nullptr; }
    friend bool operator==(const any& x, std::nullptr_t) noexcept { return !x; }

private:
    friend struct detail::value_access;
    const detail::type_desc* type_ = nullptr;
    detail::iface_storage buf_;
};

namespace detail {
// (type, storage) of any interface value, and its name in messages.
struct value_access {
    static const type_desc* type(const any& x) noexcept { return x.type_; }
    template <class D>
    static const type_desc* type(const iface_base<D>& x) noexcept {
        return x.tab_->type;
    }
    static void* data(const any& x) noexcept { return const_cast<unsigned char*>(x.buf_.bytes); }
    template <class D>
    static void* data(const iface_base<D>& x) noexcept {
        return const_cast<unsigned char*>(x.buf_.bytes);
    }
    static std::string_view name(const any&) noexcept { return "interface {}"; }
    template <class D>
    static std::string_view name(const iface_base<D>&) noexcept {
        return D::gomp_name;
    }
    // Releases a value's storage to a new owner of the same type.
    template <class X>
    static void release(X& x) noexcept {
        if constexpr (std::is_same_v<X, any>) x.type_ = nullptr;
        else x.tab_ = &iface_info<X>::nil_itab;
    }
    // Builds interface I around a copy (or the moved storage) of src's value.
    template <class I, class X>
    static I make(const itab* e, X&& src) {
        I r(no_init);
        if constexpr (std::is_rvalue_reference_v<X&&> && !std::is_const_v<std::remove_reference_t<X>>) {
            tab_relocate_init(e, r.buf_, *static_cast<iface_storage*>(data(src)));
            release(src);
        } else {
            tab_copy_init(e, r.buf_, *static_cast<const iface_storage*>(data(src)));
        }
        r.tab_ = e;
        return r;
    }
};

template <class X>
concept value_type = is_value_v<std::remove_cvref_t<X>>;
}  // namespace detail

// ---- comparison and hashing --------------------------------------------------
//
// == is declared in gomp::detail, where argument-dependent lookup finds it
// for every interface (their base, iface_base, lives there), and brought into
// gomp for any.
namespace detail {
// x == y for any two interface values (any, or interfaces): Go's efaceeq.
// Equal when both are nil, or when the dynamic types are the same and the
// values compare equal; same type that has no == panics with Go's
// "runtime error: comparing uncomparable type T".
template <value_type X, value_type Y>
bool operator==(const X& x, const Y& y) {
    using A = value_access;
    return value_equal(A::type(x), A::data(x), A::type(y), A::data(y));
}

}  // namespace detail
using detail::operator==;

// The seeded hash of an interface value, for gomp::map keys: hash.hpp's
// customization point, specialized for any and every interface. The dynamic
// type's gomp::hash, mixed with the type; a type gomp::hash does not know
// panics with Go's "runtime error: hash of unhashable type T" (a slice, a
// struct without gomp_hash).
template <class X>
struct hash<X, std::enable_if_t<detail::is_value_v<X>>> {
    std::uint64_t operator()(const X& x, std::uint64_t seed) const {
        using A = detail::value_access;
        return detail::value_hash(A::type(x), A::data(x), seed);
    }
};

// The dynamic type's name ("nil" for nil): Go's fmt %T.
template <detail::value_type X>
std::string type_name_of(const X& x) {
    return detail::type_string(detail::value_access::type(x));
}

// ---- type assertion -----------------------------------------------------------

// v, ok := x.(T) for a concrete T: a pointer to the value inside x, or null.
// For an interface target I: x.(I) as an I, nil when x's dynamic type lacks
// I's methods (an I that holds a null pointer is not nil: test with bool).
//
//     if (auto* c = gomp::as<Circle>(s)) c->r = 1;
//     if (Shape sh = gomp::as<Shape>(x)) sh.area();
template <class T, detail::value_type X>
    requires(!detail::is_value_v<T>)
auto* as(X& x) noexcept {
    using A = detail::value_access;
    using P = std::conditional_t<std::is_const_v<X>, const T, T>;
    return A::type(x) == &detail::type_of<T> ? detail::object<T>(A::data(x)) : static_cast<P*>(nullptr);
}
template <class I, class X>
    requires(detail::is_iface_v<I> && detail::value_type<X>)
I as(X&& x) {
    using A = detail::value_access;
    const detail::type_desc* t = A::type(x);
    if (!t) return I();
    const detail::itab* e = detail::find_itab<I>(t);
    if (e->missing) [[unlikely]]
        return I();
    return A::template make<I>(e, std::forward<X>(x));
}

// Go's comma-ok result: the value (T's zero value when !ok) and ok.
template <class T>
struct comma_ok {
    T value;
    bool ok;
};

// v, ok := x.(T), by value as in Go: a copy of the value and true, or T's
// zero value and false. For a small trivially copyable T the copy is made
// unconditionally and selected, and the type test is marked unpredictable,
// so the compiler can use a conditional move where the pointer form
// `if (auto* p = as<T>(x))` must branch (GCC 12 needs a higher if-conversion
// limit for it: docs/iface.md).
//
//     auto [c, ok] = gomp::as_ok<Circle>(x);
template <class T, detail::value_type X>
    requires(!detail::is_value_v<T>)
comma_ok<T> as_ok(const X& x) {
    using A = detail::value_access;
    bool ok = __builtin_expect_with_probability(A::type(x) == &detail::type_of<T>, 1, 0.5);
    if constexpr (detail::stored_inline_v<T> && std::is_trivially_copyable_v<T> &&
                  std::is_trivially_default_constructible_v<T>) {
        T v;
        std::memcpy(static_cast<void*>(&v), A::data(x), sizeof(T));  // the buffer always holds bytes
        return {ok ? v : T{}, ok};
    } else {
        if (ok) return {*detail::object<T>(A::data(x)), true};
        return {T{}, false};
    }
}
template <class I, class X>
    requires(detail::is_iface_v<I> && detail::value_type<X>)
comma_ok<I> as_ok(X&& x) {
    I r = as<I>(std::forward<X>(x));
    bool ok = static_cast<bool>(r);
    return {std::move(r), ok};
}

// x.(T), panicking: a reference to the value inside x, or Go's
// "interface conversion: interface {} is int, not std::string".
template <class T, detail::value_type X>
    requires(!detail::is_value_v<T>)
auto& type_assert(X& x) {
    using A = detail::value_access;
    if (A::type(x) != &detail::type_of<T>) [[unlikely]]
        detail::panic_assert_concrete(A::name(x), A::type(x), &detail::type_of<T>);
    return *as<T>(x);
}
// x.(I), panicking: "interface conversion: T is not I: missing method M".
template <class I, class X>
    requires(detail::is_iface_v<I> && detail::value_type<X>)
I type_assert(X&& x) {
    using A = detail::value_access;
    const detail::type_desc* t = A::type(x);
    if (!t) detail::panic_assert_iface(nullptr, nullptr, I::gomp_name);
    const detail::itab* e = detail::find_itab<I>(t);
    if (e->missing) [[unlikely]]
        detail::panic_assert_iface(e, t, I::gomp_name);
    return A::template make<I>(e, std::forward<X>(x));
}

// Registers that T implements each I, so that a T that only ever travels as
// `any` asserts to them at run time. Instantiating the call anywhere is
// enough: the registration runs before main. Returns true.
//
//     static const bool registered = gomp::implements<Circle, Shape, Stringer>();
template <class T, class... I>
bool implements() {
    static_assert((detail::is_iface_v<I> && ...), "implements<T, I...>: each I must be a GOMP_INTERFACE");
    static_assert((detail::iface_methods<I>::template satisfied_by<T> && ...),
                  "implements<T, I...>: T lacks a method of one of the interfaces");
    return (detail::itab_registration<I, T>::done && ...);
}


// ---- type switch --------------------------------------------------------------

// Case markers for type_switch: Go's `default:` and `case nil:`.
struct default_case {};
struct nil_case {};

namespace detail {
template <class F>
struct case_sig : case_sig<decltype(&F::operator())> {};
template <class C, class R, class A>
struct case_sig<R (C::*)(A) const> {
    using arg = A;
    using result = R;
};
template <class C, class R, class A>
struct case_sig<R (C::*)(A)> : case_sig<R (C::*)(A) const> {};
template <class C, class R, class A>
struct case_sig<R (C::*)(A) const noexcept> : case_sig<R (C::*)(A) const> {};
template <class C, class R, class A>
struct case_sig<R (C::*)(A) noexcept> : case_sig<R (C::*)(A) const> {};
template <class R, class A>
struct case_sig<R (*)(A)> {
    using arg = A;
    using result = R;
};

// Tries one case; true when it matched (and ran).
template <class X, class F, class Out>
bool run_case(X& x, F& f, Out& out) {
    using P = std::remove_cvref_t<typename case_sig<std::remove_cvref_t<F>>::arg>;
    auto call = [&](auto&& v) {
        if constexpr (std::is_void_v<typename Out::value_type>) f(std::forward<decltype(v)>(v));
        else out.emplace(f(std::forward<decltype(v)>(v)));
    };
    if constexpr (std::is_same_v<P, default_case>) {
        return false;  // runs only after every other case failed
    } else if constexpr (std::is_same_v<P, nil_case>) {
        if (value_access::type(x)) return false;
        call(nil_case{});
        return true;
    } else if constexpr (is_iface_v<P>) {
        P v = ::gomp::as<P>(x);
        if (!v) return false;
        call(std::move(v));
        return true;
    } else {
        auto* v = ::gomp::as<P>(x);
        if (!v) return false;
        call(*v);
        return true;
    }
}

template <class R>
struct case_result {  // std::optional, with a void form
    using value_type = R;
    alignas(R) unsigned char buf[sizeof(R)];
    bool has = false;
    template <class V>
    void emplace(V&& v) {
        ::new (static_cast<void*>(buf)) R(std::forward<V>(v));
        has = true;
    }
    R take() {
        R r(std::move(*std::launder(reinterpret_cast<R*>(buf))));
        std::launder(reinterpret_cast<R*>(buf))->~R();
        has = false;
        return r;
    }
    ~case_result() {
        if (has) std::launder(reinterpret_cast<R*>(buf))->~R();
    }
};
template <>
struct case_result<void> {
    using value_type = void;
};
}  // namespace detail

// Go's type switch. Each case is a callable taking one parameter whose type
// is the case: a concrete type (receives the value, by reference if the
// parameter is one), an interface (receives x asserted to it), nil_case or
// default_case. Cases are tried in order, the first match runs, default runs
// when none matched, wherever it is written. Returns the cases' common
// result type (a value-initialized one when nothing ran), or void.
//
//     gomp::type_switch(x,
//         [](int i) { std::printf("int %d\n", i); },
//         [](const std::string& s) { std::printf("string %s\n", s.c_str()); },
//         [](Shape s) { std::printf("shape %g\n", s.area()); },
//         [](gomp::nil_case) { std::puts("nil"); },
//         [](gomp::default_case) { std::puts("something else"); });
template <detail::value_type X, class... Fs>
auto type_switch(X&& x, Fs&&... fs) {
    using R = std::common_type_t<typename detail::case_sig<std::remove_cvref_t<Fs>>::result...>;
    detail::case_result<R> out;
    bool matched = false;
    ((matched = matched || detail::run_case(x, fs, out)), ...);
    if (!matched) {
        auto run_default = [&](auto& f) {
            using P = std::remove_cvref_t<typename detail::case_sig<std::remove_cvref_t<decltype(f)>>::arg>;
            if constexpr (std::is_same_v<P, default_case>) {
                if (matched) return;
                matched = true;
                if constexpr (std::is_void_v<R>) f(default_case{});
                else out.emplace(f(default_case{}));
            }
        };
        (run_default(fs), ...);
    }
    if constexpr (!std::is_void_v<R>) {
        if (out.has) return out.take();
        return R{};
    }
}

namespace detail {
template <class... Ms>
struct type_list_tail;
template <class... Ms>
struct type_list_tail<void, Ms...> {
    using type = type_list<Ms...>;
};
}  // namespace detail

}  // namespace gomp

// GOMP_INTERFACE(Name, (method, signature), ...): declares interface Name at
// namespace scope. Each method is (name, function type), the function type
// written as in std::function and `const` when the method must not change
// its receiver: (area, double() const), (write, long(std::string_view)).
// A type with a comma outside parentheses (std::map<K, V>) needs an alias.
// Up to 16 methods; names starting with gomp_ are reserved.
//
//     GOMP_INTERFACE(Stringer, (string, std::string() const));
//     struct Point { int x, y; std::string string() const { return "(" + ... + ")"; } };
//     Stringer s = Point{1, 2};
//     std::puts(s.string().c_str());
#define GOMP_INTERFACE(Name, ...)                                                                            \
    struct Name : ::gomp::detail::iface_base<Name> {                                                         \
        GOMP_DETAIL_FOR_EACH(GOMP_DETAIL_IFACE_DESC, __VA_ARGS__)                                            \
        using gomp_methods =                                                                                  \
            typename ::gomp::detail::type_list_tail<void GOMP_DETAIL_FOR_EACH(GOMP_DETAIL_IFACE_LIST,        \
                                                                              __VA_ARGS__)>::type;           \
        static constexpr ::std::string_view gomp_name = #Name;                                               \
        using ::gomp::detail::iface_base<Name>::iface_base;                                                   \
        GOMP_DETAIL_FOR_EACH(GOMP_DETAIL_IFACE_CALL, __VA_ARGS__)                                            \
    }

// One method's descriptor: its signature, its name, its program-wide key,
// and how to call it on a receiver of any type.
#define GOMP_DETAIL_IFACE_DESC(m) GOMP_DETAIL_IFACE_DESC_I m
#define GOMP_DETAIL_IFACE_DESC_I(name, ...)                                                                 \
    struct gomp_m_##name {                                                                                   \
        using sig = __VA_ARGS__;                                                                             \
        static constexpr ::std::string_view gomp_name = #name;                                               \
        static constexpr const void* key = &::gomp::detail::method_key<#name, __VA_ARGS__>::id;              \
        template <class gomp_S, class... gomp_A>                                                             \
        static auto call(gomp_S& gomp_s, gomp_A&&... gomp_a)                                                 \
            -> decltype(gomp_s.name(static_cast<gomp_A&&>(gomp_a)...)) {                                    \
            return gomp_s.name(static_cast<gomp_A&&>(gomp_a)...);                                            \
        }                                                                                                    \
    };
#define GOMP_DETAIL_IFACE_LIST(m) GOMP_DETAIL_IFACE_LIST_I m
#define GOMP_DETAIL_IFACE_LIST_I(name, ...) , gomp_m_##name
// The member function: a const one for a const signature.
#define GOMP_DETAIL_IFACE_CALL(m) GOMP_DETAIL_IFACE_CALL_I m
#define GOMP_DETAIL_IFACE_CALL_I(name, ...)                                                                 \
    template <class... gomp_A>                                                                               \
        requires(!::gomp::detail::sig_traits<gomp_m_##name::sig>::is_const)                                  \
    typename ::gomp::detail::sig_traits<gomp_m_##name::sig>::result name(gomp_A&&... gomp_a) {             \
        return this->template gomp_invoke<gomp_m_##name>(static_cast<gomp_A&&>(gomp_a)...);                  \
    }                                                                                                        \
    template <class... gomp_A>                                                                               \
        requires(::gomp::detail::sig_traits<gomp_m_##name::sig>::is_const)                                   \
    typename ::gomp::detail::sig_traits<gomp_m_##name::sig>::result name(gomp_A&&... gomp_a) const {       \
        return this->template gomp_invoke<gomp_m_##name>(static_cast<gomp_A&&>(gomp_a)...);                  \
    }

// GOMP_DETAIL_FOR_EACH(M, a, b, ...) expands to M(a) M(b) ..., up to 16.
#define GOMP_DETAIL_FE_1(M, x) M(x)
#define GOMP_DETAIL_FE_2(M, x, ...) M(x) GOMP_DETAIL_FE_1(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_3(M, x, ...) M(x) GOMP_DETAIL_FE_2(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_4(M, x, ...) M(x) GOMP_DETAIL_FE_3(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_5(M, x, ...) M(x) GOMP_DETAIL_FE_4(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_6(M, x, ...) M(x) GOMP_DETAIL_FE_5(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_7(M, x, ...) M(x) GOMP_DETAIL_FE_6(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_8(M, x, ...) M(x) GOMP_DETAIL_FE_7(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_9(M, x, ...) M(x) GOMP_DETAIL_FE_8(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_10(M, x, ...) M(x) GOMP_DETAIL_FE_9(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_11(M, x, ...) M(x) GOMP_DETAIL_FE_10(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_12(M, x, ...) M(x) GOMP_DETAIL_FE_11(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_13(M, x, ...) M(x) GOMP_DETAIL_FE_12(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_14(M, x, ...) M(x) GOMP_DETAIL_FE_13(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_15(M, x, ...) M(x) GOMP_DETAIL_FE_14(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_16(M, x, ...) M(x) GOMP_DETAIL_FE_15(M, __VA_ARGS__)
#define GOMP_DETAIL_FE_PICK(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, N, ...) N
#define GOMP_DETAIL_FOR_EACH(M, ...)                                                                         \
    GOMP_DETAIL_FE_PICK(__VA_ARGS__, GOMP_DETAIL_FE_16, GOMP_DETAIL_FE_15, GOMP_DETAIL_FE_14,                \
                        GOMP_DETAIL_FE_13, GOMP_DETAIL_FE_12, GOMP_DETAIL_FE_11, GOMP_DETAIL_FE_10,          \
                        GOMP_DETAIL_FE_9, GOMP_DETAIL_FE_8, GOMP_DETAIL_FE_7, GOMP_DETAIL_FE_6,              \
                        GOMP_DETAIL_FE_5, GOMP_DETAIL_FE_4, GOMP_DETAIL_FE_3, GOMP_DETAIL_FE_2,              \
                        GOMP_DETAIL_FE_1, unused)                                                            \
    (M, __VA_ARGS__)
