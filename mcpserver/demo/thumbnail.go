package demo

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
)

// Thumbnail size, in pixels.
const (
	thumbWidth  = 96
	thumbHeight = 72
)

// renderThumbnail draws a small phase-contrast-like picture of cells: a
// grey field with darker-rimmed bright blobs, placed by seed so each row
// has its own image and the same one every time.
func renderThumbnail(seed uint64) ([]byte, error) {
	r := &rng{state: seed}
	img := image.NewGray(image.Rect(0, 0, thumbWidth, thumbHeight))
	for y := range thumbHeight {
		for x := range thumbWidth {
			img.SetGray(x, y, color.Gray{Y: uint8(120 + (x+y)/12)})
		}
	}
	type cell struct{ cx, cy, rx, ry float64 }
	cells := make([]cell, 10+r.intn(8))
	for i := range cells {
		cells[i] = cell{
			cx: float64(r.intn(thumbWidth)), cy: float64(r.intn(thumbHeight)),
			rx: float64(r.between(4, 9)), ry: float64(r.between(3, 7)),
		}
	}
	for y := range thumbHeight {
		for x := range thumbWidth {
			for _, c := range cells {
				dx, dy := (float64(x)-c.cx)/c.rx, (float64(y)-c.cy)/c.ry
				d := dx*dx + dy*dy
				switch {
				case d < 0.6:
					img.SetGray(x, y, color.Gray{Y: 190})
				case d < 1:
					img.SetGray(x, y, color.Gray{Y: 70})
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encoding the thumbnail: %w", err)
	}
	return buf.Bytes(), nil
}
