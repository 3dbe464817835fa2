// An echo server, one goroutine per connection, on gomp::net: plain
// blocking-style code; netpoll turns it into an event loop underneath.
//
//   echo_server [port]        serve on 127.0.0.1:port (default 7001) until killed
//   echo_server --self-test   serve on a free port while 100 client goroutines
//                             check their echoes, then exit 0
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <gomp/gomp.hpp>
#include <gomp/net.hpp>
#include <gomp/time.hpp>

namespace {

void handle(gomp::net::conn c) {
    char buf[16384];
    try {
        while (std::size_t n = c.read(buf, sizeof buf)) c.write(buf, n);
    } catch (const std::system_error& e) {
        std::fprintf(stderr, "echo_server: %s\n", e.what());  // e.g. "read tcp ...: connection reset by peer"
    }
    c.close();
}

// Accepts until ln is closed; every goroutine started is counted in wg.
void serve(gomp::net::listener ln, gomp::wait_group& wg) {
    for (;;) {
        gomp::net::conn c;
        try {
            c = ln.accept();
        } catch (const std::system_error& e) {
            if (gomp::net::is_closed(e)) return;
            // EMFILE and the like: report, back off a little (as Go's
            // net/http does), and keep serving.
            std::fprintf(stderr, "echo_server: %s\n", e.what());
            gomp::sleep(std::chrono::milliseconds(5));
            continue;
        }
        wg.add(1);
        gomp::go(
            [&wg](gomp::net::conn c) {
                handle(std::move(c));
                wg.done();
            },
            std::move(c));
    }
}

int self_test() {
    int failures = 0;
    gomp::run([&] {
        auto ln = gomp::net::listen("tcp", "127.0.0.1:0");
        gomp::wait_group server;
        server.add(1);
        gomp::go(
            [&server](gomp::net::listener l) {
                serve(std::move(l), server);
                server.done();
            },
            ln);
        gomp::wait_group wg;
        std::atomic<int> bad{0};
        for (int i = 0; i < 100; i++) {
            wg.add(1);
            gomp::go([&, i] {
                auto c = gomp::net::dial("tcp", ln.addr());
                for (int r = 0; r < 50; r++) {
                    std::string msg = "client " + std::to_string(i) + " message " + std::to_string(r);
                    c.write_all(msg);
                    std::string back(msg.size(), '\0');
                    if (c.read_full(back.data(), back.size()) != msg.size() || back != msg) bad++;
                }
                c.close();
                wg.done();
            });
        }
        wg.wait();
        ln.close();
        server.wait();  // no goroutine is left holding a socket
        failures = bad.load();
    });
    std::printf("echo_server self-test: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--self-test") == 0) return self_test();
    std::string addr = "127.0.0.1:" + std::string(argc > 1 ? argv[1] : "7001");
    gomp::run([&] {
        auto ln = gomp::net::listen("tcp", addr);
        std::printf("echo_server: listening on %s\n", ln.addr().c_str());
        std::fflush(stdout);
        gomp::wait_group wg;
        serve(ln, wg);
    });
}
