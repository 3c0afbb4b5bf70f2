package hostnative

import (
	"net/http"

	"github.com/gobwas/ws"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
)

// CoreFactory makes the core of one shard from its configuration. The
// default runs the core natively (abi.NewNative); hostwasm's
// (*Module).NewCore runs it in WebAssembly.
type CoreFactory func(abi.Config) (abi.Backend, error)

func nativeCore(c abi.Config) (abi.Backend, error) { return abi.NewNative(c, randomBytes) }

// newCore makes a shard's core. A factory that fails leaves the shard with
// a core that fails every call: each request is answered 500 and makes
// the shard try the factory again.
func (e *Engine) newCore(cfg abi.Config) abi.Backend {
	f := e.opts.Core
	if f == nil {
		f = nativeCore
	}
	core, err := f(cfg)
	if err != nil {
		e.opts.Logger.Error("siohost: cannot make a core", "error", err)
		return failedCore{err}
	}
	return core
}

// idle reports whether the shard has no core (none made yet, or released).
func (sh *shard) idle() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.core == nil
}

// abiConfig is the configuration of the cores of an engine, shard prefix
// aside.
func (e *Engine) abiConfig() abi.Config {
	var c abi.Config
	c.SetEngine(e.opts.coreConfig(nil))
	if e.sio != nil {
		c.SocketIO = true
		c.ConnectTimeout = e.sio.opts.ConnectTimeout.Milliseconds()
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
	if sh.armed != 0 {
		sh.timer.Stop()
		sh.armed = 0
	}
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

// failedCore stands for a core that could not be made: every call fails,
// so that the shard tries again.
type failedCore struct{ err error }

func (failedCore) Request(int64, *eio.Request) eio.Handle                            { return 0 }
func (failedCore) Body(int64, uint64, eio.Handle, []byte, eio.BodyStatus)            {}
func (failedCore) Frame(int64, uint64, eio.Handle, bool, []byte)                     {}
func (failedCore) ConnClosed(int64, uint64, eio.Handle, bool)                        {}
func (failedCore) Send(int64, eio.Handle, bool, []byte) bool                         { return false }
func (failedCore) CloseSession(int64, eio.Handle, string, string)                    {}
func (failedCore) CloseAll(int64, string)                                            {}
func (failedCore) Tick(int64)                                                        {}
func (failedCore) Accept(int64, eio.Handle, string, string, string) bool             { return false }
func (failedCore) Refuse(int64, eio.Handle, string, string, []byte)                  {}
func (failedCore) Emit(int64, eio.Handle, string, []byte, [][]byte, bool) bool       { return false }
func (failedCore) Broadcast(int64, []eio.Handle, string, []byte, [][]byte, bool) int { return 0 }
func (failedCore) Leave(int64, eio.Handle, string) bool                              { return false }
func (failedCore) Session(eio.Handle) (string, int, string)                          { return "", 0, "" }
func (failedCore) Len() int                                                          { return 0 }
func (failedCore) NextDeadline() (int64, bool)                                       { return 0, false }
func (f failedCore) Effects() ([]eio.Effect, error)                                  { return nil, f.err }
