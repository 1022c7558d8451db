package policy

import (
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/scispot/mcp-desktop/device/codesign"
)

// ExecutableAllowed reports whether exe, the absolute path of the program
// that launched serve as the kernel names it, matches one of the
// AllowedClientExecutables globs. An empty exe (the launcher could not be
// read) matches nothing.
//
// A glob is matched as doublestar does: '*' and '?' stay within one path
// element, '**' crosses elements, '[…]' and '{a,b}' as usual. A Windows
// glob (a drive letter or \\server\share) is matched with either slash
// and without regard to case, as Windows names files; a Unix glob is
// matched exactly, so a copy under another case on a case-insensitive
// macOS volume is refused rather than admitted.
func ExecutableAllowed(globs []string, exe string) bool {
	if exe == "" {
		return false
	}
	for _, g := range globs {
		pattern, path := g, exe
		if isWindowsGlob(g) {
			pattern, path = windowsForm(g), windowsForm(exe)
		}
		if ok, err := doublestar.Match(pattern, path); err == nil && ok {
			return true
		}
	}
	return false
}

// isWindowsGlob reports whether g is a Windows path glob: C:\… or
// \\server\share\….
func isWindowsGlob(g string) bool {
	return isWindowsAbs(g) || strings.HasPrefix(g, `\\`)
}

// windowsForm is a Windows path with forward slashes, in lower case, so
// that globs and paths compare as Windows compares them. Backslash is the
// separator there, never an escape.
func windowsForm(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, `\`, "/"))
}

// checkExecutableGlobs accepts absolute path globs (Unix or Windows) that
// doublestar can match. The policy may be checked on another system than
// the one it is for, so both forms are accepted everywhere.
func checkExecutableGlobs(v any) string {
	for i, g := range v.([]string) {
		switch {
		case strings.TrimSpace(g) == "":
			return fmt.Sprintf("item %d is empty (give an absolute path glob such as \"/usr/bin/claude\")", i+1)
		case strings.ContainsFunc(g, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return fmt.Sprintf("item %d contains control characters", i+1)
		case isWindowsGlob(g):
			if !doublestar.ValidatePattern(windowsForm(g)) {
				return fmt.Sprintf("item %d (%q) is not a valid path glob (unbalanced [ ] or { })", i+1, g)
			}
		case !strings.HasPrefix(g, "/"):
			return fmt.Sprintf("item %d (%q) must be an absolute path glob, such as \"/usr/bin/claude\", \"/Applications/Claude.app/**\" or \"C:\\\\Program Files\\\\Claude\\\\*.exe\"", i+1, g)
		case !doublestar.ValidatePattern(g):
			return fmt.Sprintf("item %d (%q) is not a valid path glob (unbalanced [ ] or { }, or a trailing \\)", i+1, g)
		}
	}
	return ""
}

// SignerAllowed reports whether signer, the code signer of the launching
// program as package codesign records it, is one of AllowedClientSigners
// (codesign.SignerMatches). No signer, an ad-hoc signature and a
// signature that did not verify match nothing.
func SignerAllowed(entries []string, signer string) bool {
	for _, e := range entries {
		if codesign.SignerMatches(e, signer) {
			return true
		}
	}
	return false
}

func checkSigners(v any) string {
	for i, e := range v.([]string) {
		if msg := codesign.CheckEntry(e); msg != "" {
			return fmt.Sprintf("item %d %s", i+1, msg)
		}
	}
	return ""
}
