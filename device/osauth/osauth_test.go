package osauth

import (
	"context"
	"errors"
	"os/user"
	"strings"
	"testing"
)

func TestUnsupportedMatchesStandardError(t *testing.T) {
	if !errors.Is(ErrUnsupported, errors.ErrUnsupported) {
		t.Fatal("ErrUnsupported does not match errors.ErrUnsupported")
	}
}

// Input that can never be a right password or an account is refused
// before PAM or Windows is asked: the service named here does not exist,
// so reaching PAM would give a different error.
func TestCheckPasswordRefusesBadInputFirst(t *testing.T) {
	o := Options{Service: "scispot-mcp-test-never-installed"}
	tests := []struct {
		name     string
		account  string
		password string
		want     error
	}{
		{"empty password", "jane", "", ErrWrongPassword},
		{"NUL in password", "jane", "secret\x00more", ErrWrongPassword},
		{"password too long", "jane", strings.Repeat("p", maxPasswordBytes+1), ErrWrongPassword},
		{"empty account", "", "secret", ErrUnknownAccount},
		{"NUL in account", "jane\x00root", "secret", ErrUnknownAccount},
		{"newline in account", "jane\nroot", "secret", ErrUnknownAccount},
		{"account not UTF-8", "jane\xff", "secret", ErrUnknownAccount},
		{"account too long", strings.Repeat("a", maxAccountBytes+1), "secret", ErrUnknownAccount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := o.CheckPassword(context.Background(), tt.account, tt.password)
			want := tt.want
			if !Supported() {
				want = ErrUnsupported
			}
			if !errors.Is(err, want) {
				t.Fatalf("CheckPassword = %v, want %v", err, want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}

func TestCheckPasswordDoneContext(t *testing.T) {
	if !Supported() {
		t.Skip("this build cannot check passwords (ErrUnsupported)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := CheckPassword(ctx, "root", "secret")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckPassword with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestFullNameUnknownAccount(t *testing.T) {
	for _, account := range []string{"scispot-no-such-account-7f3a", "", "bad\nname"} {
		if _, err := FullName(account); !errors.Is(err, ErrUnknownAccount) {
			t.Errorf("FullName(%q) = %v, want ErrUnknownAccount", account, err)
		}
	}
}

func TestFullNameCurrentAccount(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Skipf("no current account to look up: %v", err)
	}
	name, err := FullName(u.Username)
	if err != nil {
		t.Fatalf("FullName(%q): %v", u.Username, err)
	}
	want := printedName(u.Name, u.Username)
	if name != want {
		t.Fatalf("FullName(%q) = %q, want %q", u.Username, name, want)
	}
}

func TestPrintedName(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "Jane Q. Tester", "Jane Q. Tester"},
		{"empty gives the login name", "", "jane"},
		{"only spaces give the login name", " \t ", "jane"},
		{"spaces collapsed and trimmed", "  Jane \t Q.  Tester ", "Jane Q. Tester"},
		{"control characters dropped", "Jane\x1b[31m Tester\r\n", "Jane[31m Tester"},
		{"bidi overrides dropped", "Jane \u202eretseT\u202c", "Jane retseT"},
		{"accents kept", "Zoë Łukasiewicz-Núñez", "Zoë Łukasiewicz-Núñez"},
		{"invalid UTF-8 dropped", "Jane\xff Tester", "Jane Tester"},
		{"long names cut", strings.Repeat("é", 200), strings.Repeat("é", maxFullNameBytes/2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := printedName(tt.in, "jane"); got != tt.want {
				t.Fatalf("printedName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPasswdGECOS(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\n" +
		"1000:x:1001:1001:Numeric Name:/home/1000:/bin/sh\n" +
		"jane:x:1000:1000:Jane Q. Tester,Lab 3,555-0100,,:/home/jane:/bin/sh\n" +
		"nogecos:x:1002:1002::/home/nogecos:/bin/sh\n" +
		"broken:x:1003\n"
	tests := []struct {
		account   string
		want      string
		wantFound bool
	}{
		{"jane", "Jane Q. Tester", true},
		{"nogecos", "", true},
		{"root", "root", true},
		{"1000", "Numeric Name", true},
		{"broken", "", false},
		{"nobody-here", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.account, func(t *testing.T) {
			got, found := passwdGECOS([]byte(passwd), tt.account)
			if got != tt.want || found != tt.wantFound {
				t.Fatalf("passwdGECOS(%q) = %q, %v; want %q, %v", tt.account, got, found, tt.want, tt.wantFound)
			}
		})
	}
}
