package apitoken_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/apitoken"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

const secret = "sk-live-TOKEN-do-not-leak-123"

func TestVerify(t *testing.T) {
	up := upstreamtest.New(t, secret)
	tests := []struct {
		name     string
		token    string
		mode     upstreamtest.Mode
		wantKind upstream.Kind
	}{
		{"accepted", secret, upstreamtest.Normal(), 0},
		{"wrong token", "sk-other", upstreamtest.Normal(), upstream.Unauthorized},
		{"server down", secret, upstreamtest.Status(503, ""), upstream.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up.SetMode(tt.mode)
			v, err := apitoken.Verify(context.Background(), up.URL, tt.token, &upstream.Options{Backoff: time.Millisecond})
			if got := upstream.KindOf(err); got != tt.wantKind {
				t.Fatalf("KindOf(%v) = %v, want %v", err, got, tt.wantKind)
			}
			if tt.wantKind == 0 && v.Tools != len(upstreamtest.ToolNames()) {
				t.Errorf("Tools = %d, want %d", v.Tools, len(upstreamtest.ToolNames()))
			}
			if err != nil && strings.Contains(err.Error(), tt.token) {
				t.Errorf("error %q contains the token", err)
			}
			if v.URL != up.URL {
				t.Errorf("URL = %q", v.URL)
			}
		})
	}
}

func TestSetRemove(t *testing.T) {
	ctx := context.Background()
	state := t.TempDir()
	kc := keychain.NewMemory()
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	ch := apitoken.Changer{Keychain: kc, StateDir: state, Now: func() time.Time { return at },
		Session: audit.SessionInfo{User: "ann", Transport: audit.TransportCLI}}

	in, err := ch.Set(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if in.Fingerprint != keychain.Fingerprint(secret) || !in.SetAt.Equal(at) {
		t.Errorf("Set = %+v", in)
	}
	if got, _ := kc.Get(ctx, keychain.AccountToken); got != secret {
		t.Error("keychain does not hold the token")
	}
	read, err := apitoken.ReadInfo(state)
	if err != nil || read != in {
		t.Errorf("ReadInfo = %+v, %v; want %+v", read, err, in)
	}
	if fi, err := os.Stat(apitoken.InfoFile(state)); err == nil && fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
		t.Errorf("token.json mode %v", fi.Mode())
	}

	fp, err := ch.Remove(ctx)
	if err != nil || fp != in.Fingerprint {
		t.Fatalf("Remove = %q, %v", fp, err)
	}
	if read, err := apitoken.ReadInfo(state); err != nil || read != (apitoken.Info{}) {
		t.Errorf("after Remove ReadInfo = %+v, %v", read, err)
	}
	if _, err := ch.Remove(ctx); !errors.Is(err, keychain.ErrNotFound) {
		t.Errorf("second Remove: %v, want ErrNotFound", err)
	}

	recs, err := audit.Read(ctx, statedir.AuditDir(state), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, r := range recs {
		events = append(events, string(r.Event)+":"+r.Token+":"+r.User)
	}
	want := "token.set:" + in.Fingerprint + ":ann token.remove:" + in.Fingerprint + ":ann"
	if strings.Join(events, " ") != want {
		t.Errorf("records %v, want %s", events, want)
	}
	assertNoSecret(t, state)
}

func TestSetKeychainFails(t *testing.T) {
	for _, kind := range []error{keychain.ErrLocked, keychain.ErrUnavailable} {
		t.Run(kind.Error(), func(t *testing.T) {
			state := t.TempDir()
			kc := keychain.NewMemory()
			kc.FailWith(kind)
			_, err := apitoken.Changer{Keychain: kc, StateDir: state}.Set(context.Background(), secret)
			if !errors.Is(err, kind) {
				t.Fatalf("Set: %v, want %v", err, kind)
			}
			if _, err := os.Stat(apitoken.InfoFile(state)); !errors.Is(err, os.ErrNotExist) {
				t.Error("token.json written although the keychain failed")
			}
			if entries, _ := os.ReadDir(statedir.AuditDir(state)); len(entries) > 0 {
				t.Error("audit record written although the keychain failed")
			}
		})
	}
}

func TestSetNotRecorded(t *testing.T) {
	state := t.TempDir()
	// A file where the audit folder belongs makes the record fail.
	if err := os.WriteFile(statedir.AuditDir(state), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	kc := keychain.NewMemory()
	_, err := apitoken.Changer{Keychain: kc, StateDir: state}.Set(context.Background(), secret)
	if !errors.Is(err, apitoken.ErrNotRecorded) {
		t.Fatalf("Set: %v, want ErrNotRecorded", err)
	}
	if got, _ := kc.Get(context.Background(), keychain.AccountToken); got != secret {
		t.Error("the keychain change must stand")
	}
}

func TestParseInfo(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", `{"fingerprint":"0123456789ab","set_at":"2026-01-02T03:04:05Z"}`, true},
		{"no fingerprint", `{"set_at":"2026-01-02T03:04:05Z"}`, false},
		{"upper hex", `{"fingerprint":"0123456789AB"}`, false},
		{"not json", `{`, false},
		{"huge", `{"fingerprint":"` + strings.Repeat("a", 5000) + `"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := apitoken.ParseInfo([]byte(tt.in))
			if (err == nil) != tt.ok {
				t.Errorf("ParseInfo: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add([]byte(`{"fingerprint":"0123456789ab","set_at":"2026-01-02T03:04:05Z"}`))
	f.Add([]byte(`{"fingerprint":1}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := apitoken.ParseInfo(b)
		if err == nil && len(in.Fingerprint) != 12 {
			t.Errorf("accepted fingerprint %q", in.Fingerprint)
		}
	})
}

// assertNoSecret fails if the token is in any file under dir.
func assertNoSecret(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("%s contains the token", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
