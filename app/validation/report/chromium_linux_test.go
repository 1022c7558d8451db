package report

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// chromium runs Debian's headless Chromium once, as the reviewer's browser
// would open the report, and returns what it printed. It runs in a process
// group of its own that is killed afterwards, so no renderer or crash
// handler outlives the test.
func chromium(t *testing.T, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (packaging/dev-deps.sh installs it): cannot open the HTML report in a browser")
	}
	home := t.TempDir()
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir=" + filepath.Join(home, "profile"),
		// make test runs inside a D-Bus session with a keyring that holds
		// test tokens: the browser keeps away from both.
		"--password-store=basic",
	}
	// The timeout only keeps a wedged browser from hanging the test run.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") })
	cmd.Env = append(env, "HOME="+home, "XDG_CONFIG_HOME="+home, "XDG_CACHE_HOME="+home,
		"DBUS_SESSION_BUS_ADDRESS=disabled:", "NO_AT_BRIDGE=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func fileURL(path string) string { return (&url.URL{Scheme: "file", Path: path}).String() }

// domText is the text a reader sees: every text node outside style and
// script elements.
func domText(t *testing.T, dom []byte) (text string, scripts int) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatalf("parsing the dumped DOM: %v", err)
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "script" {
			scripts++
		}
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "script") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String(), scripts
}

func TestHTMLInChromium(t *testing.T) {
	r, reqs := sampleReport(), sampleRequirements()
	doc, err := HTML(r, reqs)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), r.DocID+".html")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	page := fileURL(path)

	t.Run("screenshot is not blank", func(t *testing.T) {
		shot := filepath.Join(t.TempDir(), "report.png")
		chromium(t, "--screenshot="+shot, "--window-size=1200,1600", page)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatalf("chromium wrote no screenshot: %v", err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("decoding the screenshot: %v", err)
		}
		var n, inked float64
		var sum, sumSq float64
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				l := (0.299*float64(cr) + 0.587*float64(cg) + 0.114*float64(cb)) / 257
				sum += l
				sumSq += l * l
				n++
				if l < 200 {
					inked++
				}
			}
		}
		mean := sum / n
		variance := sumSq/n - mean*mean
		// A white page has no variance and no ink; the report's first
		// screen is text, tables and a coloured verdict.
		if variance < 100 || inked/n < 0.01 {
			t.Errorf("the screenshot looks blank: luminance variance %.1f, %.2f%% of pixels inked", variance, 100*inked/n)
		}
	})

	t.Run("rendered text has every case and requirement", func(t *testing.T) {
		text, scripts := domText(t, chromium(t, "--dump-dom", page))
		for _, id := range allIDs(r, reqs) {
			if !strings.Contains(text, id) {
				t.Errorf("the rendered text lacks %s", id)
			}
		}
		// The hostile actual result is text on the page, not a script.
		if !strings.Contains(text, "<script>alert('actual')</script>") {
			t.Error("the rendered text lacks OQ-02's actual result")
		}
		if scripts != 0 {
			t.Errorf("the rendered DOM has %d script elements, want none", scripts)
		}
	})

	t.Run("printed pages have the header and page numbers", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "printed.pdf")
		chromium(t, "--no-pdf-header-footer", "--print-to-pdf="+out, page)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("chromium printed nothing: %v", err)
		}
		pages := pdfPages(t, data)
		if len(pages) < 5 {
			t.Fatalf("printed %d pages, want the summary, IQ, OQ, PQ, matrix and signatures on pages of their own", len(pages))
		}
		for i, p := range pages {
			if want := "Document " + r.DocID; !strings.Contains(p, want) {
				t.Errorf("printed page %d lacks the header %q", i+1, want)
			}
			if want := fmt.Sprintf("Page %d of %d", i+1, len(pages)); !strings.Contains(p, want) {
				t.Errorf("printed page %d lacks %q", i+1, want)
			}
		}
		if !strings.Contains(pages[0], "FAIL: 1 of 13 cases failed (OQ-02).") {
			t.Error("the summary is not on the first printed page")
		}
		if !strings.Contains(pages[len(pages)-1], "Meaning of signature") {
			t.Error("the signature block is not on the last printed page")
		}
	})
}
