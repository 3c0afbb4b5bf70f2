// Command wasm is siohost's protocol core compiled to WebAssembly: the
// Engine.IO and Socket.IO server state machines of core/, behind the binary
// ABI of core/abi, exported with //go:wasmexport. One module serves every
// host (hostwasm on wazero, browsers, plugin runtimes); bindings/ABI.md
// documents its exports, records and status codes.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -buildmode=c-shared -o bindings/wasm/siohost-core.wasm ./bindings/wasm
//
// or go generate ./bindings/wasm. The artifact is not committed: the tests
// of hostwasm build it from source, so it always matches the source.
package main

//go:generate env GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -buildmode=c-shared -o siohost-core.wasm .
