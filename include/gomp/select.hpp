// gomp/select.hpp: Go's select statement (runtime/select.go), over the
// channels of chan.hpp.
//
// A select waits on several channel operations and performs exactly one.
// selectgo runs Go's three passes over the case array, after a pass 0 of gomp's:
//
//   setup   pollorder: the cases on non-nil channels in random order (a
//           Fisher-Yates shuffle with the M's cheap random source), so no
//           case starves; lockorder: the same cases sorted by channel
//           address, so two selects always lock shared channels in the
//           same order (no deadlock) and a channel that appears twice is
//           locked once.
//   pass 0  (gomp's, not Go's) in poll order, a case whose channel looks
//           ready by the lock-free full()/empty()/closed checks is tried
//           with only that channel locked; if it proceeds, return. A ready
//           case is the common one (fan-in), and it then costs one lock,
//           not all. Otherwise every channel is locked, and:
//   pass 1  in poll order, look for a case that can proceed now: a parked
//           peer, buffered data or room, a closed channel. Do it, unlock,
//           return its index. Nothing ready and a default case: unlock,
//           return the default.
//   pass 2  enqueue one sudog per case (each in its case's slot, in lock
//           order) on its channel's sendq or recvq, all pointing to one
//           waiter, and park; the channels are unlocked after the switch.
//   wake    the first channel operation to find one of our sudogs claims
//           the whole select by CAS on waiter.select_done (Go's
//           g.selectDone); a waker on another channel that loses the CAS
//           drops our sudog and moves on. So exactly one case fires.
//   pass 3  lock every channel again, unlink the losing sudogs, and
//           return the case whose sudog fired (a closed channel fires its
//           case with "closed": a receive gets nullopt, a send panics).
//
//      pollorder  [2 0 3]          c0 @0x..40   recvq: ... sg0
//      lockorder  [0 3 2]  (addr)  c3 @0x..80   sendq: ... sg3       one waiter
//      cases      0:recv c0        c2 @0x..c0   recvq: sg2 ...       {gp, select_done,
//                 1:nil   (never)                                     fired}
//                 2:recv c2        every sg -> the waiter; the first
//                 3:send  c3       waker CASes select_done 0 -> 1
//
// Two front ends share selectgo:
//
//   gomp::select(gomp::recv(c1, f1), gomp::send(c2, v, f2), gomp::otherwise(f3))
//       a fixed list of cases written at the call; runs the callback of the
//       case that fired and returns its position. One case (plus default)
//       takes the plain channel operation's path, as Go's compiler does.
//   gomp::select(std::span<select_case>)
//       a list built at run time (Go's reflect.Select), e.g. fan-in over a
//       vector of channels; values land in caller-owned storage.
//
// No allocation: the case array, its sudogs and both orders live in the
// caller's frame (or in the caller's vector of select_case).
//
// Go's rules: a nil channel's case never fires; a select with no cases
// blocks forever ("select (no cases)"); a send case on a closed channel
// panics "send on closed channel"; a receive case on a closed channel fires
// with nullopt. Exceptions from a move behave as in chan.hpp: a select whose
// own move throws fires no case and rethrows.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include <gomp/chan.hpp>

namespace gomp {

namespace detail {
enum class case_kind : std::uint8_t { nil, recv, send, dflt };
struct selector;
}  // namespace detail

// One case of a select whose cases are known only at run time (Go's
// reflect.SelectCase). A receive case writes the value into a
// std::optional<T> you own (nullopt: the channel was closed); a send case
// moves from a T you own, only if it fires. That storage and the channels
// must outlive the select call. Reusing one vector of cases across calls
// costs no allocation.
//
//     std::vector<gomp::chan<int>> inputs = ...;
//     std::optional<int> v;
//     std::vector<gomp::select_case> cases;
//     for (auto& c : inputs) cases.push_back(gomp::select_case::recv(c, v));
//     std::size_t i = gomp::select(cases);   // v: the value from inputs[i]
class select_case {
public:
    select_case() = default;  // a case that never fires, like one on a nil channel

