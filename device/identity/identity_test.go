package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/denisbrodbeck/machineid"
)

// hmacHex is machineid's documented scheme, written out independently of
// the code under test.
func hmacHex(key, msg string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(msg))
	return hex.EncodeToString(mac.Sum(nil))
}

// hmacOf stands in for machineid.ProtectedID on a machine whose raw id is rawID.
func hmacOf(rawID string) func(string) (string, error) {
	return func(appID string) (string, error) { return hmacHex(rawID, appID), nil }
}

func TestProtectedID(t *testing.T) {
	const raw = "4c4c4544004d3510804cb4c04f4e4a32"
	rawErr := errors.New("machineid: Failed to extract 'IOPlatformUUID' value from `ioreg` output.\n" +
		`    "IOPlatformUUID" = "` + "8D4F1C2A-1111-2222-3333-444455556666" + `"`)
	tests := []struct {
		name    string
		source  func(string) (string, error)
		want    string
		wantErr error
	}{
		{name: "ok", source: hmacOf(raw), want: hmacHex(raw, AppID)},
		{name: "trailing newline", source: func(a string) (string, error) { s, _ := hmacOf(raw)(a); return s + "\n", nil }, want: hmacHex(raw, AppID)},
		{name: "empty machine id", source: hmacOf(""), wantErr: ErrNoMachineID},
		{name: "empty result", source: func(string) (string, error) { return "", nil }, wantErr: ErrNoMachineID},
		{name: "source error", source: func(string) (string, error) {
			return "", &fs.PathError{Op: "open", Path: "/etc/machine-id", Err: fs.ErrNotExist}
		}, wantErr: fs.ErrNotExist},
		{name: "raw id returned", source: func(string) (string, error) { return raw, nil }, wantErr: ErrUnexpectedID},
		{name: "guid returned", source: func(string) (string, error) { return "8D4F1C2A-1111-2222-3333-444455556666", nil }, wantErr: ErrUnexpectedID},
		{name: "upper-case hex", source: func(a string) (string, error) { s, _ := hmacOf(raw)(a); return strings.ToUpper(s), nil }, wantErr: ErrUnexpectedID},
		{name: "multi-line error", source: func(string) (string, error) { return "", rawErr }, wantErr: rawErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotAppID string
			got, err := ProtectedID(func(appID string) (string, error) {
				gotAppID = appID
				return tt.source(appID)
			})
			if gotAppID != "io.scispot.mcp" {
				t.Errorf("source called with app id %q", gotAppID)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("id = %q alongside an error", got)
				}
				for _, secret := range []string{raw, "8D4F1C2A"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q shows the raw machine id", err)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ProtectedID = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSourceErrorsAreNoMachineID(t *testing.T) {
	_, err := ProtectedID(func(string) (string, error) { return "", errors.New("ioreg failed") })
	if !errors.Is(err, ErrNoMachineID) || !strings.Contains(err.Error(), "ioreg failed") {
		t.Fatalf("err = %v", err)
	}
}

// The empty-id constant matches what machineid itself computes, so the
// check keeps working if the library's scheme is what it says it is.
func TestEmptyIDMatchesLibrary(t *testing.T) {
	if got, want := protectedIDOfEmpty(AppID), hmacHex("", AppID); got != want {
		t.Fatalf("protectedIDOfEmpty = %s, want %s", got, want)
	}
}

// DeviceID on this machine: stable across calls, in protected form, and
// not the raw id. Skipped where the OS has no machine id (some containers).
func TestDeviceID(t *testing.T) {
	id, err := DeviceID()
	if errors.Is(err, ErrNoMachineID) {
		t.Skipf("no machine id here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	again, err := DeviceID()
	if err != nil || again != id {
		t.Fatalf("second DeviceID = %q, %v; first %q", again, err, id)
	}
	if raw, err := machineid.ID(); err == nil && strings.Contains(id, strings.ToLower(raw)) {
		t.Fatal("DeviceID contains the raw machine id")
	}
}
