package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// testKey makes a device key named for device.
func testKey(t testing.TB, device string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, SignerName(device))
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// checkpointedSession writes session.start, n calls, a checkpoint, n more
// calls, session.end and the last checkpoint, as the service does.
func checkpointedSession(t testing.TB, dir string, signer note.Signer, n int) (string, []byte) {
	t.Helper()
	w, err := Open(dir, testInfo("cp"), WithClock(newFakeClock().Now))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, Record{Event: EventSessionStart, Outcome: OutcomeOK})
	for i := range n {
		mustAppend(t, w, callRecord(i))
	}
	if _, wrote, err := w.Checkpoint(signer); err != nil || !wrote {
		t.Fatalf("Checkpoint: %v, %v", wrote, err)
	}
	if _, wrote, err := w.Checkpoint(signer); err != nil || wrote {
		t.Fatalf("a second checkpoint with nothing new: wrote %v, %v", wrote, err)
	}
	for i := range n {
		mustAppend(t, w, callRecord(n+i))
	}
	mustAppend(t, w, Record{Event: EventSessionEnd, Reason: "client disconnected"})
	if _, wrote, err := w.Checkpoint(signer); err != nil || !wrote {
		t.Fatalf("Checkpoint: %v, %v", wrote, err)
	}
	w.Close()
	data, err := os.ReadFile(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	return w.Path(), data
}

func TestCheckpointRecord(t *testing.T) {
	signer, key := testKey(t, testInfo("").Device)
	keys := note.VerifierList(key)
	path, data := checkpointedSession(t, t.TempDir(), signer, 3)
	ls := recLines(data)
	if len(ls) != 10 {
		t.Fatalf("%d lines, want 10", len(ls))
	}
	var last Record
	if err := json.Unmarshal(ls[9], &last); err != nil {
		t.Fatal(err)
	}
	var end Record
	json.Unmarshal(ls[8], &end)
	cp := last.Checkpoint
	if last.Event != EventCheckpoint || cp == nil || cp.Count != 9 || cp.LastSeq != 9 || cp.LastHash != end.Hash || cp.Trail != TrailID(path) {
		t.Fatalf("last record %s", ls[9])
	}
	if cp.Key != KeyName(signer.Name(), signer.KeyHash()) || last.User != "alice" || last.Device != "dev-5c1e0f" {
		t.Fatalf("checkpoint key %q, user %q, device %q", cp.Key, last.User, last.Device)
	}
	// The canonical encoding round-trips.
	if b, _ := last.MarshalJSON(); !bytes.Equal(b, ls[9]) {
		t.Fatalf("re-encoded\n%s\nstored\n%s", b, ls[9])
	}
	n, err := ParseCheckpointNote(cp.Note)
	if err != nil || n.Count != 9 || n.Device != last.Device || !n.Time.Equal(last.Time) {
		t.Fatalf("note %+v, %v", n, err)
	}
	if _, err := note.Open([]byte(cp.Note), keys); err != nil {
		t.Fatalf("note does not verify: %v", err)
	}
	// Only the Writer writes checkpoints.
	w, _ := Open(t.TempDir(), testInfo("x"))
	if _, err := w.Append(context.Background(), Record{Event: EventCheckpoint, Checkpoint: cp}); err == nil {
		t.Fatal("Append wrote a checkpoint")
	}
}

