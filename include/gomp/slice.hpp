// gomp/slice.hpp: Go's slices: slice<T>, make_slice, append, copy, clone;
// growslice and its size classes (runtime/slice.go, runtime/msize.go).
//
// A slice is a window {ptr, len, cap} on a backing array that many slices may
// share. gomp adds one word, the owner of the array, because C++ has no
// garbage collector: the array is reference-counted and dies with its last
// slice.
//
//     slice<T> (32 bytes)             slice_array<T> (one allocation)
//     +-------+                       +------+-----+----+---------------------+
//     | ptr   |---------------+       | refs | cap | hw | T T T T T T T T T T |
//     | len 3 |               |       +------+-----+----+---------------------+
//     | cap 6 |               +------------------------------^
//     | arr   |---------------------->^                 (ptr = data() + 2)
//     +-------+
//
// Invariants:
//
//  * ptr == nullptr exactly for the nil slice (len == cap == 0, arr == nullptr).
//    A non-nil slice with cap 0 and no array (make_slice<T>(0), Go's zerobase)
//    points at a per-type sentinel that is never dereferenced.
//  * arr != nullptr implies [ptr, ptr + cap) lies inside arr's element storage
//    and this slice holds one of arr->refs references.
//  * Elements: every element a slice can reach, [ptr, ptr + cap), is a live T,
//    except in the raw-tail regime below. Go zeroes the whole array; gomp
//    value-initializes it (int: 0, std::string: "", unique_ptr: null), so
//    s.sub(0, cap(s)) shows the zero values, exactly as in Go.
//  * Raw-tail regime, only for T that is not default-constructible (there is
//    no zero value to put there): the array tracks a high-water mark hw, the
//    elements [0, hw) are live and [hw, cap) are raw storage. No slice ever
//    reaches past hw: append constructs at hw and bumps it (an in-place append
//    below hw assigns, overwriting what other slices of the array see, as in
//    Go), and reslicing past hw panics because there is no value to show.
//    When the array dies [0, hw) is destroyed. (In the value-initialized
//    regime hw == cap always.)
//
// Why value-initialize rather than keep raw storage for every T: it is Go's
// semantics (the tail holds zero values that reslicing exposes), it keeps
// reslicing a pure read (a raw-storage design must construct the tail when a
// reslice reaches it, a hidden write two threads could race on where Go has no
// race), and Go pays the same price: growslice clears [newlen, newcap).
//
// Growth (growslice): when an append does not fit in cap, the new cap is Go's
// nextslicecap(newLen, oldCap): newLen when that is more than double the old
// cap, else double below 256, else grow by (newcap + 3*256)/4 until it fits;
// then the byte size is rounded up to Go's malloc size class (roundupsize,
// class_to_size from sizeclasses.go; whole 8 KiB pages above 32 KiB) and the
// cap is that size divided by sizeof(T). The cap sequence is therefore Go's,
// element for element (Go's noscan path: gomp has no pointer bitmaps, so the
// 8-byte malloc header Go adds to pointerful objects over 512 bytes is not
// modelled). The new array gets the appended values first, then the old
// elements: moved when this slice held the array's only reference, else
// copied, because other slices still see the old array (Go copies too).
// A uniquely held, trivially copyable, offset-0 array grows with realloc,
// which can extend in place or move pages instead of copying.
//
// Thread safety: as in Go, a slice header and its elements are not
// synchronized; racing writes are the program's bug. The reference count is
// atomic, so slices may be copied and dropped on many threads at once.
//
// How slice<T> differs from std::vector<T> and std::span<T>:
//  * copying a slice copies the header, not the elements: copies share the
//    array, and writes through one are seen through the others (vector copies,
//    span shares but owns nothing);
//  * append returns a slice that may or may not share the old array: keep the
//    result, `s = gomp::append(std::move(s), v)` (no reference-count traffic;
//    `s = gomp::append(s, v)` is correct too, two atomic operations slower);
//  * s[i] is always bounds-checked with Go's panic message; s.unchecked(i) is
//    the unchecked form for hot loops;
//  * a small sub-slice keeps the whole array alive: clone it to let go.
//
// Example:
//
//     gomp::slice<int> s;                    // nil
//     for (int i = 0; i < 5; i++) s = gomp::append(std::move(s), i);
//     auto t = s.sub(1, 3);                  // [1 2], cap 7, same array
//     t = gomp::append(std::move(t), 42);    // in place: s[3] is now 42
//     std::span<int> view = s;               // contiguous range
#pragma once

