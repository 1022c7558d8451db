package cli

import (
	"context"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/session"
)

// cliClientName is how `tools` and `call` identify themselves to the
// gateway, so their calls are attributed like any AI client's.
const cliClientName = "scispot-mcp-cli"

func (env Env) sources(state string) access.Sources {
	src := access.Sources{
		Policy:   env.PolicyStores,
		User:     env.User,
		Enroll:   env.Enroll,
		Keychain: env.Keychain,
	}
	if state != "" {
		src.ControlFile = statedir.ControlFile(state)
	}
	return src
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

func (env Env) deviceID() string {
	id, err := env.DeviceID()
	if err != nil {
		env.Logger.Warn("no device id for the audit trail", "err", err)
		return ""
	}
	return id
}

// startSession starts the audited gateway.
func startSession(ctx context.Context, env Env, useDemo bool, transport audit.Transport) (*session.Host, error) {
	state, err := env.stateDir()
	if err != nil {
		return nil, err
	}
	return session.Start(ctx, session.Config{
		Sources:   env.sources(state),
		Demo:      useDemo,
		StateDir:  state,
		Device:    env.deviceID(),
		Version:   env.Build.Version,
		Transport: transport,
		Logger:    env.Logger,
	})
}

// cliSession is a session whose client is this command, connected in
// memory: `tools` and `call` take exactly the path an AI client takes.
type cliSession struct {
	*session.Host
	client *mcp.ClientSession
	served chan struct{}
}

func connectCLI(ctx context.Context, env Env, useDemo bool) (*cliSession, error) {
	s, err := startSession(ctx, env, useDemo, audit.TransportCLI)
	if err != nil {
		return nil, err
	}
	ct, st := mcp.NewInMemoryTransports()
	cs := &cliSession{Host: s, served: make(chan struct{})}
	go func() {
		defer close(cs.served)
		s.Serve(context.WithoutCancel(ctx), st)
	}()
	c := mcp.NewClient(&mcp.Implementation{Name: cliClientName, Version: env.Build.Version}, nil)
	cs.client, err = c.Connect(ctx, ct, nil)
	if err != nil {
		s.Close(session.EndContext)
		return nil, fmt.Errorf("connecting to the gateway: %w", err)
	}
	return cs, nil
}

// Close ends the session and waits for its session.end record.
func (cs *cliSession) Close() {
	cs.client.Close()
	<-cs.served
}
