// Package cli implements every scispot-mcp command. Run is the whole
// program; its dependencies (streams, keychain, policy stores) come in
// through Env so tests can drive commands in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/scispot/mcp-desktop/app/instance"
	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Exit codes (design.md, "Command line").
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	ExitRefused = 3
)

// Build identifies this binary.
type Build struct {
	Version, Commit, Date string
}

// Env is everything a command may touch outside the process. Nothing here
// decides access: the workstation service does (Service).
type Env struct {
	Build  Build
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdinIsTerminal reports whether secrets typed on stdin must not echo;
	// ReadSecret reads one line without echo.
	StdinIsTerminal func() bool
	ReadSecret      func() (string, error)
	// Keychain is the person's keychain, which holds the sealed token and
	// the local HTTP secret.
	Keychain keychain.Store
	// Service connects to the workstation service; demo allows this
	// account's unprivileged demo instance where none is installed.
	Service func(ctx context.Context, demo bool) (*localapi.Client, error)
	// StateDir finds the per-user state folder (client-config records,
	// the local HTTP header file); nothing security-relevant lives there.
	StateDir func() (string, error)
	// Executable is this binary's absolute path (for client configs).
	Executable func() (string, error)
	Logger     *slog.Logger
	// Tray runs the tray app for a tray command line (see tray.go): the
	// tray binary shows the GUI; scispot-mcp hands the line to the tray
	// binary beside it (HandOffTray). nil: the tray commands say there is
	// no tray.
	Tray func(ctx context.Context, env Env, req TrayRequest) error
}

// SystemEnv is the Env of the real process.
func SystemEnv(b Build) Env {
	return Env{
		Build:           b,
		Stdin:           os.Stdin,
		Stdout:          os.Stdout,
		Stderr:          os.Stderr,
		StdinIsTerminal: stdinIsTerminal,
		ReadSecret:      readSecretNoEcho,
		Keychain:        keychain.System(),
		Service:         SystemService(os.Getenv),
		StateDir:        func() (string, error) { return statedir.Dir(statedir.FromOS()) },
		Executable:      os.Executable,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// refusedError is a refusal by policy or device state (exit 3). quiet
// skips the sentence on stderr when the output already carries it.
type refusedError struct {
	r     *gateway.Refusal
	quiet bool
}

func (e *refusedError) Error() string { return e.r.Sentence }

// exitCodeError ends the command with another program's exit status; that
// program has already said why.
type exitCodeError struct{ code int }

func (e *exitCodeError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

type command struct {
	name  string
	usage string
	brief string
	run   func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "demo [--window NAME]", "start the tray app on the built-in demo workspace", runDemo},
		{"serve", "serve [--demo]", "run the MCP gateway on stdio (what AI client configs launch)", runServe},
		{"tools", "tools [--demo] [--all] | tools accept NAME", "list the tools the gateway exposes now; --all adds hidden tools and why; accept reviews a changed definition (asks for your account password)", runTools},
		{"call", "call TOOL [JSON-ARGS] [--demo]", "make one call through the gateway (client name scispot-mcp-cli)", runCall},
		{"setup", "setup CLIENT [--demo] [--remove] [--dry-run] [--migrate]", "write or remove this app's entry in an AI client's config", runSetup},
		{"status", "status [--json]", "enrollment, policy, account, token, kill switch and live sessions", runStatus},
		{"kill", "kill [--reason TEXT]", "stop all AI access on this workstation now (the kill switch)", runKill},
		{"resume", "resume", "allow AI access again after kill (asks for your account password)", runResume},
		{"audit", "audit verify|tail|export|fleet-verify ...", "check, follow or export the tamper-evident audit trail; verify the fleet's", runAudit},
		{"token", "token set [--no-verify] | token status | token remove", "manage the Scispot API token in the OS keychain", runToken},
		{"validate", validateUsage, "run IQ/OQ validation on this workstation and write the report QA signs; --verify checks a filed report", runValidate},
		{"version", "version", "print version, commit and build date", runVersion},
	}
}

// Run executes one command line and returns the process exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if isTrayArgs(args) {
		return report(env, command{name: "tray", usage: "[--window " + strings.Join(instance.Windows(), "|") + "]"}, runTrayCommand(ctx, env, args))
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return Run(ctx, []string{args[1], "--help"}, env)
		}
		printUsage(env.Stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		return report(env, c, err)
	}
	fmt.Fprintf(env.Stderr, "scispot-mcp: unknown command %q; run `scispot-mcp help` for the list.\n", args[0])
	return ExitUsage
}

func report(env Env, c command, err error) int {
	var ue *usageError
	var re *refusedError
	var ce *exitCodeError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "scispot-mcp %s: %s\nusage: scispot-mcp %s\n", c.name, ue.msg, c.usage)
		return ExitUsage
	case errors.As(err, &re):
		if !re.quiet {
			fmt.Fprintln(env.Stderr, re.r.Sentence)
		}
		return ExitRefused
	default:
		fmt.Fprintf(env.Stderr, "scispot-mcp %s: %v\n", c.name, err)
		return ExitFailed
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Scispot MCP Desktop: AI clients on your Scispot workspace, under your lab's policy.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  scispot-mcp %-48s %s\n", c.usage, c.brief)
	}
	fmt.Fprintln(w, "\nRun `scispot-mcp COMMAND --help` for a command's options.")
}

// newFlags makes a flag set whose errors and help go to stderr as a
// usage error rather than exiting the process.
func newFlags(env Env, c string, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: scispot-mcp %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may come before, between or after positional
// arguments, and returns the positionals.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func runVersion(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "version", "version")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	fmt.Fprintf(env.Stdout, "scispot-mcp %s\ncommit %s\nbuilt %s\n", env.Build.Version, env.Build.Commit, env.Build.Date)
	return nil
}

// stateDir finds and creates the per-user state folder.
func (env Env) stateDir() (string, error) {
	dir, err := env.StateDir()
	if err != nil {
		return "", fmt.Errorf("finding the per-user state folder: %w", err)
	}
	if err := statedir.Ensure(dir); err != nil {
		return "", fmt.Errorf("creating the per-user state folder: %w", err)
	}
	return dir, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
