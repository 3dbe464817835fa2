// Echo cases: echo_c1, echo_c100, echo_c1000, echo_stream. Their Go twins
// are in bench/go/net_test.go. Both sides serve the same way (one goroutine
// per connection reading into a 4 KiB buffer and writing back what it read)
// and are driven by the same load generator, bench/echo_client.cpp, run as a
// subprocess: so this process is essentially the server, and its peak RSS
// is the server's.
//
//   case         client (echo_client)                        per-op figure
//   echo_c<N>    N connections, one 64-byte message in        ns_per_op = wall time /
//                flight on each (request/response), 2 s      round trips (all conns)
//   echo_stream  1 connection, 16 messages of 4 KiB in        ns_per_op = wall time /
//                flight (streamed and echoed), 2 s           messages echoed
//
// Counters: ns_per_op, rps (round trips or messages per second), peak_rss_kib.
// procs is the server's GOMAXPROCS; the client is one thread whatever it is.
#include <benchmark/benchmark.h>
#include <gomp/gomp.hpp>
#include <gomp/net.hpp>

#include "rss.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

extern char** environ;

namespace {

constexpr int echo_duration_ms = 2000;

// The client: $GOMP_ECHO_CLIENT, else echo_client beside this executable
// (both are built into <build>/bench/).
std::string client_path() {
    if (const char* p = std::getenv("GOMP_ECHO_CLIENT"); p && *p) return p;
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    return (self.parent_path() / "echo_client").string();
}

using gomp_bench::peak_rss_kib;  // VmHWM, as the Go twin reads it

struct client_result {
    long round_trips = 0;
    long long ns = 0;
    std::string error;
};

// Runs echo_client to completion (a plain thread's blocking calls: the
// caller wraps it in gomp::blocking) and parses its one line.
client_result run_client(const std::string& addr, int conns, int msg, int window) {
    client_result r;
    std::string path = client_path();
    if (::access(path.c_str(), X_OK) != 0) {
        r.error = "echo_client not found at " + path + " (build bench/echo_client or set GOMP_ECHO_CLIENT)";
        return r;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        r.error = "pipe2 failed";
        return r;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    std::string args[] = {path, addr, std::to_string(conns), std::to_string(msg), std::to_string(window),
                          std::to_string(echo_duration_ms)};
    char* argv[] = {args[0].data(), args[1].data(), args[2].data(), args[3].data(), args[4].data(), args[5].data(),
                    nullptr};
    pid_t pid;
    int rc = posix_spawn(&pid, path.c_str(), &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    std::string out;
    if (rc == 0) {
        char buf[256];
        for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
            if (n > 0) out.append(buf, std::size_t(n));
    }
    ::close(fds[0]);
    if (rc != 0) {
        r.error = "cannot start " + path;
        return r;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        std::sscanf(out.c_str(), "round_trips=%ld ns=%lld", &r.round_trips, &r.ns) != 2)
        r.error = "echo_client failed (see its stderr): " + out;
    return r;
}

// One connection's server goroutine: echo until the client closes.
void echo(gomp::net::conn c) {
    char buf[4096];
    try {
        while (std::size_t n = c.read(buf, sizeof buf)) c.write(buf, n);
    } catch (const std::system_error&) {
        // a reset at the end of the run; nothing to echo any more
    }
    c.close();
}

void BM_echo(benchmark::State& state, int conns, int msg, int window) {
    rlimit rl{};  // echo_c1000 holds 1000 server sockets (and the client 1000 more)
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
    long round_trips = 0;
    long long ns = 0;
    std::string error;
    gomp::run(
        [&] {
            auto ln = gomp::net::listen("tcp", "127.0.0.1:0");
            gomp::wait_group wg;  // the accept loop and every connection's goroutine
            wg.add(1);
            gomp::go([&wg, ln]() mutable {
                for (;;) {
                    gomp::net::conn c;
                    try {
                        c = ln.accept();
                    } catch (const std::system_error&) {
                        break;  // closed at the end of the run
                    }
                    wg.add(1);
                    gomp::go([&wg, c]() mutable {
                        echo(std::move(c));
                        wg.done();
                    });
                }
                wg.done();
            });
            for (auto _ : state) {
                client_result r = gomp::blocking([&] { return run_client(ln.addr(), conns, msg, window); });
                if (!r.error.empty()) {
                    error = r.error;
                    break;
                }
                round_trips += r.round_trips;
                ns += r.ns;
            }
            ln.close();
            wg.wait();
        },
        {.procs = int(state.range(0))});
    if (!error.empty()) {
        state.SkipWithError(error.c_str());
        return;
    }
    state.counters["ns_per_op"] = double(ns) / double(round_trips);
    state.counters["rps"] = double(round_trips) * 1e9 / double(ns);
    state.counters["peak_rss_kib"] = double(peak_rss_kib());
}

}  // namespace

BENCHMARK_CAPTURE(BM_echo, c1, 1, 64, 1)->Name("echo_c1/gomp")->ArgName("procs")->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_echo, c100, 100, 64, 1)->Name("echo_c100/gomp")->ArgName("procs")->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_echo, c1000, 1000, 64, 1)->Name("echo_c1000/gomp")->ArgName("procs")->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();
BENCHMARK_CAPTURE(BM_echo, stream, 1, 4096, 16)->Name("echo_stream/gomp")->ArgName("procs")->Arg(1)->Arg(2)->Iterations(1)->UseRealTime();

BENCHMARK_MAIN();
