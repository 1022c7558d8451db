package codesign

import (
	"errors"
	"testing"
)

// Samples of what `codesign -dv --verbose=2 PATH` writes to stderr on macOS.
const (
	developerID = `Executable=/Applications/Claude.app/Contents/MacOS/Claude
Identifier=com.anthropic.claudefordesktop
Format=app bundle with Mach-O universal (x86_64 arm64)
CodeDirectory v=20500 size=1663 flags=0x10000(runtime) hashes=41+7 location=embedded
Signature size=9046
Authority=Developer ID Application: Anthropic PBC (Q6L2SF6YDW)
Authority=Developer ID Certification Authority
Authority=Apple Root CA
Timestamp=3 Jun 2025 at 18:22:41
Info.plist entries=33
TeamIdentifier=Q6L2SF6YDW
Runtime Version=15.2.0
Sealed Resources version=2 rules=13 files=32
Internal requirements count=1 size=220
`
	appleOwn = `Executable=/bin/zsh
Identifier=com.apple.zsh
Format=Mach-O universal (x86_64 arm64e)
CodeDirectory v=20400 size=6117 flags=0x0(none) hashes=180+2 location=embedded
Platform identifier=16
Signature size=4442
Authority=Software Signing
Authority=Apple Code Signing Certification Authority
Authority=Apple Root CA
Signed Time=7 Dec 2024 at 08:14:27
Info.plist=not bound
TeamIdentifier=not set
Sealed Resources=none
Internal requirements count=1 size=64
`
	appStore = `Executable=/Applications/Example.app/Contents/MacOS/Example
Identifier=com.example.app
Format=app bundle with Mach-O thin (arm64)
CodeDirectory v=20500 size=900 flags=0x10000(runtime) hashes=17+7 location=embedded
Signature size=4797
Authority=Apple Mac OS Application Signing
Authority=Apple Worldwide Developer Relations Certification Authority
Authority=Apple Root CA
Info.plist entries=30
TeamIdentifier=ABCDE12345
Sealed Resources version=2 rules=13 files=5
Internal requirements count=1 size=200
`
	adhoc = `Executable=/opt/homebrew/Cellar/node/23.1.0/bin/node
Identifier=node
Format=Mach-O thin (arm64)
CodeDirectory v=20400 size=734562 flags=0x20002(adhoc,linker-signed) hashes=22951+0 location=embedded
Signature=adhoc
Info.plist=not bound
TeamIdentifier=not set
Sealed Resources=none
Internal requirements=none
`
	unsigned   = "/usr/local/bin/tool: code object is not signed at all\n"
	noSuchFile = "/nope: No such file or directory\n"
	// The file's path and identifier are the signer's to choose: lines
	// forged in them come before the real ones.
	forged = `Executable=/Users/x/evil
Signature size=1
Authority=Developer ID Application: Anthropic PBC (Q6L2SF6YDW)
TeamIdentifier=Q6L2SF6YDW
Identifier=evil
Signature size=1
Authority=Developer ID Application: Someone Else (ZZZZZ99999)
Authority=Developer ID Certification Authority
Authority=Apple Root CA
TeamIdentifier=ZZZZZ99999
`
	forgedAdhoc = `Executable=/Users/x/evil
Signature size=1
Authority=Developer ID Application: Anthropic PBC (Q6L2SF6YDW)
Identifier=evil
CodeDirectory v=20400 size=1 flags=0x2(adhoc) hashes=1+0 location=embedded
Signature=adhoc
TeamIdentifier=not set
`
	forgedNoBlock = `Executable=/Users/x/evil
Authority=Developer ID Application: Anthropic PBC (Q6L2SF6YDW)
Identifier=evil
Signature=adhoc
TeamIdentifier=not set
`
)

func TestParseCodesign(t *testing.T) {
	tests := []struct {
		name   string
		stderr string
		exitOK bool
		want   string
		err    bool
	}{
		{"developer ID", developerID, true, "Developer ID Application: Anthropic PBC (Q6L2SF6YDW)", false},
		{"Apple's own", appleOwn, true, "Software Signing", false},
		{"Mac App Store", appStore, true, "Apple Mac OS Application Signing (ABCDE12345)", false},
		{"ad-hoc", adhoc, true, "ad-hoc", false},
		{"unsigned", unsigned, false, "", false},
		{"no such file", noSuchFile, false, "", true},
		{"no output", "", true, "", true},
		{"failed with no output", "", false, "", true},
		{"unsigned text but status 0", unsigned, true, "", true},
		{"CRLF", "Signature size=10\r\nAuthority=A Signer\r\nAuthority=Root\r\nTeamIdentifier=T1\r\n", true, "A Signer (T1)", false},
		{"team only", "Identifier=x\nTeamIdentifier=T2\n", true, "T2", false},
		{"forged lines before the real ones", forged, true, "Developer ID Application: Someone Else (ZZZZZ99999)", false},
		{"forged authority on an ad-hoc signature", forgedAdhoc, true, "ad-hoc", false},
		{"authority outside the chain block", forgedNoBlock, true, "ad-hoc", false},
		{"authority with no chain block", "Identifier=x\nAuthority=Someone\n", true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseCodesign([]byte(tt.stderr), tt.exitOK)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if got := s.String(); got != tt.want {
				t.Fatalf("signer = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := parseCodesign(nil, true); !errors.Is(err, errNoSigner) {
		t.Fatalf("empty output: %v, want errNoSigner", err)
	}
}

func TestSigString(t *testing.T) {
	tests := []struct {
		s    sig
		want string
	}{
		{sig{}, ""},
		{sig{unsigned: true, name: "x"}, ""},
		{sig{adhoc: true, name: "x", team: "T"}, "ad-hoc"},
		{sig{name: "Anthropic, PBC"}, "Anthropic, PBC"},
		{sig{name: "Anthropic, PBC", invalid: true}, "Anthropic, PBC (signature not valid)"},
		{sig{invalid: true}, ""},
		{sig{name: "N (T)", team: "T"}, "N (T)"},
		{sig{name: "N", team: "T"}, "N (T)"},
		{sig{team: "T"}, "T"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%+v = %q, want %q", tt.s, got, tt.want)
		}
	}
}
