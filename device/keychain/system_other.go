//go:build !linux && !darwin && !windows

package keychain

// newPlatform on systems without a supported keychain reports ErrUnavailable
// before anything is tried.
func newPlatform(func(string) string) platform {
	return platform{
		backend: goKeyring{},
		ready: func() *explanation {
			return &explanation{kind: ErrUnavailable, reason: "this operating system has no keychain this app supports"}
		},
		explain: func(error) explanation { return explanation{} },
	}
}
