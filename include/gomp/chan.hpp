// gomp/chan.hpp: Go's channels (runtime/chan.go), for goroutines and for
// plain threads.
//
// A channel is an hchan: a ring buffer of dataqsiz slots, the queue of
// blocked receivers (recvq) and of blocked senders (sendq), and one lock.
//
//      hchan                              buf (dataqsiz slots, in the same allocation)
//      +-----------------------+          +-----+-----+-----+-----+-----+
//      | lock (spinlock)       |          |     |  a  |  b  |  c  |     |
//      | qcount = 3            |          +-----+-----+-----+-----+-----+
//      | dataqsiz = 5          |                 ^recvx            ^sendx
//      | recvx = 1, sendx = 4  |
//      | closed                |          recvq: sudog -> sudog -> ...   (blocked receivers)
//      | recvq  first/last ----+--------> sendq: sudog -> sudog -> ...   (blocked senders)
//      | sendq  first/last     |
//      | refs (handles)        |          sudog: {waiter*, next, prev, elem, is_select, result}
//      +-----------------------+          on the blocked goroutine's (or thread's) stack
//
// Invariants (chan.go):
//   * at least one of sendq and recvq is empty, except for an unbuffered
//     channel with one goroutine blocked on both through a select;
//   * qcount > 0 implies recvq is empty; qcount < dataqsiz implies sendq is
//     empty (for a buffered channel);
//   * slots [recvx, recvx + qcount) (mod dataqsiz) hold constructed values,
//     the others raw storage.
//
// Send: with the lock held, (1) closed -> panic "send on closed channel";
// (2) a receiver is parked -> move the value straight into its slot (a
// std::optional<T> on the receiver's stack), unlock, ready it: no buffer
// round trip; (3) room in the buffer -> construct at sendx; (4) else queue a
// sudog and park; the receiver that finds it completes the send for us.
// Receive mirrors it: (1) closed and empty -> "closed"; (2) a sender is
// parked -> for an unbuffered channel move its value directly; for a full
// buffer take the head and move the sender's value to the tail, so FIFO
// order holds; (3) a buffered value -> take it; (4) else park.
//
// A readied goroutine goes to its waker's runnext: in ping-pong the peer
// runs next on the same thread, one context switch per hand-off.
//
// Non-blocking operations fail before taking the lock when the channel is
// visibly not ready (Go's full()/empty()): word-sized atomic loads of
// qcount, closed and the queue heads, in the order chan.go argues for.
//
// No allocation per operation: a blocked operation's sudog and waiter live
// in its own stack frame (a select's in its case array). The hchan and its
// buffer are one allocation, made by make_chan and freed with the last
// handle.
//
// Threads. A thread that is not a goroutine (or a goroutine inside
// gomp::blocking, which holds no P) blocks on a futex note instead of
// parking; its waker calls note.wakeup instead of goready. So threaded C++
// code can feed goroutines and the reverse, and channels even work with no
// gomp::run at all, between plain threads.
//
// Exception guarantee (T's move constructor may throw). Every move happens
// with the lock held, and a move that throws leaves the channel consistent:
//   * a send whose move throws did not send: the value is not enqueued and
//     the send rethrows; a receiver it had picked is woken to retry;
//   * a receive whose move throws did not receive: the value stays in the
//     buffer (or with its parked sender, which is woken to retry) and the
//     receive rethrows;
//   * a receive from a full buffer that has received its value and then
//     fails to move a parked sender's value into the freed slot still
//     succeeds; that sender is woken to retry its send itself (and gets the
//     exception then, if the move throws again).
// A retrying operation starts over and may lose its place in the queue.
//
// How it differs from Go: T need not be default-constructible (receive
// returns std::optional<T>); move-only T works; try_send/try_recv tell
// "would block" from "closed" (Go's select with default panics on a send to
// a closed channel; try_send returns chan_status::closed instead, while
// select's send case panics as Go does).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include <gomp/detail/note.hpp>
#include <gomp/detail/proc.hpp>
#include <gomp/panic.hpp>

