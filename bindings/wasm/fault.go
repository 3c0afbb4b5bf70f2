//go:build wasip1 && siohost_fault

package main

import (
	"bytes"
	"encoding/binary"
	"os"
)

// Fault injection for the hosts' tests, compiled in only with the build tag
// siohost_fault: a batch whose records contain "siohost:fault:panic" makes
// process panic (StatusPanic), and "siohost:fault:exit" makes the guest
// exit (a trap for the host), as a Go fatal error would.
func init() { fault = injectFault }

func injectFault(in []byte, n int32) {
	end := 0
	for i := int32(0); i < n && end+8 <= len(in); i++ {
		size := int(binary.LittleEndian.Uint32(in[end+4:]))
		if size < 8 || end+size > len(in) {
			break
		}
		end += size
	}
	batch := in[:end]
	switch {
	case bytes.Contains(batch, []byte("siohost:fault:panic")):
		panic("siohost: injected fault")
	case bytes.Contains(batch, []byte("siohost:fault:exit")):
		os.Exit(3)
	}
}
