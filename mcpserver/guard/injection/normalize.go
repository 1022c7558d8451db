package injection

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalized is the text the phrase rules match against: Unicode NFKC,
// case-folded, whitespace collapsed, invisible characters removed,
// JSON/JS escapes decoded, accents dropped and look-alike letters folded
// to ASCII.
type normalized struct {
	s string
	// hidden are the hidden-text findings met on the way (original offsets).
	hidden []Finding
	// tagTexts are the runs of tag characters that spell text, decoded.
	tagTexts []tagText
	// gaps are the offsets in s of spaces that stand for two or more
	// blanks on one line: the word breaks of text written with its letters
	// spaced out ("i g n o r e  a l l").
	gaps []int
	// When normalize was asked for offsets: for each wanted byte i of s
	// (ascending), from[k] and to[k] are the range of the original text
	// that produced it.
	want, from, to []int
}

// tagText is a run of Unicode tag characters, text[from:to], and the ASCII
// it spells.
type tagText struct {
	from, to int
	text     string
}

// span maps the byte range [i, j) of the normalized text back to the
// original; i and j-1 must have been wanted.
func (n *normalized) span(i, j int) (int, int) {
	a, _ := slices.BinarySearch(n.want, i)
	b, _ := slices.BinarySearch(n.want, j-1)
	return n.from[a], n.to[b]
}

// Classes of invisible characters. All are removed before matching; the
// hidden-text rules decide which of them are worth a finding.
const (
	invNone = iota
	invZeroWidth
	invBidi
	invTag
	invOther // soft hyphen, variation selectors, other format characters: removed, never reported
)

func invisibleClass(r rune) int {
	switch {
	case r < 0xAD:
		return invNone
	case r >= 0x200B && r <= 0x200F, r >= 0x2060 && r <= 0x2064, r == 0xFEFF:
		return invZeroWidth
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x061C:
		return invBidi
	case r >= 0xE0000 && r <= 0xE007F:
		return invTag
	case r == 0x00AD, r == 0x034F, r >= 0x180B && r <= 0x180F, r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF:
		return invOther
	case unicode.Is(unicode.Cf, r): // the other format characters: U+206A–206F, U+FFF9–FFFB, …
		return invOther
	}
	return invNone
}

func isSpace(r rune) bool {
	switch r {
	case 0x00A0, 0x202F, 0x205F, 0x3000, 0x2028, 0x2029, 0x0085,
		0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800: // Hangul fillers and the braille blank render as blanks
		return true
	}
	return unicode.IsSpace(r) || (r >= 0x2000 && r <= 0x200A)
}

func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 || r == 0x0085
}

// fold maps one rune to the form the rules are written in: ASCII letters
// lowercased, fullwidth and mathematical letters to ASCII, accents
// dropped, kana without their voicing marks (so text decomposed as macOS
// writes it, or written in halfwidth katakana, reads the same). It returns
// -1 for a rune to drop (combining marks). Look-alike letters of other
// scripts are folded by normalize, which needs the word around them.
func fold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
		return fold(r - 0xFEE0)
	case r >= 0x1D400 && r <= 0x1D6A3: // mathematical bold/italic/script… letters
		return 'a' + (r-0x1D400)%52%26
	case r >= 0x1D7CE && r <= 0x1D7FF: // mathematical digits
		return '0' + (r-0x1D7CE)%10
	case r >= 0x24B6 && r <= 0x24CF: // circled capitals
		return 'a' + r - 0x24B6
	case r >= 0x24D0 && r <= 0x24E9: // circled small letters
		return 'a' + r - 0x24D0
	case r >= 0x0300 && r <= 0x036F, r >= 0x3099 && r <= 0x309C, r == 0xFF9E || r == 0xFF9F: // combining diacritics, voicing marks
		return -1
	case r >= 0x3040 && r <= 0x30FF:
		return devoice(r)
	}
	r = unicode.ToLower(r)
	if f, ok := latinFold[r]; ok {
		return f
	}
	if r >= 0x100 && r < 0x250 || r >= 0x1E00 && r < 0x1F00 {
		// Other Latin letters with diacritics: their base letter.
		if d := decomposition(r); d != "" && d[0] < utf8.RuneSelf {
			return fold(rune(d[0]))
		}
	}
	return r
}

// devoice maps a kana with a voicing mark (が, パ) to the kana without it.
func devoice(r rune) rune {
	d := decomposition(r)
	if b, n := utf8.DecodeRuneInString(d); n > 0 && n < len(d) {
		return b
	}
	return r
}

