# Scispot MCP Desktop. `make demo` and `make test` are all a newcomer needs;
# both install missing Debian/Ubuntu packages first (packaging/dev-deps.sh).

GO       ?= go
BIN      := bin/scispot-mcp
TRAY     := bin/scispot-mcp-tray
MCPD     := bin/scispot-mcpd
PKG      := ./cmd/scispot-mcp
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
DATE     := $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)
INTEROP  := cmd/scispot-mcp/testdata/interop
CONFORM  := cmd/scispot-mcp/testdata/conformance

.PHONY: all deps build demo demo-cli package test test-go interop-deps lint bench vet-cross clean

all: build

deps:
	@packaging/dev-deps.sh --check 2>/dev/null || packaging/dev-deps.sh

# scispot-mcp is the CLI and the relay AI clients launch; it hands tray
# command lines to scispot-mcp-tray beside it, the only binary with the GUI
# toolkit (Fyne's OpenGL driver needs cgo; the first build takes minutes).
# scispot-mcpd is the workstation service (cgo for PAM). scispot-mcp is
# built without cgo: a static binary starts faster, and serve's start-up
# budget is mostly process start-up.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) $(PKG)
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(MCPD) ./cmd/scispot-mcpd
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(TRAY) ./cmd/scispot-mcp-tray

# The tray app on the demo workspace with its activity window. Without a
# display (a server, CI) it shows the gateway through the CLI instead.
# A demo never changes the person's own files: its state (audit trail, kill
# switch) lives in bin/demo-state, and no AI client config is written.
# Without an installed scispot-mcpd, the commands start this account's
# unprivileged demo instance of it (demo workspace only), which exits when
# idle.
DEMO_ENV := XDG_STATE_HOME=$(CURDIR)/bin/demo-state
demo: deps build
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "Starting the tray on the demo workspace. In another terminal, make calls with:"; \
	  echo "  $(DEMO_ENV) $(BIN) call list_labsheets --demo"; \
	  exec env $(DEMO_ENV) $(BIN) demo --window activity; \
	else \
	  echo "No display here (DISPLAY is unset): showing the demo workspace through the CLI."; \
	  $(MAKE) --no-print-directory demo-cli; \
	fi

# The demo seen through the CLI: the tools a client would see, a few calls,
# and a write the policy refuses.
demo-cli:
	@echo; echo "== Tools the gateway exposes on the demo workspace (scispot-mcp tools --demo --all)"
	@env $(DEMO_ENV) $(BIN) tools --demo --all
	@echo; echo "== scispot-mcp call list_labsheets --demo"
	@env $(DEMO_ENV) $(BIN) call list_labsheets --demo
	@echo; echo "== scispot-mcp call get_manifest '{\"id\":\"PLT-00142\"}' --demo   (first lines)"
	@env $(DEMO_ENV) $(BIN) call get_manifest '{"id":"PLT-00142"}' --demo | head -n 25
	@echo; echo "== A write the default policy refuses: scispot-mcp call add_labsheet_rows ... --demo"
	@env $(DEMO_ENV) $(BIN) call add_labsheet_rows '{"labsheet":"Cell Lines","rows":[{"Name":"HeLa-2"}]}' --demo || true
	@echo; echo 'Connect an AI client to the demo: run "$(BIN) setup all --demo" (it edits their configs) or see README.md.'

# npm packages the end-to-end tests drive the binary with: the official
# TypeScript SDK (v1 and the v2 client), the MCP conformance suite with the
# Node 22 it needs, and the real AI clients (Claude Code, the MCP
# Inspector, mcp-remote; about 700 MB, most of it Claude Code's executable).
interop-deps:
	@cd $(INTEROP) && { [ -d node_modules/@modelcontextprotocol/sdk ] && [ -d node_modules/@modelcontextprotocol/client ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cd $(CONFORM) && { [ -d node_modules/@modelcontextprotocol/conformance ] || npm ci --no-audit --no-fund --loglevel=error; }
	@cd cmd/scispot-mcp/testdata/clients && { [ -d node_modules/@modelcontextprotocol/inspector ] || npm ci --no-audit --no-fund --loglevel=error; }

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Everything, inside a private D-Bus session with an unlocked gnome-keyring.
test: deps interop-deps lint
	packaging/with-keyring.sh $(MAKE) --no-print-directory test-go

test-go:
	packaging/private-system-dirs.sh $(GO) test -count=1 -timeout 30m ./...

# Non-UI packages (none that import Fyne, in their code or their tests)
# must build and vet for the other desktops; Fyne itself does not vet for
# darwin without cgo. With -test, a package's test variants (pkg_test,
# pkg.test) list what its tests import too.
vet-cross:
	@pkgs=$$($(GO) list -test -f '{{.ImportPath}} {{join .Deps " "}}' ./... | awk '\
	  { p = $$1; sub(/(_test|\.test)$$/, "", p); seen[p] = 1 } \
	  /fyne\.io\/fyne\/v2/ { gui[p] = 1 } \
	  END { for (p in seen) if (!(p in gui)) print p }' | sort); \
	for os in darwin windows; do echo "go vet GOOS=$$os"; GOOS=$$os CGO_ENABLED=0 $(GO) vet $$pkgs || exit 1; done

# Installers into dist/: a .deb, a per-machine .msi with the ADMX
# templates, reproducible executables, SHA256SUMS and a CycloneDX SBOM
# (packaging/README.md is the admin guide; the macOS .pkg is built on a Mac
# with packaging/macos/build-pkg.sh).
package:
	@packaging/dev-deps.sh --package --check 2>/dev/null || packaging/dev-deps.sh --package
	packaging/package.sh

# The performance table of design.md (measured, never asserted in tests).
# `make bench ONLY=kill,serve` measures just those rows (names in
# bench/bench_test.go); BENCH_BIN=/path/to/scispot-mcp measures that build.
bench: deps
	@packaging/with-keyring.sh env SCISPOT_BENCH=1 SCISPOT_BENCH_ONLY='$(ONLY)' SCISPOT_BENCH_BIN='$(BENCH_BIN)' $(GO) test -count=1 -v -timeout 30m -run TestBenchTable ./bench/ 2>&1 \
	  | sed -n -e '/^|/p' -e '/^--- FAIL/,$$p'

clean:
	rm -rf bin dist
