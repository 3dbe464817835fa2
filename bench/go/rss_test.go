package gompbench

// Resident-set-size probes shared by the Go twins. Both read
// /proc/self/status (Linux), the same source the C++ side's figures come
// from: VmHWM is the kernel's peak RSS (what getrusage's ru_maxrss reports),
// VmRSS the current one. Values are KiB; -1 where /proc is missing.

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// procStatusKiB returns the "<field>:   1234 kB" value of /proc/self/status.
func procStatusKiB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	prefix := field + ":"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fields := strings.Fields(line[len(prefix):])
		if len(fields) == 0 {
			return -1
		}
		v, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return -1
		}
		return v
	}
	return -1
}

// peakRSSKiB is the process's peak resident set (VmHWM) in KiB.
func peakRSSKiB() int64 { return procStatusKiB("VmHWM") }

// rssKiB is the process's current resident set (VmRSS) in KiB.
func rssKiB() int64 { return procStatusKiB("VmRSS") }

// reportPeakRSS adds the peak_rss_kib metric the driver puts in the RSS
// table; call it at the end of a benchmark. Nothing is reported without /proc.
func reportPeakRSS(b *testing.B) {
	if kib := peakRSSKiB(); kib >= 0 {
		b.ReportMetric(float64(kib), "peak_rss_kib")
	}
}
