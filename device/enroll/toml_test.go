package enroll

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func strVal(s string) tomlValue { return tomlValue{str: s, isString: true} }

func TestParseTopLevelTOML(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]tomlValue
	}{
		{name: "empty", in: "", want: map[string]tomlValue{}},
		{name: "literal and basic", in: "a = 'x'\nb = \"y\"\n", want: map[string]tomlValue{"a": strVal("x"), "b": strVal("y")}},
		{name: "no final newline", in: "a = 'x'", want: map[string]tomlValue{"a": strVal("x")}},
		{name: "escapes", in: `a = "q\"b\\s\u00e9\U0001F600\tz"`, want: map[string]tomlValue{"a": strVal("q\"b\\sé😀\tz")}},
		{name: "literal keeps backslashes", in: `a = 'C:\x\y'`, want: map[string]tomlValue{"a": strVal(`C:\x\y`)}},
		{name: "quoted keys", in: "\"a b\" = '1'\n'c' = \"2\"", want: map[string]tomlValue{"a b": strVal("1"), "c": strVal("2")}},
		{name: "comments", in: "# top\na = 'x' # tail\n  # indented\n", want: map[string]tomlValue{"a": strVal("x")}},
		{name: "hash inside string", in: "a = 'x # y'", want: map[string]tomlValue{"a": strVal("x # y")}},
		{name: "non-string values", in: "n = 3\nb = true\nd = 1979-05-27 07:32:00Z # when\nf = -1.5e3\n",
			want: map[string]tomlValue{"n": {}, "b": {}, "d": {}, "f": {}}},
		{name: "arrays and inline tables", in: "a = [1, [2, ']'], \"x]\"] # c\nt = { k = \"}\", n = [ {} ] }\nz = 'after'",
			want: map[string]tomlValue{"a": {}, "t": {}, "z": strVal("after")}},
		{name: "multi-line array with comments", in: "a = [\n  'x', # one\n  'y',\n]\nb = 'z'",
			want: map[string]tomlValue{"a": {}, "b": strVal("z")}},
		{name: "multi-line basic", in: "a = \"\"\"\nline1\nline2 \\\n   cont\"\"\"\nb = 'x'",
			want: map[string]tomlValue{"a": strVal("line1\nline2 cont"), "b": strVal("x")}},
		{name: "multi-line basic ending in quotes", in: `a = """say "hi"""""`, want: map[string]tomlValue{"a": strVal(`say "hi""`)}},
		{name: "multi-line literal", in: "a = '''\nC:\\n\n'x''''\nb = 'y'",
			want: map[string]tomlValue{"a": strVal("C:\\n\n'x'"), "b": strVal("y")}},
		{name: "dotted keys are not top level", in: "a.b = 'x'\nc = 'y'", want: map[string]tomlValue{"c": strVal("y")}},
		{name: "tables are not top level", in: "a = 'x'\n[t]\na = 'y'\nb = 'z'\n[[arr]]\nc = 'w'",
			want: map[string]tomlValue{"a": strVal("x")}},
		{name: "same key in a table is no duplicate", in: "a = 'x'\n[t]\na = 'y'", want: map[string]tomlValue{"a": strVal("x")}},
		{name: "crlf and bom", in: "\ufeffa = 'x'\r\nb = \"y\"\r\n", want: map[string]tomlValue{"a": strVal("x"), "b": strVal("y")}},
		{name: "tabs", in: "\ta\t=\t'x'\t", want: map[string]tomlValue{"a": strVal("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTopLevelTOML([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(tomlValue{})); diff != "" {
				t.Errorf("values (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTopLevelTOMLErrors(t *testing.T) {
	tests := map[string]string{
		"unterminated literal":    "a = 'x\nb = 'y'",
		"unterminated basic":      `a = "x`,
		"unterminated multiline":  `a = """x`,
		"unterminated ml literal": "a = '''x",
		"duplicate":               "a = 'x'\na = 'y'",
		"duplicate quoted":        "a = 'x'\n\"a\" = 'y'",
		"missing value":           "a =\nb = 'y'",
		"missing equals":          "a 'x'",
		"bare word":               "device_hint",
		"json":                    `{"a": "x"}`,
		"trailing junk":           "a = 'x' 'y'",
		"bad escape":              `a = "\q"`,
		"short unicode escape":    `a = "\u12"`,
		"surrogate escape":        `a = "\uD800"`,
		"unclosed header":         "[t\na = 'x'",
		"unclosed array":          "a = [1, 2",
		"mismatched array":        "a = [1, 2}",
		"not utf8":                "a = '\xff'",
		"empty key":               " = 'x'",
		"value is comment":        "a = # nothing",
		"deep nesting":            "a = " + strings.Repeat("[", 100) + strings.Repeat("]", 100),
		"oversize":                "a = '" + strings.Repeat("x", maxOutputBytes) + "'",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := parseTopLevelTOML([]byte(in)); !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("err = %v, want one wrapping ErrUnrecognized", err)
			}
		})
	}
}

func TestParseTopLevelTOMLErrorNamesLine(t *testing.T) {
	_, err := parseTopLevelTOML([]byte("a = 'x'\n\nb = 'y\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want it to name line 3", err)
	}
}

// tomlBasicString encodes s as a TOML basic string.
func tomlBasicString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzParseTopLevelTOML(f *testing.F) {
	for _, name := range []string{"enrolled.toml", "enrolled-double-quotes.toml", "comments-and-tables.toml", "bom-crlf.toml", "unterminated.toml", "duplicate-key.toml"} {
		f.Add(readFixture(f, "intune/"+name), "device_hint", "id")
	}
	f.Add([]byte("a = \"\"\"\nx\\\n y\"\"\""), "k", "a\"b\\c\n")
	f.Fuzz(func(t *testing.T, doc []byte, key, value string) {
		vals, err := parseTopLevelTOML(doc)
		if err != nil && !errors.Is(err, ErrUnrecognized) {
			t.Fatalf("error %v does not wrap ErrUnrecognized", err)
		}
		for k, v := range vals {
			if !utf8.ValidString(k) || !utf8.ValidString(v.str) {
				t.Fatalf("invalid UTF-8 in %q = %q", k, v.str)
			}
		}
		// Round trip: any string value written as a basic string reads back.
		if !utf8.ValidString(key) || !utf8.ValidString(value) {
			return
		}
		line := tomlBasicString(key) + " = " + tomlBasicString(value) + "\n"
		got, err := parseTopLevelTOML([]byte(line))
		if err != nil {
			t.Fatalf("parsing %s: %v", strconv.Quote(line), err)
		}
		if v := got[key]; !v.isString || v.str != value {
			t.Fatalf("%s read back as %+v", strconv.Quote(line), got)
		}
	})
}
