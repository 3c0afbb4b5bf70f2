package eio

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Heartbeats, timeouts, batching and closes: the Client against the real
// Server (netHost), or scripted.

func TestClientHeartbeatV4(t *testing.T) {
	h := newNetHost(t, ClientConfig{Transports: TransportPolling}, testServerConfig())
	h.do(func() { h.c.Open(0) })
	h.advance(3000)
	require.True(t, h.c.IsOpen())
	require.Equal(t, 1, h.s.Len())
	pongs := 0
	for _, p := range h.posts() {
		if p == "3" {
			pongs++
		}
	}
	require.Equal(t, 10, pongs, "a pong for every ping, one every 300 ms")
	d, ok := h.c.NextDeadline()
	require.True(t, ok)
	require.Equal(t, int64(3000+500), d, "the last ping came at 3000")

	// The server goes silent: the client closes at the last ping plus
	// pingInterval+pingTimeout.
	h.dropS2C = true
	h.advance(10000)
	last, at := h.lastClient(CEffClose)
	require.Equal(t, ReasonPingTimeout, last.Text)
	require.Equal(t, int64(3500), at)
	require.Empty(t, last.Desc)
}

func TestClientPingTimeoutWithoutPing(t *testing.T) {
	// No ping ever comes: the deadline counts from the handshake, and the
	// description points at a v3 server.
	c := NewClient(ClientConfig{Transports: TransportWebSocket})
	c.Open(0)
	dial := c.Effects()[0]
	c.WSOpened(1, dial.Conn)
	c.Frame(2, dial.Conn, false, []byte(`0{"sid":"x","upgrades":[],"pingInterval":1000,"pingTimeout":500}`))
	require.Equal(t, []ClientEffectKind{CEffOpen}, effectKinds(c.Effects()))
	d, _ := c.NextDeadline()
	require.Equal(t, int64(1502), d)
	c.Tick(1501)
	require.Empty(t, c.Effects())
	c.Tick(1502)
	effects := c.Effects()
	require.Equal(t, []ClientEffectKind{CEffCloseConn, CEffClose}, effectKinds(effects))
	require.Equal(t, ReasonPingTimeout, effects[1].Text)
	require.Contains(t, effects[1].Desc, "socket.io 2.x")
}

func TestClientServerPingTimeout(t *testing.T) {
	// The client's pongs are lost: the server closes with "ping timeout"
	// and closes the WebSocket; the client hears "transport close".
	h := newNetHost(t, ClientConfig{Transports: TransportWebSocket}, testServerConfig())
	h.do(func() { h.c.Open(0) })
	h.dropC2SWS = true
	h.advance(2000)
	require.Equal(t, ReasonPingTimeout, h.lastServer(EffClose).Text)
	last, at := h.lastClient(CEffClose)
	require.Equal(t, ReasonTransportClose, last.Text)
	require.Equal(t, int64(500), at, "ping at 300, no pong by 500")
}

func TestClientV3PingTimeout(t *testing.T) {
	c := NewClient(ClientConfig{Protocol: 3, Transports: TransportWebSocket})
	c.Open(0)
	conn := c.Effects()[0].Conn
	c.WSOpened(0, conn)
	c.Frame(0, conn, false, []byte(`0{"sid":"s","upgrades":[],"pingInterval":1000,"pingTimeout":400}`))
	c.Effects()
	d, _ := c.NextDeadline()
	require.Equal(t, int64(1000), d, "the first ping")
	c.Tick(1000)
	effects := c.Effects()
	require.Equal(t, []ClientEffectKind{CEffWrite}, effectKinds(effects))
	require.Equal(t, "2", string(effects[0].Prefix)+string(effects[0].Data))
	d, _ = c.NextDeadline()
	require.Equal(t, int64(1400), d, "the pong must come within pingTimeout")

	c.Frame(1100, conn, false, []byte("3"))
	d, _ = c.NextDeadline()
	require.Equal(t, int64(2100), d, "the next ping, pingInterval after the pong")
	c.Tick(2100)
	c.Effects()
	c.Tick(2499)
	require.Empty(t, c.Effects())
	c.Tick(2500)
	effects = c.Effects()
	require.Equal(t, []ClientEffectKind{CEffCloseConn, CEffClose}, effectKinds(effects))
	require.Equal(t, ReasonPingTimeout, effects[1].Text)
}

