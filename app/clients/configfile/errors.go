package configfile

import (
	"errors"
	"fmt"
)

// Sentinel errors; test for them with errors.Is. Every error this package
// returns names the file it is about.
var (
	// ErrUnparseable means the file is not JSON (with comments). It is matched
	// by every *ParseError.
	ErrUnparseable = errors.New("not valid JSON")
	// ErrNotObject means the top level of the file, or a value on the path
	// of an edit, is not a JSON object, so the edit has nowhere to go.
	ErrNotObject = errors.New("not a JSON object")
	// ErrNotRegular means a folder or a special file is where the config
	// file should be.
	ErrNotRegular = errors.New("not a regular file")
	// ErrBrokenLink means the config file is a symbolic link whose target
	// does not exist.
	ErrBrokenLink = errors.New("broken symbolic link")
	// ErrReadOnly means the file or its folder is read-only.
	ErrReadOnly = errors.New("read-only")
	// ErrTooLarge means the file is larger than MaxFileBytes.
	ErrTooLarge = errors.New("file too large")
	// ErrBusy means another program held the file's lock for too long.
	ErrBusy = errors.New("file busy")
	// ErrVerify means the file did not hold the change when it was read back
	// after writing: another program rewrote it at the same moment.
	ErrVerify = errors.New("change not found after writing")
)

// ParseError reports a file that cannot be parsed. Line and Column are
// 1-based; Column counts characters, not bytes. Reason never quotes more
// than one character of the file, because config files hold secrets.
type ParseError struct {
	Path   string
	Line   int
	Column int
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s — fix the file by hand or restore a backup; it was left unchanged",
		e.Path, e.Line, e.Column, ErrUnparseable, e.Reason)
}

// Is makes errors.Is(err, ErrUnparseable) true for a *ParseError.
func (e *ParseError) Is(target error) bool { return target == ErrUnparseable }

// syntaxError is a parse error before the file name is known.
type syntaxError struct {
	line, column int
	reason       string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.line, e.column, e.reason)
}

func (e *syntaxError) withPath(path string) *ParseError {
	return &ParseError{Path: path, Line: e.line, Column: e.column, Reason: e.reason}
}

// notObjectError reports a value on an edit's path that is not an object.
type notObjectError struct {
	path         string // file
	key          string // dotted JSON path, "" for the top level
	line, column int
}

func (e *notObjectError) Error() string {
	what := "the top level"
	if e.key != "" {
		what = fmt.Sprintf("%q", e.key)
	}
	file := e.path
	if file == "" {
		file = "the file"
	}
	return fmt.Sprintf("%s:%d:%d: %s is %s; it was left unchanged", file, e.line, e.column, what, ErrNotObject)
}

func (e *notObjectError) Unwrap() error { return ErrNotObject }
