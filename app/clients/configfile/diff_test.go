package configfile

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{name: "equal", a: "x\n", b: "x\n", want: ""},
		{name: "new file", a: "", b: "a\nb\n", want: "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{name: "emptied", a: "a\n", b: "", want: "--- a\n+++ b\n@@ -1 +0,0 @@\n-a\n"},
		{
			name: "insert in the middle with context",
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n",
			b:    "1\n2\n3\n4\nnew\n5\n6\n7\n8\n",
			want: "--- a\n+++ b\n@@ -2,6 +2,7 @@\n 2\n 3\n 4\n+new\n 5\n 6\n 7\n",
		},
		{
			name: "two hunks far apart",
			a:    "a\n1\n2\n3\n4\n5\n6\n7\n8\nb\n",
			b:    "A\n1\n2\n3\n4\n5\n6\n7\n8\nB\n",
			want: "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-a\n+A\n 1\n 2\n 3\n@@ -7,4 +7,4 @@\n 6\n 7\n 8\n-b\n+B\n",
		},
		{
			name: "no newline at end",
			a:    "{}",
			b:    "{\n}\n",
			want: "--- a\n+++ b\n@@ -1 +1,2 @@\n-{}\n\\ No newline at end of file\n+{\n+}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unifiedDiff("a", "b", []byte(tt.a), []byte(tt.b))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if back, err := patch(tt.a, got); err != nil || back != tt.b {
				t.Errorf("patching a with the diff: %q, %v; want %q", back, err, tt.b)
			}
		})
	}
}

// A diff too big for the Myers bound falls back to replacing the middle,
// and must still be correct.
func TestUnifiedDiffLarge(t *testing.T) {
	var a, b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	d := unifiedDiff("a", "b", []byte(a.String()), []byte(b.String()))
	if back, err := patch(a.String(), d); err != nil || back != b.String() {
		t.Fatalf("patch failed: %v", err)
	}
}

func FuzzUnifiedDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n")
	f.Add("", "x")
	f.Add("{\n  \"a\": 1\n}", "{\n  \"a\": 1,\n  \"b\": 2\n}\n")
	f.Add("same\nsame\nsame\n", "same\nsame\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		d := unifiedDiff("a", "b", []byte(a), []byte(b))
		if (d == "") != (a == b) {
			t.Fatalf("empty diff = %v for equal = %v", d == "", a == b)
		}
		back, err := patch(a, d)
		if err != nil {
			t.Fatalf("diff does not apply: %v\n%s", err, d)
		}
		if back != b {
			t.Fatalf("patched = %q, want %q\n%s", back, b, d)
		}
	})
}

// patch applies a unified diff made by unifiedDiff, checking every context
// and removed line and every hunk header.
func patch(a, diff string) (string, error) {
	if diff == "" {
		return a, nil
	}
	old := splitLines([]byte(a))
	lines := splitLines([]byte(diff))
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		return "", fmt.Errorf("bad header")
	}
	var out []string
	pos := 0 // next line of old to copy
	i := 2
	for i < len(lines) {
		var aStart, aLen, bStart, bLen int
		if err := parseHunkHeader(lines[i], &aStart, &aLen, &bStart, &bLen); err != nil {
			return "", err
		}
		i++
		from := aStart - 1
		if aLen == 0 {
			from = aStart
		}
		if from < pos || from > len(old) {
			return "", fmt.Errorf("hunk at %d out of order", aStart)
		}
		out = append(out, old[pos:from]...)
		pos = from
		if want := len(out) + 1; bLen > 0 && bStart != want {
			return "", fmt.Errorf("new start %d, want %d", bStart, want)
		}
		gotA, gotB := 0, 0
		for i < len(lines) && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			i++
			noEOL := i < len(lines) && lines[i] == "\\ No newline at end of file\n"
			text := l[1:]
			if noEOL {
				text = strings.TrimSuffix(text, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(old) || old[pos] != text {
					return "", fmt.Errorf("line %d does not match: %q vs %q", pos+1, text, old[min(pos, len(old)-1)])
				}
				pos++
				gotA++
				if l[0] == ' ' {
					out = append(out, text)
					gotB++
				}
			case '+':
				out = append(out, text)
				gotB++
			default:
				return "", fmt.Errorf("bad line %q", l)
			}
		}
		if gotA != aLen || gotB != bLen {
			return "", fmt.Errorf("hunk counts %d,%d, header says %d,%d", gotA, gotB, aLen, bLen)
		}
	}
	out = append(out, old[pos:]...)
	return strings.Join(out, ""), nil
}

func parseHunkHeader(h string, aStart, aLen, bStart, bLen *int) error {
	var a, b string
	if _, err := fmt.Sscanf(h, "@@ -%s +%s @@\n", &a, &b); err != nil {
		return fmt.Errorf("bad hunk header %q: %v", h, err)
	}
	parse := func(r string, start, n *int) error {
		s, l, ok := strings.Cut(r, ",")
		var err error
		if *start, err = strconv.Atoi(s); err != nil {
			return err
		}
		*n = 1
		if ok {
			*n, err = strconv.Atoi(l)
		}
		return err
	}
	if err := parse(a, aStart, aLen); err != nil {
		return err
	}
	return parse(b, bStart, bLen)
}