func TestClientBatchesUpToMaxPayload(t *testing.T) {
	scfg := testServerConfig()
	scfg.MaxPayload = 100
	h := newNetHost(t, ClientConfig{Transports: TransportPolling}, scfg)
	h.do(func() { h.c.Open(0) })
	var want []string
	h.do(func() {
		for i := 0; i < 10; i++ {
			m := strings.Repeat(string(rune('a'+i)), 30)
			want = append(want, m)
			require.True(t, h.c.Send(h.now, false, []byte(m)))
		}
	})
	posts := h.posts()
	require.Len(t, posts, 4, "1 alone (no POST in flight), then 3 by 3: 31+32+32 = 95 <= 100")
	for _, p := range posts {
		require.LessOrEqual(t, len(p), 100)
	}
	require.Equal(t, 3, strings.Count(posts[1], "\x1e")+1)
	require.Equal(t, want, h.serverMessages())
	require.True(t, h.c.IsOpen())

	// A binary message is counted with its base64 size.
	h.do(func() {
		h.c.Send(h.now, false, []byte("x"))
		h.c.Send(h.now, true, make([]byte, 72)) // b + 96 base64 chars
		h.c.Send(h.now, false, []byte("yy"))    // 97 + 1 + 3 > 100
		h.c.Send(h.now, false, []byte("z"))
	})
	posts = h.posts()[4:]
	require.Equal(t, []string{"4x", "b" + strings.Repeat("A", 96), "4yy\x1e4z"}, posts)

	// A single message larger than maxPayload still goes (alone): the
	// server refuses it with 413, and the client says why.
	h.do(func() { h.c.Send(h.now, false, make([]byte, 200)) })
	require.Equal(t, []ClientEffectKind{CEffError, CEffClose}, h.clientKinds()[len(h.client)-2:])
	e, _ := h.lastClient(CEffError)
	require.Equal(t, 413, e.Err.Status)
	require.Equal(t, "post", e.Err.Op)
	require.Contains(t, e.Err.Hint, "maxPayload")
	require.Contains(t, e.Err.Hint, "100 bytes")
	last, _ := h.lastClient(CEffClose)
	require.Equal(t, ReasonTransportError, last.Text)
}

func TestClientV3IgnoresMaxPayload(t *testing.T) {
	scfg := testServerConfig()
	scfg.AllowEIO3, scfg.MaxPayload = true, 100
	h := newNetHost(t, ClientConfig{Protocol: 3, Transports: TransportPolling, B64: true}, scfg)
	h.do(func() { h.c.Open(0) })
	h.do(func() {
		for i := 0; i < 4; i++ {
			h.c.Send(h.now, false, []byte(strings.Repeat("z", 30)))
		}
	})
	posts := h.posts()
	require.Len(t, posts, 2, "the 3.x client sends its whole buffer...")
	require.Greater(t, len(posts[1]), 100)
	e, _ := h.lastClient(CEffError)
	require.Equal(t, 413, e.Err.Status, "...which this server refuses")
}

func TestClientServerClosesPolling(t *testing.T) {
	h := newNetHost(t, ClientConfig{Transports: TransportPolling}, testServerConfig())
	h.do(func() { h.c.Open(0) })
	sh := h.s.Lookup(sid1)
	h.do(func() { h.s.Send(h.now, sh, false, []byte("last words")) })
	h.do(func() { h.s.CloseSession(h.now, sh, "") })
	require.Equal(t, []string{"last words"}, h.clientMessages(), "the queued packets come before the close")
	last, _ := h.lastClient(CEffClose)
	require.Equal(t, ReasonTransportClose, last.Text)
	require.Equal(t, "transport closed by the server", last.Desc)
	n := len(h.requests)
	h.advance(2000)
	require.Len(t, h.requests, n)
}

func TestClientCloseWaitsForBuffer(t *testing.T) {
	h := newNetHost(t, ClientConfig{Transports: TransportPolling}, testServerConfig())
	h.do(func() { h.c.Open(0) })
	h.do(func() {
		h.c.Send(h.now, false, []byte("one"))
		h.c.Send(h.now, false, []byte("two"))
		h.c.Close(h.now)
		require.False(t, h.c.Send(h.now, false, []byte("refused")), "closing: no more sends")
		require.False(t, h.c.IsOpen())
		require.False(t, h.c.Closed())
	})
	require.Equal(t, []string{"4one", "4two", "1"}, h.posts())
	require.Equal(t, []string{"one", "two"}, h.serverMessages())
	last, _ := h.lastClient(CEffClose)
	require.Equal(t, ReasonForcedClose, last.Text)
	require.Equal(t, ReasonTransportClose, h.lastServer(EffClose).Text)
}

func TestClientCloseDuringUpgrade(t *testing.T) {
	h := newNetHost(t, DefaultClientConfig(nil), testServerConfig())
	h.do(func() { h.c.Open(0) })
	h.do(func() { h.c.Close(h.now) })
	require.False(t, h.c.Closed(), "the close waits for the upgrade under way")
	h.advance(200)
	require.Equal(t, []ClientEffectKind{CEffOpen, CEffUpgrade, CEffClose}, h.clientKinds())
	require.Equal(t, []string{"2probe", "5", "1"}, h.c2s)
	require.Equal(t, ReasonTransportClose, h.lastServer(EffClose).Text)
}
