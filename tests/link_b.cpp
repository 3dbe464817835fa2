// The other of two translation units that include gomp (see runtime_test.cpp).
#include <gomp/gomp.hpp>

#include <atomic>

int link_b_sum(int n) {
    std::atomic<int> sum{0};
    gomp::run([&] {
        gomp::wait_group wg;
        wg.add(n);
        for (int i = 0; i < n; i++) gomp::go([&, i] { sum += i; wg.done(); });
        wg.wait();
    });
    return sum;
}
