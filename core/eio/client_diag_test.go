package eio

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Scripted tests: the test plays the server byte by byte.

const v4Open = `0{"sid":"s1","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}`

// startPolling opens a polling client and returns its handshake GET.
func startPolling(t *testing.T, cfg ClientConfig) (*Client, uint64) {
	t.Helper()
	c := NewClient(cfg)
	c.Open(0)
	effects := c.Effects()
	require.Len(t, effects, 1)
	require.Equal(t, CEffRequest, effects[0].Kind)
	require.Equal(t, "GET", effects[0].Method)
	return c, effects[0].Conn
}

// startWS opens a WebSocket client whose socket is open, waiting for the
// open packet.
func startWS(t *testing.T, cfg ClientConfig) (*Client, uint64) {
	t.Helper()
	cfg.Transports = TransportWebSocket
	c := NewClient(cfg)
	c.Open(0)
	effects := c.Effects()
	require.Len(t, effects, 1)
	require.Equal(t, CEffDial, effects[0].Kind)
	c.WSOpened(1, effects[0].Conn)
	require.Empty(t, c.Effects())
	return c, effects[0].Conn
}

// failure checks that effects are exactly an error and the close it causes,
// and returns the error.
func failure(t *testing.T, c *Client, effects []ClientEffect) *ClientError {
	t.Helper()
	var kinds []ClientEffectKind
	for _, e := range effects {
		if e.Kind != CEffCloseConn {
			kinds = append(kinds, e.Kind)
		}
	}
	require.Equal(t, []ClientEffectKind{CEffError, CEffClose}, kinds)
	e := effects[0].Err
	last := effects[len(effects)-1]
	require.Equal(t, ReasonTransportError, last.Text)
	require.Equal(t, e.Error(), last.Desc)
	require.True(t, c.Closed())
	_, ok := c.NextDeadline()
	require.False(t, ok)
	return e
}

func TestClientHandshakeDiagnostics(t *testing.T) {
	cases := []struct {
		name        string
		proto       int
		status      int
		contentType string
		body        string

		kind       ClientErrorKind
		code       int
		message    string
		serverProt int
		hint       string
	}{
		{name: "session unknown", proto: 4, status: 400, contentType: "application/json",
			body: `{"code":1,"message":"Session ID unknown"}`,
			kind: ClientErrEngineIO, code: 1, message: "Session ID unknown", hint: "sticky sessions"},
		{name: "v3 refused", proto: 3, status: 400, contentType: "application/json",
			body: `{"code":5,"message":"Unsupported protocol version"}`,
			kind: ClientErrEngineIO, code: 5, message: "Unsupported protocol version", hint: "enable allowEIO3"},
		{name: "v4 refused", proto: 4, status: 400, contentType: "application/json",
			body: `{"code":5,"message":"Unsupported protocol version"}`,
			kind: ClientErrEngineIO, code: 5, message: "Unsupported protocol version", hint: "needs protocol 3"},
		{name: "forbidden with a message", proto: 4, status: 403, contentType: "application/json",
			body: ` { "message" : "not on the list \u263a", "code" : 4 } `,
			kind: ClientErrEngineIO, code: 4, message: "not on the list ☺", hint: "allowRequest"},
		{name: "html 404", proto: 4, status: 404, contentType: "text/html; charset=utf-8",
			body: "<!DOCTYPE html>\n<html><body><pre>Cannot GET /socket.io/</pre></body></html>",
			kind: ClientErrHTTP, code: -1, hint: "check the path"},
		{name: "html 200", proto: 4, status: 200, contentType: "text/html",
			body: "<!doctype html><title>Welcome</title>",
			kind: ClientErrNotEngineIO, code: -1, hint: "wrong path"},
		{name: "v3 answer to a v4 client", proto: 4, status: 200, contentType: "text/plain; charset=UTF-8",
			body: `96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}2:40`,
			kind: ClientErrProtocol, code: -1, serverProt: 3, hint: "speaks Engine.IO v3 (a socket.io 2.x server)"},
		{name: "v4 answer to a v3 client", proto: 3, status: 200, contentType: "text/plain; charset=UTF-8",
			body: v4Open, kind: ClientErrProtocol, code: -1, serverProt: 4, hint: "use protocol 4"},
		{name: "empty 200", proto: 4, status: 200, kind: ClientErrNotEngineIO, code: -1},
		{name: "an API's JSON", proto: 4, status: 200, contentType: "application/json",
			body: `{"status":"ok"}`, kind: ClientErrNotEngineIO, code: -1, hint: "does not lead to an Engine.IO server"},
		{name: "v3 empty payload", proto: 3, status: 200, body: "0:", kind: ClientErrNotEngineIO, code: -1},
		{name: "truncated handshake", proto: 4, status: 200, body: `0{"sid":"abc",`,
			kind: ClientErrHandshake, code: -1},
		{name: "handshake without sid", proto: 4, status: 200, body: `0{"upgrades":[],"pingInterval":1}`,
			kind: ClientErrHandshake, code: -1},
		{name: "bad gateway", proto: 4, status: 502, contentType: "text/plain", body: "Bad Gateway",
			kind: ClientErrHTTP, code: -1, hint: "proxy"},
		{name: "400 without body", proto: 4, status: 400, kind: ClientErrHTTP, code: -1, hint: "not an Engine.IO answer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, conn := startPolling(t, ClientConfig{Protocol: tc.proto, Transports: TransportPolling})
			c.Response(5, conn, tc.status, tc.contentType, []byte(tc.body))
			e := failure(t, c, c.Effects())
			require.Equal(t, tc.kind, e.Kind, e.Error())
			require.Equal(t, tc.code, e.Code)
			require.Equal(t, tc.serverProt, e.ServerProtocol)
			require.Equal(t, "handshake", e.Op)
			require.Equal(t, "polling", e.Transport)
			if tc.message != "" {
				require.Equal(t, tc.message, e.Message)
			}
			if tc.status != 200 {
				require.Equal(t, tc.status, e.Status)
			}
			require.Contains(t, e.Hint, tc.hint)
			require.Contains(t, e.Error(), e.Hint)
			t.Log(e.Error())
		})
	}
}

