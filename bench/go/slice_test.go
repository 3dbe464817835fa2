package gompbench

// Go twin of the slice case in bench/slice_bench.cpp. The contract:
//
//   case    procs  workload                                   per-op figure
//   append  1      append 1,000,000 ints, one at a time, to   ns_per_op = elapsed /
//                  a nil slice; keep the result (a global     (b.N * 1M): ns per
//                  sink, so the slice lives on the heap)      element

import "testing"

const nAppend = 1000000

var sinkInts []int

func Benchmark_append(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var s []int
		for j := 0; j < nAppend; j++ {
			s = append(s, j)
		}
		sinkInts = s
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/nAppend, "ns_per_op")
}