    template <class T>
    static select_case recv(const chan<T>& c, std::optional<T>& into) {
        return make_recv(detail::chan_access::get(c), into);
    }
    template <class T>
    static select_case recv(const recv_chan<T>& c, std::optional<T>& into) {
        return make_recv(detail::chan_access::get(c), into);
    }
    template <class T>
    static select_case send(const chan<T>& c, T& value) {
        return make_send(detail::chan_access::get(c), value);
    }
    template <class T>
    static select_case send(const send_chan<T>& c, T& value) {
        return make_send(detail::chan_access::get(c), value);
    }
    // Fires when no other case is ready; at most one per select.
    static select_case otherwise() {
        select_case s;
        s.kind_ = detail::case_kind::dflt;
        return s;
    }

private:
    template <class T>
    static select_case make_recv(detail::hchan_base* c, std::optional<T>& into) {
        select_case s;
        s.c_ = c;
        s.elem_ = &into;
        s.kind_ = c ? detail::case_kind::recv : detail::case_kind::nil;
        return s;
    }
    template <class T>
    static select_case make_send(detail::hchan_base* c, T& value) {
        select_case s;
        s.c_ = c;
        s.elem_ = &value;
        s.kind_ = c ? detail::case_kind::send : detail::case_kind::nil;
        return s;
    }

    detail::hchan_base* c_ = nullptr;
    void* elem_ = nullptr;  // recv: std::optional<T>*; send: T*
    detail::case_kind kind_ = detail::case_kind::nil;
    std::uint32_t pollorder_ = 0;  // entry i of Go's pollorder lives in case i
    std::uint32_t lockorder_ = 0;  // entry i of Go's lockorder
    detail::sudog sg_;             // this case's sudog while the select is parked
    friend struct detail::selector;
};

namespace detail {

// A uniform random number in [0, n) from the M's generator (Go's cheaprandn).
inline std::uint32_t cheaprandn(m* mp, std::uint32_t n) {
    std::uint32_t r;
    if (mp) {
        r = mp->fastrand();
    } else {
        thread_local std::uint64_t s = 0x9E3779B97F4A7C15ull ^ reinterpret_cast<std::uintptr_t>(&s);
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        r = std::uint32_t((s * 2685821657736338717ull) >> 32);
    }
    return std::uint32_t((std::uint64_t(r) * n) >> 32);
}

struct selector {
    static hchan_base* chan_at_lock(select_case* sc, std::uint32_t i) { return sc[sc[i].lockorder_].c_; }

    static void sellock(select_case* sc, std::uint32_t n) {
        hchan_base* last = nullptr;
        for (std::uint32_t i = 0; i < n; i++) {
            hchan_base* c = chan_at_lock(sc, i);
            if (c != last) {
                c->lock.lock();
                last = c;
            }
        }
    }

    // In reverse lock order: once the last lock is released a woken select
    // may return and its case array vanish, so nothing is read after it.
    static void selunlock(select_case* sc, std::uint32_t n) {
        for (std::uint32_t i = n; i-- > 0;) {
            hchan_base* c = chan_at_lock(sc, i);
            if (i > 0 && c == chan_at_lock(sc, i - 1)) continue;  // unlocked at i - 1
            c->lock.unlock();
        }
    }

    struct park_args {
        select_case* sc;
        std::uint32_t n;
    };
    // Go's selparkcommit: runs after the switch, off the select's stack.
    static bool selparkcommit(void* p) {
        auto* a = static_cast<park_args*>(p);
        select_case* sc = a->sc;
        std::uint32_t n = a->n;
        selunlock(sc, n);
        return true;
    }

    // Sorts lockorder[0, n) by channel address: insertion sort for the
    // usual few cases, Go's heap sort (n log n, no allocation) beyond.
    static void sort_lockorder(select_case* sc, std::uint32_t n) {
        auto key = [sc](std::uint32_t casi) { return reinterpret_cast<std::uintptr_t>(sc[casi].c_); };
        if (n <= 16) {
            for (std::uint32_t i = 1; i < n; i++) {
                std::uint32_t o = sc[i].lockorder_;
                std::uint32_t j = i;
                for (; j > 0 && key(sc[j - 1].lockorder_) > key(o); j--) sc[j].lockorder_ = sc[j - 1].lockorder_;
                sc[j].lockorder_ = o;
            }
            return;
        }
        for (std::uint32_t i = 0; i < n; i++) {
            std::uint32_t j = i;
            std::uint32_t o = sc[i].lockorder_;
            while (j > 0 && key(sc[(j - 1) / 2].lockorder_) < key(o)) {
                std::uint32_t k = (j - 1) / 2;
                sc[j].lockorder_ = sc[k].lockorder_;
                j = k;
            }
            sc[j].lockorder_ = o;
        }
        for (std::uint32_t i = n; i-- > 0;) {
            std::uint32_t o = sc[i].lockorder_;
            sc[i].lockorder_ = sc[0].lockorder_;
            std::uint32_t j = 0;
            for (;;) {
                std::uint32_t k = j * 2 + 1;
                if (k >= i) break;
                if (k + 1 < i && key(sc[k].lockorder_) < key(sc[k + 1].lockorder_)) k++;
                if (key(o) < key(sc[k].lockorder_)) {
                    sc[j].lockorder_ = sc[k].lockorder_;
                    j = k;
                    continue;
                }
                break;
            }
            sc[j].lockorder_ = o;
        }
    }

