package keychain

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanToken(t *testing.T) {
	const valid = "sk_live_AbC123-._~+/="
	tests := []struct {
		name    string
		raw     string
		want    string
		wantMsg string // a fragment of the error; "" means accepted
	}{
		{name: "plain", raw: valid, want: valid},
		{name: "surrounding whitespace", raw: " \t" + valid + "\r\n", want: valid},
		{name: "unicode whitespace around", raw: "\u00a0\u2003" + valid + "\u3000", want: valid},
		{name: "all printable ASCII", raw: "!\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~", want: "!\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~"},
		{name: "exactly 2048 bytes", raw: strings.Repeat("a", 2048), want: strings.Repeat("a", 2048)},
		{name: "2048 bytes after trimming", raw: "  " + strings.Repeat("a", 2048) + "\n", want: strings.Repeat("a", 2048)},
		{name: "2049 bytes", raw: strings.Repeat("a", 2049), wantMsg: "longer than 2048 bytes"},
		{name: "empty", raw: "", wantMsg: "the token is empty"},
		{name: "only whitespace", raw: " \n\t ", wantMsg: "the token is empty"},
		{name: "NUL", raw: "abc\x00def", wantMsg: "NUL byte at character 4"},
		{name: "tab inside", raw: "abc\tdef", wantMsg: "control character (such as a tab or line break) at character 4"},
		{name: "line break inside", raw: "abc\ndef", wantMsg: "control character"},
		{name: "escape", raw: "abc\x1b[0mdef", wantMsg: "control character"},
		{name: "DEL", raw: "abc\x7f", wantMsg: "control character (such as a tab or line break) at character 4"},
		{name: "C1 control", raw: "abc\u0085def", wantMsg: "control character"},
		{name: "space inside", raw: "abc def", wantMsg: "space at character 4"},
		{name: "no-break space inside", raw: "abc\u00a0def", wantMsg: "space at character 4"},
		{name: "bearer prefix", raw: "Bearer " + valid, wantMsg: `starts with the word "Bearer"`},
		{name: "bearer prefix lower case", raw: "bearer " + valid, wantMsg: `starts with the word "Bearer"`},
		{name: "word bearer alone", raw: "Bearer", want: "Bearer"},
		{name: "invalid UTF-8", raw: "abc\xff\xfedef", wantMsg: "not valid text (not UTF-8)"},
		{name: "truncated UTF-8", raw: "abc\xe2\x82", wantMsg: "not UTF-8"},
		{name: "non-ASCII letter", raw: "tökén", wantMsg: "non-ASCII character at character 2"},
		{name: "emoji", raw: "abc🔑", wantMsg: "non-ASCII character at character 4"},
		{name: "zero-width space", raw: "abc\u200bdef", wantMsg: "non-ASCII character"},
		{name: "byte order mark", raw: "\ufeffabc", wantMsg: "non-ASCII character at character 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanToken(tt.raw)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("CleanToken() error = %v, want nil", err)
				}
				if got != tt.want {
					t.Fatalf("CleanToken() = %q, want %q", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("CleanToken() = %q, want an error containing %q", got, tt.wantMsg)
			}
			if got != "" {
				t.Errorf("CleanToken() returned %q with an error, want empty", got)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("errors.Is(err, ErrInvalidToken) = false for %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tt.wantMsg)
			}
			if trimmed := strings.TrimSpace(tt.raw); len(trimmed) >= 3 && strings.Contains(err.Error(), trimmed) {
				t.Errorf("error %q contains the input", err)
			}
		})
	}
}

// tokenMessages are the only texts CleanToken's errors may have once digits
// are blanked out: the proof that nothing of the input reaches an error.
var tokenMessages = func() map[string]bool {
	m := map[string]bool{}
	for _, msg := range []string{msgTokenEmpty, msgTokenTooLong, msgTokenNotUTF8, msgTokenBearer,
		msgTokenNUL, msgTokenControl, msgTokenSpace, msgTokenNonASCII} {
		m[blankDigits(tokenError(strings.ReplaceAll(msg, "%d", "0")).Error())] = true
	}
	return m
}()

var digits = regexp.MustCompile(`[0-9]+`)

func blankDigits(s string) string { return digits.ReplaceAllString(s, "#") }

func FuzzCleanToken(f *testing.F) {
	for _, seed := range []string{
		"", " ", "abc", " sk_live_123 \n", "a\x00b", "a\tb", "a b", "Bearer abc",
		"\xff", "tökén", strings.Repeat("x", 2048), strings.Repeat("x", 2049) + " ",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := CleanToken(raw)
		if err != nil {
			if got != "" {
				t.Fatalf("returned %q together with an error", got)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not match ErrInvalidToken", err)
			}
			msg := err.Error()
			if !tokenMessages[blankDigits(msg)] {
				t.Fatalf("error %q is not one of the fixed messages", msg)
			}
			// A short input, or one made of words from the fixed messages,
			// is trivially a substring of them; the fixed-message check above
			// covers those.
			if in := strings.TrimSpace(raw); len(in) >= 3 && strings.Contains(msg, in) && !inFixedText(blankDigits(in)) {
				t.Fatalf("error %q contains the input", msg)
			}
			return
		}
		if got != strings.TrimSpace(raw) {
			t.Fatalf("CleanToken(%q) = %q, want the trimmed input", raw, got)
		}
		if got == "" || len(got) > MaxTokenBytes || !utf8.ValidString(got) {
			t.Fatalf("accepted %q: empty, too long or not UTF-8", got)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c <= ' ' || c > '~' {
				t.Fatalf("accepted %q with byte %#x at %d", got, c, i)
			}
		}
	})
}

func inFixedText(s string) bool {
	for msg := range tokenMessages {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
