// Package bindings will hold the WebAssembly exports of siohost's core (the
// ABI of the core module, in bindings/wasm) and the browser client that
// loads that module (bindings/js). It is empty until the WebAssembly issue
// lands.
package bindings
