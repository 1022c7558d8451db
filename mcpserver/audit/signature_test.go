package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var signedAt = time.Date(2026, 11, 24, 10, 14, 59, 987654321, time.UTC)

// signedWrite is a signature record for the update below and its link.
func signedWrite(id, meaning string, approves bool, method string, verified bool) (Record, Signature) {
	args := json.RawMessage(`{"labsheet":"Cell Lines","updates":[{"row_uuid":"CL-0001","values":{"Status":"Frozen"}}]}`)
	sig := Signature{
		ID: id, Name: "Jane Q. Tester", Account: "jane", Time: signedAt, Meaning: meaning, Approves: approves,
		Reason: "Thawed vial recorded as frozen by mistake", Method: method, Verified: verified,
		Target: `labsheet "Cell Lines", row_uuid "CL-0001"`, Call: CallDigest("update_labsheet_rows", args),
	}
	return Record{Event: EventSignature, Tool: "update_labsheet_rows", Args: args, Signature: &sig}, sig
}

// writeSigned writes a session with an approved write (inline and digest
// values), a rejected one, and session.end; it returns the file's bytes.
func writeSigned(t *testing.T, dir string) []byte {
	t.Helper()
	w, err := Open(dir, testInfo("signed"), WithClock(newFakeClock().Now), WithSecrets(testToken))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, Record{Event: EventSessionStart, Outcome: OutcomeOK})
	rec, sig := signedWrite("5f0c2a9e8d7b6a5f4e3d2c1b0a998877", "Approved", true, MethodTrayPassword, true)
	written := mustAppend(t, w, rec)
	mustAppend(t, w, Record{Event: EventToolCall, Tool: rec.Tool, Args: rec.Args, Outcome: OutcomeOK, DurationMS: 7,
		Signature: &Signature{ID: sig.ID, Call: sig.Call, Record: written.Hash},
		Change: &Change{
			Before: NewValue(`{"uuid": "CL-0001", "Status": "Active"}`),
			After:  NewValue(`{"Status":"Frozen","uuid":"CL-0001"}` + strings.Repeat(" ", 10)),
		}})
	rec, sig = signedWrite("00112233445566778899aabbccddeeff", "Rejected", false, MethodInputRequired, false)
	written = mustAppend(t, w, rec)
	mustAppend(t, w, Record{Event: EventToolDenied, Tool: rec.Tool, Args: rec.Args, Outcome: OutcomeDenied, Rule: "write-declined",
		Reason:    "The write was not made: Jane Q. Tester signed it Rejected.",
		Signature: &Signature{ID: sig.ID, Call: sig.Call, Record: written.Hash},
		Change:    &Change{Before: NewValue(strings.Repeat("x", 5000))}})
	mustAppend(t, w, Record{Event: EventSessionEnd, Reason: "client disconnected"})
	w.Close()
	b, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignatureGolden pins the encoding of signature and change members:
