// Command pkgtool does the deterministic chores of packaging/package.sh that
// a shell does badly: icons at every size (and a Windows .ico), stable GUIDs
// for the MSI, and a normalised SBOM. It uses only the standard library so
// the packaging script needs nothing beyond the Go toolchain.
//
//	go run ./packaging/pkgtool icons -src assets/icon.png -out DIR
//	go run ./packaging/pkgtool guid NAME...
//	go run ./packaging/pkgtool sbom [-version V] FILE
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// errUsage marks a command line that cannot be run; main exits 2 for it.
var errUsage = errors.New("usage: pkgtool icons -src PNG -out DIR | guid NAME... | sbom [-version V] FILE")

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "pkgtool:", err)
		os.Exit(1)
	}
}

func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "icons":
		fs := flag.NewFlagSet("icons", flag.ContinueOnError)
		fs.SetOutput(stderr)
		src := fs.String("src", "", "source PNG (square); a placeholder is drawn when it does not exist")
		out := fs.String("out", "", "output directory")
		if err := fs.Parse(args[1:]); err != nil || *out == "" || fs.NArg() != 0 {
			return errUsage
		}
		placeholder, err := writeIcons(*src, *out)
		if err != nil {
			return err
		}
		if placeholder {
			fmt.Fprintf(stderr, "pkgtool: %s not found; drew a placeholder icon\n", *src)
		}
		return nil
	case "guid":
		if len(args) < 2 {
			return errUsage
		}
		for _, name := range args[1:] {
			fmt.Fprintln(stdout, nameGUID(name))
		}
		return nil
	case "sbom":
		fs := flag.NewFlagSet("sbom", flag.ContinueOnError)
		fs.SetOutput(stderr)
		version := fs.String("version", "", "the application's version, stamped as the SBOM's main component's")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
			return errUsage
		}
		return normaliseSBOMFile(fs.Arg(0), *version)
	default:
		return errUsage
	}
}
