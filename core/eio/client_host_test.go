package eio

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// netHost is a tiny in-memory host that wires a Client to a real Server:
// every effect of one side becomes an input of the other, delivered in FIFO
// order with no latency, under an injected clock. Conn ids are the
// Client's, used on both sides.
type netHost struct {
	t   *testing.T
	now int64
	c   *Client
	s   *Server

	queue   []func()
	handles map[uint64]Handle // server session of each conn
	bodies  map[uint64][]byte // POST bodies waiting for EffReadBody
	ws      map[uint64]bool   // conns that are WebSockets (dialed)
	live    map[uint64]bool   // conns open or in flight

	// What happened, for the assertions.
	client   []ClientEffect // the Client's application effects (open, message, upgrade, errors, close)
	clientAt []int64        // when each of them happened
	server   []Effect       // the Server's application effects
	requests []ClientEffect // every request and dial of the Client
	c2s      []string       // frames the Client wrote ("conn:" omitted), text or "bin:<hex>"
	s2c      []string       // frames the Server wrote

	// Faults.
	dropS2C   bool // the server's answers and frames never reach the client
	dropC2SWS bool // the client's WebSocket frames never reach the server
	// refuseUpgrade, when not 0, is the status with which a proxy answers
	// every WebSocket that carries a sid (an upgrade probe).
	refuseUpgrade int

	rec *[]ctStep // when set, every input of the Client is recorded
}

func newNetHost(t *testing.T, ccfg ClientConfig, scfg Config) *netHost {
	return &netHost{
		t: t, c: NewClient(ccfg), s: NewServer(scfg),
		handles: map[uint64]Handle{}, bodies: map[uint64][]byte{},
		ws: map[uint64]bool{}, live: map[uint64]bool{},
	}
}

