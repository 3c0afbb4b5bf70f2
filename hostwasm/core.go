package hostwasm

import (
	"context"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// Core is an Instance seen as an abi.Backend, the interface through which
// hostnative drives its cores: with it, a hostnative Server or Engine runs
// its shards in WebAssembly, with the same API and transports as natively
// (hostnative.EngineOptions.Core = module.NewCore).
//
// The effect list lives in the guest's output arena, which the next call
// overwrites, so Core copies the fields that the host keeps beyond its
// lock (message, connect, event and ack data and attachments) right after
// the call, in one allocation per call that delivers any. A Core whose
// instance trapped or panicked returns zero results, and Effects reports
// why; the host replaces it.
type Core struct {
	in    *Instance
	effs  []eio.Effect // the last call's effects, not yet taken
	carry []eio.Effect // effects of earlier calls, copied out of the arena
	err   error
	enc   abi.Encoder
}

var _ abi.Backend = (*Core)(nil)

// NewCore instantiates the module with configuration cfg. Its signature is
// that of hostnative's EngineOptions.Core.
func (m *Module) NewCore(cfg abi.Config) (abi.Backend, error) {
	in, err := m.NewInstance(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	return &Core{in: in}, nil
}

// Instance returns the instance behind c.
func (c *Core) Instance() *Instance { return c.in }

// Close discards the instance.
func (c *Core) Close() error { return c.in.Close() }

// before saves the effects that the coming call would overwrite: a host
// normally takes them between calls, so this copy is rare.
func (c *Core) before() bool {
	if len(c.effs) > 0 {
		c.carry = append(c.carry, c.effs...)
		ownAll(c.carry[len(c.carry)-len(c.effs):])
	}
	c.effs = nil
	return c.err == nil
}

// after records a call's effects, copying what the host keeps, or its
// error.
func (c *Core) after(effs []eio.Effect, err error) {
	if err != nil {
		c.err, c.effs = err, nil
		return
	}
	c.effs = effs
	ownDelivered(effs)
}

// ownDelivered copies the data and attachments of the effects that the host
// hands to application handlers, all into one allocation.
func ownDelivered(effs []eio.Effect) {
	n, lists := 0, 0
	for i := range effs {
		if delivered(effs[i].Kind) {
			n += len(effs[i].Data)
			for _, a := range effs[i].Attachments {
				n += len(a)
			}
			lists += len(effs[i].Attachments)
		}
	}
	if n == 0 && lists == 0 {
		return
	}
	slab := make([]byte, 0, n)
	var heads [][]byte
	if lists > 0 {
		heads = make([][]byte, 0, lists)
	}
	for i := range effs {
		e := &effs[i]
		if !delivered(e.Kind) {
			continue
		}
		slab, e.Data = keep(slab, e.Data)
		if e.Attachments != nil {
			start := len(heads)
			for _, a := range e.Attachments {
				var k []byte
				slab, k = keep(slab, a)
				heads = append(heads, k)
			}
			e.Attachments = heads[start:len(heads):len(heads)]
		}
	}
}

// ownAll copies every byte field of effs out of the arena.
func ownAll(effs []eio.Effect) {
	for i := range effs {
		e := &effs[i]
		e.Prefix = clone(e.Prefix)
		e.Data = clone(e.Data)
		if e.Attachments != nil {
			atts := make([][]byte, len(e.Attachments))
			for k, a := range e.Attachments {
				atts[k] = clone(a)
			}
			e.Attachments = atts
		}
	}
}

func delivered(k eio.EffectKind) bool {
	switch k {
	case eio.EffMessage, sio.EffConnect, sio.EffEvent, sio.EffAck:
		return true
	}
	return false
}

// keep appends v to slab (whose capacity was reserved) and returns the
// copy, clipped; nil stays nil.
func keep(slab, v []byte) ([]byte, []byte) {
	if v == nil {
		return slab, nil
	}
	start := len(slab)
	slab = append(slab, v...)
	return slab, slab[start:len(slab):len(slab)]
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Effects returns the effects of the calls since the last Effects, or the
// error that discarded the instance.
func (c *Core) Effects() ([]eio.Effect, error) {
	if c.err != nil {
		return nil, c.err
	}
	effs := c.effs
	c.effs = nil
	if len(c.carry) > 0 {
		effs = append(c.carry, effs...)
		c.carry = nil
	}
	return effs, nil
}

func (c *Core) Request(now int64, r *eio.Request) eio.Handle {
	if !c.before() {
		return 0
	}
	h, effs, err := c.in.Request(now, r)
	c.after(effs, err)
	return h
}

func (c *Core) Body(now int64, conn uint64, h eio.Handle, body []byte, st eio.BodyStatus) {
	if c.before() {
		c.after(c.in.Body(now, conn, h, body, st))
	}
}

func (c *Core) Frame(now int64, conn uint64, h eio.Handle, binary bool, data []byte) {
	if c.before() {
		c.after(c.in.Frame(now, conn, h, binary, data))
	}
}

func (c *Core) ConnClosed(now int64, conn uint64, h eio.Handle, errored bool) {
	if c.before() {
		c.after(c.in.ConnClosed(now, conn, h, errored))
	}
}

func (c *Core) Send(now int64, h eio.Handle, binary bool, data []byte) bool {
	if !c.before() {
		return false
	}
	ok, effs, err := c.in.Send(now, h, binary, data)
	c.after(effs, err)
	return ok && err == nil
}

func (c *Core) CloseSession(now int64, h eio.Handle, reason, desc string) {
	if c.before() {
		c.after(c.in.CloseSession(now, h, reason, desc))
	}
}

func (c *Core) CloseAll(now int64, reason string) {
	if c.before() {
		c.after(c.in.CloseAll(now, reason))
	}
}

func (c *Core) Tick(now int64) {
	if c.before() {
		c.after(c.in.Tick(now))
	}
}

func (c *Core) Accept(now int64, h eio.Handle, nsp, sid, pid string) bool {
	if !c.before() {
		return false
	}
	ok, effs, err := c.in.Accept(now, h, nsp, sid, pid)
	c.after(effs, err)
	return ok && err == nil
}

func (c *Core) Refuse(now int64, h eio.Handle, nsp, message string, data []byte) {
	if c.before() {
		c.after(c.in.Refuse(now, h, nsp, message, data))
	}
}

func (c *Core) Emit(now int64, h eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) bool {
	if !c.before() {
		return false
	}
	ok, effs, err := c.in.Emit(now, h, nsp, text, attachments, flags)
	c.after(effs, err)
	return ok && err == nil
}

func (c *Core) Broadcast(now int64, hs []eio.Handle, nsp string, text []byte, attachments [][]byte, flags sio.SendFlags) int {
	if len(hs) == 0 || !c.before() {
		return 0
	}
	n, effs, err := c.in.Broadcast(now, hs, nsp, text, attachments, flags)
	c.after(effs, err)
	return n
}

func (c *Core) Leave(now int64, h eio.Handle, nsp string) bool {
	if !c.before() {
		return false
	}
	ok, effs, err := c.in.Leave(now, h, nsp)
	c.after(effs, err)
	return ok && err == nil
}

func (c *Core) Session(h eio.Handle) (string, int, string) {
	if !c.before() {
		return "", 0, ""
	}
	info, err := c.in.Info(h)
	c.after(nil, err)
	return info.SID, info.Protocol, info.Transport
}

func (c *Core) Len() int {
	if !c.before() {
		return 0
	}
	n, err := c.in.Len()
	c.after(nil, err)
	return n
}

// NextDeadline is the one that ended the last call's output: no call into
// the guest.
func (c *Core) NextDeadline() (int64, bool) {
	if c.err != nil {
		return 0, false
	}
	return c.in.deadline()
}
