package sio

import (
	"strings"
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

// sioHost is a tiny in-memory host for both ends of a connection: an
// eio.Client carrying a sio.Client, and an eio.Server carrying a
// sio.Server. Transport traffic is delivered in FIFO order with no
// latency, under an injected clock; the sio.Client's sends go straight to
// its eio.Client, as a real host does. The test plays the server's
// application: CONNECTs are accepted by accept (by default with sid
// "sid-<nsp>") unless it is replaced.
type sioHost struct {
	t   *testing.T
	now int64

	ecfg eio.ClientConfig
	ec   *eio.Client // the current Engine.IO session of the client
	c    *Client
	es   *eio.Server
	s    *Server

	// accept decides on a CONNECT seen by the server (EffConnect).
	accept func(e eio.Effect)

	queue   []func()
	handles map[uint64]eio.Handle
	bodies  map[uint64][]byte
	ws      map[uint64]bool
	live    map[uint64]bool

	client  []ClientEffect // the sio.Client's effects but sends, cloned
	engine  []eio.ClientEffect
	server  []eio.Effect // the sio.Server's application effects, cloned
	c2s     []string     // messages the sio.Client sent (see msgString)
	s2c     []string     // messages the eio.Client delivered
	dropS2C bool         // the server's frames never reach the client
	dials   []uint64     // WebSockets the eio.Client dialed
}

func newSIOHost(t *testing.T, protocol int, transports eio.Transports) *sioHost {
	calls := 0
	scfg := eio.DefaultConfig(func(b []byte) {
		calls++
		for i := range b {
			b[i] = byte(calls)
		}
	})
	scfg.PingInterval, scfg.PingTimeout, scfg.UpgradeTimeout = 300, 200, 1000
	scfg.AllowEIO3 = true
	es := eio.NewServer(scfg)
	h := &sioHost{
		t:    t,
		ecfg: eio.ClientConfig{Protocol: protocol, Transports: transports, Upgrade: true},
		c:    NewClient(), es: es, s: NewServer(es, Config{}),
		handles: map[uint64]eio.Handle{}, bodies: map[uint64][]byte{},
		ws: map[uint64]bool{}, live: map[uint64]bool{},
	}
	h.accept = func(e eio.Effect) {
		require.True(t, h.s.Accept(h.now, e.Session, e.Nsp, "sid-"+e.Nsp, ""))
	}
	return h
}

// open starts a new Engine.IO session for the client (the first one, or
// a reconnection) and runs until both sides are quiet.
func (h *sioHost) open() {
	h.ec = eio.NewClient(h.ecfg)
	h.ec.Open(h.now)
	h.pump()
	if h.ecfg.Transports == eio.TransportPolling|eio.TransportWebSocket {
		// The upgrade completes on the server's timer: it answers the
		// GET in flight with a noop within 100 ms.
		h.advance(h.now + 200)
	}
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// msgString writes a message as it travels in a WebSocket frame: a text
// one with its Engine.IO type "4", a binary one as "bin:<hex>".
func msgString(binary bool, b []byte) string {
	if binary {
		const hexd = "0123456789abcdef"
		out := []byte("bin:")
		for _, c := range b {
			out = append(out, hexd[c>>4], hexd[c&15])
		}
		return string(out)
	}
	return "4" + string(b)
}

func parseQuery(q string) (r eio.Request) {
	for _, kv := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "EIO":
			r.EIO = v
		case "transport":
			r.Transport = v
		case "sid":
			r.SID = v
		case "b64":
			r.B64 = true
		}
	}
	return r
}

func contentType(c eio.Content) string {
	switch c {
	case eio.ContentText:
		return "text/plain; charset=UTF-8"
	case eio.ContentBinary:
		return "application/octet-stream"
	case eio.ContentHTML:
		return "text/html"
	case eio.ContentJSON:
		return "application/json"
	}
	return ""
}

