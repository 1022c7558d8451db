package validation

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// IQ: the installation is what was released and configured as designed.
func (r *run) iqCases() []caseDef {
	st := r.status
	return []caseDef{
		{Case{ID: "IQ-01", Title: "Installed files match the release's SHA256SUMS",
			Requirements: []string{"REQ-P11-06"},
			Steps:        []string{"Read the SHA256SUMS the package installed.", "Compute the SHA-256 of every file it lists."},
			Expected:     "Every listed file exists and its SHA-256 matches."},
			func(_ context.Context, c *Case) { r.checkSums(c) }},
		{Case{ID: "IQ-02", Title: "The system service is installed and running as the system",
			Requirements: []string{"REQ-P11-01", "REQ-A11-02"},
			Steps:        []string{"Ask the service on the local socket for its status.", "Check the process answering runs as the system account."},
			Expected:     "A system-mode scispot-mcpd answers, running as root (SYSTEM on Windows)."},
			func(_ context.Context, c *Case) {
				c.note("mode", "%s", st.Service.Mode)
				c.note("pid", "%d", st.Service.PID)
				c.note("version", "%s", st.Service.Version)
				if st.Service.Mode != localapi.ModeSystem {
					c.fail("the service answering is the %q instance, not the installed system service", st.Service.Mode)
					return
				}
				owner, err := processOwner(st.Service.PID)
				if err != nil {
					c.fail("could not read the owner of process %d: %v", st.Service.PID, err)
					return
				}
				c.note("process owner", "%s", owner)
				if owner != systemOwner {
					c.fail("scispot-mcpd (pid %d) runs as %s, not %s", st.Service.PID, owner, systemOwner)
					return
				}
				c.pass("scispot-mcpd %s (pid %d) runs as %s in system mode", st.Service.Version, st.Service.PID, owner)
			}},
		{Case{ID: "IQ-03", Title: "The service's socket is owned by the system and its folder not writable by users",
			Requirements: []string{"REQ-P11-01", "REQ-A11-02"},
			Steps:        []string{"Inspect the local API endpoint the service names and the folder holding it."},
			Expected:     "The endpoint and its folder are owned by root and not writable by group or others."},
			func(_ context.Context, c *Case) {
				c.note("socket", "%s", st.Service.Socket)
				if err := checkEndpoint(st.Service.Socket); err != nil {
					c.fail("%v", err)
					return
				}
				c.pass("%s and its folder are owned by the system and closed to users", st.Service.Socket)
			}},
		{Case{ID: "IQ-04", Title: "The managed policy is found and valid",
			Requirements: []string{"REQ-POL-05", "REQ-A11-02"},
			Steps:        []string{"Ask the service which policy sources it read and whether the policy is valid."},
			Expected:     "The policy is valid; its sources are listed."},
			func(_ context.Context, c *Case) {
				c.note("sources", "%s", orNone(st.Policy.Sources))
				if len(st.Policy.Ignored) > 0 {
					c.note("ignored", "%s", strings.Join(st.Policy.Ignored, "; "))
				}
				if !st.Policy.Valid {
					c.fail("the policy is invalid: %s", st.Policy.Error)
					return
				}
				c.pass("valid policy from %s", orNone(st.Policy.Sources))
			}},
		{Case{ID: "IQ-05", Title: "This account is authorised by the policy",
			Requirements: []string{"REQ-POL-02", "REQ-P11-01"},
			Steps:        []string{"Ask the service whether the account it sees (from the kernel) is authorised."},
			Expected:     "The account running the validation is authorised."},
			func(_ context.Context, c *Case) {
				c.note("account", "%s (uid %d)", st.User.Name, st.User.UID)
				if !st.User.Authorized {
					c.fail("the policy does not authorise %s", st.User.Name)
					return
				}
				c.pass("%s is authorised", st.User.Name)
			}},
		{Case{ID: "IQ-06", Title: "The device is managed (MDM enrollment signal)",
			Requirements: []string{"REQ-POL-01"},
			Steps:        []string{"Ask the service for its enrollment check."},
			Expected:     "The service confirms the device is managed and names how."},
			func(_ context.Context, c *Case) {
				e := st.Enrollment
				c.note("method", "%s", e.Method)
				c.note("detail", "%s", e.Detail)
				if !e.Checked || !e.Managed {
					c.fail("the device is not confirmed managed: %s", firstNonEmpty(e.Error, e.Detail, "no enrollment signal"))
					return
				}
				c.pass("managed (%s): %s", e.Method, e.Detail)
			}},
		{Case{ID: "IQ-07", Title: "The keychain is reachable and the token is sealed to the service",
			Requirements: []string{"REQ-POL-03", "REQ-POL-04"},
			Steps:        []string{"Read this account's keychain item.", "Ask the service whether it is sealed to this device's service key."},
			Expected:     "The keychain answers and the stored token is sealed; only its fingerprint is shown."},
			func(_ context.Context, c *Case) {
				t := st.Token
				if r.o.TokenError != "" || t.Error != "" {
					c.fail("the keychain could not be read: %s", firstNonEmpty(r.o.TokenError, t.Error))
					return
				}
				if !t.Present {
					c.skip("the keychain answers but holds no token for %s; store one (scispot-mcp token set) and run again to include this case", st.User.Name)
					return
				}
				c.note("token fingerprint", "%s", t.Fingerprint)
				if !t.Sealed {
					c.fail("the keychain holds a token that is not sealed to the service")
					return
				}
				c.pass("the token (fingerprint %s) is sealed to the service key %s", t.Fingerprint, st.Service.KeyID)
			}},
		{Case{ID: "IQ-08", Title: "Versions of the app, the service and the OS",
			Requirements: []string{"REQ-P11-06"},
			Steps:        []string{"Record this program's version, the service's and the OS's."},
			Expected:     "The command line and the service are the same version."},
			func(_ context.Context, c *Case) {
				c.note("app", "%s (%s)", r.o.Version, r.o.Commit)
				c.note("service", "%s", st.Service.Version)
				c.note("os", "%s", firstNonEmpty(osVersion(), "unknown"))
				if r.o.Version != st.Service.Version {
					c.fail("scispot-mcp is %s but scispot-mcpd is %s; reinstall the package or restart the service", r.o.Version, st.Service.Version)
					return
				}
				c.pass("scispot-mcp and scispot-mcpd %s on %s", r.o.Version, firstNonEmpty(osVersion(), "unknown OS"))
			}},
	}
}

