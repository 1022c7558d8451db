package activity

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

const (
	allOutcomes = "All outcomes"
	allClients  = "All AI clients"
)

// view renders an Activity's model in one window. Every method runs on the
// UI thread.
type view struct {
	a   *Activity
	win fyne.Window

	banner   *widget.Label
	search   *widget.Entry
	outcome  *widget.Select
	client   *widget.Select
	export   *widget.Button
	chart    *chart
	table    *widget.Table
	empty    *widget.Label
	count    *widget.Label
	details  *fyne.Container
	sessions *widget.List
	sessHdr  *widget.Label

	// shown is the row count of the last refresh, read by Activity.Shown
	// from other goroutines.
	shown atomic.Int64

	selected   *audit.Record
	cancelInfo context.CancelFunc
	sessCache  []localapi.Session
}

var columnWidths = []float32{84, 118, 160, 160, 84, 80, 76, 100}

func newView(a *Activity, w fyne.Window) *view {
	v := &view{a: a, win: w}

	v.banner = widget.NewLabel("")
	v.banner.Importance = widget.DangerImportance
	v.banner.Wrapping = fyne.TextWrapWord
	v.banner.Hide()

	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Filter by tool, client, arguments, session…")
	v.search.OnChanged = func(string) { v.applyFilter() }
	v.outcome = widget.NewSelect([]string{allOutcomes, string(audit.OutcomeOK), string(audit.OutcomeError), string(audit.OutcomeDenied)}, nil)
	v.outcome.SetSelected(allOutcomes)
	v.client = widget.NewSelect([]string{allClients}, nil)
	v.client.SetSelected(allClients)
	// Hooked up once every control exists.
	defer func() {
		v.outcome.OnChanged = func(string) { v.applyFilter() }
		v.client.OnChanged = func(string) { v.applyFilter() }
	}()
	v.export = widget.NewButtonWithIcon("Export CSV…", theme.DocumentSaveIcon(), v.exportCSV)

	v.chart = newChart()

	cols := Columns()
	v.table = widget.NewTableWithHeaders(
		func() (int, int) { return v.a.model.Len(), len(cols) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			r, ok := v.a.model.Record(id.Row)
			if !ok {
				l.SetText("")
				return
			}
			cells := v.a.model.Cells(r)
			l.Importance = widget.MediumImportance
			if id.Col == 4 {
				l.Importance = widget.SuccessImportance
				if cells[4] != string(audit.OutcomeOK) {
					l.Importance = widget.DangerImportance
				}
			}
			if id.Col == 7 && cells[7] != "" {
				l.Importance = widget.WarningImportance
			}
			l.SetText(cells[id.Col])
		})
	v.table.ShowHeaderColumn = false
	v.table.CreateHeader = func() fyne.CanvasObject {
		l := widget.NewLabel("")
		l.TextStyle.Bold = true
		return l
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(cols[id.Col])
		}
	}
	for i, w := range columnWidths {
		v.table.SetColumnWidth(i, w)
	}
	v.table.OnSelected = func(id widget.TableCellID) {
		if r, ok := v.a.model.Record(id.Row); ok {
			v.showDetails(r)
		}
	}
	v.empty = widget.NewLabel("No tool calls yet. Calls from connected AI clients appear here as they happen.")
	v.empty.Alignment = fyne.TextAlignCenter
	v.empty.Importance = widget.LowImportance
	v.count = widget.NewLabel("")

	v.details = container.New(layout.NewFormLayout())
	v.sessHdr = widget.NewLabel("")
	v.sessHdr.TextStyle.Bold = true
	v.sessions = widget.NewList(
		func() int { return len(v.sessCache) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), nil), l)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(v.sessCache) {
				return
			}
			s := v.sessCache[i]
			c := o.(*fyne.Container)
			c.Objects[0].(*widget.Label).SetText(SessionLine(s, v.a.model.loc))
			b := c.Objects[1].(*widget.Button)
			b.Importance = widget.DangerImportance
			b.OnTapped = func() { v.stopSession(s) }
			b.Refresh()
		})

	filters := container.NewBorder(nil, nil, nil,
		container.NewHBox(v.outcome, v.client, v.export), v.search)
	chartCaption := widget.NewLabel("Calls per minute, last hour")
	chartCaption.TextStyle.Italic = true
	legend := container.NewHBox(layout.NewSpacer(), swatch(theme.ColorNamePrimary), widget.NewLabel("ran"), swatch(theme.ColorNameError), widget.NewLabel("denied"))
	top := container.NewVBox(v.banner, filters,
		container.NewBorder(nil, nil, chartCaption, legend), v.chart)

	left := container.NewBorder(nil, v.count, nil, nil, container.NewStack(v.table, container.NewCenter(v.empty)))
	detailsCard := widget.NewCard("Details", "", container.NewVScroll(v.details))
	sessionsCard := container.NewBorder(v.sessHdr, nil, nil, nil, v.sessions)
	right := container.NewVSplit(detailsCard, sessionsCard)
	right.Offset = 0.62
	split := container.NewHSplit(left, right)
	split.Offset = 0.74

	w.SetContent(container.NewBorder(top, nil, nil, nil, split))
	v.showDetails(audit.Record{})
	v.refresh()
	// No initial focus: a focused entry blinks its cursor, which redraws
	// the whole window many times a second — CPU a tray app must not spend
	// while idle. Tab reaches the filter.
	return v
}

