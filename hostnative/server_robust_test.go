package hostnative

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A handler awaiting an ack from its own client learns at once that the
// client went away: the disconnect does not wait behind the handler.
func TestServerAckAwaitedInHandlerFailsOnDisconnect(t *testing.T) {
	io := NewServer(ServerOptions{})
	result := make(chan error, 1)
	io.OnConnection(func(s *Socket) {
		s.On("go", func(*Event) {
			_, err := s.EmitWithAck(context.Background(), "never-answered")
			result <- err
		})
	})
	srv := httptest.NewServer(io)
	defer srv.Close()
	conn := sioDial(t, srv.URL)
	require.NoError(t, wsutil.WriteClientText(conn, []byte(`42["go"]`)))
	_, err := wsutil.ReadServerText(conn) // the emit awaiting an ack
	require.NoError(t, err)
	require.NoError(t, wsutil.WriteClientText(conn, []byte(`41`)))
	select {
	case err := <-result:
		require.ErrorIs(t, err, ErrDisconnected)
	case <-time.After(5 * time.Second):
		t.Fatal("the handler still waits for an ack from a disconnected client")
	}
}

// A middleware that panics refuses the connection (and is logged) instead
// of letting the client in.
func TestServerPanickingMiddlewareRefuses(t *testing.T) {
	var logs bytes.Buffer
	io := NewServer(ServerOptions{Engine: EngineOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))}})
	io.Use(func(*Socket) error { panic("boom") })
	srv := httptest.NewServer(io)
	defer srv.Close()
	conn := dialWS(t, srv.URL+"/socket.io/?EIO=4&transport=websocket")
	_, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	require.NoError(t, wsutil.WriteClientText(conn, []byte("40")))
	reply, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	assert.Equal(t, `44{"message":"siohost: internal error"}`, string(reply))
	assert.Contains(t, logs.String(), "boom")
}

// Messages of one polling payload do not share memory: a handler that
// appends to one cannot overwrite the next.
func TestEngineMessagesDoNotAlias(t *testing.T) {
	e := NewEngine(EngineOptions{})
	got := make(chan string, 2)
	e.OnConnection(func(c *EngineConn) {
		c.OnMessage(func(data []byte, _ bool) {
			got <- string(data)
			_ = append(data, "XX"...)
		})
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/engine.io/?EIO=4&transport=polling")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sid := string(body[9:29])
	resp, err = srv.Client().Post(srv.URL+"/engine.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("4hello\x1e4world"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "hello", <-got)
	assert.Equal(t, "world", <-got)
}

// Reserved names and malformed raw arguments are refused before anything
// reaches the client, whose parser would drop the connection.
func TestServerRefusesWhatClientsCannotParse(t *testing.T) {
	io := NewServer(ServerOptions{})
	errs := make(chan []error, 1)
	io.OnConnection(func(s *Socket) {
		cyclic := []any{nil}
		cyclic[0] = cyclic
		errs <- []error{
			s.Emit("disconnect"),
			s.EmitRaw("ev", []byte(`{"a":1}`), nil),
			s.To("x").EmitRaw("ev", []byte(`[1`), nil),
			s.Emit("ev", cyclic),
		}
	})
	srv := httptest.NewServer(io)
	defer srv.Close()
	sioDial(t, srv.URL)
	got := <-errs
	assert.ErrorIs(t, got[0], ErrReservedEvent)
	assert.ErrorIs(t, got[1], ErrNotArray)
	assert.ErrorIs(t, got[2], ErrNotArray)
	assert.Error(t, got[3])
}

// A socket that has left joins no room and cannot close the connection of
// the namespaces still open on it.
func TestServerLeftSocketHasNoSideEffects(t *testing.T) {
	io := NewServer(ServerOptions{})
	left := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(string, string) { left <- s })
	})
	custom := make(chan *Socket, 1)
	io.Of("/custom").OnConnection(func(s *Socket) { custom <- s })
	srv := httptest.NewServer(io)
	defer srv.Close()
	conn := sioDial(t, srv.URL)
	require.NoError(t, wsutil.WriteClientText(conn, []byte("40/custom,")))
	_, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	cs := <-custom
	require.NoError(t, wsutil.WriteClientText(conn, []byte("41")))
	s := <-left
	s.Join("room")
	assert.NotContains(t, s.Rooms(), "room")
	s.Disconnect(true)
	assert.True(t, cs.Connected(), "the other namespace is untouched")
	require.NoError(t, cs.Emit("still", "here"))
	msg, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	assert.Equal(t, `42/custom,["still","here"]`, string(msg))
}

