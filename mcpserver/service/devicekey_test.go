package service_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/devicekey"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
	"github.com/scispot/mcp-desktop/mcpserver/service"
)

// A device key file the service cannot use is reported in status and
// left as it is: sessions still run, without checkpoints, and no new key
// appears that the admin never registered. A usable one is shown.
func TestDeviceKeyInStatus(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string // "" leaves no file: the service makes the key
	}{
		{"made at first start", ""},
		{"unusable file kept", "garbage that is not a key\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var keyFile string
			c, _ := start(t, localapi.ModeSystem, func(cfg *service.Config) {
				keyFile = devicekey.Path(cfg.StateDir)
				if tc.content != "" {
					os.MkdirAll(filepath.Dir(keyFile), 0o700)
					os.WriteFile(keyFile, []byte(tc.content), 0o600)
				}
			})
			st, err := c.Status(context.Background(), localapi.StatusRequest{})
			if err != nil {
				t.Fatal(err)
			}
			cs := mcpSession(t, c, localapi.MCPOptions{Demo: true})
			cs.Close()
			if tc.content == "" {
				if !strings.HasPrefix(st.DeviceKey, audit.SignerName(st.Device)) || st.DeviceKeyError != "" {
					t.Fatalf("device_key %q, error %q", st.DeviceKey, st.DeviceKeyError)
				}
				return
			}
			if st.DeviceKey != "" || !strings.Contains(st.DeviceKeyError, keyFile) || !strings.Contains(st.DeviceKeyError, "register the new key") {
				t.Fatalf("device_key %q, error %q", st.DeviceKey, st.DeviceKeyError)
			}
			if strings.Contains(st.DeviceKeyError, "garbage") {
				t.Fatalf("the error repeats the file's content: %q", st.DeviceKeyError)
			}
			if b, _ := os.ReadFile(keyFile); string(b) != tc.content {
				t.Fatal("the unusable key file was replaced")
			}
			recs, err := c.Records(context.Background(), localapi.RecordsQuery{})
			if err != nil || len(recs) == 0 {
				t.Fatalf("records: %v", err)
			}
			for _, r := range recs {
				if r.Event == audit.EventCheckpoint {
					t.Fatal("a checkpoint without a device key")
				}
			}
		})
	}
}
