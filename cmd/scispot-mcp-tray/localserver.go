package main

import (
	"context"
	"fmt"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/tray"
	"github.com/scispot/mcp-desktop/mcpserver/localhttp"
)

// localServer is the tray's Start/Stop local server: serve --http on a free
// loopback port inside the tray process. Starting it copies a connection
// snippet (URL and the local secret — never the Scispot token) to the
// clipboard.
type localServer struct {
	// serve is cli.TrayHost.ServeHTTP: serve --http until ctx ends.
	serve func(ctx context.Context, demo bool, addr string, ready func(url, secret string)) error
	d     *app.Deps

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

var _ tray.LocalServer = (*localServer)(nil)

func (l *localServer) Running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cancel != nil
}

func (l *localServer) Start(ctx context.Context) error {
	l.mu.Lock()
	if l.cancel != nil {
		l.mu.Unlock()
		return nil
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	l.cancel, l.done = cancel, done
	l.mu.Unlock()

	ready := make(chan error, 1)
	go func() {
		defer close(done)
		err := l.serve(sctx, l.d.Demo, "127.0.0.1:0", func(url, secret string) {
			snippet, _ := localhttp.Connection{URL: url, Secret: secret}.Entry("claude-code")
			fyne.Do(func() {
				l.d.App.Clipboard().SetContent(snippet)
				l.d.App.SendNotification(fyne.NewNotification("Scispot MCP local server", fmt.Sprintf("Serving on %s. A connection snippet is on the clipboard.", url)))
			})
			ready <- nil
		})
		l.mu.Lock()
		l.cancel = nil
		l.mu.Unlock()
		select {
		case ready <- err:
		default:
		}
	}()
	return <-ready
}

func (l *localServer) Stop(ctx context.Context) error {
	l.mu.Lock()
	cancel, done := l.cancel, l.done
	l.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}
