package hostnative

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ehWS is a raw WebSocket client.
type ehWS struct {
	t    *testing.T
	conn net.Conn
	rw   io.ReadWriter
}

// ehWSRefusal is an HTTP answer to a refused upgrade.
type ehWSRefusal struct {
	status int
	header http.Header
	close  bool // Connection: close
	body   string
}

// dialWS opens a WebSocket to the engine with the given query. A refused
// upgrade returns the HTTP answer instead.
func (env *ehEnv) dialWS(query string, header http.Header) (*ehWS, *ehWSRefusal, http.Header, error) {
	var refusal *ehWSRefusal
	var refusalErr error
	respHeader := http.Header{}
	d := ws.Dialer{
		Timeout: ehWait,
		OnStatusError: func(status int, _ []byte, resp io.Reader) {
			r, err := http.ReadResponse(bufio.NewReader(resp), nil)
			if err != nil {
				refusalErr = err
				return
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				refusalErr = err
			}
			refusal = &ehWSRefusal{status: status, header: r.Header, close: r.Close, body: string(b)}
		},
		OnHeader: func(key, value []byte) error {
			respHeader.Add(string(key), string(value))
			return nil
		},
	}
	if header != nil {
		d.Header = ws.HandshakeHeaderHTTP(header)
	}
	url := "ws" + strings.TrimPrefix(env.url, "http") + "?" + query
	conn, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		if refusal != nil || refusalErr != nil {
			return nil, refusal, nil, refusalErr
		}
		return nil, nil, nil, err
	}
	c := &ehWS{t: env.t, conn: conn}
	var rd io.Reader = conn
	if br != nil {
		rd = br
	}
	c.rw = struct {
		io.Reader
		io.Writer
	}{rd, conn}
	env.t.Cleanup(func() { _ = conn.Close() })
	return c, nil, respHeader, nil
}

// ws opens a WebSocket that must be accepted.
func (env *ehEnv) ws(query string) *ehWS {
	env.t.Helper()
	c, refusal, _, err := env.dialWS(query, nil)
	require.NoError(env.t, err)
	require.Nil(env.t, refusal)
	return c
}

// wsOpen opens a v4 WebSocket session and returns it with its id.
func (env *ehEnv) wsOpen() (*ehWS, string) {
	env.t.Helper()
	c := env.ws("EIO=4&transport=websocket")
	o := ehParseOpen(env.t, c.readText())
	assert.Empty(env.t, o.Upgrades)
	return c, o.SID
}

func (c *ehWS) send(text string) {
	c.t.Helper()
	require.NoError(c.t, wsutil.WriteClientMessage(c.conn, ws.OpText, []byte(text)))
}

func (c *ehWS) sendBinary(b []byte) {
	c.t.Helper()
	require.NoError(c.t, wsutil.WriteClientMessage(c.conn, ws.OpBinary, b))
}

// read returns the next data message. Control frames are handled; a close
// frame is answered and returned as a wsutil.ClosedError.
func (c *ehWS) read() ([]byte, ws.OpCode, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(ehWait))
	return wsutil.ReadServerData(c.rw)
}

func (c *ehWS) readText() string {
	c.t.Helper()
	p, op, err := c.read()
	require.NoError(c.t, err)
	require.Equal(c.t, ws.OpText, op, "frame %q", p)
	return string(p)
}

func (c *ehWS) readBinary() []byte {
	c.t.Helper()
	p, op, err := c.read()
	require.NoError(c.t, err)
	require.Equal(c.t, ws.OpBinary, op, "frame %q", p)
	return p
}

// expectClose reads until the server closes, failing on any data frame
// except those skip accepts, and returns the close code.
func (c *ehWS) expectClose(skip func(string) bool) ws.StatusCode {
	c.t.Helper()
	for {
		p, _, err := c.read()
		if err == nil {
			require.True(c.t, skip != nil && skip(string(p)), "unexpected frame %q before the close", p)
			continue
		}
		var ce wsutil.ClosedError
		require.True(c.t, errors.As(err, &ce), "want a close frame, got %v", err)
		// After the close handshake the server ends the connection.
		_ = c.conn.SetReadDeadline(time.Now().Add(ehWait))
		_, err = c.conn.Read(make([]byte, 1))
		assert.Error(c.t, err, "the server must end the connection")
		return ce.Code
	}
}

