package hostnative

import (
	"net/http"

	"github.com/gobwas/ws"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// CoreFactory makes the core of one shard from its configuration. The
// default runs the core natively (abi.NewNative); hostwasm's
// (*Module).NewCore runs it in WebAssembly.
type CoreFactory func(abi.Config) (abi.Backend, error)

func nativeCore(c abi.Config) (abi.Backend, error) { return abi.NewNative(c, randomBytes) }

// newCore makes a shard's core. A factory that fails leaves the shard with
// a stub that fails every call: each call is answered 500 and makes the
// shard try the factory again.
func (e *Engine) newCore(cfg abi.Config) abi.Backend {
	f := e.opts.Core
	if f == nil {
		f = nativeCore
	}
	core, err := f(cfg)
	if err != nil {
		e.opts.Logger.Error("siohost: cannot make a core", "error", err)
		return stubCore{err}
	}
	return core
}

// idle reports whether the shard has no core (none made yet, or released).
func (sh *shard) idle() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s, ok := sh.core.(stubCore)
	return ok && s.err == nil
}

// ensureCore makes the shard's core, under the lock, if it has none. Only
// a request can open a session, so only requests need one: a shard may
// never see a session, and the readers of the WebSockets that Engine.Close
// ended must not make a core again (an instance costs a few MiB).
func (sh *shard) ensureCore() {
	if s, ok := sh.core.(stubCore); ok && s.err == nil {
		sh.core = sh.e.newCore(sh.cfg)
	}
}

// abiConfig is the configuration of the cores of an engine, shard prefix
// aside.
func (e *Engine) abiConfig() abi.Config {
	var c abi.Config
	c.SetEngine(e.opts.coreConfig(nil))
	if e.sio != nil {
		c.SocketIO = true
		c.ConnectTimeout = e.sio.opts.ConnectTimeout.Milliseconds()
		c.Parser = e.sio.opts.Parser
	}
	return c
}

// crash replaces a core that failed (a WebAssembly guest that trapped or
// panicked), under the shard lock. Its sessions are gone with it: each
// closes with "transport error" (and its sockets disconnect with that
// reason), its WebSockets are closed with 1011, and its parked and
// calling requests are answered 500. The other shards never notice.
func (sh *shard) crash(b *batch, err error) {
	sh.e.opts.Logger.Error("siohost: the core failed; its sessions are closed and a new core takes over",
		"sessions", len(sh.conns), "error", err)
	sh.core = sh.e.newCore(sh.cfg)
	sh.timer.stop()
	failed := pollResponse{status: http.StatusInternalServerError, content: eio.ContentText, body: []byte("Internal Server Error")}
	for conn, ch := range sh.waiters {
		delete(sh.waiters, conn)
		ch <- failed
	}
	for id, wc := range sh.sockets {
		delete(sh.sockets, id)
		wc.enqueueClose(int(ws.StatusInternalServerError))
		b.addFlush(wc)
	}
	desc := err.Error()
	for h, c := range sh.conns {
		delete(sh.conns, h)
		c.closed.Store(true)
		c.mu.Lock()
		nsps := make([]string, 0, len(c.sockets))
		for nsp := range c.sockets {
			nsps = append(nsps, nsp)
		}
		c.mu.Unlock()
		for _, nsp := range nsps {
			b.queueEvent(event{kind: evDisconnect, c: c, nsp: nsp, reason: eio.ReasonTransportError, desc: desc})
		}
		b.queueEvent(event{kind: evClose, c: c, reason: eio.ReasonTransportError, desc: desc})
	}
	b.opened, b.selfOpen = b.opened[:0], nil
	if b.conn != 0 && !b.self.answered {
		b.self = outcome{answered: true, respond: true, resp: failed}
	}
}

// stubCore stands in for a core: with err nil, while the shard has none
// (no session, so every call is rightly a no-op); with err set, for a core
// that could not be made, whose every call fails so that the shard tries
// again.
type stubCore struct{ err error }

func (stubCore) Request(int64, *eio.Request) eio.Handle                                     { return 0 }
func (stubCore) Body(int64, uint64, eio.Handle, []byte, eio.BodyStatus)                     {}
func (stubCore) Frame(int64, uint64, eio.Handle, bool, []byte)                              {}
func (stubCore) ConnClosed(int64, uint64, eio.Handle, bool)                                 {}
func (stubCore) Send(int64, eio.Handle, bool, []byte) bool                                  { return false }
func (stubCore) CloseSession(int64, eio.Handle, string, string)                             {}
func (stubCore) CloseAll(int64, string)                                                     {}
func (stubCore) Tick(int64)                                                                 {}
func (stubCore) Accept(int64, eio.Handle, string, string, string) bool                      { return false }
func (stubCore) Refuse(int64, eio.Handle, string, string, []byte)                           {}
func (stubCore) Emit(int64, eio.Handle, string, []byte, [][]byte, sio.SendFlags) bool       { return false }
func (stubCore) Broadcast(int64, []eio.Handle, string, []byte, [][]byte, sio.SendFlags) int { return 0 }
func (stubCore) Leave(int64, eio.Handle, string) bool                                       { return false }
func (stubCore) Session(eio.Handle) (string, int, string)                                   { return "", 0, "" }
func (stubCore) Len() int                                                                   { return 0 }
func (stubCore) NextDeadline() (int64, bool)                                                { return 0, false }
func (s stubCore) Effects() ([]eio.Effect, error)                                           { return nil, s.err }