func recLines(data []byte) [][]byte {
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// rehash rewrites line i of data through edit and recomputes its hash and
// the chain after it, as someone who can rewrite the file would.
func rehash(t *testing.T, data []byte, i int, edit func(*Record)) []byte {
	t.Helper()
	ls := recLines(data)
	var out bytes.Buffer
	prev := ""
	for j, l := range ls {
		var r Record
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		if j == i {
			edit(&r)
		}
		if j > 0 {
			r.Prev = prev
		}
		r.Hash = HashRecord(r)
		prev = r.Hash
		b, _ := r.MarshalJSON()
		out.Write(b)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func TestVerifyCheckpoints(t *testing.T) {
	device := testInfo("").Device
	signer, key := testKey(t, device)
	keys := note.VerifierList(key)
	_, otherKey := testKey(t, device)
	otherKeys := note.VerifierList(otherKey)
	otherDevice, otherDeviceKey := testKey(t, "another-device")
	dir := t.TempDir()
	path, data := checkpointedSession(t, dir, signer, 3)
	for _, tc := range []struct {
		name    string
		data    func() []byte
		keys    note.Verifiers
		status  Status
		problem Problem
		line    int
	}{
		{"intact, signature checked", func() []byte { return data }, keys, StatusOK, "", 0},
		{"intact, no keys", func() []byte { return data }, nil, StatusOK, "", 0},
		{"unknown key", func() []byte { return data }, otherKeys, StatusIncomplete, ProblemCheckpointKey, 5},
		{"another device's key", func() []byte {
			return rehash(t, data, 9, func(r *Record) {
				msg, _ := note.Sign(&note.Note{Text: checkpointText(r)}, otherDevice)
				r.Checkpoint.Note = string(msg)
			})
		}, note.VerifierList(otherDeviceKey, key), StatusIncomplete, ProblemCheckpointKey, 10},
		{"count changed and rehashed", func() []byte {
			return rehash(t, data, 4, func(r *Record) { r.Checkpoint.Count = 3 })
		}, keys, StatusBroken, ProblemCheckpoint, 5},
		{"note text changed and rehashed", func() []byte {
			return rehash(t, data, 4, func(r *Record) {
				r.Checkpoint.Note = strings.Replace(r.Checkpoint.Note, "count 4", "count 3", 1)
				r.Checkpoint.Count = 3
			})
		}, keys, StatusBroken, ProblemCheckpoint, 5},
		{"note and fields changed consistently, signature broken", func() []byte {
			return rehash(t, data, 9, func(r *Record) {
				r.Checkpoint.Note = strings.Replace(r.Checkpoint.Note, "trail ", "trail x", 1)
				r.Checkpoint.Trail = "x" + r.Checkpoint.Trail
			})
		}, keys, StatusBroken, ProblemCheckpoint, 10},
		{"record before the checkpoint removed", func() []byte {
			ls := recLines(data)
			var b bytes.Buffer
			for j, l := range ls {
				if j != 3 {
					b.Write(l)
					b.WriteByte('\n')
				}
			}
			return rehash(t, b.Bytes(), 3, func(r *Record) { r.Seq-- })
		}, keys, StatusBroken, ProblemCheckpoint, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), filepath.Base(path))
			os.WriteFile(p, tc.data(), 0o600)
			var opts []VerifyOption
			if tc.keys != nil {
				opts = append(opts, WithKeys(tc.keys))
			}
			rep, err := VerifyFile(context.Background(), p, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != tc.status {
				t.Fatalf("status %s, want %s: %s", rep.Status, tc.status, rep)
			}
			if tc.problem == "" {
				if len(rep.Issues) != 0 {
					t.Fatalf("issues: %s", rep)
				}
				return
			}
			if len(rep.Issues) == 0 || rep.Issues[0].Problem != tc.problem || rep.Issues[0].Line != tc.line {
				t.Fatalf("issues %s, want %s at line %d", rep, tc.problem, tc.line)
			}
		})
	}
}

// checkpointText re-signs r's checkpoint statement as it stands.
func checkpointText(r *Record) string {
	c := r.Checkpoint
	return CheckpointNote{Device: r.Device, Trail: c.Trail, Count: c.Count, LastSeq: c.LastSeq, LastHash: c.LastHash, Time: r.Time}.Text()
}

func FuzzParseCheckpointNote(f *testing.F) {
	signer, _ := testKey(f, "dev")
	_, data := checkpointedSession(f, f.TempDir(), signer, 1)
	for _, l := range recLines(data) {
		var r Record
		json.Unmarshal(l, &r)
		if r.Checkpoint != nil {
			f.Add(r.Checkpoint.Note)
		}
	}
	f.Add("scispot-mcp checkpoint v1\ndevice d\ntrail t\ncount 1\nlast_seq 1\nlast_hash h\ntime 2026-01-01T00:00:00Z\n\n— x y\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, msg string) {
		n, err := ParseCheckpointNote(msg)
		if err != nil {
			return
		}
		// Whatever reads must say again what it read.
		text, _, _ := strings.Cut(msg, "\n\n")
		if again, err := ParseCheckpointNote(n.Text() + "\n— x AAAA\n"); err != nil || again != n {
			t.Fatalf("%q read as %+v; its text %q reads as %+v, %v", text, n, n.Text(), again, err)
		}
		c := Checkpoint{Trail: n.Trail, Count: n.Count, LastSeq: n.LastSeq, LastHash: n.LastHash, Note: msg}
		c.Check(n.Device, n.Time, note.VerifierList()) // must not panic
	})
}