#include <gomp/panic.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace gomp {

template <class T>
class slice;

namespace detail {
struct slice_access;

// Go's malloc size classes (internal/runtime/gc/sizeclasses.go, Go 1.26):
// class_to_size[c] is the object size of class c.
inline constexpr std::uint16_t class_to_size[68] = {
    0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,
    160,   176,   192,   208,   224,   240,   256,   288,   320,   352,   384,   416,
    448,   480,   512,   576,   640,   704,   768,   896,   1024,  1152,  1280,  1408,
    1536,  1792,  2048,  2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,
    6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880, 12288, 13568, 14336, 16384,
    18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768};
inline constexpr std::size_t max_small_size = 32768;
inline constexpr std::size_t malloc_header_size = 8;
inline constexpr std::size_t go_page_size = 8192;
// Go's maxAlloc on 64-bit Linux: the largest allocation growslice accepts.
inline constexpr std::size_t max_alloc = std::size_t(1) << 48;

// roundupsize (runtime/msize.go) for a noscan object: the size mallocgc would
// really allocate for a request of size bytes. Go indexes size_to_class8 and
// size_to_class128; both map a size to the smallest class that holds it,
// which is what the binary search below finds.
constexpr std::size_t roundupsize(std::size_t size) noexcept {
    if (size <= max_small_size - malloc_header_size) {
        std::size_t lo = 0, hi = 67;  // class_to_size[67] = 32768 >= size
        while (lo < hi) {
            std::size_t mid = (lo + hi) / 2;
            if (class_to_size[mid] < size) lo = mid + 1;
            else hi = mid;
        }
        return class_to_size[lo];
    }
    std::size_t r = size + go_page_size - 1;  // large object: whole pages
    if (r < size) return size;
    return r & ~(go_page_size - 1);
}

// nextslicecap (runtime/slice.go): the cap growslice aims for before rounding.
constexpr std::size_t nextslicecap(std::size_t new_len, std::size_t old_cap) noexcept {
    std::size_t newcap = old_cap;
    std::size_t doublecap = newcap + newcap;
    if (new_len > doublecap) return new_len;
    constexpr std::size_t threshold = 256;
    if (old_cap < threshold) return doublecap;
    // Transition from growing 2x for small slices to 1.25x for large ones.
    // Go loops in int and stops on overflow; the unsigned compare below is
    // the same test Go makes (uint(newcap) >= uint(newLen)).
    for (;;) {
        newcap += (newcap + 3 * threshold) >> 2;
        if (newcap >= new_len) break;
    }
    if (static_cast<std::ptrdiff_t>(newcap) <= 0) return new_len;
    return newcap;
}

[[noreturn, gnu::cold, gnu::noinline]] inline void panic_growslice() {
    throw runtime_error("growslice: len out of range");
}

// The cap growslice gives a slice of elem_size-byte elements that must hold
// new_len elements and had old_cap: nextslicecap, then the size class.
constexpr std::size_t growslice_cap(std::size_t new_len, std::size_t old_cap,
                                    std::size_t elem_size) {
    std::size_t newcap = nextslicecap(new_len, old_cap);
    if (newcap > max_alloc / elem_size) panic_growslice();
    std::size_t capmem = roundupsize(newcap * elem_size);
    if (capmem > max_alloc) panic_growslice();
    return capmem / elem_size;
}

// Go's boundsError messages (runtime/error.go), "runtime error: " added by
// gomp::runtime_error. x is the offending index, y the limit it broke.
enum class bounds_code { index, slice_acap, slice_b, slice3_acap, slice3_b, slice3_c };

[[noreturn, gnu::cold, gnu::noinline]] inline void panic_bounds(bounds_code code,
                                                                 std::ptrdiff_t x,
                                                                 std::ptrdiff_t y) {
    std::string xs = std::to_string(x), ys = std::to_string(y);
    bool neg = x < 0;  // Go drops the limit when the index itself is negative
    std::string m;
    switch (code) {
    case bounds_code::index:
        m = "index out of range [" + xs + "]" + (neg ? "" : " with length " + ys);
        break;
    case bounds_code::slice_acap:
        m = "slice bounds out of range [:" + xs + "]" + (neg ? "" : " with capacity " + ys);
        break;
    case bounds_code::slice_b:
        m = "slice bounds out of range [" + xs + ":" + (neg ? "" : ys) + "]";
        break;
    case bounds_code::slice3_acap:
        m = "slice bounds out of range [::" + xs + "]" + (neg ? "" : " with capacity " + ys);
        break;
    case bounds_code::slice3_b:
        m = "slice bounds out of range [:" + xs + ":" + (neg ? "" : ys) + "]";
        break;
    case bounds_code::slice3_c:
        m = "slice bounds out of range [" + xs + ":" + (neg ? "" : ys) + ":]";
        break;
    }
    throw runtime_error(m);
}

// The element regime (see the header comment). Value-initialized arrays hold
// a live T in every slot; raw-tail arrays (no default constructor) track hw.
template <class T>
inline constexpr bool raw_tail_v = !std::is_default_constructible_v<T>;

// Trivially copyable elements move with memcpy and grow with realloc.
template <class T>
inline constexpr bool bitwise_v =
    std::is_trivially_copyable_v<T> && std::is_trivially_default_constructible_v<T> &&
    alignof(T) <= alignof(std::max_align_t);

// Go's zerobase: the address every zero-capacity non-nil slice points at.
template <class T>
struct zerobase {
    alignas(T) static inline unsigned char bytes[1];
};

// The backing array: a header and cap elements in one allocation. Arrays of
// ordinarily aligned T come from malloc so that bitwise_v arrays can realloc.
template <class T>
struct slice_array {
    std::atomic<std::size_t> refs;
    std::size_t cap;
    std::atomic<std::size_t> hw;  // elements [0, hw) are live

