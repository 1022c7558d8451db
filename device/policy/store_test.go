package policy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scispot/mcp-desktop/device/policy"
)

func TestResolve(t *testing.T) {
	def := policy.Default()
	tests := []struct {
		name   string
		layers []policy.Settings
		want   func(p *policy.Policy)
	}{
		{name: "no layers gives defaults", want: func(*policy.Policy) {}},
		{name: "nil and empty layers give defaults", layers: []policy.Settings{nil, {}}, want: func(*policy.Policy) {}},
		{
			name: "device layer wins over user layer",
			layers: []policy.Settings{
				{"MaxCallsPerMinute": int64(10), "AllowDemo": false},
				{"MaxCallsPerMinute": int64(99), "AllowLocalHTTP": true},
			},
			want: func(p *policy.Policy) {
				p.MaxCallsPerMinute = 10
				p.AllowDemo = false
				p.AllowLocalHTTP = true // only the user layer sets it
			},
		},
		{
			name: "a false value still wins",
			layers: []policy.Settings{
				{"Enabled": false},
				{"Enabled": true},
			},
			want: func(p *policy.Policy) { p.Enabled = false },
		},
		{
			name: "an empty AllowedTools wins and stays empty",
			layers: []policy.Settings{
				{"AllowedTools": []string{}},
				{"AllowedTools": []string{"list_labsheets"}},
			},
			want: func(p *policy.Policy) { p.AllowedTools = []string{} },
		},
		{
			name:   "lower layer fills what the first leaves unset",
			layers: []policy.Settings{{}, {"AllowedTools": []string{"get_manifest"}}},
			want:   func(p *policy.Policy) { p.AllowedTools = []string{"get_manifest"} },
		},
		{
			name: "hand-built values that are not canonical are skipped",
			layers: []policy.Settings{
				{"MaxCallsPerMinute": 5, "Enabled": "no", "InjectionAction": "shout", "UpstreamURL": "http://evil.example/", "MaxResultBytes": int64(-1), "Unknown": true},
				{"MaxCallsPerMinute": int64(7)},
			},
			want: func(p *policy.Policy) { p.MaxCallsPerMinute = 7 },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := def
			tt.want(&want)
			got := policy.Resolve(tt.layers...)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if (want.AllowedTools == nil) != (got.AllowedTools == nil) {
				t.Errorf("AllowedTools nil = %v, want %v", got.AllowedTools == nil, want.AllowedTools == nil)
			}
		})
	}
}

// TestResolveDoesNotAlias checks that the policy owns its lists.
func TestResolveDoesNotAlias(t *testing.T) {
	s := policy.Settings{"DeniedTools": []string{"a"}}
	p := policy.Resolve(s)
	s["DeniedTools"].([]string)[0] = "changed"
	if p.DeniedTools[0] != "a" {
		t.Errorf("policy changed with its settings: %q", p.DeniedTools[0])
	}
}

// fakeStore is a Store with fixed answers.
type fakeStore struct {
	name     string
	settings policy.Settings
	err      error
}

func (f fakeStore) Name() string { return f.name }
func (f fakeStore) Read(context.Context) (policy.Settings, error) {
	return f.settings, f.err
}

func untrusted(reason string) error { return fmt.Errorf("%w: %s", policy.ErrUntrusted, reason) }

func TestLoad(t *testing.T) {
	invalid := func() error {
		_, err := policy.ParseJSON([]byte(`{"Foo": 1}`))
		return err
	}()
	closed := policy.Default()
	closed.Enabled = false

	tests := []struct {
		name        string
		stores      []policy.Store
		wantPolicy  func(p *policy.Policy)
		wantSources []string
		wantIgnored []string
		wantErr     string
	}{
		{name: "no stores"},
		{name: "absent store", stores: []policy.Store{fakeStore{name: "/etc/p.json"}}},
		{
			name:        "empty source still counts",
			stores:      []policy.Store{fakeStore{name: "/etc/p.json", settings: policy.Settings{}}},
			wantSources: []string{"/etc/p.json"},
		},
		{
			name: "device then user",
			stores: []policy.Store{
				fakeStore{name: "HKLM", settings: policy.Settings{"AllowDemo": false}},
				fakeStore{name: "HKCU", settings: policy.Settings{"AllowDemo": true, "ManagedBy": "x"}},
			},
			wantPolicy:  func(p *policy.Policy) { p.AllowDemo = false; p.ManagedBy = "x" },
			wantSources: []string{"HKLM", "HKCU"},
		},
		{
			name: "untrusted fails closed; it is not ignored",
			stores: []policy.Store{
				fakeStore{name: "/etc/p.json", err: untrusted("/etc/p.json belongs to uid 1000, not root")},
				fakeStore{name: "user", settings: policy.Settings{"MaxCallsPerMinute": int64(3)}},
			},
			wantPolicy:  func(p *policy.Policy) { *p = closed },
			wantSources: []string{"user"},
			wantErr:     "managed policy is not admin-controlled: managed policy source is not admin-controlled: /etc/p.json belongs to uid 1000, not root",
		},
		{
			name: "invalid fails closed and names the source and key",
			stores: []policy.Store{
				fakeStore{name: "HKLM", settings: policy.Settings{"AllowDemo": false}},
				fakeStore{name: "HKCU", err: invalid},
			},
			wantPolicy:  func(p *policy.Policy) { *p = closed },
			wantSources: []string{"HKLM"},
			wantErr:     `managed policy HKCU: policy key "Foo" is not a known key`,
		},
		{
			name: "a read error fails closed too; the first error is kept",
			stores: []policy.Store{
				fakeStore{name: "a", err: errors.New("permission denied")},
				fakeStore{name: "b", err: invalid},
			},
			wantPolicy: func(p *policy.Policy) { *p = closed },
			wantErr:    `managed policy a: permission denied`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := policy.Load(t.Context(), tt.stores...)
			want := policy.Default()
			if tt.wantPolicy != nil {
				tt.wantPolicy(&want)
			}
			if diff := cmp.Diff(want, snap.Policy); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSources, snap.Sources); diff != "" {
				t.Errorf("sources (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantIgnored, snap.Ignored); diff != "" {
				t.Errorf("ignored (-want +got):\n%s", diff)
			}
			switch {
			case tt.wantErr == "" && snap.Err != nil:
				t.Errorf("Err = %v, want nil", snap.Err)
			case tt.wantErr != "" && (snap.Err == nil || snap.Err.Error() != tt.wantErr):
				t.Errorf("Err = %v, want %q", snap.Err, tt.wantErr)
			}
		})
	}
}

