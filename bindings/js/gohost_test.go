package js_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/internal/browsertest"
	"github.com/stretchr/testify/require"
)

// goHost is what siohost.js does, in Go: it carries out the effects of
// abi.ClientCore with net/http and gobwas/ws and feeds back what happens,
// one record per event. It checks the client contract against a real
// server where no browser is installed, and pins down what a host must do.
type goHost struct {
	t       *testing.T
	httpURL string
	wsURL   string
	epoch   time.Time

	mu     sync.Mutex
	cc     *abi.ClientCore
	enc    abi.ClientEncoder
	out    abi.Output
	buf    []byte
	conns  map[uint64]*hostConn
	timer  *time.Timer
	closed bool
	wg     sync.WaitGroup

	app     chan eio.Effect // application effects, copied
	backlog []eio.Effect    // effects next skipped, for a later next
}

type hostConn struct {
	cancel context.CancelFunc
	ws     net.Conn
}

func newGoHost(t *testing.T, addr string) *goHost {
	return &goHost{t: t, httpURL: "http://" + addr + "/socket.io/", wsURL: "ws://" + addr + "/socket.io/",
		epoch: time.Now(), cc: abi.NewClientCore(func(b []byte) {
			for i := range b {
				b[i] = byte(time.Now().UnixNano() >> (i % 8))
			}
		}), conns: map[uint64]*hostConn{}, app: make(chan eio.Effect, 256)}
}

// do writes one record with fn, runs it and carries out the effects; it
// returns the record's result.
func (h *goHost) do(fn func(*abi.ClientEncoder)) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0
	}
	h.enc.Reset()
	fn(&h.enc)
	var err error
	h.buf, err = h.cc.Process(h.buf, time.Since(h.epoch).Milliseconds()+1, h.enc.Bytes(), h.enc.Len())
	require.NoError(h.t, err)
	require.NoError(h.t, h.out.Decode(h.buf))
	for _, e := range h.out.Effects {
		h.apply(e)
	}
	if h.timer != nil {
		h.timer.Stop()
	}
	if h.out.HasDeadline {
		d := time.Duration(h.out.Deadline-time.Since(h.epoch).Milliseconds()-1) * time.Millisecond
		h.timer = time.AfterFunc(max(d, 0), func() { h.do(func(e *abi.ClientEncoder) { e.Tick() }) })
	}
	return h.out.Results[0].Value
}

func (h *goHost) apply(e eio.Effect) {
	c := uint32(e.Session)
	conn := uint32(e.Conn)
	switch e.Kind {
	case abi.CEffRequest:
		ctx, cancel := context.WithCancel(context.Background())
		h.conns[e.Conn] = &hostConn{cancel: cancel}
		req, _ := http.NewRequestWithContext(ctx, e.Text, h.httpURL+"?"+e.Desc, bytes.NewReader(bytes.Clone(e.Data)))
		if e.Text == "POST" {
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		}
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer cancel()
			res, err := http.DefaultClient.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			if !h.forget(conn) {
				return
			}
			if err != nil {
				h.do(func(enc *abi.ClientEncoder) { enc.Failed(c, conn, err.Error()) })
				return
			}
			h.do(func(enc *abi.ClientEncoder) {
				enc.Response(c, conn, res.StatusCode, res.Header.Get("Content-Type"), body)
			})
		}()
	case abi.CEffWSOpen:
		ctx, cancel := context.WithCancel(context.Background())
		hc := &hostConn{cancel: cancel}
		h.conns[e.Conn] = hc
		url := h.wsURL + "?" + e.Desc
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			nc, _, _, err := ws.Dial(ctx, url)
			if err != nil {
				if h.forget(conn) {
					h.do(func(enc *abi.ClientEncoder) { enc.Failed(c, conn, err.Error()) })
				}
				return
			}
			h.mu.Lock()
			live := h.conns[uint64(conn)] == hc
			hc.ws = nc
			h.mu.Unlock()
			if !live {
				nc.Close()
				return
			}
			h.do(func(enc *abi.ClientEncoder) { enc.WSOpened(c, conn) })
			for {
				data, op, err := wsutil.ReadServerData(nc)
				if err != nil {
					code := 1006
					var ce wsutil.ClosedError
					if errors.As(err, &ce) {
						code = int(ce.Code)
					}
					nc.Close()
					if h.forget(conn) {
						h.do(func(enc *abi.ClientEncoder) { enc.WSClosed(c, conn, code) })
					}
					return
				}
				h.do(func(enc *abi.ClientEncoder) { enc.WSMessage(c, conn, op == ws.OpBinary, data) })
			}
		}()
	case abi.CEffWSSend:
		if hc := h.conns[e.Conn]; hc != nil && hc.ws != nil {
			op := ws.OpText
			if e.Binary {
				op = ws.OpBinary
			}
			_ = wsutil.WriteClientMessage(hc.ws, op, append(bytes.Clone(e.Prefix), e.Data...))
		}
	case abi.CEffConnClose:
		if hc := h.conns[e.Conn]; hc != nil {
			delete(h.conns, e.Conn)
			hc.cancel()
			if hc.ws != nil {
				hc.ws.Close()
			}
		}
	default:
		e.Data = bytes.Clone(e.Data)
		for i := range e.Attachments {
			e.Attachments[i] = bytes.Clone(e.Attachments[i])
		}
		h.app <- e
	}
}