    // Pass 1's step for one case, with the case's channel locked: proceeds
    // (then calls unlock) and returns true, or returns false leaving the
    // locks held.
    template <class Unlock>
    static bool try_case(select_case& cas, Unlock&& unlock_all) {
        hchan_base* c = cas.c_;
        erased_ops ops{c->et};
        if (cas.kind_ == case_kind::recv) {
            if (sudog* sg = c->sendq.dequeue()) {
                recv_from_sender(c, sg, cas.elem_, ops, unlock_all);
                return true;
            }
            if (c->qcount.load(std::memory_order_relaxed) > 0) {
                buf_recv(c, cas.elem_, ops, unlock_all);
                return true;
            }
            if (c->closed.load(std::memory_order_relaxed)) {
                unlock_all();
                c->et->clear(cas.elem_);
                return true;
            }
        } else {
            if (c->closed.load(std::memory_order_relaxed)) {
                unlock_all();
                throw gomp::panic("send on closed channel");
            }
            if (sudog* sg = c->recvq.dequeue()) {
                send_to_receiver(sg, cas.elem_, ops, unlock_all);
                return true;
            }
            if (c->qcount.load(std::memory_order_relaxed) < c->dataqsiz) {
                buf_send(c, cas.elem_, ops, unlock_all);
                return true;
            }
        }
        return false;
    }

    // Go's selectgo. Returns the index of the case that fired, or -1 when
    // block is false and no case was ready.
    static std::ptrdiff_t selectgo(select_case* sc, std::uint32_t ncases, bool block) {
        m* mp = getm();
        std::uint32_t norder = 0;
        for (std::uint32_t i = 0; i < ncases; i++) {
            if (sc[i].kind_ != case_kind::recv && sc[i].kind_ != case_kind::send) continue;
            std::uint32_t j = cheaprandn(mp, norder + 1);
            sc[norder].pollorder_ = sc[j].pollorder_;
            sc[j].pollorder_ = i;
            norder++;
        }
        if (norder == 0) {
            if (!block) return -1;
            block_forever("select");  // only nil channels: Go parks forever too
        }
        // Pass 0 (gomp's): in poll order, a case that looks ready (the
        // lock-free full()/empty() of the non-blocking fast path) is tried
        // with only its own channel locked. Only when none proceeds are all
        // the channels locked for Go's three passes.
        for (std::uint32_t k = 0; k < norder; k++) {
            std::uint32_t casi = sc[k].pollorder_;
            select_case& cas = sc[casi];
            hchan_base* c = cas.c_;
            if (!c->is_closed() && (cas.kind_ == case_kind::recv ? c->empty() : c->full())) continue;
            c->lock.lock();
            if (try_case(cas, [c] { c->lock.unlock(); })) return casi;
            c->lock.unlock();
        }
        for (std::uint32_t i = 0; i < norder; i++) sc[i].lockorder_ = sc[i].pollorder_;
        sort_lockorder(sc, norder);

        auto unlock_all = [sc, norder] { selunlock(sc, norder); };
        sellock(sc, norder);
        std::optional<chan_waiter> w;  // made only when the select has to wait
        for (;;) {
            // Pass 1: a case that can proceed now.
            for (std::uint32_t k = 0; k < norder; k++) {
                std::uint32_t casi = sc[k].pollorder_;
                if (try_case(sc[casi], unlock_all)) return casi;
            }
            if (!block) {
                unlock_all();
                return -1;
            }

            // Pass 2: enqueue on every channel, in lock order, and park.
            if (!w) w.emplace(mp);
            w->fired = nullptr;
            w->wake_note.clear();
            for (std::uint32_t k = 0; k < norder; k++) {
                select_case& cas = sc[sc[k].lockorder_];
                sudog& sg = cas.sg_;
                sg.w = &*w;
                sg.elem = cas.elem_;
                sg.is_select = true;
                sg.result = wake_result::none;
                if (cas.kind_ == case_kind::recv) cas.c_->recvq.enqueue(&sg);
                else cas.c_->sendq.enqueue(&sg);
            }
            if (w->gp) {
                park_args args{sc, norder};
                gopark(&selparkcommit, &args, "select");
            } else {
                unlock_all();
                w->wake_note.sleep();
            }

            // Pass 3: unlink the losers; find the winner.
            sellock(sc, norder);
            w->select_done.store(0, std::memory_order_relaxed);
            sudog* fired = w->fired;
            std::ptrdiff_t casi = -1;
            for (std::uint32_t k = 0; k < norder; k++) {
                std::uint32_t i = sc[k].lockorder_;
                select_case& cas = sc[i];
                if (&cas.sg_ == fired) casi = i;
                else if (cas.kind_ == case_kind::recv) cas.c_->recvq.remove(&cas.sg_);
                else cas.c_->sendq.remove(&cas.sg_);
                cas.sg_.is_select = false;
            }
            if (casi < 0) fatal("select: woken by no case");
            select_case& cas = sc[casi];
            switch (fired->result) {
                case wake_result::ok: unlock_all(); return casi;
                case wake_result::closed:
                    unlock_all();
                    if (cas.kind_ == case_kind::send) throw gomp::panic("send on closed channel");
                    cas.c_->et->clear(cas.elem_);
                    return casi;
                default: continue;  // a move failed for the waker: poll again (locks held)
            }
        }
    }