func testServerConfig() Config {
	cfg := DefaultConfig(counterRandom())
	cfg.PingInterval, cfg.PingTimeout, cfg.UpgradeTimeout = 300, 200, 1000
	return cfg
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func contentTypeOf(c Content) string {
	switch c {
	case ContentText:
		return "text/plain; charset=UTF-8"
	case ContentBinary:
		return "application/octet-stream"
	case ContentHTML:
		return "text/html"
	case ContentJSON:
		return "application/json"
	}
	return ""
}

// parseQuery turns a Client's query into the Server's Request fields.
func parseQuery(q string) (r Request) {
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

func frameString(binary bool, b []byte) string {
	if binary {
		const hexd = "0123456789abcdef"
		out := []byte("bin:")
		for _, c := range b {
			out = append(out, hexd[c>>4], hexd[c&15])
		}
		return string(out)
	}
	return string(b)
}

// collect takes both sides' effects and turns them into deliveries.
func (h *netHost) collect() {
	for _, e := range h.c.Effects() {
		h.fromClient(e)
	}
	for _, e := range h.s.Effects() {
		h.fromServer(e)
	}
}

func (h *netHost) fromClient(e ClientEffect) {
	e.Prefix, e.Data = clone(e.Prefix), clone(e.Data)
	conn := e.Conn
	switch e.Kind {
	case CEffRequest, CEffDial:
		h.requests = append(h.requests, e)
		h.live[conn] = true
		r := parseQuery(e.Query)
		r.Conn, r.Method, r.Binary = conn, e.Method, e.Content == ContentBinary
		if e.Kind == CEffDial {
			r.Method, r.Upgrade = "GET", true
			h.ws[conn] = true
		}
		if e.Method == "POST" {
			h.bodies[conn] = e.Data
		}
		if r.Upgrade && r.SID != "" && h.refuseUpgrade != 0 {
			h.live[conn] = false
			body := []byte("<html><body>Bad Gateway</body></html>")
			h.queue = append(h.queue, func() { h.response(conn, h.refuseUpgrade, "text/html", body) })
			return
		}
		h.queue = append(h.queue, func() { h.handles[conn] = h.s.Request(h.now, &r) })
	case CEffWrite:
		data := append(e.Prefix, e.Data...)
		h.c2s = append(h.c2s, frameString(e.Binary, data))
		if h.dropC2SWS {
			return
		}
		h.queue = append(h.queue, func() {
			if h.live[conn] {
				h.s.Frame(h.now, conn, h.handles[conn], e.Binary, data)
			}
		})
	case CEffCloseConn:
		h.queue = append(h.queue, func() {
			if h.live[conn] {
				h.live[conn] = false
				h.s.ConnClosed(h.now, conn, h.handles[conn], false)
			}
		})
	default:
		h.client = append(h.client, e)
		h.clientAt = append(h.clientAt, h.now)
	}
}

func (h *netHost) fromServer(e Effect) {
	e.Prefix, e.Data = clone(e.Prefix), clone(e.Data)
	conn := e.Conn
	switch e.Kind {
	case EffRespond, EffReject:
		status, ct, body := e.Status, contentTypeOf(e.Content), e.Data
		if e.Kind == EffReject {
			ct, body = "text/html", []byte(e.Text)
		}
		if !h.ws[conn] {
			h.live[conn] = false
		}
		if h.dropS2C {
			return
		}
		h.queue = append(h.queue, func() { h.response(conn, status, ct, body) })
	case EffReadBody:
		body, limit := h.bodies[conn], e.Status
		delete(h.bodies, conn)
		h.queue = append(h.queue, func() {
			st := BodyOK
			if len(body) > limit {
				st = BodyTooLarge
			}
			h.s.Body(h.now, conn, h.handles[conn], body, st)
		})
	case EffAccept:
		if h.dropS2C {
			return
		}
		h.queue = append(h.queue, func() {
			h.clientCall(ctStep{WSOpened: &ctConn{Conn: conn}}, func() { h.c.WSOpened(h.now, conn) })
		})
	case EffWrite:
		data := append(e.Prefix, e.Data...)
		h.s2c = append(h.s2c, frameString(e.Binary, data))
		if h.dropS2C {
			return
		}
		h.queue = append(h.queue, func() {
			h.clientCall(ctStep{Frame: &ctFrame{Conn: conn, Binary: e.Binary, ctBytes: ctBytesOf(e.Binary, data)}}, func() {
				h.c.Frame(h.now, conn, e.Binary, data)
			})
		})
	case EffCloseConn:
		h.queue = append(h.queue, func() {
			if h.live[conn] {
				h.live[conn] = false
				if !h.dropS2C {
					h.clientCall(ctStep{Closed: &ctConn{Conn: conn, Code: 1000}}, func() { h.c.ConnClosed(h.now, conn, 1000) })
				}
			}
		})
	default:
		h.server = append(h.server, e)
	}
}

func (h *netHost) response(conn uint64, status int, ct string, body []byte) {
	st := ctStep{Response: &ctResponse{Conn: conn, Status: status, ContentType: ct, ctBytes: ctBytesOf(false, body)}}
	h.clientCall(st, func() { h.c.Response(h.now, conn, status, ct, body) })
}

// pump delivers everything in flight, and what that causes, until both
// sides are quiet.
func (h *netHost) pump() {
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

// step delivers one thing in flight.
func (h *netHost) step() {
	h.collect()
	require.NotEmpty(h.t, h.queue, "nothing in flight")
	f := h.queue[0]
	h.queue = h.queue[1:]
	f()
	h.collect()
}

// advance moves the clock to `to`, running both sides' timers on the way.
func (h *netHost) advance(to int64) {
	for i := 0; ; i++ {
		require.Less(h.t, i, 100000, "timers do not settle")
		h.pump()
		next, ok := int64(0), false
		if d, k := h.c.NextDeadline(); k {
			next, ok = d, true
		}
		if d, k := h.s.NextDeadline(); k && (!ok || d < next) {
			next, ok = d, true
		}
		if !ok || next > to {
			break
		}
		if next > h.now {
			h.now = next
		}
		if d, ok := h.c.NextDeadline(); ok && d <= h.now {
			h.clientCall(ctStep{Tick: &struct{}{}}, func() { h.c.Tick(h.now) })
		}
		h.s.Tick(h.now)
	}
	h.now = to
	h.pump()
}

// do runs an input of the test at the current time, then pumps.
func (h *netHost) do(f func()) {
	f()
	h.pump()
}

// clientKinds lists the kinds of the Client's application effects.
func (h *netHost) clientKinds() []ClientEffectKind {
	k := make([]ClientEffectKind, len(h.client))
	for i, e := range h.client {
		k[i] = e.Kind
	}
	return k
}

func (h *netHost) serverKinds() []EffectKind {
	return kinds(h.server)
}

// clientMessages lists the messages the Client delivered, binary ones as
// "bin:<hex>".
func (h *netHost) clientMessages() []string {
	var out []string
	for _, e := range h.client {
		if e.Kind == CEffMessage {
			out = append(out, frameString(e.Binary, e.Data))
		}
	}
	return out
}

func (h *netHost) serverMessages() []string {
	var out []string
	for _, e := range h.server {
		if e.Kind == EffMessage {
			out = append(out, frameString(e.Binary, e.Data))
		}
	}
	return out
}

// lastClient returns the Client's last application effect of kind k.
func (h *netHost) lastClient(k ClientEffectKind) (ClientEffect, int64) {
	for i := len(h.client) - 1; i >= 0; i-- {
		if h.client[i].Kind == k {
			return h.client[i], h.clientAt[i]
		}
	}
	h.t.Fatalf("no %v effect among %v", k, h.clientKinds())
	return ClientEffect{}, 0
}

func (h *netHost) lastServer(k EffectKind) Effect {
	for i := len(h.server) - 1; i >= 0; i-- {
		if h.server[i].Kind == k {
			return h.server[i]
		}
	}
	h.t.Fatalf("no server effect %v among %v", k, h.serverKinds())
	return Effect{}
}

// posts lists the bodies of the Client's POSTs.
func (h *netHost) posts() []string {
	var out []string
	for _, r := range h.requests {
		if r.Method == "POST" {
			out = append(out, string(r.Data))
		}
	}
	return out
}

func (h *netHost) queries() []string {
	var out []string
	for _, r := range h.requests {
		m := r.Method
		if r.Kind == CEffDial {
			m = "WS"
		}
		out = append(out, m+" "+r.Query)
	}
	return out
}
