package injection

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Disguised letters. Three disguises keep the letters of a phrase but not
// its words: letters spaced out ("i g n o r e  a l l", "r-e-v-e-a-l"),
// leetspeak ("1gn0r3 4ll pr3v10u5") and ROT13 ("vtaber nyy cerivbhf"). For
// each, the detector reads the normalized text the way the disguise
// undoes ("foldings") and matches the rules again, but only when the
// reading shows one of the words attacks are made of (foldKeys): ordinary
// lab text ("PLT-00142", "A549", plate rows "A B C D") rarely does, so it
// rarely costs a second pass, and a second pass that finds nothing adds
// nothing. A match counts only where the folding changed the text.

// foldKeys are the stems whose appearance in a folded reading makes the
// reading worth matching. Read-only.
var foldKeys = []string{
	"ignor", "disregard", "forget", "previous", "prior", "instruct", "system", "prompt", "reveal", "jailbr",
	"pretend", "exfil", "password", "secret", "apikey", "token", "credential", "export", "youarenow", "you are",
	"developer", "override", "bypass", "restrict", "unfilter", "anweisung", "vergiss", "oubli", "consigne",
	"olvid", "instruc", "précéd", "vorherig",
	"игнор", "забуд", "инструкц", "промпт", "указани",
	"忽略", "无视", "無視", "指令", "指示", "提示", "命令", "システム", "プロンプト",
}

// leetWords are short words that make a leetspeak reading worth matching
// ("4ll", "y0u"): too short to be stems. Read-only.
var leetWords = []string{"all", "alle", "you", "your", "are", "now", "the", "act", "key", "keys", "api", "dan", "not", "rules", "every", "data", "row", "rows", "send", "user", "mode"}

var foldKeyScan = sync.OnceValue(func() *automaton {
	keys := make([]string, len(foldKeys))
	for i, k := range foldKeys {
		keys[i] = foldPattern(k)
	}
	return newAutomaton(keys)
})

var rot13KeyScan = sync.OnceValue(func() *automaton {
	var keys []string
	for _, k := range foldKeys {
		if r := rot13(k); r != k && isASCII(k) {
			keys = append(keys, r)
		}
	}
	return newAutomaton(keys)
})

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// foldings returns the matches (in s, the normalized text) found only in
// the spaced-letter, leetspeak or ROT13 reading of s: not those of found,
// the matches in s itself.
func foldings(s string, gaps []int, found []candidate) []candidate {
	return slices.Concat(spacedLetters(s, gaps), leetspeak(s, found), rot13Reading(s))
}

// rematch matches the rules on t, a reading of s, and keeps the matches
// that overlap what the reading changed (the units of m), reported as rule
// over the range of s they come from. A reading as long as s (ROT13,
// leetspeak) maps to it one to one: identity. Only the text around the
// changes is matched, from the start of its line: a match counts only if
// it overlaps a change, and weak signals count only within window.
func rematch(t string, m offsetMap, identity bool, rule string, found []candidate) []candidate {
	const around = maxSpan + window + 256
	var ws [][2]int
	for _, u := range m {
		from, to := max(u.at-around, 0), min(u.end+around, len(t))
		if nl := strings.LastIndexByte(t[max(from-2*around, 0):from], '\n'); nl >= 0 {
			from = max(from-2*around, 0) + nl + 1
		}
		if n := len(ws); n > 0 && from <= ws[n-1][1] {
			ws[n-1][1] = max(ws[n-1][1], to)
			continue
		}
		ws = append(ws, [2]int{from, to})
	}
	var out []candidate
	for _, w := range ws {
		part := t[w[0]:w[1]]
		for _, c := range outermost(confirm(part, match(part))) {
			c.start += w[0]
			c.end += w[0]
			if m.overlap(c.start, c.end) < 0 {
				continue
			}
			if !identity {
				c.start, c.end = m.start(c.start), m.end(c.end)
			} else if slices.ContainsFunc(found, func(f candidate) bool { return f.rule == c.rule && f.start == c.start && f.end == c.end }) {
				continue // the text matched as it was
			}
			out = append(out, candidate{rule: rule, kind: strong, start: c.start, end: c.end})
		}
	}
	return out
}

