package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestScale(t *testing.T) {
	// A 4x4 image whose left half is opaque red and right half transparent:
	// halving it must give an opaque red left column and a clear right one,
	// with no dark fringe from averaging unpremultiplied colours.
	src := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 2; x++ {
			src.SetNRGBA(x, y, color.NRGBA{R: 255, A: 255})
		}
		for x := 2; x < 4; x++ {
			src.SetNRGBA(x, y, color.NRGBA{G: 255, A: 0})
		}
	}
	tests := []struct {
		name string
		n    int
		x, y int
		want color.NRGBA
	}{
		{"half, opaque side", 2, 0, 0, color.NRGBA{R: 255, A: 255}},
		{"half, clear side", 2, 1, 1, color.NRGBA{}},
		{"one pixel: half covered, still pure red", 1, 0, 0, color.NRGBA{R: 255, A: 128}},
		{"same size", 4, 1, 3, color.NRGBA{R: 255, A: 255}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := scale(src, tc.n)
			if b := got.Bounds(); b.Dx() != tc.n || b.Dy() != tc.n {
				t.Fatalf("size %v, want %dx%d", b, tc.n, tc.n)
			}
			if c := got.NRGBAAt(tc.x, tc.y); c != tc.want {
				t.Errorf("pixel (%d,%d) = %v, want %v", tc.x, tc.y, c, tc.want)
			}
		})
	}
}

func TestWriteIcons(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "icon.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, drawPlaceholder(96)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		src             string
		wantPlaceholder bool
	}{
		{"from the source icon", src, false},
		{"placeholder when missing", filepath.Join(dir, "missing.png"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			placeholder, err := writeIcons(tc.src, out)
			if err != nil {
				t.Fatal(err)
			}
			if placeholder != tc.wantPlaceholder {
				t.Errorf("placeholder = %v, want %v", placeholder, tc.wantPlaceholder)
			}
			for _, n := range IconSizes {
				f, err := os.Open(filepath.Join(out, fmt.Sprintf("icon-%d.png", n)))
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := png.DecodeConfig(f)
				f.Close()
				if err != nil || cfg.Width != n || cfg.Height != n {
					t.Errorf("icon-%d.png: %dx%d, %v", n, cfg.Width, cfg.Height, err)
				}
			}
			checkICO(t, filepath.Join(out, "icon.ico"))
		})
	}
}

// checkICO reads the ICONDIR and every entry's PNG back.
func checkICO(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint16(b[0:]) != 0 || le.Uint16(b[2:]) != 1 || int(le.Uint16(b[4:])) != len(IconSizes) {
		t.Fatalf("ICO header % x", b[:6])
	}
	for i, n := range IconSizes {
		e := b[6+16*i:]
		w := int(e[0])
		if w == 0 {
			w = 256
		}
		size, off := le.Uint32(e[8:]), le.Uint32(e[12:])
		cfg, err := png.DecodeConfig(bytes.NewReader(b[off : off+size]))
		if w != n || err != nil || cfg.Width != n {
			t.Errorf("entry %d: width %d, png %dx%d, %v; want %d", i, w, cfg.Width, cfg.Height, err, n)
		}
	}
}

func TestLoadIconNotSquare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wide.png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewNRGBA(image.Rect(0, 0, 4, 2))); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := writeIcons(path, t.TempDir()); !errors.Is(err, errNotSquare) {
		t.Errorf("err = %v, want errNotSquare", err)
	}
}

func TestNameGUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)
	a, b := nameGUID("scispot-mcp msi 1.0.0 abc"), nameGUID("scispot-mcp msi 1.0.1 abc")
	if !re.MatchString(a) || !re.MatchString(b) {
		t.Errorf("not version-5 GUIDs: %s %s", a, b)
	}
	if a == b {
		t.Error("two versions got the same GUID")
	}
	if again := nameGUID("scispot-mcp msi 1.0.0 abc"); again != a {
		t.Errorf("not stable: %s then %s", a, again)
	}
}

func TestNormaliseSBOM(t *testing.T) {
	in := `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:1","version":1,
	  "metadata":{"timestamp":"2026-01-01T00:00:00Z","component":{"name":"x"}},"components":[{"name":"a<b"}]}`
	out, err := normaliseSBOM([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["serialNumber"]; ok {
		t.Error("serialNumber kept")
	}
	if _, ok := doc["metadata"].(map[string]any)["timestamp"]; ok {
		t.Error("timestamp kept")
	}
	if !strings.Contains(string(out), `"a<b"`) || !strings.Contains(string(out), `"version": 1`) {
		t.Errorf("content changed:\n%s", out)
	}
	again, err := normaliseSBOM(out)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("not idempotent: %v", err)
	}
	for _, bad := range []string{``, `[]`, `{"bomFormat":"SPDX"}`, `{`} {
		if _, err := normaliseSBOM([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := normaliseSBOM([]byte(`{"bomFormat":"SPDX"}`)); !errors.Is(err, errNotCycloneDX) {
		t.Errorf("err = %v, want errNotCycloneDX", err)
	}
}

// TestSBOMVersion: `sbom -version V` names V as the application's version
// (what validate's IQ-09 compares with the running scispot-mcp), and an
// SBOM without a main component is refused rather than left unnamed.
func TestSBOMVersion(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, in, version, want, wantErr string
	}{
		{name: "stamped", in: `{"bomFormat":"CycloneDX","metadata":{"component":{"name":"github.com/scispot/mcp-desktop"}}}`,
			version: "v1.2.3-4-gabc", want: `"version": "v1.2.3-4-gabc"`},
		{name: "replaces the tag's", in: `{"bomFormat":"CycloneDX","metadata":{"component":{"name":"m","version":"v1.2.2"}}}`,
			version: "v1.2.3", want: `"version": "v1.2.3"`},
		{name: "no version asked", in: `{"bomFormat":"CycloneDX","metadata":{"component":{"name":"m"}}}`,
			want: `"name": "m"`},
		{name: "no main component", in: `{"bomFormat":"CycloneDX","metadata":{}}`, version: "v1", wantErr: "no main component"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strconv.Itoa(i)+".json")
			if err := os.WriteFile(p, []byte(tt.in), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{"sbom", p}
			if tt.version != "" {
				args = []string{"sbom", "-version", tt.version, p}
			}
			err := run(t.Context(), args, io.Discard, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			out, _ := os.ReadFile(p)
			if err != nil || !strings.Contains(string(out), tt.want) {
				t.Fatalf("err %v, SBOM:\n%s\nwant %s", err, out, tt.want)
			}
		})
	}
}

func FuzzNormaliseSBOM(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX","serialNumber":"urn:uuid:1","metadata":{"timestamp":"t"}}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","metadata":[]}`))
	f.Add([]byte(`{"bomFormat":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := normaliseSBOM(in)
		if err != nil {
			return
		}
		again, err := normaliseSBOM(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Errorf("not idempotent: %v\n%s\n%s", err, out, again)
		}
	})
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"guid"}, {"sbom"}, {"icons"}} {
		if err := run(t.Context(), args, io.Discard, io.Discard); !errors.Is(err, errUsage) {
			t.Errorf("run(%q) = %v, want errUsage", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"guid", "a", "b"}, &out, io.Discard); err != nil || strings.Count(out.String(), "\n") != 2 {
		t.Errorf("guid a b: %q, %v", out.String(), err)
	}
}