    static constexpr std::size_t header =
        (sizeof(std::size_t) * 3 + alignof(T) - 1) / alignof(T) * alignof(T);
    static constexpr bool over_aligned = alignof(T) > alignof(std::max_align_t);

    T* data() noexcept {
        return reinterpret_cast<T*>(reinterpret_cast<unsigned char*>(this) + header);
    }

    static std::size_t bytes(std::size_t cap) noexcept { return header + cap * sizeof(T); }

    // A fresh array with one reference and no live elements (hw = 0).
    static slice_array* allocate(std::size_t cap) {
        void* p;
        if constexpr (over_aligned) {
            p = ::operator new(bytes(cap), std::align_val_t(alignof(T)));
        } else {
            p = std::malloc(bytes(cap));
            if (!p) throw std::bad_alloc();
        }
        auto* a = static_cast<slice_array*>(p);
        ::new (&a->refs) std::atomic<std::size_t>(1);
        a->cap = cap;
        ::new (&a->hw) std::atomic<std::size_t>(0);
        return a;
    }

    // Frees the storage; the elements must already be destroyed.
    static void deallocate(slice_array* a) noexcept {
        if constexpr (over_aligned) ::operator delete(a, std::align_val_t(alignof(T)));
        else std::free(a);
    }

    // Grows a uniquely held bitwise_v array to cap elements with realloc; the
    // header and the live prefix come along.
    static slice_array* reallocate(slice_array* a, std::size_t cap) {
        static_assert(bitwise_v<T>);
        void* p = std::realloc(a, bytes(cap));
        if (!p) throw std::bad_alloc();
        a = static_cast<slice_array*>(p);
        a->cap = cap;
        return a;
    }

    void retain() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }

