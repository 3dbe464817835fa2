package gompbench

// Go twins of the map cases in bench/map_bench.cpp. The contract:
//
//   case                procs  workload (1M = 1,000,000)                 per-op figure
//   map_insert          1      insert 1M random int64 keys (value i)      ns_per_op: per insert
//                              into an empty map[int64]int64
//   map_insert_reserve  1      the same into make(map, 1M)                per insert
//   map_hit             1      2^20 lookups of present keys (random       per lookup
//                              order) in a 1M-entry map; sum the values
//   map_miss            1      2^20 lookups of absent keys                per lookup
//   map_erase           1      delete the 1M keys of a 1M-entry map (the  per delete
//                              map is built with the timer stopped)
//   map_iterate         1      range over a 1M-entry map, sum k + v       per element
//   map_str_hit         1      map[string]int, 1M 16-byte keys (16 hex    per lookup
//                              digits), 2^20 lookups of present keys
//   map_str_miss        1      the same with absent keys                  per lookup
//   map_insert_p999     1      time each of the 1M inserts growing from   p999_ns (= ns_per_op),
//                              empty; the 99.9th percentile latency       max_ns
//
// Keys: splitmix64 from seed 1 (the map's keys), seed 2 (absent keys), seed 3
// (the order of hit lookups: index = next % 1M), exactly as the C++ side.

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

const (
	nMapKeys    = 1000000
	nMapLookups = 1 << 20
)

type splitmix64 struct{ s uint64 }

func (g *splitmix64) next() uint64 {
	g.s += 0x9E3779B97F4A7C15
	z := g.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func genKeys(seed uint64, n int) []int64 {
	g := splitmix64{seed}
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(g.next())
	}
	return v
}

// The key sets, built on first use (not at package init: other areas' twins
// run in this binary too).
var (
	mapKeys, mapAbsentKeys, mapHitKeys []int64
	strKeys, strHitKeys, strAbsentKeys []string
	mapKeysOnce                        sync.Once
	mapSinkMap                         map[int64]int64
	mapSinkSum                         int64
	mapSinkStrSum                      int
)

func initMapKeys() {
	mapKeysOnce.Do(func() {
		mapKeys = genKeys(1, nMapKeys)
		mapAbsentKeys = genKeys(2, nMapLookups)
		g := splitmix64{3}
		mapHitKeys = make([]int64, nMapLookups)
		for i := range mapHitKeys {
			mapHitKeys[i] = mapKeys[g.next()%nMapKeys]
		}
		strKeys = toStrings(mapKeys)
		strHitKeys = toStrings(mapHitKeys)
		strAbsentKeys = toStrings(mapAbsentKeys)
	})
}

func toStrings(in []int64) []string {
	out := make([]string, len(in))
	for i, x := range in {
		out[i] = fmt.Sprintf("%016x", uint64(x))
	}
	return out
}

func buildMap() map[int64]int64 {
	m := map[int64]int64{}
	for i, k := range mapKeys {
		m[k] = int64(i)
	}
	return m
}

func reportPerOp(b *testing.B, perIter int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(perIter), "ns_per_op")
}

func insertCase(b *testing.B, hint int) {
	initMapKeys()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := make(map[int64]int64, hint)
		for j, k := range mapKeys {
			m[k] = int64(j)
		}
		mapSinkMap = m
	}
	reportPerOp(b, nMapKeys)
}

func Benchmark_map_insert(b *testing.B)         { insertCase(b, 0) }
func Benchmark_map_insert_reserve(b *testing.B) { insertCase(b, nMapKeys) }

func lookupCase(b *testing.B, lookups []int64) {
	m := buildMap()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var sum int64
		for _, k := range lookups {
			sum += m[k]
		}
		mapSinkSum += sum
	}
	reportPerOp(b, len(lookups))
}

func Benchmark_map_hit(b *testing.B)  { initMapKeys(); lookupCase(b, mapHitKeys) }
func Benchmark_map_miss(b *testing.B) { initMapKeys(); lookupCase(b, mapAbsentKeys) }

func strLookupCase(b *testing.B, lookups []string) {
	m := map[string]int{}
	for i, k := range strKeys {
		m[k] = i
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum := 0
		for _, k := range lookups {
			sum += m[k]
		}
		mapSinkStrSum += sum
	}
	reportPerOp(b, len(lookups))
}

func Benchmark_map_str_hit(b *testing.B)  { initMapKeys(); strLookupCase(b, strHitKeys) }
func Benchmark_map_str_miss(b *testing.B) { initMapKeys(); strLookupCase(b, strAbsentKeys) }

func Benchmark_map_erase(b *testing.B) {
	initMapKeys()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		m := buildMap()
		b.StartTimer()
		for _, k := range mapKeys {
			delete(m, k)
		}
		b.StopTimer()
		mapSinkMap = m
	}
	reportPerOp(b, nMapKeys)
}

func Benchmark_map_iterate(b *testing.B) {
	initMapKeys()
	m := buildMap()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var sum int64
		for k, v := range m {
			sum += k + v
		}
		mapSinkSum += sum
	}
	reportPerOp(b, len(m))
}

func Benchmark_map_insert_p999(b *testing.B) {
	initMapKeys()
	b.ResetTimer()
	lat := make([]int64, nMapKeys)
	var p999s, maxes []int64
	for i := 0; i < b.N; i++ {
		m := map[int64]int64{}
		for j, k := range mapKeys {
			t0 := time.Now()
			m[k] = int64(j)
			lat[j] = int64(time.Since(t0))
		}
		mapSinkMap = m
		b.StopTimer()
		mx := int64(0)
		for _, x := range lat {
			mx = max(mx, x)
		}
		sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
		p999s = append(p999s, lat[len(lat)-len(lat)/1000])
		maxes = append(maxes, mx)
		b.StartTimer()
	}
	sort.Slice(p999s, func(a, c int) bool { return p999s[a] < p999s[c] })
	sort.Slice(maxes, func(a, c int) bool { return maxes[a] < maxes[c] })
	b.ReportMetric(float64(p999s[len(p999s)/2]), "p999_ns")
	b.ReportMetric(float64(p999s[len(p999s)/2]), "ns_per_op")
	b.ReportMetric(float64(maxes[len(maxes)/2]), "max_ns")
}
