package enroll

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// Windows signals. The file name is not *_windows.go on purpose: the
// registry layout is interpreted here, behind RegistryView, and tested on
// every OS; enroll_windows.go holds only the calls into Windows.

// RegistryView is the read-only slice of HKEY_LOCAL_MACHINE that the Windows
// check needs. Paths are relative to HKLM, separated by backslashes. A key
// or value that does not exist is an error wrapping fs.ErrNotExist; a value
// of another type is some other error.
type RegistryView interface {
	SubKeyNames(path string) ([]string, error)
	StringValue(path, name string) (string, error)
	DWORDValue(path, name string) (uint32, error)
}

const (
	// enrollmentsKey holds one subkey per MDM enrollment, named by a GUID.
	enrollmentsKey = `SOFTWARE\Microsoft\Enrollments`
	// intuneProviderID is the ProviderID of an Intune enrollment.
	intuneProviderID = "MS DM Server"
	// enrollmentStateEnrolled is the EnrollmentState of a live enrollment.
	enrollmentStateEnrolled = 1
)

// windowsEnrollment is one live enrollment found in the registry.
type windowsEnrollment struct {
	id         string // the subkey's GUID
	providerID string
	upn        string // may be empty (device enrollments)
}

// readWindowsEnrollments returns the live enrollments under
// HKLM\SOFTWARE\Microsoft\Enrollments: GUID-named subkeys whose
// EnrollmentState is 1 and whose ProviderID is not empty. Subkeys with
// other names (Context, Ownership, Status, ValidNodePaths…) are not
// enrollments. An enrollment that cannot be read is left out and its error
// returned alongside the ones that could; a missing Enrollments key means no
// enrollments.
func readWindowsEnrollments(r RegistryView) ([]windowsEnrollment, error) {
	names, err := r.SubKeyNames(enrollmentsKey)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf(`listing HKLM\%s: %w`, enrollmentsKey, err)
	}
	slices.Sort(names)
	var found []windowsEnrollment
	var errs []error
	for _, name := range names {
		if !isGUID(name) {
			continue
		}
		e, live, err := readWindowsEnrollment(r, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if live {
			found = append(found, e)
		}
	}
	return found, errors.Join(errs...)
}

func readWindowsEnrollment(r RegistryView, name string) (windowsEnrollment, bool, error) {
	e := windowsEnrollment{id: name}
	key := enrollmentsKey + `\` + name
	state, err := r.DWORDValue(key, "EnrollmentState")
	if errors.Is(err, fs.ErrNotExist) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf(`reading HKLM\%s EnrollmentState: %w`, key, err)
	}
	if state != enrollmentStateEnrolled {
		return e, false, nil
	}
	if e.providerID, err = optionalString(r, key, "ProviderID"); err != nil {
		return e, false, err
	}
	if e.upn, err = optionalString(r, key, "UPN"); err != nil {
		return e, false, err
	}
	e.providerID = strings.TrimSpace(e.providerID)
	e.upn = strings.TrimSpace(e.upn)
	// Windows keeps provider-less enrollment records for its own use; they
	// are not an MDM managing the device.
	return e, e.providerID != "", nil
}

func optionalString(r RegistryView, key, name string) (string, error) {
	v, err := r.StringValue(key, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf(`reading HKLM\%s %s: %w`, key, name, err)
	}
	return v, nil
}

// isGUID reports whether s is a GUID, with or without braces.
func isGUID(s string) bool {
	if strings.HasPrefix(s, "{") != strings.HasSuffix(s, "}") {
		return false
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// windowsProbes are the Windows signals in the order they are tried: the
// registry first because it names the provider, then the MDM registration
// API, then domain membership.
func windowsProbes(o *Options) []probe {
	return []probe{
		registryProbe(o.Registry),
		mdmRegistrationProbe(o.MDMRegistered),
		domainProbe(o.JoinedDomain),
	}
}

// registryProbe looks for a live enrollment in the registry, preferring
// Intune's when there are several.
func registryProbe(r RegistryView) probe {
	return probe{
		name: "Windows MDM enrollments in the registry",
		run: func(ctx context.Context) (finding, error) {
			if r == nil {
				return finding{}, errors.New("registry not available")
			}
			found, err := readWindowsEnrollments(r)
			if len(found) == 0 {
				if err != nil {
					return finding{}, err
				}
				return finding{detail: `no MDM enrollment under HKLM\` + enrollmentsKey}, nil
			}
			e := found[0]
			method := MethodWindowsMDM
			if i := slices.IndexFunc(found, func(e windowsEnrollment) bool {
				return strings.EqualFold(e.providerID, intuneProviderID)
			}); i >= 0 {
				e, method = found[i], MethodWindowsIntune
			}
			detail := "MDM enrollment " + e.id + " (ProviderID " + shown(e.providerID)
			if method == MethodWindowsIntune {
				detail = "Intune enrollment " + e.id + " (ProviderID " + shown(e.providerID)
			}
			if e.upn != "" {
				detail += ", UPN " + shown(e.upn)
			}
			return finding{managed: true, method: method, detail: detail + ")"}, nil
		},
	}
}

// mdmRegistrationProbe asks IsDeviceRegisteredWithManagement.
func mdmRegistrationProbe(registered func() (bool, string, error)) probe {
	return probe{
		name: "Windows MDM registration",
		run: func(ctx context.Context) (finding, error) {
			if registered == nil {
				return finding{}, errors.New("MDMRegistration.dll not available")
			}
			ok, upn, err := registered()
			if err != nil {
				return finding{}, fmt.Errorf("IsDeviceRegisteredWithManagement: %w", err)
			}
			if !ok {
				return finding{detail: "not registered with device management"}, nil
			}
			detail := "registered with device management"
			if upn = strings.TrimSpace(upn); upn != "" {
				detail += " as " + shown(upn)
			}
			return finding{managed: true, method: MethodWindowsMDM, detail: detail}, nil
		},
	}
}

// domainProbe checks Active Directory domain membership.
func domainProbe(joinedDomain func() (string, error)) probe {
	return probe{
		name: "Windows domain membership",
		run: func(ctx context.Context) (finding, error) {
			if joinedDomain == nil {
				return finding{}, errors.New("domain membership cannot be checked")
			}
			domain, err := joinedDomain()
			if err != nil {
				return finding{}, fmt.Errorf("NetGetJoinInformation: %w", err)
			}
			if domain = strings.TrimSpace(domain); domain == "" {
				return finding{detail: "not joined to a domain"}, nil
			}
			return finding{managed: true, method: MethodWindowsDomain,
				detail: "joined to Active Directory domain " + shown(domain) + " (managed by Group Policy)"}, nil
		},
	}
}