func isPing(s string) bool { return s == "2" }

// TestEngineWSEcho: a WebSocket session echoes text and binary frames, and
// ends with "transport close" when the client closes.
func TestEngineWSEcho(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, sid := env.wsOpen()
	conn := env.conn(sid)
	assert.Equal(t, "websocket", conn.Transport())

	c.send("4hello")
	assert.Equal(t, "4hello", c.readText())
	c.sendBinary([]byte{1, 2, 3, 4})
	assert.Equal(t, []byte{1, 2, 3, 4}, c.readBinary())
	assert.Equal(t, ehMsg{sid, "hello", false}, env.waitMsg())
	assert.Equal(t, ehMsg{sid, "\x01\x02\x03\x04", true}, env.waitMsg())

	require.NoError(t, ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))))
	assert.Equal(t, ws.StatusNormalClosure, c.expectClose(nil))
	assert.Equal(t, ehClose{sid, "transport close", ""}, env.waitClose())
	assert.Zero(t, env.e.Len())
	// A polling request for that sid is refused.
	requireEIOError(t, env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil), 400, 1, "Session ID unknown")
}

// TestEngineWSClosePacket: a "1" packet closes a WebSocket session.
func TestEngineWSClosePacket(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, sid := env.wsOpen()
	c.send("1")
	c.expectClose(nil)
	assert.Equal(t, ehClose{sid, "transport close", ""}, env.waitClose())
}

// TestEngineWSInvalidPacket: "abc" closes the WebSocket with a parse error.
func TestEngineWSInvalidPacket(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, sid := env.wsOpen()
	c.send("abc")
	c.expectClose(nil)
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "parse error", cl.reason)
}

// TestEngineWSDrop: a WebSocket that vanishes without a close frame ends the
// session with "transport close".
func TestEngineWSDrop(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, sid := env.wsOpen()
	require.NoError(t, c.conn.Close())
	assert.Equal(t, ehClose{sid, "transport close", ""}, env.waitClose())
	assert.Zero(t, env.e.Len())
}

// TestEngineWSServerClose: EngineConn.Close sends a close frame.
func TestEngineWSServerClose(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, sid := env.wsOpen()
	env.conn(sid).Close()
	c.expectClose(nil)
	assert.Equal(t, ehClose{sid, "forced close", ""}, env.waitClose())
}

// TestEngineWSHeartbeat: a v4 WebSocket session that answers its pings stays
// open across several intervals; one that stops is closed with
// "ping timeout".
func TestEngineWSHeartbeat(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: 50 * time.Millisecond, PingTimeout: time.Second}, true)
	c, sid := env.wsOpen()
	for range 5 {
		require.Equal(t, "2", c.readText())
		c.send("3")
	}
	c.send("4alive")
	for {
		s := c.readText()
		if s == "4alive" {
			break
		}
		require.Equal(t, "2", s)
		c.send("3")
	}
	select {
	case cl := <-env.closes:
		t.Fatalf("session closed: %+v", cl)
	default:
	}
	assert.Equal(t, 1, env.e.Len())

	// Stop answering.
	c.expectClose(isPing)
	assert.Equal(t, ehClose{sid, "ping timeout", ""}, env.waitClose())
}

// TestEngineWSPingTimeout: a WebSocket session that never answers is closed.
func TestEngineWSPingTimeout(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}, true)
	c, sid := env.wsOpen()
	c.expectClose(isPing)
	assert.Equal(t, ehClose{sid, "ping timeout", ""}, env.waitClose())
	assert.Zero(t, env.e.Len())
}

// TestEngineWSPingFromClient: a v4 client must not ping.
func TestEngineWSPingFromClient(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, sid := env.wsOpen()
	c.send("2")
	c.expectClose(nil)
	assert.Equal(t, ehClose{sid, "transport error", "invalid heartbeat direction"}, env.waitClose())
}

