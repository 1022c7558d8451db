package enroll

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseLandscapeStatus(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		exit    int
		want    landscapeStatus
		wantErr bool
	}{
		{name: "registered", file: "registered.txt", exit: 0, want: landscapeStatus{registered: true, account: "example-lab"}},
		{name: "registered without account", file: "registered-no-account.txt", exit: 0, want: landscapeStatus{registered: true}},
		{name: "not registered", file: "not-registered.txt", exit: 5, want: landscapeStatus{}},
		{name: "says registered, exits 5", file: "registered.txt", exit: 5, wantErr: true},
		{name: "says not registered, exits 0", file: "not-registered.txt", exit: 0, wantErr: true},
		{name: "crashed", file: "traceback-stderr.txt", exit: 1, wantErr: true},
		{name: "no output, exit 0", file: "", exit: 0, wantErr: true},
		{name: "localised", file: "german.txt", exit: 0, wantErr: true},
		{name: "odd value", file: "odd-value.txt", exit: 0, wantErr: true},
		{name: "killed", file: "registered.txt", exit: -1, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out []byte
			if tt.file != "" {
				out = readFixture(t, "landscape/"+tt.file)
			}
			got, err := parseLandscapeStatus(out, tt.exit)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %t", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("status = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseLandscapeStatus(f *testing.F) {
	f.Add(readFixture(f, "landscape/registered.txt"), 0)
	f.Add(readFixture(f, "landscape/not-registered.txt"), 5)
	f.Add(readFixture(f, "landscape/german.txt"), 0)
	f.Fuzz(func(t *testing.T, out []byte, exit int) {
		st, err := parseLandscapeStatus(out, exit)
		if err == nil && st.registered != (exit == 0) {
			t.Fatalf("registered %t with exit status %d", st.registered, exit)
		}
	})
}

// fakeFS is a file system for the Linux probes: every node with its mode
// and owner, errors by path for paths that cannot be checked, and a log of
// every path the probes looked at.
type fakeFS struct {
	nodes map[string]*fakeNode
	errs  map[string]error

	mu     sync.Mutex // a probe that timed out may still run beside the next one
	looked []string
}

type fakeNode struct {
	mode fs.FileMode // type and permission bits
	uid  uint32
	size int64
	data []byte // a file's contents, if the test cares
	// ownerUnknown makes the owner impossible to tell, as on a file
	// system that does not say.
	ownerUnknown bool
}

type fakeInfo struct {
	name string
	node fakeNode
}

func (i fakeInfo) Name() string       { return i.name }
func (i fakeInfo) Size() int64        { return i.node.size }
func (i fakeInfo) Mode() fs.FileMode  { return i.node.mode }
func (i fakeInfo) ModTime() time.Time { return time.Time{} }
func (i fakeInfo) IsDir() bool        { return i.node.mode.IsDir() }
func (i fakeInfo) Sys() any           { return nil }

// newFakeFS returns a file system holding only "/", root's.
func newFakeFS() *fakeFS {
	return &fakeFS{
		nodes: map[string]*fakeNode{"/": {mode: fs.ModeDir | 0o755}},
		errs:  map[string]error{},
	}
}

// add puts a node at p, owned by root, creating the missing folders above
// it (root's, mode 0755).
func (f *fakeFS) add(p string, mode fs.FileMode, size int64) {
	for dir := path.Dir(p); f.nodes[dir] == nil; dir = path.Dir(dir) {
		f.nodes[dir] = &fakeNode{mode: fs.ModeDir | 0o755}
	}
	f.nodes[p] = &fakeNode{mode: mode, size: size}
}

// node returns the node at p, which the test set up.
func (f *fakeFS) node(t *testing.T, p string) *fakeNode {
	t.Helper()
	n := f.nodes[p]
	if n == nil {
		t.Fatalf("fixture has no %s", p)
	}
	return n
}

func (f *fakeFS) look(p string) {
	f.mu.Lock()
	f.looked = append(f.looked, p)
	f.mu.Unlock()
}

func (f *fakeFS) lstat(name string) (fs.FileInfo, error) {
	f.look(name)
	if err := f.errs[name]; err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	if n, ok := f.nodes[name]; ok {
		return fakeInfo{name: path.Base(name), node: *n}, nil
	}
	return nil, &fs.PathError{Op: "lstat", Path: name, Err: fs.ErrNotExist}
}

func (f *fakeFS) readDir(name string) ([]fs.DirEntry, error) {
	f.look(name)
	if err := f.errs[name]; err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	n, ok := f.nodes[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if !n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdirent", Path: name, Err: errors.New("not a directory")}
	}
	var entries []fs.DirEntry
	for p, c := range f.nodes {
		if p != "/" && path.Dir(p) == name {
			entries = append(entries, fs.FileInfoToDirEntry(fakeInfo{name: path.Base(p), node: *c}))
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// stat and readFile work, so that a probe using them would find what the
// fixture holds; the tests check that no path under the home folder is
// looked at by any means.
func (f *fakeFS) stat(name string) (fs.FileInfo, error) {
	return f.lstat(name)
}

func (f *fakeFS) readFile(name string) ([]byte, error) {
	if _, err := f.lstat(name); err != nil {
		return nil, err
	}
	return f.nodes[name].data, nil
}

func fakeOwner(fi fs.FileInfo) (uint32, bool) {
	i, ok := fi.(fakeInfo)
	return i.node.uid, ok && !i.node.ownerUnknown
}

// Device-level Intune files of the fixtures.
const (
	brokerDB      = intuneBrokerStateDir + "/1000.db"
	daemonState   = intuneDaemonStateDir + "/state.db"
	fakeHome      = "/home/alice"
	homeRegToml   = fakeHome + "/.config/intune/registration.toml"
	homeStateToml = fakeHome + "/.local/state/intune/registration.toml"
)

// Which Intune state a fixture has.
const (
	intuneNone       = iota
	intuneAgent      // the package installed
	intuneRegistered // and a device registration by the device broker
	intuneEnrolled   // and the Intune daemon's device state
)

// linuxFixture sets up a Linux machine: which Intune state it has, what
// the user wrote in their home, what landscape-config answers and what the
// policy names.
type linuxFixture struct {
	intune int
	// tweak changes the file system after set-up: an owner, a mode, a link.
	tweak func(t *testing.T, f *fakeFS)
	// homeRegistration writes the user's own Intune registration, with a
	// device id, where intune-portal keeps it.
	homeRegistration bool
	landscape        bool
	landscapeOut     string // testdata/landscape file
	landscapeExit    int
	landscapeErr     error
	landscapeStderr  string // testdata/landscape file
	managedBy        string
	managedByErr     error
	noManagedBySrc   bool
	landscapeBlocked bool // landscape-config never answers
}

// options returns Options for the fixture and the commands run so far.
// Reading the commands is safe once every Check has returned and no probe
// is left running.
func (lf linuxFixture) options(t *testing.T) (*Options, *[]string) {
	o, ran, _ := lf.build(t)
	return o, ran
}

func (lf linuxFixture) build(t *testing.T) (*Options, *[]string, *fakeFS) {
	t.Helper()
	ffs := newFakeFS()
	if lf.intune >= intuneAgent {
		ffs.add(intuneAgentPath, 0o755, 1<<20)
	}
	if lf.intune >= intuneRegistered {
		ffs.add(brokerDB, 0o600, 8192)
		ffs.nodes[intuneBrokerStateDir].mode = fs.ModeDir | 0o700
	}
	if lf.intune >= intuneEnrolled {
		ffs.add(daemonState, 0o600, 4096)
		ffs.nodes[intuneDaemonStateDir].mode = fs.ModeDir | 0o700
	}
	if lf.homeRegistration {
		// What the user's account writes: a registration claiming an
		// Intune device id, in both places intune-portal keeps it. They
		// are made root's and read-only here to show that even then a home
		// folder is never looked at.
		reg := readFixture(t, "intune/enrolled.toml")
		for _, p := range []string{homeRegToml, homeStateToml} {
			ffs.add(p, 0o644, int64(len(reg)))
			ffs.nodes[p].data = reg
		}
	}
	if lf.landscape {
		ffs.add(landscapeConfigPath, 0o755, 4096)
	}
	if lf.tweak != nil {
		lf.tweak(t, ffs)
	}
	var (
		mu  sync.Mutex // a probe that timed out may still run beside the next one
		ran []string
	)
	o := &Options{
		Timeout:  time.Hour,
		CacheFor: -1,
		Now:      time.Now,
		Lstat:    ffs.lstat,
		Owner:    fakeOwner,
		ReadDir:  ffs.readDir,
		Stat:     ffs.stat,
		ReadFile: ffs.readFile,
		HomeDir:  func() (string, error) { return fakeHome, nil },
		Run: func(ctx context.Context, path string, args ...string) (CommandOutput, error) {
			mu.Lock()
			ran = append(ran, path+" "+strings.Join(args, " "))
			mu.Unlock()
			if path != landscapeConfigPath {
				t.Errorf("ran unexpected %s", path)
				return CommandOutput{}, fs.ErrNotExist
			}
			if lf.landscapeBlocked {
				<-ctx.Done()
				return CommandOutput{}, ctx.Err()
			}
			out := CommandOutput{ExitCode: lf.landscapeExit}
			if lf.landscapeOut != "" {
				out.Stdout = readFixture(t, "landscape/"+lf.landscapeOut)
			}
			if lf.landscapeStderr != "" {
				out.Stderr = readFixture(t, "landscape/"+lf.landscapeStderr)
			}
			return out, lf.landscapeErr
		},
		ManagedBy: func(ctx context.Context) (string, error) {
			return lf.managedBy, lf.managedByErr
		},
	}
	if lf.noManagedBySrc {
		o.ManagedBy = nil
	}
	return o, &ran, ffs
}

// Tweaks.

func ownedBy(p string, uid uint32) func(*testing.T, *fakeFS) {
	return func(t *testing.T, f *fakeFS) { f.node(t, p).uid = uid }
}

func withMode(p string, perm fs.FileMode) func(*testing.T, *fakeFS) {
	return func(t *testing.T, f *fakeFS) {
		n := f.node(t, p)
		n.mode = n.mode.Type() | perm
	}
}

func symlinked(p string) func(*testing.T, *fakeFS) {
	return func(t *testing.T, f *fakeFS) {
		n := f.node(t, p)
		n.mode = fs.ModeSymlink | 0o777
	}
}

func removed(p string) func(*testing.T, *fakeFS) {
	return func(t *testing.T, f *fakeFS) {
		f.node(t, p)
		delete(f.nodes, p)
	}
}

func emptied(p string) func(*testing.T, *fakeFS) {
	return func(t *testing.T, f *fakeFS) { f.node(t, p).size = 0 }
}

func unreadable(p string) func(*testing.T, *fakeFS) {
	return func(t *testing.T, f *fakeFS) { f.errs[p] = fs.ErrPermission }
}

func tweaks(fns ...func(*testing.T, *fakeFS)) func(*testing.T, *fakeFS) {
	return func(t *testing.T, f *fakeFS) {
		for _, fn := range fns {
			fn(t, f)
		}
	}
}

func TestLinuxSignals(t *testing.T) {
	tests := []struct {
		name        string
		fx          linuxFixture
		wantManaged bool
		wantMethod  string
		wantErr     bool
		wantDetail  []string // parts of Detail
	}{
		{
			name:       "nothing installed",
			fx:         linuxFixture{},
			wantDetail: []string{"Intune for Linux agent not installed", "Landscape client not installed", "names no ManagedBy"},
		},
		{
			name:       "no policy source",
			fx:         linuxFixture{noManagedBySrc: true},
			wantDetail: []string{"no managed policy names a ManagedBy system"},
		},

		// Intune: device-level state only.
		{
			name:        "intune enrolled: root-owned device-level state counts",
			fx:          linuxFixture{intune: intuneEnrolled},
			wantManaged: true, wantMethod: MethodLinuxIntune,
			wantDetail: []string{
				"the device broker holds a device registration for uid 1000 in /var/lib/microsoft-identity-device-broker",
				"the Intune daemon keeps device state in /var/lib/intune",
			},
		},
		{
			name:        "several registrations are named",
			fx:          linuxFixture{intune: intuneEnrolled, tweak: func(t *testing.T, f *fakeFS) { f.add(intuneBrokerStateDir+"/1001.db", 0o600, 10) }},
			wantManaged: true, wantMethod: MethodLinuxIntune,
			wantDetail: []string{"for uid 1000, uid 1001 in"},
		},
		{
			name:       "the user's own registration.toml does not count",
			fx:         linuxFixture{intune: intuneAgent, homeRegistration: true},
			wantDetail: []string{"Intune for Linux agent installed but this device is not registered (no /var/lib/microsoft-identity-device-broker)"},
		},
		{
			name:       "registration.toml without the agent does not count either",
			fx:         linuxFixture{homeRegistration: true},
			wantDetail: []string{"Intune for Linux agent not installed"},
		},
		{
			name: "Entra ID registration without the daemon's state",
			fx:   linuxFixture{intune: intuneRegistered, homeRegistration: true},
			wantDetail: []string{"holds a device registration for uid 1000", "the Intune daemon keeps no device state",
				"registered with Entra ID but not enrolled in Intune"},
		},
		{
			name:       "empty daemon state",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: removed(daemonState)},
			wantDetail: []string{"/var/lib/intune is missing or empty"},
		},
		{
			name:       "broker folder without a registration",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: tweaks(removed(brokerDB), func(t *testing.T, f *fakeFS) { f.add(intuneBrokerStateDir+"/broker.conf", 0o600, 10) })},
			wantDetail: []string{"the device broker holds no device registration (no <uid>.db in /var/lib/microsoft-identity-device-broker)"},
		},
		{
			name:       "user-owned registration does not count",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: ownedBy(brokerDB, 1000)},
			wantDetail: []string{"not counted: /var/lib/microsoft-identity-device-broker/1000.db belongs to uid 1000, not root"},
		},
		{
			name:       "group-writable registration does not count",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: withMode(brokerDB, 0o660)},
			wantDetail: []string{"not counted: /var/lib/microsoft-identity-device-broker/1000.db is writable by other accounts (mode 0660)"},
		},
		{
			name:       "world-writable registration does not count",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: withMode(brokerDB, 0o606)},
			wantDetail: []string{"1000.db is writable by other accounts (mode 0606)"},
		},
		{
			name:       "symlinked registration does not count",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: symlinked(brokerDB)},
			wantDetail: []string{"1000.db is a symbolic link"},
		},
		{
			name:       "empty registration does not count",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: emptied(brokerDB)},
			wantDetail: []string{"1000.db is empty"},
		},
		{
			name:       "user-owned broker folder",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: ownedBy(intuneBrokerStateDir, 1000)},
			wantDetail: []string{"Intune for Linux does not count: /var/lib/microsoft-identity-device-broker belongs to uid 1000, not root"},
		},
		{
			name:       "group-writable folder above the state",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: withMode("/var/lib", 0o775)},
			wantDetail: []string{"Intune for Linux does not count: /var/lib is writable by other accounts (mode 0775)"},
		},
		{
			name:       "sticky world-writable folder above the state",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: withMode("/var", fs.ModeSticky|0o777)},
			wantDetail: []string{"/var is writable by other accounts (mode 1777)"},
		},
		{
			name:       "symlinked folder above the state",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: symlinked("/var/lib")},
			wantDetail: []string{"/var/lib is a symbolic link"},
		},
		{
			name:       "user-owned daemon state folder",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: ownedBy(intuneDaemonStateDir, 1000)},
			wantDetail: []string{"/var/lib/intune belongs to uid 1000, not root"},
		},
		{
			name:       "daemon state is a file",
			fx:         linuxFixture{intune: intuneRegistered, tweak: func(t *testing.T, f *fakeFS) { f.add(intuneDaemonStateDir, 0o600, 1) }},
			wantDetail: []string{"/var/lib/intune is not a folder"},
		},
		{
			name:       "user-owned agent",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: ownedBy(intuneAgentPath, 1000)},
			wantDetail: []string{"/opt/microsoft/intune/bin/intune-agent belongs to uid 1000, not root"},
		},
		{
			name:        "owner unknown",
			fx:          linuxFixture{intune: intuneEnrolled, tweak: func(t *testing.T, f *fakeFS) { f.nodes[brokerDB].uid = 0 }},
			wantManaged: true, wantMethod: MethodLinuxIntune,
		},
		{
			name:       "unreadable broker folder",
			fx:         linuxFixture{intune: intuneEnrolled, tweak: unreadable(intuneBrokerStateDir)},
			wantErr:    true,
			wantDetail: []string{"checking /var/lib/microsoft-identity-device-broker", "permission denied"},
		},
		{
			name:        "unreadable registration but landscape registered",
			fx:          linuxFixture{intune: intuneEnrolled, tweak: unreadable(brokerDB), landscape: true, landscapeOut: "registered.txt"},
			wantManaged: true, wantMethod: MethodLinuxLandscape,
			wantDetail: []string{`registered with Landscape (account "example-lab")`},
		},

		// Landscape.
		{
			name:       "landscape not registered",
			fx:         linuxFixture{landscape: true, landscapeOut: "not-registered.txt", landscapeExit: 5},
			wantDetail: []string{"Landscape client installed but not registered"},
		},
		{
			name:       "landscape crashed",
			fx:         linuxFixture{landscape: true, landscapeOut: "", landscapeExit: 1},
			wantErr:    true,
			wantDetail: []string{"exited with status 1"},
		},
		{
			name:    "landscape unreadable for a normal user",
			fx:      linuxFixture{landscape: true, landscapeStderr: "traceback-stderr.txt", landscapeExit: 1},
			wantErr: true,
			wantDetail: []string{"exited with status 1", `PermissionError: [Errno 13] Permission denied`,
				"name ManagedBy in the managed policy"},
		},
		{
			name:       "landscape cannot start",
			fx:         linuxFixture{landscape: true, landscapeErr: fs.ErrPermission},
			wantErr:    true,
			wantDetail: []string{"Landscape"},
		},
		{
			name:       "landscape-config writable by others is not run",
			fx:         linuxFixture{landscape: true, landscapeOut: "registered.txt", tweak: withMode(landscapeConfigPath, 0o777)},
			wantErr:    true,
			wantDetail: []string{"not running /usr/bin/landscape-config: /usr/bin/landscape-config is writable by other accounts (mode 0777)"},
		},
		{
			name:        "landscape broken but policy names ManagedBy",
			fx:          linuxFixture{landscape: true, landscapeExit: 1, managedBy: "Ansible"},
			wantManaged: true, wantMethod: MethodLinuxPolicyManagedBy,
			wantDetail: []string{`names ManagedBy "Ansible"`},
		},

		// The policy's ManagedBy.
		{
			name:       "blank ManagedBy",
			fx:         linuxFixture{managedBy: "  "},
			wantDetail: []string{"names no ManagedBy"},
		},
		{
			name:       "ManagedBy source fails",
			fx:         linuxFixture{managedByErr: errors.New("policy.json is writable by group")},
			wantErr:    true,
			wantDetail: []string{"policy.json is writable by group"},
		},
		{
			name:        "ManagedBy with control characters is shown escaped",
			fx:          linuxFixture{managedBy: "Salt\n\x1b[31m"},
			wantManaged: true, wantMethod: MethodLinuxPolicyManagedBy,
			wantDetail: []string{`"Salt\n\x1b[31m"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, _, ffs := tt.fx.build(t)
			c := newChecker(*o, linuxProbes(o))
			res, err := c.Check(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %t (result %+v)", err, tt.wantErr, res)
			}
			if err != nil && !errors.Is(err, ErrNotConfirmed) {
				t.Errorf("err = %v, want one wrapping ErrNotConfirmed", err)
			}
			if res.Managed != tt.wantManaged || res.Method != tt.wantMethod {
				t.Errorf("result = %+v, want managed %t method %q", res, tt.wantManaged, tt.wantMethod)
			}
			for _, part := range tt.wantDetail {
				if !strings.Contains(res.Detail, part) {
					t.Errorf("detail %q does not contain %q", res.Detail, part)
				}
			}
			ffs.mu.Lock()
			defer ffs.mu.Unlock()
			for _, p := range ffs.looked {
				if p == fakeHome || strings.HasPrefix(p, fakeHome+"/") {
					t.Errorf("a probe looked at %s, in the user's home folder", p)
				}
			}
		})
	}
}

// TestUserRegistrationAttack is the attack the service must withstand: the
// Intune agent is installed, and the user (or an AI agent with the user's
// shell) writes ~/.config/intune/registration.toml with a device id. It
// used to make the device "managed"; it must not.
func TestUserRegistrationAttack(t *testing.T) {
	o, _, ffs := linuxFixture{intune: intuneAgent, homeRegistration: true, noManagedBySrc: true}.build(t)
	// The user's file is as convincing as it can be.
	if !strings.Contains(string(ffs.nodes[homeRegToml].data), "device_hint = '9b1d4c2e") {
		t.Fatal("fixture has no device id")
	}
	res, err := New(*o).Check(context.Background())
	if err != nil || res.Managed || res.Method != "" {
		t.Fatalf("Check = %+v, %v; want not managed", res, err)
	}
	if strings.Contains(res.Detail, "9b1d4c2e") || strings.Contains(res.Detail, "registration.toml") {
		t.Errorf("detail %q reports the user's file", res.Detail)
	}
	for _, p := range ffs.looked {
		if strings.HasPrefix(p, fakeHome) {
			t.Errorf("looked at %s", p)
		}
	}
	// The same machine once the device broker and the daemon have really
	// enrolled it passes.
	ffs.add(brokerDB, 0o600, 8192)
	ffs.add(daemonState, 0o600, 4096)
	if res, err := New(*o).Check(context.Background()); err != nil || res.Method != MethodLinuxIntune {
		t.Fatalf("after enrollment: Check = %+v, %v", res, err)
	}
}

func TestRegistrationUID(t *testing.T) {
	for name, want := range map[string]string{"1000.db": "1000", "0.db": "0", "4294967295.db": "4294967295"} {
		if got, ok := registrationUID(name); !ok || got != want {
			t.Errorf("registrationUID(%q) = %q, %t", name, got, ok)
		}
	}
	for _, name := range []string{".db", "1000", "1000.db-journal", "a1000.db", "10 0.db", "-1.db", "12345678901.db", "1000.DB"} {
		if got, ok := registrationUID(name); ok {
			t.Errorf("registrationUID(%q) = %q, true", name, got)
		}
	}
}

func TestRootOnlyRejectsOddPaths(t *testing.T) {
	rc := rootChecker{lstat: newFakeFS().lstat, owner: fakeOwner}
	for _, p := range []string{"var/lib", "/var/../etc", "/var/lib/", ""} {
		if _, err := rc.rootOnly(p, wantDir); err == nil || errors.Is(err, fs.ErrNotExist) {
			t.Errorf("rootOnly(%q) = %v, want a refusal", p, err)
		}
	}
}

// TestRootOnlyRealFiles applies the rules to real files with the operating
// system's owner. Folders above the test's temporary folder are taken as
// root's (the real /tmp is writable by everyone); the rest is real. As
// root it also changes owners for real.
func TestRootOnlyRealFiles(t *testing.T) {
	if os.PathSeparator != '/' {
		t.Skip("Linux paths")
	}
	top := t.TempDir()
	if err := os.Chmod(top, 0o755); err != nil {
		t.Fatal(err)
	}
	rc := rootChecker{
		lstat: func(name string) (fs.FileInfo, error) {
			if name != top && strings.HasPrefix(top, strings.TrimSuffix(name, "/")+"/") {
				return fakeInfo{name: path.Base(name), node: fakeNode{mode: fs.ModeDir | 0o755}}, nil
			}
			return os.Lstat(name)
		},
		owner: func(fi fs.FileInfo) (uint32, bool) {
			if fi, ok := fi.(fakeInfo); ok {
				return fi.node.uid, true
			}
			return fileOwner(fi)
		},
	}
	dir := filepath.Join(top, "state")
	file := filepath.Join(dir, "1000.db")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("registration"), 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		_, err := rc.rootOnly(file, wantFile)
		var nr *notRootError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), "not root") {
			t.Errorf("as uid %d: rootOnly = %v, want 'not root'", os.Getuid(), err)
		}
		return
	}
	if fi, err := rc.rootOnly(file, wantFile); err != nil || fi.Size() != int64(len("registration")) {
		t.Fatalf("root's file: %v", err)
	}
	steps := []struct {
		name string
		do   func() error
		want string
	}{
		{"file chowned", func() error { return os.Chown(file, 1000, 1000) }, file + " belongs to uid 1000, not root"},
		{"file back", func() error { return os.Chown(file, 0, 0) }, ""},
		{"file group-writable", func() error { return os.Chmod(file, 0o620) }, file + " is writable by other accounts (mode 0620)"},
		{"file back", func() error { return os.Chmod(file, 0o600) }, ""},
		{"folder chowned", func() error { return os.Chown(dir, 1000, 1000) }, dir + " belongs to uid 1000, not root"},
		{"folder back", func() error { return os.Chown(dir, 0, 0) }, ""},
		{"folder world-writable", func() error { return os.Chmod(dir, fs.ModeSticky|0o777) }, dir + " is writable by other accounts (mode 1777)"},
		{"folder back", func() error { return os.Chmod(dir, 0o700) }, ""},
		{"file swapped for a link", func() error {
			if err := os.Rename(file, file+".real"); err != nil {
				return err
			}
			return os.Symlink(file+".real", file)
		}, file + " is a symbolic link"},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		_, err := rc.rootOnly(file, wantFile)
		switch {
		case s.want == "" && err != nil:
			t.Errorf("%s: %v", s.name, err)
		case s.want != "" && (err == nil || err.Error() != s.want):
			t.Errorf("%s: err = %v, want %q", s.name, err, s.want)
		}
	}
	if _, err := rc.rootOnly(filepath.Join(dir, "missing.db"), wantFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLandscapeRunsByAbsolutePath(t *testing.T) {
	o, ran := linuxFixture{landscape: true, landscapeOut: "registered.txt"}.options(t)
	c := newChecker(*o, linuxProbes(o))
	if _, err := c.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/usr/bin/landscape-config --is-registered"}, *ran); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
}

func TestLandscapeTimeoutStillChecksPolicy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o, _ := linuxFixture{landscape: true, landscapeBlocked: true, managedBy: "Puppet"}.options(t)
		o.Timeout = 5 * time.Second
		res, err := newChecker(*o, linuxProbes(o)).Check(context.Background())
		if err != nil || res.Method != MethodLinuxPolicyManagedBy {
			t.Fatalf("Check = %+v, %v", res, err)
		}

		o.ManagedBy = nil
		res, err = newChecker(*o, linuxProbes(o)).Check(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotConfirmed) || res.Managed {
			t.Fatalf("Check = %+v, %v; want a timeout", res, err)
		}
	})
}
