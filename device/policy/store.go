package policy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Store is one place an administrator sets policy: a root-owned file, a
// macOS managed-preferences domain, a Windows Policies registry key.
type Store interface {
	// Name identifies the source for people: a path or a registry key.
	Name() string
	// Read returns the settings the source holds. It returns (nil, nil)
	// when the source is simply absent (and its absence is the admin's
	// doing), an error wrapping ErrUntrusted (and ErrInvalid) when it is
	// not admin-controlled, and an error wrapping ErrInvalid when it cannot
	// be used.
	Read(ctx context.Context) (Settings, error)
}

// PathWatcher is implemented by stores backed by files. The Watcher watches
// the folders of these paths (files are often replaced by rename, which a
// watch on the file itself would miss).
type PathWatcher interface {
	WatchPaths() []string
}

// ChangeNotifier is implemented by stores that can announce changes
// themselves, such as the Windows registry.
type ChangeNotifier interface {
	// NotifyChanges blocks until ctx is done, calling changed (which does
	// not block) each time the source may have changed. It returns nil
	// when ctx is done, or an error if it cannot watch.
	NotifyChanges(ctx context.Context, changed func()) error
}

// Resolve merges layers into the effective policy. Layers are in order of
// precedence, the device scope first: for each key the first layer that sets
// it wins, and a key that no layer sets takes its Default value.
// AllowedTools that no layer sets stays nil, which means "the default
// read-only tools" (decided by the gateway).
func Resolve(layers ...Settings) Policy {
	p := Default()
	for _, d := range keyTable {
		for _, l := range layers {
			v, ok := l[d.name]
			if !ok || !isCanonical(d, v) {
				continue
			}
			d.set(&p, v)
			break
		}
	}
	return p
}

// isCanonical reports whether v is a well-formed value for d, so that Resolve
// never panics on hand-built Settings.
func isCanonical(d keyDef, v any) bool {
	var ok bool
	switch d.kind {
	case kindBool:
		_, ok = v.(bool)
	case kindString:
		_, ok = v.(string)
	case kindStrings:
		_, ok = v.([]string)
	case kindInt:
		_, ok = v.(int64)
	}
	if !ok {
		return false
	}
	_, err := canonical(d, v)
	return err == nil
}

// Snapshot is the policy loaded from the stores at one moment, with where it
// came from.
type Snapshot struct {
	// Policy is the effective policy. When Err is non-nil it is the
	// fail-closed policy (Default with Enabled false).
	Policy Policy
	// Sources names, in order of precedence, the stores that exist and
	// contributed settings (possibly none).
	Sources []string
	// Ignored is kept for status --json (its "ignored" list) and stays
	// empty: a source that is not admin-controlled is no longer ignored; it
	// makes the policy invalid (Err).
	Ignored []string
	// Err is non-nil when the policy is invalid or could not be read:
	// callers must fail closed and show it. Its message names the source and,
	// where there is one, the key. It is the first such error.
	Err error
}

// Load reads every store, in order of precedence (device scope first), and
// resolves them. It never fails outright: problems are in the Snapshot.
func Load(ctx context.Context, stores ...Store) Snapshot {
	var (
		snap   Snapshot
		layers []Settings
	)
	for _, st := range stores {
		s, err := st.Read(ctx)
		switch {
		case errors.Is(err, ErrUntrusted):
			// Fail closed: the file (or its folder) is not the admin's
			// alone. The error names the file.
			if snap.Err == nil {
				snap.Err = fmt.Errorf("managed policy is not admin-controlled: %w", err)
			}
		case err != nil:
			if snap.Err == nil {
				snap.Err = fmt.Errorf("managed policy %s: %w", st.Name(), err)
			}
		case s != nil:
			snap.Sources = append(snap.Sources, st.Name())
			layers = append(layers, s)
		}
	}
	if snap.Err != nil {
		snap.Policy = closedPolicy()
		return snap
	}
	snap.Policy = Resolve(layers...)
	return snap
}

// closedPolicy is what applies while the policy is invalid: no AI access.
func closedPolicy() Policy {
	p := Default()
	p.Enabled = false
	return p
}

// Effective returns every key's effective value, keyed by key name, for
// `status --json`: bool, string, int64 or []string. AllowedTools is nil
// (JSON null) when no store sets it: the gateway's default read-only tools.
// Every user may read it, so AuditOTLPHeaders shows header names only: their
// values are ingest keys.
func (s Snapshot) Effective() map[string]any {
	m := s.Policy.Values()
	m[KeyAuditOTLPHeaders] = HiddenHeaderValues(s.Policy.AuditOTLPHeaders)
	return m
}

// HiddenHeaderValues returns "Name: value" headers as "Name: (hidden)", for
// anything shown, logged or recorded.
func HiddenHeaderValues(headers []string) []string {
	out := make([]string, 0, len(headers))
	for _, h := range headers {
		name, _, _ := strings.Cut(h, ":")
		out = append(out, strings.TrimSpace(name)+": (hidden)")
	}
	return out
}

// Values returns every key's value in p, as Snapshot.Effective does.
func (p Policy) Values() map[string]any {
	m := make(map[string]any, len(keyTable))
	for _, d := range keyTable {
		m[d.name] = d.get(p)
	}
	return m
}

// Equal reports whether two policies mean the same. It tells an unset
// AllowedTools (nil: the default tools) from an empty one (no tools); for
// the other lists nil and empty both mean "none" and compare equal.
func (p Policy) Equal(q Policy) bool {
	return reflect.DeepEqual(p.Values(), q.Values())
}

// Equal reports whether two snapshots would look the same to a caller: the
// same policy, sources, ignored sources and error message.
func (s Snapshot) Equal(o Snapshot) bool {
	return s.Policy.Equal(o.Policy) &&
		slices.Equal(s.Sources, o.Sources) &&
		slices.Equal(s.Ignored, o.Ignored) &&
		errorText(s.Err) == errorText(o.Err) && (s.Err == nil) == (o.Err == nil)
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
