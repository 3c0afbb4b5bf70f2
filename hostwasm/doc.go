// Package hostwasm runs siohost's protocol core compiled to WebAssembly
// (bindings/wasm) inside wazero. A Module compiles the module once; each
// Instance is one guest holding one Engine.IO server (and the Socket.IO
// layer, when configured) with many sessions, and offers the operations of
// the native core (core/eio and core/sio) over the ABI of core/abi
// (documented in bindings/ABI.md), returning the same effects.
//
// An instance costs a few milliseconds and a few MiB to create, so a host
// keeps one per worker, not one per connection. Its calls are serialized
// by a mutex. A trap in the guest (a Go runtime fatal error, running out of
// memory) or a recovered panic discards the instance: every later call
// returns the error that killed it.
//
// Module.NewCore returns an instance as a core/abi.Backend, which is what
// hostnative drives: hostnative.EngineOptions{Core: m.NewCore} serves
// Engine.IO and Socket.IO with every shard's core in WebAssembly. Likewise
// Module.NewClientCore returns an instance's Socket.IO client core (the
// client_process export) as a core/abi.ClientBackend:
// hostnative.ManagerOptions{Core: m.NewClientCore} runs a Manager's
// protocol in WebAssembly. Open compiles a module from a file or, with
// Build, from source.
package hostwasm