    // Drops one reference; the last one destroys [0, hw) and frees. The
    // acquire half orders every other holder's writes before destruction.
    void release() noexcept {
        if (refs.load(std::memory_order_acquire) != 1 &&
            refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
            return;
        if constexpr (!std::is_trivially_destructible_v<T>)
            std::destroy_n(data(), hw.load(std::memory_order_relaxed));
        deallocate(this);
    }

    bool unique() const noexcept { return refs.load(std::memory_order_acquire) == 1; }
};

// Constructs n value-initialized T at p; on a throw destroys what it built.
template <class T>
void value_init_n(T* p, std::size_t n) {
    if constexpr (bitwise_v<T>) {
        if (n) std::memset(static_cast<void*>(p), 0, n * sizeof(T));
    } else {
        std::uninitialized_value_construct_n(p, n);
    }
}

// The value an append assigns: v itself when it is a T, else T(v). Assigning
// a converted T (rather than, say, const char* into std::string) keeps append
// a plain element assignment, as in Go, and sidesteps a GCC 12 -Wrestrict
// false positive in basic_string::assign.
template <class T, class U>
decltype(auto) as_elem(U&& v) {
    if constexpr (std::is_same_v<std::remove_cvref_t<U>, T>) return std::forward<U>(v);
    else return T(std::forward<U>(v));
}

// Stores v at element i of the live-or-raw array (raw-tail regime): assign
// below hw, construct at hw. Returns after hw covers i.
template <class T, class U>
void store_at(slice_array<T>* a, std::size_t i, U&& v) {
    T* p = a->data() + i;
    if constexpr (raw_tail_v<T>) {
        if (i >= a->hw.load(std::memory_order_relaxed)) {
            ::new (static_cast<void*>(p)) T(std::forward<U>(v));
            a->hw.store(i + 1, std::memory_order_relaxed);
            return;
        }
    }
    if constexpr (std::is_assignable_v<T&, decltype(as_elem<T>(std::forward<U>(v)))>) {
        *p = as_elem<T>(std::forward<U>(v));
    } else {  // const members or an explicit-only conversion: rebuild in place
        T tmp(std::forward<U>(v));
        std::destroy_at(p);
        ::new (static_cast<void*>(p)) T(std::move(tmp));
    }
}

[[noreturn, gnu::cold, gnu::noinline]] inline void panic_shared_move_only() {
    throw panic("gomp: append must copy a shared array to grow it, and its element type is "
                "not copyable (append to a slice that holds the array's only reference)");
}

[[noreturn, gnu::cold, gnu::noinline]] inline void panic_raw_tail(std::size_t hw, std::size_t end) {
    throw panic("gomp: slice bounds reach array elements [" + std::to_string(hw) + ":" +
                std::to_string(end) +
                "] that were never appended, and the element type has no zero value "
                "(it is not default-constructible)");
}

}  // namespace detail

// slice<T>: Go's []T. A {ptr, len, cap} window on a shared, reference-counted
// backing array; see the file comment for the rules. The nil slice is the
// default-constructed one.
//
//     gomp::slice<std::string> names{"ann", "bob"};   // []string{"ann", "bob"}
//     names = gomp::append(std::move(names), "cy");   // grows: new array, cap 4
//     for (auto& n : names) std::puts(n.c_str());
//     auto first = names.sub(0, 1);                   // names[0:1], shares the array
template <class T>
class slice {
    static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_volatile_v<T>,
                  "slice<T> needs a non-const object type");
    using array_type = detail::slice_array<T>;