// decomposition is r's canonical decomposition, "" if it has none.
func decomposition(r rune) string {
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	return string(norm.NFD.Properties(b[:n]).Decomposition())
}

// foldPattern folds the non-ASCII letters of a rule pattern the way fold
// folds text, so patterns can be written in their languages' spelling
// ("vollständigen", "précédentes", "データ"). ASCII, which carries the
// regular expression syntax, is left as it is.
func foldPattern(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		if f := fold(r); f >= 0 {
			b.WriteRune(f)
		}
	}
	return b.String()
}

// fastFold reports whether fold maps r without NFKC's help.
func fastFold(r rune) bool {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E, r >= 0x1D400 && r <= 0x1D6A3, r >= 0x1D7CE && r <= 0x1D7FF,
		r >= 0x24B6 && r <= 0x24E9, r >= 0x0300 && r <= 0x036F:
		return true
	}
	_, ok := latinFold[r]
	if !ok {
		_, ok = confusables[r]
	}
	return ok
}

// latinFold drops the accents of Latin letters, so "ignoré" matches
// "ignore", and folds punctuation variants. Folding only ever feeds
// matching: the text that passes on is never changed by it. Read-only.
var latinFold = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ā': 'a', 'ă': 'a', 'ą': 'a',
	'ç': 'c', 'ć': 'c', 'č': 'c', 'ď': 'd', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e', 'ē': 'e',
	'ė': 'e', 'ę': 'e', 'ě': 'e', 'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ī': 'i', 'ı': 'i',
	'ñ': 'n', 'ń': 'n', 'ň': 'n', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ø': 'o',
	'ō': 'o', 'ő': 'o', 'ŕ': 'r', 'ř': 'r', 'ś': 's', 'š': 's', 'ş': 's', 'ť': 't', 'ù': 'u',
	'ú': 'u', 'û': 'u', 'ü': 'u', 'ū': 'u', 'ů': 'u', 'ű': 'u', 'ý': 'y', 'ÿ': 'y', 'ź': 'z',
	'ż': 'z', 'ž': 'z', 'ß': 's', 'ł': 'l', 'ɡ': 'g',
	// punctuation variants
	'\u2018': '\'', '\u2019': '\'', '\u02BC': '\'', '\u2032': '\'', '\u201C': '"', '\u201D': '"',
	'\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2212': '-',
	'\uFF1A': ':', '\uFE55': ':', '\u2236': ':',
}

// confusables are the letters of other scripts that attackers substitute
// for Latin ones ("іgnоrе" with Cyrillic і, о, е). They are folded only in
// words that also hold Latin letters, or that follow a Latin word, so
// Russian or Greek text keeps its own letters. Read-only.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p',
	'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd',
	'ԛ': 'q', 'ԝ': 'w', 'ӏ': 'l', 'һ': 'h', 'ո': 'n', 'ս': 'u',
	// Greek
	'α': 'a', 'ε': 'e', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x',
}

// decodeEscape decodes a JSON/JavaScript escape at text[i] (a backslash).
// It returns the rune and the escape's length, or ok=false when text[i:]
// is not a valid escape (the backslash is then ordinary text). A run of
// backslashes before the escape is taken as escaping of the escape, so JSON
// carried inside a JSON string ("\\n", "\\u0069") reads as its text.
func decodeEscape(text string, i int) (r rune, n int, ok bool) {
	j := i
	for j < len(text) && text[j] == '\\' {
		j++
	}
	if j-i >= 2 && (j >= len(text) || !isEscapeLetter(text[j])) {
		return '\\', 2, true // an escaped backslash
	}
	if j >= len(text) {
		return 0, 0, false
	}
	k := j - i - 1 // backslashes before the last one
	switch text[j] {
	case 'n':
		return '\n', k + 2, true
	case 'r':
		return '\r', k + 2, true
	case 't', 'b', 'f':
		return ' ', k + 2, true
	case '"', '/', '\'':
		return rune(text[j]), k + 2, true
	case 'u':
		r1, ok := hex4(text, j+1)
		if !ok {
			return 0, 0, false
		}
		// A surrogate pair: \uD83D\uDE00, each half escaped alike.
		if r1 >= 0xD800 && r1 < 0xDC00 {
			p := j + 5
			q := p
			for q < len(text) && text[q] == '\\' {
				q++
			}
			if q-p == k+1 && q < len(text) && text[q] == 'u' {
				if r2, ok := hex4(text, q+1); ok && r2 >= 0xDC00 && r2 < 0xE000 {
					return (r1-0xD800)<<10 + (r2 - 0xDC00) + 0x10000, q + 5 - i, true
				}
			}
		}
		if r1 >= 0xD800 && r1 < 0xE000 {
			return utf8.RuneError, k + 6, true
		}
		return r1, k + 6, true
	}
	return 0, 0, false
}