func swatch(name fyne.ThemeColorName) fyne.CanvasObject {
	r := canvas.NewRectangle(theme.Color(name))
	r.SetMinSize(fyne.NewSize(12, 12))
	r.CornerRadius = 2
	return container.NewCenter(r)
}

func (v *view) applyFilter() {
	f := Filter{Text: v.search.Text}
	if s := v.outcome.Selected; s != allOutcomes {
		f.Outcome = audit.Outcome(s)
	}
	if s := v.client.Selected; s != allClients {
		f.Client = s
	}
	if f == v.a.model.Filter() {
		return
	}
	v.a.model.SetFilter(f)
	v.refresh()
}

// refresh redraws everything from the model.
func (v *view) refresh() {
	m := v.a.model
	if err := m.Err(); err != nil {
		v.banner.SetText(err.Error())
		v.banner.Show()
	} else {
		v.banner.Hide()
	}
	opts := append([]string{allClients}, m.Clients()...)
	if len(opts) != len(v.client.Options) {
		v.client.SetOptions(opts)
	}
	n, total := m.Len(), m.Total()
	v.shown.Store(int64(n))
	if total == 0 {
		v.empty.Show()
	} else {
		v.empty.Hide()
	}
	v.count.SetText(CountLine(n, total))
	v.table.Refresh()
	v.chart.set(m.Chart(v.a.opts.Now()))
	v.sessCache = m.Sessions()
	v.sessHdr.SetText(fmt.Sprintf("Live sessions (%d)", len(v.sessCache)))
	v.sessions.Refresh()
}

// CountLine is the status line under the table.
func CountLine(shown, total int) string {
	if shown == total {
		return fmt.Sprintf("%d calls", total)
	}
	return fmt.Sprintf("%d of %d calls match the filter", shown, total)
}

// SessionLine describes a live session in the sessions list.
func SessionLine(s localapi.Session, loc *time.Location) string {
	name := clientLabel(audit.Client{Name: s.Client})
	if s.Version != "" {
		name += " " + s.Version
	}
	return fmt.Sprintf("%s · pid %d · since %s", name, s.PID, s.Started.In(loc).Format("15:04:05"))
}

func (v *view) showDetails(r audit.Record) {
	if v.cancelInfo != nil {
		v.cancelInfo()
		v.cancelInfo = nil
	}
	if r.Session == "" {
		v.selected = nil
		hint := widget.NewLabel("Select a call to see its full record.")
		hint.Wrapping = fyne.TextWrapWord
		v.details.Objects = []fyne.CanvasObject{widget.NewLabel(""), hint}
		v.details.Refresh()
		return
	}
	v.selected = &r
	v.renderDetails(r, "")
	ctx, cancel := context.WithCancel(context.Background())
	v.cancelInfo = cancel
	go func() {
		status := v.a.chainStatus(ctx, r.Session)
		if ctx.Err() != nil {
			return
		}
		v.a.opts.Do(func() {
			if v.selected != nil && v.selected.Session == r.Session && v.selected.Seq == r.Seq {
				v.renderDetails(r, status)
			}
		})
	}()
}

func (v *view) renderDetails(r audit.Record, chain string) {
	var objs []fyne.CanvasObject
	for _, f := range v.a.model.Details(r, chain) {
		k := widget.NewLabel(f.Label)
		k.TextStyle.Bold = true
		val := widget.NewLabel(f.Value)
		val.Wrapping = fyne.TextWrapBreak
		val.Selectable = true
		if f.Label == "Arguments" {
			val.TextStyle.Monospace = true
		}
		objs = append(objs, k, val)
	}
	v.details.Objects = objs
	v.details.Refresh()
}

