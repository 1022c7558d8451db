package packagetest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"howett.net/plist"
)

func readPlist(t *testing.T, rel string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	format, err := plist.Unmarshal(b, &m)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if format != plist.XMLFormat {
		t.Errorf("%s: format %s, want XML", rel, plist.FormatNames[format])
	}
	return m
}

// wantKeys checks the keys' values; a nil want only requires the key.
func wantKeys(t *testing.T, name string, m map[string]any, want map[string]any) {
	t.Helper()
	for k, v := range want {
		got, ok := m[k]
		switch {
		case !ok:
			t.Errorf("%s lacks %s", name, k)
		case v != nil && got != v:
			t.Errorf("%s: %s = %#v, want %#v", name, k, got, v)
		}
	}
}

// appExecutable is the bundle's executable, the tray, which the
// LaunchAgent starts; the CLI (scispot-mcp) sits beside it.
const appExecutable = "/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcp-tray"

func TestMacInfoPlist(t *testing.T) {
	m := readPlist(t, "macos/Info.plist")
	wantKeys(t, "Info.plist", m, map[string]any{
		"CFBundleIdentifier":         "io.scispot.mcp",
		"CFBundleExecutable":         filepath.Base(appExecutable),
		"CFBundleName":               "Scispot MCP",
		"CFBundlePackageType":        "APPL",
		"CFBundleShortVersionString": "@VERSION@", // build-pkg.sh fills both in from git
		"CFBundleVersion":            "@BUILD@",
		"CFBundleIconFile":           "icon.icns",
		"LSUIElement":                true, // menu bar only, no Dock icon
		"LSMinimumSystemVersion":     nil,
	})
}

func TestMacLaunchAgent(t *testing.T) {
	m := readPlist(t, "macos/io.scispot.mcp.plist")
	wantKeys(t, "LaunchAgent", m, map[string]any{
		"Label":                  "io.scispot.mcp",
		"RunAtLoad":              true,
		"LimitLoadToSessionType": "Aqua",
	})
	args, _ := m["ProgramArguments"].([]any)
	if len(args) == 0 || args[0] != appExecutable {
		t.Errorf("ProgramArguments = %v, want [%s]", args, appExecutable)
	}
	// Restarted after a crash, not after the person quits it.
	if ka, _ := m["KeepAlive"].(map[string]any); ka["SuccessfulExit"] != false {
		t.Errorf("KeepAlive = %#v, want {SuccessfulExit: false}", m["KeepAlive"])
	}
	for _, rel := range []string{"macos/scripts/postinstall", "macos/build-pkg.sh"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", rel))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("io.scispot.mcp.plist")) {
			t.Errorf("%s does not install or load io.scispot.mcp.plist", rel)
		}
	}
}

// serviceExecutable is the workstation service, which the LaunchDaemon runs
// as root: beside the CLI, where scispot-mcp looks for it.
const serviceExecutable = "/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcpd"

func TestMacLaunchDaemon(t *testing.T) {
	m := readPlist(t, "macos/io.scispot.mcpd.plist")
	wantKeys(t, "LaunchDaemon", m, map[string]any{
		"Label":     "io.scispot.mcpd",
		"RunAtLoad": true,
		"KeepAlive": true,
	})
	args, _ := m["ProgramArguments"].([]any)
	if len(args) != 1 || args[0] != serviceExecutable {
		t.Errorf("ProgramArguments = %v, want [%s] (no arguments: the system service)", args, serviceExecutable)
	}
	if filepath.Dir(serviceExecutable) != filepath.Dir(appExecutable) {
		t.Errorf("the service %s is not beside the CLI in %s", serviceExecutable, filepath.Dir(appExecutable))
	}
	// A daemon runs as root unless told otherwise, and must.
	for _, k := range []string{"UserName", "GroupName", "LimitLoadToSessionType"} {
		if _, ok := m[k]; ok {
			t.Errorf("LaunchDaemon sets %s: the service must run as root, in the system domain", k)
		}
	}
	for _, limits := range []string{"SoftResourceLimits", "HardResourceLimits"} {
		if l, _ := m[limits].(map[string]any); l["Core"] != uint64(0) {
			t.Errorf("%s = %#v, want Core 0 (no core files of the service)", limits, m[limits])
		}
	}
	for rel, wants := range map[string][]string{
		// built, signed and placed
		"macos/build-pkg.sh": {"./cmd/$exe", "scispot-mcpd", "Library/LaunchDaemons/io.scispot.mcpd.plist"},
		// root-owned 0644, then bootout + bootstrap in the system domain
		"macos/scripts/postinstall": {"io.scispot.mcpd.plist", "chown root:wheel", "chmod 0644", "launchctl bootstrap system", "launchctl bootout system/io.scispot.mcpd"},
		"macos/scripts/preinstall":  {"launchctl bootout system/io.scispot.mcpd"},
		"macos/uninstall.sh":        {"launchctl bootout system/io.scispot.mcpd", "rm -f /Library/LaunchDaemons/io.scispot.mcpd.plist"},
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !bytes.Contains(b, []byte(w)) {
				t.Errorf("%s lacks %q", rel, w)
			}
		}
	}
}

