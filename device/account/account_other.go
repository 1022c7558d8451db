//go:build !windows

package account

func platformAliases() []string { return nil }
