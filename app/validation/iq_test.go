package validation

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// installRoot is a package install under a temporary root, laid out as
// the .deb has it: SHA256SUMS listing the SBOM, the service's unit and
// the symlink enabling it, the tray's autostart entry (the package's own).
type installRoot struct {
	t    *testing.T
	root string
}

const (
	testSums      = "usr/share/scispot-mcp/SHA256SUMS"
	testSBOM      = "usr/share/doc/scispot-mcp/sbom.cdx.json"
	testUnit      = "usr/lib/systemd/system/scispot-mcpd.service"
	testLink      = "etc/systemd/system/multi-user.target.wants/scispot-mcpd.service"
	testAutostart = "etc/xdg/autostart/io.scispot.mcp.desktop"
	testVersion   = "v1.4.0"
	goodSBOM      = `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"name":"github.com/scispot/mcp-desktop","version":"v1.4.0"}},"components":[{"name":"a"},{"name":"b"}]}`
)

func newInstallRoot(t *testing.T) *installRoot {
	t.Helper()
	ir := &installRoot{t: t, root: t.TempDir()}
	autostart, err := os.ReadFile(filepath.Join("..", "..", "packaging", "linux", "io.scispot.mcp.autostart.desktop"))
	if err != nil {
		t.Fatal(err)
	}
	ir.write(testSBOM, goodSBOM)
	ir.write(testUnit, "[Unit]\nDescription=Scispot MCP service\n")
	ir.write(testAutostart, string(autostart))
	ir.link("/"+testUnit, testLink)
	ir.sums(testSBOM, testUnit)
	return ir
}

func (ir *installRoot) path(rel string) string {
	return filepath.Join(ir.root, filepath.FromSlash(rel))
}

func (ir *installRoot) write(rel, body string) {
	ir.t.Helper()
	p := ir.path(rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		ir.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		ir.t.Fatal(err)
	}
}

func (ir *installRoot) link(target, rel string) {
	ir.t.Helper()
	p := ir.path(rel)
	os.Remove(p)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		ir.t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		ir.t.Fatal(err)
	}
}

// sums writes SHA256SUMS listing the files named.
func (ir *installRoot) sums(rels ...string) {
	ir.t.Helper()
	var b strings.Builder
	for _, rel := range rels {
		body, err := os.ReadFile(ir.path(rel))
		if err != nil {
			ir.t.Fatal(err)
		}
		b.WriteString(Digest("", body).SHA256 + "  " + rel + "\n")
	}
	ir.write(testSums, b.String())
}

// run is a run whose Options point into the root.
func (ir *installRoot) run() *run {
	return &run{o: Options{
		Version: testVersion, SumsFile: ir.path(testSums), SumsRoot: ir.root,
		SBOMFile: ir.path(testSBOM), ServiceUnit: ir.path(testUnit), ServiceLink: ir.path(testLink), Autostart: ir.path(testAutostart),
	}}
}

// installCase is one table row of the checks below: a change to the
// install (nil: as the package leaves it), and the verdict and the words
// the case's actual must hold.
type installCase struct {
	name   string
	change func(ir *installRoot, o *Options)
	want   Result
	actual string
}

func runInstallCases(t *testing.T, check func(*run, *Case), tests []installCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ir := newInstallRoot(t)
			r := ir.run()
			if tt.change != nil {
				tt.change(ir, &r.o)
			}
			var c Case
			check(r, &c)
			if c.Result != tt.want || !strings.Contains(c.Actual, tt.actual) {
				t.Fatalf("%s %q, want %s with %q; evidence %v", c.Result, c.Actual, tt.want, tt.actual, c.Evidence)
			}
		})
	}
}

// Without a package install (no SHA256SUMS), each case skips saying so.
var noPackage = []installCase{
	{name: "no SHA256SUMS", change: func(ir *installRoot, _ *Options) { os.Remove(ir.path(testSums)) }, want: Skip, actual: "no package install found"},
	{name: "no package on this platform", change: func(_ *installRoot, o *Options) { o.SumsFile = "" }, want: Skip, actual: "no package install to check"},
}