// TestEngineWSHeartbeatV3: the server never pings a v3 WebSocket client,
// answers its pings with pongs, and closes it when they stop.
func TestEngineWSHeartbeatV3(t *testing.T) {
	env := newEhEnv(t, EngineOptions{AllowEIO3: true, PingInterval: 100 * time.Millisecond, PingTimeout: time.Second}, true)
	c := env.ws("EIO=3&transport=websocket")
	o := ehParseOpen(t, c.readText())
	assert.Equal(t, 3, env.conn(o.SID).Protocol())
	for range 6 {
		c.send("2")
		// Exactly the pong: a server ping would come first, as pings are
		// overdue by the v4 rules after two rounds.
		require.Equal(t, "3", c.readText())
		time.Sleep(40 * time.Millisecond)
	}
	// v3 binary frames carry the type byte.
	c.sendBinary([]byte{4, 1, 2, 3})
	assert.Equal(t, []byte{4, 1, 2, 3}, c.readBinary())
	assert.Equal(t, ehMsg{o.SID, "\x01\x02\x03", true}, env.waitMsg())
	c.send("4hi")
	assert.Equal(t, "4hi", c.readText())
	// Stop pinging: the server closes.
	c.expectClose(nil)
	assert.Equal(t, ehClose{o.SID, "ping timeout", ""}, env.waitClose())
}

// readFrame reads the next frame as it is, without answering it.
func (c *ehWS) readFrame() ws.Frame {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(ehWait))
	f, err := ws.ReadFrame(c.rw)
	require.NoError(c.t, err)
	return f
}

// readCloseFrame reads frames up to a close frame and returns its code.
func (c *ehWS) readCloseFrame() ws.StatusCode {
	c.t.Helper()
	for {
		f := c.readFrame()
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return code
		}
		require.True(c.t, f.Header.OpCode == ws.OpText && string(f.Payload) == "2",
			"unexpected frame %v %q before the close", f.Header.OpCode, f.Payload)
	}
}

// TestEngineWSTooBig: a message over MaxHTTPBufferSize is refused with close
// code 1009, and the session ends with "transport error".
func TestEngineWSTooBig(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, MaxHTTPBufferSize: 100}, true)
	c, sid := env.wsOpen()
	c.send("4" + strings.Repeat("x", 99))
	assert.Equal(t, "4"+strings.Repeat("x", 99), c.readText())
	c.send("4" + strings.Repeat("x", 100))
	assert.Equal(t, ws.StatusMessageTooBig, c.readCloseFrame())
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "transport error", cl.reason)
	assert.Zero(t, env.e.Len())
}

// TestEngineWSTooBigFragmented: the limit applies to a fragmented message as
// a whole.
func TestEngineWSTooBigFragmented(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, MaxHTTPBufferSize: 100}, true)
	c, sid := env.wsOpen()
	part := []byte(strings.Repeat("y", 60))
	require.NoError(t, ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(ws.OpText, false, append([]byte("4"), part...)))))
	require.NoError(t, ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, part))))
	assert.Equal(t, ws.StatusMessageTooBig, c.readCloseFrame())
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "transport error", cl.reason)
}

// TestEngineWSErrorCloseHandshake: after refusing a message too large, or
// a protocol error (an unmasked frame), the server must let the client
// complete the close handshake: the client's close frame is accepted and
// the connection then ends cleanly (FIN), not with a reset.
func TestEngineWSErrorCloseHandshake(t *testing.T) {
	for _, tc := range []struct {
		name   string
		frame  ws.Frame
		status ws.StatusCode
	}{
		{"too-big", ws.MaskFrame(ws.NewTextFrame([]byte("4" + strings.Repeat("x", 1000)))), ws.StatusMessageTooBig},
		{"unmasked", ws.NewTextFrame([]byte("4unmasked")), ws.StatusProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, MaxHTTPBufferSize: 100}, true)
			c, sid := env.wsOpen()
			require.NoError(t, ws.WriteFrame(c.conn, tc.frame))
			require.Equal(t, tc.status, c.readCloseFrame())
			// The session ends at once (as in the reference, whose ws
			// server then still waits for the client's close frame).
			cl := env.waitClose()
			assert.Equal(t, sid, cl.sid)
			assert.Equal(t, "transport error", cl.reason)
			err := ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(tc.status, ""))))
			require.NoError(t, err, "the client's close reply")
			_ = c.conn.SetReadDeadline(time.Now().Add(ehWait))
			_, err = c.rw.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF, "the server must end the connection with a FIN")
		})
	}
}