// TestAuditTrailKept: no installer or uninstaller deletes the service's
// state, which holds the audit trail (regulated records only the lab may
// delete).
func TestAuditTrailKept(t *testing.T) {
	for rel, state := range map[string]string{
		"linux/postinst":            "/var/lib/scispot-mcp",
		"linux/prerm":               "/var/lib/scispot-mcp",
		"linux/postrm":              "/var/lib/scispot-mcp",
		"macos/uninstall.sh":        "/Library/Application Support/Scispot MCP",
		"macos/scripts/preinstall":  "/Library/Application Support/Scispot MCP",
		"macos/scripts/postinstall": "/Library/Application Support/Scispot MCP",
	} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		// Shell variables set in the script (name=value), so that
		// rm -rf "$statedir" is seen for what it removes.
		vars := map[string]string{}
		for _, m := range regexp.MustCompile(`(?m)^\s*([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)`).FindAllStringSubmatch(string(b), -1) {
			vars[m[1]] = strings.Trim(m[2], `"`)
		}
		expand := func(code string) string {
			return os.Expand(code, func(name string) string {
				if v, ok := vars[name]; ok {
					return v
				}
				return "$" + name
			})
		}
		for i, line := range strings.Split(string(b), "\n") {
			code, _, _ := strings.Cut(line, "#")
			code = expand(expand(code))
			if regexp.MustCompile(`\brm(dir)?\b`).MatchString(code) && strings.Contains(code, state) {
				t.Errorf("%s:%d removes the service's state (%s): %s", rel, i+1, state, strings.TrimSpace(line))
			}
		}
	}
	wxs, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "windows", "scispot-mcp.wxs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range []string{"<RemoveFolder", "<RemoveFile", "CommonAppDataFolder"} {
		if bytes.Contains(wxs, []byte(el)) {
			t.Errorf("scispot-mcp.wxs uses %s: the MSI must leave %%ProgramData%%\\Scispot\\MCP (the audit trail) alone", el)
		}
	}
}

// TestSystemdUnit checks the service's unit: what the package and the
// clients rely on, and that no sandboxing option that would break PAM (or
// the service's other duties) crept in.
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "linux", "scispot-mcpd.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := map[string]map[string][]string{} // section -> key -> values
	section := ""
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			unit[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("scispot-mcpd.service:%d: %q", i+1, line)
			}
			unit[section][k] = append(unit[section][k], v)
		}
	}
	for _, w := range []struct{ section, key, value string }{
		{"Service", "Type", "simple"},
		{"Service", "ExecStart", "/usr/bin/scispot-mcpd"},
		{"Service", "Restart", "on-failure"},
		{"Service", "RuntimeDirectory", "scispot-mcp"},
		{"Service", "RuntimeDirectoryMode", "0755"},
		{"Service", "StateDirectory", "scispot-mcp"},
		{"Service", "StateDirectoryMode", "0700"},
		{"Service", "LimitCORE", "0"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "full"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "ProtectKernelTunables", "yes"},
		{"Install", "WantedBy", "multi-user.target"},
	} {
		if got := unit[w.section][w.key]; !slices.Equal(got, []string{w.value}) {
			t.Errorf("[%s] %s = %q, want %q", w.section, w.key, got, w.value)
		}
	}
	// pam_unix reads /etc/shadow as root, pam_faillock writes /run/faillock,
	// the service reads other accounts' /proc entries and talks to the
	// network: these would break it.
	for _, key := range []string{"User", "Group", "DynamicUser", "PrivateUsers", "PrivateNetwork", "ProtectProc", "ProcSubset", "MemoryDenyWriteExecute", "ReadOnlyPaths", "InaccessiblePaths", "IPAddressDeny"} {
		if v, ok := unit["Service"][key]; ok {
			t.Errorf("[Service] sets %s=%v, which breaks PAM or the service's duties (see the unit's comments)", key, v)
		}
	}
	if caps := strings.Join(unit["Service"]["CapabilityBoundingSet"], " "); caps != "" {
		for _, c := range []string{"CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE", "CAP_SETUID", "CAP_AUDIT_WRITE"} {
			if !strings.Contains(caps, c) {
				t.Errorf("CapabilityBoundingSet lacks %s: %s", c, caps)
			}
		}
	}
	if af := strings.Join(unit["Service"]["RestrictAddressFamilies"], " "); af != "" {
		for _, f := range []string{"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"} {
			if !strings.Contains(af, f) {
				t.Errorf("RestrictAddressFamilies lacks %s: %s", f, af)
			}
		}
	}
}

