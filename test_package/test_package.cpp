// A hundred goroutines send 1..100 down a channel; main sums them and
// counts them in a Go map.
#include <gomp/gomp.hpp>

#include <cstdio>

int main() {
    long sum = 0;
    std::size_t keys = 0;
    gomp::run([&] {
        auto c = gomp::make_chan<int>(10);
        for (int i = 1; i <= 100; i++) gomp::go([c, i] { c.send(i); });
        gomp::map<int, bool> seen;
        for (int i = 0; i < 100; i++) {
            int v = 0;
            c.recv(v);
            sum += v;
            seen[v] = true;
        }
        keys = seen.size();
    });
    std::printf("gomp %s: sum %ld, map %zu keys\n", GOMP_VERSION, sum, keys);
    return sum == 5050 && keys == 100 ? 0 : 1;
}