func (v *view) stopSession(s localapi.Session) {
	msg := fmt.Sprintf("End the session of %s (process %d)? The AI client loses access to Scispot until it reconnects.", clientLabel(audit.Client{Name: s.Client}), s.PID)
	dialog.ShowConfirm("Stop session", msg, func(ok bool) {
		if !ok {
			return
		}
		go func() {
			if err := v.a.stopSession(context.Background(), s.ID); err != nil {
				v.a.opts.Do(func() { dialog.ShowError(err, v.win) })
			}
		}()
	}, v.win)
}

func (v *view) exportCSV() {
	recs := v.a.model.Visible()
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			dialog.ShowError(err, v.win)
			return
		}
		if w == nil {
			return // cancelled
		}
		err = audit.Export(w, recs, audit.FormatCSV)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			dialog.ShowError(fmt.Errorf("exporting the calls: %w", err), v.win)
		}
	}, v.win)
	d.SetFileName("scispot-mcp-activity-" + v.a.opts.Now().Format("20060102-1504") + ".csv")
	d.Show()
}

// chart draws the calls-per-minute buckets as bars: calls that ran in the
// theme's primary colour, denied ones stacked on top in its error colour.
type chart struct {
	widget.BaseWidget
	buckets []Bucket
}

func newChart() *chart {
	c := &chart{}
	c.ExtendBaseWidget(c)
	return c
}

func (c *chart) set(b []Bucket) {
	c.buckets = b
	c.Refresh()
}

func (c *chart) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.InputRadiusSize()
	r := &chartRenderer{c: c, bg: bg, peak: canvas.NewText("", theme.Color(theme.ColorNamePlaceHolder))}
	r.peak.TextSize = theme.CaptionTextSize()
	for range ChartMinutes {
		r.ran = append(r.ran, canvas.NewRectangle(theme.Color(theme.ColorNamePrimary)))
		r.denied = append(r.denied, canvas.NewRectangle(theme.Color(theme.ColorNameError)))
	}
	return r
}

type chartRenderer struct {
	c           *chart
	bg          *canvas.Rectangle
	peak        *canvas.Text
	ran, denied []*canvas.Rectangle
}

func (r *chartRenderer) Layout(size fyne.Size) {
	r.bg.Resize(size)
	peak := 0
	for _, b := range r.c.buckets {
		peak = max(peak, b.OK+b.Denied)
	}
	r.peak.Text = fmt.Sprintf("peak %d/min", peak)
	r.peak.Move(fyne.NewPos(4, 2))
	if peak == 0 {
		peak = 1
	}
	const pad = 4
	slot := (size.Width - 2*pad) / ChartMinutes
	gap := float32(2)
	h := size.Height - 2*pad - r.peak.MinSize().Height
	for i := range ChartMinutes {
		var b Bucket
		if i < len(r.c.buckets) {
			b = r.c.buckets[i]
		}
		x := pad + float32(i)*slot + gap/2
		okH := h * float32(b.OK) / float32(peak)
		dH := h * float32(b.Denied) / float32(peak)
		if b.OK > 0 && okH < 2 {
			okH = 2
		}
		if b.Denied > 0 && dH < 2 {
			dH = 2
		}
		base := size.Height - pad
		r.ran[i].Move(fyne.NewPos(x, base-okH))
		r.ran[i].Resize(fyne.NewSize(slot-gap, okH))
		r.denied[i].Move(fyne.NewPos(x, base-okH-dH))
		r.denied[i].Resize(fyne.NewSize(slot-gap, dH))
	}
}

func (r *chartRenderer) MinSize() fyne.Size { return fyne.NewSize(ChartMinutes*3, 72) }

func (r *chartRenderer) Refresh() {
	for i := range r.ran {
		r.ran[i].FillColor = theme.Color(theme.ColorNamePrimary)
		r.denied[i].FillColor = theme.Color(theme.ColorNameError)
	}
	r.peak.Color = theme.Color(theme.ColorNamePlaceHolder)
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	r.Layout(r.c.Size())
	canvas.Refresh(r.c)
}

func (r *chartRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.bg}
	for i := range r.ran {
		objs = append(objs, r.ran[i], r.denied[i])
	}
	return append(objs, r.peak)
}

func (r *chartRenderer) Destroy() {}
