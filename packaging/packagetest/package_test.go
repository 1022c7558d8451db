// Package packagetest checks the installers packaging/package.sh builds:
// that two builds of one commit are identical, that the .deb passes
// lintian and installs, upgrades and removes cleanly with its service
// (scispot-mcpd) started, restarted and stopped, and that the MSI holds the
// files, the service, the shortcut and the start-at-login entry. The builds are slow,
// so these tests run only with SCISPOT_PACKAGE_TESTS=1 (CI sets it); the
// static checks of the macOS files and shell scripts (static_test.go)
// always run.
package packagetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/pe"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// repoRoot is the repository, two levels up from this package.
var repoRoot = filepath.Join("..", "..")

func requirePackageTests(t *testing.T) {
	t.Helper()
	if os.Getenv("SCISPOT_PACKAGE_TESTS") != "1" {
		t.Skip("building the installers takes minutes: set SCISPOT_PACKAGE_TESTS=1 to run (CI does)")
	}
}

// build runs package.sh into a new directory and returns it.
func build(ctx context.Context, t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist")
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(repoRoot, "packaging", "package.sh"), "--out", out)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, log.String())
	}
	t.Logf("package.sh --out %s: %s", out, time.Since(start).Round(time.Second))
	return out
}

func TestPackages(t *testing.T) {
	requirePackageTests(t)
	ctx := t.Context()
	before := treeState(ctx, t)
	a := build(ctx, t)
	b := build(ctx, t)
	if after := treeState(ctx, t); after != before {
		t.Fatalf("the checkout changed while the two builds ran (%s, then %s): the builds are of different sources; rerun on a quiet checkout", before, after)
	}

	deb := only(t, a, "*.deb")
	msi := only(t, a, "*.msi")

	t.Run("reproducible", func(t *testing.T) {
		for _, rel := range []string{
			filepath.Base(deb),
			"linux-amd64/scispot-mcp",
			"linux-amd64/scispot-mcp-tray",
			"linux-amd64/scispot-mcpd",
			"windows-amd64/scispot-mcp.exe",
			"windows-amd64/scispot-mcp-tray.exe",
			"windows-amd64/scispot-mcpd.exe",
			"sbom.cdx.json",
		} {
			if ha, hb := sha(t, filepath.Join(a, rel)), sha(t, filepath.Join(b, rel)); ha != hb {
				t.Errorf("%s differs between two builds: %s, %s", rel, ha, hb)
			}
		}
		// wixl stamps the MSI's summary (time, package code), so the bar
		// for it is the same files and the same tables.
		ma, mb := msiContent(ctx, t, msi), msiContent(ctx, t, only(t, b, "*.msi"))
		if diff := cmp.Diff(ma, mb); diff != "" {
			t.Errorf("MSI content differs between two builds (-first +second):\n%s", diff)
		}
	})

	t.Run("SHA256SUMS", func(t *testing.T) {
		sums, err := os.ReadFile(filepath.Join(a, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
			sum, name, ok := strings.Cut(line, "  ")
			if !ok {
				t.Fatalf("bad line %q", line)
			}
			listed[name] = true
			if got := sha(t, filepath.Join(a, name)); got != sum {
				t.Errorf("%s: SHA256SUMS says %s, file is %s", name, sum, got)
			}
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == "SHA256SUMS" {
				return err
			}
			if rel, _ := filepath.Rel(a, p); !listed[filepath.ToSlash(rel)] {
				t.Errorf("%s is not in SHA256SUMS", rel)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("version stamped", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, filepath.Join(a, "linux-amd64", "scispot-mcp"), "version").CombinedOutput()
		if err != nil {
			t.Fatalf("version: %v\n%s", err, out)
		}
		commit := strings.TrimSpace(run(ctx, t, "git", "-C", repoRoot, "rev-parse", "--short=12", "HEAD"))
		epoch := strings.TrimSpace(run(ctx, t, "git", "-C", repoRoot, "log", "-1", "--format=%ct"))
		date := strings.TrimSpace(run(ctx, t, "date", "-u", "-d", "@"+epoch, "+%Y-%m-%dT%H:%M:%SZ"))
		for _, want := range []string{commit, date} {
			if !strings.Contains(string(out), want) {
				t.Errorf("version output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("deb contents", func(t *testing.T) { checkDebContents(ctx, t, deb) })
	t.Run("lintian", func(t *testing.T) { checkLintian(ctx, t, deb) })
	t.Run("msi tables", func(t *testing.T) { checkMSITables(ctx, t, msi) })
	t.Run("windows executables", func(t *testing.T) {
		checkPE(t, filepath.Join(a, "windows-amd64", "scispot-mcp.exe"), pe.IMAGE_SUBSYSTEM_WINDOWS_CUI)
		checkPE(t, filepath.Join(a, "windows-amd64", "scispot-mcp-tray.exe"), pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
		// The service: a console program, so it also runs in a console for
		// diagnosis; it notices when the service control manager starts it.
		checkPE(t, filepath.Join(a, "windows-amd64", "scispot-mcpd.exe"), pe.IMAGE_SUBSYSTEM_WINDOWS_CUI)
	})
	t.Run("policy templates", func(t *testing.T) {
		for _, rel := range []string{
			"policy-templates/windows/ScispotMCP.admx",
			"policy-templates/windows/en-US/ScispotMCP.adml",
			"policy-templates/macos/io.scispot.mcp.mobileconfig",
			"policy-templates/macos/com.anthropic.claudecode.mobileconfig",
			"policy-templates/macos/com.anthropic.claudefordesktop.mobileconfig",
			"policy-templates/windows/ClaudeCode.reg",
			"policy-templates/windows/Claude.reg",
			"policy-templates/linux/policy.example.json",
		} {
			if _, err := os.Stat(filepath.Join(a, rel)); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("deb install upgrade remove", func(t *testing.T) { checkDebLifecycle(ctx, t, deb) })
}

// treeState names the commit and the state of the working tree, which
// both go into the build (it builds tracked and unignored files).
func treeState(ctx context.Context, t *testing.T) string {
	head := strings.TrimSpace(run(ctx, t, "git", "-C", repoRoot, "rev-parse", "HEAD"))
	files := run(ctx, t, "git", "-C", repoRoot, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	h := sha256.New()
	for _, f := range strings.Split(strings.TrimRight(files, "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		h.Write([]byte(f + "\x00"))
		h.Write(b)
	}
	return head[:12] + " tree " + hex.EncodeToString(h.Sum(nil))[:12]
}

func checkDebContents(ctx context.Context, t *testing.T, deb string) {
	listing := run(ctx, t, "dpkg-deb", "-c", deb)
	entries := map[string]string{} // path -> "mode owner"
	for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb -c line %q", line)
		}
		entries[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
	}
	want := map[string]string{
		"/usr/bin/scispot-mcp":                                     "-rwxr-xr-x root/root",
		"/usr/bin/scispot-mcp-tray":                                "-rwxr-xr-x root/root",
		"/usr/bin/scispot-mcpd":                                    "-rwxr-xr-x root/root",
		"/usr/lib/systemd/system/scispot-mcpd.service":             "-rw-r--r-- root/root",
		"/etc/pam.d/scispot-mcp":                                   "-rw-r--r-- root/root",
		"/usr/share/man/man8/scispot-mcpd.8.gz":                    "-rw-r--r-- root/root",
		"/usr/share/applications/io.scispot.mcp.desktop":           "-rw-r--r-- root/root",
		"/etc/xdg/autostart/io.scispot.mcp.desktop":                "-rw-r--r-- root/root",
		"/usr/share/icons/hicolor/48x48/apps/io.scispot.mcp.png":   "-rw-r--r-- root/root",
		"/usr/share/icons/hicolor/256x256/apps/io.scispot.mcp.png": "-rw-r--r-- root/root",
		"/usr/share/doc/scispot-mcp/copyright":                     "-rw-r--r-- root/root",
		"/usr/share/doc/scispot-mcp/changelog.gz":                  "-rw-r--r-- root/root",
		"/usr/share/doc/scispot-mcp/examples/policy.example.json":  "-rw-r--r-- root/root",
		"/usr/share/man/man1/scispot-mcp.1.gz":                     "-rw-r--r-- root/root",
		"/etc/scispot-mcp/":                                        "drwxr-xr-x root/root",
		"/etc/scispot-mcp/policy.example.json":                     "-rw-r--r-- root/root",
	}
	for path, mode := range want {
		if got, ok := entries[path]; !ok {
			t.Errorf("%s missing from the .deb", path)
		} else if got != mode {
			t.Errorf("%s: %s, want %s", path, got, mode)
		}
	}
	if _, ok := entries["/etc/scispot-mcp/policy.json"]; ok {
		t.Error("the .deb installs a policy; the admin's tooling must own /etc/scispot-mcp/policy.json")
	}
	conffiles := run(ctx, t, "sh", "-c", `dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles`, "sh", deb)
	for _, c := range []string{"/etc/xdg/autostart/io.scispot.mcp.desktop", "/etc/scispot-mcp/policy.example.json", "/etc/pam.d/scispot-mcp"} {
		if !strings.Contains(conffiles, c+"\n") {
			t.Errorf("%s is not a conffile:\n%s", c, conffiles)
		}
	}
	for field, want := range map[string]string{"Package": "scispot-mcp", "Architecture": "amd64"} {
		if got := strings.TrimSpace(run(ctx, t, "dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	dep := run(ctx, t, "dpkg-deb", "-f", deb, "Depends")
	for _, lib := range []string{"libc6", "libgl1", "libpam0g", "init-system-helpers"} {
		if !strings.Contains(dep, lib) {
			t.Errorf("Depends %q lacks %s", dep, lib)
		}
	}
	// The maintainer scripts that start, restart and stop the service.
	ctrl := run(ctx, t, "sh", "-c", `dpkg-deb --ctrl-tarfile "$1" | tar -tvf -`, "sh", deb)
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		if !regexp.MustCompile(`(?m)^-rwxr-xr-x root/root .* \./` + script + `$`).MatchString(ctrl) {
			t.Errorf("the .deb lacks an executable %s:\n%s", script, ctrl)
		}
	}
}

func checkLintian(ctx context.Context, t *testing.T, deb string) {
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Fatal("lintian not found: apt-get install lintian (packaging/dev-deps.sh)")
	}
	out, _ := exec.CommandContext(ctx, "lintian", "--tag-display-limit", "0", deb).CombinedOutput()
	var errs []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "E: ") {
			errs = append(errs, line)
		}
	}
	if len(errs) > 0 {
		t.Errorf("lintian errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("lintian:\n%s", out)
}

// msiContent is what must not differ between two builds of an MSI: its
// files by SHA-256 and its File, Component, Registry and Shortcut tables.
func msiContent(ctx context.Context, t *testing.T, msi string) map[string]string {
	dir := t.TempDir()
	run(ctx, t, "msiextract", "-C", dir, msi)
	content := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		content["file "+filepath.ToSlash(rel)] = sha(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(content) == 0 {
		t.Fatal("msiextract found no files")
	}
	for _, table := range []string{"File", "Component", "Registry", "Shortcut", "ServiceInstall", "ServiceControl"} {
		content["table "+table] = run(ctx, t, "msiinfo", "export", msi, table)
	}
	return content
}

// msiTable reads a table exported by msiinfo into rows of named columns
// (the first three lines are the column names, types and table name).
func msiTable(ctx context.Context, t *testing.T, msi, table string) []map[string]string {
	lines := strings.Split(strings.TrimRight(run(ctx, t, "msiinfo", "export", msi, table), "\r\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("msiinfo export %s: %q", table, lines)
	}
	cols := strings.Split(strings.TrimRight(lines[0], "\r"), "\t")
	var rows []map[string]string
	for _, l := range lines[3:] {
		vals := strings.Split(strings.TrimRight(l, "\r"), "\t")
		row := map[string]string{}
		for i, c := range cols {
			if i < len(vals) {
				row[c] = vals[i]
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func findRow(rows []map[string]string, key, value string) map[string]string {
	for _, r := range rows {
		if r[key] == value {
			return r
		}
	}
	return nil
}

// upgradeCode must never change: it is how a newer MSI finds the old one.
const upgradeCode = "{5E0C2B7A-3D4F-4C61-9A8E-1B2C3D4E5F60}"

func checkMSITables(ctx context.Context, t *testing.T, msi string) {
	files := msiTable(ctx, t, msi, "File")
	for _, name := range []string{"scispot-mcp.exe", "scispot-mcp-tray.exe", "scispot-mcpd.exe"} {
		if findRow(files, "FileName", name) == nil {
			t.Errorf("File table lacks %s: %v", name, files)
		}
	}
	checkMSIService(ctx, t, msi, files)
	dirs := msiTable(ctx, t, msi, "Directory")
	if d := findRow(dirs, "Directory", "INSTALLDIR"); d == nil || d["Directory_Parent"] != "ProgramFiles64Folder" || !strings.Contains(d["DefaultDir"], "Scispot MCP") {
		t.Errorf("INSTALLDIR is not Program Files\\Scispot MCP: %v", d)
	}
	sc := findRow(msiTable(ctx, t, msi, "Shortcut"), "Directory_", "ProgramMenuFolder")
	if sc == nil || sc["Target"] != "[INSTALLDIR]scispot-mcp-tray.exe" || sc["Name"] != "Scispot MCP" {
		t.Errorf("no Start-menu shortcut to the tray: %v", sc)
	}
	runKey := findRow(msiTable(ctx, t, msi, "Registry"), "Key", `Software\Microsoft\Windows\CurrentVersion\Run`)
	if runKey == nil || runKey["Root"] != "2" || runKey["Value"] != `"[INSTALLDIR]scispot-mcp-tray.exe"` {
		t.Errorf("no HKLM Run entry starting the tray: %v", runKey)
	}
	props := map[string]string{}
	for _, r := range msiTable(ctx, t, msi, "Property") {
		props[r["Property"]] = r["Value"]
	}
	for k, want := range map[string]string{
		"ALLUSERS":        "1",
		"UpgradeCode":     upgradeCode,
		"ProductName":     "Scispot MCP",
		"Manufacturer":    "Scispot",
		"ARPPRODUCTICON":  "ScispotMCP.ico",
		"ARPURLINFOABOUT": "https://www.scispot.com/",
	} {
		if props[k] != want {
			t.Errorf("Property %s = %q, want %q", k, props[k], want)
		}
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(props["ProductVersion"]) {
		t.Errorf("ProductVersion %q is not a.b.c", props["ProductVersion"])
	}
	up := msiTable(ctx, t, msi, "Upgrade")
	if r := findRow(up, "ActionProperty", "WIX_UPGRADE_DETECTED"); r == nil || r["UpgradeCode"] != upgradeCode {
		t.Errorf("no major upgrade of older versions: %v", up)
	}
	seq := msiTable(ctx, t, msi, "InstallExecuteSequence")
	if findRow(seq, "Action", "RemoveExistingProducts") == nil {
		t.Error("InstallExecuteSequence does not remove the older version")
	}
	if sum := run(ctx, t, "msiinfo", "suminfo", msi); !strings.Contains(sum, "Template: x64;1033") {
		t.Errorf("the MSI is not an x64 package:\n%s", sum)
	}
	if findRow(msiTable(ctx, t, msi, "Icon"), "Name", "ScispotMCP.ico") == nil {
		t.Error("Icon table lacks ScispotMCP.ico")
	}
}

// Windows Installer's codes for the service (ServiceInstall and
// ServiceControl tables).
const (
	serviceOwnProcess   = 0x10 // SERVICE_WIN32_OWN_PROCESS
	serviceAutoStart    = 2    // SERVICE_AUTO_START
	eventInstallStart   = 1    // msidbServiceControlEventStart
	eventInstallStop    = 2    // msidbServiceControlEventStop
	eventUninstallStop  = 32   // msidbServiceControlEventUninstallStop
	eventUninstallDel   = 128  // msidbServiceControlEventUninstallDelete
	eventInstallDelete  = 8    // msidbServiceControlEventDelete
	eventUninstallStart = 16   // msidbServiceControlEventUninstallStart
)

// checkMSIService checks that the MSI installs scispot-mcpd.exe as the
// service ScispotMCP (LocalSystem, automatic start), starts it on install,
// stops and deletes it on uninstall (and so restarts it on a major
// upgrade, which uninstalls the older product first), and that the
// standard actions doing so are scheduled.
func checkMSIService(ctx context.Context, t *testing.T, msi string, files []map[string]string) {
	mcpd := findRow(files, "FileName", "scispot-mcpd.exe")
	svc := findRow(msiTable(ctx, t, msi, "ServiceInstall"), "Name", "ScispotMCP")
	if svc == nil {
		t.Fatal("ServiceInstall has no service ScispotMCP")
	}
	if mcpd != nil && svc["Component_"] != mcpd["Component_"] {
		t.Errorf("the service belongs to component %q, scispot-mcpd.exe to %q: the service would not run scispot-mcpd.exe", svc["Component_"], mcpd["Component_"])
	}
	for col, want := range map[string]string{
		"ServiceType":  strconv.Itoa(serviceOwnProcess),
		"StartType":    strconv.Itoa(serviceAutoStart),
		"StartName":    "LocalSystem",
		"Arguments":    "", // no arguments: it runs in the foreground and finds the SCM
		"DisplayName":  "Scispot MCP",
		"ErrorControl": "1",
	} {
		if svc[col] != want {
			t.Errorf("ServiceInstall %s = %q, want %q", col, svc[col], want)
		}
	}
	ctl := findRow(msiTable(ctx, t, msi, "ServiceControl"), "Name", "ScispotMCP")
	if ctl == nil {
		t.Fatal("ServiceControl has no entry for ScispotMCP: the service would be neither started nor stopped")
	}
	ev, err := strconv.Atoi(ctl["Event"])
	if err != nil {
		t.Fatalf("ServiceControl Event %q: %v", ctl["Event"], err)
	}
	for _, e := range []struct {
		bit  int
		want bool
		what string
	}{
		{eventInstallStart, true, "start on install"},
		{eventInstallStop, true, "stop a running instance before installing"},
		{eventUninstallStop, true, "stop on uninstall"},
		{eventUninstallDel, true, "delete on uninstall"},
		{eventInstallDelete, false, "delete on install"},
		{eventUninstallStart, false, "start on uninstall"},
	} {
		if got := ev&e.bit != 0; got != e.want {
			t.Errorf("ServiceControl Event %d: %s is %v, want %v", ev, e.what, got, e.want)
		}
	}
	if ctl["Wait"] != "1" {
		t.Errorf("ServiceControl Wait = %q: the installation must wait until the service runs", ctl["Wait"])
	}
	if ctl["Component_"] != svc["Component_"] {
		t.Errorf("ServiceControl belongs to component %q, the service to %q", ctl["Component_"], svc["Component_"])
	}
	seq := map[string]int{}
	for _, r := range msiTable(ctx, t, msi, "InstallExecuteSequence") {
		seq[r["Action"]], _ = strconv.Atoi(r["Sequence"])
	}
	for _, a := range []string{"StopServices", "DeleteServices", "InstallFiles", "InstallServices", "StartServices"} {
		if seq[a] == 0 {
			t.Errorf("InstallExecuteSequence lacks %s", a)
		}
	}
	if !(seq["StopServices"] < seq["DeleteServices"] && seq["DeleteServices"] < seq["InstallFiles"] &&
		seq["InstallFiles"] < seq["InstallServices"] && seq["InstallServices"] < seq["StartServices"]) {
		t.Errorf("service actions out of order: %v", seq)
	}
	// The older product goes first, service included, so an upgrade
	// restarts the service with the new executable.
	if r := seq["RemoveExistingProducts"]; r == 0 || r > seq["InstallInitialize"] {
		t.Errorf("RemoveExistingProducts at %d, want before InstallInitialize (%d)", r, seq["InstallInitialize"])
	}
	// Uninstall takes the service's deny entries out of the clients'
	// managed settings: the installed scispot-mcpd.exe, deferred, not
	// impersonated, failure ignored (18+64+1024+2048), after the service
	// stopped and before its file goes, never in an upgrade's removal.
	ca := findRow(msiTable(ctx, t, msi, "CustomAction"), "Action", "ReleaseClientSettings")
	if ca == nil || ca["Type"] != "3154" || ca["Source"] != "ScispotMcpdExe" || ca["Target"] != "--release-client-settings" {
		t.Errorf("CustomAction ReleaseClientSettings = %v", ca)
	}
	rel := findRow(msiTable(ctx, t, msi, "InstallExecuteSequence"), "Action", "ReleaseClientSettings")
	if r := seq["ReleaseClientSettings"]; rel == nil || rel["Condition"] != `REMOVE="ALL" AND NOT UPGRADINGPRODUCTCODE` ||
		r <= seq["StopServices"] || r >= seq["RemoveFiles"] {
		t.Errorf("ReleaseClientSettings scheduled as %v, want after StopServices (%d), before RemoveFiles (%d), on removal only", rel, seq["StopServices"], seq["RemoveFiles"])
	}
}

// checkPE checks an executable is 64-bit, of the right subsystem, and
// carries resources (icon, version, manifest).
func checkPE(t *testing.T, path string, subsystem uint16) {
	f, err := pe.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("%s is not a 64-bit executable", path)
	}
	if oh.Subsystem != subsystem {
		t.Errorf("%s: subsystem %d, want %d", filepath.Base(path), oh.Subsystem, subsystem)
	}
	rsrc := f.Section(".rsrc")
	if rsrc == nil {
		t.Fatalf("%s has no resources (icon, version, manifest)", filepath.Base(path))
	}
	data, err := rsrc.Data()
	if err != nil {
		t.Fatal(err)
	}
	// The version resource's strings and the manifest are plain to see.
	for _, want := range [][]byte{utf16("Scispot MCP"), []byte("io.scispot.mcp"), []byte("asInvoker")} {
		if !bytes.Contains(data, want) {
			t.Errorf("%s resources lack %q", filepath.Base(path), want)
		}
	}
}

func utf16(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

// The service's places on Linux (design.md, "Where things live").
const (
	mcpdBinary = "/usr/bin/scispot-mcpd"
	mcpdSocket = "/run/scispot-mcp/mcpd.sock"
	mcpdState  = "/var/lib/scispot-mcp"
	mcpdUnit   = "/usr/lib/systemd/system/scispot-mcpd.service"
	mcpdWants  = "/etc/systemd/system/multi-user.target.wants/scispot-mcpd.service"
)

// repackNewer rebuilds deb with "+upgradetest" appended to its version.
func repackNewer(ctx context.Context, t *testing.T, deb string) string {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	run(ctx, t, "dpkg-deb", "-R", deb, root)
	control := filepath.Join(root, "DEBIAN", "control")
	b, err := os.ReadFile(control)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "Version: ") {
			line += "+upgradetest"
		}
		out.WriteString(line + "\n")
	}
	if err := os.WriteFile(control, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.deb")
	run(ctx, t, "dpkg-deb", "--root-owner-group", "-b", root, newer)
	return newer
}

func apt(ctx context.Context, t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"-y", "-qq", "--no-install-recommends"}, args...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func run(ctx context.Context, t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		var stderr []byte
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			stderr = exit.Stderr
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func only(t *testing.T, dir, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil || len(m) != 1 {
		t.Fatalf("want one %s in %s, found %v (%v)", pattern, dir, m, err)
	}
	return m[0]
}
