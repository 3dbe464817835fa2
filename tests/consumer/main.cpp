// A program that uses an installed (or subproject) gomp the way a user's
// would: goroutines feeding a channel, a select with a default, a Go map.
// Prints one line the consumer test compares.
#include <gomp/gomp.hpp>

#include <cstdio>

int main() {
    int sum = 0, words = 0;
    bool defaulted = false;
    gomp::run([&] {
        auto c = gomp::make_chan<int>();
        gomp::wait_group wg;
        for (int i = 1; i <= 10; i++) {
            wg.add(1);
            gomp::go([c, &wg, i] { c.send(i); wg.done(); });
        }
        gomp::go([c, &wg] { wg.wait(); c.close(); });
        for (int v : c) sum += v;                        // for v := range c
        gomp::select(gomp::recv(gomp::make_chan<int>()),  // nothing to receive
                     gomp::otherwise([&] { defaulted = true; }));
        gomp::map<std::string, int> count;
        for (const char* w : {"go", "gomp", "go"}) count[w]++;
        words = count.get("go");
    });
    std::printf("gomp %s consumer: sum %d, select default %d, go x%d\n", GOMP_VERSION, sum, defaulted, words);
    return sum == 55 && defaulted && words == 2 ? 0 : 1;
}