// ROT13.

func rot13(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = 'a' + (c-'a'+13)%26
		case 'A' <= c && c <= 'Z':
			b[i] = 'A' + (c-'A'+13)%26
		}
	}
	return string(b)
}

// rot13Reading matches the rules on s in ROT13, if s shows a key word in
// ROT13 ("vtaber" for "ignore").
func rot13Reading(s string) []candidate {
	if !rot13KeyScan().any(s) {
		return nil
	}
	// Every letter changed: one unit over all of s.
	return rematch(rot13(s), offsetMap{{at: 0, end: len(s), from: 0, to: len(s), kind: unitFold}}, true, RuleROT13, nil)
}

// Leetspeak.

// leet maps the digits and symbols of leetspeak to letters; '1', '|' and
// '!' read as "i" or "l", whichever makes a known word.
func leet(c byte) byte {
	switch c {
	case '0':
		return 'o'
	case '1', '!':
		return 'i'
	case '|':
		return 'l'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '8':
		return 'b'
	case '9':
		return 'g'
	}
	return 0
}

func isLeetWordByte(c byte) bool { return leetWordBytes[c] }

// leetChars are the digits and symbols leetspeak uses for letters.
var leetChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = leet(byte(c)) != 0
	}
	return t
}()

// leetWordBytes are the bytes of words leetspeak is read in: letters,
// digits and the symbols leet uses for letters.
var leetWordBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || leet(byte(c)) != 0
	}
	return t
}()

// leetspeak matches the rules on s with its leetspeak words read as
// letters, if one of them reads as a key word. Only words that mix
// letters and leet characters ("1gn0r3", "p@$$w0rd"), or that read as a
// key word altogether ("411"), are read: "5 mL", "37 °C", "PLT-00142",
// "CO2" and "A549" stay as they are or make no word.
func leetspeak(s string, found []candidate) []candidate {
	var (
		m   offsetMap // the words read, as units
		key bool      // a word reads as a key word
	)
	for i := 0; i < len(s); {
		// Look only at words with a digit or a leet symbol in them.
		if !leetChars[s[i]] {
			i++
			continue
		}
		from, j := i, i
		for from > 0 && isLeetWordByte(s[from-1]) {
			from--
		}
		letters, leets, other := 0, 0, false
		for j = from; j < len(s) && isLeetWordByte(s[j]); j++ {
			switch c := s[j]; {
			case 'a' <= c && c <= 'z':
				letters++
			case c == '2' || c == '6':
				other = true
			default:
				leets++
			}
		}
		next := max(j, i+1)
		// '!' and '|' end sentences and cells more often than they
		// spell letters.
		for j > from && (s[j-1] == '!' || s[j-1] == '|') {
			j--
			leets--
		}
		if leets <= 0 || other || j-from < 2 || letters == 0 && j-from > 4 {
			i = next
			continue
		}
		isKey := leetKey(s[from:j])
		if letters > 0 || isKey {
			// A number that reads as a word ("411") is read, but is no
			// reason to read the text on its own.
			key = key || isKey && letters > 0
			m = append(m, unit{at: from, end: j, from: from, to: j, kind: unitFold})
		}
		i = next
	}
	if !key {
		return nil
	}
	b := []byte(s)
	for _, u := range m {
		r, _ := readLeet(s[u.at:u.end])
		copy(b[u.at:u.end], r)
	}
	return rematch(string(b), m, true, RuleLeetspeak, found)
}

// readLeet reads a leetspeak word as letters, and reports whether it
// reads as (or holds) a key word.
func readLeet(w string) (string, bool) {
	var buf [64]byte
	b, key := leetRead(buf[:0], w)
	return string(b), key
}

