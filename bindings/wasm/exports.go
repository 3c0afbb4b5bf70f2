//go:build wasip1

package main

import (
	"unsafe"

	"github.com/siohost/siohost/core/abi"
)

// main is never called: the module is a reactor (-buildmode=c-shared), and
// the host calls _initialize, then the exports.
func main() {}

// arenaStart is the initial size of both arenas.
const arenaStart = 64 << 10

// maxArena bounds one arena (and so one batch of input records).
const maxArena = 1 << 30

// fault, set only in builds with the siohost_fault tag (fault.go), sees
// every batch first: the hosts' tests make the guest fail on purpose.
var fault func(in []byte, n int32)

var (
	core    *abi.Core
	input   = make([]byte, arenaStart)
	output  = make([]byte, 0, arenaStart)
	lastErr string
)

func addr(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

// guard turns a panic of the export it is deferred in into StatusPanic;
// last_error then returns the panic's message.
func guard(status *int32) {
	if p := recover(); p != nil {
		switch v := p.(type) {
		case error:
			lastErr = v.Error()
		case string:
			lastErr = v
		default:
			lastErr = "panic"
		}
		*status = abi.StatusPanic
	}
}

// fail records err for last_error and returns its status.
func fail(err error) int32 {
	lastErr = err.Error()
	return abi.Status(err)
}

//go:wasmexport abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport input_ptr
func inputPtr() uint32 { return addr(input) }

//go:wasmexport input_cap
func inputCap() uint32 { return uint32(len(input)) }

// input_reserve makes the input arena at least size bytes long and returns
// its address (it moves when it grows), or 0 when size is over 1 GiB. The
// arena's content is not kept. Running out of memory traps.
//
//go:wasmexport input_reserve
func inputReserve(size uint32) (ptr uint32) {
	defer func() {
		if recover() != nil {
			ptr = 0
		}
	}()
	if size > maxArena {
		return 0
	}
	if int(size) > len(input) {
		n := max(int(size), 2*len(input))
		input = nil // the old arena can go before the new one is made
		input = make([]byte, n)
	}
	return addr(input)
}

//go:wasmexport output_ptr
func outputPtr() uint32 { return addr(output) }

//go:wasmexport output_cap
func outputCap() uint32 { return uint32(cap(output)) }

// configure reads the configuration record (size bytes at input_ptr) and
// replaces the core: every session of a previous configuration is dropped.
//
//go:wasmexport configure
func configure(size uint32) (status int32) {
	defer guard(&status)
	if int(size) > len(input) {
		return fail(abi.ErrBadConfig)
	}
	cfg, err := abi.DecodeConfig(input[:size])
	if err != nil {
		return fail(err)
	}
	c, err := abi.New(cfg, systemRandom)
	if err != nil {
		return fail(err)
	}
	core = c
	return 0
}

// millis converts the host's time to the core's, refusing what is not a
// number of milliseconds that an int64 holds.
func millis(now float64) (int64, bool) {
	const limit = 1 << 62
	if !(now > -limit && now < limit) {
		return 0, false
	}
	return int64(now), true
}

// process runs the n input records at input_ptr at time now (milliseconds)
// and returns the length of the output list at output_ptr, or a negative
// status.
//
//go:wasmexport process
func process(now float64, n int32) (status int32) {
	defer guard(&status)
	if core == nil {
		return fail(abi.ErrNotConfigured)
	}
	t, ok := millis(now)
	if !ok {
		return fail(abi.ErrBadInput)
	}
	if fault != nil {
		fault(input, n)
	}
	out, err := core.Process(output, t, input, int(n))
	output = out
	if err != nil {
		return fail(err)
	}
	return int32(len(out))
}

// tick runs the timers due at now and returns the length of the output
// list, or a negative status.
//
//go:wasmexport tick
func tick(now float64) (status int32) {
	defer guard(&status)
	if core == nil {
		return fail(abi.ErrNotConfigured)
	}
	t, ok := millis(now)
	if !ok {
		return fail(abi.ErrBadInput)
	}
	output = core.Tick(output, t)
	return int32(len(output))
}

// next_deadline returns the time at which the host must call tick, or -1
// when no timer is pending.
//
//go:wasmexport next_deadline
func nextDeadline() (at float64) {
	defer func() {
		if recover() != nil {
			at = -1
		}
	}()
	if core == nil {
		return -1
	}
	d, ok := core.NextDeadline()
	if !ok {
		return -1
	}
	return float64(d)
}

// last_error writes the message of the last failed call at output_ptr and
// returns its length.
//
//go:wasmexport last_error
func lastError() (n int32) {
	defer func() {
		if recover() != nil {
			n = 0
		}
	}()
	output = append(output[:0], lastErr...)
	return int32(len(output))
}

//go:wasmimport wasi_snapshot_preview1 random_get
func randomGet(buf *byte, size uint32) uint32

// systemRandom reads the host's secure random source (WASI random_get).
func systemRandom(b []byte) {
	if len(b) == 0 {
		return
	}
	if errno := randomGet(&b[0], uint32(len(b))); errno != 0 {
		panic("random_get failed")
	}
}
