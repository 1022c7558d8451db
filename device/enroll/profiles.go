package enroll

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// profilesPath is macOS's configuration-profile tool, always by absolute path.
const profilesPath = "/usr/bin/profiles"

// mdmLevel is the "MDM enrollment" answer of profiles.
type mdmLevel int

const (
	mdmNone mdmLevel = iota
	mdmLimited
	mdmUserApproved
)

// profilesStatus is the parsed output of `profiles status -type enrollment`.
type profilesStatus struct {
	dep    bool
	mdm    mdmLevel
	server string // "" when not printed
}

// parseProfilesStatus reads the output of `profiles status -type enrollment`:
//
//	Enrolled via DEP: No
//	MDM enrollment: Yes (User Approved)
//	MDM server: https://mdm.example.com/mdm/server
//
// Both the DEP and the MDM enrollment lines are required, each once, with a
// value this parser knows; otherwise the output is unrecognised (localised
// output included) and enrollment is not confirmed. Other lines are ignored,
// so that a future macOS may add lines without breaking the check.
func parseProfilesStatus(out []byte) (profilesStatus, error) {
	var st profilesStatus
	if len(out) > maxOutputBytes {
		return st, fmt.Errorf("profiles output is %d bytes: %w", len(out), ErrUnrecognized)
	}
	if !utf8.Valid(out) {
		return st, fmt.Errorf("profiles output is not UTF-8: %w", ErrUnrecognized)
	}
	var sawDEP, sawMDM, sawServer bool
	for line := range strings.SplitSeq(string(out), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = normalise(key)
		value = strings.TrimSpace(value)
		switch key {
		case "enrolled via dep":
			if sawDEP {
				return st, fmt.Errorf("profiles printed %q twice: %w", "Enrolled via DEP", ErrUnrecognized)
			}
			sawDEP = true
			switch normalise(value) {
			case "yes":
				st.dep = true
			case "no":
			default:
				return st, fmt.Errorf("profiles printed Enrolled via DEP: %s: %w", shown(value), ErrUnrecognized)
			}
		case "mdm enrollment":
			if sawMDM {
				return st, fmt.Errorf("profiles printed %q twice: %w", "MDM enrollment", ErrUnrecognized)
			}
			sawMDM = true
			switch normalise(value) {
			case "yes (user approved)":
				st.mdm = mdmUserApproved
			case "yes":
				st.mdm = mdmLimited
			case "no":
				st.mdm = mdmNone
			default:
				return st, fmt.Errorf("profiles printed MDM enrollment: %s: %w", shown(value), ErrUnrecognized)
			}
		case "mdm server":
			if !sawServer {
				sawServer = true
				st.server = displayURL(value)
			}
		}
	}
	switch {
	case !sawDEP && !sawMDM:
		return st, fmt.Errorf("profiles printed neither %q nor %q (%s): %w",
			"Enrolled via DEP", "MDM enrollment", describeOutput(out), ErrUnrecognized)
	case !sawDEP:
		return st, fmt.Errorf("profiles did not print %q: %w", "Enrolled via DEP", ErrUnrecognized)
	case !sawMDM:
		return st, fmt.Errorf("profiles did not print %q: %w", "MDM enrollment", ErrUnrecognized)
	case st.dep && st.mdm == mdmNone:
		// Enrolled via DEP yet not enrolled: contradictory, so trust neither.
		return st, fmt.Errorf("profiles reports enrollment via DEP but no MDM enrollment: %w", ErrUnrecognized)
	}
	return st, nil
}

// finding turns a parsed status into the probe's answer. Only DEP and
// user-approved enrollments pass; see the package doc for why a limited
// enrollment does not.
func (st profilesStatus) finding() finding {
	server := ""
	if st.server != "" {
		server = "; server " + st.server
	}
	switch {
	case st.dep:
		return finding{managed: true, method: MethodMacOSDEP,
			detail: "enrolled via DEP (Automated Device Enrollment)" + server}
	case st.mdm == mdmUserApproved:
		return finding{managed: true, method: MethodMacOSUserApproved,
			detail: "MDM enrollment: Yes (User Approved)" + server}
	case st.mdm == mdmLimited:
		return finding{detail: "MDM enrollment is limited (not user approved)" + server +
			": approve the MDM profile in System Settings > Privacy & Security > Profiles, or ask IT"}
	default:
		return finding{detail: "this Mac is not enrolled in MDM"}
	}
}

// profilesProbe checks macOS MDM enrollment with the profiles tool.
func profilesProbe(run CommandRunner) probe {
	return probe{
		name: "macOS MDM enrollment",
		run: func(ctx context.Context) (finding, error) {
			out, err := run(ctx, profilesPath, "status", "-type", "enrollment")
			if err != nil {
				return finding{}, err
			}
			if out.ExitCode != 0 {
				return finding{}, fmt.Errorf("%s exited with status %d: %s",
					profilesPath, out.ExitCode, describeOutput(out.Stderr))
			}
			st, err := parseProfilesStatus(out.Stdout)
			if err != nil {
				return finding{}, fmt.Errorf("reading %s output: %w", profilesPath, err)
			}
			return st.finding(), nil
		},
	}
}

// normalise lower-cases s and collapses its runs of white space, so that
// "MDM  enrollment" and "Yes (user approved)" match.
func normalise(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// displayURL returns a URL fit to show: without any user information it
// might carry, and bounded in length.
func displayURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		u.User = nil
		s = u.String()
	}
	r := []rune(s)
	if len(r) > maxDetailValueRunes {
		s = string(r[:maxDetailValueRunes]) + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// describeOutput summarises a tool's output for an error message: its first
// non-empty line, bounded, or "no output".
func describeOutput(out []byte) string {
	for line := range bytes.SplitSeq(out, []byte("\n")) {
		if l := strings.TrimSpace(string(line)); l != "" {
			if !utf8.ValidString(l) {
				return "output that is not UTF-8"
			}
			return "first line " + shown(l)
		}
	}
	return "no output"
}
