//go:build !wasip1

package main

import "os"

// Built for another target, the command only says how to build the module.
func main() {
	os.Stderr.WriteString("siohost-core is a WebAssembly reactor: build it with\n" +
		"  GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -buildmode=c-shared -o siohost-core.wasm ./bindings/wasm\n")
	os.Exit(2)
}