    // Runs a select over cases[0, n): the index that fired.
    static std::size_t run(select_case* sc, std::size_t n) {
        if (n > UINT32_MAX) throw gomp::panic("select: too many cases");
        std::ptrdiff_t dflt = -1;
        for (std::size_t i = 0; i < n; i++)
            if (sc[i].kind_ == case_kind::dflt) {
                if (dflt >= 0) throw gomp::panic("reflect.Select: multiple default cases");
                dflt = std::ptrdiff_t(i);
            }
        if (n == 0) block_forever("select (no cases)");
        std::ptrdiff_t r = selectgo(sc, std::uint32_t(n), dflt < 0);
        return std::size_t(r < 0 ? dflt : r);
    }

    static void set(select_case& s, hchan_base* c, void* elem, case_kind k) {
        s.c_ = c;
        s.elem_ = elem;
        s.kind_ = c || k == case_kind::dflt ? k : case_kind::nil;
    }
};

struct nothing {
    void operator()() const noexcept {}
};

struct case_tag {};

template <class T, class F>
struct recv_case : case_tag {
    hchan_base* c;
    F f;
    std::optional<T> v{};

    void fill(select_case& s) { selector::set(s, c, &v, case_kind::recv); }
    // One case plus default: Go's selectnbrecv.
    bool poll() { return chanrecv<T>(c, v, false) != chan_status::would_block; }
    void wait() { chanrecv<T>(c, v, true); }
    void fire() {
        if constexpr (std::is_invocable_v<F&, std::optional<T>&&>) {
            std::invoke(f, std::move(v));
        } else if constexpr (std::is_invocable_v<F&, T&&>) {
            static_assert(std::is_default_constructible_v<T>,
                          "gomp::recv: a callback taking T gets T{} from a closed channel; T has no default "
                          "constructor, so take std::optional<T> instead");
            if (v) std::invoke(f, std::move(*v));
            else std::invoke(f, T{});
        } else {
            static_assert(std::is_invocable_v<F&>,
                          "gomp::recv: the callback must take std::optional<T>, T, or nothing");
            std::invoke(f);
        }
    }
};

template <class T, class F>
struct send_case : case_tag {
    hchan_base* c;
    T* src;                 // the caller's rvalue: moved from only if this case fires
    std::optional<T> own{};  // or our own copy
    F f;