// checkSums is IQ-01: sha256sum's format, "HEX  PATH" or "HEX *PATH".
func (r *run) checkSums(c *Case) {
	if r.o.SumsFile == "" {
		c.skip("no package install to check (no SHA256SUMS is known on this platform)")
		return
	}
	c.note("sums file", "%s", r.o.SumsFile)
	files, bad, err := CheckSums(r.o.SumsFile, r.o.SumsRoot)
	switch {
	case os.IsNotExist(err):
		c.skip("no package install found (%s is absent)", r.o.SumsFile)
	case err != nil:
		c.fail("%v", err)
	case len(bad) > 0:
		for _, b := range bad {
			c.note("mismatch", "%s", b)
		}
		c.fail("%d of %d installed files differ from the release: %s", len(bad), files, strings.Join(bad, "; "))
	default:
		c.note("files checked", "%d", files)
		c.pass("all %d installed files match", files)
	}
}

// CheckSums checks every file a SHA256SUMS lists under root; bad names
// each file that is missing or differs.
func CheckSums(sumsFile, root string) (files int, bad []string, err error) {
	f, err := os.Open(sumsFile)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
		if !ok || len(sum) != 64 || name == "" || filepath.IsAbs(name) || strings.Contains(name, "..") {
			return files, bad, fmt.Errorf("%s line %d is not a sha256sum line", sumsFile, n)
		}
		files++
		got, err := fileSHA256(filepath.Join(root, filepath.FromSlash(name)))
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
		case !strings.EqualFold(got, sum):
			bad = append(bad, fmt.Sprintf("%s: SHA-256 %s, released %s", name, short(got), short(sum)))
		}
	}
	if err := sc.Err(); err != nil {
		return files, bad, fmt.Errorf("reading %s: %w", sumsFile, err)
	}
	if files == 0 {
		return 0, nil, fmt.Errorf("%s lists no files", sumsFile)
	}
	return files, bad, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ", ")
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
