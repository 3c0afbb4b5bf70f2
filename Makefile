# siohost: the two commands a fresh machine needs are `make run` and `make test`.

GO ?= go
NPM ?= npm

.PHONY: run test deps test-go test-wasm-build vet

# Runs the standalone server with its demo on http://localhost:3000.
run:
	$(GO) run ./cmd/siohost

# Runs every test: installs the official JavaScript peers (pinned in
# testdata/interop/package-lock.json), checks that core/ builds for both
# WebAssembly targets, vets, and runs all Go tests with the race detector.
test: deps vet test-wasm-build test-go

deps:
	@command -v node >/dev/null || { echo "node is required (Debian: apt-get install nodejs npm)"; exit 1; }
	cd testdata/interop && $(NPM) ci --no-audit --no-fund

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

test-wasm-build:
	GOOS=wasip1 GOARCH=wasm $(GO) build ./core/...
	GOOS=js GOARCH=wasm $(GO) build ./core/...

test-go:
	CI=$${CI:-1} $(GO) test -race -count=1 ./...
