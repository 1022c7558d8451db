package codesign

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
)

// notSigned is how codesign says an executable has no signature
// ("PATH: code object is not signed at all", exit status 1).
const notSigned = ": code object is not signed at all"

// errNoSigner means codesign's output named no signer and did not say the
// file was unsigned either.
var errNoSigner = errors.New("codesign reported no signer")

// parseCodesign reads what `codesign -dv --verbose=2 PATH` wrote to stderr
// and whether it exited with status 0.
//
// A signed file gives status 0 and "Key=value" lines, in this order for
// the keys read here: Executable, Identifier, ..., "Signature size=N" then
// one Authority per certificate of the chain, leaf first (or, for a
// signature without an identity, "Signature=adhoc"), ..., TeamIdentifier
// ("not set" for Apple's own and ad-hoc signed code). An unsigned file
// gives status 1 and "PATH: code object is not signed at all"; anything
// else with a non-zero status is an error.
//
// Identifier and the path come from the file and may contain line breaks,
// so forged lines could come before the real ones: the signer is the first
// Authority of the last block of them right after "Signature size=", and
// the last TeamIdentifier is the one that counts.
func parseCodesign(stderr []byte, exitOK bool) (sig, error) {
	if !exitOK {
		for _, line := range strings.Split(string(stderr), "\n") {
			if strings.HasSuffix(strings.TrimSpace(line), notSigned) {
				return sig{unsigned: true}, nil
			}
		}
		return sig{}, errors.New("codesign failed: " + firstLine(stderr))
	}
	var (
		s       sig
		inChain bool // in the Authority lines after "Signature size="
		first   bool // the next Authority is the first of its block
	)
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	for sc.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			inChain = false
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "Signature size":
			inChain, first = true, true
			continue
		case "Authority":
			if inChain && first {
				s.name, first = val, false
			}
			continue // the rest of the chain
		case "Signature":
			if val == "adhoc" {
				s.adhoc = true
			}
		case "TeamIdentifier":
			s.team = val
			if val == "not set" {
				s.team = ""
			}
		}
		inChain = false
	}
	if err := sc.Err(); err != nil {
		return sig{}, err
	}
	if s.name == "" && s.team == "" && !s.adhoc {
		return sig{}, errNoSigner
	}
	return s, nil
}

// firstLine is the first non-empty line of b, for an error message.
func firstLine(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return "no output"
}
