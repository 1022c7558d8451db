package cli

import (
	"bufio"
	"os"

	"golang.org/x/term"
)

func stdinIsTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// readSecretNoEcho reads one line from the terminal without echoing it, so
// a pasted token never appears on screen or in a terminal recording.
func readSecretNoEcho() (string, error) {
	if !stdinIsTerminal() {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", err
		}
		return line, nil
	}
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	return string(b), err
}
