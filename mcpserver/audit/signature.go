package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/redact"
)

// Electronic signatures on writes (21 CFR Part 11 §11.50 and §11.70, EU GMP
// Annex 11 §9).
//
// A write the person approves leaves two records in its session's file:
//
//	{"event":"signature", "tool":…, "args":…, "signature":{"id":"7f…", "name":"Jane Q. Tester",
//	   "account":"jane", "time":…, "meaning":"Approved", "approves":true, "reason":"…",
//	   "method":"tray-password", "verified":true, "target":…, "call":"<digest of tool and args>"}, "hash":"S"}
//	… written before the write reaches Scispot …
//	{"event":"tool.call", "tool":…, "signature":{"id":"7f…", "call":"<same digest>", "record":"S"},
//	   "change":{"before":{…}, "after":{…}}, "hash":…}
//
// The signature cannot carry the hash of a record written after it, so the
// link runs backwards: the call record names the signature record's hash,
// and the chain makes both tamper-evident. A signature whose meaning
// refuses the write is linked the same way from the tool.denied record.

// Signature methods: how the signer answered, and so how far the record
// can be trusted to be the person's.
const (
	// MethodTrayPassword: in the tray, with the account password, which the
	// workstation service checked (the only verified method).
	MethodTrayPassword = "tray-password"
	// MethodTray: in the tray of a demo instance or through the state
	// folder, where no password is checked.
	MethodTray = "tray"
	// MethodElicitation: in the AI client, through MCP elicitation
	// (protocol 2025 revisions).
	MethodElicitation = "elicitation"
	// MethodInputRequired: in the AI client, through an input_required
	// result and the client's retry (protocol 2026-07-28).
	MethodInputRequired = "input_required"
)

// KnownMethod reports whether m is one of the signature methods.
func KnownMethod(m string) bool {
	switch m {
	case MethodTrayPassword, MethodTray, MethodElicitation, MethodInputRequired:
		return true
	}
	return false
}

// Signature is an electronic signature. On a signature record every member
// that applies is set; on the record of the call it signs only ID, Call and
// Record are: the link back.
type Signature struct {
	// ID names the signature in both records: 32 random hex digits.
	ID string `json:"id"`
	// Name is the signer's printed name, the OS account's full name.
	Name string `json:"name,omitempty"`
	// Account is the OS account, as the kernel named the caller.
	Account string `json:"account,omitempty"`
	// Time is when the person signed (the answer reached the service).
	Time time.Time `json:"time,omitzero"`
	// Meaning is what the signature means (policy SignatureMeanings).
	Meaning string `json:"meaning,omitempty"`
	// Approves says the meaning lets the write through.
	Approves bool `json:"approves,omitempty"`
	// Reason is the signer's reason for the change.
	Reason string `json:"reason,omitempty"`
	// Method is how the signer answered (Method* constants).
	Method string `json:"method,omitempty"`
	// Verified: the service checked the account password (MethodTrayPassword
	// only). Signatures given in the AI client are the client's word.
	Verified bool `json:"verified,omitempty"`
	// Target is what the signer was told the write touches.
	Target string `json:"target,omitempty"`
	// Call is CallDigest of the tool and arguments signed.
	Call string `json:"call,omitempty"`
	// Record, on the call's record, is the hash of the signature record.
	Record string `json:"record,omitempty"`
}

// NewSignatureID returns a random signature id.
func NewSignatureID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// CallDigest names a call by its content: the lowercase hex SHA-256 of the
// tool name, a zero byte and the arguments as compact JSON with sorted
// object keys (arguments that are not JSON: their bytes as given). A
// signature carries the digest of what it signed, so a signature for one
// call cannot be passed off as one for another.
func CallDigest(tool string, args json.RawMessage) string {
	h := sha256.New()
	h.Write([]byte(tool))
	h.Write([]byte{0})
	h.Write(canonicalJSON(args))
	return hex.EncodeToString(h.Sum(nil))
}

