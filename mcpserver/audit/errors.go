package audit

import "errors"

// Sentinel errors. Test for them with errors.Is; returned errors wrap them
// with what was being done.
var (
	// ErrClosed is returned by Append after Close.
	ErrClosed = errors.New("audit writer is closed")
	// ErrWriterFailed is returned by Append once a write or fsync failed in
	// a way that leaves the file's end uncertain. The session must stop
	// (nothing may happen unaudited) or open a new Writer.
	ErrWriterFailed = errors.New("audit file can no longer be appended to")
	// ErrInvalidRecord is returned by Append for a record it refuses to
	// write (an unknown event or outcome).
	ErrInvalidRecord = errors.New("invalid audit record")
	// ErrInvalidOption is returned by Open for an option with a bad value.
	ErrInvalidOption = errors.New("invalid audit option")
	// ErrInvalidSession is returned by Open for a session id that cannot be
	// part of a file name.
	ErrInvalidSession = errors.New("invalid audit session id")
	// ErrUnknownFormat is returned by Export for a format it does not know.
	ErrUnknownFormat = errors.New("unknown audit export format")
	// ErrUnreadable is returned by Read, together with the records it could
	// read, when some complete lines could not be parsed. Verify says why.
	ErrUnreadable = errors.New("some audit lines could not be read")
	// ErrTampered is returned by Report.Err when a chain is broken.
	ErrTampered = errors.New("audit trail is broken")
)
