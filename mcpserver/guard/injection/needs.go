package injection

import "strings"

// needFinder answers "does one of these needs occur in s[from:to]?" for
// starts tried left to right.
type needFinder struct {
	ix *ruleIndex
	s  string
	// Short texts: next[id] is where need id next occurs at or after the
	// last lookup (-1: nowhere; -2: not looked up yet).
	next []int
	// Long texts: every occurrence, found in one pass, and a cursor each.
	occ    [][]int
	cursor []int
}

// longText is from where one pass for all needs beats searching for each.
const longText = 1024

func newNeedFinder(ix *ruleIndex, s string) *needFinder {
	f := &needFinder{ix: ix, s: s}
	if len(s) >= longText {
		f.occ = ix.needScan.findAll(s)
		f.cursor = make([]int, len(ix.needNames))
		return f
	}
	f.next = make([]int, len(ix.needNames))
	for i := range f.next {
		f.next[i] = -2
	}
	return f
}

func (f *needFinder) near(ids []int, from, to int) bool {
	for _, id := range ids {
		var n int
		if f.occ != nil {
			o, c := f.occ[id], f.cursor[id]
			for c < len(o) && o[c] < from {
				c++
			}
			f.cursor[id] = c
			n = -1
			if c < len(o) {
				n = o[c]
			}
		} else {
			n = f.next[id]
			if n == -2 || (n >= 0 && n < from) {
				n = -1
				if i := strings.Index(f.s[from:], f.ix.needNames[id]); i >= 0 {
					n = from + i
				}
				f.next[id] = n
			}
		}
		if n >= 0 && n+len(f.ix.needNames[id]) <= to {
			return true
		}
	}
	return false
}

// automaton is an Aho–Corasick matcher over a fixed set of strings.
type automaton struct {
	class  [256]uint8 // byte -> class; 0 for bytes in no pattern
	nclass int
	delta  []int32 // state*nclass + class -> next state, while building
	// next is delta once built, in 16 bits: half the memory, so the table
	// of a hundred-odd needs stays in the processor's first-level cache.
	next []uint16
	// final[st]: some pattern ends in state st.
	final []bool
	out   [][]int // state -> patterns that end here
	lens  []int
}

func newAutomaton(patterns []string) *automaton {
	a := &automaton{nclass: 1}
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.class[p[i]] = uint8(a.nclass)
				a.nclass++
			}
		}
		a.lens = append(a.lens, len(p))
	}
	// The trie; -1 marks a missing edge until the fail links fill it in.
	a.delta = make([]int32, a.nclass)
	for i := range a.delta {
		a.delta[i] = -1
	}
	a.out = [][]int{nil}
	for id, p := range patterns {
		st := int32(0)
		for i := 0; i < len(p); i++ {
			k := int(st)*a.nclass + int(a.class[p[i]])
			if a.delta[k] < 0 {
				a.delta[k] = int32(len(a.out))
				a.out = append(a.out, nil)
				for range a.nclass {
					a.delta = append(a.delta, -1)
				}
			}
			st = a.delta[k]
		}
		a.out[st] = append(a.out[st], id)
	}
	// Breadth-first: fail links, complete transitions and merged outputs.
	fail := make([]int32, len(a.out))
	var queue []int32
	for c := range a.nclass {
		if t := a.delta[c]; t > 0 {
			queue = append(queue, t)
		} else {
			a.delta[c] = 0
		}
	}
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		for c := range a.nclass {
			k := int(st)*a.nclass + c
			t := a.delta[k]
			if t < 0 {
				a.delta[k] = a.delta[int(fail[st])*a.nclass+c]
				continue
			}
			fail[t] = a.delta[int(fail[st])*a.nclass+c]
			a.out[t] = append(a.out[t], a.out[fail[t]]...)
			queue = append(queue, t)
		}
	}
	if len(a.out) > 1<<16 {
		panic("injection: too many needs for a 16-bit automaton")
	}
	a.next = make([]uint16, len(a.delta))
	for i, t := range a.delta {
		a.next[i] = uint16(t)
	}
	a.final = make([]bool, len(a.out))
	for st, o := range a.out {
		a.final[st] = len(o) > 0
	}
	a.delta = nil
	return a
}

// findAll returns, per pattern, the start of each occurrence in s.
func (a *automaton) findAll(s string) [][]int {
	occ := make([][]int, len(a.lens))
	st := 0
	for i := 0; i < len(s); i++ {
		st = int(a.next[st*a.nclass+int(a.class[s[i]])])
		for _, id := range a.out[st] {
			occ[id] = append(occ[id], i+1-a.lens[id])
		}
	}
	return occ
}

// any reports whether one of the patterns occurs in s.
func (a *automaton) any(s string) bool { return anyIn(a, s) }

// anyBytes is any for a byte slice.
func (a *automaton) anyBytes(b []byte) bool { return anyIn(a, b) }

func anyIn[T string | []byte](a *automaton, s T) bool {
	st := 0
	for i := 0; i < len(s); i++ {
		st = int(a.next[st*a.nclass+int(a.class[s[i]])])
		if a.final[st] {
			return true
		}
	}
	return false
}