// canonicalJSON is b as compact JSON with sorted keys, or b itself when it
// is not one JSON value; empty input and null are "null".
func canonicalJSON(b []byte) []byte {
	b = bytes.Trim(b, " \t\r\n")
	if len(b) == 0 {
		return []byte("null")
	}
	v, err := decodeOne(b)
	if err != nil {
		return b
	}
	return appendJSONValue(nil, v)
}

// MaxValueBytes is the largest value a change record carries inline;
// larger ones are recorded by digest and size.
const MaxValueBytes = 4096

// Change is what a write changed (Annex 11 §9): the value it overwrote and
// the value afterwards, as the matching read tool returned them.
type Change struct {
	Before *Value `json:"before,omitempty"`
	After  *Value `json:"after,omitempty"`
	// Error says why a value could not be read (the write was made).
	Error string `json:"error,omitempty"`
}

// IsZero reports whether c records nothing.
func (c *Change) IsZero() bool {
	return c == nil || (c.Before == nil && c.After == nil && c.Error == "")
}

// Value is one recorded value: inline when it is at most MaxValueBytes
// long, and always by SHA-256 and size, both of its canonical form (compact
// JSON with sorted object keys, so a reviewer can recompute it).
type Value struct {
	Value  json.RawMessage `json:"value,omitempty"`
	SHA256 string          `json:"sha256"`
	Bytes  int64           `json:"bytes"`
}

// NewValue records text as the read tool returned it: a JSON text is kept
// as canonical JSON, anything else as a JSON string. The value is left out
// (digest and size only) when it is too long or contains one of secrets.
func NewValue(text string, secrets ...string) *Value {
	b := []byte(text)
	var canon []byte
	if v, err := decodeOne(bytes.Trim(b, " \t\r\n")); err == nil {
		canon = appendJSONValue(nil, v)
	} else {
		canon = appendString(nil, text)
	}
	sum := sha256.Sum256(canon)
	out := &Value{SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(canon))}
	if len(canon) <= MaxValueBytes && !redact.New(secrets...).Contains(string(canon)) {
		out.Value = canon
	}
	return out
}

// Same reports whether two recorded values are the same value.
func (v *Value) Same(o *Value) bool {
	if v == nil || o == nil {
		return v == o
	}
	return v.SHA256 == o.SHA256 && v.Bytes == o.Bytes
}

// appendSignature appends the canonical encoding of s: members in the
// order of the struct, each omitted when empty (false for booleans).
func appendSignature(b []byte, s *Signature) []byte {
	b = append(b, '{')
	first := true
	str := func(name, v string) {
		if v == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = appendString(b, v)
	}
	flag := func(name string, v bool) {
		if !v {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":true`...)
	}
	str("id", s.ID)
	str("name", s.Name)
	str("account", s.Account)
	if !s.Time.IsZero() {
		str("time", formatTime(s.Time))
	}
	str("meaning", s.Meaning)
	flag("approves", s.Approves)
	str("reason", s.Reason)
	str("method", s.Method)
	flag("verified", s.Verified)
	str("target", s.Target)
	str("call", s.Call)
	str("record", s.Record)
	return append(b, '}')
}

// appendChange appends the canonical encoding of c: before, after, error,
// each omitted when empty.
func appendChange(b []byte, c *Change) []byte {
	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	for _, m := range [...]struct {
		name string
		v    *Value
	}{{"before", c.Before}, {"after", c.After}} {
		if m.v == nil {
			continue
		}
		sep()
		b = append(b, '"')
		b = append(b, m.name...)
		b = append(b, `":{`...)
		if len(m.v.Value) > 0 {
			b = append(b, `"value":`...)
			b = append(b, m.v.Value...)
			b = append(b, ',')
		}
		b = append(b, `"sha256":`...)
		b = appendString(b, m.v.SHA256)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, m.v.Bytes, 10)
		b = append(b, '}')
	}
	if c.Error != "" {
		sep()
		b = append(b, `"error":`...)
		b = appendString(b, c.Error)
	}
	return append(b, '}')
}