public:
    using value_type = T;
    using size_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    using reference = T&;
    using const_reference = const T&;
    using pointer = T*;
    using iterator = T*;
    using const_iterator = const T*;

    // The nil slice.
    constexpr slice() noexcept = default;
    constexpr slice(std::nullptr_t) noexcept {}

    // Go's composite literal []T{a, b, c}: len == cap == the number of values.
    slice(std::initializer_list<T> init) {
        if (init.size() == 0) {
            ptr_ = zero_ptr();
            return;
        }
        auto* a = array_type::allocate(init.size());
        try {
            std::uninitialized_copy(init.begin(), init.end(), a->data());
        } catch (...) {
            array_type::deallocate(a);
            throw;
        }
        a->hw.store(init.size(), std::memory_order_relaxed);
        adopt(a, a->data(), init.size());
    }

    // Copies share the array (the header is copied, not the elements).
    slice(const slice& o) noexcept : ptr_(o.ptr_), len_(o.len_), cap_(o.cap_), arr_(o.arr_) {
        if (arr_) arr_->retain();
    }
    slice(slice&& o) noexcept : ptr_(o.ptr_), len_(o.len_), cap_(o.cap_), arr_(o.arr_) {
        o.ptr_ = nullptr;
        o.len_ = o.cap_ = 0;
        o.arr_ = nullptr;
    }
    slice& operator=(const slice& o) noexcept {
        if (o.arr_) o.arr_->retain();
        array_type* old = arr_;
        ptr_ = o.ptr_;
        len_ = o.len_;
        cap_ = o.cap_;
        arr_ = o.arr_;
        if (old) old->release();
        return *this;
    }
    slice& operator=(slice&& o) noexcept {
        if (this != &o) {
            array_type* old = arr_;
            ptr_ = o.ptr_;
            len_ = o.len_;
            cap_ = o.cap_;
            arr_ = o.arr_;
            o.ptr_ = nullptr;
            o.len_ = o.cap_ = 0;
            o.arr_ = nullptr;
            if (old) old->release();
        }
        return *this;
    }
    slice& operator=(std::nullptr_t) noexcept {
        reset();
        return *this;
    }
    ~slice() {
        if (arr_) arr_->release();
    }

    // Go's len(s) and cap(s), as Go's int.
    std::ptrdiff_t len() const noexcept { return static_cast<std::ptrdiff_t>(len_); }
    std::ptrdiff_t cap() const noexcept { return static_cast<std::ptrdiff_t>(cap_); }
    bool is_nil() const noexcept { return ptr_ == nullptr; }
    friend bool operator==(const slice& s, std::nullptr_t) noexcept { return s.is_nil(); }

    // s[i], bounds-checked: "index out of range [i] with length len".
    T& operator[](std::ptrdiff_t i) const {
        if (static_cast<std::size_t>(i) >= len_) [[unlikely]]
            detail::panic_bounds(detail::bounds_code::index, i, len());
        return ptr_[i];
    }
    // s[i] without the check, for loops that already know i < len.
    T& unchecked(std::ptrdiff_t i) const noexcept { return ptr_[i]; }

    // s[i:], s[i:j] and s[i:j:k]: share the array. Go's rules: 0 <= i <= j
    // <= k <= cap(s) (for s[i:], i <= len(s)); the new cap is k - i (cap(s) - i
    // without k). Go's panic messages, checked in Go's order.
    slice sub(std::ptrdiff_t i) const {
        if (static_cast<std::size_t>(i) > len_)
            detail::panic_bounds(detail::bounds_code::slice_b, i, len());
        return window(static_cast<std::size_t>(i), len_, cap_);
    }
    slice sub(std::ptrdiff_t i, std::ptrdiff_t j) const {
        if (static_cast<std::size_t>(j) > cap_)
            detail::panic_bounds(detail::bounds_code::slice_acap, j, cap());
        if (static_cast<std::size_t>(i) > static_cast<std::size_t>(j))
            detail::panic_bounds(detail::bounds_code::slice_b, i, j);
        return window(static_cast<std::size_t>(i), static_cast<std::size_t>(j), cap_);
    }
    slice sub(std::ptrdiff_t i, std::ptrdiff_t j, std::ptrdiff_t k) const {
        if (static_cast<std::size_t>(k) > cap_)
            detail::panic_bounds(detail::bounds_code::slice3_acap, k, cap());
        if (static_cast<std::size_t>(j) > static_cast<std::size_t>(k))
            detail::panic_bounds(detail::bounds_code::slice3_b, j, k);
        if (static_cast<std::size_t>(i) > static_cast<std::size_t>(j))
            detail::panic_bounds(detail::bounds_code::slice3_c, i, j);
        return window(static_cast<std::size_t>(i), static_cast<std::size_t>(j),
                      static_cast<std::size_t>(k));
    }

    // The contiguous range: data()/size()/begin()/end() for std::span,
    // std::ranges algorithms and range-for. The iterators are plain pointers.
    T* data() const noexcept { return ptr_; }
    std::size_t size() const noexcept { return len_; }
    bool empty() const noexcept { return len_ == 0; }
    T* begin() const noexcept { return ptr_; }
    T* end() const noexcept { return ptr_ + len_; }

    // s = append(s, v) in place of *this: lets std::back_inserter fill a slice.
    void push_back(const T& v) { append_values(v); }
    void push_back(T&& v) { append_values(std::move(v)); }
    template <class... Args>
    T& emplace_back(Args&&... args) {
        append_values(T(std::forward<Args>(args)...));
        return ptr_[len_ - 1];
    }

    void swap(slice& o) noexcept {
        std::swap(ptr_, o.ptr_);
        std::swap(len_, o.len_);
        std::swap(cap_, o.cap_);
        std::swap(arr_, o.arr_);
    }