func TestSBOMCheck(t *testing.T) {
	runInstallCases(t, (*run).checkSBOM, append([]installCase{
		{name: "as packaged", want: Pass, actual: "CycloneDX 1.6 SBOM of github.com/scispot/mcp-desktop v1.4.0 (2 components), listed in SHA256SUMS"},
		{name: "missing", change: func(ir *installRoot, _ *Options) { os.Remove(ir.path(testSBOM)) }, want: Fail, actual: "not readable"},
		{name: "not JSON", change: func(ir *installRoot, _ *Options) { ir.write(testSBOM, "<bom/>") }, want: Fail, actual: "is not JSON"},
		{name: "not CycloneDX", change: func(ir *installRoot, _ *Options) { ir.write(testSBOM, `{"spdxVersion":"SPDX-2.3"}`) }, want: Fail, actual: "not a CycloneDX SBOM"},
		{name: "no main component", change: func(ir *installRoot, _ *Options) {
			ir.write(testSBOM, `{"bomFormat":"CycloneDX","specVersion":"1.6"}`)
		}, want: Fail, actual: "names no main component"},
		{name: "another application", change: func(ir *installRoot, _ *Options) {
			ir.write(testSBOM, strings.Replace(goodSBOM, "scispot/mcp-desktop", "someone/else", 1))
		}, want: Fail, actual: `describes "github.com/someone/else"`},
		{name: "another version", change: func(_ *installRoot, o *Options) { o.Version = "v1.5.0" }, want: Fail, actual: "but this scispot-mcp is v1.5.0"},
		{name: "no version", change: func(ir *installRoot, _ *Options) {
			ir.write(testSBOM, strings.Replace(goodSBOM, `,"version":"v1.4.0"`, "", 1))
		}, want: Fail, actual: "with no version"},
		{name: "not in SHA256SUMS", change: func(ir *installRoot, _ *Options) { ir.sums(testUnit) }, want: Fail, actual: "is not listed in"},
		{name: "SHA256SUMS unreadable", change: func(ir *installRoot, _ *Options) { ir.write(testSums, "garbage\n") }, want: Fail, actual: "not a sha256sum line"},
	}, noPackage...))
}

func TestServiceEnabledCheck(t *testing.T) {
	runInstallCases(t, (*run).checkServiceEnabled, append([]installCase{
		{name: "as deb-systemd-helper enables it", want: Pass, actual: "scispot-mcpd.service is enabled"},
		{name: "relative link", change: func(ir *installRoot, _ *Options) {
			ir.link("../../../../usr/lib/systemd/system/scispot-mcpd.service", testLink)
		}, want: Pass, actual: "is enabled"},
		{name: "through a merged /lib", change: func(ir *installRoot, _ *Options) {
			if err := os.Symlink("usr/lib", ir.path("lib")); err != nil {
				t.Fatal(err)
			}
			ir.link("../../../../lib/systemd/system/scispot-mcpd.service", testLink)
		}, want: Pass, actual: "is enabled"},
		{name: "drop-in shown", change: func(ir *installRoot, _ *Options) {
			ir.write("etc/systemd/system/scispot-mcpd.service.d/proxy.conf", "[Service]\nEnvironment=HTTPS_PROXY=http://proxy:3128\n")
		}, want: Pass, actual: "scispot-mcpd.service.d/proxy.conf"},
		{name: "disabled", change: func(ir *installRoot, _ *Options) { os.Remove(ir.path(testLink)) }, want: Fail, actual: "is not enabled"},
		{name: "link is a file", change: func(ir *installRoot, _ *Options) {
			os.Remove(ir.path(testLink))
			ir.write(testLink, "")
		}, want: Fail, actual: "is not the symlink systemctl enable makes"},
		{name: "enables another unit", change: func(ir *installRoot, _ *Options) {
			ir.write("opt/other.service", "")
			ir.link("/opt/other.service", testLink)
		}, want: Fail, actual: "points to /opt/other.service"},
		{name: "masked", change: func(ir *installRoot, _ *Options) {
			ir.link(os.DevNull, "etc/systemd/system/scispot-mcpd.service")
		}, want: Fail, actual: "is masked"},
		{name: "replaced in /etc", change: func(ir *installRoot, _ *Options) {
			ir.write("etc/systemd/system/scispot-mcpd.service", "[Service]\nExecStart=/bin/true\n")
		}, want: Fail, actual: "replaces the unit the package installed"},
		{name: "unit missing", change: func(ir *installRoot, _ *Options) { os.Remove(ir.path(testUnit)) }, want: Fail, actual: "is not installed"},
	}, noPackage...))
}

