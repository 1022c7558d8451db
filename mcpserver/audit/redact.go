package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// MaxArgsBytes is the largest args value a record carries. Larger arguments
// are replaced by a truncation marker (see RedactArgs).
const MaxArgsBytes = 4096

// Redacted replaces every removed secret (the marker of package redact,
// which decides what a secret is).
const Redacted = redact.Marker

// sensitiveKeyWords are matched against object keys lowercased with '_',
// '-', '.' and ' ' removed, as substrings: "X-Api-Key", "api_key" and
// "apiKey" all contain "apikey". Over-redaction ("max_tokens") is the safe
// mistake here.
var sensitiveKeyWords = [...]string{
	"token", "secret", "password", "passwd", "authorization", "apikey",
	"bearer", "cookie", "credential", "privatekey", "accesskey",
}

// RedactArgs returns a redacted, size-capped copy of a tool call's JSON
// arguments, ready to store in Record.Args. It never fails and never
// modifies raw.
//
//   - The value of every object member whose key looks sensitive (contains
//     token, secret, password, passwd, authorization, api_key/apikey, bearer,
//     cookie, credential, private_key or access_key, case-insensitively,
//     ignoring '_', '-', '.' and ' ') becomes "[redacted]", whatever its type.
//   - Every string or number equal to or containing one of secrets, or a
//     word shaped like a Scispot token (see package redact), becomes
//     "[redacted]"; an object key containing one becomes "[redacted]" (with
//     "-2", "-3", … appended if that key exists). Secrets shorter than
//     redact.MinSecretLen are ignored.
//   - The result is compact JSON with object keys sorted and strings escaped
//     as in the canonical record encoding.
//   - If the result is longer than MaxArgsBytes it is replaced by
//     {"_bytes":N,"_preview":"<start of the redacted JSON text>","_truncated":true}
//     where N is the redacted length and the whole marker fits MaxArgsBytes.
//   - Input that is not one JSON value becomes
//     {"_bytes":N,"_invalid_json":true,"_preview":"<text>"} where N is the
//     input length and the text is the input's start with secrets replaced;
//     the preview is "[redacted]" when the text mentions a sensitive key
//     word, because key-based redaction cannot work on it.
//
// Empty input and JSON null give nil (the record omits args). Applying
// RedactArgs to its own result with the same secrets returns it unchanged.
func RedactArgs(raw json.RawMessage, secrets ...string) json.RawMessage {
	return redactArgs(raw, redact.New(secrets...))
}

func redactArgs(raw json.RawMessage, secrets redact.Redactor) json.RawMessage {
	trimmed := bytes.Trim(raw, " \t\r\n")
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil
	}
	v, err := decodeOne(trimmed)
	if err != nil {
		return invalidArgsMarker(trimmed, secrets)
	}
	v = redactValue(v, secrets)
	out := appendJSONValue(make([]byte, 0, len(trimmed)), v)
	if len(out) > MaxArgsBytes {
		return truncatedArgsMarker(out)
	}
	return out
}

// decodeOne decodes exactly one JSON value (numbers kept as text).
func decodeOne(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

// isSensitiveKey reports whether an object key names a secret.
func isSensitiveKey(k string) bool {
	return containsSensitiveWord(normalizeKey(k))
}

func normalizeKey(k string) string {
	var b strings.Builder
	b.Grow(len(k))
	for _, r := range k {
		switch r {
		case '_', '-', '.', ' ':
			continue
		}
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func containsSensitiveWord(norm string) bool {
	for _, w := range sensitiveKeyWords {
		if strings.Contains(norm, w) {
			return true
		}
	}
	return false
}

// redactValue returns v with secrets replaced. v is freshly decoded and owned
// by the caller, so maps are rewritten in place.
func redactValue(v any, secrets redact.Redactor) any {
	switch x := v.(type) {
	case string:
		if secrets.Contains(x) {
			return Redacted
		}
		return x
	case json.Number:
		if secrets.Contains(string(x)) {
			return Redacted
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactValue(x[i], secrets)
		}
		return x
	case map[string]any:
		var renamed map[string]any
		for k, val := range x {
			if isSensitiveKey(k) {
				val = Redacted
			} else {
				val = redactValue(val, secrets)
			}
			if secrets.Contains(k) {
				delete(x, k)
				if renamed == nil {
					renamed = map[string]any{}
				}
				renamed[k] = val
				continue
			}
			x[k] = val
		}
		// Renamed keys are placed in sorted order of their original names
		// so the result does not depend on map iteration order.
		olds := make([]string, 0, len(renamed))
		for k := range renamed {
			olds = append(olds, k)
		}
		slices.Sort(olds)
		for _, k := range olds {
			name := Redacted
			for n := 2; ; n++ {
				if _, taken := x[name]; !taken {
					break
				}
				name = Redacted + "-" + strconv.Itoa(n)
			}
			x[name] = renamed[k]
		}
		return x
	default: // bool, nil
		return v
	}
}

// appendJSONValue encodes a decoded JSON value compactly with sorted keys.
func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case json.Number:
		return append(b, x...)
	case string:
		return appendString(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendJSONValue(b, x[k])
		}
		return append(b, '}')
	default:
		// Unreachable for values from encoding/json; keep the output valid.
		return append(b, "null"...)
	}
}

// truncatedArgsMarker replaces redacted JSON that is too long.
func truncatedArgsMarker(redacted []byte) json.RawMessage {
	head := append([]byte(`{"_bytes":`), strconv.Itoa(len(redacted))...)
	head = append(head, `,"_preview":`...)
	const tail = `,"_truncated":true}`
	return finishMarker(head, string(redacted), tail)
}

// invalidArgsMarker stores arguments that are not JSON.
func invalidArgsMarker(raw []byte, secrets redact.Redactor) json.RawMessage {
	head := append([]byte(`{"_bytes":`), strconv.Itoa(len(raw))...)
	head = append(head, `,"_invalid_json":true,"_preview":`...)
	text := string(raw)
	if containsSensitiveWord(normalizeKey(text)) {
		text = Redacted
	} else {
		text = secrets.String(text)
		// Replacing can create a new occurrence when secrets overlap
		// each other; give up on the preview rather than loop.
		if secrets.Contains(text) {
			text = Redacted
		}
	}
	return finishMarker(head, text, "}")
}

// finishMarker appends as much of preview as fits MaxArgsBytes (cut at a
// character boundary), then tail.
func finishMarker(head []byte, preview, tail string) json.RawMessage {
	budget := MaxArgsBytes - len(head) - len(tail) - 2 // the quotes
	var esc []byte
	for i := 0; i < len(preview); {
		_, size := utf8.DecodeRuneInString(preview[i:])
		next := appendStringBody(esc, preview[i:i+size])
		if len(next) > budget {
			break
		}
		esc = next
		i += size
	}
	out := append(head, '"')
	out = append(out, esc...)
	out = append(out, '"')
	return append(out, tail...)
}

// appendStringBody appends s escaped, without the surrounding quotes.
func appendStringBody(b []byte, s string) []byte {
	n := len(b)
	b = appendString(b, s)
	copy(b[n:], b[n+1:len(b)-1])
	return b[:len(b)-2]
}