// TestEngineWSFragmented: a fragmented message within the limit is
// reassembled, and pings may come between its fragments.
func TestEngineWSFragmented(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, sid := env.wsOpen()
	require.NoError(t, ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(ws.OpText, false, []byte("4hel")))))
	require.NoError(t, ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewPingFrame([]byte("p")))))
	require.NoError(t, ws.WriteFrame(c.conn, ws.MaskFrame(ws.NewFrame(ws.OpContinuation, true, []byte("lo")))))
	assert.Equal(t, "4hello", c.readText())
	assert.Equal(t, ehMsg{sid, "hello", false}, env.waitMsg())
}

// TestEngineWSRefused: a refused upgrade gets a plain 400 with the message
// as its body, and the hook is told.
func TestEngineWSRefused(t *testing.T) {
	env := newEhEnv(t, EngineOptions{
		PingInterval: time.Minute,
		AllowRequest: func(r *http.Request) error {
			if r.URL.Query().Get("deny") != "" {
				return errors.New("no sockets")
			}
			return nil
		},
	}, true)
	cases := []struct {
		name    string
		query   string
		code    int
		message string
		context map[string]any
	}{
		{"unknown transport", "EIO=4&transport=abc", 0, "Transport unknown", map[string]any{"transport": "abc"}},
		{"unknown sid", "EIO=4&transport=websocket&sid=nope", 1, "Session ID unknown", map[string]any{"sid": "nope"}},
		{"bad EIO", "EIO=abc&transport=websocket", 5, "Unsupported protocol version", nil},
		{"forbidden", "EIO=4&transport=websocket&deny=1", 4, "no sockets", map[string]any{"message": "no sockets"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env.sub(t)
			c, refusal, _, err := env.dialWS(tc.query, nil)
			require.NoError(t, err)
			require.Nil(t, c, "the upgrade must be refused")
			require.NotNil(t, refusal)
			assert.Equal(t, 400, refusal.status)
			assert.Equal(t, tc.message, refusal.body)
			assert.Equal(t, "text/html", refusal.header.Get("Content-Type"))
			assert.True(t, refusal.close, "Connection: close")
			ce := env.waitConnError()
			assert.Equal(t, tc.code, ce.Code)
			if tc.context != nil {
				assert.Equal(t, tc.context, ce.Context)
			}
			require.NotNil(t, ce.Request)
			assert.Equal(t, tc.query, ce.Request.URL.RawQuery)
		})
	}
	assert.Zero(t, env.e.Len())
}

