//go:build linux || darwin || freebsd

package hostwasm

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapAllocator backs each guest memory with its own mapping: the whole
// limit is reserved as inaccessible address space, and pages are made
// accessible as the guest grows. Growing never moves or copies the memory,
// and an idle instance costs only the pages it touched, outside the Go
// heap (a Go slice of the limit's size would count whole toward the host's
// GC pacing, and be zeroed when reused).
func mmapAllocator() experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			return &heapMemory{buf: make([]byte, 0, max)}
		}
		return &mmapMemory{buf: b}
	})
}

type mmapMemory struct {
	buf       []byte // the whole reservation
	committed uint64 // bytes made accessible
}

func (m *mmapMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil
	}
	if size > m.committed {
		if err := syscall.Mprotect(m.buf[m.committed:size], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
			return nil
		}
		m.committed = size
	}
	return m.buf[:size]
}

func (m *mmapMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf)
		m.buf, m.committed = nil, 0
	}
}

// heapMemory is a guest memory on the Go heap, allocated at its maximum at
// once so that it never moves: the fallback when mapping fails.
type heapMemory struct {
	buf []byte
}

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > uint64(cap(m.buf)) {
		return nil
	}
	m.buf = m.buf[:size]
	return m.buf
}

func (m *heapMemory) Free() { m.buf = nil }
