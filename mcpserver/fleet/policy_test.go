package fleet

import (
	"slices"
	"testing"
)

// The seed policy's hardest rule, one token per person, can only be
// checked across the fleet: the same token fingerprint in the trails of
// two accounts on two devices.
func TestSharedTokenDetection(t *testing.T) {
	for _, tc := range []struct {
		name             string
		aliceTok, bobTok string
		bobOnA           bool // bob works on alice's device
		want             []SharedToken
	}{
		{"one token, two accounts on two devices", "fp-shared", "fp-shared", false,
			[]SharedToken{{Token: "fp-shared", Accounts: []string{"alice", "bob"}, Records: 12}}},
		{"one token, two accounts on one device", "fp-shared", "fp-shared", true,
			[]SharedToken{{Token: "fp-shared", Accounts: []string{"alice", "bob"}, Records: 12}}},
		{"distinct tokens", "fp-alice", "fp-bob", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := newDevice(t, "lab-a"), newDevice(t, "lab-b")
			bobDev := b
			if tc.bobOnA {
				bobDev = a
			}
			trails := []string{
				writeTrail(t, dir, session{dev: a, user: "alice", token: tc.aliceTok, client: "claude-ai", calls: 3}),
				writeTrail(t, dir, session{dev: bobDev, user: "bob", token: tc.bobTok, client: "claude-ai", calls: 3}),
			}
			rep := verify(t, Options{Keys: keysOf(t, a, b)}, otlpFile(t, dir, "logs.jsonl", 50, trails...))
			got := rep.SharedTokens
			for i := range got {
				got[i].Devices = nil // checked below
			}
			if !slices.EqualFunc(got, tc.want, func(x, y SharedToken) bool {
				return x.Token == y.Token && slices.Equal(x.Accounts, y.Accounts) && x.Records == y.Records
			}) {
				t.Fatalf("shared tokens %+v, want %+v", got, tc.want)
			}
			if rep.Found() != (tc.want != nil) {
				t.Fatalf("Found() = %v", rep.Found())
			}
		})
	}
	// The same account with one token on two devices is a shared token
	// too: a token copied to another machine.
	dir := t.TempDir()
	a, b := newDevice(t, "lab-a"), newDevice(t, "lab-b")
	rep := verify(t, Options{}, otlpFile(t, dir, "logs.jsonl", 50,
		writeTrail(t, dir, session{dev: a, user: "alice", token: "fp", calls: 1}),
		writeTrail(t, dir, session{dev: b, user: "alice", token: "fp", calls: 1})))
	if len(rep.SharedTokens) != 1 || len(rep.SharedTokens[0].Devices) != 2 || !slices.Contains(rep.SharedTokens[0].Devices, a.id) {
		t.Fatalf("one account's token on two devices: %+v", rep.SharedTokens)
	}
}

func TestClientsDenialsInjectionsBytes(t *testing.T) {
	dir := t.TempDir()
	a, b := newDevice(t, "lab-a"), newDevice(t, "lab-b")
	trails := []string{
		writeTrail(t, dir, session{dev: a, user: "alice", token: "fa", client: "claude-ai", calls: 5, denied: 2, injections: 1}),
		writeTrail(t, dir, session{dev: b, user: "bob", token: "fb", client: "rogue-agent", calls: 4}),
		writeTrail(t, dir, session{dev: a, user: "bob", token: "fb2", client: "Claude-AI", calls: 1}),
	}
	path := syslogFile(t, dir, "messages", trails...)
	for _, tc := range []struct {
		name    string
		allowed []string
		outside []OutsideClient
	}{
		{"no list", nil, nil},
		{"claude allowed (names compared without case)", []string{"claude-ai"},
			[]OutsideClient{{Client: "rogue-agent", Accounts: []string{"bob"}, Devices: []string{b.id}, Records: 6}}}, // the checkpoint names no client
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := verify(t, Options{AllowedClients: tc.allowed}, path)
			if !slices.EqualFunc(rep.OutsideClients, tc.outside, func(x, y OutsideClient) bool {
				return x.Client == y.Client && slices.Equal(x.Accounts, y.Accounts) && slices.Equal(x.Devices, y.Devices) && x.Records == y.Records
			}) {
				t.Fatalf("outside clients %+v, want %+v", rep.OutsideClients, tc.outside)
			}
			want := []UserReport{
				{User: "alice", Devices: 1, Records: 8, Denials: 2, InjectionFlags: 1, BytesReturned: 300},
				{User: "bob", Devices: 2, Records: 7 + 4, Denials: 0, BytesReturned: 500},
			}
			if !slices.Equal(rep.Users, want) {
				t.Fatalf("users %+v, want %+v", rep.Users, want)
			}
			if !rep.Found() {
				t.Fatal("an injection flag is a finding")
			}
		})
	}
}
