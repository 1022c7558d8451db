package validation

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processOwner names the account process pid runs as, from /proc.
func processOwner(pid int) (string, error) {
	fi, err := os.Stat("/proc/" + strconv.Itoa(pid))
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("no owner information for process %d", pid)
	}
	return "uid " + strconv.Itoa(int(st.Uid)), nil
}

// osVersion is os-release's PRETTY_NAME.
func osVersion() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// Where the Linux package (packaging/package.sh) installs what IQ checks.
const (
	// DefaultSums lists every file the package installs but the conffiles
	// (IQ-01).
	DefaultSums = "/usr/share/scispot-mcp/SHA256SUMS"
	// DefaultSBOM is the release's CycloneDX SBOM (IQ-09).
	DefaultSBOM = "/usr/share/doc/scispot-mcp/sbom.cdx.json"
	// DefaultServiceUnit is the service's systemd unit, and
	// DefaultServiceLink the symlink enabling it (its WantedBy=) (IQ-10).
	DefaultServiceUnit = "/usr/lib/systemd/system/scispot-mcpd.service"
	DefaultServiceLink = "/etc/systemd/system/multi-user.target.wants/scispot-mcpd.service"
	// DefaultAutostart is the tray's XDG autostart entry (IQ-11).
	DefaultAutostart = "/etc/xdg/autostart/io.scispot.mcp.desktop"
)