private:
    friend struct detail::slice_access;

    static T* zero_ptr() noexcept { return reinterpret_cast<T*>(detail::zerobase<T>::bytes); }

    void adopt(array_type* a, T* p, std::size_t len) noexcept {
        ptr_ = p;
        len_ = len;
        cap_ = a->cap - static_cast<std::size_t>(p - a->data());
        arr_ = a;
    }

    void reset() noexcept {
        array_type* old = arr_;
        ptr_ = nullptr;
        len_ = cap_ = 0;
        arr_ = nullptr;
        if (old) old->release();
    }

    // The window [i, j) with cap k - i, all relative to ptr_ and already
    // checked against cap_.
    slice window(std::size_t i, std::size_t j, std::size_t k) const {
        if constexpr (detail::raw_tail_v<T>) {
            if (arr_) {
                std::size_t end = static_cast<std::size_t>(ptr_ - arr_->data()) + j;
                std::size_t hw = arr_->hw.load(std::memory_order_relaxed);
                if (end > hw) detail::panic_raw_tail(hw, end);
            }
        }
        slice r;
        if (!ptr_) return r;  // nil[0:0] is nil
        r.ptr_ = ptr_ + i;
        r.len_ = j - i;
        r.cap_ = k - i;
        r.arr_ = arr_;
        if (arr_) arr_->retain();
        return r;
    }

    // Element index of ptr_ inside the array.
    std::size_t offset() const noexcept {
        return arr_ ? static_cast<std::size_t>(ptr_ - arr_->data()) : 0;
    }

    // growslice: makes *this a slice of new_len elements on a new array.
    // fill(T* dst) constructs the new_len - len_ appended elements at dst (and
    // cleans up after itself if it throws); they are built before the old
    // elements move, so they may refer into the old array. On a throw *this
    // is unchanged.
    template <class Fill>
    void grow(std::size_t new_len, bool may_realloc, Fill&& fill) {
        std::size_t new_cap = detail::growslice_cap(new_len, cap_, sizeof(T));
        if constexpr (detail::bitwise_v<T>) {
            if (may_realloc && arr_ && offset() == 0 && arr_->unique()) {
                // One reference and nothing else can see the array: realloc
                // keeps [0, len) and may avoid the copy altogether.
                array_type* a = array_type::reallocate(arr_, new_cap);
                arr_ = nullptr;  // moved into a
                fill(a->data() + len_);
                detail::value_init_n(a->data() + new_len, new_cap - new_len);
                a->hw.store(new_cap, std::memory_order_relaxed);
                adopt(a, a->data(), new_len);
                return;
            }
        }
        array_type* a = array_type::allocate(new_cap);
        T* d = a->data();
        try {
            fill(d + len_);
        } catch (...) {
            array_type::deallocate(a);
            throw;
        }
        std::size_t built = new_len - len_;
        try {
            if constexpr (detail::bitwise_v<T>) {
                if (len_) std::memcpy(static_cast<void*>(d), ptr_, len_ * sizeof(T));
            } else {
                bool move = arr_ && arr_->unique();
                if constexpr (!std::is_copy_constructible_v<T>) {
                    if (!move && len_) detail::panic_shared_move_only();
                    std::uninitialized_move_n(ptr_, len_, d);
                } else if (move && std::is_nothrow_move_constructible_v<T>) {
                    std::uninitialized_move_n(ptr_, len_, d);
                } else {
                    std::uninitialized_copy_n(ptr_, len_, d);
                }
            }
            if constexpr (!detail::raw_tail_v<T>) {
                detail::value_init_n(d + new_len, new_cap - new_len);
                a->hw.store(new_cap, std::memory_order_relaxed);
            } else {
                a->hw.store(new_len, std::memory_order_relaxed);
            }
        } catch (...) {
            // Only the appended elements [len_, new_len) can be live here:
            // each uninitialized_* call undoes its own partial work.
            std::destroy_n(d + len_, built);
            array_type::deallocate(a);
            throw;
        }
        array_type* old = arr_;
        adopt(a, d, new_len);
        if (old) old->release();
    }

    // append(s, vs...) into *this.
    template <class... Us>
    void append_values(Us&&... vs) {
        constexpr std::size_t n = sizeof...(Us);
        if constexpr (n == 0) {
            return;
        } else if (cap_ - len_ >= n) [[likely]] {
            if constexpr (!detail::raw_tail_v<T>) {
                // Every slot is a live T: overwrite in place.
                T* p = ptr_ + len_;
                if constexpr ((std::is_assignable_v<T&, Us&&> && ...)) {
                    ((*p++ = detail::as_elem<T>(std::forward<Us>(vs))), ...);
                } else {
                    std::size_t i = offset() + len_;
                    (detail::store_at(arr_, i++, std::forward<Us>(vs)), ...);
                }
            } else {
                std::size_t i = offset() + len_;
                (detail::store_at(arr_, i++, std::forward<Us>(vs)), ...);
            }
            len_ += n;
        } else {
            if constexpr (detail::bitwise_v<T>) {
                // Materialize first: the values may live in the array that
                // realloc is about to move.
                T tmp[n] = {T(std::forward<Us>(vs))...};
                grow(len_ + n, true, [&](T* d) { std::memcpy(static_cast<void*>(d), tmp, sizeof tmp); });
            } else {
                grow(len_ + n, false, [&](T* d) {
                    std::size_t built = 0;
                    try {
                        ((::new (static_cast<void*>(d + built)) T(std::forward<Us>(vs)), ++built), ...);
                    } catch (...) {
                        std::destroy_n(d, built);
                        throw;
                    }
                });
            }
        }
    }

    // append(s, t...) into *this; t may share (or be) this slice's array.
    void append_slice(const slice& t) {
        std::size_t m = t.len_;
        if (m == 0) return;  // Go returns s unchanged, nil included
        if (cap_ - len_ >= m) {
            T* dst = ptr_ + len_;
            const T* src = t.ptr_;
            if constexpr (detail::bitwise_v<T>) {
                std::memmove(static_cast<void*>(dst), src, m * sizeof(T));
            } else {
                std::size_t first = 0;  // elements [first, m) land at or past hw
                if constexpr (detail::raw_tail_v<T>) {
                    std::size_t at = offset() + len_;
                    std::size_t hw = arr_->hw.load(std::memory_order_relaxed);
                    first = hw > at ? std::min(m, hw - at) : 0;
                    // Construction targets lie past hw, and every source lies
                    // below it, so they never overlap: build them first.
                    for (std::size_t k = first; k < m; k++) detail::store_at(arr_, at + k, src[k]);
                } else {
                    first = m;
                }
                // The assigned part may overlap its source: copy as memmove does.
                if (dst > src && dst < src + first) std::copy_backward(src, src + first, dst + first);
                else std::copy(src, src + first, dst);
            }
            len_ += m;
            return;
        }
        grow(len_ + m, t.arr_ != arr_, [&](T* d) { std::uninitialized_copy_n(t.ptr_, m, d); });
    }

    T* ptr_ = nullptr;
    std::size_t len_ = 0;
    std::size_t cap_ = 0;
    array_type* arr_ = nullptr;
};

