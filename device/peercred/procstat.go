package peercred

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// procStat is what ParentPID needs from a Linux /proc/<pid>/stat line.
type procStat struct {
	PID   int
	Comm  string // the command name, without the parentheses
	State byte
	PPID  int
}

// parseStat parses the start of a Linux /proc/<pid>/stat line:
//
//	pid (comm) state ppid pgrp session …
//
// comm is the process's own name for itself: any process can set it
// (prctl PR_SET_NAME, or the name of the file it runs) to up to 15 bytes of
// anything but NUL, including spaces, parentheses and newlines. The kernel
// prints it between parentheses without escaping, so the line is split at
// the first '(' and the last ')': no field after comm can contain ')'.
//
// It lives in a file without build constraints so it is tested (and fuzzed)
// on every platform; it only ever runs on Linux.
func parseStat(b []byte) (procStat, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("no (comm) field")
	}
	var st procStat
	pidField, ok := bytes.CutSuffix(b[:open], []byte(" "))
	if !ok {
		return procStat{}, errors.New("no space between pid and (comm)")
	}
	var err error
	if st.PID, err = parseUint31(pidField); err != nil {
		return procStat{}, fmt.Errorf("pid field: %w", err)
	}
	st.Comm = string(b[open+1 : end])

	// After comm: " state ppid …". Only the two fields are needed; the rest
	// of the line (about 50 numbers) is not looked at.
	rest, ok := bytes.CutPrefix(b[end+1:], []byte(" "))
	if !ok {
		return procStat{}, errors.New("no space after (comm)")
	}
	state, rest, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(state) != 1 {
		return procStat{}, fmt.Errorf("state field %q is not one character", truncate(state))
	}
	st.State = state[0]
	ppidField, _, _ := bytes.Cut(rest, []byte(" "))
	ppidField = bytes.TrimSuffix(ppidField, []byte("\n"))
	if st.PPID, err = parseUint31(ppidField); err != nil {
		return procStat{}, fmt.Errorf("ppid field: %w", err)
	}
	return st, nil
}

// parseUint31 parses a non-negative decimal that fits an int32 (Linux pids
// are at most 2^22). Unlike strconv.Atoi it refuses signs, spaces and empty
// input.
func parseUint31(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errors.New("empty")
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", truncate(b))
		}
	}
	n, err := strconv.ParseInt(string(b), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", truncate(b))
	}
	return int(n), nil
}

// truncate keeps error messages about outside input short.
func truncate(b []byte) []byte {
	const maxLen = 32
	if len(b) > maxLen {
		return b[:maxLen]
	}
	return b
}
