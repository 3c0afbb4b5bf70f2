package hostnative

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/eio"
)

// ceWait bounds every wait of these tests; none asserts on durations.
const ceWait = 10 * time.Second

// ceServer is an echo Engine behind a test server whose connections can be
// killed, hijacked WebSockets included.
type ceServer struct {
	*Engine
	srv   *httptest.Server
	url   string
	conns chan *EngineConn
	ended chan string // close reasons of the server's sessions

	mu       sync.Mutex
	messages []string
	raw      []net.Conn
	killed   bool
}

func newCEServer(t *testing.T, opts EngineOptions) *ceServer {
	t.Helper()
	s := &ceServer{Engine: NewEngine(opts), conns: make(chan *EngineConn, 64), ended: make(chan string, 64)}
	s.OnConnection(func(c *EngineConn) {
		s.conns <- c
		c.OnMessage(func(data []byte, binary bool) {
			s.mu.Lock()
			s.messages = append(s.messages, ceFormat(data, binary))
			s.mu.Unlock()
			_ = c.Send(data, binary)
		})
		c.OnClose(func(reason, _ string) { s.ended <- reason })
	})
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = func(nc net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.raw = append(s.raw, nc)
			if s.killed {
				_ = nc.Close()
			}
			s.mu.Unlock()
		}
	}
	s.srv.Start()
	s.url = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// kill stops listening and drops every connection of the server,
// WebSockets included, as a crash would.
func (s *ceServer) kill() {
	_ = s.srv.Listener.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.killed = true
	for _, nc := range s.raw {
		_ = nc.Close()
	}
}

func (s *ceServer) conn(t *testing.T) *EngineConn {
	t.Helper()
	select {
	case c := <-s.conns:
		return c
	case <-time.After(ceWait):
		t.Fatal("no session on the server")
		return nil
	}
}

func (s *ceServer) waitEnded(t *testing.T) string {
	t.Helper()
	select {
	case r := <-s.ended:
		return r
	case <-time.After(ceWait):
		t.Fatal("the server saw no close")
		return ""
	}
}

func ceFormat(data []byte, binary bool) string {
	if binary {
		return fmt.Sprintf("bin:%x", data)
	}
	return "txt:" + string(data)
}

// ceRec records what a client's handlers see.
type ceRec struct {
	msgs     chan string
	upgrades chan string
	upErrs   chan error
	closed   chan ceClosed
}

type ceClosed struct {
	reason string
	err    error
}

func newCERec(c *EngineClient) *ceRec {
	r := &ceRec{
		msgs: make(chan string, 1024), upgrades: make(chan string, 4),
		upErrs: make(chan error, 4), closed: make(chan ceClosed, 4),
	}
	c.OnMessage(func(data []byte, binary bool) { r.msgs <- ceFormat(data, binary) })
	c.OnUpgrade(func(tr string) { r.upgrades <- tr })
	c.OnUpgradeError(func(err error) { r.upErrs <- err })
	c.OnClose(func(reason string, err error) { r.closed <- ceClosed{reason, err} })
	return r
}

func (r *ceRec) next(t *testing.T) string {
	t.Helper()
	return recv(t, r.msgs, ceWait, "a message")
}

func (r *ceRec) upgraded(t *testing.T) string {
	t.Helper()
	return recv(t, r.upgrades, ceWait, "the upgrade")
}

func (r *ceRec) waitClosed(t *testing.T) ceClosed {
	t.Helper()
	return recv(t, r.closed, ceWait, "the client's close")
}

// openCE opens a client with its handlers set before the handshake; the
// test ends by closing it and waiting until it is gone.
func openCE(t *testing.T, rawURL string, opts EngineClientOptions) (*EngineClient, *ceRec) {
	t.Helper()
	c, err := NewEngineClient(rawURL, opts)
	require.NoError(t, err)
	r := newCERec(c)
	ctx, cancel := context.WithTimeout(context.Background(), ceWait)
	defer cancel()
	require.NoError(t, c.Open(ctx))
	t.Cleanup(func() {
		_ = c.Close()
		ceDone(t, c)
	})
	return c, r
}

func ceDone(t *testing.T, c *EngineClient) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(ceWait):
		t.Fatal("the client did not wind down")
	}
}

