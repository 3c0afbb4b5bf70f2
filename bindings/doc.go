// Package bindings holds the WebAssembly side of siohost's core: the
// module's exports (bindings/wasm, a WASI reactor built from core/abi),
// their contract (ABI.md), and, to come, the browser client that loads the
// same module (bindings/js).
package bindings
