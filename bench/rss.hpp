// bench/rss.hpp: memory figures of the benchmark process, read as the Go
// twins read them (bench/go/rss_test.go), so the two sides compare.
#pragma once

#include <cstdio>
#include <string_view>

namespace gomp_bench {

// A field of /proc/self/status in KiB ("VmHWM" peak, "VmRSS" now); -1 if absent.
// Not getrusage's ru_maxrss for the peak: that survives exec, so it starts at
// the peak of whatever forked us (bench/compare's Python, some 18 MB).
inline long status_kib(const char* field) {
    std::FILE* f = std::fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256], name[64];
    long kib = -1, v = 0;
    while (std::fgets(line, sizeof line, f))
        if (std::sscanf(line, "%63[^:]: %ld kB", name, &v) == 2 && std::string_view(name) == field) {
            kib = v;
            break;
        }
    std::fclose(f);
    return kib;
}

inline long peak_rss_kib() { return status_kib("VmHWM"); }

}  // namespace gomp_bench
