// Compile-only check of the kqueue backend on Linux, against the stand-in
// <sys/event.h> in tests/kqueue_stub (not linked, never run): every poller
// member is instantiated so that a type error in poller_kqueue.hpp fails CI.
#include <gomp/poller.hpp>

static_assert(gomp::poller::backend_name()[0] == 'k', "kqueue_check must build the kqueue backend");

std::size_t gomp_kqueue_check(int fd) {
    gomp::poller pl(gomp::trigger::edge);
    pl.add(fd, gomp::interest::read);
    pl.modify(fd, gomp::interest::read_write, 7);
    std::vector<gomp::poll_event> ready;
    std::size_t n = pl.wait(ready, std::chrono::milliseconds(5));
    pl.wake();
    n += std::size_t(pl.wait_each(0, [](const gomp::poll_event& ev) { (void)ev.fd(); }));
    pl.remove(fd);
    return n + std::size_t(pl.native_handle());
}
