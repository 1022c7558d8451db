//go:build !linux

package report_test

import (
	"testing"

	"github.com/scispot/mcp-desktop/app/validation"
)

// readFiled needs Debian's Chromium and poppler: Linux only.
func readFiled(*testing.T, *validation.Report, validation.Filed) {}
