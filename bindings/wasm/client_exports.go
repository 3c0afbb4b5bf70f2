//go:build wasip1

package main

import "github.com/siohost/siohost/core/abi"

// The client exports (bindings/ABI.md, client section): Socket.IO clients
// for a host that has transports but no protocol code, such as a browser.
// They share the arenas, last_error and the panic guard of the server
// exports, but not the core: a module can serve both at once.

var clients *abi.ClientCore

//go:wasmexport client_abi_version
func clientABIVersion() int32 { return abi.ClientVersion }

// client_process runs the n client input records at input_ptr at time now
// (milliseconds) and returns the length of the output list at output_ptr,
// or a negative status. No configuration is needed first.
//
//go:wasmexport client_process
func clientProcess(now float64, n int32) (status int32) {
	defer guard(&status)
	t, ok := millis(now)
	if !ok {
		return fail(abi.ErrBadInput)
	}
	if clients == nil {
		clients = abi.NewClientCore(systemRandom)
	}
	if fault != nil {
		fault(input, n)
	}
	out, err := clients.Process(output, t, input, int(n))
	output = out
	if err != nil {
		return fail(err)
	}
	return int32(len(out))
}
