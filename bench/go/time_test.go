package gompbench

// Go twins of the timer cases in bench/time_bench.cpp. The shared contract:
//
//   case         procs  workload                                    per-op figure
//   timer_churn  1, 2   GOMAXPROCS goroutines together start and     ns_per_op = elapsed
//                       stop 1M timers (time.AfterFunc(time.Hour,   / (b.N * 1M): one
//                       f) then Stop, which must return true)        start + stop
//   sleep_wake   1, 2   10k goroutines start together, each sleeps   ns_per_op = mean
//                       1 ms once and measures how long it slept     overshoot per wake
//                       (monotonic clock); the overshoot beyond the  (slept - 1 ms), ns
//                       1 ms is averaged over all wakes of all b.N
//                       rounds

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const timerChurnCount = 1_000_000

func Benchmark_timer_churn(b *testing.B) {
	workers := runtime.GOMAXPROCS(0)
	f := func() {}
	var bad atomic.Int64
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			n := timerChurnCount / workers
			if w == 0 {
				n += timerChurnCount % workers
			}
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				for k := 0; k < n; k++ {
					t := time.AfterFunc(time.Hour, f)
					if !t.Stop() {
						bad.Add(1)
					}
				}
			}(n)
		}
		wg.Wait()
	}
	if bad.Load() != 0 {
		b.Fatalf("%d stops returned false", bad.Load())
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*timerChurnCount), "ns_per_op")
}

const sleepWakeCount = 10_000

func Benchmark_sleep_wake(b *testing.B) {
	var over atomic.Int64
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		wg.Add(sleepWakeCount)
		for k := 0; k < sleepWakeCount; k++ {
			go func() {
				defer wg.Done()
				start := time.Now()
				time.Sleep(time.Millisecond)
				over.Add(int64(time.Since(start) - time.Millisecond))
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(over.Load())/(float64(b.N)*sleepWakeCount), "ns_per_op")
}