// collect takes the effects of the three state machines until all are
// quiet. Effects are cloned as they are taken: their bytes may live in
// scratch space that the next call reuses.
func (h *sioHost) collect() bool {
	did := false
	for {
		ce := h.c.Effects()
		var ee []eio.ClientEffect
		if h.ec != nil {
			ee = h.ec.Effects()
		}
		se := h.es.Effects()
		if len(ce) == 0 && len(ee) == 0 && len(se) == 0 {
			return did
		}
		did = true
		cs := make([]ClientEffect, len(ce))
		for i, e := range ce {
			e.Data = cloneBytes(e.Data)
			atts := make([][]byte, len(e.Attachments))
			for j, a := range e.Attachments {
				atts[j] = cloneBytes(a)
			}
			if e.Attachments != nil {
				e.Attachments = atts
			}
			cs[i] = e
		}
		es := make([]eio.ClientEffect, len(ee))
		for i, e := range ee {
			e.Prefix, e.Data = cloneBytes(e.Prefix), cloneBytes(e.Data)
			es[i] = e
		}
		ss := make([]eio.Effect, len(se))
		for i, e := range se {
			e.Prefix, e.Data = cloneBytes(e.Prefix), cloneBytes(e.Data)
			atts := make([][]byte, len(e.Attachments))
			for j, a := range e.Attachments {
				atts[j] = cloneBytes(a)
			}
			e.Attachments = atts
			ss[i] = e
		}
		ec := h.ec
		for _, e := range cs {
			h.fromSIOClient(ec, e)
		}
		for _, e := range es {
			h.fromEIOClient(ec, e)
		}
		for _, e := range ss {
			h.fromServer(e)
		}
	}
}

func (h *sioHost) fromSIOClient(ec *eio.Client, e ClientEffect) {
	switch e.Kind {
	case CEffSend:
		h.c2s = append(h.c2s, msgString(e.Binary, e.Data))
		require.True(h.t, ec.Send(h.now, e.Binary, e.Data), "the engine takes the send")
	case CEffCloseEngine:
		h.client = append(h.client, e)
		ec.Close(h.now)
	default:
		h.client = append(h.client, e)
	}
}

func (h *sioHost) fromEIOClient(ec *eio.Client, e eio.ClientEffect) {
	conn := e.Conn
	switch e.Kind {
	case eio.CEffRequest, eio.CEffDial:
		h.live[conn] = true
		r := parseQuery(e.Query)
		r.Conn, r.Method, r.Binary = conn, e.Method, e.Content == eio.ContentBinary
		if e.Kind == eio.CEffDial {
			r.Method, r.Upgrade = "GET", true
			h.ws[conn] = true
			h.dials = append(h.dials, conn)
		}
		if e.Method == "POST" {
			h.bodies[conn] = e.Data
		}
		h.queue = append(h.queue, func() { h.handles[conn] = h.es.Request(h.now, &r) })
	case eio.CEffWrite:
		data := append(e.Prefix, e.Data...)
		h.queue = append(h.queue, func() {
			if h.live[conn] {
				h.es.Frame(h.now, conn, h.handles[conn], e.Binary, data)
			}
		})
	case eio.CEffCloseConn:
		h.queue = append(h.queue, func() {
			if h.live[conn] {
				h.live[conn] = false
				h.es.ConnClosed(h.now, conn, h.handles[conn], false)
			}
		})
	case eio.CEffOpen:
		h.engine = append(h.engine, e)
		h.c.EngineOpen(h.now, ec.Protocol(), ec.SID())
	case eio.CEffMessage:
		h.s2c = append(h.s2c, msgString(e.Binary, e.Data))
		h.c.Message(h.now, e.Binary, e.Data)
	case eio.CEffError:
		h.engine = append(h.engine, e)
		h.c.EngineError(h.now, e.Err.Error())
	case eio.CEffClose:
		h.engine = append(h.engine, e)
		h.c.EngineClose(h.now, e.Text, e.Desc)
	default:
		h.engine = append(h.engine, e)
	}
}

