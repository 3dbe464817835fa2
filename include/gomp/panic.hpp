// gomp/panic.hpp: Go's panic and fatal error, in C++ terms.
//
// Go has two kinds of failure and gomp keeps both:
//
//  * panic: a recoverable error with a message ("send on closed channel",
//    "runtime error: index out of range [5] with length 3"). gomp throws
//    gomp::panic, an exception; Go's recover() is `catch (const gomp::panic&)`.
//    A panic (or any C++ exception) that escapes a goroutine ends the process
//    the way Go does: "panic: <message>", "goroutine N [running]:", exit 2.
//    One that escapes the main goroutine is rethrown from gomp::run.
//
//  * fatal error: the runtime found its own invariants broken (concurrent map
//    writes, a deadlock). Go cannot recover from it and neither can gomp:
//    gomp::fatal prints "fatal error: <message>", a goroutine dump when a
//    runtime is running, and exits with status 2.
//
// Example:
//
//     try {
//         gomp::chan<int> c; c.close();             // close of nil channel
//     } catch (const gomp::panic& p) {
//         std::puts(p.what());                       // "close of nil channel"
//     }
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>

namespace gomp {

// The exception Go's panic becomes. what() is Go's message, without the
// "panic: " prefix that the crash report adds.
class panic : public std::runtime_error {
public:
    explicit panic(const std::string& msg) : std::runtime_error(msg) {}
    explicit panic(const char* msg) : std::runtime_error(msg) {}
};

// Go's runtime.Error: a panic raised by the runtime itself (bounds, nil
// dereference, uncomparable types). what() starts with "runtime error: ".
class runtime_error : public panic {
public:
    explicit runtime_error(std::string_view msg) : panic("runtime error: " + std::string(msg)) {}
};

namespace detail {
// Set by the scheduler while gomp::run is active so that a fatal error can
// print every goroutine (Go's "goroutine N [wait reason]:" dump).
inline void (*fatal_dump_hook)(int fd) = nullptr;

// Writes all of s to fd; used where stdio may be unsafe (signal handlers).
inline void write_all_fd(int fd, std::string_view s) noexcept {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n <= 0) return;
        s.remove_prefix(static_cast<size_t>(n));
    }
}
}  // namespace detail

// Go's runtime.fatal / throw: prints "fatal error: <msg>" and the goroutine
// dump to stderr and exits with status 2. Never returns, never unwinds.
[[noreturn]] inline void fatal(std::string_view msg) noexcept {
    std::fflush(stdout);
    std::string line = "fatal error: " + std::string(msg) + "\n";
    detail::write_all_fd(2, line);
    if (detail::fatal_dump_hook) {
        detail::write_all_fd(2, "\n");
        detail::fatal_dump_hook(2);
    }
    ::_exit(2);
}

}  // namespace gomp