namespace detail {
// append(s, vs...) takes values convertible to T, but never a lone slice<T>:
// that is append(s, t...).
template <class T, class... Us>
concept append_values_ok =
    (std::is_constructible_v<T, Us&&> && ...) &&
    !(sizeof...(Us) == 1 && (std::is_same_v<std::remove_cvref_t<Us>, slice<T>> && ...));

// The free functions' way into slice's representation.
struct slice_access {
    template <class T>
    static slice<T> zero() noexcept {
        slice<T> s;
        s.ptr_ = slice<T>::zero_ptr();
        return s;
    }
    template <class T>
    static slice<T> adopt(slice_array<T>* a, std::size_t len) noexcept {
        slice<T> s;
        s.adopt(a, a->data(), len);
        return s;
    }
    template <class T, class... Us>
    static void append_values(slice<T>& s, Us&&... vs) {
        s.append_values(std::forward<Us>(vs)...);
    }
    template <class T>
    static void append_slice(slice<T>& s, const slice<T>& t) {
        s.append_slice(t);
    }
    template <class T>
    static std::ptrdiff_t copy(const slice<T>& dst, const slice<T>& src) {
        std::size_t n = std::min(dst.len_, src.len_);
        if (n == 0 || dst.ptr_ == src.ptr_) return static_cast<std::ptrdiff_t>(n);
        if constexpr (bitwise_v<T>) {
            std::memmove(static_cast<void*>(dst.ptr_), src.ptr_, n * sizeof(T));
        } else if (dst.arr_ == src.arr_ && dst.ptr_ > src.ptr_) {
            std::copy_backward(src.ptr_, src.ptr_ + n, dst.ptr_ + n);
        } else {
            std::copy(src.ptr_, src.ptr_ + n, dst.ptr_);
        }
        return static_cast<std::ptrdiff_t>(n);
    }
};
}  // namespace detail