func TestMacEntitlements(t *testing.T) {
	m := readPlist(t, "macos/entitlements.plist")
	// Hardened runtime with no exception: every key present must be false.
	for k, v := range m {
		if !strings.HasPrefix(k, "com.apple.security.") {
			t.Errorf("entitlements: unexpected key %s", k)
		}
		if v != false {
			t.Errorf("entitlements: %s = %#v; an exception to the hardened runtime needs a reason in the file", k, v)
		}
	}
}

func TestMacMobileconfig(t *testing.T) {
	m := readPlist(t, "macos/io.scispot.mcp.mobileconfig")
	wantKeys(t, "mobileconfig", m, map[string]any{
		"PayloadType": "Configuration", "PayloadVersion": uint64(1),
		"PayloadIdentifier": nil, "PayloadUUID": nil, "PayloadDisplayName": nil,
	})
	content, _ := m["PayloadContent"].([]any)
	if len(content) != 1 {
		t.Fatalf("mobileconfig: %d payloads, want 1", len(content))
	}
	p, _ := content[0].(map[string]any)
	wantKeys(t, "payload", p, map[string]any{
		"PayloadType": "com.apple.ManagedClient.preferences", "PayloadUUID": nil, "PayloadIdentifier": nil,
	})
	domains, _ := p["PayloadContent"].(map[string]any)
	dom, _ := domains["io.scispot.mcp"].(map[string]any)
	forced, _ := dom["Forced"].([]any)
	if len(forced) != 1 {
		t.Fatalf("no Forced settings for domain io.scispot.mcp: %#v", domains)
	}
	settings, _ := forced[0].(map[string]any)["mcx_preference_settings"].(map[string]any)
	// The same keys as the Linux example policy: one set of names everywhere.
	var linux map[string]any
	b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "linux", "policy.example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &linux); err != nil {
		t.Fatal(err)
	}
	var macKeys, linuxKeys []string
	for k := range settings {
		macKeys = append(macKeys, k)
	}
	for k := range linux {
		linuxKeys = append(linuxKeys, k)
	}
	slices.Sort(macKeys)
	slices.Sort(linuxKeys)
	if !slices.Equal(macKeys, linuxKeys) {
		t.Errorf("mobileconfig keys %v differ from policy.example.json keys %v", macKeys, linuxKeys)
	}
}