func TestClientWebSocketDiagnostics(t *testing.T) {
	type step func(c *Client, conn uint64)
	frame := func(binary bool, s string) step {
		return func(c *Client, conn uint64) { c.Frame(5, conn, binary, []byte(s)) }
	}
	cases := []struct {
		name    string
		do      step
		kind    ClientErrorKind
		code    int
		hint    string
		inError string
	}{
		{name: "echo server text", do: frame(false, "hello"), kind: ClientErrNotEngineIO, hint: "plain WebSocket server", inError: `"hello"`},
		{name: "some JSON protocol", do: frame(false, `{"type":"welcome"}`), kind: ClientErrNotEngineIO, hint: "plain WebSocket server"},
		{name: "binary first", do: frame(true, "\x01\x02\x03"), kind: ClientErrNotEngineIO, inError: "binary frame of 3 bytes"},
		{name: "Socket.IO packet before any open", do: frame(false, "40"), kind: ClientErrNotEngineIO},
		{name: "closed before the open packet", do: func(c *Client, conn uint64) { c.ConnClosed(5, conn, 1000) },
			kind: ClientErrNotEngineIO, inError: "code 1000"},
		{name: "open packet with bad JSON", do: frame(false, "0{sid}"), kind: ClientErrHandshake},
		{name: "read error", do: func(c *Client, conn uint64) { c.ConnFailed(5, conn, "unexpected EOF") },
			kind: ClientErrNetwork, inError: "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, conn := startWS(t, ClientConfig{})
			tc.do(c, conn)
			e := failure(t, c, c.Effects())
			require.Equal(t, tc.kind, e.Kind, e.Error())
			require.Equal(t, "handshake", e.Op)
			require.Equal(t, "websocket", e.Transport)
			require.Contains(t, e.Hint, tc.hint)
			require.Contains(t, e.Error(), tc.inError)
			t.Log(e.Error())
		})
	}

	t.Run("upgrade refused with the raw 400 text", func(t *testing.T) {
		c := NewClient(ClientConfig{Transports: TransportWebSocket})
		c.Open(0)
		conn := c.Effects()[0].Conn
		c.Response(3, conn, 400, "text/html", []byte("Session ID unknown"))
		e := failure(t, c, c.Effects())
		require.Equal(t, ClientErrEngineIO, e.Kind)
		require.Equal(t, CodeUnknownSID, e.Code)
		require.Equal(t, 400, e.Status)
	})
	t.Run("dial failure", func(t *testing.T) {
		c := NewClient(ClientConfig{Transports: TransportWebSocket})
		c.Open(0)
		conn := c.Effects()[0].Conn
		c.ConnFailed(3, conn, "dial tcp 127.0.0.1:1: connect: connection refused")
		effects := c.Effects()
		e := failure(t, c, effects)
		require.Equal(t, ClientErrNetwork, e.Kind)
		require.Contains(t, e.Error(), "connection refused")
		require.Equal(t, []ClientEffectKind{CEffError, CEffClose}, effectKinds(effects), "the failed socket needs no close")
	})
	t.Run("silent WebSocket server", func(t *testing.T) {
		c, conn := startWS(t, ClientConfig{ConnectTimeout: 20000})
		d, ok := c.NextDeadline()
		require.True(t, ok)
		require.Equal(t, int64(20000), d)
		c.Tick(19999)
		require.Empty(t, c.Effects())
		c.Tick(20000)
		effects := c.Effects()
		e := failure(t, c, effects)
		require.Equal(t, ClientErrTimeout, e.Kind)
		require.Contains(t, e.Hint, "plain WebSocket server waits for the client")
		require.Equal(t, ClientEffect{Kind: CEffCloseConn, Conn: conn}, effects[1])
	})
	t.Run("nothing answers", func(t *testing.T) {
		c, conn := startPolling(t, ClientConfig{ConnectTimeout: 1000})
		c.Tick(1000)
		effects := c.Effects()
		e := failure(t, c, effects)
		require.Equal(t, ClientErrTimeout, e.Kind)
		require.Contains(t, e.Hint, "did not complete the handshake")
		require.Equal(t, ClientEffect{Kind: CEffCloseConn, Conn: conn}, effects[1], "the handshake GET is abandoned")
		require.False(t, c.PriorWebSocketSuccess())
	})
	t.Run("no transports", func(t *testing.T) {
		c := NewClient(ClientConfig{Transports: TransportWebSocket})
		c.cfg.Transports = 0
		c.Open(0)
		e := failure(t, c, c.Effects())
		require.Equal(t, ClientErrNoTransport, e.Kind)
	})
}

