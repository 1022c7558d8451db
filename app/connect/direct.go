package connect

import (
	"context"
	"fmt"
	"strings"

	"github.com/scispot/mcp-desktop/app/clients"
)

func (s System) hosts(ctx context.Context) []string {
	if s.Hosts == nil {
		return nil
	}
	return s.Hosts(ctx)
}

// replaceDirect replaces every direct Scispot entry of the client with the
// gateway entry (a token in it goes into the keychain, then is sealed).
// It returns the last change made.
func (s System) replaceDirect(ctx context.Context, id string) (clients.Change, error) {
	found, _ := clients.FindDirect(ctx, s.Env, clients.DirectOptions{Hosts: s.hosts(ctx)})
	var last clients.Change
	for _, d := range clients.Migratable(found) {
		if d.Client != id {
			continue
		}
		ch, err := clients.MigrateDirect(ctx, d, s.Env, s.Keychain, s.opts())
		if err != nil {
			return ch, err
		}
		if note := s.seal(ctx); note != "" {
			ch.Note = strings.TrimSpace(ch.Note + " " + note)
		}
		last = ch
	}
	return last, nil
}

// directCard turns a card with direct connections into one that says so
// and offers to replace them: they come before anything else about the
// client, since they skip every control.
func directCard(c *Card) {
	if len(c.Status.Direct) == 0 {
		return
	}
	var lines []string
	movable := false
	for _, d := range c.Status.Direct {
		lines = append(lines, d.String())
		movable = movable || !d.Machine
	}
	c.Label, c.Good = "Direct connection found", false
	c.CanMigrate = c.CanMigrate || movable
	c.Status.Detail = fmt.Sprintf("%s reaches Scispot without the gateway: %s.", c.Status.Name, strings.Join(lines, "; "))
	if movable {
		c.Status.Detail += " Replace with gateway moves any token into the keychain."
	}
}