// leetKey is readLeet without the reading: whether w reads as a key word.
func leetKey(w string) bool {
	var buf [64]byte
	_, key := leetRead(buf[:0], w)
	return key
}

// leetRead appends the reading of the leetspeak word w to b.
func leetRead(b []byte, w string) ([]byte, bool) {
	ones := false // '1' and '!' read as "i" here; as "l" if that makes a key word
	for i := 0; i < len(w); i++ {
		c := leet(w[i])
		if c == 0 {
			c = w[i]
		}
		ones = ones || w[i] == '1' || w[i] == '!'
		b = append(b, c)
	}
	if isKey(b) {
		return b, true
	}
	if !ones {
		return b, false
	}
	for i := 0; i < len(w); i++ {
		if w[i] == '1' || w[i] == '!' {
			b[i] = 'l'
		}
	}
	if isKey(b) {
		return b, true
	}
	for i := 0; i < len(w); i++ {
		if w[i] == '1' || w[i] == '!' {
			b[i] = 'i'
		}
	}
	return b, false
}

func isKey(w []byte) bool {
	if len(w) < 3 {
		return false
	}
	if len(w) <= 5 {
		for _, k := range leetWords {
			if string(w) == k {
				return true
			}
		}
	}
	return len(w) >= 5 && foldKeyScan().anyBytes(w)
}

// Spaced letters.

// isLetterSep reports whether c can stand between the letters of a word
// written spaced out.
func isLetterSep(c byte) bool { return letterSeps[c] }

var letterSeps = [256]bool{' ': true, '.': true, '-': true, '_': true, '*': true, '|': true, '/': true, '~': true, '+': true}

// spacedRun is a run of letters written one by one: s[from:to], and the
// words they spell, with a space where the run has a word break.
type spacedRun struct {
	from, to int
	words    string
}

// spacedRuns finds the runs of at least three single letters in s, each
// separated by the same character: "i g n o r e", "r-e-v-e-a-l",
// "i.g.n.o.r.e a.l.l". Word breaks are wider gaps (gaps, from normalize)
// between letters spaced with spaces, and a space between letters spaced
// with anything else.
func spacedRuns(s string, gaps []int) []spacedRun {
	var out []spacedRun
	// single returns the end of a one-letter word at s[i], or -1.
	single := func(i int) int {
		if i >= len(s) {
			return -1
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r < utf8.RuneSelf && !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '@' || r == '$') ||
			r >= utf8.RuneSelf && !unicode.IsLetter(r) {
			return -1
		}
		if e := i + n; e == len(s) || isLetterSep(s[e]) || s[e] == '\n' || s[e] == ',' || s[e] == ';' || s[e] == ':' || s[e] == '"' || s[e] == ')' {
			return e
		}
		return -1
	}
	for i := 0; i < len(s); {
		if i > 0 && !isLetterSep(s[i-1]) && s[i-1] != '\n' && s[i-1] != '"' && s[i-1] != '(' {
			i++
			continue
		}
		// Most words are not one letter long: a quick look at the next byte.
		if c := s[i]; c < utf8.RuneSelf && i+1 < len(s) && s[i+1] >= 'a' && s[i+1] <= 'z' {
			i++
			continue
		}
		e := single(i)
		if e < 0 {
			i++
			continue
		}
		// First the run's extent, then (for runs long enough) its words.
		type letter struct {
			from, to int
			brk      bool
		}
		var buf [16]letter
		letters := append(buf[:0], letter{i, e, false})
		var sep byte
		wide := false // the separator is followed by a space: "i, g, n"
	run:
		for k := e; k < len(s); {
			c := s[k]
			brk := false
			next := k + 1
			switch {
			case sep == 0 && (c == ',' || c == ';') && k+1 < len(s) && s[k+1] == ' ':
				sep, wide, next = c, true, k+2
			case c == sep && wide:
				if k+1 >= len(s) || s[k+1] != ' ' {
					break run
				}
				next = k + 2
			case sep == 0 && isLetterSep(c):
				sep = c
			case c == sep && c == ' ':
				_, brk = slices.BinarySearch(gaps, k)
			case c == sep:
				// "i.g.n.o.r.e. a.l.l": a separator, then a space.
				if k+1 < len(s) && s[k+1] == ' ' {
					brk, next = true, k+2
				}
			case c == ' ' && sep != ' ' && k+2 < len(s) && s[k+1] == sep && s[k+2] == ' ':
				brk, next = true, k+3 // "d/i/s / p/r/e"
			case c == ' ' || c == '\n' && (k+1 >= len(s) || s[k+1] != '\n'):
				brk = true // "i.g.n.o.r.e a.l.l", or a line break
			default:
				break run
			}
			f := single(next)
			if f < 0 {
				break
			}
			letters = append(letters, letter{next, f, brk})
			k = f
		}
		end := letters[len(letters)-1].to
		if len(letters) >= 3 {
			var words strings.Builder
			for _, l := range letters {
				if l.brk {
					words.WriteByte(' ')
				}
				words.WriteString(s[l.from:l.to])
			}
			out = append(out, spacedRun{from: i, to: end, words: words.String()})
		}
		i = max(end, i+1)
	}
	return out
}