// testdata/signature.jsonl holds the bytes and hashes the writer produced.
// If it fails after a change to signature.go or hash.go, that change
// breaks every signed trail ever written.
func TestSignatureGolden(t *testing.T) {
	dir := t.TempDir()
	got := writeSigned(t, dir)
	golden := filepath.Join("testdata", "signature.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("signed trail differs from %s (-want +got):\n%s", golden, diff)
	}
	if rep := verifyBytes(got); rep.Status != StatusOK || rep.Records != 6 {
		t.Fatalf("verify = %s", rep)
	}
	// Read and re-export: byte for byte the file.
	recs, err := Read(context.Background(), dir, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := Export(&sb, recs, FormatJSONL); err != nil {
		t.Fatal(err)
	}
	if sb.String() != string(got) {
		t.Errorf("re-encoding the read records changed them:\n%s", cmp.Diff(string(got), sb.String()))
	}
	for _, r := range recs {
		if HashRecord(r) != r.Hash {
			t.Errorf("HashRecord(%s) differs from its stored hash", r.Event)
		}
	}
}

func TestNewValue(t *testing.T) {
	v := NewValue(" {\"b\": 1, \"a\": [true, null]}\n")
	if string(v.Value) != `{"a":[true,null],"b":1}` || v.Bytes != int64(len(v.Value)) || len(v.SHA256) != 64 {
		t.Fatalf("JSON value = %+v", v)
	}
	if w := NewValue(`{"a":[true,null],"b":1}`); !w.Same(v) {
		t.Fatal("the same value in another key order has another digest")
	}
	if s := NewValue("<p>not JSON</p>"); string(s.Value) != `"<p>not JSON</p>"` {
		t.Fatalf("text value = %s", s.Value)
	}
	big := NewValue(strings.Repeat("y", MaxValueBytes))
	if big.Value != nil || big.Bytes != MaxValueBytes+2 {
		t.Fatalf("a value over 4 KiB was kept inline: %d bytes", len(big.Value))
	}
	if s := NewValue(`{"note":"`+testToken+`"}`, testToken); s.Value != nil || s.SHA256 == "" {
		t.Fatalf("a value holding the token was kept inline: %s", s.Value)
	}
}

func TestCallDigest(t *testing.T) {
	a := CallDigest("update_labsheet_rows", json.RawMessage(`{"labsheet":"Cell Lines","updates":[]}`))
	if b := CallDigest("update_labsheet_rows", json.RawMessage(` {"updates": [], "labsheet": "Cell Lines"} `)); a != b {
		t.Error("key order or spacing changed the digest")
	}
	for _, other := range []string{
		CallDigest("add_labsheet_rows", json.RawMessage(`{"labsheet":"Cell Lines","updates":[]}`)),
		CallDigest("update_labsheet_rows", json.RawMessage(`{"labsheet":"Plasmids","updates":[]}`)),
		CallDigest("update_labsheet_rowsx", nil),
	} {
		if other == a {
			t.Error("two different calls have one digest")
		}
	}
}

// TestVerifySignatureLinks: a trail whose chain is intact but whose
// signature links are wrong is broken at the line that is wrong.
func TestVerifySignatureLinks(t *testing.T) {
	const id = "5f0c2a9e8d7b6a5f4e3d2c1b0a998877"
	tests := []struct {
		name    string
		records func(sigHash string, sig Signature) []Record
		problem Problem
		status  Status
		detail  string
	}{
		{"linked", func(h string, s Signature) []Record {
			return []Record{{Event: EventToolCall, Outcome: OutcomeOK, Signature: &Signature{ID: id, Call: s.Call, Record: h}}}
		}, "", StatusOK, ""},
		{"wrong hash", func(h string, s Signature) []Record {
			return []Record{{Event: EventToolCall, Outcome: OutcomeOK, Signature: &Signature{ID: id, Call: s.Call, Record: strings.Repeat("0", 64)}}}
		}, ProblemSignature, StatusBroken, "does not match the hash"},
		{"unknown id", func(h string, s Signature) []Record {
			return []Record{{Event: EventToolCall, Outcome: OutcomeOK, Signature: &Signature{ID: "ffff", Call: s.Call, Record: h}}, {Event: EventToolCall, Outcome: OutcomeOK, Signature: &Signature{ID: id, Call: s.Call, Record: h}}}
		}, ProblemSignature, StatusBroken, "no earlier record"},
		{"another call", func(h string, s Signature) []Record {
			return []Record{{Event: EventToolCall, Outcome: OutcomeOK, Signature: &Signature{ID: id, Call: CallDigest("add_labsheet_rows", nil), Record: h}}}
		}, ProblemSignature, StatusBroken, "not the one signed"},
		{"used twice", func(h string, s Signature) []Record {
			link := &Signature{ID: id, Call: s.Call, Record: h}
			return []Record{{Event: EventToolCall, Outcome: OutcomeOK, Signature: link}, {Event: EventToolCall, Outcome: OutcomeOK, Signature: link}}
		}, ProblemSignature, StatusBroken, "already authorised"},
		{"on a session record", func(h string, s Signature) []Record {
			return []Record{{Event: EventPolicyChange, Signature: &Signature{ID: id, Call: s.Call, Record: h}}}
		}, ProblemSignature, StatusBroken, "cannot carry a signature"},
		{"never used", func(string, Signature) []Record { return nil }, ProblemSignatureUnused, StatusIncomplete, "no call record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &memFile{}
			w, err := Open(t.TempDir(), testInfo("links"), WithClock(newFakeClock().Now), withFile(f))
			if err != nil {
				t.Fatal(err)
			}
			mustAppend(t, w, Record{Event: EventSessionStart, Outcome: OutcomeOK})
			rec, sig := signedWrite(id, "Approved", true, MethodElicitation, false)
			written := mustAppend(t, w, rec)
			for _, r := range tc.records(written.Hash, sig) {
				mustAppend(t, w, r)
			}
			mustAppend(t, w, Record{Event: EventSessionEnd})
			rep := verifyBytes(f.bytes())
			if rep.Status != tc.status {
				t.Fatalf("status = %s, want %s: %s", rep.Status, tc.status, rep)
			}
			if tc.problem == "" {
				return
			}
			if len(rep.Issues) != 1 || rep.Issues[0].Problem != tc.problem || !strings.Contains(rep.Issues[0].Detail, tc.detail) {
				t.Fatalf("issues = %+v, want %s (%q)", rep.Issues, tc.problem, tc.detail)
			}
		})
	}
}

