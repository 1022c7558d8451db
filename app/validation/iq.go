package validation

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
		{Case{ID: "IQ-09", Title: "The release's SBOM is installed and names this version",
			Requirements: []string{"REQ-P11-06"},
			Steps: []string{"Read the CycloneDX SBOM the package installed.",
				"Check it is listed in SHA256SUMS (so IQ-01 checks its hash) and names this application and version."},
			Expected: "The SBOM is CycloneDX JSON, listed in SHA256SUMS, and its main component is " + MainModule + " at this program's version."},
			func(_ context.Context, c *Case) { r.checkSBOM(c) }},
		{Case{ID: "IQ-10", Title: "The system service starts at boot",
			Requirements: []string{"REQ-P11-01"},
			Steps: []string{"Check the unit the package installed is enabled (the symlink systemctl enable makes).",
				"Check no unit in /etc masks or replaces it; list any drop-ins."},
			Expected: "scispot-mcpd.service is enabled, neither masked nor replaced."},
			func(_ context.Context, c *Case) { r.checkServiceEnabled(c) }},
		{Case{ID: "IQ-11", Title: "The tray starts at every desktop login",
			Requirements: []string{"REQ-POL-10", "REQ-P11-03"},
			Steps:        []string{"Read the tray's XDG autostart entry the package installed (a conffile: it is checked by what it says, not its hash)."},
			Expected:     "The entry starts scispot-mcp-tray and is not turned off (Hidden, X-GNOME-Autostart-enabled)."},
			func(_ context.Context, c *Case) { r.checkAutostart(c) }},
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
	lines, err := readSums(sumsFile)
	if err != nil {
		return 0, nil, err
	}
	for _, l := range lines {
		got, err := fileSHA256(filepath.Join(root, filepath.FromSlash(l.name)))
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", l.name, err))
		case !strings.EqualFold(got, l.sum):
			bad = append(bad, fmt.Sprintf("%s: SHA-256 %s, released %s", l.name, short(got), short(l.sum)))
		}
	}
	return len(lines), bad, nil
}

// sumLine is one line of a SHA256SUMS.
type sumLine struct{ sum, name string }

// readSums reads a SHA256SUMS: sha256sum's format, "HEX  PATH" or
// "HEX *PATH", paths relative and staying below the root.
func readSums(sumsFile string) ([]sumLine, error) {
	f, err := os.Open(sumsFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []sumLine
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
		if !ok || len(sum) != 64 || name == "" || filepath.IsAbs(name) || strings.Contains(name, "..") {
			return nil, fmt.Errorf("%s line %d is not a sha256sum line", sumsFile, n)
		}
		lines = append(lines, sumLine{sum, name})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", sumsFile, err)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s lists no files", sumsFile)
	}
	return lines, nil
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

// MainModule is this application's Go module (go.mod), the main component
// the release's SBOM names.
const MainModule = "github.com/scispot/mcp-desktop"

// installed is where the package put a file: the path Options gives, or
// else this platform's default under SumsRoot ("" when this platform's
// package puts none).
func (r *run) installed(path, def string) string {
	if path != "" {
		return path
	}
	if def == "" {
		return ""
	}
	return filepath.Join(firstNonEmpty(r.o.SumsRoot, "/"), filepath.FromSlash(def))
}

