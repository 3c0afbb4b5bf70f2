package hostwasm

import (
	"errors"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
	"github.com/tetratelabs/wazero/api"
)

// The calls of an Instance, one per input record of the server section of
// the ABI (bindings/ABI.md), each returning the record's result and
// effects.

// Process runs a batch of input records at time now and returns the
// decoded output, valid until the next call: Results[k] is the outcome of
// the k-th record and ends its effects.
func (i *Instance) Process(now int64, batch *abi.Encoder) (*abi.Output, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if err := i.runBatch(now, batch); err != nil {
		return nil, err
	}
	if len(i.out.Results) != batch.Len() {
		return nil, i.trap(errors.New("the output has not one result per input"))
	}
	return &i.out, nil
}

// Request handles the metadata of an HTTP request (eio.Server.Request).
func (i *Instance) Request(now int64, r *eio.Request) (eio.Handle, []eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Request(r)
	v, effs, err := i.one(now)
	return eio.Handle(v), effs, err
}

// Body hands over the body of a POST request (eio.Server.Body).
func (i *Instance) Body(now int64, conn uint64, h eio.Handle, body []byte, st eio.BodyStatus) ([]eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Body(conn, h, body, st)
	_, effs, err := i.one(now)
	return effs, err
}

// Frame handles a WebSocket message (eio.Server.Frame).
func (i *Instance) Frame(now int64, conn uint64, h eio.Handle, binary bool, data []byte) ([]eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Frame(conn, h, binary, data)
	_, effs, err := i.one(now)
	return effs, err
}

// ConnClosed tells that a connection went away (eio.Server.ConnClosed).
func (i *Instance) ConnClosed(now int64, conn uint64, h eio.Handle, errored bool) ([]eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.ConnClosed(conn, h, errored)
	_, effs, err := i.one(now)
	return effs, err
}

// Send sends an Engine.IO message (eio.Server.Send).
func (i *Instance) Send(now int64, h eio.Handle, binary bool, data []byte) (bool, []eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Send(h, binary, data)
	v, effs, err := i.one(now)
	return v != 0, effs, err
}

// CloseSession closes a session (eio.Server.CloseSessionDesc).
func (i *Instance) CloseSession(now int64, h eio.Handle, reason, desc string) ([]eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.CloseSession(h, reason, desc)
	_, effs, err := i.one(now)
	return effs, err
}

// CloseAll closes every session (eio.Server.CloseAll).
func (i *Instance) CloseAll(now int64, reason string) ([]eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.CloseAll(reason)
	_, effs, err := i.one(now)
	return effs, err
}

// Tick runs the timers due at now (eio.Server.Tick), through the tick
// export.
func (i *Instance) Tick(now int64) ([]eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil {
		return nil, i.err
	}
	i.call[0] = api.EncodeF64(float64(now))
	if err := i.fn[fnTick].CallWithStack(i.ctx, i.call[:]); err != nil {
		return nil, i.trap(err)
	}
	if err := i.readOutput(api.DecodeI32(i.call[0])); err != nil {
		return nil, err
	}
	return i.out.Effects, nil
}

// NextDeadline returns the earliest time at which the host must call
// Tick, and false when no timer is pending (eio.Server.NextDeadline).
func (i *Instance) NextDeadline() (int64, bool, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.err != nil {
		return 0, false, i.err
	}
	v, err := i.call0(fnNextDeadline)
	if err != nil {
		return 0, false, i.trap(err)
	}
	at := api.DecodeF64(v)
	if at < 0 {
		return 0, false, nil
	}
	return int64(at), true, nil
}

// Accept answers a CONNECT (sio.Server.Accept).
func (i *Instance) Accept(now int64, h eio.Handle, nsp, sid, pid string) (bool, []eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Accept(h, nsp, sid, pid)
	v, effs, err := i.one(now)
	return v != 0, effs, err
}

// Refuse refuses a CONNECT (sio.Server.Refuse).
func (i *Instance) Refuse(now int64, h eio.Handle, nsp, message string, data []byte) ([]eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Refuse(h, nsp, message, data)
	_, effs, err := i.one(now)
	return effs, err
}

// Emit sends an encoded Socket.IO packet (sio.Server.Send).
func (i *Instance) Emit(now int64, h eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) (bool, []eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Emit(h, nsp, text, attachments, flags)
	v, effs, err := i.one(now)
	return v != 0, effs, err
}

// Leave disconnects a namespace from the server's side (sio.Server.Leave).
func (i *Instance) Leave(now int64, h eio.Handle, nsp string) (bool, []eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Leave(h, nsp)
	v, effs, err := i.one(now)
	return v != 0, effs, err
}

// Info is what the core knows of one session.
type Info struct {
	Protocol   int    // 3 or 4; 0 for a stale handle
	SID        string // the session id
	Transport  string // "polling" or "websocket"
	Namespaces []string
}

// Info returns the particulars of session h (eio.Server.SID, Protocol,
// TransportName and sio.Server.Namespaces).
func (i *Instance) Info(h eio.Handle) (Info, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Info(h)
	if _, _, err := i.one(0); err != nil {
		return Info{}, err
	}
	r := &i.out.Results[0]
	return Info{Protocol: int(r.Value), SID: r.SID, Transport: r.Transport, Namespaces: r.Namespaces}, nil
}

// Len returns the number of open sessions (eio.Server.Len).
func (i *Instance) Len() (int, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.OpenCount()
	v, _, err := i.one(0)
	return int(v), err
}

// Broadcast emits one encoded packet to every session of hs (sio.Server.Send
// for each), in one broadcast record: the payload crosses into the guest
// once. It returns how many sessions took it.
func (i *Instance) Broadcast(now int64, hs []eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) (int, []eio.Effect, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.enc.Reset()
	i.enc.Broadcast(hs, nsp, text, attachments, flags)
	v, effs, err := i.one(now)
	return int(v), effs, err
}

// deadline returns the next deadline that ended the last output, without
// calling into the guest.
func (i *Instance) deadline() (int64, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.out.Deadline, i.out.HasDeadline
}