// TestEngineWSUpgrade runs the polling to WebSocket upgrade by hand.
func TestEngineWSUpgrade(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	conn := env.conn(sid)

	// A GET pending when the probe starts gets a noop.
	pending := env.goDo("GET", q, nil)
	env.waitParked(1)
	w := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w.send("2probe")
	assert.Equal(t, "3probe", w.readText())
	g := env.recv(pending)
	assert.Equal(t, 200, g.status)
	assert.Equal(t, "6", g.String())

	// A GET during the upgrade gets a noop at once.
	g = env.do("GET", q, nil, nil)
	assert.Equal(t, 200, g.status)
	assert.Equal(t, "6", g.String())
	assert.Equal(t, "polling", conn.Transport())

	// What the server sends meanwhile waits for the upgrade.
	require.NoError(t, conn.Send([]byte("during 1"), false))
	require.NoError(t, conn.Send([]byte{9, 8}, true))
	// A POST still works during the upgrade.
	require.Equal(t, "ok", env.do("POST", q, []byte("4posted"), nil).String())
	assert.Equal(t, ehMsg{sid, "posted", false}, env.waitMsg())

	w.send("5")
	select {
	case up := <-env.upgrades:
		assert.Equal(t, sid+" websocket websocket", up)
	case <-time.After(ehWait):
		t.Fatal("no upgrade event")
	}
	assert.Equal(t, "websocket", conn.Transport())
	assert.Equal(t, "4during 1", w.readText())
	assert.Equal(t, []byte{9, 8}, w.readBinary())
	assert.Equal(t, "4posted", w.readText(), "the echo of the POST comes after")

	w.send("4hello")
	assert.Equal(t, "4hello", w.readText())
	assert.Equal(t, ehMsg{sid, "hello", false}, env.waitMsg())

	// Polling is over for this session.
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 3, "Bad request")
	ce := env.waitConnError()
	assert.Equal(t, 3, ce.Code)
	assert.Equal(t, "Bad request", ce.Message)
	assert.Equal(t, map[string]any{"name": "TRANSPORT_MISMATCH", "transport": "polling", "previousTransport": "websocket"}, ce.Context)
	require.NotNil(t, ce.Request)
	assert.Equal(t, "GET", ce.Request.Method)
	requireEIOError(t, env.do("POST", q, []byte("4x"), nil), 400, 3, "Bad request")
	env.waitConnError()

	// A second WebSocket completes the 101 and is then closed.
	w2 := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w2.expectClose(nil)

	// The session lives on.
	w.send("4still")
	assert.Equal(t, "4still", w.readText())
	assert.Equal(t, 1, env.e.Len())
	select {
	case cl := <-env.closes:
		t.Fatalf("session closed: %+v", cl)
	default:
	}
}

// TestEngineWSUpgradeBackToBack: "2probe" and "5" sent without waiting, then
// a polling GET is refused (the official suite's race).
func TestEngineWSUpgradeBackToBack(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	sid := env.handshake()
	w := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w.send("2probe")
	w.send("5")
	assert.Equal(t, "3probe", w.readText())
	select {
	case <-env.upgrades:
	case <-time.After(ehWait):
		t.Fatal("no upgrade event")
	}
	requireEIOError(t, env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, nil), 400, 3, "Bad request")
	w.send("4x")
	assert.Equal(t, "4x", w.readText())
}

// TestEngineWSSecondProbe: a second WebSocket while the first is still
// probing is accepted and closed; the first upgrade goes on.
func TestEngineWSSecondProbe(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	sid := env.handshake()
	w := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w.send("2probe")
	assert.Equal(t, "3probe", w.readText())
	w2 := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w2.expectClose(nil)
	w.send("5")
	w.send("4ok")
	assert.Equal(t, "4ok", w.readText())
	assert.Equal(t, "websocket", env.conn(sid).Transport())
}

// TestEngineWSUpgradeAborted: anything but "2probe" or "5" on the probe
// closes it; the session stays on polling.
func TestEngineWSUpgradeAborted(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	w := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w.send("4nope")
	w.expectClose(nil)

	require.Equal(t, "ok", env.do("POST", q, []byte("4still polling"), nil).String())
	assert.Equal(t, "4still polling", env.do("GET", q, nil, nil).String())
	assert.Equal(t, "polling", env.conn(sid).Transport())
	// It may upgrade again.
	w = env.ws("EIO=4&transport=websocket&sid=" + sid)
	w.send("2probe")
	assert.Equal(t, "3probe", w.readText())
	w.send("5")
	w.send("4up")
	assert.Equal(t, "4up", w.readText())
}

