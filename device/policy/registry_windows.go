package policy

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// DefaultStores returns the policy sources of this system, in order of
// precedence: on Windows, WindowsPolicyKey under HKEY_LOCAL_MACHINE (device
// scope), then under HKEY_CURRENT_USER (user scope; device wins). Both live
// under SOFTWARE\Policies, which only administrators and Group Policy can
// write.
func DefaultStores() []Store {
	return []Store{
		&registryStore{root: registry.LOCAL_MACHINE, rootName: "HKLM"},
		&registryStore{root: registry.CURRENT_USER, rootName: "HKCU"},
	}
}

// registryStore reads WindowsPolicyKey under one registry root.
type registryStore struct {
	root     registry.Key
	rootName string
}

var (
	_ Store          = (*registryStore)(nil)
	_ ChangeNotifier = (*registryStore)(nil)
)

func (s *registryStore) Name() string { return s.rootName + `\` + WindowsPolicyKey }

func (s *registryStore) Read(ctx context.Context) (Settings, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := registry.OpenKey(s.root, WindowsPolicyKey, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening registry key: %w", err)
	}
	wk := winKey{k}
	defer wk.Close()
	return fromRegistry(wk)
}

// NotifyChanges waits for registry change notifications on the policy key,
// or, while it does not exist, on its nearest existing parent (so that its
// creation is seen), and re-arms after each one.
func (s *registryStore) NotifyChanges(ctx context.Context, changed func()) error {
	cancelEvent, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return fmt.Errorf("creating an event to stop watching %s: %w", s.Name(), err)
	}
	defer windows.CloseHandle(cancelEvent)
	stop := context.AfterFunc(ctx, func() { windows.SetEvent(cancelEvent) })
	defer stop()

	changeEvent, err := windows.CreateEvent(nil, 0, 0, nil)
	if err != nil {
		return fmt.Errorf("creating an event to watch %s: %w", s.Name(), err)
	}
	defer windows.CloseHandle(changeEvent)

	for {
		k, err := s.openNearest()
		if err != nil {
			return err
		}
		const filter = windows.REG_NOTIFY_CHANGE_NAME | windows.REG_NOTIFY_CHANGE_LAST_SET
		if err := windows.RegNotifyChangeKeyValue(windows.Handle(k), true, filter, changeEvent, true); err != nil {
			k.Close()
			return fmt.Errorf("watching %s for changes: %w", s.Name(), err)
		}
		which, err := windows.WaitForMultipleObjects([]windows.Handle{changeEvent, cancelEvent}, false, windows.INFINITE)
		k.Close()
		switch {
		case err != nil:
			return fmt.Errorf("waiting for changes to %s: %w", s.Name(), err)
		case which == windows.WAIT_OBJECT_0+1:
			return nil
		}
		changed()
	}
}

// openNearest opens the policy key, or its nearest existing parent, for
// change notification.
func (s *registryStore) openNearest() (registry.Key, error) {
	path := WindowsPolicyKey
	for {
		k, err := registry.OpenKey(s.root, path, registry.NOTIFY)
		if err == nil {
			return k, nil
		}
		if !errors.Is(err, registry.ErrNotExist) {
			return 0, fmt.Errorf("opening %s\\%s to watch it: %w", s.rootName, path, err)
		}
		parent := parentKeyPath(path)
		if parent == "" {
			return 0, fmt.Errorf("opening %s\\%s to watch it: %w", s.rootName, path, err)
		}
		path = parent
	}
}

// parentKeyPath returns the registry path above path, or "" at the top.
func parentKeyPath(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '\\' {
			return path[:i]
		}
	}
	return ""
}

// winKey adapts a registry.Key to registryKey.
type winKey struct{ k registry.Key }

var _ registryKey = winKey{}

func (w winKey) ValueNames() ([]string, error)  { return w.k.ReadValueNames(-1) }
func (w winKey) SubKeyNames() ([]string, error) { return w.k.ReadSubKeyNames(-1) }
func (w winKey) Close() error                   { return w.k.Close() }

func (w winKey) OpenSubKey(name string) (registryKey, error) {
	k, err := registry.OpenKey(w.k, name, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS)
	if err != nil {
		return nil, err
	}
	return winKey{k}, nil
}

func (w winKey) Value(name string) (regValue, error) {
	_, typ, err := w.k.GetValue(name, nil)
	if err != nil {
		return regValue{}, err
	}
	rv := regValue{Type: regType(typ)}
	switch typ {
	case registry.DWORD, registry.QWORD:
		rv.Int, _, err = w.k.GetIntegerValue(name)
	case registry.SZ, registry.EXPAND_SZ:
		rv.Str, _, err = w.k.GetStringValue(name)
	case registry.MULTI_SZ:
		rv.Strs, _, err = w.k.GetStringsValue(name)
	}
	return rv, err
}