func TestMacDistribution(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "macos", "distribution.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		XMLName xml.Name `xml:"installer-gui-script"`
		Title   string   `xml:"title"`
		Domains struct {
			System string `xml:"enable_localSystem,attr"`
			Home   string `xml:"enable_currentUserHome,attr"`
		} `xml:"domains"`
		Options struct {
			Customize string `xml:"customize,attr"`
			Arch      string `xml:"hostArchitectures,attr"`
		} `xml:"options"`
		Choices []struct {
			ID   string `xml:"id,attr"`
			Refs []struct {
				ID string `xml:"id,attr"`
			} `xml:"pkg-ref"`
		} `xml:"choice"`
		PkgRefs []struct {
			ID      string `xml:"id,attr"`
			Version string `xml:"version,attr"`
			File    string `xml:",chardata"`
		} `xml:"pkg-ref"`
	}
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("distribution.xml: %v", err)
	}
	if d.Domains.System != "true" || d.Domains.Home == "true" {
		t.Errorf("distribution.xml must install to the system domain only: %+v", d.Domains)
	}
	if d.Options.Customize != "never" || !strings.Contains(d.Options.Arch, "arm64") || !strings.Contains(d.Options.Arch, "x86_64") {
		t.Errorf("options %+v", d.Options)
	}
	script, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "macos", "build-pkg.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.PkgRefs) != 1 {
		t.Fatalf("want one top-level pkg-ref, got %+v", d.PkgRefs)
	}
	ref := d.PkgRefs[0]
	// The component package build-pkg.sh writes, with the identifier it gives.
	if !bytes.Contains(script, []byte("--identifier "+ref.ID)) || !bytes.Contains(script, []byte("/"+strings.TrimSpace(ref.File)+`"`)) {
		t.Errorf("pkg-ref %+v does not match build-pkg.sh's pkgbuild", ref)
	}
	if ref.Version != "@VERSION@" {
		t.Errorf("pkg-ref version %q, want @VERSION@ (filled in by build-pkg.sh)", ref.Version)
	}
	referenced := false
	for _, c := range d.Choices {
		for _, r := range c.Refs {
			referenced = referenced || r.ID == ref.ID
		}
	}
	if !referenced {
		t.Error("no choice installs the package")
	}
}

func TestWindowsSourcesParse(t *testing.T) {
	for _, rel := range []string{"windows/scispot-mcp.wxs", "windows/ScispotMCP.admx", "windows/en-US/ScispotMCP.adml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(b))
		for {
			if _, err := dec.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Errorf("%s: %v", rel, err)
				}
				break
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", "windows", "winres.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Error("winres.json is not valid JSON")
	}
	wxs, _ := os.ReadFile(filepath.Join(repoRoot, "packaging", "windows", "scispot-mcp.wxs"))
	if !strings.Contains(string(wxs), `UpgradeCode="`+strings.Trim(upgradeCode, "{}")+`"`) {
		t.Error("the wxs UpgradeCode changed: a new MSI would no longer upgrade installed ones")
	}
}

func TestDesktopEntries(t *testing.T) {
	for _, rel := range []string{"linux/io.scispot.mcp.desktop", "linux/io.scispot.mcp.autostart.desktop"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "packaging", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		// TryExec makes a conffile left behind by `apt-get remove` inert.
		for _, want := range []string{"[Desktop Entry]\n", "\nType=Application\n", "\nExec=scispot-mcp-tray\n", "\nTryExec=scispot-mcp-tray\n", "\nIcon=io.scispot.mcp\n"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s lacks %q", rel, strings.TrimSpace(want))
			}
		}
	}
}

func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		if os.Getenv("SCISPOT_PACKAGE_TESTS") == "1" {
			t.Fatal("shellcheck not found: apt-get install shellcheck (packaging/dev-deps.sh)")
		}
		t.Skip("shellcheck not installed (apt-get install shellcheck); CI runs this with SCISPOT_PACKAGE_TESTS=1")
	}
	var scripts []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "packaging"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if regexp.MustCompile(`^#!(/usr/bin/env bash|/bin/sh|/bin/bash)`).Match(b) {
			scripts = append(scripts, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) < 5 {
		t.Fatalf("found only %v", scripts)
	}
	// The maintainer scripts and the macOS scripts must be among them (a
	// changed first line would drop a script from the check silently).
	for _, rel := range []string{"linux/postinst", "linux/prerm", "linux/postrm", "macos/scripts/preinstall", "macos/scripts/postinstall", "macos/uninstall.sh", "macos/build-pkg.sh", "package.sh"} {
		if !slices.Contains(scripts, filepath.Join(repoRoot, "packaging", filepath.FromSlash(rel))) {
			t.Errorf("shellcheck does not check packaging/%s (no #!/bin/sh or bash line?)", rel)
		}
	}
	out, err := exec.CommandContext(t.Context(), "shellcheck", append([]string{"--severity=warning"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
