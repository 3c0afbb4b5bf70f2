package abi

import (
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// Backend is the core's contract as Go methods: one per input record kind
// (bindings/ABI.md), each returning the record's result, and Effects for
// the effect list. A host drives every core through it, so what a socket,
// a transport or the API does is written once whether the core runs
// natively (Native: direct calls, no encoding) or in WebAssembly
// (hostwasm's Core: input records in, the effect list decoded out).
//
// A Backend is driven by one goroutine at a time (the host's lock). The
// effects of the calls made since the last Effects are returned by the
// next Effects; their byte fields stay valid until the next call, except
// the Data and Attachments of message, connect, event and ack effects,
// which belong to the host (a backend whose output memory is reused copies
// them).
//
// A backend that fails (a guest that traps or panics) returns zero results
// from then on, and Effects reports the error: the host then discards the
// backend with the sessions it held.
type Backend interface {
	Request(now int64, r *eio.Request) eio.Handle
	Body(now int64, conn uint64, h eio.Handle, body []byte, st eio.BodyStatus)
	Frame(now int64, conn uint64, h eio.Handle, binary bool, data []byte)
	ConnClosed(now int64, conn uint64, h eio.Handle, errored bool)
	Send(now int64, h eio.Handle, binary bool, data []byte) bool
	CloseSession(now int64, h eio.Handle, reason, desc string)
	CloseAll(now int64, reason string)
	Tick(now int64)
	// Accept, Refuse, Emit, Broadcast and Leave are the Socket.IO layer's:
	// they do nothing (and return false or 0) when it is off.
	Accept(now int64, h eio.Handle, nsp, sid, pid string) bool
	Refuse(now int64, h eio.Handle, nsp, message string, data []byte)
	// Emit's flags are the packet's options (volatile, compress: false).
	Emit(now int64, h eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) bool
	// Broadcast emits one encoded packet to every session of hs, handing
	// the payload to the core once; it returns how many sessions took it.
	Broadcast(now int64, hs []eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) int
	Leave(now int64, h eio.Handle, nsp string) bool
	// Session returns the id, protocol (3 or 4) and transport of session
	// h; a zero protocol for a stale handle.
	Session(h eio.Handle) (sid string, protocol int, transport string)
	Len() int
	NextDeadline() (int64, bool)
	Effects() ([]eio.Effect, error)
}

// Native runs the core in the host's process: each method is a direct call
// into eio.Server and sio.Server, with no encoding and no allocation.
type Native struct {
	e *eio.Server
	s *sio.Server
}

var _ Backend = (*Native)(nil)

// NewNative returns a native backend with configuration c; system is the
// secure random source used when c.Random is RandomSystem.
func NewNative(c Config, system func([]byte)) (*Native, error) {
	core, err := New(c, system)
	if err != nil {
		return nil, err
	}
	return &Native{e: core.e, s: core.s}, nil
}

func (n *Native) Request(now int64, r *eio.Request) eio.Handle { return n.e.Request(now, r) }

func (n *Native) Body(now int64, conn uint64, h eio.Handle, body []byte, st eio.BodyStatus) {
	n.e.Body(now, conn, h, body, st)
}

func (n *Native) Frame(now int64, conn uint64, h eio.Handle, binary bool, data []byte) {
	n.e.Frame(now, conn, h, binary, data)
}

func (n *Native) ConnClosed(now int64, conn uint64, h eio.Handle, errored bool) {
	n.e.ConnClosed(now, conn, h, errored)
}

func (n *Native) Send(now int64, h eio.Handle, binary bool, data []byte) bool {
	return n.e.Send(now, h, binary, data)
}

func (n *Native) CloseSession(now int64, h eio.Handle, reason, desc string) {
	n.e.CloseSessionDesc(now, h, reason, desc)
}

func (n *Native) CloseAll(now int64, reason string) { n.e.CloseAll(now, reason) }

func (n *Native) Tick(now int64) { n.e.Tick(now) }

func (n *Native) Accept(now int64, h eio.Handle, nsp, sid, pid string) bool {
	return n.s != nil && n.s.Accept(now, h, nsp, sid, pid)
}

func (n *Native) Refuse(now int64, h eio.Handle, nsp, message string, data []byte) {
	if n.s != nil {
		n.s.Refuse(now, h, nsp, message, data)
	}
}

func (n *Native) Emit(now int64, h eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) bool {
	return n.s != nil && n.s.Send(now, h, nsp, text, attachments, flags)
}

func (n *Native) Broadcast(now int64, hs []eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) int {
	if n.s == nil {
		return 0
	}
	return n.s.Broadcast(now, hs, nsp, text, attachments, flags)
}

func (n *Native) Leave(now int64, h eio.Handle, nsp string) bool {
	return n.s != nil && n.s.Leave(now, h, nsp)
}

func (n *Native) Session(h eio.Handle) (string, int, string) {
	return n.e.SID(h), n.e.Protocol(h), n.e.TransportName(h)
}

func (n *Native) Len() int { return n.e.Len() }

// Namespaces returns the namespaces session h has joined, in joining
// order (none without the Socket.IO layer). It is no ABI input: the
// transcripts check it natively.
func (n *Native) Namespaces(h eio.Handle) []string {
	if n.s == nil {
		return nil
	}
	return n.s.Namespaces(h)
}

func (n *Native) NextDeadline() (int64, bool) { return n.e.NextDeadline() }

func (n *Native) Effects() ([]eio.Effect, error) { return n.e.Effects(), nil }
