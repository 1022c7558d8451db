package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Filter selects records for Read.
type Filter struct {
	// Since (inclusive) and Until (exclusive) bound record times; zero
	// means unbounded.
	Since, Until time.Time
	// Session, when set, keeps only that session's records.
	Session string
	// Limit > 0 keeps only the latest Limit records (what `audit tail`
	// shows).
	Limit int
}

func (f Filter) match(r *Record) bool {
	if !f.Since.IsZero() && r.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !r.Time.Before(f.Until) {
		return false
	}
	return f.Session == "" || r.Session == f.Session
}

// Read returns the records of every audit file in dir that match f, in time
// order (ties by session and seq). It does not verify chains; Verify does.
// A torn last line is skipped. Complete lines that cannot be parsed are
// skipped too, and then the records are returned together with an error
// wrapping ErrUnreadable. A missing folder has no records.
func Read(ctx context.Context, dir string, f Filter) ([]Record, error) {
	names, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	var (
		out  []Record
		errs []error
	)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading audit trail: %w", err)
		}
		recs, err := readFile(filepath.Join(dir, name), f)
		out = append(out, recs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	slices.SortStableFunc(out, compareRecords)
	if f.Limit > 0 && len(out) > f.Limit {
		out = slices.Clip(out[len(out)-f.Limit:])
	}
	return out, errors.Join(errs...)
}

func compareRecords(a, b Record) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Session, b.Session), cmp.Compare(a.Seq, b.Seq))
}

// readFile reads the matching records of one file.
func readFile(path string, f Filter) ([]Record, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: opening %s: %w", ErrUnreadable, filepath.Base(path), err)
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 64<<10)
	var (
		out    []Record
		bad    int
		lineNo int
	)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("%w: reading %s: %w", ErrUnreadable, filepath.Base(path), err)
		}
		lineNo++
		terminated := err == nil
		r, perr := parseRecord(bytes.TrimSuffix(line, []byte{'\n'}))
		switch {
		case perr == nil:
			if f.match(&r) {
				out = append(out, r)
			}
		case terminated:
			bad++
		}
		if !terminated {
			break
		}
	}
	if bad > 0 {
		return out, fmt.Errorf("%w: %s: %d lines", ErrUnreadable, filepath.Base(path), bad)
	}
	return out, nil
}

// parseRecord decodes one line.
func parseRecord(line []byte) (Record, error) {
	var r Record
	if err := json.Unmarshal(line, &r); err != nil {
		return Record{}, fmt.Errorf("parsing audit record: %w", err)
	}
	if r.Session == "" || r.Event == "" {
		return Record{}, errors.New("parsing audit record: session or event missing")
	}
	return r, nil
}
