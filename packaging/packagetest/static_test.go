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
	out, err := exec.CommandContext(t.Context(), "shellcheck", append([]string{"--severity=warning"}, scripts...)...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}
