package keychain

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTokenBytes is the longest token CleanToken accepts. Scispot tokens are
// far shorter; the limit catches a paste of the wrong thing and keeps the
// token within every platform's keychain limits (Windows allows 2560 bytes).
const MaxTokenBytes = 2048

// ErrInvalidToken is matched by every error CleanToken returns.
var ErrInvalidToken = errors.New("invalid token")

// Messages CleanToken can return. They are fixed text (plus a character
// position) so that no part of the input can ever appear in an error; the
// fuzz test checks that.
const (
	msgTokenEmpty    = "the token is empty — copy the API token from your Scispot account settings and paste it again"
	msgTokenTooLong  = "the token is longer than 2048 bytes — check that only the token was copied"
	msgTokenNotUTF8  = "the token is not valid text (not UTF-8) — copy it again from Scispot"
	msgTokenBearer   = `the token starts with the word "Bearer" — paste only the token itself`
	msgTokenNUL      = "the token contains a NUL byte at character %d — copy it again from Scispot"
	msgTokenControl  = "the token contains a control character (such as a tab or line break) at character %d — paste it as a single line"
	msgTokenSpace    = "the token contains a space at character %d — paste only the token, without spaces"
	msgTokenNonASCII = "the token contains a non-ASCII character at character %d — Scispot tokens use only ASCII letters, digits and punctuation"
)

// CleanToken trims surrounding whitespace from a pasted token and checks that
// what remains can be a Scispot API token: not empty, at most MaxTokenBytes,
// and only visible ASCII characters (Scispot tokens are ASCII, and the token
// travels in an HTTP Authorization header). Errors match ErrInvalidToken,
// say what is wrong in plain words, and never include the input.
func CleanToken(raw string) (string, error) {
	token := strings.TrimSpace(raw)
	switch {
	case token == "":
		return "", tokenError(msgTokenEmpty)
	case len(token) > MaxTokenBytes:
		return "", tokenError(msgTokenTooLong)
	case !utf8.ValidString(token):
		return "", tokenError(msgTokenNotUTF8)
	case len(token) > len("bearer ") && strings.EqualFold(token[:len("bearer ")], "bearer "):
		return "", tokenError(msgTokenBearer)
	}
	pos := 0
	for _, r := range token {
		pos++
		switch {
		case r == 0:
			return "", tokenError(fmt.Sprintf(msgTokenNUL, pos))
		case unicode.IsControl(r):
			return "", tokenError(fmt.Sprintf(msgTokenControl, pos))
		case unicode.IsSpace(r):
			return "", tokenError(fmt.Sprintf(msgTokenSpace, pos))
		case r > '~':
			return "", tokenError(fmt.Sprintf(msgTokenNonASCII, pos))
		}
	}
	return token, nil
}

func tokenError(reason string) error {
	return &Error{Op: opCheckToken, Kind: ErrInvalidToken, Reason: reason}
}
