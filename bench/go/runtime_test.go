package gompbench

// Go twins of the runtime cases in bench/runtime_bench.cpp. The C++ side
// mirrors every workload and size below; the driver (bench/compare) runs
// each case in its own process with -test.cpu set to the procs in the C++
// names. The shared contract, case by case:
//
//   case       procs  workload                                     per-op figure
//   switch     1      two goroutines yield (runtime.Gosched) to    Go's ns/op: one op
//                     each other; b.N yields in all, b.N/2 by one,  = one yield, i.e.
//                     the rest by the other                         one switch
//   spawn      1, 2   wg.Add(1M) once, then spawn 1M empty          ns_per_op = elapsed
//                     goroutines that each call wg.Done; wg.Wait    / (b.N * 1M)
//   skynet     1, 2   atemerev/skynet exactly: 10-ary tree of       ns_per_op = elapsed
//                     goroutines, 1M leaves, each leaf sends its    / (b.N * 1M);
//                     number on its parent's unbuffered channel;    peak_rss_kib
//                     the sum must be 499999500000
//   skynet_wg  1, 2   the same tree; each node has its own          as skynet
//                     WaitGroup and atomic sum: a child adds its
//                     sum to its parent's atomically, then Done()s
//   park_rss   1      100k goroutines parked on one channel that    ns_per_op = -1 (no
//                     is closed only to release them; VmRSS after   time);
//                     runtime.GC() and before spawning, VmRSS once   bytes_per_goroutine
//                     all have started and parked (a "started"      = (after - before)
//                     WaitGroup, then a 10 ms settle); measured     * 1024 / 100k;
//                     once, in the process's first run (a fresh     peak_rss_kib
//                     heap: later runs reuse the dead Gs' memory)

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// switch: b.N switches between two goroutines on one P. Each Gosched puts
// the caller on the global run queue and runs the other goroutine, so every
// call is one goroutine switch. Meant for -cpu 1: with more Ps the two run
// side by side and Gosched mostly returns without switching.
func Benchmark_switch(b *testing.B) {
	first := b.N / 2
	second := b.N - first
	var wg sync.WaitGroup
	wg.Add(2)
	yielder := func(n int) {
		defer wg.Done()
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
	}
	b.ResetTimer()
	go yielder(first)
	go yielder(second)
	wg.Wait()
}

const spawnCount = 1_000_000

// spawn: start and join 1M goroutines that do nothing but signal the join.
func Benchmark_spawn(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		wg.Add(spawnCount)
		for j := 0; j < spawnCount; j++ {
			go wg.Done()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*spawnCount), "ns_per_op")
}

const (
	skynetLeaves = 1_000_000
	skynetDiv    = 10
	skynetSum    = 499999500000 // 0 + 1 + ... + 999999
)

// skynet is the original (atemerev/skynet, go/skynet.go): a node of size > 1
// spawns div children on one unbuffered channel and sends their sum up.
func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sum := 0
	for i := 0; i < div; i++ {
		subNum := num + i*(size/div)
		go skynet(rc, subNum, size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func Benchmark_skynet(b *testing.B) {
	for i := 0; i < b.N; i++ {
		c := make(chan int)
		go skynet(c, 0, skynetLeaves, skynetDiv)
		if got := <-c; got != skynetSum {
			b.Fatalf("skynet sum = %d, want %d", got, skynetSum)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*skynetLeaves), "ns_per_op")
	reportPeakRSS(b)
}

// skynetWG is skynet with the channel replaced by a WaitGroup and an atomic
// sum per node: the same tree and the same waits, another primitive.
func skynetWG(parent *sync.WaitGroup, parentSum *atomic.Int64, num, size, div int) {
	defer parent.Done()
	if size == 1 {
		parentSum.Add(int64(num))
		return
	}
	var wg sync.WaitGroup
	var sum atomic.Int64
	wg.Add(div)
	for i := 0; i < div; i++ {
		subNum := num + i*(size/div)
		go skynetWG(&wg, &sum, subNum, size/div, div)
	}
	wg.Wait()
	parentSum.Add(sum.Load())
}

func Benchmark_skynet_wg(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		var sum atomic.Int64
		wg.Add(1)
		go skynetWG(&wg, &sum, 0, skynetLeaves, skynetDiv)
		wg.Wait()
		if got := sum.Load(); got != skynetSum {
			b.Fatalf("skynet_wg sum = %d, want %d", got, skynetSum)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*skynetLeaves), "ns_per_op")
	reportPeakRSS(b)
}

const parkCount = 100_000

// parkBytesPerG holds the first run's measurement (0: not measured yet).
var parkBytesPerG float64

// parkAll parks parkCount goroutines on one channel and returns the growth
// of the resident set, in KiB, once all of them have started; then it
// releases and joins them.
func parkAll(b *testing.B) int64 {
	runtime.GC()
	before := rssKiB()
	if before < 0 {
		b.Fatal("park_rss needs /proc/self/status (VmRSS)")
	}
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(parkCount)
	done.Add(parkCount)
	for i := 0; i < parkCount; i++ {
		go func() {
			started.Done()
			<-release
			done.Done()
		}()
	}
	started.Wait()
	// The last goroutines to call started.Done are about to block on
	// release; let them get there before reading the resident set.
	runtime.Gosched()
	time.Sleep(10 * time.Millisecond)
	after := rssKiB()
	close(release)
	done.Wait()
	return after - before
}

// goroutinesCreated is how many goroutines this process has started so far,
// or -1 where the runtime does not say (the metric is new in Go 1.26).
func goroutinesCreated() int64 {
	sample := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return -1
	}
	return int64(sample[0].Value.Uint64())
}

func Benchmark_park_rss(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if parkBytesPerG == 0 {
			// Dead goroutines keep their G and may keep their stack: after
			// earlier goroutine-heavy benchmarks the growth undercounts.
			if n := goroutinesCreated(); n > parkCount/10 {
				b.Logf("warning: %d goroutines ran before this case in this process; "+
					"bytes_per_goroutine undercounts (run park_rss alone, as bench/compare does)", n)
			}
			parkBytesPerG = float64(parkAll(b)) * 1024 / parkCount
		} else {
			parkAll(b)
		}
	}
	b.ReportMetric(parkBytesPerG, "bytes_per_goroutine")
	b.ReportMetric(-1, "ns_per_op")
	reportPeakRSS(b)
}