// spacedLetters matches the rules on s with its spaced-out runs joined,
// and the strong rules, with the spaces taken out of them, on runs with no
// word breaks to read ("I G N O R E A L L P R E V I O U S").
func spacedLetters(s string, gaps []int) []candidate {
	var runs []spacedRun
	for _, r := range spacedRuns(s, gaps) {
		w := readSpaced(r.words)
		if slices.Contains(leetWords, w) || foldKeyScan().any(strings.ReplaceAll(w, " ", "")) {
			runs = append(runs, spacedRun{r.from, r.to, w})
		}
	}
	if len(runs) == 0 {
		return nil
	}
	var (
		b    strings.Builder
		m    offsetMap
		last int
		out  []candidate
	)
	for _, r := range runs {
		b.WriteString(s[last:r.from])
		at := b.Len()
		b.WriteString(r.words)
		m = append(m, unit{at: at, end: b.Len(), from: r.from, to: r.to, kind: unitFold})
		last = r.to

		squashed := strings.ReplaceAll(r.words, " ", "")
		if strings.Contains(r.words, " ") || len(squashed) < 8 {
			continue
		}
		for _, re := range squashedRules() {
			if re.MatchString(squashed) {
				out = append(out, candidate{rule: RuleSpacedLetters, kind: strong, start: r.from, end: r.to})
				break
			}
		}
	}
	b.WriteString(s[last:])
	return append(out, rematch(b.String(), m, false, RuleSpacedLetters, nil)...)
}

// readSpaced reads the letters of a spaced run: leetspeak in them too
// ("1 g n 0 r 3").
func readSpaced(w string) string {
	if !strings.ContainsAny(w, "0134578@$9") {
		return w
	}
	var b strings.Builder
	for _, word := range strings.Split(w, " ") {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if r, _ := readLeet(word); isASCII(word) {
			b.WriteString(r)
		} else {
			b.WriteString(word)
		}
	}
	return b.String()
}

// squashedRules are the strong rules' patterns with the spaces and word
// boundaries taken out, for letters spaced out with no word breaks to
// read: "ignoreallpreviousinstructions". Built on first use.
var squashedRules = sync.OnceValue(func() []*regexp.Regexp {
	var out []*regexp.Regexp
	unspace := strings.NewReplacer(`\s+`, "", `\s*`, "", `\b`, "")
	for _, r := range rules {
		if r.kind != strong || r.re == nil || r.after != "" {
			continue
		}
		p := strings.TrimSuffix(strings.TrimPrefix(r.re.String(), "^(?:"), ")")
		out = append(out, regexp.MustCompile(unspace.Replace(p)))
	}
	return out
})
