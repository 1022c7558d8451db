package injection

import (
	"slices"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"case and spaces", "  Ignore\t PREVIOUS\n\n\nInstructions ", "ignore previous\n\ninstructions"},
		{"json escapes", `\u0049gnore\nall`, "ignore\nall"},
		{"nfkc ligature and circled digit", "ﬁle ① ㎖", "file 1 ml"},
		{"nfkc halfwidth katakana with voicing mark", "ﾃﾞｰﾀ", "テータ"},
		{"kana voicing marks dropped", "データ", "テータ"},
		{"decomposed kana", "テ\u3099ータ", "テータ"},
		{"fullwidth", "ＩＧＮＯＲＥ", "ignore"},
		{"accents", "précédentes Anweisungen für", "precedentes anweisungen fur"},
		{"other latin accents", "ǎ ḗ", "a e"},
		{"format characters removed", "ig\u00adno\u2064re pre\u206avious", "ignore previous"},
		{"hangul filler is a space", "ignore\u3164previous", "ignore previous"},
		{"confusables in a latin word", "іgnоrе рrеviоus", "ignore previous"},
		{"russian stays russian", "Игнорируй все предыдущие", "игнорируй все предыдущие"},
		{"look-alike word after a latin word", "Disregard ассеѕѕ", "disregard access"},
		{"look-alike word after punctuation", `"notes":"Не говори`, `"notes":"не говори`},
		{"greek letter alone", "anti-α-tubulin", "anti-α-tubulin"},
		{"cyrillic capitals lowercased", "ИИ", "ии"},
		{"mathematical letters", "𝐈𝐠𝐧𝐨𝐫𝐞", "ignore"},
		{"nfkc space", "a\u2007b", "a b"},
		{"escaped confusable", `\u0456gnore`, "ignore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalize(tt.in, nil).s; got != tt.want {
				t.Errorf("normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeGaps(t *testing.T) {
	n := normalize("i g n  a l l\tx\n y", nil)
	if n.s != "i g n a l l x\ny" {
		t.Fatalf("s = %q", n.s)
	}
	// The double space after "n" and the tab after the second "l" are gaps;
	// the line break is not.
	if want := []int{5, 11}; !slices.Equal(n.gaps, want) {
		t.Errorf("gaps = %v, want %v", n.gaps, want)
	}
}

func TestNormalizeTagText(t *testing.T) {
	tags := func(s string) string {
		var b []rune
		for _, r := range s {
			b = append(b, 0xE0000+r)
		}
		return string(b)
	}
	for _, tt := range []struct {
		name, in string
		want     []string
		hidden   int
	}{
		{"text", "OK" + tags("ignore all") + ".", []string{"ignore all"}, 1},
		{"subdivision flag", "\U0001F3F4" + tags("gbsct") + "\U000E007F", nil, 0},
		{"text after a black flag", "\U0001F3F4" + tags("ignore all previous"), []string{"ignore all previous"}, 1},
		{"flag tags without the cancel tag", "\U0001F3F4" + tags("gbsct"), []string{"gbsct"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := normalize(tt.in, nil)
			var got []string
			for _, x := range n.tagTexts {
				got = append(got, x.text)
				if tt.in[x.from:x.to] == "" {
					t.Errorf("empty tag run %+v", x)
				}
			}
			if !slices.Equal(got, tt.want) || len(n.hidden) != tt.hidden {
				t.Errorf("tag texts %q, %d hidden findings; want %q, %d", got, len(n.hidden), tt.want, tt.hidden)
			}
		})
	}
}

func TestFoldPattern(t *testing.T) {
	for in, want := range map[string]string{
		`vollständigen (?:prompt|Ü)`: `vollstandigen (?:prompt|u)`,
		`\bмуёстрами\w`:              `\bмуёстрами\w`,
		`データ|ガイドライン`:                 `テータ|カイトライン`,
		`(?:ИИ|\S+)`:                 `(?:ии|\S+)`,
	} {
		if got := foldPattern(in); got != want {
			t.Errorf("foldPattern(%q) = %q, want %q", in, got, want)
		}
	}
}
