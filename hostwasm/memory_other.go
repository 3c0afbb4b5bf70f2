//go:build !(linux || darwin || freebsd)

package hostwasm

import "github.com/tetratelabs/wazero/experimental"

// mmapAllocator is nil where the guest memory cannot be mapped: wazero
// then allocates it on the Go heap, at its maximum at once
// (WithMemoryCapacityFromMax), so that growing it never copies it.
func mmapAllocator() experimental.MemoryAllocator { return nil }
