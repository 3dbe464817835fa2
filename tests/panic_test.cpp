#include <gomp/panic.hpp>

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <string>

TEST_CASE("panic carries Go's message and is a std::exception") {
    try {
        throw gomp::panic("send on closed channel");
    } catch (const std::exception& e) {
        CHECK(std::string(e.what()) == "send on closed channel");
    }
    try {
        throw gomp::runtime_error("index out of range [5] with length 3");
    } catch (const gomp::panic& e) {
        CHECK(std::string(e.what()) == "runtime error: index out of range [5] with length 3");
    }
}

TEST_CASE("fatal prints Go's fatal error line and exits with status 2") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        gomp::fatal("concurrent map writes");
    }
    close(fds[1]);
    std::string out;
    char buf[256];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK(out == "fatal error: concurrent map writes\n");
}
