package enroll

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeRegistry is a RegistryView read from a .reg export (UTF-8, string and
// dword values only), so that fixtures look like what an admin would
// export with regedit.
type fakeRegistry struct {
	keys    map[string]map[string]any // path (lower case) → value name → string | uint32
	names   map[string]string         // path (lower case) → path as written
	listErr error                     // returned by SubKeyNames when set
}

var errWrongType = errors.New("unexpected registry value type")

const hklmPrefix = `HKEY_LOCAL_MACHINE\`

func loadReg(t testing.TB, file string) *fakeRegistry {
	t.Helper()
	r := &fakeRegistry{keys: map[string]map[string]any{}, names: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(readFixture(t, "winreg/"+file)))
	var cur map[string]any
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || n == 1:
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			path := strings.TrimSuffix(strings.TrimPrefix(line, "["), "]")
			if !strings.HasPrefix(path, hklmPrefix) {
				t.Fatalf("%s:%d: key outside HKLM", file, n)
			}
			path = strings.TrimPrefix(path, hklmPrefix)
			// Every ancestor of a key exists.
			parts := strings.Split(path, `\`)
			for i := 1; i <= len(parts); i++ {
				p := strings.Join(parts[:i], `\`)
				if r.keys[strings.ToLower(p)] == nil {
					r.keys[strings.ToLower(p)] = map[string]any{}
					r.names[strings.ToLower(p)] = p
				}
			}
			cur = r.keys[strings.ToLower(path)]
		case strings.HasPrefix(line, `"`) && cur != nil:
			name, value, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s:%d: no =", file, n)
			}
			name, err := strconv.Unquote(name)
			if err != nil {
				t.Fatalf("%s:%d: %v", file, n, err)
			}
			if hex, ok := strings.CutPrefix(value, "dword:"); ok {
				v, err := strconv.ParseUint(hex, 16, 32)
				if err != nil {
					t.Fatalf("%s:%d: %v", file, n, err)
				}
				cur[name] = uint32(v)
				continue
			}
			s, err := strconv.Unquote(value)
			if err != nil {
				t.Fatalf("%s:%d: %v", file, n, err)
			}
			cur[name] = s
		default:
			t.Fatalf("%s:%d: cannot read %q", file, n, line)
		}
	}
	return r
}

