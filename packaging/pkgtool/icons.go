package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
)

// IconSizes are the square sizes written as icon-N.png: the hicolor theme
// sizes desktops look for, which are also the sizes a Windows .ico needs.
var IconSizes = []int{16, 24, 32, 48, 64, 128, 256}

// errNotSquare is returned for a source icon that is not square.
var errNotSquare = errors.New("icon is not square")

// writeIcons writes icon-N.png for every size and icon.ico into dir, from
// src or, when src does not exist, from a drawn placeholder (reported by
// the first result so the build can say so).
func writeIcons(src, dir string) (placeholder bool, err error) {
	img, err := loadIcon(src)
	if errors.Is(err, fs.ErrNotExist) {
		img, placeholder = drawPlaceholder(256), true
	} else if err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return placeholder, fmt.Errorf("creating icon directory: %w", err)
	}
	var pngs [][]byte
	for _, n := range IconSizes {
		var buf bytes.Buffer
		if err := png.Encode(&buf, scale(img, n)); err != nil {
			return placeholder, fmt.Errorf("encoding %dpx icon: %w", n, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("icon-%d.png", n)), buf.Bytes(), 0o644); err != nil {
			return placeholder, fmt.Errorf("writing %dpx icon: %w", n, err)
		}
		pngs = append(pngs, buf.Bytes())
	}
	ico, err := encodeICO(IconSizes, pngs)
	if err != nil {
		return placeholder, err
	}
	if err := os.WriteFile(filepath.Join(dir, "icon.ico"), ico, 0o644); err != nil {
		return placeholder, fmt.Errorf("writing icon.ico: %w", err)
	}
	return placeholder, nil
}

func loadIcon(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening icon: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decoding icon %s: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() == 0 {
		return nil, fmt.Errorf("icon %s is %dx%d: %w", path, b.Dx(), b.Dy(), errNotSquare)
	}
	return img, nil
}

// scale resizes a square image to n×n by averaging, in premultiplied
// alpha, the source area each output pixel covers (a box filter: sharp
// enough for icons, and exact for whole-number factors).
func scale(src image.Image, n int) *image.NRGBA {
	b := src.Bounds()
	s := float64(b.Dx()) / float64(n)
	dst := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		y0, y1 := float64(y)*s, float64(y+1)*s
		for x := 0; x < n; x++ {
			x0, x1 := float64(x)*s, float64(x+1)*s
			var r, g, bl, a, w float64
			for sy := int(y0); float64(sy) < y1; sy++ {
				wy := overlap(float64(sy), y0, y1)
				for sx := int(x0); float64(sx) < x1; sx++ {
					wt := wy * overlap(float64(sx), x0, x1)
					cr, cg, cb, ca := src.At(b.Min.X+sx, b.Min.Y+sy).RGBA() // premultiplied
					r += wt * float64(cr)
					g += wt * float64(cg)
					bl += wt * float64(cb)
					a += wt * float64(ca)
					w += wt
				}
			}
			if a == 0 {
				continue
			}
			dst.SetNRGBA(x, y, color.NRGBA{
				R: unpremul(r, a), G: unpremul(g, a), B: unpremul(bl, a),
				A: uint8(a/w/257 + 0.5),
			})
		}
	}
	return dst
}

// overlap is how much of the unit pixel starting at p lies inside [lo, hi).
func overlap(p, lo, hi float64) float64 {
	return max(0, min(p+1, hi)-max(p, lo))
}

func unpremul(c, a float64) uint8 {
	return uint8(min(255, c/a*255+0.5))
}

// drawPlaceholder draws a plain teal rounded square, used only when the
// repository has no assets/icon.png.
func drawPlaceholder(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	teal := color.NRGBA{R: 0x0f, G: 0x76, B: 0x6e, A: 0xff}
	r := n / 6
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			cx := min(max(x, r), n-1-r)
			cy := min(max(y, r), n-1-r)
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
				img.SetNRGBA(x, y, teal)
			}
		}
	}
	return img
}

// encodeICO builds a .ico whose images are PNGs, which Windows reads since
// Vista and which keeps 256px icons small.
func encodeICO(sizes []int, pngs [][]byte) ([]byte, error) {
	if len(sizes) != len(pngs) || len(sizes) == 0 {
		return nil, errors.New("encoding icon.ico: one PNG per size is needed")
	}
	var buf bytes.Buffer
	le := binary.LittleEndian
	_ = binary.Write(&buf, le, [3]uint16{0, 1, uint16(len(sizes))}) // reserved, type icon, count
	offset := 6 + 16*len(sizes)
	for i, n := range sizes {
		dim := uint8(n)
		if n >= 256 {
			dim = 0 // 0 means 256 in an ICONDIRENTRY
		}
		_ = binary.Write(&buf, le, struct {
			W, H, Colors, Reserved uint8
			Planes, BitCount       uint16
			Size, Offset           uint32
		}{dim, dim, 0, 0, 1, 32, uint32(len(pngs[i])), uint32(offset)})
		offset += len(pngs[i])
	}
	for _, p := range pngs {
		buf.Write(p)
	}
	return buf.Bytes(), nil
}
