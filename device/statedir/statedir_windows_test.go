package statedir

import (
	"errors"
	"testing"
)

func TestDirWindows(t *testing.T) {
	env := Env{Home: `C:\Users\ada`, Getenv: func(k string) string {
		if k == "LOCALAPPDATA" {
			return `D:\Local`
		}
		return ""
	}}
	if got, err := Dir(env); err != nil || got != `D:\Local\Scispot\MCP` {
		t.Fatalf("Dir = %q, %v", got, err)
	}
	if got, err := Dir(Env{Home: `C:\Users\ada`}); err != nil || got != `C:\Users\ada\AppData\Local\Scispot\MCP` {
		t.Fatalf("Dir without LOCALAPPDATA = %q, %v", got, err)
	}
	if _, err := Dir(Env{}); !errors.Is(err, ErrNoHome) {
		t.Fatalf("Dir(Env{}) error = %v, want ErrNoHome", err)
	}
}