func (r *fakeRegistry) SubKeyNames(path string) ([]string, error) {
	if r.listErr != nil {
		return nil, r.listErr
	}
	lp := strings.ToLower(path)
	if r.keys[lp] == nil {
		return nil, fmt.Errorf("opening %s: %w", path, fs.ErrNotExist)
	}
	var names []string
	for k, written := range r.names {
		if rest, ok := strings.CutPrefix(k, lp+`\`); ok && !strings.Contains(rest, `\`) {
			names = append(names, written[len(lp)+1:])
		}
	}
	return names, nil
}

func (r *fakeRegistry) value(path, name string) (any, error) {
	vals := r.keys[strings.ToLower(path)]
	if vals == nil {
		return nil, fmt.Errorf("opening %s: %w", path, fs.ErrNotExist)
	}
	v, ok := vals[name]
	if !ok {
		return nil, fmt.Errorf("reading %s: %w", name, fs.ErrNotExist)
	}
	return v, nil
}

func (r *fakeRegistry) StringValue(path, name string) (string, error) {
	v, err := r.value(path, name)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", errWrongType
	}
	return s, nil
}

func (r *fakeRegistry) DWORDValue(path, name string) (uint32, error) {
	v, err := r.value(path, name)
	if err != nil {
		return 0, err
	}
	n, ok := v.(uint32)
	if !ok {
		return 0, errWrongType
	}
	return n, nil
}

var _ RegistryView = (*fakeRegistry)(nil)

func TestReadWindowsEnrollments(t *testing.T) {
	tests := []struct {
		file    string
		want    []windowsEnrollment
		wantErr bool
	}{
		{file: "intune.reg", want: []windowsEnrollment{
			{id: "2A7C4F1E-8B3D-4E6A-9C5F-1D2E3B4A5C6D", providerID: "MS DM Server", upn: "ada.lovelace@lab.example.edu"},
		}},
		{file: "other-mdm.reg", want: []windowsEnrollment{
			{id: "{B4D3C2A1-0F9E-4D8C-B7A6-5E4D3C2B1A09}", providerID: "AirWatchMDM", upn: "grace@lab.example.edu"},
		}},
		{file: "two-providers.reg", want: []windowsEnrollment{
			{id: "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", providerID: "AirWatchMDM"},
			{id: "FA1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D", providerID: "MS DM Server", upn: "ada.lovelace@lab.example.edu"},
		}},
		{file: "not-enrolled.reg"},
		{file: "no-enrollments-key.reg"},
		{file: "wrong-type.reg", wantErr: true},
		{file: "wrong-type-and-intune.reg", wantErr: true, want: []windowsEnrollment{
			{id: "9C8B7A6F-5E4D-4C3B-AA19-0F8E7D6C5B4A", providerID: "MS DM Server"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := readWindowsEnrollments(loadReg(t, tt.file))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %t", err, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, errWrongType) {
				t.Errorf("err = %v, want it to carry the registry's error", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("enrollments = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("enrollment %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestReadWindowsEnrollmentsListError(t *testing.T) {
	r := loadReg(t, "intune.reg")
	r.listErr = fmt.Errorf("opening key: %w", fs.ErrPermission)
	if _, err := readWindowsEnrollments(r); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("err = %v, want permission error", err)
	}
}

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		"2A7C4F1E-8B3D-4E6A-9C5F-1D2E3B4A5C6D":   true,
		"2a7c4f1e-8b3d-4e6a-9c5f-1d2e3b4a5c6d":   true,
		"{2A7C4F1E-8B3D-4E6A-9C5F-1D2E3B4A5C6D}": true,
		"{2A7C4F1E-8B3D-4E6A-9C5F-1D2E3B4A5C6D":  false,
		"2A7C4F1E-8B3D-4E6A-9C5F-1D2E3B4A5C6":    false,
		"2A7C4F1E_8B3D-4E6A-9C5F-1D2E3B4A5C6D":   false,
		"2A7C4F1E-8B3D-4E6A-9C5F-1D2E3B4A5C6G":   false,
		"Context":                                false,
		"":                                       false,
	} {
		if got := isGUID(s); got != want {
			t.Errorf("isGUID(%q) = %t, want %t", s, got, want)
		}
	}
}

func TestWindowsSignals(t *testing.T) {
	notRegistered := func() (bool, string, error) { return false, "", nil }
	notJoined := func() (string, error) { return "", nil }
	tests := []struct {
		name        string
		reg         string // testdata/winreg file; "" for no registry
		mdm         func() (bool, string, error)
		domain      func() (string, error)
		wantManaged bool
		wantMethod  string
		wantErr     bool
		wantDetail  string
	}{
		{
			name: "intune in the registry", reg: "intune.reg", mdm: notRegistered, domain: notJoined,
			wantManaged: true, wantMethod: MethodWindowsIntune,
			wantDetail: `Intune enrollment 2A7C4F1E-8B3D-4E6A-9C5F-1D2E3B4A5C6D (ProviderID "MS DM Server", UPN "ada.lovelace@lab.example.edu")`,
		},
		{
			name: "intune preferred over another provider", reg: "two-providers.reg", mdm: notRegistered, domain: notJoined,
			wantManaged: true, wantMethod: MethodWindowsIntune, wantDetail: "FA1B2C3D",
		},
		{
			name: "other MDM in the registry", reg: "other-mdm.reg", mdm: notRegistered, domain: notJoined,
			wantManaged: true, wantMethod: MethodWindowsMDM, wantDetail: `ProviderID "AirWatchMDM"`,
		},
		{
			name: "registered per the DLL only", reg: "not-enrolled.reg",
			mdm:    func() (bool, string, error) { return true, "ada@lab.example.edu", nil },
			domain: notJoined, wantManaged: true, wantMethod: MethodWindowsMDM,
			wantDetail: `registered with device management as "ada@lab.example.edu"`,
		},
		{
			name: "domain joined", reg: "no-enrollments-key.reg", mdm: notRegistered,
			domain:      func() (string, error) { return "LAB", nil },
			wantManaged: true, wantMethod: MethodWindowsDomain,
			wantDetail: `joined to Active Directory domain "LAB" (managed by Group Policy)`,
		},
		{
			name: "nothing", reg: "not-enrolled.reg", mdm: notRegistered, domain: notJoined,
			wantDetail: "no MDM enrollment under HKLM",
		},
		{
			name: "unreadable registry entry and nothing else", reg: "wrong-type.reg", mdm: notRegistered, domain: notJoined,
			wantErr: true, wantDetail: "EnrollmentState",
		},
		{
			name: "DLL fails, registry has Intune", reg: "intune.reg",
			mdm:    func() (bool, string, error) { return false, "", errors.New("HRESULT 0x80070005") },
			domain: notJoined, wantManaged: true, wantMethod: MethodWindowsIntune,
		},
		{
			name: "DLL fails, nothing else", reg: "not-enrolled.reg",
			mdm:    func() (bool, string, error) { return false, "", errors.New("HRESULT 0x80070005") },
			domain: notJoined, wantErr: true, wantDetail: "IsDeviceRegisteredWithManagement: HRESULT 0x80070005",
		},
		{
			name: "no platform dependencies", wantErr: true, wantDetail: "registry not available",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &Options{Timeout: time.Hour, CacheFor: -1, MDMRegistered: tt.mdm, JoinedDomain: tt.domain}
			if tt.reg != "" {
				o.Registry = loadReg(t, tt.reg)
			}
			fillDefaults(o)
			c := newChecker(*o, windowsProbes(o))
			res, err := c.Check(context.Background())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %t (result %+v)", err, tt.wantErr, res)
			}
			if err != nil && !errors.Is(err, ErrNotConfirmed) {
				t.Errorf("err = %v, want one wrapping ErrNotConfirmed", err)
			}
			if res.Managed != tt.wantManaged || res.Method != tt.wantMethod || !strings.Contains(res.Detail, tt.wantDetail) {
				t.Errorf("result = %+v, want managed %t, method %q, detail containing %q",
					res, tt.wantManaged, tt.wantMethod, tt.wantDetail)
			}
		})
	}
}