// TestVerifySignatureRecords: a signature record must say who, what it
// means, when and what it signs, and only the tray's password check makes
// it verified.
func TestVerifySignatureRecords(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Signature)
		detail string
	}{
		{"no id", func(s *Signature) { s.ID = "" }, "no id"},
		{"no account", func(s *Signature) { s.Account = "" }, "lacks its account"},
		{"no meaning", func(s *Signature) { s.Meaning = "" }, "lacks its account"},
		{"no call", func(s *Signature) { s.Call = "" }, "lacks its account"},
		{"unknown method", func(s *Signature) { s.Method = "telepathy" }, "not one this program knows"},
		{"verified in the client", func(s *Signature) { s.Method, s.Verified = MethodElicitation, true }, "verified password"},
		{"links another", func(s *Signature) { s.Record = strings.Repeat("a", 64) }, "cannot link"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &memFile{}
			w, err := Open(t.TempDir(), testInfo("sigs"), WithClock(newFakeClock().Now), withFile(f))
			if err != nil {
				t.Fatal(err)
			}
			mustAppend(t, w, Record{Event: EventSessionStart, Outcome: OutcomeOK})
			rec, _ := signedWrite("5f0c2a9e8d7b6a5f4e3d2c1b0a998877", "Approved", true, MethodTrayPassword, true)
			tc.edit(rec.Signature)
			mustAppend(t, w, rec)
			rep := verifyBytes(f.bytes())
			if rep.Status != StatusBroken || rep.Issues[0].Problem != ProblemSignature || rep.Issues[0].Line != 2 || !strings.Contains(rep.Issues[0].Detail, tc.detail) {
				t.Fatalf("report = %s, want signature-link at line 2 (%q)", rep, tc.detail)
			}
		})
	}
}

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	writeSigned(t, dir)
	// A signature whose call was never recorded.
	w, err := Open(dir, testInfo("cut"), WithClock(func() time.Time { return signedAt.Add(time.Hour) }))
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := signedWrite("99999999999999999999999999999999", "Approved", true, MethodElicitation, false)
	rec.Signature.Time = signedAt.Add(time.Hour)
	mustAppend(t, w, rec)
	w.Close()
	recs, err := Read(context.Background(), dir, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	m := Manifest(recs)
	if len(m) != 3 {
		t.Fatalf("%d entries, want 3: %+v", len(m), m)
	}
	approved, rejected, cut := m[0], m[1], m[2]
	if approved.Meaning != "Approved" || approved.Outcome != "ok" || !approved.Verified || approved.CallRecord == "" ||
		approved.Change == nil || approved.Change.Before == nil || string(approved.Change.Before.Value) != `{"Status":"Active","uuid":"CL-0001"}` {
		t.Errorf("approved = %+v", approved)
	}
	if rejected.Meaning != "Rejected" || rejected.Approves || rejected.Outcome != "denied" || !strings.Contains(rejected.OutcomeReason, "signed it Rejected") {
		t.Errorf("rejected = %+v", rejected)
	}
	if cut.Outcome != OutcomeNotRecorded || cut.CallRecord != "" {
		t.Errorf("unlinked = %+v", cut)
	}

	var table, csvOut, js strings.Builder
	for _, f := range []struct {
		format Format
		sb     *strings.Builder
	}{{ManifestTable, &table}, {ManifestCSV, &csvOut}, {ManifestJSON, &js}} {
		if err := ExportManifest(f.sb, m, f.format); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"SIGNED (UTC)", "2026-11-24 10:14:59", "Jane Q. Tester (jane)", "Approved", "Thawed vial recorded as frozen by mistake",
		"update_labsheet_rows", `labsheet "Cell Lines"`, "account password, checked by the service", "answered in the AI client (input_required)", "not recorded"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if !strings.HasPrefix(csvOut.String(), strings.Join(ManifestCSVHeader, ",")+"\n") || strings.Count(csvOut.String(), "\n") != 4 {
		t.Errorf("csv:\n%s", csvOut.String())
	}
	var back []ManifestEntry
	if err := json.Unmarshal([]byte(js.String()), &back); err != nil || len(back) != 3 || back[0].SignatureRecord != approved.SignatureRecord {
		t.Errorf("json = %v %s", err, js.String())
	}
	if err := ExportManifest(&js, m, "xml"); err == nil {
		t.Error("an unknown format was accepted")
	}
}

func TestFormatLineSignature(t *testing.T) {
	rec, _ := signedWrite("5f0c2a9e8d7b6a5f4e3d2c1b0a998877", "Approved", true, MethodTrayPassword, true)
	rec.Time = signedAt
	line := FormatLine(rec, nil)
	if !strings.Contains(line, "signature update_labsheet_rows") || !strings.Contains(line, "Approved by Jane Q. Tester (jane), password checked: Thawed vial") {
		t.Fatalf("line = %q", line)
	}
}
