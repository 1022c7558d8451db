package enroll

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

func platformDefaults(o *Options) {
	if o.Registry == nil {
		o.Registry = hklmView{}
	}
	if o.MDMRegistered == nil {
		// Loaded on first use, from System32 only.
		proc := windows.NewLazySystemDLL("MDMRegistration.dll").NewProc("IsDeviceRegisteredWithManagement")
		o.MDMRegistered = func() (bool, string, error) { return isDeviceRegisteredWithManagement(proc) }
	}
	if o.JoinedDomain == nil {
		o.JoinedDomain = joinedDomain
	}
}

func platformProbes(o *Options) []probe {
	return windowsProbes(o)
}

// hklmView is the real RegistryView, always the 64-bit view so that a 32-bit
// build reads the same keys as the MDM agent.
type hklmView struct{}

var _ RegistryView = hklmView{}

func (hklmView) open(path string) (registry.Key, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, path,
		registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS|registry.WOW64_64KEY)
	if err != nil {
		return 0, fmt.Errorf(`opening HKLM\%s: %w`, path, err)
	}
	return k, nil
}

func (v hklmView) SubKeyNames(path string) ([]string, error) {
	k, err := v.open(path)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	return k.ReadSubKeyNames(-1)
}

func (v hklmView) StringValue(path, name string) (string, error) {
	k, err := v.open(path)
	if err != nil {
		return "", err
	}
	defer k.Close()
	s, _, err := k.GetStringValue(name)
	return s, err
}

func (v hklmView) DWORDValue(path, name string) (uint32, error) {
	k, err := v.open(path)
	if err != nil {
		return 0, err
	}
	defer k.Close()
	n, typ, err := k.GetIntegerValue(name)
	if err != nil {
		return 0, err
	}
	if typ != registry.DWORD {
		return 0, registry.ErrUnexpectedType
	}
	return uint32(n), nil
}

// maxUPN is the buffer, in UTF-16 units, for the UPN the API returns.
const maxUPN = 1024

// isDeviceRegisteredWithManagement calls
//
//	HRESULT IsDeviceRegisteredWithManagement(BOOL *pfIsDeviceRegisteredWithManagement,
//	                                         DWORD cchUPN, LPWSTR pszUPN);
func isDeviceRegisteredWithManagement(proc *windows.LazyProc) (bool, string, error) {
	if err := proc.Find(); err != nil {
		return false, "", fmt.Errorf("loading MDMRegistration.dll: %w", err)
	}
	var registered int32 // BOOL
	var upn [maxUPN + 1]uint16
	hr, _, _ := proc.Call(
		uintptr(unsafe.Pointer(&registered)),
		uintptr(maxUPN),
		uintptr(unsafe.Pointer(&upn[0])),
	)
	if int32(hr) < 0 {
		return false, "", fmt.Errorf("HRESULT %#08x: %w", uint32(hr), windows.Errno(hr))
	}
	return registered != 0, windows.UTF16ToString(upn[:]), nil
}

// joinedDomain returns the Active Directory domain this computer belongs
// to, or "" for a workgroup or an unjoined computer.
func joinedDomain() (string, error) {
	var name *uint16
	var status uint32
	if err := windows.NetGetJoinInformation(nil, &name, &status); err != nil {
		return "", err
	}
	defer windows.NetApiBufferFree((*byte)(unsafe.Pointer(name)))
	if status != windows.NetSetupDomainName {
		return "", nil
	}
	return windows.UTF16PtrToString(name), nil
}
