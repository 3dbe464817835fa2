package gompbench

// Go twins of the channel and select cases in bench/chan_bench.cpp. The C++
// side mirrors every workload and size below; every case runs with procs 1
// and 2 (-test.cpu). Each case checks what it received (a sum or a count)
// and fails on a mismatch, so both sides provably do the same work.
//
//   case     workload                                          per-op figure (ns_per_op)
//   pingpong two goroutines, two unbuffered channels: main      one round trip
//            sends i on ping, the echo goroutine sends i+1
//            back on pong
//   buffered capacity 1024, one producer sends 0..n-1 and        one message
//            closes, the consumer (main) ranges and sums
//   mpmc     capacity 64, 4 producers each send n/4 values,      one message
//            4 consumers range and sum; the channel is closed
//            once every producer is done
//   select2  two unbuffered channels, each fed by its own        one received message
//            sender (n/2 values each); main selects over both
//   fanin8   eight unbuffered channels, eight senders (n/8       one received message
//            each); main selects over all eight (one select
//            statement with eight cases)
//   sieve    Go's test/chan/sieve1.go, primes up to 20000:       one run (2262 primes)
//            a generator sends 2..20000 on an unbuffered
//            channel, each prime found starts a filter
//            goroutine; here the generator closes its channel
//            at the end and each filter closes its output when
//            its input is closed, so a run leaves no goroutine
//   ring     1000 goroutines in a ring of unbuffered channels;   one hop (one channel
//            a token carrying the hops left goes round; the      transfer)
//            node that receives the last hop reports its index
//   skynet   in runtime_test.go (Benchmark_skynet)               one leaf

import (
	"sync"
	"testing"
)

// reportNsPer sets ns_per_op = elapsed / ops, ops counted over all of b.N.
func reportNsPer(b *testing.B, ops int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops), "ns_per_op")
}

func Benchmark_pingpong(b *testing.B) {
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	sum := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ping <- i
		sum += <-pong - i
	}
	b.StopTimer()
	close(ping)
	if sum != b.N {
		b.Fatalf("pingpong: %d answers, want %d", sum, b.N)
	}
	reportNsPer(b, b.N)
}

func Benchmark_buffered(b *testing.B) {
	n := b.N
	c := make(chan int, 1024)
	go func() {
		for i := 0; i < n; i++ {
			c <- i
		}
		close(c)
	}()
	sum := 0
	for v := range c {
		sum += v
	}
	if want := n * (n - 1) / 2; sum != want {
		b.Fatalf("buffered: sum %d, want %d", sum, want)
	}
	reportNsPer(b, n)
}

func Benchmark_mpmc(b *testing.B) {
	const producers, consumers = 4, 4
	per := (b.N + producers - 1) / producers
	n := per * producers
	c := make(chan int, 64)
	var pwg, cwg sync.WaitGroup
	sums := make([]int, consumers*8) // one cache line apart
	pwg.Add(producers)
	cwg.Add(consumers)
	for p := 0; p < producers; p++ {
		go func(p int) {
			defer pwg.Done()
			for i := p * per; i < (p+1)*per; i++ {
				c <- i
			}
		}(p)
	}
	for k := 0; k < consumers; k++ {
		go func(k int) {
			defer cwg.Done()
			s := 0
			for v := range c {
				s += v
			}
			sums[k*8] = s
		}(k)
	}
	pwg.Wait()
	close(c)
	cwg.Wait()
	sum := 0
	for k := 0; k < consumers; k++ {
		sum += sums[k*8]
	}
	if want := n * (n - 1) / 2; sum != want {
		b.Fatalf("mpmc: sum %d, want %d", sum, want)
	}
	reportNsPer(b, n)
}

// feed sends base, base+1, ..., base+count-1 on c.
func feed(c chan<- int, base, count int) {
	for i := base; i < base+count; i++ {
		c <- i
	}
}

func Benchmark_select2(b *testing.B) {
	per := (b.N + 1) / 2
	n := per * 2
	c0 := make(chan int)
	c1 := make(chan int)
	go feed(c0, 0, per)
	go feed(c1, per, per)
	sum := 0
	for i := 0; i < n; i++ {
		select {
		case v := <-c0:
			sum += v
		case v := <-c1:
			sum += v
		}
	}
	if want := n * (n - 1) / 2; sum != want {
		b.Fatalf("select2: sum %d, want %d", sum, want)
	}
	reportNsPer(b, n)
}

func Benchmark_fanin8(b *testing.B) {
	per := (b.N + 7) / 8
	n := per * 8
	var c [8]chan int
	for k := range c {
		c[k] = make(chan int)
		go feed(c[k], k*per, per)
	}
	sum := 0
	for i := 0; i < n; i++ {
		select {
		case v := <-c[0]:
			sum += v
		case v := <-c[1]:
			sum += v
		case v := <-c[2]:
			sum += v
		case v := <-c[3]:
			sum += v
		case v := <-c[4]:
			sum += v
		case v := <-c[5]:
			sum += v
		case v := <-c[6]:
			sum += v
		case v := <-c[7]:
			sum += v
		}
	}
	if want := n * (n - 1) / 2; sum != want {
		b.Fatalf("fanin8: sum %d, want %d", sum, want)
	}
	reportNsPer(b, n)
}

const (
	sieveMax    = 20000
	sievePrimes = 2262     // primes <= 20000
	sieveSum    = 21171191 // their sum
)

func sieveGenerate(ch chan<- int) {
	for i := 2; i <= sieveMax; i++ {
		ch <- i
	}
	close(ch)
}

func sieveFilter(in <-chan int, out chan<- int, prime int) {
	for i := range in {
		if i%prime != 0 {
			out <- i
		}
	}
	close(out)
}

// sieve returns the number and the sum of the primes up to sieveMax.
func sieve() (count, sum int) {
	ch := make(chan int)
	go sieveGenerate(ch)
	for {
		prime, ok := <-ch
		if !ok {
			return
		}
		count++
		sum += prime
		ch1 := make(chan int)
		go sieveFilter(ch, ch1, prime)
		ch = ch1
	}
}

func Benchmark_sieve(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if count, sum := sieve(); count != sievePrimes || sum != sieveSum {
			b.Fatalf("sieve: %d primes summing to %d, want %d and %d", count, sum, sievePrimes, sieveSum)
		}
	}
	reportNsPer(b, b.N)
}

const ringSize = 1000

func Benchmark_ring(b *testing.B) {
	var ch [ringSize]chan int
	for i := range ch {
		ch[i] = make(chan int)
	}
	done := make(chan int, 1)
	var wg sync.WaitGroup
	wg.Add(ringSize)
	for i := 0; i < ringSize; i++ {
		go func(i int, in <-chan int, out chan<- int) {
			defer wg.Done()
			for v := range in {
				if v == 1 {
					done <- i
				} else {
					out <- v - 1
				}
			}
			if i != ringSize-1 {
				close(out)
			}
		}(i, ch[i], ch[(i+1)%ringSize])
	}
	b.ResetTimer()
	ch[0] <- b.N
	last := <-done
	b.StopTimer()
	close(ch[0])
	wg.Wait()
	if want := (b.N - 1) % ringSize; last != want {
		b.Fatalf("ring: the last hop reached node %d, want %d", last, want)
	}
	reportNsPer(b, b.N)
}
