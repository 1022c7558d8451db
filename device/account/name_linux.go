package account

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// currentName finds the login name of this process's uid.
//
// scispot-mcp is built without cgo (it starts in a few milliseconds, which
// the kill switch and serve budgets need). Without cgo, os/user answers
// for the current uid from $USER whenever /etc/passwd lacks it (even
// through LookupId), and the user can set $USER to anything while this
// name decides AuthorizedUsers and the audit trail's attribution. So the
// name comes from /etc/passwd, and directory accounts (SSSD, LDAP,
// winbind), which are not there, from NSS through getent.
func currentName() (string, error) { return nameForUID(os.Getuid()) }

func nameForUID(id int) (string, error) {
	uid := strconv.Itoa(id)
	if f, err := os.Open("/etc/passwd"); err == nil {
		name, ok := passwdName(f, uid)
		f.Close()
		if ok {
			return name, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getent", "passwd", uid).Output()
	if err != nil {
		return "", fmt.Errorf("uid %s is not in /etc/passwd and `getent passwd %s` failed: %w", uid, uid, err)
	}
	name, ok := passwdName(bytes.NewReader(out), uid)
	if !ok {
		return "", fmt.Errorf("`getent passwd %s` gave no entry for uid %s", uid, uid)
	}
	return name, nil
}

// passwdName finds uid's login name in passwd(5) lines. Comments, blank,
// malformed and NIS "+"/"-" lines are skipped; the first match wins, as
// for getpwuid.
func passwdName(r io.Reader, uid string) (string, bool) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) == 7 && f[2] == uid && f[0] != "" {
			return f[0], true
		}
	}
	return "", false
}
