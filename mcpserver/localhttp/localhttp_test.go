package localhttp

import (
	"context"
	"net/http"
	"net/http/httptest"
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
		name, host, origin, auth string
		want                     int
	}{
		{"ok", "127.0.0.1:9", "", "Bearer s3cret", 204},
		{"ok localhost origin", "localhost:9", "http://localhost:9", "Bearer s3cret", 204},
		{"no secret", "127.0.0.1:9", "", "", 401},
		{"wrong secret", "127.0.0.1:9", "", "Bearer nope", 401},
		{"scispot token is not the secret", "127.0.0.1:9", "", "Bearer sst_abc", 401},
		{"rebinding host", "evil.example:9", "", "Bearer s3cret", 403},
		{"web origin", "127.0.0.1:9", "https://evil.example", "Bearer s3cret", 403},
		{"null origin", "127.0.0.1:9", "null", "Bearer s3cret", 403},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "http://"+tc.host+"/", nil)
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
			t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.want)
		}
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
