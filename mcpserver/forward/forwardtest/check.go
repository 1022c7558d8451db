package forwardtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TrailLines reads every complete line of every trail under the service's
// state folder (users/*/audit/*.jsonl), by trail id.
func TrailLines(state string) (map[string][]string, error) {
	files, err := filepath.Glob(filepath.Join(state, "users", "*", "audit", "*.jsonl"))
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		id := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if len(data) > 0 && data[len(data)-1] != '\n' && len(lines) > 0 {
			lines = lines[:len(lines)-1] // torn: not a record yet
		}
		out[id] = lines
	}
	return out, nil
}

// Report compares what the trails hold with what arrived: every record
// (trail, seq) must have arrived with its exact line, and the first
// arrival of each record of a trail must be in seq order. Duplicates are
// allowed (at-least-once) and counted.
type Report struct {
	Want, Arrived, Duplicates int
	Missing                   []string
	Problems                  []string
}

// Compare builds the Report.
func Compare(want map[string][]string, got []Arrival) Report {
	var r Report
	seen := map[string]map[int64]string{}
	order := map[string][]int64{}
	for _, a := range got {
		r.Arrived++
		m := seen[a.Trail]
		if m == nil {
			m = map[int64]string{}
			seen[a.Trail] = m
		}
		if _, dup := m[a.Seq]; dup {
			r.Duplicates++
			continue
		}
		m[a.Seq] = a.Body
		order[a.Trail] = append(order[a.Trail], a.Seq)
	}
	trails := make([]string, 0, len(want))
	for id := range want {
		trails = append(trails, id)
	}
	sort.Strings(trails)
	for _, id := range trails {
		for i, line := range want[id] {
			r.Want++
			seq := int64(i + 1)
			body, ok := seen[id][seq]
			switch {
			case !ok:
				r.Missing = append(r.Missing, fmt.Sprintf("%s seq %d", id, seq))
			case body != line:
				r.Problems = append(r.Problems, fmt.Sprintf("%s seq %d arrived changed:\n got %s\nwant %s", id, seq, body, line))
			}
		}
		seqs := order[id]
		for i := 1; i < len(seqs); i++ {
			if seqs[i] < seqs[i-1] {
				r.Problems = append(r.Problems, fmt.Sprintf("%s: seq %d first arrived after seq %d", id, seqs[i], seqs[i-1]))
				break
			}
		}
	}
	return r
}

// WaitComplete polls until every record of the trails under state has
// arrived (read returns what the receiver stored) or timeout passes, and
// fails the test with what is missing.
func WaitComplete(t testing.TB, state string, read func() ([]Arrival, error), timeout time.Duration) Report {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		want, err := TrailLines(state)
		if err != nil {
			t.Fatal(err)
		}
		got, err := read()
		if err != nil {
			t.Fatal(err)
		}
		r := Compare(want, got)
		if len(r.Missing) == 0 || time.Now().After(deadline) {
			if len(r.Missing) > 0 {
				n := min(len(r.Missing), 10)
				t.Errorf("%d of %d records never arrived (%d arrived, %d duplicates), first: %v", len(r.Missing), r.Want, r.Arrived, r.Duplicates, r.Missing[:n])
			}
			for _, p := range r.Problems[:min(len(r.Problems), 10)] {
				t.Error(p)
			}
			return r
		}
		time.Sleep(200 * time.Millisecond)
	}
}
