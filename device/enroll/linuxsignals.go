package enroll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Linux signals. The file name is not *_linux.go on purpose: this logic has
// no platform code and is tested on every OS.

const (
	// intuneAgentPath is installed (by root) with Microsoft's intune-portal
	// package.
	intuneAgentPath = "/opt/microsoft/intune/bin/intune-agent"
	// landscapeConfigPath is Canonical's Landscape client configuration tool.
	landscapeConfigPath = "/usr/bin/landscape-config"
	// landscapeNotRegistered is landscape-config's documented exit status for
	// --is-registered on a client that is not registered.
	landscapeNotRegistered = 5
)

// intuneRegistrationFiles are where intune-portal keeps the user's
// registration, relative to the home directory. Current builds write the
// first; some builds read it from the second (or a symlink there).
func intuneRegistrationFiles() []string {
	return []string{
		".config/intune/registration.toml",
		".local/state/intune/registration.toml",
	}
}

// intuneDeviceIDKeys are the registration.toml keys accepted as the Intune
// (MDM) device id, in order. intune-portal writes device_hint once the device
// is enrolled in Intune; the others are accepted in case a build spells it
// differently. aad_device_hint alone means registered with Entra ID but not
// enrolled in Intune, which does not pass.
func intuneDeviceIDKeys() []string {
	return []string{"device_hint", "device_id", "DeviceId", "IntuneDeviceId"}
}

// intuneRegistration is what registration.toml says.
type intuneRegistration struct {
	deviceID      string // "" when not enrolled in Intune
	entraDeviceID string // aad_device_hint
	needsPatching bool
}

// parseIntuneRegistration reads Intune for Linux's registration.toml:
//
//	account_hint = '…'
//	device_hint = '…'
//	aad_device_hint = '…'
//	needs_patching = 'false'
//
// A device id key holding something other than a string is an error; an
// empty or all-zero id counts as no id.
func parseIntuneRegistration(data []byte) (intuneRegistration, error) {
	var reg intuneRegistration
	vals, err := parseTopLevelTOML(data)
	if err != nil {
		return reg, err
	}
	str := func(key string) (string, error) {
		v, ok := vals[key]
		if !ok {
			return "", nil
		}
		if !v.isString {
			return "", fmt.Errorf("%s is not a string: %w", key, ErrUnrecognized)
		}
		return strings.TrimSpace(v.str), nil
	}
	for _, k := range intuneDeviceIDKeys() {
		id, err := str(k)
		if err != nil {
			return reg, err
		}
		if usableID(id) {
			reg.deviceID = id
			break
		}
	}
	if reg.entraDeviceID, err = str("aad_device_hint"); err != nil {
		return reg, err
	}
	if !usableID(reg.entraDeviceID) {
		reg.entraDeviceID = ""
	}
	np, ok := vals["needs_patching"]
	reg.needsPatching = ok && np.isString && strings.EqualFold(strings.TrimSpace(np.str), "true")
	return reg, nil
}

// usableID reports whether id could identify a device: not empty, not the
// nil GUID, and printable.
func usableID(id string) bool {
	if strings.Trim(id, "{}0-") == "" {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// linuxProbes are the Linux signals in the order they are tried.
func linuxProbes(o *Options) []probe {
	return []probe{
		intuneProbe(o.Stat, o.ReadFile, o.HomeDir),
		landscapeProbe(o.Stat, o.Run),
		managedByProbe(o.ManagedBy),
	}
}

// intuneProbe checks for Intune for Linux: the agent installed and the
// user's registration holding an Intune device id.
func intuneProbe(stat func(string) (fs.FileInfo, error), readFile func(string) ([]byte, error), homeDir func() (string, error)) probe {
	return probe{
		name: "Intune for Linux",
		run: func(ctx context.Context) (finding, error) {
			present, err := regularFile(stat, intuneAgentPath)
			if err != nil {
				return finding{}, err
			}
			if !present {
				return finding{detail: "Intune for Linux agent not installed"}, nil
			}
			home, err := homeDir()
			if err != nil {
				return finding{}, fmt.Errorf("finding the home directory: %w", err)
			}
			if !filepath.IsAbs(home) {
				return finding{}, fmt.Errorf("home directory %s is not absolute", shown(home))
			}
			for _, rel := range intuneRegistrationFiles() {
				if ctx.Err() != nil {
					return finding{}, ctx.Err()
				}
				path := filepath.Join(home, rel)
				data, err := readFile(path)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					return finding{}, fmt.Errorf("reading %s: %w", path, err)
				}
				reg, err := parseIntuneRegistration(data)
				if err != nil {
					return finding{}, fmt.Errorf("reading %s: %w", path, err)
				}
				if reg.deviceID == "" {
					if reg.entraDeviceID != "" {
						return finding{detail: "Intune for Linux: registered with Entra ID but not enrolled in Intune (" +
							path + " has no device id); finish enrollment in the Microsoft Intune app"}, nil
					}
					return finding{detail: "Intune for Linux agent installed but " + path +
						" has no device id; sign in and enroll in the Microsoft Intune app"}, nil
				}
				detail := "Intune for Linux agent registered (device id " + abbreviated(reg.deviceID) + ")"
				if reg.needsPatching {
					detail += "; the agent reports its registration needs repair"
				}
				return finding{managed: true, method: MethodLinuxIntune, detail: detail}, nil
			}
			return finding{detail: "Intune for Linux agent installed but not registered for this user (no " +
				filepath.Join("~", intuneRegistrationFiles()[0]) + ")"}, nil
		},
	}
}

// regularFile reports whether path exists and is a regular file. A path
// that does not exist is not an error; one that cannot be checked is.
func regularFile(stat func(string) (fs.FileInfo, error), path string) (bool, error) {
	fi, err := stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("checking %s: %w", path, err)
	}
	return fi.Mode().IsRegular(), nil
}

// landscapeStatus is the parsed answer of `landscape-config --is-registered`.
type landscapeStatus struct {
	registered bool
	account    string
}

// parseLandscapeStatus reads `landscape-config --is-registered`, which exits
// 0 when registered and 5 when not and prints
//
//	Registered:    True
//	Config Path:   /etc/landscape/client.conf
//	Data Path      /var/lib/landscape/client
//	Account Name:  example
//
// The exit status and the Registered line must agree; anything else
// (another status, no Registered line, a contradiction) is an error.
func parseLandscapeStatus(out []byte, exitCode int) (landscapeStatus, error) {
	var st landscapeStatus
	if exitCode != 0 && exitCode != landscapeNotRegistered {
		return st, fmt.Errorf("%s exited with status %d", landscapeConfigPath, exitCode)
	}
	if len(out) > maxOutputBytes {
		return st, fmt.Errorf("landscape-config output is %d bytes: %w", len(out), ErrUnrecognized)
	}
	var saw bool
	for line := range bytes.SplitSeq(out, []byte("\n")) {
		key, value, ok := strings.Cut(string(line), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch normalise(key) {
		case "registered":
			if saw {
				return st, fmt.Errorf("landscape-config printed Registered twice: %w", ErrUnrecognized)
			}
			saw = true
			switch strings.ToLower(value) {
			case "true":
				st.registered = true
			case "false":
			default:
				return st, fmt.Errorf("landscape-config printed Registered: %s: %w", shown(value), ErrUnrecognized)
			}
		case "account name":
			st.account = value
		}
	}
	switch {
	case !saw:
		return st, fmt.Errorf("landscape-config printed no Registered line (%s): %w", describeOutput(out), ErrUnrecognized)
	case st.registered != (exitCode == 0):
		return st, fmt.Errorf("landscape-config exited with status %d but printed Registered: %t: %w",
			exitCode, st.registered, ErrUnrecognized)
	}
	return st, nil
}

// landscapeProbe checks for a registered Landscape client.
func landscapeProbe(stat func(string) (fs.FileInfo, error), run CommandRunner) probe {
	return probe{
		name: "Landscape",
		run: func(ctx context.Context) (finding, error) {
			present, err := regularFile(stat, landscapeConfigPath)
			if err != nil {
				return finding{}, err
			}
			if !present {
				return finding{detail: "Landscape client not installed"}, nil
			}
			out, err := run(ctx, landscapeConfigPath, "--is-registered")
			if err != nil {
				return finding{}, err
			}
			st, err := parseLandscapeStatus(out.Stdout, out.ExitCode)
			if err != nil {
				if len(bytes.TrimSpace(out.Stderr)) > 0 {
					err = fmt.Errorf("%w (stderr: %s)", err, describeOutput(lastLine(out.Stderr)))
				}
				if bytes.Contains(out.Stderr, []byte("Permission denied")) {
					// Some installs keep the client's configuration or data
					// readable by root only, so a user cannot ask.
					err = fmt.Errorf("%w; landscape-config cannot answer for a normal user here: "+
						"an admin can name ManagedBy in the managed policy instead", err)
				}
				return finding{}, err
			}
			if !st.registered {
				return finding{detail: "Landscape client installed but not registered"}, nil
			}
			detail := "registered with Landscape"
			if st.account != "" {
				detail += " (account " + shown(st.account) + ")"
			}
			return finding{managed: true, method: MethodLinuxLandscape, detail: detail}, nil
		},
	}
}

// managedByProbe checks the ManagedBy value of the trusted managed policy.
func managedByProbe(managedBy func(context.Context) (string, error)) probe {
	return probe{
		name: "managed policy ManagedBy",
		run: func(ctx context.Context) (finding, error) {
			if managedBy == nil {
				return finding{detail: "no managed policy names a ManagedBy system"}, nil
			}
			v, err := managedBy(ctx)
			if err != nil {
				return finding{}, fmt.Errorf("reading ManagedBy from the managed policy: %w", err)
			}
			v = strings.TrimSpace(v)
			if v == "" {
				return finding{detail: "the managed policy names no ManagedBy system"}, nil
			}
			return finding{managed: true, method: MethodLinuxPolicyManagedBy,
				detail: "the root-owned managed policy names ManagedBy " + shown(v)}, nil
		},
	}
}

// lastLine returns the last non-empty line of out: for a Python traceback,
// the line that says what went wrong.
func lastLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	return lines[len(lines)-1]
}
