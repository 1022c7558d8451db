// Package validationdocs carries the validation documents the binaries
// print from, so a report's traceability matrix quotes the requirements
// this build was tested against and not a copy that could drift.
package validationdocs

import (
	"bytes"
	_ "embed"
)

//go:embed requirements.md
var requirements []byte

// Requirements returns docs/validation/requirements.md as built in.
func Requirements() []byte { return bytes.Clone(requirements) }
