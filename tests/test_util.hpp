// Helpers shared by the test files.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GOMP_TEST_SANITIZED 1
#else
#define GOMP_TEST_SANITIZED 0
#endif
#if defined(__SANITIZE_THREAD__)
#define GOMP_TEST_TSAN 1
#else
#define GOMP_TEST_TSAN 0
#endif

namespace gomp_test {

// Scales a test size down under sanitizers, which are 5-20x slower.
constexpr long scaled(long release, long sanitized) { return GOMP_TEST_SANITIZED ? sanitized : release; }

struct child_result {
    int exit_code = -1;  // -1 if killed by a signal
    int signal = 0;
    std::string err;     // everything written to stderr
};

// Runs fn in a forked child with stderr captured; fn's return is the exit code.
template <class F>
child_result run_in_child(F fn) {
    int fds[2];
    if (pipe(fds) != 0) std::abort();
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        // The child's stdout would interleave with the test runner's report.
        if (FILE* devnull = std::freopen("/dev/null", "w", stdout)) (void)devnull;
        int code = fn();
        std::fflush(nullptr);
        _exit(code);
    }
    close(fds[1]);
    child_result r;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) r.err.append(buf, size_t(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    return r;
}

}  // namespace gomp_test
