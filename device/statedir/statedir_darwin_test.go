package statedir

import (
	"errors"
	"testing"
)

func TestDirDarwin(t *testing.T) {
	got, err := Dir(Env{Home: "/Users/ada", Getenv: func(string) string { return "/ignored" }})
	if want := "/Users/ada/Library/Application Support/Scispot MCP"; err != nil || got != want {
		t.Fatalf("Dir = %q, %v; want %q", got, err, want)
	}
	if _, err := Dir(Env{}); !errors.Is(err, ErrNoHome) {
		t.Fatalf("Dir(Env{}) error = %v, want ErrNoHome", err)
	}
}
