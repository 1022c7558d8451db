package policy

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on SignatureMeanings: a meaning is a word or two that a person
// picks from a short list and a QA reviewer reads beside each signature.
const (
	maxMeanings     = 16
	maxMeaningBytes = 64
)

// refusingStems begin the words that make a meaning refuse the write it
// signs ("Rejected", "Declined", "Denied", "Disapproved", "Refused");
// refusingWords are whole words that do ("Not approved", "No").
var (
	refusingStems = [...]string{"reject", "declin", "deny", "denied", "disapprov", "refus"}
	refusingWords = [...]string{"not", "no"}
)

// MeaningAuthorises reports whether a signature with this meaning lets the
// write it signs through. By convention, and so that an admin can name
// meanings in the lab's own words, a meaning refuses the write when one of
// its words (case-insensitive) begins with reject, declin, deny, denied,
// disapprov or refus, or is "not" or "no"; every other meaning ("Approved",
// "Reviewed and approved", "Verified") authorises it. A refusing signature
// is recorded like any other, and the write is not made.
func MeaningAuthorises(meaning string) bool {
	words := strings.FieldsFunc(strings.ToLower(meaning), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) == 0 {
		return false
	}
	for _, w := range words {
		for _, s := range refusingStems {
			if strings.HasPrefix(w, s) {
				return false
			}
		}
		for _, x := range refusingWords {
			if w == x {
				return false
			}
		}
	}
	return true
}

// checkSignatureMeanings accepts a short list of distinct, printable
// meanings of which at least one authorises a write: with none, no write
// could ever be approved, which is AllowWriteTools' job to say.
func checkSignatureMeanings(v any) string {
	l := v.([]string)
	switch {
	case len(l) == 0:
		return `must name at least one meaning, such as ["Approved", "Rejected"]`
	case len(l) > maxMeanings:
		return fmt.Sprintf("names %d meanings; at most %d are allowed", len(l), maxMeanings)
	}
	seen := map[string]int{}
	authorising := false
	for i, m := range l {
		if strings.TrimSpace(m) != m {
			return fmt.Sprintf("item %d %q has leading or trailing spaces", i+1, m)
		}
		if len(m) > maxMeaningBytes {
			return fmt.Sprintf("item %d is longer than %d bytes", i+1, maxMeaningBytes)
		}
		if !utf8.ValidString(m) || strings.IndexFunc(m, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) >= 0 {
			return fmt.Sprintf("item %d %q has characters that do not print", i+1, m)
		}
		key := strings.ToLower(m)
		if j, ok := seen[key]; ok {
			return fmt.Sprintf("names %q twice (items %d and %d)", m, j, i+1)
		}
		seen[key] = i + 1
		authorising = authorising || MeaningAuthorises(m)
	}
	if !authorising {
		return fmt.Sprintf("has no meaning that approves a write (%q all refuse it: a meaning refuses when a word starts with reject, declin, deny, disapprov or refus, or is not or no)", l)
	}
	return ""
}