// ceEcho sends a text and a binary message and expects them back.
func ceEcho(t *testing.T, c *EngineClient, r *ceRec, label string) {
	t.Helper()
	want := ceEchoed(label)
	require.NoError(t, c.Send([]byte("héllo "+label), false), "session ended: %v", c.Err())
	require.Equal(t, want[0], r.next(t))
	require.NoError(t, c.Send([]byte{0, 1, 2, 0xff, byte(len(label))}, true), "session ended: %v", c.Err())
	require.Equal(t, want[1], r.next(t))
}

// ceEchoed lists the messages ceEcho sends.
func ceEchoed(label string) []string {
	return []string{"txt:héllo " + label, ceFormat([]byte{0, 1, 2, 0xff, byte(len(label))}, true)}
}

// dialErr dials and expects the handshake to fail; it returns the error and
// its diagnostic.
func dialErr(t *testing.T, rawURL string, opts EngineClientOptions) (*EngineError, *eio.ClientError) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ceWait)
	defer cancel()
	c, err := DialEngine(ctx, rawURL, opts)
	require.Error(t, err)
	require.Nil(t, c)
	var ee *EngineError
	require.ErrorAs(t, err, &ee)
	var ce *eio.ClientError
	if errors.As(err, &ce) {
		require.Equal(t, ce.Error(), err.Error(), "the error is the core's sentence")
	}
	return ee, ce
}

func TestClientEngineTransports(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    EngineClientOptions
		first   string // transport at open
		upgrade bool
	}{
		{"polling", EngineClientOptions{Transports: []string{"polling"}}, "polling", false},
		{"websocket", EngineClientOptions{Transports: []string{"websocket"}}, "websocket", false},
		{"upgrade", EngineClientOptions{}, "polling", true},
		{"websocket-first", EngineClientOptions{Transports: []string{"websocket", "polling"}}, "websocket", false},
		{"no-upgrade", EngineClientOptions{NoUpgrade: true}, "polling", false},
		{"polling-b64", EngineClientOptions{Transports: []string{"polling"}, ForceBase64: true}, "polling", false},
		{"websocket-b64", EngineClientOptions{Transports: []string{"websocket"}, ForceBase64: true}, "websocket", false},
		{"v3-polling", EngineClientOptions{Protocol: 3, Transports: []string{"polling"}}, "polling", false},
		{"v3-polling-b64", EngineClientOptions{Protocol: 3, Transports: []string{"polling"}, ForceBase64: true}, "polling", false},
		{"v3-websocket", EngineClientOptions{Protocol: 3, Transports: []string{"websocket"}}, "websocket", false},
		{"v3-upgrade", EngineClientOptions{Protocol: 3}, "polling", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newCEServer(t, EngineOptions{AllowEIO3: true})
			c, r := openCE(t, s.url, tc.opts)
			sc := s.conn(t)
			require.Equal(t, sc.ID(), c.ID())
			require.Equal(t, c.Protocol(), sc.Protocol())
			require.Equal(t, c.ID(), c.Handshake().SID)
			if !tc.upgrade {
				require.Equal(t, tc.first, c.Transport())
			}
			ceEcho(t, c, r, "first")
			if tc.upgrade {
				require.Equal(t, "websocket", r.upgraded(t))
				require.Equal(t, "websocket", c.Transport())
				ceEcho(t, c, r, "upgraded")
				require.Equal(t, "websocket", sc.Transport())
			}
			// Several messages at once: on polling they share a POST.
			for i := range 5 {
				require.NoError(t, c.Send([]byte{byte('a' + i)}, i%2 == 1))
			}
			for i := range 5 {
				require.Equal(t, ceFormat([]byte{byte('a' + i)}, i%2 == 1), r.next(t))
			}

			require.NoError(t, c.Close())
			closed := r.waitClosed(t)
			require.Equal(t, "forced close", closed.reason)
			require.NoError(t, closed.err)
			require.Equal(t, "transport close", s.waitEnded(t))
			ceDone(t, c)
			require.ErrorIs(t, c.Err(), ErrClosed)
			want := ceEchoed("first")
			if tc.upgrade {
				want = append(want, ceEchoed("upgraded")...)
			}
			for i := range 5 {
				want = append(want, ceFormat([]byte{byte('a' + i)}, i%2 == 1))
			}
			s.mu.Lock()
			got := append([]string(nil), s.messages...)
			s.mu.Unlock()
			require.Equal(t, want, got, "what the server received")
			require.ErrorIs(t, c.Send([]byte("late"), false), ErrClosed)
		})
	}
}

