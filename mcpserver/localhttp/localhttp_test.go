package localhttp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/device/keychain"
)

func TestCheckAddr(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1:8765": true, "[::1]:8765": true, "localhost:1": true, "127.1.2.3:80": true,
		"0.0.0.0:8765": false, "192.168.1.5:8765": false, "example.com:80": false, ":8765": false, "127.0.0.1": false, "[::]:80": false,
	}
	for addr, ok := range cases {
		if err := CheckAddr(addr); (err == nil) != ok {
			t.Errorf("CheckAddr(%q) = %v, want ok %v", addr, err, ok)
		}
	}
}

func TestGuard(t *testing.T) {
	h := Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }), "s3cret")
	cases := []struct {
		name, path, host, origin, auth string
		want                           int
		// sentence is in the JSON body's error_description of a refusal.
		sentence string
	}{
		{name: "ok", host: "127.0.0.1:9", auth: "Bearer s3cret", want: 204},
		{name: "ok localhost origin", host: "localhost:9", origin: "http://localhost:9", auth: "Bearer s3cret", want: 204},
		{name: "no secret", host: "127.0.0.1:9", want: 400, sentence: "needs its secret as Authorization: Bearer"},
		{name: "wrong secret", host: "127.0.0.1:9", auth: "Bearer nope", want: 400, sentence: "did not accept"},
		{name: "scispot token is not the secret", host: "127.0.0.1:9", auth: "Bearer sst_abc", want: 400, sentence: "never your Scispot token"},
		{name: "no OAuth metadata", path: "/.well-known/oauth-protected-resource", host: "127.0.0.1:9", want: 404, sentence: "does not use OAuth"},
		{name: "no OAuth server metadata", path: "/.well-known/oauth-authorization-server", host: "127.0.0.1:9", auth: "Bearer s3cret", want: 404, sentence: "does not use OAuth"},
		{name: "rebinding host", host: "evil.example:9", auth: "Bearer s3cret", want: 403},
		{name: "web origin", host: "127.0.0.1:9", origin: "https://evil.example", auth: "Bearer s3cret", want: 403},
		{name: "null origin", host: "127.0.0.1:9", origin: "null", auth: "Bearer s3cret", want: 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://"+tc.host+tc.path, nil)
			r.Host = tc.host
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Fatalf("HTTP %d, want %d", rec.Code, tc.want)
			}
			// Any WWW-Authenticate starts an OAuth flow in MCP clients.
			if v := rec.Header().Get("WWW-Authenticate"); v != "" {
				t.Errorf("WWW-Authenticate: %s", v)
			}
			if tc.sentence == "" {
				return
			}
			var body struct {
				ErrorDescription string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.ErrorDescription, tc.sentence) || !strings.Contains(body.ErrorDescription, "--print-config") {
				t.Fatalf("body %q (%v), want error_description with %q and the way out", rec.Body.String(), err, tc.sentence)
			}
		})
	}
}

func TestEntry(t *testing.T) {
	c := Connection{URL: "http://127.0.0.1:8765/", Secret: "s3cret", HeaderFile: "/home/a b/.local/state/scispot-mcp/local-http.header"}
	for _, client := range EntryClients() {
		t.Run(client, func(t *testing.T) {
			got, err := c.Entry(client)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, c.URL) {
				t.Errorf("entry lacks the URL:\n%s", got)
			}
			switch client {
			case "mcp-remote", "inspector":
				if strings.HasPrefix(got, "{") {
					t.Errorf("want a command line, got:\n%s", got)
				}
			default:
				var v map[string]any
				if err := json.Unmarshal([]byte(got), &v); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, got)
				}
			}
			switch client {
			case "claude-desktop", "mcp-remote":
				// The secret stays in the header file, out of the config.
				if strings.Contains(got, c.Secret) || !strings.Contains(got, "--header-file") || !strings.Contains(got, "'/home/a b/") && client == "mcp-remote" {
					t.Errorf("entry:\n%s", got)
				}
			default:
				if !strings.Contains(got, "Bearer "+c.Secret) {
					t.Errorf("entry lacks the header:\n%s", got)
				}
			}
		})
	}
	if _, err := c.Entry("netscape"); err == nil || !strings.Contains(err.Error(), "claude-code") {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestWriteHeaderFile(t *testing.T) {
	c := Connection{Secret: "s3cret", HeaderFile: filepath.Join(t.TempDir(), "state", "local-http.header")}
	if err := c.WriteHeaderFile(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.HeaderFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat = %v %v, want mode 0600", fi, err)
	}
	b, _ := os.ReadFile(c.HeaderFile)
	if !strings.Contains(string(b), "\nAuthorization: Bearer s3cret\n") {
		t.Fatalf("file:\n%s", b)
	}
}

func TestSecretCreatedOnce(t *testing.T) {
	kc := keychain.NewMemory()
	a, err := Secret(context.Background(), kc)
	if err != nil || len(a) != 64 {
		t.Fatalf("%q %v", a, err)
	}
	b, _ := Secret(context.Background(), kc)
	if a != b {
		t.Fatal("secret changed")
	}
}