func isEscapeLetter(c byte) bool {
	switch c {
	case 'n', 'r', 't', 'b', 'f', '"', '/', '\'', 'u':
		return true
	}
	return false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// normalize builds the matching form of text, collecting the hidden-text
// findings. want, if not empty, lists (ascending, without repeats) bytes of
// the normalized text whose origin in text is needed (see span): keeping
// only those, not a map of every byte, bounds the memory a large result
// costs.
func normalize(text string, want []int) normalized {
	n := normalized{want: want}
	if len(want) > 0 {
		n.from = make([]int, 0, len(want))
		n.to = make([]int, 0, len(want))
	}
	buf := make([]byte, 0, len(text))
	k := 0 // next wanted
	record := func(from, to int) {
		for k < len(want) && want[k] < len(buf) {
			n.from = append(n.from, from)
			n.to = append(n.to, to)
			k++
		}
	}
	emitByte := func(c byte, from, to int) {
		buf = append(buf, c)
		if k < len(want) {
			record(from, to)
		}
	}
	emit := func(r rune, from, to int) {
		if r < utf8.RuneSelf {
			emitByte(byte(r), from, to)
			return
		}
		buf = utf8.AppendRune(buf, r)
		if k < len(want) {
			record(from, to)
		}
	}

	// Words, for folding look-alike letters: from a word's first
	// look-alike on, its letters are held back until the word ends and
	// shows whether it is Latin. A word of look-alikes only is folded when
	// a Latin word comes right before it, with nothing but spaces between.
	type heldRune struct {
		r        rune
		from, to int
	}
	var held []heldRune
	inWord, wordLatin, wordOther, prevLatin := false, false, false, false
	endWord := func() {
		if len(held) > 0 {
			latin := wordLatin || prevLatin && !wordOther
			for _, h := range held {
				r := h.r
				if f, ok := confusables[r]; ok && latin {
					r = f
				}
				emit(r, h.from, h.to)
			}
			held = held[:0]
		}
		if inWord {
			prevLatin = wordLatin
		}
		inWord, wordLatin, wordOther = false, false, false
	}
	// letter passes on a letter or digit (folded) of the current word.
	letter := func(r rune, from, to int) {
		inWord = true
		if len(held) > 0 {
			held = append(held, heldRune{r, from, to})
			return
		}
		emit(r, from, to)
	}

	// Whitespace runs collapse to one space, to "\n" if the run broke a
	// line (the chat-marker rules anchor at line starts), or to "\n\n" if
	// it ended a paragraph (weak signals must share a paragraph).
	spaceFrom, spaceTo, lines, blanks := -1, -1, 0, 0
	flushSpace := func() {
		if spaceFrom < 0 {
			return
		}
		if len(buf) > 0 { // leading whitespace is dropped
			switch {
			case lines == 0:
				if blanks >= 2 {
					n.gaps = append(n.gaps, len(buf))
				}
				emitByte(' ', spaceFrom, spaceTo)
			case lines == 1:
				emitByte('\n', spaceFrom, spaceTo)
			default:
				emitByte('\n', spaceFrom, spaceTo)
				emitByte('\n', spaceFrom, spaceTo)
			}
		}
		spaceFrom, lines, blanks = -1, 0, 0
	}
	space := func(r rune, from, to, next int) {
		if inWord {
			endWord()
		}
		if spaceFrom < 0 {
			spaceFrom = from
		}
		spaceTo = to
		blanks++
		if r == '\t' {
			blanks++
		}
		if isLineBreak(r) && !(r == '\r' && (strings.HasPrefix(text[next:], "\n") || strings.HasPrefix(text[next:], `\n`))) {
			lines++
		}
	}

	// Invisible characters can only come from non-ASCII text or \u
	// escapes; plain ASCII skips the hidden-text bookkeeping.
	var h *hiddenScanner
	if hasNonASCII(text) || strings.Contains(text, `\u`) {
		h = &hiddenScanner{}
	}
	// visible passes on a visible non-ASCII rune, folded, that came from
	// text[from:to].
	visible := func(r rune, from, to int) {
		if isSpace(r) { // NFKC makes some symbols spaces
			space(r, from, to, to)
			return
		}
		flushSpace()
		if h != nil {
			h.visible(r, from, to)
		}
		f := fold(r)
		switch {
		case f < 0:
			return
		case f < utf8.RuneSelf:
			if c := byte(f); 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
				wordLatin = wordLatin || c >= 'a'
				letter(f, from, to)
				return
			}
		default:
			if _, ok := confusables[f]; ok {
				inWord = true
				held = append(held, heldRune{f, from, to})
				return
			}
			if unicode.IsLetter(f) || unicode.IsDigit(f) || unicode.IsMark(f) {
				if unicode.Is(unicode.Latin, f) {
					wordLatin = true
				} else if !unicode.IsMark(f) {
					wordOther = true
				}
				letter(f, from, to)
				return
			}
		}
		if inWord {
			endWord()
		}
		prevLatin = false
		emit(f, from, to)
	}

	for i := 0; i < len(text); {
		// ASCII other than a backslash: the common case, kept cheap.
		if c := text[i]; c < utf8.RuneSelf && c != '\\' {
			switch c {
			case ' ', '\t', '\n', '\r', '\v', '\f':
				if h != nil {
					h.boundary()
				}
				space(rune(c), i, i+1, i+1)
			default:
				flushSpace()
				if h != nil {
					h.visible(rune(c), i, i+1)
				}
				switch {
				case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
					wordLatin = true
					letter(rune(c|0x20), i, i+1)
				case '0' <= c && c <= '9':
					letter(rune(c), i, i+1)
				default:
					if inWord {
						endWord()
					}
					prevLatin = false
					emitByte(c, i, i+1)
				}
			}
			i++
			continue
		}

		r, size := utf8.DecodeRuneInString(text[i:])
		escaped := false
		if r == '\\' {
			if er, en, ok := decodeEscape(text, i); ok {
				r, size, escaped = er, en, true
			}
		}
		from, to := i, i+size
		i = to

		if c := invisibleClass(r); c != invNone {
			if h == nil {
				h = &hiddenScanner{} // an escape decoded to one after all
			}
			h.invisible(c, r, from, to)
			continue
		}
		if isSpace(r) {
			if h != nil {
				h.boundary()
			}
			space(r, from, to, i)
			continue
		}
		if r >= utf8.RuneSelf && !fastFold(r) {
			// NFKC: compatibility characters ("ﬁ", "①", halfwidth kana) to
			// their ordinary form, with any combining marks after them.
			seg := text[from:to]
			if !escaped {
				j := to
				for j < len(text) && text[j] >= utf8.RuneSelf {
					p := norm.NFKC.PropertiesString(text[j:])
					if p.Size() == 0 || p.BoundaryBefore() {
						break
					}
					j += p.Size()
				}
				seg = text[from:j]
			} else {
				seg = string(r)
			}
			if !norm.NFKC.IsNormalString(seg) {
				if !escaped {
					to, i = from+len(seg), from+len(seg)
				}
				for _, r := range norm.NFKC.String(seg) {
					visible(r, from, to)
				}
				continue
			}
		}
		if r < utf8.RuneSelf { // an escape decoded to ASCII
			flushSpace()
			if h != nil {
				h.visible(r, from, to)
			}
			switch f := fold(r); {
			case 'a' <= f && f <= 'z':
				wordLatin = true
				letter(f, from, to)
			case '0' <= f && f <= '9':
				letter(f, from, to)
			default:
				if inWord {
					endWord()
				}
				prevLatin = false
				emit(f, from, to)
			}
			continue
		}
		visible(r, from, to)
	}
	endWord()
	n.s = string(buf)
	if h != nil {
		h.finish()
		n.hidden = h.findings
		n.tagTexts = h.tagTexts
	}
	return n
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// hiddenScanner reports invisible characters used to hide or disguise text:
//
//   - Unicode tag characters (U+E0000–U+E007F) spell out invisible ASCII; a
//     run of them is always reported, except a subdivision flag (🏴, two to
//     seven tag letters or digits, the cancel tag: the flag of Scotland).
//     What a run spells is kept (tagTexts) for the rules to read.
//   - Bidirectional overrides, embeddings and isolates reorder what a person
//     sees against what a model reads; every run is reported.
//   - Zero-width characters inside words split a word so simple filters miss
//     it. One stray zero-width space is common in text pasted from web pages,
//     so a word is reported only when it holds two or more of them, and any
//     in-word one once the text holds three or more.
type hiddenScanner struct {
	findings []Finding
	tagTexts []tagText

	runClass         int // invTag or invBidi while inside such a run
	runFrom, runTo   int
	runAfterFlag     bool
	tagText          []byte // what the current tag run spells
	tagCancelled     bool   // the current tag run ended with the cancel tag
	prev             rune   // last visible rune before the current position
	prevFlag         bool   // the last visible rune was U+1F3F4 (black flag)
	pendingZW        []zwChar
	wordZW           []zwChar // in-word zero-widths of the current word
	wordFrom, wordTo int
	allZW            []zwSpan // words with in-word zero-widths, for the total rule
	inWordZWTotal    int
}

type zwChar struct{ from, to int }

type zwSpan struct {
	from, to, count int
}

func (h *hiddenScanner) invisible(class int, r rune, from, to int) {
	switch class {
	case invTag, invBidi:
		if h.runClass != class {
			h.endRun()
			h.runClass, h.runFrom = class, from
			h.runAfterFlag = class == invTag && h.prevFlag
			h.tagText, h.tagCancelled = h.tagText[:0], false
		}
		h.runTo = to
		if class == invTag {
			h.tagCancelled = r == 0xE007F
			if r >= 0xE0020 && r < 0xE007F {
				h.tagText = append(h.tagText, byte(r-0xE0000))
			}
		}
	case invZeroWidth:
		h.endRun()
		if r == 0xFEFF && h.prev == 0 && from == 0 {
			return // a byte-order mark
		}
		h.pendingZW = append(h.pendingZW, zwChar{from, to})
	}
}

// visible sees a visible rune at text[from:to].
func (h *hiddenScanner) visible(r rune, from, to int) {
	h.endRun()
	var letter bool
	if r < utf8.RuneSelf {
		c := byte(r) | 0x20
		letter = 'a' <= c && c <= 'z' || '0' <= r && r <= '9'
	} else {
		letter = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	if len(h.pendingZW) > 0 {
		if letter && h.prev != 0 && (unicode.IsLetter(h.prev) || unicode.IsDigit(h.prev)) {
			h.wordZW = append(h.wordZW, h.pendingZW...)
		}
		h.pendingZW = h.pendingZW[:0]
	}
	if letter {
		if h.prev == 0 || !(unicode.IsLetter(h.prev) || unicode.IsDigit(h.prev)) {
			h.endWord()
			h.wordFrom = from
		}
		h.wordTo = to
	} else {
		h.endWord()
	}
	h.prev = r
	h.prevFlag = r == 0x1F3F4
}

// boundary is whitespace: it ends words and runs.
func (h *hiddenScanner) boundary() {
	h.endRun()
	h.endWord()
	h.pendingZW = h.pendingZW[:0]
	h.prev = ' '
	h.prevFlag = false
}

func (h *hiddenScanner) endRun() {
	switch h.runClass {
	case invTag:
		if h.runAfterFlag && h.tagCancelled && isSubdivision(h.tagText) {
			break
		}
		h.findings = append(h.findings, Finding{Rule: RuleHiddenTags, Start: h.runFrom, End: h.runTo})
		if len(h.tagText) > 0 {
			h.tagTexts = append(h.tagTexts, tagText{h.runFrom, h.runTo, string(h.tagText)})
		}
	case invBidi:
		h.findings = append(h.findings, Finding{Rule: RuleHiddenBidi, Start: h.runFrom, End: h.runTo})
	}
	h.runClass = invNone
}

func (h *hiddenScanner) endWord() {
	if len(h.wordZW) > 0 {
		h.allZW = append(h.allZW, zwSpan{from: h.wordFrom, to: h.wordTo, count: len(h.wordZW)})
		h.inWordZWTotal += len(h.wordZW)
		h.wordZW = h.wordZW[:0]
	}
}

func (h *hiddenScanner) finish() {
	h.endRun()
	h.endWord()
	for _, w := range h.allZW {
		if w.count >= 2 || h.inWordZWTotal >= 3 {
			h.findings = append(h.findings, Finding{Rule: RuleHiddenZeroWidth, Start: w.from, End: w.to})
		}
	}
}

// isSubdivision reports whether the tags after a black flag name a region
// (ISO 3166-2 without the hyphen: "gbsct", "usca").
func isSubdivision(tags []byte) bool {
	if len(tags) < 2 || len(tags) > 7 {
		return false
	}
	for _, c := range tags {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
