package gompbench

// Go twins of the echo cases in bench/net_bench.cpp. The server is Go's net
// package, one goroutine per connection reading into a 4 KiB buffer and
// writing back what it read, in this test binary; the load generator is the
// same C++ executable the gomp side uses (bench/echo_client.cpp), run as a
// subprocess, so both servers are driven and timed the same way and this
// process's peak RSS is the server's. The shared contract:
//
//   case         client (echo_client)                        per-op figure
//   echo_c<N>    N connections, one 64-byte message in        ns_per_op = wall time /
//                flight on each (request/response), 2 s      round trips (all conns)
//   echo_stream  1 connection, 16 messages of 4 KiB in        ns_per_op = wall time /
//                flight (streamed and echoed), 2 s           messages echoed
//
// Metrics: ns_per_op, rps, peak_rss_kib. The client is found at
// $GOMP_ECHO_CLIENT, else at bench/echo_client beside this binary (where
// bench/compare puts both: <build>/gompbench.test, <build>/bench/echo_client).

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

const echoDurationMs = 2000

func echoClientPath() string {
	if p := os.Getenv("GOMP_ECHO_CLIENT"); p != "" {
		return p
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(exe), "bench", "echo_client")
}

func benchEcho(b *testing.B, conns, msg, window int) {
	client := echoClientPath()
	if st, err := os.Stat(client); err != nil || st.IsDir() {
		b.Skipf("echo_client not found at %q: build bench/echo_client (bench/compare does) or set GOMP_ECHO_CLIENT", client)
	}
	var rl syscall.Rlimit // echo_c1000 holds 1000 server sockets (and the client 1000 more)
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed at the end of the run
			}
			wg.Add(1)
			go func(c net.Conn) {
				defer wg.Done()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						break
					}
					if _, err := c.Write(buf[:n]); err != nil {
						break
					}
				}
				c.Close()
			}(c)
		}
	}()
	var roundTrips, ns int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(client, ln.Addr().String(), fmt.Sprint(conns), fmt.Sprint(msg),
			fmt.Sprint(window), fmt.Sprint(echoDurationMs))
		cmd.Stderr = os.Stderr // its reason, if it fails
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("echo_client: %v: %s", err, out)
		}
		var r, t int64
		if _, err := fmt.Sscanf(string(out), "round_trips=%d ns=%d", &r, &t); err != nil {
			b.Fatalf("echo_client output %q: %v", out, err)
		}
		roundTrips += r
		ns += t
	}
	b.StopTimer()
	ln.Close()
	wg.Wait()
	b.ReportMetric(float64(ns)/float64(roundTrips), "ns_per_op")
	b.ReportMetric(float64(roundTrips)*1e9/float64(ns), "rps")
	reportPeakRSS(b)
}

func Benchmark_echo_c1(b *testing.B)     { benchEcho(b, 1, 64, 1) }
func Benchmark_echo_c100(b *testing.B)   { benchEcho(b, 100, 64, 1) }
func Benchmark_echo_c1000(b *testing.B)  { benchEcho(b, 1000, 64, 1) }
func Benchmark_echo_stream(b *testing.B) { benchEcho(b, 1, 4096, 16) }
