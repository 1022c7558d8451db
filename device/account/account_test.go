package account

import "testing"

func TestAuthorized(t *testing.T) {
	win := Account{Name: `CORP\bob`, Aliases: []string{"bob@corp.example"}}
	unix := Account{Name: "alice"}
	cases := []struct {
		a       Account
		allowed []string
		want    bool
	}{
		{unix, nil, true},
		{unix, []string{"ALICE"}, true},
		{unix, []string{"bob", " alice "}, true},
		{unix, []string{"alic"}, false},
		{win, []string{`corp\BOB`}, true},
		{win, []string{"Bob@Corp.Example"}, true},
		{win, []string{"bob"}, false}, // a bare name could be another domain's bob
		{win, []string{`OTHER\bob`}, false},
	}
	for _, tc := range cases {
		if got := tc.a.Authorized(tc.allowed); got != tc.want {
			t.Errorf("%+v.Authorized(%q) = %v, want %v", tc.a, tc.allowed, got, tc.want)
		}
	}
}

func TestCurrent(t *testing.T) {
	a, err := Current()
	if err != nil {
		t.Skipf("no OS account here: %v", err)
	}
	if a.Name == "" {
		t.Fatal("empty name")
	}
}
