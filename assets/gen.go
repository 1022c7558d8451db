//go:build ignore

// gen draws the app and tray icons. Run `go generate ./assets` after
// changing it; the PNGs are committed so builds need no generator.
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
)

// shape reports whether point (x, y), in units of the icon's size (0..1),
// is inside.
type shape func(x, y float64) bool

type layer struct {
	c color.NRGBA
	s shape
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

func ring(cx, cy, r, w float64) shape {
	return func(x, y float64) bool {
		d := math.Hypot(x-cx, y-cy)
		return d <= r && d >= r-w
	}
}

func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

// segment is a thick line with round caps.
func segment(ax, ay, bx, by, w float64) shape {
	return func(x, y float64) bool {
		dx, dy := bx-ax, by-ay
		t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
		t = math.Max(0, math.Min(1, t))
		px, py := ax+t*dx, ay+t*dy
		return math.Hypot(x-px, y-py) <= w/2
	}
}

// molecule is the Scispot mark: three linked nodes.
func molecule(fg color.NRGBA, scale, ox, oy float64) []layer {
	p := func(x, y float64) (float64, float64) { return ox + (x-0.5)*scale + 0.5, oy + (y-0.5)*scale + 0.5 }
	ax, ay := p(0.30, 0.68)
	bx, by := p(0.50, 0.32)
	cx, cy := p(0.72, 0.62)
	return []layer{
		{fg, segment(ax, ay, bx, by, 0.07*scale)},
		{fg, segment(bx, by, cx, cy, 0.07*scale)},
		{fg, segment(ax, ay, cx, cy, 0.07*scale)},
		{fg, circle(ax, ay, 0.12*scale)},
		{fg, circle(bx, by, 0.14*scale)},
		{fg, circle(cx, cy, 0.12*scale)},
	}
}

func draw(size int, layers []layer) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4 // supersampling per axis, for smooth edges
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					var c color.NRGBA
					for _, l := range layers {
						if l.s(x, y) {
							c = l.c
						}
					}
					fa := float64(c.A) / 255
					r += float64(c.R) * fa
					g += float64(c.G) * fa
					b += float64(c.B) * fa
					a += fa
				}
			}
			n := float64(ss * ss)
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(r / a), G: uint8(g / a), B: uint8(b / a), A: uint8(255 * a / n),
			})
		}
	}
	return img
}

var (
	white = color.NRGBA{255, 255, 255, 255}
	blue  = color.NRGBA{0x23, 0x5F, 0xD6, 255} // ready
	green = color.NRGBA{0x12, 0x9B, 0x6B, 255} // active
	red   = color.NRGBA{0xD0, 0x3B, 0x3B, 255} // blocked / killed
	glow  = color.NRGBA{0x3C, 0xD6, 0x9A, 255}
)

func trayIcon(bg color.NRGBA, extra ...layer) []layer {
	l := []layer{{bg, circle(0.5, 0.5, 0.48)}}
	l = append(l, molecule(white, 0.95, 0, 0)...)
	return append(l, extra...)
}

func main() {
	icons := map[string]*image.NRGBA{
		"icon.png": draw(256, append([]layer{
			{blue, roundRect(0.04, 0.04, 0.96, 0.96, 0.22)},
		}, molecule(white, 0.9, 0, 0)...)),
		"tray-ready.png":  draw(64, trayIcon(blue)),
		"tray-active.png": draw(64, trayIcon(green, layer{glow, ring(0.5, 0.5, 0.5, 0.07)})),
		"tray-blocked.png": draw(64, append([]layer{{red, circle(0.5, 0.5, 0.48)}},
			layer{white, segment(0.28, 0.5, 0.72, 0.5, 0.16)})),
	}
	for name, img := range icons {
		f, err := os.Create(name)
		if err != nil {
			log.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
}
