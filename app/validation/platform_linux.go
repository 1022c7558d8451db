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

// DefaultSums is the SHA256SUMS the Linux package installs.
const DefaultSums = "/usr/share/scispot-mcp/SHA256SUMS"
