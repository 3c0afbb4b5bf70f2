// Package abi is the binary contract between siohost's protocol core and
// its hosts: the records a host writes to feed the core (HTTP request
// metadata, bodies, WebSocket frames, closed connections, application
// commands, ticks), the list of effects the core writes back, and the
// configuration record. It is the contract that bindings/wasm exports from
// the WebAssembly module, and Core runs it natively as well, so a native
// host and a WebAssembly host drive the core through the very same
// encoding and decoding code.
//
// The layouts, kinds and status codes are documented in bindings/ABI.md;
// Version names the revision of that document this package implements.
//
// Like the rest of core, this package depends on the standard library alone
// and avoids fmt, encoding/json and reflect, so that it compiles to small
// WebAssembly modules.
package abi

import "errors"

// Version is the ABI revision: the value of the module's abi_version export
// and the first field of the configuration record. It changes whenever a
// layout, a kind or a status changes meaning.
const Version = 4

// InputKind is the kind of an input record.
type InputKind uint8

// Input record kinds.
const (
	InRequest     InputKind = 1  // eio.Server.Request
	InBody        InputKind = 2  // eio.Server.Body
	InFrame       InputKind = 3  // eio.Server.Frame
	InClosed      InputKind = 4  // eio.Server.ConnClosed
	InSend        InputKind = 5  // eio.Server.Send
	InClose       InputKind = 6  // eio.Server.CloseSessionDesc
	InCloseAll    InputKind = 7  // eio.Server.CloseAll
	InTick        InputKind = 8  // eio.Server.Tick
	InAccept      InputKind = 9  // sio.Server.Accept
	InRefuse      InputKind = 10 // sio.Server.Refuse
	InEmit        InputKind = 11 // sio.Server.Send
	InLeave       InputKind = 12 // sio.Server.Leave
	InInfo        InputKind = 13 // session queries: SID, Protocol, TransportName, Namespaces
	InOpenCount   InputKind = 14 // eio.Server.Len
	InBroadcast   InputKind = 15 // sio.Server.Broadcast: Send to each of a list of sessions
	numInputKinds           = InBroadcast + 1
)

var inputKindNames = [numInputKinds]string{"", "request", "body", "frame", "closed", "send", "close",
	"closeAll", "tick", "accept", "refuse", "emit", "leave", "info", "openCount", "broadcast"}

func (k InputKind) String() string {
	if k < numInputKinds && k != 0 {
		return inputKindNames[k]
	}
	return "unknown"
}

// Control record kinds of the output list. Effect records carry the
// eio.EffectKind of the effect (1–31 for Engine.IO, 32 and up for the
// Socket.IO layer); these two kinds are reserved for the ABI itself.
const (
	// KindResult ends the effects of one input and carries its return
	// value.
	KindResult = 0xF0
	// KindDeadline ends the output of a call: the next deadline at which
	// the host must call tick, if any.
	KindDeadline = 0xF1
)

// Status codes returned (negative) by the module's exports instead of a
// length.
const (
	// StatusPanic: the guest recovered a panic. Its message is available
	// through last_error. The core's state may be inconsistent: the host
	// discards the instance.
	StatusPanic = -1
	// StatusBadInput: the input records are malformed (truncated, unknown
	// kind, lengths out of range). Nothing was processed.
	StatusBadInput = -2
	// StatusNotConfigured: process or tick before a successful configure.
	StatusNotConfigured = -3
	// StatusBadConfig: the configuration record is malformed or invalid.
	StatusBadConfig = -4
	// StatusVersion: the configuration record names another ABI version.
	StatusVersion = -5
	// StatusTooLarge: input_reserve asked for more than the guest can
	// allocate in one arena (over 1 GiB).
	StatusTooLarge = -6
)

// Errors of the decoders and of Core. Status maps them to status codes.
var (
	ErrTruncated     = errors.New("abi: truncated record")
	ErrRecordSize    = errors.New("abi: record size out of range")
	ErrUnknownInput  = errors.New("abi: unknown input kind")
	ErrBadInput      = errors.New("abi: invalid input field")
	ErrBadConfig     = errors.New("abi: invalid configuration")
	ErrVersion       = errors.New("abi: configuration for another ABI version")
	ErrNotConfigured = errors.New("abi: not configured")
	ErrBadOutput     = errors.New("abi: malformed output record")
)

// Status returns the status code that an export reports for err (0 for
// nil).
func Status(err error) int32 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrVersion):
		return StatusVersion
	case errors.Is(err, ErrBadConfig):
		return StatusBadConfig
	case errors.Is(err, ErrNotConfigured):
		return StatusNotConfigured
	case errors.Is(err, ErrTruncated), errors.Is(err, ErrRecordSize),
		errors.Is(err, ErrUnknownInput), errors.Is(err, ErrBadInput):
		return StatusBadInput
	}
	return StatusPanic
}

// StatusError returns the error that a negative status code stands for.
func StatusError(status int32) error {
	switch status {
	case StatusBadInput:
		return ErrBadInput
	case StatusNotConfigured:
		return ErrNotConfigured
	case StatusBadConfig:
		return ErrBadConfig
	case StatusVersion:
		return ErrVersion
	case StatusTooLarge:
		return errTooLarge
	}
	return errPanic
}

var (
	errPanic    = errors.New("abi: the core panicked")
	errTooLarge = errors.New("abi: arena too large")
)
