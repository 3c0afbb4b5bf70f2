# siohost: the two commands a fresh machine needs are `make run` and `make test`.

GO ?= go
NPM ?= npm

.PHONY: run test deps test-go test-wasm-build vet wasm

# Runs the standalone server with its chat demo on http://localhost:3000
# (flags through ARGS, e.g. make run ARGS=-allow-eio3). The page's client,
# socket.io-client from testdata/interop, is installed first if missing;
# without npm the server still runs, and says what the page lacks.
SIO_CLIENT_JS = testdata/interop/node_modules/sio-client-v4/dist/socket.io.min.js
run:
	@test -f $(SIO_CLIENT_JS) || { \
	  if command -v $(NPM) >/dev/null; then cd testdata/interop && $(NPM) ci --no-audit --no-fund; \
	  else echo "npm not found: the chat page needs it for its client (Debian: apt-get install nodejs npm)"; fi; }
	$(GO) run ./cmd/siohost -client-js $(SIO_CLIENT_JS) $(ARGS)

# Runs every test: installs the official JavaScript peers (pinned in
# testdata/interop/package-lock.json) and Chromium, checks that core/ builds
# for both WebAssembly targets, vets, and runs all Go tests with the race
# detector.
test: deps vet test-wasm-build test-go

# The browser client's test runs Debian's headless Chromium: installed here
# when missing and apt-get can (as root), else the test says what it lacks.
deps:
	@command -v node >/dev/null || { echo "node is required (Debian: apt-get install nodejs npm)"; exit 1; }
	cd testdata/interop && $(NPM) ci --no-audit --no-fund
	@command -v chromium >/dev/null || { \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	  else echo "chromium not found: the browser client's test needs it (Debian: apt-get install chromium chromium-driver)"; fi; }

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

# Builds the WebAssembly core module (bindings/wasm/siohost-core.wasm); the
# tests build their own copy from source.
wasm:
	$(GO) generate ./bindings/wasm

test-wasm-build:
	GOOS=wasip1 GOARCH=wasm $(GO) build ./core/...
	GOOS=js GOARCH=wasm $(GO) build ./core/...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./bindings/wasm
	GOOS=wasip1 GOARCH=wasm $(GO) vet -tags siohost_fault ./bindings/wasm

test-go:
	CI=$${CI:-1} $(GO) test -race -count=1 ./...
