package injection_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/scispot/mcp-desktop/mcpserver/guard/injection"
)

type corpusCase struct {
	Name string `json:"name"`
	Text string `json:"text"`
	// KnownMiss, for a positive, says why the detector misses it.
	KnownMiss string `json:"known_miss"`
}

func loadCorpus(tb testing.TB, path string) []corpusCase {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var cases []corpusCase
	if err := json.Unmarshal(b, &cases); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return cases
}

// asRow embeds text in a labsheet row the way a tool result carries it.
func asRow(text string) string {
	b, err := json.Marshal(map[string]any{
		"uuid": "0b2c4d6e-8f01-4a23-b456-7890abcdef12", "labsheet": "Cell Lines",
		"data": map[string]any{"ID": "CL-0999", "Name": "HEK293T", "Notes": text, "Passage": 12},
	})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// asciiJSON is asRow with every non-ASCII character escaped, as Python's
// json.dumps and many other encoders write it.
func asciiJSON(text string) string {
	var b strings.Builder
	for _, r := range asRow(text) {
		if r < 0x80 {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	return b.String()
}

func describe(text string, fs []injection.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n\t%s %q", f.Rule, text[f.Start:f.End])
	}
	return b.String()
}

// variants are the forms each corpus text is tested in.
func variants(text string) []struct{ how, text string } {
	return []struct{ how, text string }{
		{"raw", text},
		{"in a JSON row", asRow(text)},
		{"in an ASCII-escaped JSON row", asciiJSON(text)},
	}
}

// The corpus targets (issue 14): at least 95 % of the positives flagged,
// in every form, and no negative. A positive the detector is known to
// miss says why in "known_miss"; any other miss fails the test, so the
// 5 % is room for documented limits, not for regressions.
func TestCorpusPositives(t *testing.T) {
	cases := loadCorpus(t, "testdata/positives.json")
	if len(cases) < 60 {
		t.Fatalf("only %d positives; the corpus needs at least 60", len(cases))
	}
	tried, flagged := 0, 0
	for _, c := range cases {
		for _, v := range variants(c.Text) {
			tried++
			if fs := injection.Detect(v.text); len(fs) > 0 {
				flagged++
				if c.KnownMiss != "" {
					t.Errorf("%s (%s): flagged, but listed as a known miss (%s)", c.Name, v.how, c.KnownMiss)
				}
			} else if c.KnownMiss == "" {
				t.Errorf("%s (%s): no finding in %q", c.Name, v.how, v.text)
			}
		}
	}
	recall := float64(flagged) / float64(tried)
	t.Logf("recall: %d of %d positives (%d texts in %d forms) flagged, %.1f %%", flagged, tried, len(cases), tried/len(cases), 100*recall)
	if recall < 0.95 {
		t.Errorf("recall %.1f %%, want at least 95 %%", 100*recall)
	}
}

func TestCorpusNegatives(t *testing.T) {
	cases := loadCorpus(t, "testdata/negatives.json")
	if len(cases) < 60 {
		t.Fatalf("only %d negatives; the corpus needs at least 60", len(cases))
	}
	var all []string
	tried, fp := 0, 0
	for _, c := range cases {
		all = append(all, c.Text)
		for _, v := range variants(c.Text) {
			tried++
			if fs := injection.Detect(v.text); len(fs) > 0 {
				fp++
				t.Errorf("%s (%s): false positive:%s", c.Name, v.how, describe(v.text, fs))
			}
		}
	}
	t.Logf("false positives: %d of %d negatives (%d texts in %d forms)", fp, tried, len(cases), tried/len(cases))
	// Ordinary notes read together, as a long documentation page would.
	joined := strings.Join(all, "\n\n")
	if fs := injection.Detect(joined); len(fs) > 0 {
		t.Errorf("the negatives joined into one page: false positive:%s", describe(joined, fs))
	}
}

// TestFindingsMapIntoText checks that every finding of the corpus, in
// every form the corpus tests use, points into the text given to Detect:
// in bounds, and starting and ending on whole characters, so redaction
// can cut the text there.
func TestFindingsMapIntoText(t *testing.T) {
	for _, c := range loadCorpus(t, "testdata/positives.json") {
		for _, v := range variants(c.Text) {
			text := v.text
			for _, f := range injection.Detect(text) {
				if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
					t.Fatalf("%s: finding %+v out of bounds for %d bytes", c.Name, f, len(text))
				}
				if !utf8.RuneStart(text[f.Start]) || f.End < len(text) && !utf8.RuneStart(text[f.End]) {
					t.Errorf("%s: finding %+v cuts a character: %q", c.Name, f, text[f.Start:f.End])
				}
				if !utf8.ValidString(text[f.Start:f.End]) {
					t.Errorf("%s: finding %+v is not valid UTF-8", c.Name, f)
				}
			}
		}
	}
}
