package statedir

import (
	"errors"
	"testing"
)

func TestDirLinux(t *testing.T) {
	tests := []struct {
		name string
		env  Env
		want string
		err  error
	}{
		{name: "default", env: Env{Home: "/home/ada"}, want: "/home/ada/.local/state/scispot-mcp"},
		{name: "xdg", env: Env{Home: "/home/ada", Getenv: vars("XDG_STATE_HOME", "/srv/state")}, want: "/srv/state/scispot-mcp"},
		{name: "relative xdg ignored", env: Env{Home: "/home/ada", Getenv: vars("XDG_STATE_HOME", "rel")}, want: "/home/ada/.local/state/scispot-mcp"},
		{name: "other variables ignored", env: Env{Home: "/home/ada", Getenv: vars("LOCALAPPDATA", `C:\x`)}, want: "/home/ada/.local/state/scispot-mcp"},
		{name: "no home", env: Env{Getenv: vars()}, err: ErrNoHome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Dir(tt.env)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Dir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func vars(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}
