package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"
)

// The canonical encoding and the hash input.
//
// THIS FORMAT MUST NEVER CHANGE for records with "v":1. Every audit file ever
// written is verified against it; changing a byte here turns every existing
// file into a "broken" chain. A new format needs a new version number and a
// verifier that keeps accepting version 1.
//
// Canonical encoding of a record (without hash):
//
//   - one JSON object, UTF-8, no whitespace between tokens;
//   - members in exactly this order, each omitted when empty (zero number,
//     empty string, empty client, empty flags, empty args):
//     v, seq, time, session, event, pid, user, device, token,
//     client {name, version, exe, signer}, transport, tool, args, outcome,
//     reason, rule, duration_ms, result_bytes, flags, signature, change,
//     checkpoint, prev
//     (v, seq, time, session and event are always present);
//   - signature: an object with, in this order and each omitted when empty
//     (booleans when false), id, name, account, time, meaning, approves,
//     reason, method, verified, target, call, record (see signature.go);
//   - change: an object with before, after (each {value, sha256, bytes},
//     value omitted when not kept inline and inserted verbatim as the
//     canonical JSON NewValue made) and error, each omitted when empty;
//   - checkpoint: an object with every member always present, in this
//     order: trail, count, last_seq, last_hash, key, note (checkpoint.go);
//   - members added after the first release (client exe and signer, rule,
//     signature, change, checkpoint) are omitted when empty like every other, so every
//     line written before them encodes exactly as it did;
//   - time as UTC "2006-01-02T15:04:05.000000000Z" (always 9 digits);
//   - numbers as base-10 integers;
//   - strings escaped by appendString: `"` and `\` with a backslash; \b \f
//     \n \r \t by their short escapes; other bytes below 0x20 as \u00xx;
//     U+2028 and U+2029 as \u2028 and \u2029; each byte of invalid UTF-8 as
//     the UTF-8 bytes of U+FFFD (so decoding and re-encoding gives the same
//     bytes); everything else (including <, >, & and non-ASCII) as is;
//   - args: the compact JSON produced by RedactArgs, inserted verbatim.
//
// hash = lowercase hex SHA-256 of that canonical encoding.
//
// The stored line is the canonical encoding with its closing "}" replaced by
// `,"hash":"<64 hex>"}`, followed by "\n". A verifier therefore recovers the
// hash input from a line by removing the final hashSuffixLen bytes
// (`,"hash":"<64 hex>"}`) and appending "}" — which is what verify.go does.
// Re-encoding the parsed record canonically gives the same bytes.

const (
	// hashHexLen is the length of a hex SHA-256.
	hashHexLen = 2 * sha256.Size
	// hashSuffixLen is len(`,"hash":"` + 64 hex + `"}`).
	hashSuffixLen = len(`,"hash":"`) + hashHexLen + len(`"}`)
	// timeLayout is the canonical time format.
	timeLayout = "2006-01-02T15:04:05.000000000Z"
)

// zeroHash is accepted as "prev" of a file's first record (the writer omits
// prev there instead).
const zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// appendCanonical appends the canonical encoding of r without hash.
func appendCanonical(b []byte, r *Record) []byte {
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(r.V), 10)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, r.Seq, 10)
	b = append(b, `,"time":"`...)
	b = r.Time.UTC().AppendFormat(b, timeLayout)
	b = append(b, '"')
	b = appendStringField(b, "session", r.Session, true)
	b = appendStringField(b, "event", string(r.Event), true)
	b = appendIntField(b, "pid", int64(r.PID))
	b = appendStringField(b, "user", r.User, false)
	b = appendStringField(b, "device", r.Device, false)
	b = appendStringField(b, "token", r.Token, false)
	if !r.Client.IsZero() {
		b = append(b, `,"client":{`...)
		first := true
		for _, m := range [...]struct{ name, value string }{
			{"name", r.Client.Name}, {"version", r.Client.Version}, {"exe", r.Client.Exe}, {"signer", r.Client.Signer},
		} {
			if m.value == "" {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, m.name...)
			b = append(b, `":`...)
			b = appendString(b, m.value)
			first = false
		}
		b = append(b, '}')
	}
	b = appendStringField(b, "transport", string(r.Transport), false)
	b = appendStringField(b, "tool", r.Tool, false)
	if len(r.Args) > 0 {
		b = append(b, `,"args":`...)
		b = append(b, r.Args...)
	}
	b = appendStringField(b, "outcome", string(r.Outcome), false)
	b = appendStringField(b, "reason", r.Reason, false)
	b = appendStringField(b, "rule", r.Rule, false)
	b = appendIntField(b, "duration_ms", r.DurationMS)
	b = appendIntField(b, "result_bytes", r.ResultBytes)
	if len(r.Flags) > 0 {
		b = append(b, `,"flags":[`...)
		for i, f := range r.Flags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f)
		}
		b = append(b, ']')
	}
	if r.Signature != nil {
		b = append(b, `,"signature":`...)
		b = appendSignature(b, r.Signature)
	}
	if !r.Change.IsZero() {
		b = append(b, `,"change":`...)
		b = appendChange(b, r.Change)
	}
	if r.Checkpoint != nil {
		b = append(b, `,"checkpoint":`...)
		b = appendCheckpoint(b, r.Checkpoint)
	}
	b = appendStringField(b, "prev", r.Prev, false)
	return append(b, '}')
}

// appendLine appends the stored form of r (canonical encoding plus hash,
// no newline). r.Hash is used as is.
func appendLine(b []byte, r *Record) []byte {
	b = appendCanonical(b, r)
	if r.Hash == "" {
		return b
	}
	b = b[:len(b)-1]
	b = append(b, `,"hash":`...)
	b = appendString(b, r.Hash)
	return append(b, '}')
}

// sealLine turns a canonical encoding (ending in "}") into a stored line
// with its hash and newline, returning the hash.
func sealLine(b []byte) ([]byte, string) {
	sum := sha256.Sum256(b)
	var hx [hashHexLen]byte
	hex.Encode(hx[:], sum[:])
	b = b[:len(b)-1]
	b = append(b, `,"hash":"`...)
	b = append(b, hx[:]...)
	b = append(b, "\"}\n"...)
	return b, string(hx[:])
}

// HashRecord returns the hash of r as the writer computes it (r.Hash is
// ignored). Third-party verifiers can use it as the reference.
func HashRecord(r Record) string {
	sum := sha256.Sum256(appendCanonical(nil, &r))
	return hex.EncodeToString(sum[:])
}

func appendStringField(b []byte, name, v string, always bool) []byte {
	if v == "" && !always {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendIntField(b []byte, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as the canonical encoding
// requires (see the comment at the top of this file).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// formatTime is the canonical time text.
func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }
