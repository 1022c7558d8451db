package enroll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Linux signals. The file name is not *_linux.go on purpose: this logic has
// no platform code and is tested on every OS.

const (
	// intuneAgentPath is installed (by root) with Microsoft's intune-portal
	// package, together with the root daemon intune-daemon.
	intuneAgentPath = "/opt/microsoft/intune/bin/intune-agent"
	// intuneBrokerStateDir is the state folder of
	// microsoft-identity-device-broker, the system service (root, systemd
	// StateDirectory, mode 0700) that registers the device with Entra ID
	// when a person enrolls it in the Microsoft Intune app. It keeps one
	// registration database per enrolled account, named after the
	// account's uid ("1000.db").
	intuneBrokerStateDir = "/var/lib/microsoft-identity-device-broker"
	// intuneDaemonStateDir is the state folder of intune-daemon, the root
	// side of Intune for Linux (systemd StateDirectory, mode 0700).
	intuneDaemonStateDir = "/var/lib/intune"
	// maxStateEntries bounds how many entries of a state folder are looked
	// at: a real one holds a handful.
	maxStateEntries = 256

	// landscapeConfigPath is Canonical's Landscape client configuration tool.
	landscapeConfigPath = "/usr/bin/landscape-config"
	// landscapeNotRegistered is landscape-config's documented exit status for
	// --is-registered on a client that is not registered.
	landscapeNotRegistered = 5
)

// linuxProbes are the Linux signals in the order they are tried. Each
// counts only state an ordinary account cannot create: files that root
// alone can write, a tool root runs, and the root-owned managed policy.
// Nothing in a home folder counts: the user (and an AI agent running as
// the user) can write anything there.
func linuxProbes(o *Options) []probe {
	rc := rootChecker{lstat: o.Lstat, owner: o.Owner}
	return []probe{
		intuneProbe(rc, o.ReadDir),
		landscapeProbe(rc, o.Run),
		managedByProbe(o.ManagedBy),
	}
}

// intuneProbe checks for Intune for Linux from its device-level state, all
// of which must be under root's sole control (see rootOnly):
//
//   - the agent installed (intuneAgentPath);
//   - a device registration made by the device broker: a non-empty
//     "<uid>.db" in intuneBrokerStateDir;
//   - the Intune daemon's device state: a non-empty intuneDaemonStateDir.
//
// The user's ~/.config/intune/registration.toml, which earlier versions
// read, proves nothing: the user can write it.
func intuneProbe(rc rootChecker, readDir func(string) ([]fs.DirEntry, error)) probe {
	return probe{
		name: "Intune for Linux",
		run: func(ctx context.Context) (finding, error) {
			var nr *notRootError
			_, err := rc.rootOnly(intuneAgentPath, wantFile)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return finding{detail: "Intune for Linux agent not installed"}, nil
			case errors.As(err, &nr):
				return finding{detail: "Intune for Linux does not count: " + nr.Error()}, nil
			case err != nil:
				return finding{}, err
			}

			uids, problems, err := brokerRegistrations(ctx, rc, readDir)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return finding{detail: "Intune for Linux agent installed but this device is not registered (no " +
					intuneBrokerStateDir + "); enroll it in the Microsoft Intune app"}, nil
			case errors.As(err, &nr):
				return finding{detail: "Intune for Linux does not count: " + nr.Error()}, nil
			case err != nil:
				return finding{}, err
			case len(uids) == 0:
				detail := "Intune for Linux agent installed but the device broker holds no device registration (no <uid>.db in " +
					intuneBrokerStateDir + ")"
				if len(problems) > 0 {
					detail += "; not counted: " + strings.Join(problems, "; ")
				}
				return finding{detail: detail + "; enroll the device in the Microsoft Intune app"}, nil
			}
			registered := "the device broker holds a device registration for uid " + strings.Join(uids, ", uid ") +
				" in " + intuneBrokerStateDir

			n, err := stateEntries(ctx, rc, readDir, intuneDaemonStateDir)
			switch {
			case errors.Is(err, fs.ErrNotExist) || (err == nil && n == 0):
				return finding{detail: "Intune for Linux: " + registered + " but the Intune daemon keeps no device state (" +
					intuneDaemonStateDir + " is missing or empty), so it looks registered with Entra ID but not enrolled in Intune; finish enrollment in the Microsoft Intune app"}, nil
			case errors.As(err, &nr):
				return finding{detail: "Intune for Linux does not count: " + nr.Error()}, nil
			case err != nil:
				return finding{}, err
			}
			return finding{managed: true, method: MethodLinuxIntune,
				detail: "Intune for Linux: " + registered + " and the Intune daemon keeps device state in " +
					intuneDaemonStateDir + " (root-owned, device level)"}, nil
		},
	}
}

// brokerRegistrations returns the uids of the non-empty, root-only
// "<uid>.db" registrations in intuneBrokerStateDir, and why any other such
// file does not count. The folder itself must be root-only: otherwise the
// error is a *notRootError.
func brokerRegistrations(ctx context.Context, rc rootChecker, readDir func(string) ([]fs.DirEntry, error)) (uids, problems []string, err error) {
	if _, err := rc.rootOnly(intuneBrokerStateDir, wantDir); err != nil {
		return nil, nil, err
	}
	entries, err := readDir(intuneBrokerStateDir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", intuneBrokerStateDir, err)
	}
	for i, e := range entries {
		if i == maxStateEntries {
			break
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		uid, ok := registrationUID(e.Name())
		if !ok {
			continue
		}
		fi, err := rc.rootOnly(path.Join(intuneBrokerStateDir, e.Name()), wantFile)
		var nr *notRootError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue // removed meanwhile
		case errors.As(err, &nr):
			problems = append(problems, nr.Error())
			continue
		case err != nil:
			return nil, nil, err
		case fi.Size() == 0:
			problems = append(problems, path.Join(intuneBrokerStateDir, e.Name())+" is empty")
			continue
		}
		uids = append(uids, uid)
	}
	return uids, problems, nil
}

// registrationUID returns the uid a device broker database is named after
// ("1000.db" gives "1000"), and false for any other name.
func registrationUID(name string) (string, bool) {
	uid, ok := strings.CutSuffix(name, ".db")
	if !ok || uid == "" || len(uid) > 10 {
		return "", false
	}
	for _, r := range uid {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return uid, true
}

// stateEntries returns how many entries (at most maxStateEntries) the
// root-only folder dir holds.
func stateEntries(ctx context.Context, rc rootChecker, readDir func(string) ([]fs.DirEntry, error), dir string) (int, error) {
	if _, err := rc.rootOnly(dir, wantDir); err != nil {
		return 0, err
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	entries, err := readDir(dir)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", dir, err)
	}
	return min(len(entries), maxStateEntries), nil
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
//
// The service runs landscape-config as root, so it first checks that the
// tool is root's alone: running a program another account could have
// replaced would hand that account root.
func landscapeProbe(rc rootChecker, run CommandRunner) probe {
	return probe{
		name: "Landscape",
		run: func(ctx context.Context) (finding, error) {
			_, err := rc.rootOnly(landscapeConfigPath, wantFile)
			if errors.Is(err, fs.ErrNotExist) {
				return finding{detail: "Landscape client not installed"}, nil
			}
			if err != nil {
				return finding{}, fmt.Errorf("not running %s: %w", landscapeConfigPath, err)
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
