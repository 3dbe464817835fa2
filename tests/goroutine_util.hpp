// Helpers shared by the tests of goroutines and channels.
#pragma once

#include <gomp/gomp.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace gomp_test {

// The message of the gomp::panic that f() throws, or "(no panic)".
template <class F>
std::string panic_message(F f) {
    try {
        f();
    } catch (const gomp::panic& p) {
        return p.what();
    }
    return "(no panic)";
}

// Waits until only `keep` goroutines besides the caller are left, closures
// destroyed: a goroutine still holding a channel handle when main returns is
// abandoned with it (as in Go), which LeakSanitizer would report. Yields
// first: at procs 1 the goroutines left are runnable on the caller's own P.
inline void join_goroutines(int keep = 0) {
    for (int i = 1; gomp::num_goroutine() > 1 + keep; i++) {
        gomp::yield();
        if (i % 64 == 0) gomp::blocking([] { std::this_thread::sleep_for(std::chrono::microseconds(50)); });
    }
}

// gomp::run(f) that returns only once every goroutine f started has ended.
template <class F>
void run_joined(F f, gomp::config cfg = {}) {
    gomp::run(
        [&] {
            f();
            join_goroutines();
        },
        cfg);
}
template <class F>
void run_joined(F f, int procs) {
    run_joined(std::move(f), gomp::config{.procs = procs});
}

// Sleeps without holding the P (the test's timelines, never its assertions).
inline void sleep_ms(int ms) {
    gomp::blocking([ms] { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); });
}

}  // namespace gomp_test