namespace gomp {

// Outcome of try_send / try_recv.
enum class chan_status : std::uint8_t {
    ok,           // the value was sent / received
    would_block,  // the channel is not ready (or is nil)
    closed,       // the channel is closed (and, for a receive, drained)
};

namespace detail {

struct sudog;

// What a blocked operation was woken with.
enum class wake_result : std::uint8_t { none, ok, closed, retry };

// One blocked operation: a send, a receive, or a whole select (shared by all
// of the select's sudogs).
struct chan_waiter {
    g* gp = nullptr;  // the parked goroutine, or nullptr: a thread sleeping on wake_note
    note wake_note;
    // Go's g.selectDone: a waker claims a select by CAS 0 -> 1, so one case fires.
    std::atomic<std::uint32_t> select_done{0};
    sudog* fired = nullptr;  // the sudog that was completed (Go's gp.param)

    chan_waiter() : chan_waiter(getm()) {}
    // mp: the caller's getm().
    explicit chan_waiter(m* mp) {
        // Inside gomp::blocking a goroutine has no P and cannot park: it sleeps.
        if (mp && mp->pp) gp = mp->curg;
    }
};

// A goroutine or thread in a channel's wait queue (Go's sudog).
struct sudog {
    chan_waiter* w = nullptr;
    sudog* next = nullptr;
    sudog* prev = nullptr;
    void* elem = nullptr;  // send: T* to move from; receive: std::optional<T>* to emplace into
    bool is_select = false;
    wake_result result = wake_result::none;
};

// A FIFO of sudogs. `first` is read without the lock by the fast checks.
struct waitq {
    std::atomic<sudog*> first{nullptr};
    sudog* last = nullptr;

    void enqueue(sudog* sg) {
        sg->next = nullptr;
        sudog* x = last;
        sg->prev = x;
        last = sg;
        if (x) x->next = sg;
        else first.store(sg, std::memory_order_relaxed);
    }

    // Pops the first sudog that can still complete: a select's sudog whose
    // select another channel has already won is dropped (its owner removes
    // the rest in pass 3).
    sudog* dequeue() {
        for (;;) {
            sudog* sg = first.load(std::memory_order_relaxed);
            if (!sg) return nullptr;
            sudog* y = sg->next;
            if (!y) {
                first.store(nullptr, std::memory_order_relaxed);
                last = nullptr;
            } else {
                y->prev = nullptr;
                first.store(y, std::memory_order_relaxed);
                sg->next = nullptr;
            }
            if (sg->is_select) {
                std::uint32_t zero = 0;
                if (!sg->w->select_done.compare_exchange_strong(zero, 1, std::memory_order_acq_rel,
                                                                std::memory_order_relaxed))
                    continue;
            }
            return sg;
        }
    }

