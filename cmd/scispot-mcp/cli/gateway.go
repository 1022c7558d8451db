package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/device/keychain"
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/demo"
	"github.com/scispot/mcp-desktop/mcpserver/gateway"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
)

// cliClientName is how `tools` and `call` identify themselves to the
// gateway, so their calls are attributed like any AI client's.
const cliClientName = "scispot-mcp-cli"

// session is one gateway with its upstream, as serve, tools and call use it.
type session struct {
	gw       *gateway.Gateway
	snapshot policy.Snapshot
	up       *upstream.Client
}

func (s *session) Close() {
	if s.up != nil {
		s.up.Close()
	}
}

// openSession gathers the facts, decides access and builds the gateway in
// front of Scispot (or the demo workspace). It never connects upstream:
// that happens on the first request that needs it.
func openSession(ctx context.Context, env Env, useDemo bool) (*session, error) {
	s := &session{snapshot: policy.Load(ctx, env.PolicyStores...)}
	facts := access.Facts{Policy: s.snapshot, Demo: useDemo}
	var token string
	if !useDemo {
		t, err := env.Keychain.Get(ctx, keychain.AccountToken)
		switch {
		case err == nil:
			token, facts.TokenPresent = t, true
		case errors.Is(err, keychain.ErrNotFound):
		default:
			facts.TokenErr = err
		}
	}
	refusal := access.Decide(facts)
	opts := &upstream.Options{
		Logger:     env.Logger,
		ClientInfo: &mcp.Implementation{Name: "scispot-mcp-desktop", Version: env.Build.Version},
		OnToolsChanged: func() {
			if s.gw != nil {
				go s.gw.Refresh(context.Background())
			}
		},
	}
	if refusal == nil {
		if useDemo {
			s.up = upstream.NewInProcess(demo.NewServer(), opts)
		} else {
			up, err := upstream.NewHTTP(s.snapshot.Policy.UpstreamURL, token, opts)
			if err != nil {
				refusal = &gateway.Refusal{Rule: access.RulePolicyInvalid, Sentence: fmt.Sprintf("The admin policy's UpstreamURL cannot be used: %v", err)}
			} else {
				s.up = up
			}
		}
	}
	var up gateway.Upstream
	if s.up != nil {
		up = s.up
	}
	s.gw = gateway.New(up, gateway.State{Policy: s.snapshot.Policy, Refusal: refusal}, &gateway.Options{
		Name:    "scispot",
		Version: env.Build.Version,
		Logger:  env.Logger,
	})
	return s, nil
}

// connectCLI connects an in-memory MCP client named scispot-mcp-cli to the
// gateway: `tools` and `call` take exactly the path a session takes.
func (s *session) connectCLI(ctx context.Context, version string) (*mcp.ClientSession, error) {
	ct, st := mcp.NewInMemoryTransports()
	if _, err := s.gw.Server().Connect(ctx, st, nil); err != nil {
		return nil, fmt.Errorf("starting the gateway: %w", err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: cliClientName, Version: version}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	if err != nil {
		return nil, fmt.Errorf("connecting to the gateway: %w", err)
	}
	return cs, nil
}