// forget drops conn and reports whether it was still expected.
func (h *goHost) forget(conn uint32) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.conns[uint64(conn)]
	delete(h.conns, uint64(conn))
	return ok
}

func (h *goHost) close() {
	h.mu.Lock()
	h.closed = true
	if h.timer != nil {
		h.timer.Stop()
	}
	for k, hc := range h.conns {
		delete(h.conns, k)
		hc.cancel()
		if hc.ws != nil {
			hc.ws.Close()
		}
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// next returns the next application effect of kind; the others wait in
// order for later calls (the upgrade may come before or after the
// namespace's connect).
func (h *goHost) next(kind eio.EffectKind) eio.Effect {
	h.t.Helper()
	for i, e := range h.backlog {
		if e.Kind == kind {
			h.backlog = append(h.backlog[:i], h.backlog[i+1:]...)
			return e
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-h.app:
			if e.Kind == kind {
				return e
			}
			h.backlog = append(h.backlog, e)
		case <-deadline:
			h.t.Fatalf("no effect of kind %d within 10 s", kind)
		}
	}
}

// TestGoHost runs the client contract against a siohost server over real
// HTTP and WebSocket: connect over polling, upgrade, acks both ways with
// binary, the server's disconnect, and reconnection after a restart.
func TestGoHost(t *testing.T) {
	base := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	io1 := newIOServer(t)
	srv := &http.Server{Handler: io1}
	go func() { _ = srv.Serve(ln) }()

	h := newGoHost(t, addr)
	var c uint32
	defer func() {
		h.close()
		_ = srv.Close()
		browsertest.WaitGoroutines(t, base)
	}()
	h.do(func(e *abi.ClientEncoder) { e.Create(abi.ClientOptions{Delay: 100, DelayMax: 200}) })
	c = uint32(h.out.Results[0].Value)
	h.do(func(e *abi.ClientEncoder) { e.Connect(c, "/", []byte(`{"token":"t"}`), 0) })
	require.Equal(t, "polling", h.next(abi.CEffEngineOpen).Text)
	require.NotEmpty(t, h.next(abi.CEffConnected).Text)
	require.Equal(t, "websocket", h.next(abi.CEffUpgrade).Text)

	id := h.do(func(e *abi.ClientEncoder) {
		e.Emit(c, "/", "echo", []byte(`["hi",{"_placeholder":true,"num":0}]`), [][]byte{{1, 2}}, abi.EmitAck, 0)
	})
	require.Equal(t, int64(0), id)
	ack := h.next(abi.CEffAck)
	require.Equal(t, `["hi",{"_placeholder":true,"num":0}]`, string(ack.Data))
	require.Equal(t, [][]byte{{1, 2}}, ack.Attachments)

	h.do(func(e *abi.ClientEncoder) { e.Emit(c, "/", "ask-me", nil, nil, 0, 0) })
	ev := h.next(abi.CEffEvent)
	require.Equal(t, "ask", ev.Text)
	require.Equal(t, [][]byte{{5, 6}}, ev.Attachments)
	h.do(func(e *abi.ClientEncoder) {
		e.Ack(c, "/", uint32(ev.ID), []byte(`[42,{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), [][]byte{{5, 6}, {7}})
	})
	asked := h.next(abi.CEffEvent)
	require.Equal(t, "asked", asked.Text)
	require.Contains(t, string(asked.Data), `"ok":true`)

	h.do(func(e *abi.ClientEncoder) { e.Emit(c, "/", "kick", nil, nil, 0, 0) })
	require.Equal(t, "io server disconnect", h.next(abi.CEffDisconnect).Text)
	h.do(func(e *abi.ClientEncoder) { e.Connect(c, "/", nil, 0) })
	h.next(abi.CEffConnected)
	h.next(abi.CEffUpgrade)

	// The server goes away and comes back on the same port.
	io1.Close()
	_ = srv.Close()
	require.Equal(t, "transport close", h.next(abi.CEffDisconnect).Text)
	ln, err = net.Listen("tcp", addr)
	require.NoError(t, err)
	io2 := newIOServer(t)
	defer io2.Close() // runs before the leak check deferred above
	srv = &http.Server{Handler: io2}
	go func() { _ = srv.Serve(ln) }()
	require.GreaterOrEqual(t, h.next(abi.CEffReconnectAttempt).Status, 1)
	h.next(abi.CEffConnected)
	h.do(func(e *abi.ClientEncoder) { e.Disconnect(c, "/") })
	require.Equal(t, "io client disconnect", h.next(abi.CEffDisconnect).Text)
	h.do(func(e *abi.ClientEncoder) { e.Destroy(c) })
	require.Zero(t, h.cc.Len())
}
