// Command growth prints the cap sequence Go's append produces when one element
// at a time is appended to a nil slice, for []int and for a 24-byte
// pointer-free struct (and []byte, and []int 7 elements at a time).
// tests/slice_test.cpp holds a copy of this output, from
//
//	GOTOOLCHAIN=local go run tests/go/growth/main.go
//
// (go1.26.8, linux/amd64), and when go is installed it also runs this program
// and compares gomp's caps with the live output, so a change in Go's
// growslice shows up as a failing test. It also prints the panic messages
// tests/slice_test.cpp and tests/iface_test.cpp expect.
package main

import (
	"fmt"
	"strings"
)

type s24 struct{ a, b, c int64 }

// sink makes every slice escape to the heap: since Go 1.25 a non-escaping
// append may start in a 32-byte stack buffer, which is not growslice.
var sink any

// caps appends chunk zero values at a time to a nil []T until len reaches
// limit and returns each distinct cap it saw, in order.
func caps[T any](limit, chunk int) string {
	var s []T
	add := make([]T, chunk)
	var out []string
	last := -1
	for len(s) < limit {
		s = append(s, add...)
		sink = s
		if cap(s) != last {
			last = cap(s)
			out = append(out, fmt.Sprint(last))
		}
	}
	return strings.Join(out, ", ")
}

func msg(f func()) (m string) {
	defer func() { m = fmt.Sprint(recover()) }()
	f()
	return ""
}

func main() {
	fmt.Println("int:", caps[int](1<<20, 1))
	fmt.Println("s24:", caps[s24](1<<20, 1))
	fmt.Println("byte:", caps[byte](1<<16, 1))
	fmt.Println("int by 7:", caps[int](1<<14, 7))
	s := make([]int, 3, 5)
	i, j, k, neg := 5, 2, 7, -1
	fmt.Println(msg(func() { _ = s[i] }))
	fmt.Println(msg(func() { _ = s[neg] }))
	fmt.Println(msg(func() { _ = s[:k] }))
	fmt.Println(msg(func() { _ = s[3:j] }))
	fmt.Println(msg(func() { _ = s[i:] }))
	fmt.Println(msg(func() { _ = s[neg:] }))
	fmt.Println(msg(func() { _ = s[:neg] }))
	fmt.Println(msg(func() { _ = s[0:1:k] }))
	fmt.Println(msg(func() { _ = s[:i:3] }))
	fmt.Println(msg(func() { _ = s[3:j:4] }))
	fmt.Println(msg(func() { _ = make([]int, neg) }))
	fmt.Println(msg(func() { _ = make([]int, 3, j) }))
	var x any = 3
	fmt.Println(msg(func() { _ = x.(string) }))
	var y any = []int{1}
	fmt.Println(msg(func() { _ = y == y }))
	fmt.Println(msg(func() { _ = map[any]int{y: 1} }))
	var z any
	fmt.Println(msg(func() { _ = z.(int) }))
	fmt.Println(msg(func() { _ = x.(fmt.Stringer) }))
}