func TestAutostartCheck(t *testing.T) {
	entry := func(body string) func(*installRoot, *Options) {
		return func(ir *installRoot, _ *Options) { ir.write(testAutostart, body) }
	}
	runInstallCases(t, (*run).checkAutostart, append([]installCase{
		{name: "as packaged", want: Pass, actual: "starts scispot-mcp-tray at every desktop login"},
		{name: "absolute Exec with arguments", change: entry("[Desktop Entry]\nType=Application\nExec=/usr/bin/scispot-mcp-tray --quiet\n"), want: Pass, actual: "starts /usr/bin/scispot-mcp-tray"},
		{name: "other groups and localised keys ignored", change: entry("[Desktop Entry]\nType=Application\nExec=scispot-mcp-tray\nHidden[de]=true\n[Desktop Action x]\nHidden=true\n"), want: Pass, actual: "at every desktop login"},
		{name: "missing", change: func(ir *installRoot, _ *Options) { os.Remove(ir.path(testAutostart)) }, want: Fail, actual: "the tray does not start at login"},
		{name: "turned off for everyone", change: entry("[Desktop Entry]\nType=Application\nExec=scispot-mcp-tray\nHidden=true\n"), want: Fail, actual: "Hidden=true"},
		{name: "GNOME turned off", change: entry("[Desktop Entry]\nType=Application\nExec=scispot-mcp-tray\nX-GNOME-Autostart-enabled=false\n"), want: Fail, actual: "X-GNOME-Autostart-enabled=false"},
		{name: "runs something else", change: entry("[Desktop Entry]\nType=Application\nExec=sh -c scispot-mcp-tray\n"), want: Fail, actual: `runs "sh -c scispot-mcp-tray"`},
		{name: "not an application", change: entry("[Desktop Entry]\nType=Link\nExec=scispot-mcp-tray\n"), want: Fail, actual: `Type "Link"`},
		{name: "no Desktop Entry group", change: entry("Exec=scispot-mcp-tray\n"), want: Fail, actual: "has no [Desktop Entry] group"},
	}, noPackage...))
}

// TestInstallDefaults: the paths Options leaves empty are this platform's
// package's, under SumsRoot; where no package installs them, the cases
// skip.
func TestInstallDefaults(t *testing.T) {
	r := &run{o: Options{SumsRoot: "/tmp/root"}}
	if DefaultSBOM == "" {
		if got := r.installed("", DefaultSBOM); got != "" {
			t.Fatalf("installed = %q where no package installs an SBOM", got)
		}
		return
	}
	if got, want := r.installed("", DefaultSBOM), filepath.Join("/tmp/root", DefaultSBOM); got != want {
		t.Fatalf("installed = %q, want %q", got, want)
	}
	if got := r.installed("/x/sbom.json", DefaultSBOM); got != "/x/sbom.json" {
		t.Fatalf("installed with a path given = %q", got)
	}
	if got := (&run{}).installed("", DefaultAutostart); got != DefaultAutostart {
		t.Fatalf("installed under / = %q", got)
	}
}

// TestMainModule: the SBOM's main component IQ-09 expects is go.mod's module.
func TestMainModule(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if first != "module "+MainModule {
		t.Fatalf("go.mod begins %q, MainModule is %s", first, MainModule)
	}
}
