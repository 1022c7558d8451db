package codesign

import (
	"fmt"
	"strings"
)

// SignerMatches reports whether entry, an admin's allowed signer, names
// signer as String records it. entry is either a macOS Team ID, which
// matches the "(TEAMID)" a Developer ID signer ends with (or a signer that
// is only a Team ID), or a whole signer name such as a Windows publisher
// ("Anthropic, PBC") or a macOS authority, compared without regard to
// case. An empty signer, an ad-hoc signature and a Windows signature that
// did not verify never match: none of them names who made the program.
func SignerMatches(entry, signer string) bool {
	entry = strings.TrimSpace(entry)
	if entry == "" || signer == "" || signer == AdHoc || strings.HasSuffix(signer, invalidSuffix) {
		return false
	}
	if strings.EqualFold(entry, signer) {
		return true
	}
	// Team IDs are upper-case as Apple issues them: exact, never folded.
	return strings.HasSuffix(signer, " ("+entry+")")
}

// CheckEntry says what is wrong with an allowed-signer entry, phrased to
// follow "item N", or "" when it can match a signer.
func CheckEntry(entry string) string {
	t := strings.TrimSpace(entry)
	switch {
	case t == "":
		return "is empty (give a macOS Team ID such as \"Q6L2SF6YDW\" or a Windows publisher such as \"Anthropic, PBC\")"
	case strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "contains control characters"
	case strings.EqualFold(t, AdHoc):
		return fmt.Sprintf("is %q, which names no one: an ad-hoc signature can be made by anybody", AdHoc)
	case strings.HasSuffix(t, invalidSuffix):
		return "names a signature that did not verify, which never matches"
	}
	return ""
}
