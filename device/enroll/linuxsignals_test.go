package enroll

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseIntuneRegistration(t *testing.T) {
	const device = "9b1d4c2e-5a7f-4e3b-8d6c-1f0a2e4b6c88"
	const entra = "c7e2a9f4-1b3d-4a5e-9f8c-6d2b0e4a1c37"
	tests := []struct {
		file    string
		want    intuneRegistration
		wantErr bool
	}{
		{file: "enrolled.toml", want: intuneRegistration{deviceID: device, entraDeviceID: entra}},
		{file: "enrolled-double-quotes.toml", want: intuneRegistration{deviceID: device, entraDeviceID: entra}},
		{file: "needs-patching.toml", want: intuneRegistration{deviceID: device, entraDeviceID: entra, needsPatching: true}},
		{file: "entra-only.toml", want: intuneRegistration{entraDeviceID: entra}},
		{file: "signed-in-only.toml", want: intuneRegistration{}},
		{file: "empty.toml", want: intuneRegistration{}},
		{file: "nil-guid.toml", want: intuneRegistration{}},
		{file: "empty-device-hint.toml", want: intuneRegistration{}},
		{file: "alternative-key.toml", want: intuneRegistration{deviceID: device}},
		{file: "comments-and-tables.toml", want: intuneRegistration{entraDeviceID: entra}},
		{file: "bom-crlf.toml", want: intuneRegistration{deviceID: device}},
		{file: "unterminated.toml", wantErr: true},
		{file: "duplicate-key.toml", wantErr: true},
		{file: "device-hint-not-string.toml", wantErr: true},
		{file: "not-toml.toml", wantErr: true},
		{file: "truncated.toml", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseIntuneRegistration(readFixture(t, "intune/"+tt.file))
			if tt.wantErr {
				if !errors.Is(err, ErrUnrecognized) {
					t.Fatalf("err = %v, want one wrapping ErrUnrecognized", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(intuneRegistration{})); diff != "" {
				t.Errorf("registration (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseIntuneRegistration(f *testing.F) {
	for _, name := range []string{"enrolled.toml", "entra-only.toml", "nil-guid.toml", "comments-and-tables.toml", "device-hint-not-string.toml"} {
		f.Add(readFixture(f, "intune/"+name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reg, err := parseIntuneRegistration(data)
		if err != nil {
			if !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("error %v does not wrap ErrUnrecognized", err)
			}
			return
		}
		if reg.deviceID != "" && !usableID(reg.deviceID) {
			t.Fatalf("accepted unusable device id %q", reg.deviceID)
		}
	})
}

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

// fakeFS is a file system for the Linux probes: files by path, and errors
// by path for paths that cannot be read.
type fakeFS struct {
	files map[string][]byte
	errs  map[string]error
}

type fakeInfo struct {
	name string
	mode fs.FileMode
}

func (i fakeInfo) Name() string       { return i.name }
func (i fakeInfo) Size() int64        { return 0 }
func (i fakeInfo) Mode() fs.FileMode  { return i.mode }
func (i fakeInfo) ModTime() time.Time { return time.Time{} }
func (i fakeInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fakeInfo) Sys() any           { return nil }

func (f fakeFS) stat(name string) (fs.FileInfo, error) {
	if err := f.errs[name]; err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if _, ok := f.files[name]; ok {
		return fakeInfo{name: filepath.Base(name), mode: 0o755}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (f fakeFS) readFile(name string) ([]byte, error) {
	if err := f.errs[name]; err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if data, ok := f.files[name]; ok {
		return data, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// linuxFixture sets up a Linux machine: which tools are installed, what
// registration the user has, what landscape-config answers and what the
// policy names.
type linuxFixture struct {
	intuneAgent      bool
	registration     string // testdata/intune file in ~/.config/intune, "" for none
	stateReg         string // testdata/intune file in ~/.local/state/intune
	registrationErr  error
	landscape        bool
	landscapeOut     string // testdata/landscape file
	landscapeExit    int
	landscapeErr     error
	landscapeStderr  string // testdata/landscape file
	managedBy        string
	managedByErr     error
	noManagedBySrc   bool
	homeErr          error
	landscapeBlocked bool // landscape-config never answers
}

// options returns Options for the fixture and the commands run so far.
// Reading the commands is safe once every Check has returned and no probe
// is left running.
func (lf linuxFixture) options(t *testing.T) (*Options, *[]string) {
	t.Helper()
	home := t.TempDir() // only its name is used: any absolute path on this OS
	ffs := fakeFS{files: map[string][]byte{}, errs: map[string]error{}}
	if lf.intuneAgent {
		ffs.files[intuneAgentPath] = nil
	}
	if lf.registration != "" {
		ffs.files[filepath.Join(home, intuneRegistrationFiles()[0])] = readFixture(t, "intune/"+lf.registration)
	}
	if lf.stateReg != "" {
		ffs.files[filepath.Join(home, intuneRegistrationFiles()[1])] = readFixture(t, "intune/"+lf.stateReg)
	}
	if lf.registrationErr != nil {
		ffs.errs[filepath.Join(home, intuneRegistrationFiles()[0])] = lf.registrationErr
	}
	if lf.landscape {
		ffs.files[landscapeConfigPath] = nil
	}
	var (
		mu  sync.Mutex // a probe that timed out may still run beside the next one
		ran []string
	)
	o := &Options{
		Timeout:  time.Hour,
		CacheFor: -1,
		Now:      time.Now,
		Stat:     ffs.stat,
		ReadFile: ffs.readFile,
		HomeDir: func() (string, error) {
			return home, lf.homeErr
		},
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
	return o, &ran
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
		{
			name:        "intune enrolled",
			fx:          linuxFixture{intuneAgent: true, registration: "enrolled.toml"},
			wantManaged: true, wantMethod: MethodLinuxIntune,
			wantDetail: []string{`Intune for Linux agent registered (device id "9b1d4c2e…")`},
		},
		{
			name:        "intune registration in the state dir",
			fx:          linuxFixture{intuneAgent: true, stateReg: "enrolled-double-quotes.toml"},
			wantManaged: true, wantMethod: MethodLinuxIntune,
		},
		{
			name:        "intune needs patching still passes",
			fx:          linuxFixture{intuneAgent: true, registration: "needs-patching.toml"},
			wantManaged: true, wantMethod: MethodLinuxIntune,
			wantDetail: []string{"needs repair"},
		},
		{
			name:       "registration without the agent",
			fx:         linuxFixture{registration: "enrolled.toml"},
			wantDetail: []string{"Intune for Linux agent not installed"},
		},
		{
			name:       "agent without registration",
			fx:         linuxFixture{intuneAgent: true},
			wantDetail: []string{"not registered for this user"},
		},
		{
			name:       "entra registered only",
			fx:         linuxFixture{intuneAgent: true, registration: "entra-only.toml"},
			wantDetail: []string{"registered with Entra ID but not enrolled in Intune"},
		},
		{
			name:       "nil device id",
			fx:         linuxFixture{intuneAgent: true, registration: "nil-guid.toml"},
			wantDetail: []string{"has no device id"},
		},
		{
			name:       "malformed registration",
			fx:         linuxFixture{intuneAgent: true, registration: "unterminated.toml"},
			wantErr:    true,
			wantDetail: []string{"registration.toml", "line 1"},
		},
		{
			name:       "unreadable registration",
			fx:         linuxFixture{intuneAgent: true, registrationErr: fs.ErrPermission},
			wantErr:    true,
			wantDetail: []string{"permission denied"},
		},
		{
			name:    "no home directory",
			fx:      linuxFixture{intuneAgent: true, homeErr: errors.New("$HOME is not defined")},
			wantErr: true,
		},
		{
			name:        "malformed registration but landscape registered",
			fx:          linuxFixture{intuneAgent: true, registration: "unterminated.toml", landscape: true, landscapeOut: "registered.txt"},
			wantManaged: true, wantMethod: MethodLinuxLandscape,
			wantDetail: []string{`registered with Landscape (account "example-lab")`},
		},
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
			name:        "landscape broken but policy names ManagedBy",
			fx:          linuxFixture{landscape: true, landscapeExit: 1, managedBy: "Ansible"},
			wantManaged: true, wantMethod: MethodLinuxPolicyManagedBy,
			wantDetail: []string{`names ManagedBy "Ansible"`},
		},
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
			o, _ := tt.fx.options(t)
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
		})
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