func TestLoadInvalidWrapsErrInvalid(t *testing.T) {
	_, perr := policy.ParseJSON([]byte(`{"Enabled": 1}`))
	snap := policy.Load(t.Context(), fakeStore{name: "p", err: perr})
	if !errors.Is(snap.Err, policy.ErrInvalid) {
		t.Errorf("Err = %v, want it to wrap ErrInvalid", snap.Err)
	}
}

func TestEffective(t *testing.T) {
	snap := policy.Load(t.Context())
	eff := snap.Effective()
	if len(eff) != len(policy.Keys()) {
		t.Errorf("Effective has %d keys, want %d", len(eff), len(policy.Keys()))
	}
	for _, k := range policy.Keys() {
		if _, ok := eff[k]; !ok {
			t.Errorf("Effective lacks %q", k)
		}
	}
	b, err := json.Marshal(eff)
	if err != nil {
		t.Fatal(err)
	}
	// Unset AllowedTools is null (the default tools), other lists are [].
	for _, want := range []string{`"AllowedTools":null`, `"DeniedTools":[]`, `"MaxResultBytes":2097152`, `"UpstreamURL":"https://mcp.scispot.io/"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Effective JSON %s lacks %s", b, want)
		}
	}
	// Every effective value is itself valid policy: it round-trips.
	s, err := policy.ParseJSON(mustJSON(t, withoutNil(eff)))
	if err != nil {
		t.Fatalf("effective values do not parse back: %v", err)
	}
	if got := policy.Resolve(s); !got.Equal(snap.Policy) {
		t.Errorf("round trip changed the policy: %+v", got)
	}
}

func withoutNil(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if l, ok := v.([]string); ok && l == nil {
			continue
		}
		out[k] = v
	}
	return out
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestPolicyEqual(t *testing.T) {
	a := policy.Default()
	b := policy.Default()
	if !a.Equal(b) {
		t.Error("Default() != Default()")
	}
	b.AllowedTools = []string{}
	if a.Equal(b) {
		t.Error("unset AllowedTools equals empty AllowedTools; they differ (default tools vs none)")
	}
	c := policy.Default()
	c.DeniedTools = []string{}
	if !a.Equal(c) {
		t.Error("nil DeniedTools differs from empty; both mean none")
	}
	c.DeniedTools = []string{"x"}
	if a.Equal(c) {
		t.Error("DeniedTools change not seen")
	}
}

func TestSnapshotEqual(t *testing.T) {
	base := policy.Snapshot{Policy: policy.Default(), Sources: []string{"a"}}
	tests := []struct {
		name  string
		other policy.Snapshot
		equal bool
	}{
		{"same", policy.Snapshot{Policy: policy.Default(), Sources: []string{"a"}}, true},
		{"zero differs", policy.Snapshot{}, false},
		{"other sources", policy.Snapshot{Policy: policy.Default(), Sources: []string{"b"}}, false},
		{"ignored", policy.Snapshot{Policy: policy.Default(), Sources: []string{"a"}, Ignored: []string{"x: y"}}, false},
		{"error", policy.Snapshot{Policy: policy.Default(), Sources: []string{"a"}, Err: errors.New("bad")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.Equal(tt.other); got != tt.equal {
				t.Errorf("Equal = %v, want %v", got, tt.equal)
			}
		})
	}
	e1 := policy.Snapshot{Err: errors.New("same text")}
	e2 := policy.Snapshot{Err: errors.New("same text")}
	if !e1.Equal(e2) {
		t.Error("snapshots with equal error text differ")
	}
}