    // Go's dequeueSudoG: unlinks sg if it is still queued.
    void remove(sudog* sg) {
        sudog* x = sg->prev;
        sudog* y = sg->next;
        if (x) {
            x->next = y;
            if (y) y->prev = x;
            else last = x;
        } else if (y) {
            y->prev = nullptr;
            first.store(y, std::memory_order_relaxed);
        } else if (first.load(std::memory_order_relaxed) == sg) {
            first.store(nullptr, std::memory_order_relaxed);
            last = nullptr;
        }
        sg->next = sg->prev = nullptr;
    }
};

// How the element type moves, for code that does not know T (select).
// dst is a std::optional<T>*, src a T*, slot a buffer slot.
struct elemtype {
    std::size_t size;
    void (*emplace)(void* dst, void* src);  // *dst = std::move(*src)
    void (*put)(void* slot, void* src);     // construct the slot from std::move(*src)
    void (*take)(void* dst, void* slot);    // *dst = std::move(*slot), then destroy the slot
    void (*clear)(void* dst);               // dst->reset()
    void (*destroy)(void* slot);
};

template <class T>
struct typed_ops {
    static constexpr std::size_t size() { return sizeof(T); }
    static void emplace(void* dst, void* src) {
        static_cast<std::optional<T>*>(dst)->emplace(std::move(*static_cast<T*>(src)));
    }
    static void put(void* slot, void* src) { ::new (slot) T(std::move(*static_cast<T*>(src))); }
    static void take(void* dst, void* slot) {
        T* s = std::launder(static_cast<T*>(slot));
        static_cast<std::optional<T>*>(dst)->emplace(std::move(*s));
        s->~T();
    }
    static void clear(void* dst) { static_cast<std::optional<T>*>(dst)->reset(); }
    static void destroy(void* slot) { std::launder(static_cast<T*>(slot))->~T(); }
};

template <class T>
inline constexpr elemtype elemtype_of{sizeof(T),           &typed_ops<T>::emplace, &typed_ops<T>::put,
                                      &typed_ops<T>::take, &typed_ops<T>::clear,   &typed_ops<T>::destroy};

// The same interface through an elemtype table.
struct erased_ops {
    const elemtype* et;
    std::size_t size() const { return et->size; }
    void emplace(void* dst, void* src) const { et->emplace(dst, src); }
    void put(void* slot, void* src) const { et->put(slot, src); }
    void take(void* dst, void* slot) const { et->take(dst, slot); }
};

struct hchan_base {
    spinlock lock;
    std::atomic<std::uint32_t> closed{0};
    std::atomic<std::size_t> qcount{0};  // values in the buffer
    std::size_t dataqsiz = 0;            // buffer capacity
    std::size_t sendx = 0;               // next slot to fill
    std::size_t recvx = 0;               // next slot to drain
    waitq recvq;                         // blocked receivers
    waitq sendq;                         // blocked senders
    unsigned char* buf = nullptr;
    const elemtype* et = nullptr;
    std::atomic<std::uint32_t> refs{1};  // handles
    std::size_t alloc_align = 0;

    // Go's full(): a send cannot proceed now (fast path, no lock).
    bool full() const {
        if (dataqsiz == 0) return recvq.first.load(std::memory_order_acquire) == nullptr;
        return qcount.load(std::memory_order_acquire) == dataqsiz;
    }
    // Go's empty(): a receive cannot proceed now (fast path, no lock).
    bool empty() const {
        if (dataqsiz == 0) return sendq.first.load(std::memory_order_acquire) == nullptr;
        return qcount.load(std::memory_order_acquire) == 0;
    }
    bool is_closed() const { return closed.load(std::memory_order_acquire) != 0; }

