// Package quietstart keeps stderr clean while packages initialise.
//
// Fyne's translations package looks up the user's locale in its init and
// logs "Error parsing user locale C" to the standard logger whenever LANG
// is C or POSIX — as it is under CI, in containers, and for servers some
// AI clients start with a stripped environment. Every command would print
// it, `serve` included. This package has no dependencies beyond log, so Go
// initialises it before Fyne's (packages are initialised in import-path
// order as soon as their own imports are ready) and it silences the
// standard logger until main calls Restore.
package quietstart

import (
	"io"
	"log"
	"os"
)

func init() { log.SetOutput(io.Discard) }

// Restore sends the standard logger to stderr again.
func Restore() { log.SetOutput(os.Stderr) }