// make([]T, len, cap): len value-initialized elements; the array holds
// exactly cap (make does not round to a size class, as in Go). Panics with
// Go's "makeslice: len out of range" / "makeslice: cap out of range".
//
//     auto buf = gomp::make_slice<char>(0, 4096);   // len 0, cap 4096
template <class T>
slice<T> make_slice(std::ptrdiff_t len, std::ptrdiff_t cap) {
    constexpr auto max = static_cast<std::ptrdiff_t>(detail::max_alloc / sizeof(T));
    if (cap < 0 || cap > max || len < 0 || len > cap) {
        if (len < 0 || len > max) throw runtime_error("makeslice: len out of range");
        throw runtime_error("makeslice: cap out of range");
    }
    if (cap == 0) return detail::slice_access::zero<T>();
    auto n = static_cast<std::size_t>(len), c = static_cast<std::size_t>(cap);
    auto* a = detail::slice_array<T>::allocate(c);
    try {
        if constexpr (detail::raw_tail_v<T>) {
            if (n) throw panic("gomp: make_slice: the element type has no zero value (it is not "
                               "default-constructible); make it with len 0 and append");
        } else {
            detail::value_init_n(a->data(), c);
            n = c;  // hw covers the whole array
        }
    } catch (...) {
        detail::slice_array<T>::deallocate(a);
        throw;
    }
    a->hw.store(n, std::memory_order_relaxed);
    return detail::slice_access::adopt(a, static_cast<std::size_t>(len));
}

// make([]T, len): cap == len.
template <class T>
slice<T> make_slice(std::ptrdiff_t len) {
    return make_slice<T>(len, len);
}

// append(s, v1, v2, ...): writes in place when cap allows (visible through
// every slice of the array), else moves to a new array grown as Go's
// growslice does. Pass the slice with std::move when the result replaces it.
//
//     s = gomp::append(std::move(s), 1, 2, 3);
template <class T, class... Us>
    requires detail::append_values_ok<T, Us...>
slice<T> append(slice<T>&& s, Us&&... vs) {
    detail::slice_access::append_values(s, std::forward<Us>(vs)...);
    return std::move(s);
}
template <class T, class... Us>
    requires detail::append_values_ok<T, Us...>
slice<T> append(const slice<T>& s, Us&&... vs) {
    return append(slice<T>(s), std::forward<Us>(vs)...);
}

// append(s, t...): appends every element of t. t may share s's array, even
// be s itself: the result is as if t were copied first, as in Go. To append
// a slice as one element of a slice<any>, wrap it: append(s, gomp::any(t)).
template <class T>
slice<T> append(slice<T>&& s, const slice<T>& t) {
    if (&s == &t) {  // append(std::move(s), s): read t before s changes
        slice<T> keep(t);
        detail::slice_access::append_slice(s, keep);
    } else {
        detail::slice_access::append_slice(s, t);
    }
    return std::move(s);
}
template <class T>
slice<T> append(const slice<T>& s, const slice<T>& t) {
    return append(slice<T>(s), t);
}
template <class T>
slice<T> append(slice<T>&& s, std::initializer_list<T> vs) {
    slice<T> t(vs);
    return append(std::move(s), t);
}
template <class T>
slice<T> append(const slice<T>& s, std::initializer_list<T> vs) {
    slice<T> t(vs);
    return append(slice<T>(s), t);
}

// copy(dst, src): copies min(len(dst), len(src)) elements and returns the
// count; overlapping slices of one array copy as memmove does.
template <class T>
std::ptrdiff_t copy(const slice<T>& dst, const slice<T>& src) {
    return detail::slice_access::copy(dst, src);
}

// slices.Clone: a copy of s's elements on a fresh array (cap rounded up as
// append(s[:0:0], s...) rounds it). nil stays nil. Use it to let a large
// array go when only a small sub-slice of it is still needed.
template <class T>
slice<T> clone(const slice<T>& s) {
    if (s.is_nil()) return slice<T>();
    slice<T> r = detail::slice_access::zero<T>();
    detail::slice_access::append_slice(r, s);
    return r;
}

// Go's len(s) and cap(s) as free functions.
template <class T>
std::ptrdiff_t len(const slice<T>& s) noexcept {
    return s.len();
}
template <class T>
std::ptrdiff_t cap(const slice<T>& s) noexcept {
    return s.cap();
}

}  // namespace gomp