    template <class Ops>
    void* slot(Ops ops, std::size_t i) const {
        return buf + i * ops.size();
    }
    void advance(std::size_t& x) const {
        if (++x == dataqsiz) x = 0;
    }
};

// Allocates an hchan with room for cap values of T after it (Go's makechan).
template <class T>
hchan_base* makechan(std::ptrdiff_t cap) {
    constexpr std::size_t align = alignof(T) > alignof(hchan_base) ? alignof(T) : alignof(hchan_base);
    constexpr std::size_t header = (sizeof(hchan_base) + alignof(T) - 1) / alignof(T) * alignof(T);
    constexpr std::size_t max_mem = std::size_t(1) << 47;
    if (cap < 0 || std::size_t(cap) > (max_mem - header) / sizeof(T)) throw gomp::panic("makechan: size out of range");
    void* mem = ::operator new(header + std::size_t(cap) * sizeof(T), std::align_val_t(align));
    auto* c = ::new (mem) hchan_base();
    c->dataqsiz = std::size_t(cap);
    c->buf = static_cast<unsigned char*>(mem) + header;
    c->et = &elemtype_of<T>;
    c->alloc_align = align;
    return c;
}

// Destroys the values still buffered and frees the channel.
inline void freechan(hchan_base* c) {
    std::size_t n = c->qcount.load(std::memory_order_relaxed);
    for (std::size_t i = 0, x = c->recvx; i < n; i++, c->advance(x)) c->et->destroy(c->buf + x * c->et->size);
    std::size_t align = c->alloc_align;
    c->~hchan_base();
    ::operator delete(static_cast<void*>(c), std::align_val_t(align));
}

// Completes a blocked operation: records how, then wakes its goroutine or
// thread. The sudog belongs to the caller (it dequeued it), so this may run
// after the channel lock is released.
inline void ready(sudog* sg, wake_result r) {
    chan_waiter* w = sg->w;
    sg->result = r;
    w->fired = sg;
    if (g* gp = w->gp) goready(gp);
    else w->wake_note.wakeup();  // w may be gone once this returns
}

// Blocks the caller until ready(); lk (held) is released once a waker may
// find it (after the switch, for a goroutine).
inline void block_on(chan_waiter& w, spinlock& lk, const char* reason) {
    if (w.gp) {
        gopark_unlock(&lk, reason);
    } else {
        lk.unlock();
        w.wake_note.sleep();
    }
}

// A nil channel, or a select with no cases: blocks forever (the deadlock
// check reports the goroutine with this wait reason if nothing else runs).
[[noreturn]] inline void block_forever(const char* reason) {
    m* mp = getm();
    if (mp && mp->pp && mp->curg) {
        gopark(nullptr, nullptr, reason);
        fatal("gomp: a goroutine blocked forever was woken");
    }
    note n;
    for (;;) n.sleep();
}

// Go's send(): hands src to the parked receiver sg (dequeued, c locked);
// unlock() releases the lock(s). On a throwing move the receiver retries.
template <class Ops, class Unlock>
void send_to_receiver(sudog* sg, void* src, Ops ops, Unlock unlock) {
    try {
        ops.emplace(sg->elem, src);
    } catch (...) {
        unlock();
        ready(sg, wake_result::retry);
        throw;
    }
    unlock();
    ready(sg, wake_result::ok);
}

// Go's recv(): takes a value from the parked sender sg (dequeued, c
// locked) into dst: directly when unbuffered, else the buffer's head while
// the sender's value goes to the tail.
template <class Ops, class Unlock>
void recv_from_sender(hchan_base* c, sudog* sg, void* dst, Ops ops, Unlock unlock) {
    if (c->dataqsiz == 0) {
        try {
            ops.emplace(dst, sg->elem);
        } catch (...) {
            unlock();
            ready(sg, wake_result::retry);
            throw;
        }
    } else {
        void* qp = c->slot(ops, c->recvx);
        try {
            ops.take(dst, qp);
        } catch (...) {
            unlock();
            ready(sg, wake_result::retry);
            throw;
        }
        c->advance(c->recvx);
        try {
            ops.put(qp, sg->elem);
        } catch (...) {
            // We have our value; the freed slot stays free (sendx points at
            // it) and the sender sends again itself.
            c->qcount.store(c->qcount.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
            unlock();
            ready(sg, wake_result::retry);
            return;
        }
        c->sendx = c->recvx;  // the buffer is still full
    }
    unlock();
    ready(sg, wake_result::ok);
}

// Buffer operations, c locked and the buffer not full / not empty. Like the
// hand-offs above they end with unlock(), also when the element's move
// throws (the buffer is then unchanged).
template <class Ops, class Unlock>
void buf_send(hchan_base* c, void* src, Ops ops, Unlock unlock) {
    try {
        ops.put(c->slot(ops, c->sendx), src);
    } catch (...) {
        unlock();
        throw;
    }
    c->advance(c->sendx);
    c->qcount.store(c->qcount.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    unlock();
}

template <class Ops, class Unlock>
void buf_recv(hchan_base* c, void* dst, Ops ops, Unlock unlock) {
    try {
        ops.take(dst, c->slot(ops, c->recvx));
    } catch (...) {
        unlock();
        throw;
    }
    c->advance(c->recvx);
    c->qcount.store(c->qcount.load(std::memory_order_relaxed) - 1, std::memory_order_release);
    unlock();
}

// Go's chansend. v is moved from only if the send happens.
template <class T>
chan_status chansend(hchan_base* c, T& v, bool block) {
    if (!c) {
        if (!block) return chan_status::would_block;
        block_forever("chan send (nil chan)");
    }
    // A closed channel cannot become not-ready-for-sending, so "not closed,
    // then full" means both held at the moment of the second load.
    if (!block && !c->is_closed() && c->full()) return chan_status::would_block;

    typed_ops<T> ops;
    auto unlock = [c] { c->lock.unlock(); };
    c->lock.lock();
    for (;;) {
        if (c->closed.load(std::memory_order_relaxed)) {
            c->lock.unlock();
            if (!block) return chan_status::closed;
            throw gomp::panic("send on closed channel");
        }
        if (sudog* sg = c->recvq.dequeue()) {
            send_to_receiver(sg, &v, ops, unlock);
            return chan_status::ok;
        }
        if (c->qcount.load(std::memory_order_relaxed) < c->dataqsiz) {
            buf_send(c, &v, ops, unlock);
            return chan_status::ok;
        }
        if (!block) {
            c->lock.unlock();
            return chan_status::would_block;
        }
        // Park; the receiver that dequeues us moves v and readies us.
        chan_waiter w;
        sudog sg;
        sg.w = &w;
        sg.elem = &v;
        c->sendq.enqueue(&sg);
        block_on(w, c->lock, "chan send");
        switch (sg.result) {
            case wake_result::ok: return chan_status::ok;
            case wake_result::closed: throw gomp::panic("send on closed channel");
            default: c->lock.lock(); continue;  // retry
        }
    }
}

// Go's chanrecv: on ok, dst holds the value; on closed, dst is untouched.
template <class T>
chan_status chanrecv(hchan_base* c, std::optional<T>& dst, bool block) {
    if (!c) {
        if (!block) return chan_status::would_block;
        block_forever("chan receive (nil chan)");
    }
    // Not ready, then not closed: it was not closed when it was not ready
    // (a channel never reopens). Closed: it stays closed, but data sent
    // before the close may have arrived in between, so look again.
    if (!block && c->empty()) {
        if (!c->is_closed()) return chan_status::would_block;
        if (c->empty()) return chan_status::closed;
    }

    typed_ops<T> ops;
    auto unlock = [c] { c->lock.unlock(); };
    c->lock.lock();
    for (;;) {
        if (c->closed.load(std::memory_order_relaxed) && c->qcount.load(std::memory_order_relaxed) == 0) {
            c->lock.unlock();
            return chan_status::closed;
        }
        if (sudog* sg = c->sendq.dequeue()) {
            recv_from_sender(c, sg, &dst, ops, unlock);
            return chan_status::ok;
        }
        if (c->qcount.load(std::memory_order_relaxed) > 0) {
            buf_recv(c, &dst, ops, unlock);
            return chan_status::ok;
        }
        if (!block) {
            c->lock.unlock();
            return chan_status::would_block;
        }
        chan_waiter w;
        sudog sg;
        sg.w = &w;
        sg.elem = &dst;
        c->recvq.enqueue(&sg);
        block_on(w, c->lock, "chan receive");
        switch (sg.result) {
            case wake_result::ok: return chan_status::ok;
            case wake_result::closed: return chan_status::closed;
            default: c->lock.lock(); continue;  // retry
        }
    }
}

// Go's closechan: every blocked receiver gets "closed", every blocked
// sender panics; values already buffered stay to be received.
inline void closechan(hchan_base* c) {
    if (!c) throw gomp::panic("close of nil channel");
    c->lock.lock();
    if (c->closed.load(std::memory_order_relaxed)) {
        c->lock.unlock();
        throw gomp::panic("close of closed channel");
    }
    c->closed.store(1, std::memory_order_release);
    // Collect in queue order, wake after unlocking.
    sudog* head = nullptr;
    sudog** tail = &head;
    for (waitq* q : {&c->recvq, &c->sendq})
        while (sudog* sg = q->dequeue()) {
            *tail = sg;
            tail = &sg->next;
        }
    c->lock.unlock();
    while (head) {
        sudog* next = head->next;  // read before the owner may run and leave
        ready(head, wake_result::closed);
        head = next;
    }
}

struct chan_access;

// The shared part of chan, send_chan and recv_chan: a counted reference to
// an hchan (nullptr: the nil channel) and every operation, each exposed by
// the handle types that allow it.
template <class T>
class chan_ref {
public:
    using value_type = T;

    chan_ref() noexcept = default;
    chan_ref(const chan_ref& o) noexcept : c_(o.c_) {
        if (c_) c_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    chan_ref(chan_ref&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    chan_ref& operator=(const chan_ref& o) noexcept {
        chan_ref(o).swap(*this);
        return *this;
    }
    chan_ref& operator=(chan_ref&& o) noexcept {
        chan_ref(std::move(o)).swap(*this);
        return *this;
    }
    ~chan_ref() {
        if (c_ && c_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) freechan(c_);
    }
    void swap(chan_ref& o) noexcept { std::swap(c_, o.c_); }

    // Values buffered now (Go's len(c)); 0 for nil.
    std::size_t len() const noexcept { return c_ ? c_->qcount.load(std::memory_order_relaxed) : 0; }
    // Buffer capacity (Go's cap(c)); 0 for unbuffered and nil.
    std::size_t cap() const noexcept { return c_ ? c_->dataqsiz : 0; }
    // False for the nil channel.
    explicit operator bool() const noexcept { return c_ != nullptr; }

    friend bool operator==(const chan_ref& a, const chan_ref& b) noexcept { return a.c_ == b.c_; }
    friend bool operator==(const chan_ref& a, std::nullptr_t) noexcept { return a.c_ == nullptr; }

    // Receives values until the channel is closed and drained (Go's range).
    class iterator {
    public:
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        explicit iterator(hchan_base* c) : c_(c) { ++*this; }
        T& operator*() { return *v_; }
        T* operator->() { return &*v_; }
        iterator& operator++() {
            v_.reset();
            chanrecv<T>(c_, v_, true);
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& it, std::default_sentinel_t) { return !it.v_; }

    private:
        hchan_base* c_;
        std::optional<T> v_;
    };

protected:
    explicit chan_ref(hchan_base* c) noexcept : c_(c) {}

    void send(const T& v) const {
        T tmp(v);
        chansend<T>(c_, tmp, true);
    }
    void send(T&& v) const { chansend<T>(c_, v, true); }
    chan_status try_send(const T& v) const {
        if (c_ && !c_->is_closed() && c_->full()) return chan_status::would_block;
        T tmp(v);
        return chansend<T>(c_, tmp, false);
    }
    chan_status try_send(T&& v) const { return chansend<T>(c_, v, false); }
    void close() const { closechan(c_); }

    std::optional<T> recv() const {
        std::optional<T> r;
        chanrecv<T>(c_, r, true);
        return r;
    }
    bool recv(T& out) const {
        std::optional<T> r;
        if (chanrecv<T>(c_, r, true) != chan_status::ok) return false;
        out = std::move(*r);
        return true;
    }
    chan_status try_recv(std::optional<T>& out) const {
        out.reset();
        return chanrecv<T>(c_, out, false);
    }
    chan_status try_recv(T& out) const {
        std::optional<T> r;
        chan_status s = chanrecv<T>(c_, r, false);
        if (s == chan_status::ok) out = std::move(*r);
        return s;
    }
    iterator begin() const { return iterator(c_); }
    std::default_sentinel_t end() const noexcept { return {}; }

    hchan_base* c_ = nullptr;
    friend struct chan_access;
};

// Lets select reach the hchan behind any handle.
struct chan_access {
    template <class T>
    static hchan_base* get(const chan_ref<T>& c) noexcept {
        return c.c_;
    }
};

}  // namespace detail

template <class T>
class chan;
template <class T>
chan<T> make_chan(std::ptrdiff_t cap = 0);

// Go's `chan T`: a reference-counted handle to a channel. Copies refer to the
// same channel; a default-constructed handle is the nil channel (sends and
// receives block forever, close panics). Make one with make_chan<T>(cap):
// cap 0 is unbuffered (each send waits for its receiver), cap n buffers n.
//
//     auto c = gomp::make_chan<int>();          // c := make(chan int)
//     gomp::go([c] { c.send(42); c.close(); });  // c <- 42; close(c)
//     std::optional<int> v = c.recv();          // v, ok := <-c  (nullopt: closed)
//     for (int x : c) use(x);                   // for x := range c
//
// How it differs from a std queue: it is a synchronization point (an
// unbuffered send completes only with a receiver), close() ends the stream
// for every receiver, and blocked callers park their goroutine, not the
// thread (plain threads may use it too; they sleep on a futex). Move-only
// and non-default-constructible T work. The element type must be an object
// type (use an empty struct for Go's chan struct{}).
template <class T>
class chan : public detail::chan_ref<T> {
    using base = detail::chan_ref<T>;

public:
    chan() noexcept = default;

    // Go's c <- v: blocks until a receiver takes v or the buffer has room.
    // Panics "send on closed channel". Exception guarantee: see above.
    using base::send;
    // Non-blocking send: ok, would_block (v untouched) or closed (v untouched).
    using base::try_send;
    // Go's close(c): panics "close of closed channel" / "close of nil channel".
    using base::close;
    // Go's v, ok := <-c: the value, or nullopt once closed and drained.
    // recv(out): the same, assigning out; returns false when closed.
    using base::recv;
    // Non-blocking receive: ok (value in out), would_block or closed.
    using base::try_recv;
    using base::begin;
    using base::end;

private:
    explicit chan(detail::hchan_base* c) noexcept : base(c) {}
    friend chan make_chan<T>(std::ptrdiff_t);
};

// Go's make(chan T, cap): a new channel buffering cap values (0: unbuffered).
// Panics "makechan: size out of range" for a negative or huge cap.
//
//     auto jobs = gomp::make_chan<job>(100);
template <class T>
chan<T> make_chan(std::ptrdiff_t cap) {
    static_assert(std::is_object_v<T> && !std::is_array_v<T> && std::is_destructible_v<T>,
                  "gomp::chan<T>: T must be a complete object type (use an empty struct for chan struct{})");
    static_assert(std::is_move_constructible_v<T>, "gomp::chan<T>: T must be move-constructible");
    return chan<T>(detail::makechan<T>(cap));
}

// Go's `chan<- T`: the send-only view of a channel. Converts implicitly from
// chan<T>; receiving through it does not compile.
//
//     void produce(gomp::send_chan<int> out) { out.send(1); out.close(); }
//     produce(c);
template <class T>
class send_chan : public detail::chan_ref<T> {
    using base = detail::chan_ref<T>;

public:
    send_chan() noexcept = default;
    send_chan(const chan<T>& c) noexcept : base(c) {}  // NOLINT: implicit, as in Go
    send_chan(chan<T>&& c) noexcept : base(std::move(c)) {}

    using base::close;
    using base::send;
    using base::try_send;
};

// Go's `<-chan T`: the receive-only view of a channel. Converts implicitly
// from chan<T>; sending or closing through it does not compile.
//
//     void consume(gomp::recv_chan<int> in) { for (int v : in) use(v); }
template <class T>
class recv_chan : public detail::chan_ref<T> {
    using base = detail::chan_ref<T>;

public:
    recv_chan() noexcept = default;
    recv_chan(const chan<T>& c) noexcept : base(c) {}  // NOLINT: implicit, as in Go
    recv_chan(chan<T>&& c) noexcept : base(std::move(c)) {}

    using base::begin;
    using base::end;
    using base::recv;
    using base::try_recv;
};

}  // namespace gomp