// TestEngineWSUpgradeTimeout: a probe that never sends "5" is closed after
// the upgrade timeout, and what was buffered meanwhile goes to polling.
func TestEngineWSUpgradeTimeout(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, UpgradeTimeout: 50 * time.Millisecond}, true)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	w := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w.send("2probe")
	assert.Equal(t, "3probe", w.readText())
	require.NoError(t, env.conn(sid).Send([]byte("buffered"), false))
	w.expectClose(nil)
	g := env.do("GET", q, nil, nil)
	assert.Equal(t, "4buffered", g.String())
	assert.Equal(t, "polling", env.conn(sid).Transport())
	assert.Equal(t, 1, env.e.Len())
}

// TestEngineWSUpgradeV3: a v3 polling session upgrades the same way, and
// then uses v3 binary frames.
func TestEngineWSUpgradeV3(t *testing.T) {
	env := newEhEnv(t, EngineOptions{AllowEIO3: true, PingInterval: time.Minute}, true)
	sid := env.handshakeV3("&b64=1")
	w := env.ws("EIO=3&transport=websocket&sid=" + sid)
	w.send("2probe")
	assert.Equal(t, "3probe", w.readText())
	g := env.do("GET", "EIO=3&transport=polling&b64=1&sid="+sid, nil, nil)
	assert.Equal(t, "1:6", g.String())
	w.send("5")
	w.sendBinary([]byte{4, 7})
	assert.Equal(t, []byte{4, 7}, w.readBinary())
}

// TestEngineWSUpgradesDisallowed: with DisallowUpgrades the handshake offers
// none and a probe is closed.
func TestEngineWSUpgradesDisallowed(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, DisallowUpgrades: true}, true)
	r := env.do("GET", "EIO=4&transport=polling", nil, nil)
	o := ehParseOpen(t, r.String())
	assert.Empty(t, o.Upgrades)
	w := env.ws("EIO=4&transport=websocket&sid=" + o.SID)
	w.expectClose(nil)
	assert.Equal(t, "polling", env.conn(o.SID).Transport())
	assert.Equal(t, 1, env.e.Len())
}

// TestEngineWSCookie: a WebSocket handshake sets the session cookie too.
func TestEngineWSCookie(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, Cookie: &http.Cookie{Name: "sess", Path: "/"}}, true)
	c, refusal, header, err := env.dialWS("EIO=4&transport=websocket", nil)
	require.NoError(t, err)
	require.Nil(t, refusal)
	o := ehParseOpen(t, c.readText())
	assert.Equal(t, []string{"sess=" + o.SID + "; Path=/"}, header.Values("Set-Cookie"))
}

// TestEngineWSConcurrentSends: Send from many goroutines while the client
// echoes; every message arrives once, in per-goroutine order.
func TestEngineWSConcurrentSends(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	c, sid := env.wsOpen()
	conn := env.conn(sid)
	const senders, each = 4, 50
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for i := range each {
				_ = conn.Send([]byte{byte('a' + g), byte(i)}, true)
			}
		})
	}
	next := make([]int, senders)
	for range senders * each {
		p := c.readBinary()
		require.Len(t, p, 2)
		g := int(p[0] - 'a')
		require.Equal(t, next[g], int(p[1]), "sender %d out of order", g)
		next[g]++
	}
	wg.Wait()
}

// TestEngineWSProbeAsPingV3: on a plain v3 WebSocket session, "2probe" is
// just a ping, answered with "3".
func TestEngineWSProbeAsPingV3(t *testing.T) {
	env := newEhEnv(t, EngineOptions{AllowEIO3: true, PingInterval: time.Minute}, true)
	c := env.ws("EIO=3&transport=websocket")
	ehParseOpen(t, c.readText())
	c.send("2probe")
	assert.Equal(t, "3", c.readText())
	c.send("4x")
	assert.Equal(t, "4x", c.readText())
}

