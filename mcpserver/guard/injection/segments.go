package injection

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// Encoded runs. A run of base64 or of hex digits is decoded on its own,
// and reported, as a whole, when what it decodes to is text that itself
// has findings. Images, hashes and checksums decode to binary and are
// dropped after a look at their first bytes.
const (
	minBase64 = 24
	maxBase64 = 64 << 10
	// minHexBytes is the shortest hex run decoded: shorter ones are IDs.
	minHexBytes = 12
)

func isBase64Byte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

func isHexByte(c byte) bool {
	_, ok := unhex(c)
	return ok
}

// segments finds the base64 and hex runs of text that decode to
// instructions. One pass over text finds both: a hex run is a base64 run
// (or, as "69 67 6e …", a row of two-character ones).
func (sc *scanner) segments(text string, depth int) []Finding {
	var out []Finding
	for i := 0; i < len(text); {
		if !isBase64Byte(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isBase64Byte(text[j]) {
			j++
		}
		end := j
		for end < len(text) && end-j < 2 && text[end] == '=' {
			end++
		}
		run := text[i:j]
		switch {
		case len(run) == 2 || len(run) == 4 && run[0] == '0' && run[1] == 'x':
			// Perhaps the first byte of a row: "69 67 6e", "0x69, 0x67".
			to, decoded, ok := hexRow(text, i)
			if ok && sc.spend(len(decoded)) && hasInstructions(sc.detect(decoded, depth+1)) {
				out = append(out, Finding{Rule: RuleHex, Start: i, End: to})
			}
			if to > j {
				i = to // a row is read once
				continue
			}
		case len(run) >= 2*minHexBytes && len(run) <= 2*maxBase64:
			if decoded, ok := decodeHex(strings.TrimPrefix(run, "0x")); ok {
				if sc.spend(len(decoded)) && hasInstructions(sc.detect(decoded, depth+1)) {
					out = append(out, Finding{Rule: RuleHex, Start: i, End: j})
				}
				i = end
				continue
			}
		}
		if len(run) >= minBase64 && len(run) <= maxBase64 {
			if decoded, ok := decodeBase64(run); ok && sc.spend(len(decoded)) {
				if hasInstructions(sc.detect(decoded, depth+1)) {
					out = append(out, Finding{Rule: RuleBase64, Start: i, End: end})
				}
			}
		}
		i = end
	}
	return out
}

// decodeHex decodes a run of hex digits and reports whether it looks like
// text.
func decodeHex(s string) (string, bool) {
	if len(s)%2 == 1 {
		s = s[:len(s)-1]
	}
	// A look at the first bytes rejects hashes cheaply.
	b := make([]byte, 0, min(len(s), 64)/2)
	for i := 0; i+1 < len(s); i += 2 {
		c, ok := hexByte(s, i)
		if !ok {
			return "", false
		}
		b = append(b, c)
		if len(b) == 32 && !looksLikeText(b) {
			return "", false
		}
	}
	if len(b) < minHexBytes || !looksLikeText(b) {
		return "", false
	}
	return string(b), true
}

// hexRow reads a row of hex bytes written one by one, "69 67 6e …",
// "69:67:6e", "0x69, 0x67, …", starting at text[i]. It returns the end of
// the row (i if there is none) and its bytes; ok=false if the row is too
// short or its bytes are not text.
func hexRow(text string, i int) (int, string, bool) {
	var b []byte
	sep := ""
	end := i
	for j := i; ; {
		k := j
		if strings.HasPrefix(text[k:], "0x") {
			k += 2
		}
		c, ok := hexByte(text, k)
		if !ok || k+2 < len(text) && isBase64Byte(text[k+2]) {
			break
		}
		b = append(b, c)
		end = k + 2
		// The separator after the first byte is the row's.
		s := end
		for s < len(text) && s-end < 2 && strings.IndexByte(" ,:-", text[s]) >= 0 {
			s++
		}
		if sep == "" {
			sep = text[end:s]
		}
		if sep == "" || text[end:s] != sep {
			break
		}
		j = s
	}
	if len(b) < minHexBytes || !looksLikeText(b) {
		return end, "", false
	}
	return end, string(b), true
}

// decodeBase64 decodes s (standard or URL alphabet, padding optional) and
// reports whether it looks like text.
func decodeBase64(s string) (string, bool) {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		if strings.ContainsAny(s, "+/") {
			return "", false
		}
		enc = base64.RawURLEncoding
	}
	if len(s)%4 == 1 { // not a whole number of base64 characters
		s = s[:len(s)-1]
	}
	// A look at the first bytes rejects images and hashes cheaply.
	head := s[:min(len(s), 64)/4*4]
	if b, err := enc.DecodeString(head); err != nil || !looksLikeText(b) {
		return "", false
	}
	b, err := enc.DecodeString(s)
	if err != nil || !looksLikeText(b) {
		return "", false
	}
	return string(b), true
}

// looksLikeText reports whether b is UTF-8 text with words: mostly
// printable, with spaces, in a script written without them, or itself
// escaped ("%69%67…").
func looksLikeText(b []byte) bool {
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	n, printable, spaces, unspaced, escapes := 0, 0, 0, 0, 0
	for _, r := range string(b) {
		n++
		switch {
		case r == ' ':
			spaces++
			printable++
		case r == '%' || r == '&' || r == '\\':
			escapes++
			printable++
		case r == '\n' || r == '\t' || r == '\r':
			printable++
		case r >= 0x20 && r != 0x7f:
			printable++
			if isCJK(r) {
				unspaced++
			}
		}
	}
	return (spaces > 0 || unspaced >= 4 || escapes >= 4) && printable*100 >= n*95
}