func TestClientEngineHeartbeat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts EngineClientOptions
	}{
		{"polling", EngineClientOptions{Transports: []string{"polling"}}},
		{"websocket", EngineClientOptions{Transports: []string{"websocket"}}},
		{"v3-polling", EngineClientOptions{Protocol: 3, Transports: []string{"polling"}}},
		{"v3-websocket", EngineClientOptions{Protocol: 3, Transports: []string{"websocket"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A session that missed its heartbeats would end after 1.1 s
			// on either side; it is held for more than twice that, through
			// some twenty pings.
			// Timeouts generous enough for a loaded machine under -race.
			s := newCEServer(t, EngineOptions{AllowEIO3: true, PingInterval: 100 * time.Millisecond, PingTimeout: 3 * time.Second})
			c, r := openCE(t, s.url, tc.opts)
			require.Equal(t, int64(100), c.Handshake().PingInterval)
			time.Sleep(2500 * time.Millisecond)
			select {
			case cl := <-r.closed:
				t.Fatalf("the session ended: %s: %v", cl.reason, cl.err)
			case reason := <-s.ended:
				t.Fatalf("the server ended the session: %s", reason)
			default:
			}
			ceEcho(t, c, r, "held")
		})
	}
}

func TestClientEngineServerClose(t *testing.T) {
	t.Parallel()
	for _, tr := range []string{"polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			s := newCEServer(t, EngineOptions{})
			c, r := openCE(t, s.url, EngineClientOptions{Transports: []string{tr}})
			ceEcho(t, c, r, "x")
			s.conn(t).Close()
			closed := r.waitClosed(t)
			require.Equal(t, "transport close", closed.reason)
			var ee *EngineError
			require.ErrorAs(t, closed.err, &ee)
			require.Equal(t, "transport close", ee.Reason)
			require.Nil(t, ee.Diagnostic)
			require.Contains(t, closed.err.Error(), "closed")
			ceDone(t, c)
			require.Equal(t, closed.err, c.Err())
		})
	}
}

func TestClientEngineServerKilled(t *testing.T) {
	t.Parallel()
	for _, tr := range []string{"polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			s := newCEServer(t, EngineOptions{})
			c, r := openCE(t, s.url, EngineClientOptions{Transports: []string{tr}})
			ceEcho(t, c, r, "x")
			s.kill()
			closed := r.waitClosed(t)
			t.Logf("%s: %v", closed.reason, closed.err)
			require.Contains(t, []string{"transport close", "transport error"}, closed.reason, "%v", closed.err)
			require.Error(t, closed.err)
			ceDone(t, c)
		})
	}
}

func TestClientEngineConcurrentSends(t *testing.T) {
	t.Parallel()
	for _, tr := range []string{"polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			s := newCEServer(t, EngineOptions{})
			c, r := openCE(t, s.url, EngineClientOptions{Transports: []string{tr}})
			const senders, each = 4, 50
			var wg sync.WaitGroup
			for g := range senders {
				wg.Go(func() {
					for i := range each {
						assert.NoError(t, c.Send(fmt.Appendf(nil, "%d:%d", g, i), g%2 == 1))
					}
				})
			}
			wg.Wait()
			next := make([]int, senders)
			for range senders * each {
				m := r.next(t)
				var g, i int
				if rest, ok := strings.CutPrefix(m, "txt:"); ok {
					_, err := fmt.Sscanf(rest, "%d:%d", &g, &i)
					require.NoError(t, err)
				} else {
					var raw []byte
					_, err := fmt.Sscanf(strings.TrimPrefix(m, "bin:"), "%x", &raw)
					require.NoError(t, err)
					_, err = fmt.Sscanf(string(raw), "%d:%d", &g, &i)
					require.NoError(t, err)
				}
				require.Equal(t, next[g], i, "messages of one sender keep their order")
				next[g]++
			}
		})
	}
}

