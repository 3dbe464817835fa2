package gompbench

// Go twins of the interface cases in bench/iface_bench.cpp. The workload,
// shared with the C++ side: 1024 objects of 4 types (A, B, C, D, each with a
// method Value() int64), the type of object i drawn from an LCG (state =
// state*6364136223846793005 + 1442695040888963407, seed 42, kind =
// (state >> 33) & 3). One b.N iteration is one pass over the 1024 objects;
// ns_per_op = elapsed / (b.N * 1024).
//
//   case          procs  per object
//   iface_call    1      sum += x.Value() through the interface Valuer
//   type_assert   1      if x (an any) holds an A: sum += a.x
//   iface_assert  1      if x (an any) asserts to Valuer: sum += v.Value()

import "testing"

const nObjects = 1024

type Valuer interface{ Value() int64 }

type A struct{ x int64 }
type B struct{ x int64 }
type C struct{ x, y int64 }
type D struct{ x int64 }

func (a A) Value() int64 { return a.x + 1 }
func (b B) Value() int64 { return b.x * 2 }
func (c C) Value() int64 { return c.x + c.y }
func (d D) Value() int64 { return d.x ^ 0x55 }

var sinkSum int64

func kinds() []int {
	k := make([]int, nObjects)
	state := uint64(42)
	for i := range k {
		state = state*6364136223846793005 + 1442695040888963407
		k[i] = int((state >> 33) & 3)
	}
	return k
}

func makeValuer(kind int, i int64) Valuer {
	switch kind {
	case 0:
		return A{i}
	case 1:
		return B{i}
	case 2:
		return C{i, 3}
	default:
		return D{i}
	}
}

func makeAny(kind int, i int64) any {
	switch kind {
	case 0:
		return A{i}
	case 1:
		return B{i}
	case 2:
		return C{i, 3}
	default:
		return D{i}
	}
}

func perObject(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/nObjects, "ns_per_op")
}

func Benchmark_iface_call(b *testing.B) {
	objs := make([]Valuer, nObjects)
	for i, k := range kinds() {
		objs[i] = makeValuer(k, int64(i))
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		var sum int64
		for i := 0; i < nObjects; i++ {
			sum += objs[i].Value()
		}
		sinkSum = sum
	}
	perObject(b)
}

func Benchmark_type_assert(b *testing.B) {
	xs := make([]any, nObjects)
	for i, k := range kinds() {
		xs[i] = makeAny(k, int64(i))
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		var sum int64
		for i := 0; i < nObjects; i++ {
			if a, ok := xs[i].(A); ok {
				sum += a.x
			}
		}
		sinkSum = sum
	}
	perObject(b)
}

func Benchmark_iface_assert(b *testing.B) {
	xs := make([]any, nObjects)
	for i, k := range kinds() {
		xs[i] = makeAny(k, int64(i))
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		var sum int64
		for i := 0; i < nObjects; i++ {
			if v, ok := xs[i].(Valuer); ok {
				sum += v.Value()
			}
		}
		sinkSum = sum
	}
	perObject(b)
}
