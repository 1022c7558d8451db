package clientpolicy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"howett.net/plist"

	"github.com/scispot/mcp-desktop/mcpserver/clientpolicy"
)

// The shipped examples an admin deploys instead of (or beside) the files
// the service keeps: Claude Code's and Claude Desktop's managed preferences
// (macOS) and policy registry keys (Windows).

var packagingDir = filepath.Join("..", "..", "packaging")

// The gateway each installer puts in place: the bundle's CLI on macOS
// (build-pkg.sh), the MSI's INSTALLDIR on Windows (scispot-mcp.wxs).
const (
	macGateway     = "/Applications/Scispot MCP.app/Contents/MacOS/scispot-mcp"
	windowsGateway = `C:\Program Files\Scispot MCP\scispot-mcp.exe`
)

func readPackaging(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(packagingDir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// forcedSettings parses a configuration profile and returns the forced
// managed preferences of its one com.apple.ManagedClient.preferences
// payload for domain.
func forcedSettings(t *testing.T, rel, domain string) map[string]any {
	t.Helper()
	var profile struct {
		PayloadType       string
		PayloadIdentifier string
		PayloadUUID       string
		PayloadScope      string
		PayloadContent    []struct {
			PayloadType    string
			PayloadUUID    string
			PayloadContent map[string]struct {
				Forced []struct {
					Settings map[string]any `plist:"mcx_preference_settings"`
				}
			}
		}
	}
	format, err := plist.Unmarshal(readPackaging(t, rel), &profile)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if format != plist.XMLFormat || profile.PayloadType != "Configuration" || profile.PayloadScope != "System" {
		t.Fatalf("%s: format %d, PayloadType %q, scope %q: want an XML device-level Configuration profile", rel, format, profile.PayloadType, profile.PayloadScope)
	}
	if profile.PayloadIdentifier == "" || profile.PayloadUUID == "" {
		t.Errorf("%s: lacks PayloadIdentifier or PayloadUUID", rel)
	}
	if len(profile.PayloadContent) != 1 {
		t.Fatalf("%s: %d payloads, want 1", rel, len(profile.PayloadContent))
	}
	p := profile.PayloadContent[0]
	if p.PayloadType != "com.apple.ManagedClient.preferences" || p.PayloadUUID == "" {
		t.Fatalf("%s: payload type %q, UUID %q", rel, p.PayloadType, p.PayloadUUID)
	}
	if p.PayloadUUID == profile.PayloadUUID {
		t.Errorf("%s: the profile and its payload share a UUID", rel)
	}
	d, ok := p.PayloadContent[domain]
	if !ok || len(p.PayloadContent) != 1 || len(d.Forced) != 1 {
		t.Fatalf("%s: want exactly domain %s with one Forced entry, got %#v", rel, domain, p.PayloadContent)
	}
	return d.Forced[0].Settings
}

// viaJSON gives v's JSON form decoded again, so that plist, registry and
// file values compare alike.
func viaJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// serviceDeny is the deniedMcpServers list the service keeps with the
// default UpstreamURL.
func serviceDeny(t *testing.T) any {
	var entries []map[string]string
	for _, p := range clientpolicy.Patterns("https://mcp.scispot.io/") {
		entries = append(entries, map[string]string{"serverUrl": p})
	}
	return viaJSON(t, entries)
}

func gatewayServer(t *testing.T, command string) any {
	return viaJSON(t, []map[string]any{{
		"name": "scispot", "transport": "stdio", "command": command, "args": []string{"serve"},
	}})
}

func TestMacClaudeCodeProfile(t *testing.T) {
	s := forcedSettings(t, "macos/com.anthropic.claudecode.mobileconfig", "com.anthropic.claudecode")
	want := map[string]any{clientpolicy.Key: serviceDeny(t)}
	if diff := cmp.Diff(want, viaJSON(t, s)); diff != "" {
		t.Errorf("forced settings (-want +profile):\n%s", diff)
	}
}

func TestMacClaudeDesktopProfile(t *testing.T) {
	s := forcedSettings(t, "macos/com.anthropic.claudefordesktop.mobileconfig", "com.anthropic.claudefordesktop")
	want := map[string]any{"managedMcpServers": gatewayServer(t, macGateway)}
	if diff := cmp.Diff(want, viaJSON(t, s)); diff != "" {
		t.Errorf("forced settings (-want +profile):\n%s", diff)
	}
	if !strings.Contains(string(readPackaging(t, "macos/build-pkg.sh")), `"$app/Contents/MacOS/scispot-mcp"`) {
		t.Errorf("build-pkg.sh no longer installs the gateway at %s", macGateway)
	}
}

// regValues reads a .reg file as regedit imports it: the version 5 header,
// [key] lines and "name"="string" values (backslash escapes \\ and \"),
// ';' comments. It accepts nothing else, so an example with another value
// type or a stray line fails here rather than on an admin's PC.
func regValues(b []byte) (map[string]map[string]string, error) {
	// regedit reads ANSI or UTF-16LE with a BOM; these are ASCII, so an
	// editor's re-encoding cannot change them.
	for i, c := range b {
		if c >= 0x80 || c == 0 {
			return nil, fmt.Errorf("byte %d is %#x: the examples are plain ASCII", i, c)
		}
	}
	text := string(b)
	if !strings.HasSuffix(text, "\r\n") || strings.Count(text, "\n") != strings.Count(text, "\r\n") {
		return nil, fmt.Errorf("want CRLF line ends throughout (Windows' own)")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
	if lines[0] != "Windows Registry Editor Version 5.00" {
		return nil, fmt.Errorf("first line %q, want the version 5.00 header", lines[0])
	}
	out := map[string]map[string]string{}
	var key string
	for n, l := range lines[1:] {
		switch {
		case l == "" || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			key = l[1 : len(l)-1]
			out[key] = map[string]string{}
		case key != "" && strings.HasPrefix(l, `"`):
			name, rest, ok := strings.Cut(l[1:], `"="`)
			if !ok || !strings.HasSuffix(rest, `"`) {
				return nil, fmt.Errorf("line %d: want \"name\"=\"string\"", n+2)
			}
			v, err := regUnquote(rest[:len(rest)-1])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n+2, err)
			}
			out[key][name] = v
		default:
			return nil, fmt.Errorf("line %d: %q is not a key, value or comment", n+2, l)
		}
	}
	return out, nil
}

func regUnquote(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			return "", fmt.Errorf("unescaped quote at %d", i)
		case '\\':
			if i+1 == len(s) || (s[i+1] != '\\' && s[i+1] != '"') {
				return "", fmt.Errorf("lone backslash at %d", i)
			}
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

func TestRegValues(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", "Windows Registry Editor Version 5.00\r\n\r\n; c\r\n[HKEY_LOCAL_MACHINE\\X]\r\n\"a\"=\"\\\\ \\\"\"\r\n", true},
		{"LF only", "Windows Registry Editor Version 5.00\n[HKEY_LOCAL_MACHINE\\X]\n", false},
		{"REGEDIT4", "REGEDIT4\r\n", false},
		{"UTF-16", "\xff\xfeW\x00\r\n", false},
		{"lone backslash", "Windows Registry Editor Version 5.00\r\n[K]\r\n\"a\"=\"C:\\x\"\r\n", false},
		{"dword", "Windows Registry Editor Version 5.00\r\n[K]\r\n\"a\"=dword:00000001\r\n", false},
		{"value before key", "Windows Registry Editor Version 5.00\r\n\"a\"=\"b\"\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := regValues([]byte(tt.in)); (err == nil) != tt.ok {
				t.Errorf("err = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestWindowsRegExamples(t *testing.T) {
	tests := []struct {
		file, key, value string
		want             func(t *testing.T) any
	}{
		{"windows/ClaudeCode.reg", `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\ClaudeCode`, "Settings",
			func(t *testing.T) any { return map[string]any{clientpolicy.Key: serviceDeny(t)} }},
		{"windows/Claude.reg", `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Claude`, "managedMcpServers",
			func(t *testing.T) any { return gatewayServer(t, windowsGateway) }},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			values, err := regValues(readPackaging(t, tt.file))
			if err != nil {
				t.Fatalf("%s: %v", tt.file, err)
			}
			if len(values) != 1 || len(values[tt.key]) != 1 {
				t.Fatalf("%s: want only %s\\%s, got %v", tt.file, tt.key, tt.value, values)
			}
			raw, ok := values[tt.key][tt.value]
			if !ok {
				t.Fatalf("%s: no value %s", tt.file, tt.value)
			}
			var got any
			dec := json.NewDecoder(strings.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("%s: %s is not JSON: %v", tt.file, tt.value, err)
			}
			if diff := cmp.Diff(tt.want(t), got); diff != "" {
				t.Errorf("%s (-want +file):\n%s", tt.value, diff)
			}
		})
	}
	if wxs := readPackaging(t, "windows/scispot-mcp.wxs"); !bytes.Contains(wxs, []byte(`<Directory Id="INSTALLDIR" Name="Scispot MCP">`)) ||
		!bytes.Contains(wxs, []byte(`Name="scispot-mcp.exe"`)) {
		t.Errorf("the MSI no longer installs the gateway at %s", windowsGateway)
	}
}