// A message larger than the reader's first chunk arrives whole; a text
// frame that is not UTF-8 closes the connection (1007) as a transport error.
func TestEngineLargeFramesAndInvalidUTF8(t *testing.T) {
	e := NewEngine(EngineOptions{})
	reasons := make(chan string, 1)
	e.OnConnection(func(c *EngineConn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
		c.OnClose(func(reason, _ string) { reasons <- reason })
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	conn := dialWS(t, srv.URL+"/engine.io/?EIO=4&transport=websocket")
	_, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	big := append([]byte("4"), bytes.Repeat([]byte("x"), 300_000)...)
	require.NoError(t, wsutil.WriteClientText(conn, big))
	echo, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	require.Equal(t, big, echo)

	require.NoError(t, wsutil.WriteClientText(conn, []byte("4\xff\xfe")))
	select {
	case r := <-reasons:
		assert.Equal(t, "transport error", r)
	case <-time.After(5 * time.Second):
		t.Fatal("no close")
	}
}

// Dynamic namespaces: names a parent accepts become children that get its
// middleware and handler; with CleanupEmptyChildNamespaces a child goes
// away with its last socket.
func TestServerDynamicNamespaces(t *testing.T) {
	io := NewServer(ServerOptions{CleanupEmptyChildNamespaces: true})
	parent := io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	joined := make(chan string, 2)
	parent.Use(func(s *Socket) error {
		if s.Namespace().Name() == "/dyn-13" {
			return errors.New("unlucky")
		}
		return nil
	})
	parent.OnConnection(func(s *Socket) { joined <- s.Namespace().Name() })
	srv := httptest.NewServer(io)
	defer srv.Close()
	conn := sioDial(t, srv.URL)

	require.NoError(t, wsutil.WriteClientText(conn, []byte("40/dyn-1,")))
	reply, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(reply), `40/dyn-1,{"sid":"`), string(reply))
	assert.Equal(t, "/dyn-1", <-joined)

	require.NoError(t, wsutil.WriteClientText(conn, []byte("40/dyn-13,")))
	reply, err = wsutil.ReadServerText(conn)
	require.NoError(t, err)
	assert.Equal(t, `44/dyn-13,{"message":"unlucky"}`, string(reply))

	require.NoError(t, wsutil.WriteClientText(conn, []byte("40/other,")))
	reply, err = wsutil.ReadServerText(conn)
	require.NoError(t, err)
	assert.Equal(t, `44/other,{"message":"Invalid namespace"}`, string(reply))

	require.NoError(t, wsutil.WriteClientText(conn, []byte("41/dyn-1,")))
	require.Eventually(t, func() bool {
		io.mu.RLock()
		defer io.mu.RUnlock()
		_, ok := io.nsps["/dyn-1"]
		return !ok
	}, 5*time.Second, 5*time.Millisecond, "the empty child is cleaned up")
}

// On decodes the first argument into the handler's type, and reports a
// client that sends something else.
func TestServerTypedHandler(t *testing.T) {
	type chat struct {
		Text string `json:"text"`
		To   []string
	}
	io := NewServer(ServerOptions{})
	got := make(chan chat, 1)
	errs := make(chan error, 1)
	io.OnConnection(func(s *Socket) {
		s.OnError(func(err error) { errs <- err })
		On(s, "chat", func(c chat, ev *Event) {
			got <- c
			_ = ev.Ack(len(c.To))
		})
	})
	srv := httptest.NewServer(io)
	defer srv.Close()
	conn := sioDial(t, srv.URL)
	require.NoError(t, wsutil.WriteClientText(conn, []byte(`421["chat",{"text":"hi <b>","To":["a","b"]}]`)))
	assert.Equal(t, chat{Text: "hi <b>", To: []string{"a", "b"}}, <-got)
	ack, err := wsutil.ReadServerText(conn)
	require.NoError(t, err)
	assert.Equal(t, `431[2]`, string(ack))
	require.NoError(t, wsutil.WriteClientText(conn, []byte(`42["chat",42]`)))
	assert.ErrorContains(t, <-errs, `event "chat"`)
}

// The disconnect handler gets the reason and, when there is one, what
// caused it.
func TestServerDisconnectDescription(t *testing.T) {
	io := NewServer(ServerOptions{})
	type disc struct{ reason, desc string }
	got := make(chan disc, 1)
	io.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(reason, desc string) { got <- disc{reason, desc} })
	})
	srv := httptest.NewServer(io)
	defer srv.Close()
	conn := sioDial(t, srv.URL)
	require.NoError(t, wsutil.WriteClientText(conn, []byte(`42{}`)))
	d := <-got
	assert.Equal(t, "forced close", d.reason)
	assert.Equal(t, "sio: invalid payload for packet type", d.desc)
}
