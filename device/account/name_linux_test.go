package account

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestPasswdName(t *testing.T) {
	const file = `# comment
+nisuser::0:0:::
root:x:0:0:root:/root:/bin/bash

alice:x:1000:1000:Alice:/home/alice:/bin/bash
broken:x:1001
jdoe@corp.example:*:1594801103:1594800513:John Doe:/home/jdoe:/bin/bash
:x:1002:1002::/:/bin/sh
alias:x:1000:1000:second entry for 1000:/:/bin/sh
`
	cases := []struct {
		uid, want string
		ok        bool
	}{
		{"0", "root", true},
		{"1000", "alice", true}, // the first entry wins
		{"1594801103", "jdoe@corp.example", true},
		{"1001", "", false}, // malformed
		{"1002", "", false}, // empty name
		{"4242", "", false},
	}
	for _, c := range cases {
		got, ok := passwdName(strings.NewReader(file), c.uid)
		if ok != c.ok || got != c.want {
			t.Errorf("passwdName(%s) = %q, %v; want %q, %v", c.uid, got, ok, c.want, c.ok)
		}
	}
}

func FuzzPasswdName(f *testing.F) {
	f.Add("alice:x:1000:1000:Alice:/home/alice:/bin/bash\n", "1000")
	f.Add("::::::\n#\n+\n", "")
	f.Fuzz(func(t *testing.T, file, uid string) {
		name, ok := passwdName(strings.NewReader(file), uid)
		if ok && (name == "" || strings.Contains(name, ":") || strings.Contains(name, "\n")) {
			t.Fatalf("passwdName gave %q", name)
		}
	})
}

// TestCurrentNameIgnoresUSER: the name comes from the uid, never from the
// environment the user controls.
func TestCurrentNameIgnoresUSER(t *testing.T) {
	want, err := exec.Command("getent", "passwd", strconv.Itoa(os.Getuid())).Output()
	if err != nil {
		t.Skipf("getent: %v", err)
	}
	t.Setenv("USER", "someone-else")
	t.Setenv("LOGNAME", "someone-else")
	got, err := currentName()
	if err != nil {
		t.Fatal(err)
	}
	if wantName, _, _ := strings.Cut(string(want), ":"); got != wantName {
		t.Fatalf("currentName() = %q, want %q", got, wantName)
	}
}

// TestCurrentNameUnknownUID: a uid neither /etc/passwd nor NSS knows is an
// error, whatever $USER says (run as root: the test re-runs itself as a
// uid no one has).
func TestCurrentNameUnknownUID(t *testing.T) {
	if os.Getenv("ACCOUNT_TEST_CHILD") == "1" {
		name, err := currentName()
		if err == nil {
			t.Fatalf("currentName() = %q for an unknown uid", name)
		}
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run as another uid")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parent is 0700: the other uid could not reach the copy.
	dir, err := os.MkdirTemp("", "account-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	body, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	bin := dir + "/account.test"
	if err := os.WriteFile(bin, body, 0o755); err != nil {
		t.Fatal(err)
	}
	const nobodyKnows = 424242
	cmd := exec.Command(bin, "-test.run=^TestCurrentNameUnknownUID$", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = []string{"ACCOUNT_TEST_CHILD=1", "USER=root", "LOGNAME=root", "HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobodyKnows, Gid: nobodyKnows}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