// packageInstall reports whether a package install is there to check (its
// SHA256SUMS is), and otherwise skips c saying why: a case about what the
// package installs never passes where no package is installed, nor fails
// on a workstation running a build from source.
func (r *run) packageInstall(c *Case, what string) bool {
	if r.o.SumsFile == "" {
		c.skip("no package install to check (no package on this platform installs %s yet)", what)
		return false
	}
	if _, err := os.Stat(r.o.SumsFile); err != nil {
		c.skip("no package install found (%s: %v), so %s is not checked", r.o.SumsFile, unwrapPath(err), what)
		return false
	}
	return true
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// sbom is what IQ-09 reads of a CycloneDX JSON document.
type sbom struct {
	BOMFormat   string `json:"bomFormat"`
	SpecVersion string `json:"specVersion"`
	Metadata    struct {
		Component *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"component"`
	} `json:"metadata"`
	Components []json.RawMessage `json:"components"`
}

// checkSBOM is IQ-09: the SBOM the package installed is CycloneDX JSON,
// names this application at this version, and is listed in SHA256SUMS,
// so IQ-01 checks that it is the released one.
func (r *run) checkSBOM(c *Case) {
	if !r.packageInstall(c, "the SBOM") {
		return
	}
	path := r.installed(r.o.SBOMFile, DefaultSBOM)
	c.note("sbom", "%s", path)
	b, err := readSmall(path, 64<<20)
	if err != nil {
		c.fail("the SBOM is not readable: %v", err)
		return
	}
	c.note("sbom sha256", "%s", Digest("", b).SHA256)
	var doc sbom
	if err := json.Unmarshal(b, &doc); err != nil {
		c.fail("%s is not JSON: %v", path, err)
		return
	}
	if doc.BOMFormat != "CycloneDX" || doc.SpecVersion == "" {
		c.fail("%s is not a CycloneDX SBOM (bomFormat %q, specVersion %q)", path, doc.BOMFormat, doc.SpecVersion)
		return
	}
	c.note("format", "CycloneDX %s, %d components", doc.SpecVersion, len(doc.Components))
	comp := doc.Metadata.Component
	if comp == nil {
		c.fail("%s names no main component (metadata.component)", path)
		return
	}
	c.note("main component", "%s %s", comp.Name, comp.Version)
	if comp.Name != MainModule {
		c.fail("%s describes %q, not %s", path, comp.Name, MainModule)
		return
	}
	if comp.Version != r.o.Version {
		c.fail("%s describes %s %s, but this scispot-mcp is %s: the SBOM is of another release", path, MainModule, firstNonEmpty(comp.Version, "with no version"), r.o.Version)
		return
	}
	lines, err := readSums(r.o.SumsFile)
	if err != nil {
		c.fail("%v", err)
		return
	}
	rel, err := filepath.Rel(firstNonEmpty(r.o.SumsRoot, "/"), path)
	rel = filepath.ToSlash(rel)
	if err != nil || !slices.ContainsFunc(lines, func(l sumLine) bool { return l.name == rel }) {
		c.fail("%s is not listed in %s, so nothing checks it is the released SBOM", path, r.o.SumsFile)
		return
	}
	c.pass("%s: CycloneDX %s SBOM of %s %s (%d components), listed in SHA256SUMS", path, doc.SpecVersion, comp.Name, comp.Version, len(doc.Components))
}

// checkServiceEnabled is IQ-10: the symlink `systemctl enable` makes for
// the unit's WantedBy= target points at the unit the package installed,
// and no unit of the same name in /etc masks or replaces it. This is what
// `systemctl is-enabled` reads for such a unit, and unlike it works where
// systemd is not running (a container) and under a test's root.
func (r *run) checkServiceEnabled(c *Case) {
	if !r.packageInstall(c, "the service's enablement") {
		return
	}
	unit := r.installed(r.o.ServiceUnit, DefaultServiceUnit)
	link := r.installed(r.o.ServiceLink, DefaultServiceLink)
	c.note("unit", "%s", unit)
	c.note("enabled by", "%s", link)
	if fi, err := os.Stat(unit); err != nil || !fi.Mode().IsRegular() {
		c.fail("the service's unit %s is not installed (%v)", unit, errOrMode(err, fi))
		return
	}
	fi, err := os.Lstat(link)
	if err != nil {
		c.fail("%s is not enabled: %s is missing (systemctl enable %s)", filepath.Base(unit), link, filepath.Base(unit))
		return
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		c.fail("%s is not the symlink systemctl enable makes (%v)", link, fi.Mode())
		return
	}
	target, err := os.Readlink(link)
	if err != nil {
		c.fail("reading %s: %v", link, err)
		return
	}
	c.note("link target", "%s", target)
	resolved := filepath.Join(filepath.Dir(link), target)
	if filepath.IsAbs(target) {
		resolved = filepath.Join(firstNonEmpty(r.o.SumsRoot, "/"), target)
	}
	// The same file, not the same name: deb-systemd-helper may link
	// /lib/systemd/system/… where /lib is /usr/lib.
	if !sameFile(resolved, unit) {
		c.fail("%s points to %s, not the unit the package installed (%s)", link, target, unit)
		return
	}
	// /etc/systemd/system/NAME.service, two folders above the .wants link,
	// takes precedence over the package's unit: a mask (-> /dev/null) or
	// a copy the package does not check.
	local := filepath.Join(filepath.Dir(filepath.Dir(link)), filepath.Base(unit))
	if fi, err := os.Lstat(local); err == nil {
		if t, _ := os.Readlink(local); fi.Mode()&fs.ModeSymlink != 0 && t == os.DevNull {
			c.fail("%s is masked (%s -> %s): it never starts", filepath.Base(unit), local, t)
		} else {
			c.fail("%s replaces the unit the package installed: the service would run from a unit IQ-01 does not check", local)
		}
		return
	}
	dropins, _ := filepath.Glob(local + ".d/*.conf")
	if len(dropins) > 0 {
		// An admin's drop-in (a proxy's Environment=, say) is allowed;
		// the report shows it for review, and IQ-02 checks the process
		// still runs as designed.
		c.note("drop-ins", "%s", strings.Join(dropins, ", "))
		c.pass("%s is enabled (%s), with drop-ins to review: %s", filepath.Base(unit), link, strings.Join(dropins, ", "))
		return
	}
	c.pass("%s is enabled (%s -> %s)", filepath.Base(unit), link, target)
}

// trayProgram is what the tray's autostart entry runs.
const trayProgram = "scispot-mcp-tray"

// checkAutostart is IQ-11: the tray's XDG autostart entry runs the tray
// and is not turned off. It is a conffile (an admin may set Hidden=true
// to turn the tray off for everyone), so it is read for what it says, not
// hashed.
func (r *run) checkAutostart(c *Case) {
	if !r.packageInstall(c, "the tray's autostart entry") {
		return
	}
	path := r.installed(r.o.Autostart, DefaultAutostart)
	c.note("autostart entry", "%s", path)
	b, err := readSmall(path, 64<<10)
	if err != nil {
		c.fail("the tray does not start at login: %v", err)
		return
	}
	e := desktopEntry(b)
	if len(e) == 0 {
		c.fail("%s has no [Desktop Entry] group", path)
		return
	}
	c.note("Exec", "%s", e["Exec"])
	for _, k := range []string{"OnlyShowIn", "NotShowIn", "X-GNOME-Autostart-Delay"} {
		if v, ok := e[k]; ok {
			c.note(k, "%s", v)
		}
	}
	prog, _, _ := strings.Cut(strings.TrimSpace(e["Exec"]), " ")
	switch {
	case e["Type"] != "Application":
		c.fail("%s is of Type %q, not Application", path, e["Type"])
	case filepath.Base(prog) != trayProgram:
		c.fail("%s runs %q, not %s", path, e["Exec"], trayProgram)
	case e["Hidden"] == "true":
		c.fail("%s has Hidden=true: the tray is turned off for every account (if the lab decided so, record it as a deviation)", path)
	case e["X-GNOME-Autostart-enabled"] == "false":
		c.fail("%s has X-GNOME-Autostart-enabled=false: GNOME does not start the tray", path)
	default:
		c.pass("%s starts %s at every desktop login", path, prog)
	}
}

// desktopEntry reads the keys of a .desktop file's [Desktop Entry] group
// (not the localised ones, Name[de]=…).
func desktopEntry(b []byte) map[string]string {
	keys := map[string]string{}
	in := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			in = line == "[Desktop Entry]"
		case in:
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if ok && !strings.Contains(k, "[") {
				if _, seen := keys[k]; !seen { // the first wins, as desktops read it
					keys[k] = strings.TrimSpace(v)
				}
			}
		}
	}
	return keys
}

// readSmall reads a file of at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return b, nil
}

func errOrMode(err error, fi fs.FileInfo) any {
	if err != nil {
		return unwrapPath(err)
	}
	return fi.Mode()
}

func sameFile(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