// TestClientEngineHandlers checks the handler contract: one at a time, in
// order, panics recovered, and a close handler set late still runs.
func TestClientEngineHandlers(t *testing.T) {
	t.Parallel()
	s := newCEServer(t, EngineOptions{})
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&ceSyncWriter{w: &logs, mu: &logMu}, nil))
	c, err := NewEngineClient(s.url, EngineClientOptions{Transports: []string{"websocket"}, Logger: logger})
	require.NoError(t, err)
	var running, overlaps atomic.Int32
	got := make(chan string, 16)
	c.OnMessage(func(data []byte, _ bool) {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		if string(data) == "boom" {
			panic("handler panic")
		}
		got <- string(data)
	})
	ctx, cancel := context.WithTimeout(context.Background(), ceWait)
	defer cancel()
	require.NoError(t, c.Open(ctx))
	for _, m := range []string{"a", "boom", "b", "c"} {
		require.NoError(t, c.Send([]byte(m), false))
	}
	for _, want := range []string{"a", "b", "c"} {
		select {
		case m := <-got:
			require.Equal(t, want, m)
		case <-time.After(ceWait):
			t.Fatal("no message")
		}
	}
	require.Zero(t, overlaps.Load())
	logMu.Lock()
	require.Contains(t, logs.String(), "handler panic")
	logMu.Unlock()

	s.conn(t).Close()
	ceDone(t, c)
	late := make(chan ceClosed, 1)
	c.OnClose(func(reason string, err error) { late <- ceClosed{reason, err} })
	select {
	case cl := <-late:
		require.Equal(t, "transport close", cl.reason)
		require.Error(t, cl.err)
	case <-time.After(ceWait):
		t.Fatal("a close handler set after the close did not run")
	}
}

type ceSyncWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (w *ceSyncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func TestClientEngineAPI(t *testing.T) {
	t.Parallel()
	t.Run("options", func(t *testing.T) {
		t.Parallel()
		for _, bad := range []struct {
			url  string
			opts EngineClientOptions
			msg  string
		}{
			{"ftp://host", EngineClientOptions{}, "scheme"},
			{"http://", EngineClientOptions{}, "no host"},
			{"http://host", EngineClientOptions{Protocol: 5}, "protocol 5"},
			{"http://host", EngineClientOptions{Transports: []string{"jsonp"}}, "unknown transport"},
		} {
			_, err := NewEngineClient(bad.url, bad.opts)
			require.ErrorContains(t, err, bad.msg)
		}
	})
	t.Run("lifecycle", func(t *testing.T) {
		t.Parallel()
		c, err := NewEngineClient("http://127.0.0.1:1", EngineClientOptions{})
		require.NoError(t, err)
		require.Equal(t, "", c.Transport())
		require.ErrorIs(t, c.Send([]byte("x"), false), ErrNotOpened)
		require.NoError(t, c.Close())
		ceDone(t, c)
		require.ErrorIs(t, c.Open(context.Background()), ErrClosed)
		require.ErrorIs(t, c.Send([]byte("x"), false), ErrClosed)

		s := newCEServer(t, EngineOptions{})
		c, _ = openCE(t, s.url, EngineClientOptions{})
		require.ErrorContains(t, c.Open(context.Background()), "twice")
	})
	t.Run("query-headers-path", func(t *testing.T) {
		t.Parallel()
		s := newCEServer(t, EngineOptions{Path: "/custom"})
		c, r := openCE(t, s.url+"/custom/?token=abc&EIO=9", EngineClientOptions{
			Query:        url.Values{"room": {"r1"}, "sid": {"forged"}},
			ExtraHeaders: http.Header{"X-Auth": {"secret"}},
		})
		sc := s.conn(t)
		q := sc.Request().URL.Query()
		require.Equal(t, "abc", q.Get("token"))
		require.Equal(t, "r1", q.Get("room"))
		require.Equal(t, []string{"4"}, q["EIO"], "the client's own parameters win")
		require.Empty(t, q.Get("sid"))
		require.NotEmpty(t, q.Get("t"), "polling requests carry a cache buster")
		require.Equal(t, "secret", sc.Request().Header.Get("X-Auth"))
		ceEcho(t, c, r, "custom path")
	})
	t.Run("send-while-opening", func(t *testing.T) {
		t.Parallel()
		s := newCEServer(t, EngineOptions{})
		c, err := NewEngineClient(s.url, EngineClientOptions{})
		require.NoError(t, err)
		r := newCERec(c)
		opened := make(chan error, 1)
		go func() { opened <- c.Open(context.Background()) }()
		// Sent before, during or after the handshake: never lost.
		for c.Send([]byte("early"), false) != nil {
			runtime.Gosched()
		}
		require.NoError(t, <-opened)
		require.Equal(t, "txt:early", r.next(t))
		require.NoError(t, c.Close())
		ceDone(t, c)
	})
	t.Run("remember-upgrade", func(t *testing.T) {
		t.Parallel()
		s := newCEServer(t, EngineOptions{})
		opts := EngineClientOptions{RememberUpgrade: true}
		c, r := openCE(t, s.url, opts)
		require.Equal(t, "polling", c.Transport())
		require.Equal(t, "websocket", r.upgraded(t))
		require.NoError(t, c.Close())
		ceDone(t, c)
		c2, r2 := openCE(t, s.url, opts)
		require.Equal(t, "websocket", c2.Transport(), "the second session starts on WebSocket")
		ceEcho(t, c2, r2, "remembered")
	})
}

// TestClientEngineDiagnostics checks that each failure a user may meet
// comes back with the diagnostic that names it.
func TestClientEngineDiagnostics(t *testing.T) {
	t.Parallel()
	t.Run("html-404", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("<html><body><h1>404 Not Found</h1></body></html>"))
		}))
		defer srv.Close()
		ee, ce := dialErr(t, srv.URL, EngineClientOptions{})
		require.NotNil(t, ce)
		require.Equal(t, eio.ClientErrHTTP, ce.Kind)
		require.Equal(t, 404, ce.Status)
		require.Equal(t, "handshake", ce.Op)
		require.Equal(t, "transport error", ee.Reason)
		require.Contains(t, ee.Error(), "check the path")
		require.Contains(t, ee.Error(), "404 Not Found")
	})
	t.Run("html-page", func(t *testing.T) {
		t.Parallel()
		// A single-page app answering every path.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte("<!doctype html><html><body>app</body></html>"))
		}))
		defer srv.Close()
		_, ce := dialErr(t, srv.URL, EngineClientOptions{})
		require.NotNil(t, ce)
		require.Equal(t, eio.ClientErrNotEngineIO, ce.Kind)
		require.Contains(t, ce.Error(), "does not lead to an Engine.IO server")
	})
	t.Run("unsupported-protocol", func(t *testing.T) {
		t.Parallel()
		// A server without allowEIO3 answers a v3 client 400
		// {"code":5,"message":"Unsupported protocol version"}, and refuses
		// its WebSocket with the plain message.
		s := newCEServer(t, EngineOptions{})
		for _, tr := range []string{"polling", "websocket"} {
			_, ce := dialErr(t, s.url, EngineClientOptions{Protocol: 3, Transports: []string{tr}})
			require.NotNil(t, ce, tr)
			require.Equal(t, eio.ClientErrEngineIO, ce.Kind, tr)
			require.Equal(t, 400, ce.Status, tr)
			require.Equal(t, 5, ce.Code, tr)
			require.Equal(t, "Unsupported protocol version", ce.Message, tr)
			require.Contains(t, ce.Error(), "allowEIO3", tr)
		}
	})
	t.Run("json-error", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"code":5,"message":"Unsupported protocol version"}`))
		}))
		defer srv.Close()
		_, ce := dialErr(t, srv.URL, EngineClientOptions{})
		require.NotNil(t, ce)
		require.Equal(t, 5, ce.Code)
		require.Contains(t, ce.Error(), `Engine.IO error 5 "Unsupported protocol version"`)
	})
	t.Run("session-unknown", func(t *testing.T) {
		t.Parallel()
		// Two instances behind a round-robin balancer without sticky
		// sessions: the poll after the handshake reaches the other one.
		a, b := NewEngine(EngineOptions{}), NewEngine(EngineOptions{})
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%2 == 1 {
				a.ServeHTTP(w, r)
			} else {
				b.ServeHTTP(w, r)
			}
		}))
		defer srv.Close()
		_, r := openCE(t, srv.URL, EngineClientOptions{Transports: []string{"polling"}})
		closed := r.waitClosed(t)
		require.Equal(t, "transport error", closed.reason)
		var ce *eio.ClientError
		require.ErrorAs(t, closed.err, &ce)
		require.Equal(t, eio.ClientErrEngineIO, ce.Kind)
		require.Equal(t, 1, ce.Code)
		require.Equal(t, "poll", ce.Op)
		require.Contains(t, ce.Hint, "sticky sessions")
	})
	t.Run("plain-websocket-silent", func(t *testing.T) {
		t.Parallel()
		// An echo server waits for the client to speak first.
		url := cePlainWS(t, nil)
		_, ce := dialErr(t, url, EngineClientOptions{Transports: []string{"websocket"}, ConnectTimeout: 300 * time.Millisecond})
		require.NotNil(t, ce)
		require.Equal(t, eio.ClientErrTimeout, ce.Kind)
		require.Contains(t, ce.Error(), "no Engine.IO open packet came")
	})
	t.Run("plain-websocket-greeting", func(t *testing.T) {
		t.Parallel()
		url := cePlainWS(t, []byte(`{"hello":"world"}`))
		_, ce := dialErr(t, url, EngineClientOptions{Transports: []string{"websocket"}})
		require.NotNil(t, ce)
		require.Equal(t, eio.ClientErrNotEngineIO, ce.Kind)
		require.Contains(t, ce.Error(), "does not speak Engine.IO")
		require.Contains(t, ce.Error(), "hello")
	})
	t.Run("connection-refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		for _, tr := range []string{"polling", "websocket"} {
			ee, ce := dialErr(t, "http://"+addr, EngineClientOptions{Transports: []string{tr}})
			require.NotNil(t, ce, tr)
			require.Equal(t, eio.ClientErrNetwork, ce.Kind, tr)
			require.Contains(t, ce.Hint, "could not be reached", tr)
			require.ErrorIs(t, ee, syscall.ECONNREFUSED, tr)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		// A server that never answers.
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		_, err := DialEngine(ctx, srv.URL, EngineClientOptions{})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		var ce *eio.ClientError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, eio.ClientErrTimeout, ce.Kind)
	})
	t.Run("canceled", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		c, err := NewEngineClient(srv.URL, EngineClientOptions{})
		require.NoError(t, err)
		r := newCERec(c)
		go func() {
			time.Sleep(50 * time.Millisecond)
			cancel()
		}()
		err = c.Open(ctx)
		require.ErrorIs(t, err, context.Canceled)
		var ee *EngineError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, "forced close", ee.Reason)
		require.Equal(t, "forced close", r.waitClosed(t).reason, "OnClose runs for a failed Open too")
		ceDone(t, c)
	})
	t.Run("probe-refused", func(t *testing.T) {
		t.Parallel()
		// A proxy that does not carry WebSockets: the session stays on
		// polling, and the upgrade error says why.
		s := newCEServer(t, EngineOptions{})
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isUpgrade(r) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusBadGateway)
				_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
				return
			}
			s.ServeHTTP(w, r)
		}))
		defer proxy.Close()
		c, r := openCE(t, proxy.URL, EngineClientOptions{})
		var upErr error
		select {
		case upErr = <-r.upErrs:
		case <-time.After(ceWait):
			t.Fatal("no upgrade error")
		}
		var ee *EngineError
		require.ErrorAs(t, upErr, &ee)
		require.Equal(t, "probe error", ee.Reason)
		require.Equal(t, "probe", ee.Diagnostic.Op)
		require.Equal(t, 502, ee.Diagnostic.Status)
		require.Contains(t, upErr.Error(), "stays on polling")
		require.Equal(t, "polling", c.Transport())
		ceEcho(t, c, r, "still polling")
	})
}

// cePlainWS serves a WebSocket that is not Engine.IO: it sends greeting
// first if set, then echoes.
func cePlainWS(t *testing.T, greeting []byte) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	var mu sync.Mutex
	var conns []net.Conn
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, nc)
		mu.Unlock()
		go func() {
			defer nc.Close()
			if greeting != nil {
				if err := wsutil.WriteServerText(nc, greeting); err != nil {
					return
				}
			}
			for {
				msg, op, err := wsutil.ReadClientData(nc)
				if err != nil {
					return
				}
				if err := wsutil.WriteServerMessage(nc, op, msg); err != nil {
					return
				}
			}
		}()
	})
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		for _, nc := range conns {
			_ = nc.Close()
		}
		mu.Unlock()
	})
	return srv.URL
}

// TestClientEngineStickySessions runs sessions through a balancer that
// spreads requests over two instances unless a cookie pins them: the
// client keeps the cookie for its polls and its WebSocket handshake.
func TestClientEngineStickySessions(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"own-client", "caller-client"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			backends := []*ceServer{newCEServer(t, EngineOptions{}), newCEServer(t, EngineOptions{})}
			var n atomic.Int64
			lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1) % 2)
				if ck, err := r.Cookie("backend"); err == nil {
					fmt.Sscanf(ck.Value, "%d", &i)
				} else {
					w.Header().Add("Set-Cookie", fmt.Sprintf("backend=%d; Path=/", i))
				}
				backends[i].ServeHTTP(w, r)
			}))
			defer lb.Close()
			opts := EngineClientOptions{}
			var caller *http.Client
			if name == "caller-client" {
				caller = &http.Client{}
				opts.HTTPClient = caller
			}
			c, r := openCE(t, lb.URL, opts)
			ceEcho(t, c, r, "pinned")
			require.Equal(t, "websocket", r.upgraded(t), "the probe reached the session's instance")
			ceEcho(t, c, r, "upgraded")
			if caller != nil {
				require.Nil(t, caller.Jar, "the caller's client is left as it is")
			}
		})
	}
}

// TestClientEngineTLS runs a session over https and wss, upgrade included.
func TestClientEngineTLS(t *testing.T) {
	t.Parallel()
	e := NewEngine(EngineOptions{})
	e.OnConnection(func(c *EngineConn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	srv := httptest.NewUnstartedServer(e)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tlsConfig := &tls.Config{RootCAs: roots}

	c, r := openCE(t, srv.URL, EngineClientOptions{TLSConfig: tlsConfig})
	ceEcho(t, c, r, "https")
	require.Equal(t, "websocket", r.upgraded(t))
	ceEcho(t, c, r, "wss")

	// Without the server's certificate: a network error that says so.
	ee, ce := dialErr(t, srv.URL, EngineClientOptions{Transports: []string{"websocket"}})
	require.Equal(t, eio.ClientErrNetwork, ce.Kind)
	var unknownCA x509.UnknownAuthorityError
	require.ErrorAs(t, ee, &unknownCA)
}

// TestClientEngineNoGoroutineLeak checks that sessions ended in every way
// leave no goroutine behind.
func TestClientEngineNoGoroutineLeak(t *testing.T) {
	// Heartbeats are not what this test is about: roomy ones, so a loaded
	// machine cannot time a session out before its upgrade.
	s := newCEServer(t, EngineOptions{PingInterval: time.Second, PingTimeout: 3 * time.Second})
	session := func(opts EngineClientOptions, end func(c *EngineClient, r *ceRec)) {
		c, err := NewEngineClient(s.url, opts)
		require.NoError(t, err)
		r := newCERec(c)
		ctx, cancel := context.WithTimeout(context.Background(), ceWait)
		defer cancel()
		require.NoError(t, c.Open(ctx))
		if c.Transport() == "polling" && opts.Transports == nil {
			r.upgraded(t)
		}
		ceEcho(t, c, r, "leak")
		end(c, r)
		ceDone(t, c)
	}
	clientClose := func(c *EngineClient, _ *ceRec) { require.NoError(t, c.Close()) }
	serverClose := func(_ *EngineClient, r *ceRec) {
		s.conn(t).Close()
		r.waitClosed(t)
	}
	// Warm up: what the first sessions start for good is in the baseline.
	session(EngineClientOptions{}, clientClose)
	<-s.conns
	base := ehStableGoroutines()

	for _, opts := range []EngineClientOptions{
		{Transports: []string{"polling"}},
		{Transports: []string{"websocket"}},
		{},
	} {
		session(opts, clientClose)
		<-s.conns
		session(opts, serverClose)
	}
	// A failed handshake.
	_, err := DialEngine(context.Background(), s.url+"/nowhere", EngineClientOptions{})
	require.Error(t, err)

	waitGoroutines(t, base, ceWait)
}