    T* value() { return own ? &*own : src; }
    void fill(select_case& s) { selector::set(s, c, value(), case_kind::send); }
    // One case plus default: Go's selectnbsend (a closed channel panics).
    bool poll() {
        chan_status st = chansend<T>(c, *value(), false);
        if (st == chan_status::closed) throw gomp::panic("send on closed channel");
        return st == chan_status::ok;
    }
    void wait() { chansend<T>(c, *value(), true); }
    void fire() {
        static_assert(std::is_invocable_v<F&>, "gomp::send: the callback takes no arguments");
        std::invoke(f);
    }
};

template <class F>
struct default_case_t : case_tag {
    F f;
    void fill(select_case& s) { selector::set(s, nullptr, nullptr, case_kind::dflt); }
    void fire() {
        static_assert(std::is_invocable_v<F&>, "gomp::otherwise: the callback takes no arguments");
        std::invoke(f);
    }
};

template <class C>
inline constexpr bool is_default_case = false;
template <class F>
inline constexpr bool is_default_case<default_case_t<F>> = true;

template <class C>
concept select_case_expr = std::is_base_of_v<case_tag, std::remove_cvref_t<C>>;

template <class C>
concept receivable = requires(const C& c) { c.recv(); };
template <class C>
concept sendable = requires(const C& c) { c.close(); };

template <std::size_t... I, class... C>
std::size_t select_fixed(std::index_sequence<I...>, C&... cs) {
    constexpr std::size_t n = sizeof...(C);
    constexpr std::size_t ndefault = (std::size_t(is_default_case<C>) + ... + 0);
    static_assert(ndefault <= 1, "gomp::select: at most one otherwise (default) case");
    constexpr std::size_t dflt = ((is_default_case<C> ? I : 0) + ... + 0);
    std::size_t fired = n;
    if constexpr (n == 0) {
        block_forever("select (no cases)");
    } else if constexpr (n == 1 && ndefault == 1) {
        fired = 0;
    } else if constexpr (n == 1) {
        (cs.wait(), ...);  // Go compiles a one-case select to the plain operation
        fired = 0;
    } else if constexpr (n == 2 && ndefault == 1) {
        constexpr std::size_t op = 1 - dflt;
        auto& c = std::get<op>(std::tie(cs...));
        fired = c.poll() ? op : dflt;
    } else {
        std::array<select_case, n> sc;
        (cs.fill(sc[I]), ...);
        fired = selector::run(sc.data(), n);
    }
    ((I == fired ? cs.fire() : void()), ...);
    return fired;
}

}  // namespace detail

// A receive case of select: `case v, ok := <-c:` runs f(std::optional<T>)
// with the value or nullopt (closed). f may also take T (a closed channel
// gives T{}, as Go's zero value) or nothing (`case <-c:`).
//
//     gomp::select(gomp::recv(c, [](std::optional<int> v) { ... }));
template <class C, class F = detail::nothing>
    requires detail::receivable<C>
auto recv(const C& c, F f = {}) {
    using T = typename C::value_type;
    return detail::recv_case<T, F>{{}, detail::chan_access::get(c), std::move(f)};
}

// A send case of select: `case c <- v:` sends v and runs f(). An rvalue of
// the channel's type is moved from only if this case fires; anything else
// is copied (converted) into the case first. Write cases inside the select
// call: an rvalue case refers to its argument.
//
//     gomp::select(gomp::send(out, std::move(msg), [] { sent++; }), gomp::otherwise());
template <class C, class U, class F = detail::nothing>
    requires detail::sendable<C>
auto send(const C& c, U&& v, F f = {}) {
    using T = typename C::value_type;
    detail::send_case<T, F> s{{}, detail::chan_access::get(c), nullptr, std::nullopt, std::move(f)};
    if constexpr (std::is_same_v<std::remove_cvref_t<U>, T> && !std::is_lvalue_reference_v<U>) s.src = &v;
    else s.own.emplace(std::forward<U>(v));
    return s;
}

// Go's `default:` case: fires when no other case is ready now. (Named
// otherwise: gomp::default_case is the type switch's default, iface.hpp.)
template <class F = detail::nothing>
auto otherwise(F f = {}) {
    return detail::default_case_t<F>{{}, std::move(f)};
}

// Go's select statement: waits until one case can proceed, performs it,
// runs its callback and returns its position among the arguments. With a
// default case it never waits. With no cases it blocks forever.
//
//     for (;;) {
//         bool done = false;
//         gomp::select(
//             gomp::recv(jobs, [&](std::optional<job> j) { if (j) run(*j); else done = true; }),
//             gomp::recv(quit, [&] { done = true; }),
//             gomp::send(status, current_status()));
//         if (done) break;
//     }
//
// How it differs from Go: callbacks instead of case bodies (a `break` or
// `return` inside one leaves only the callback; use the returned index or
// a flag).
template <class... Cases>
    requires(detail::select_case_expr<Cases> && ...)
std::size_t select(Cases&&... cases) {
    return detail::select_fixed(std::index_sequence_for<Cases...>{}, cases...);
}

// Go's reflect.Select: a select over a list of cases built at run time.
// Returns the index of the case that fired; a receive case's value (or
// nullopt, closed) is in its optional, a send case's value was moved from.
inline std::size_t select(std::span<select_case> cases) { return detail::selector::run(cases.data(), cases.size()); }

}  // namespace gomp