func (h *sioHost) fromServer(e eio.Effect) {
	conn := e.Conn
	switch e.Kind {
	case eio.EffRespond, eio.EffReject:
		status, ct, body := e.Status, contentType(e.Content), e.Data
		if e.Kind == eio.EffReject {
			ct, body = "text/html", []byte(e.Text)
		}
		if !h.ws[conn] {
			h.live[conn] = false
		}
		if h.dropS2C {
			return
		}
		ec := h.ec
		h.queue = append(h.queue, func() { ec.Response(h.now, conn, status, ct, body) })
	case eio.EffReadBody:
		body, limit := h.bodies[conn], e.Status
		delete(h.bodies, conn)
		h.queue = append(h.queue, func() {
			st := eio.BodyOK
			if len(body) > limit {
				st = eio.BodyTooLarge
			}
			h.es.Body(h.now, conn, h.handles[conn], body, st)
		})
	case eio.EffAccept:
		if h.dropS2C {
			return
		}
		ec := h.ec
		h.queue = append(h.queue, func() { ec.WSOpened(h.now, conn) })
	case eio.EffWrite:
		data := append(e.Prefix, e.Data...)
		if h.dropS2C {
			return
		}
		ec := h.ec
		h.queue = append(h.queue, func() { ec.Frame(h.now, conn, e.Binary, data) })
	case eio.EffCloseConn:
		ec := h.ec
		h.queue = append(h.queue, func() {
			if h.live[conn] {
				h.live[conn] = false
				if !h.dropS2C {
					ec.ConnClosed(h.now, conn, 1000)
				}
			}
		})
	case eio.EffOpen, eio.EffUpgrade: // not recorded
	case EffConnect:
		h.server = append(h.server, e)
		if h.accept != nil {
			h.accept(e)
		}
	default:
		h.server = append(h.server, e)
	}
}

// pump delivers everything in flight, and what that causes, until all
// sides are quiet.
func (h *sioHost) pump() {
	for i := 0; ; i++ {
		require.Less(h.t, i, 100000, "the host does not settle")
		h.collect()
		if len(h.queue) == 0 {
			return
		}
		f := h.queue[0]
		h.queue = h.queue[1:]
		f()
	}
}

// do runs an input of the test at the current time, then pumps.
func (h *sioHost) do(f func()) {
	f()
	h.pump()
}

// advance moves the clock to `to`, running every timer on the way.
func (h *sioHost) advance(to int64) {
	for i := 0; ; i++ {
		require.Less(h.t, i, 100000, "timers do not settle")
		h.pump()
		next, ok := int64(0), false
		for _, f := range []func() (int64, bool){h.c.NextDeadline, h.es.NextDeadline, h.ecDeadline} {
			if d, k := f(); k && (!ok || d < next) {
				next, ok = d, true
			}
		}
		if !ok || next > to {
			break
		}
		if next > h.now {
			h.now = next
		}
		if h.ec != nil {
			h.ec.Tick(h.now)
		}
		h.c.Tick(h.now)
		h.es.Tick(h.now)
	}
	h.now = to
	h.pump()
}

func (h *sioHost) ecDeadline() (int64, bool) {
	if h.ec == nil {
		return 0, false
	}
	return h.ec.NextDeadline()
}

// handle returns the server's handle of the client's current session.
func (h *sioHost) handle() eio.Handle {
	hd := h.es.Lookup(h.ec.SID())
	require.NotZero(h.t, hd)
	return hd
}

// serverSend makes the server's application send a raw packet (text in
// wire notation, "4" first, and attachments) to the client on nsp.
func (h *sioHost) serverSend(nsp, text string, attachments ...[]byte) {
	require.True(h.t, strings.HasPrefix(text, "4"))
	h.do(func() { require.True(h.t, h.s.Send(h.now, h.handle(), nsp, []byte(text[1:]), attachments, 0)) })
}

// clientKinds lists the kinds of the sio.Client's effects (sends left out).
func (h *sioHost) clientKinds() []ClientEffectKind {
	out := make([]ClientEffectKind, len(h.client))
	for i, e := range h.client {
		out[i] = e.Kind
	}
	return out
}

func (h *sioHost) serverKinds() []eio.EffectKind {
	out := make([]eio.EffectKind, len(h.server))
	for i, e := range h.server {
		out[i] = e.Kind
	}
	return out
}

// last returns the sio.Client's last effect of kind k.
func (h *sioHost) last(k ClientEffectKind) ClientEffect {
	h.t.Helper()
	for i := len(h.client) - 1; i >= 0; i-- {
		if h.client[i].Kind == k {
			return h.client[i]
		}
	}
	h.t.Fatalf("no %v effect among %v", k, h.clientKinds())
	return ClientEffect{}
}

func (h *sioHost) lastServer(k eio.EffectKind) eio.Effect {
	h.t.Helper()
	for i := len(h.server) - 1; i >= 0; i-- {
		if h.server[i].Kind == k {
			return h.server[i]
		}
	}
	h.t.Fatalf("no server effect %v among %v", k, h.serverKinds())
	return eio.Effect{}
}

// reset forgets what was recorded so far.
func (h *sioHost) reset() {
	h.client, h.server, h.engine, h.c2s, h.s2c = nil, nil, nil, nil, nil
}