// openedPolling returns a v4 polling client past its handshake (upgrade
// off unless cfg says otherwise) and the conn of its pending GET.
func openedPolling(t *testing.T, cfg ClientConfig) (*Client, uint64) {
	t.Helper()
	c, conn := startPolling(t, cfg)
	c.Response(1, conn, 200, "text/plain", []byte(v4Open))
	effects := c.Effects()
	require.Equal(t, CEffOpen, effects[0].Kind)
	get := effects[len(effects)-1]
	require.Equal(t, "GET", get.Method)
	return c, get.Conn
}

func TestClientPollErrors(t *testing.T) {
	t.Run("poll status", func(t *testing.T) {
		c, get := openedPolling(t, ClientConfig{Transports: TransportPolling})
		c.Response(2, get, 400, "", nil)
		e := failure(t, c, c.Effects())
		require.Equal(t, "poll", e.Op)
		require.Equal(t, ClientErrHTTP, e.Kind)
		require.Contains(t, e.Hint, "the server closed the session")
	})
	t.Run("parse error", func(t *testing.T) {
		c, get := openedPolling(t, ClientConfig{Transports: TransportPolling})
		c.Response(2, get, 200, "text/plain", []byte("4ok\x1e9bad"))
		effects := c.Effects()
		require.Equal(t, CEffMessage, effects[0].Kind, "the packets before the bad one are delivered")
		require.Equal(t, "ok", string(effects[0].Data))
		e := failure(t, c, effects[1:])
		require.Equal(t, ClientErrParse, e.Kind)
		require.Equal(t, ErrUnknownType.Error(), e.Message)
	})
	t.Run("network", func(t *testing.T) {
		c, get := openedPolling(t, ClientConfig{Transports: TransportPolling})
		c.ConnClosed(2, get, 1006)
		e := failure(t, c, c.Effects())
		require.Equal(t, ClientErrNetwork, e.Kind)
		require.Equal(t, "poll", e.Op)
	})
	t.Run("stale inputs are ignored", func(t *testing.T) {
		c, get := openedPolling(t, ClientConfig{Transports: TransportPolling})
		c.Response(2, 999, 500, "", nil)
		c.Frame(2, get, false, []byte("1"))
		c.WSOpened(2, 998)
		c.ConnClosed(2, 997, 1000)
		c.ConnFailed(2, 0, "x")
		require.Empty(t, c.Effects())
		require.True(t, c.IsOpen())
	})
}
