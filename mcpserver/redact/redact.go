// Package redact removes secrets from text before it leaves the service:
// the person's Scispot token, the local HTTP server's secret, and anything
// shaped like a Scispot token. It is the one redactor behind every place
// that must never carry a secret — tool results (package guard), upstream
// error sentences (package upstream) and audit records (package audit) —
// so they cannot disagree about what a secret is.
//
//	r := redact.New(token, localSecret)
//	clean := r.String(text)   // each secret replaced by Marker
//	if r.Contains(text) { … } // whole-value redaction (audit arguments)
package redact

import (
	"slices"
	"strings"
)

// Marker replaces every secret removed.
const Marker = "[redacted]"

// TokenPrefix starts every Scispot personal API token.
const TokenPrefix = "sst_"

// minTokenBody is how many token characters must follow TokenPrefix for a
// word to count as a token. Real tokens carry far more; this keeps words
// such as "sst_id" in lab data readable.
const minTokenBody = 8

// MinSecretLen is the shortest secret New accepts: shorter values would
// match ordinary text, and no Scispot token or local secret is that short.
const MinSecretLen = 4

// Redactor knows which secrets to remove. The zero value removes only
// token-shaped text. A Redactor is immutable and safe for concurrent use.
type Redactor struct {
	secrets []string
}

// New returns a Redactor for the given secrets (plus every token-shaped
// word). Secrets shorter than MinSecretLen are ignored.
func New(secrets ...string) Redactor {
	return Redactor{}.With(secrets...)
}

// With returns a Redactor that also removes secrets.
func (r Redactor) With(secrets ...string) Redactor {
	out := Redactor{secrets: make([]string, 0, len(r.secrets)+len(secrets))}
	out.secrets = append(out.secrets, r.secrets...)
	for _, s := range secrets {
		if len(s) >= MinSecretLen && !slices.Contains(out.secrets, s) {
			out.secrets = append(out.secrets, s)
		}
	}
	return out
}

// Contains reports whether s holds a secret or a token-shaped word.
func (r Redactor) Contains(s string) bool {
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			return true
		}
	}
	_, _, ok := nextToken(s, 0)
	return ok
}

// String returns s with every secret and every token-shaped word replaced
// by Marker. It returns s itself when there is nothing to remove.
func (r Redactor) String(s string) string {
	if !r.Contains(s) {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, Marker)
	}
	var b strings.Builder
	last := 0
	for {
		start, end, ok := nextToken(s, last)
		if !ok {
			break
		}
		b.WriteString(s[last:start])
		b.WriteString(Marker)
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// nextToken finds the first token-shaped word in s at or after from:
// TokenPrefix at the start of a word, then at least minTokenBody token
// characters. It scans with strings.Index, so text without the prefix
// costs one fast pass.
func nextToken(s string, from int) (start, end int, ok bool) {
	for from < len(s) {
		i := strings.Index(s[from:], TokenPrefix)
		if i < 0 {
			return 0, 0, false
		}
		start = from + i
		// "assist_notes" holds "sst_" too: only a word that starts with
		// the prefix is a token.
		if start > 0 && isWordByte(s[start-1]) {
			from = start + 1
			continue
		}
		end = start + len(TokenPrefix)
		for end < len(s) && isTokenByte(s[end]) {
			end++
		}
		if end-start-len(TokenPrefix) >= minTokenBody {
			return start, end, true
		}
		from = start + 1
	}
	return 0, 0, false
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isTokenByte: the characters of a Scispot token after its prefix.
func isTokenByte(c byte) bool { return isWordByte(c) || c == '_' || c == '-' }