// TestEngineWSSlowReader: a client that stops reading is dropped once a
// write stalls for WriteTimeout, with "transport error" as documented.
func TestEngineWSSlowReader(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, WriteTimeout: 100 * time.Millisecond}, false)
	_, sid := env.wsOpen()
	conn := env.conn(sid)
	chunk := make([]byte, 64<<10)
	sent := 0
	for ; sent < 4096; sent++ {
		// Each Send writes (and may stall) in this goroutine; the kernel
		// buffers fill after a few megabytes.
		if conn.Send(chunk, true) != nil {
			break
		}
	}
	require.Less(t, sent, 4096, "the writes never stalled")
	cl := env.waitClose()
	assert.Equal(t, sid, cl.sid)
	assert.Equal(t, "transport error", cl.reason)
	assert.Zero(t, env.e.Len())
}

// TestEngineWSUpgradeRequestForPolling: a WebSocket upgrade request that
// names the polling transport is not a WebSocket transport. The reference
// completes the 101 and closes it ("transport doesnt handle upgraded
// requests") without creating a session.
func TestEngineWSUpgradeRequestForPolling(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	c, refusal, _, err := env.dialWS("EIO=4&transport=polling", nil)
	require.NoError(t, err)
	require.Nil(t, refusal, "want a 101, then a close")
	c.expectClose(nil)
	assert.Zero(t, env.e.Len())
}

// TestEngineWSProbeForPolling: the same with a sid must not start an
// upgrade probe.
func TestEngineWSProbeForPolling(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, true)
	sid := env.handshake()
	c := env.ws("EIO=4&transport=polling&sid=" + sid)
	c.send("2probe")
	c.expectClose(nil)
	assert.Equal(t, "polling", env.conn(sid).Transport())
}

// TestEngineWSSendOnOpen: on a WebSocket handshake, what the connection
// handler sends follows the open packet, even though the handler runs
// before the 101 is written.
func TestEngineWSSendOnOpen(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	env.onOpen = func(c *EngineConn) {
		_ = c.Send([]byte("welcome"), false)
		_ = c.Send([]byte{1}, true)
	}
	c, _ := env.wsOpen()
	assert.Equal(t, "4welcome", c.readText())
	assert.Equal(t, []byte{1}, c.readBinary())
}

// TestEngineWSCloseOnOpen: a WebSocket session closed by its connection
// handler gets its open packet, then a close frame.
func TestEngineWSCloseOnOpen(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	env.onOpen = func(c *EngineConn) { c.Close() }
	c, sid := env.wsOpen()
	c.expectClose(nil)
	assert.Equal(t, ehClose{sid, "forced close", ""}, env.waitClose())
}

// TestEngineWSProbeClosed: a probe the client closes mid-upgrade leaves the
// session on polling, with what was buffered meanwhile.
func TestEngineWSProbeClosed(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	sid := env.handshake()
	q := "EIO=4&transport=polling&sid=" + sid
	w := env.ws("EIO=4&transport=websocket&sid=" + sid)
	w.send("2probe")
	assert.Equal(t, "3probe", w.readText())
	require.NoError(t, env.conn(sid).Send([]byte("buffered"), false))
	require.NoError(t, ws.WriteFrame(w.conn, ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))))
	w.expectClose(nil)
	// GETs get noops until the server has seen the probe go.
	var body string
	require.Eventually(t, func() bool {
		r, err := env.try("GET", q, nil, nil)
		body = r.String()
		return err == nil && body != "6"
	}, ehWait, time.Millisecond)
	assert.Equal(t, "4buffered", body)
	assert.Equal(t, "polling", env.conn(sid).Transport())
	assert.Equal(t, 1, env.e.Len())
}

// TestEngineWSBadHandshake: an upgrade request that is not a valid
// WebSocket handshake (no Sec-WebSocket-Key) is refused with 400 before any
// session exists, as the reference's ws server does.
func TestEngineWSBadHandshake(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	r := env.do("GET", "EIO=4&transport=websocket", nil, http.Header{
		"Connection": {"Upgrade"},
		"Upgrade":    {"websocket"},
	})
	assert.Equal(t, 400, r.status)
	env.mu.Lock()
	opens := env.opens
	env.mu.Unlock()
	assert.Zero(t, opens, "no session may open for an invalid handshake")
	select {
	case cl := <-env.closes:
		t.Errorf("a session closed: %+v", cl)
	default:
	}
}
