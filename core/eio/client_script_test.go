package eio

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Scripted sequences: the upgrade probe, closes, and late inputs, with the
// test playing the server.

func TestClientCloseHeldForPost(t *testing.T) {
	setup := func(t *testing.T) (*Client, uint64, uint64) {
		c, get := openedPolling(t, ClientConfig{Transports: TransportPolling})
		require.True(t, c.Send(2, false, []byte("big")))
		post := c.Effects()[0]
		require.Equal(t, "POST", post.Method)
		c.Response(3, get, 200, "text/plain", []byte("1"))
		require.Empty(t, c.Effects(), "the close waits for the POST's answer")
		require.False(t, c.Send(3, false, []byte("x")))
		return c, get, post.Conn
	}
	t.Run("413", func(t *testing.T) {
		c, _, post := setup(t)
		c.Response(4, post, 413, "", nil)
		e := failure(t, c, c.Effects())
		require.Equal(t, 413, e.Status)
		require.Contains(t, e.Hint, "maxPayload (maxHttpBufferSize, 1000 bytes)")
	})
	t.Run("ok", func(t *testing.T) {
		c, _, post := setup(t)
		c.Response(4, post, 200, "text/html", []byte("ok"))
		require.Equal(t, []ClientEffect{{Kind: CEffClose, Text: ReasonTransportClose, Desc: closedByServer}}, c.Effects())
	})
	t.Run("no answer", func(t *testing.T) {
		c, _, post := setup(t)
		d, _ := c.NextDeadline()
		require.Equal(t, int64(3+closeGrace), d)
		c.Tick(d)
		require.Equal(t, []ClientEffect{{Kind: CEffCloseConn, Conn: post}, {Kind: CEffClose, Text: ReasonTransportClose, Desc: closedByServer}}, c.Effects())
	})
}

func TestClientProbe(t *testing.T) {
	upgrading := func(t *testing.T) (c *Client, get, probe uint64) {
		c, conn := startPolling(t, ClientConfig{Upgrade: true})
		c.Response(1, conn, 200, "text/plain", []byte(v4Open))
		effects := c.Effects()
		require.Equal(t, []ClientEffectKind{CEffOpen, CEffDial, CEffRequest}, effectKinds(effects))
		require.Equal(t, "EIO=4&transport=websocket&sid=s1", effects[1].Query)
		probe, get = effects[1].Conn, effects[2].Conn
		c.WSOpened(2, probe)
		effects = c.Effects()
		require.Equal(t, []ClientEffect{{Kind: CEffWrite, Conn: probe, Prefix: []byte("2"), Data: []byte("probe")}}, effects)
		return c, get, probe
	}
	t.Run("pause waits for the GET and the POST", func(t *testing.T) {
		c, get, probe := upgrading(t)
		require.True(t, c.Send(3, false, []byte("a")))
		post := c.Effects()[0]
		require.Equal(t, "4a", string(post.Data))
		c.Frame(4, probe, false, []byte("3probe"))
		require.True(t, c.Send(4, false, []byte("b")))
		require.Empty(t, c.Effects(), "paused: b waits")
		c.Response(5, post.Conn, 200, "text/html", []byte("ok"))
		require.Empty(t, c.Effects(), "the GET is still out")
		c.Response(6, get, 200, "text/plain", []byte("6"))
		effects := c.Effects()
		require.Equal(t, []ClientEffect{
			{Kind: CEffWrite, Conn: probe, Prefix: []byte("5")},
			{Kind: CEffUpgrade, Conn: probe, Text: "websocket"},
			{Kind: CEffWrite, Conn: probe, Prefix: []byte("4"), Data: []byte("b")},
		}, effects)
		require.True(t, c.PriorWebSocketSuccess())
		// Now straight on the WebSocket, the caller's bytes as they are.
		data := []byte("c")
		c.Send(7, false, data)
		effects = c.Effects()
		require.Len(t, effects, 1)
		require.Same(t, &data[0], &effects[0].Data[0])
	})
	t.Run("a GET answered with messages", func(t *testing.T) {
		c, get, probe := upgrading(t)
		c.Frame(4, probe, false, []byte("3probe"))
		c.Response(5, get, 200, "text/plain", []byte("4late\x1e6"))
		effects := c.Effects()
		require.Equal(t, []ClientEffectKind{CEffMessage, CEffWrite, CEffUpgrade}, effectKinds(effects),
			"no new GET: the messages, then the switch")
	})
	t.Run("wrong answer", func(t *testing.T) {
		c, get, probe := upgrading(t)
		c.Frame(4, probe, false, []byte("3nope"))
		effects := c.Effects()
		require.Equal(t, []ClientEffectKind{CEffCloseConn, CEffUpgradeError}, effectKinds(effects))
		require.Equal(t, probe, effects[0].Conn)
		require.Equal(t, ClientErrProbe, effects[1].Err.Kind)
		require.Contains(t, effects[1].Err.Error(), `"3nope"`)
		require.True(t, c.IsOpen())
		c.Response(5, get, 200, "text/plain", []byte("6"))
		effects = c.Effects()
		require.Equal(t, []ClientEffectKind{CEffRequest}, effectKinds(effects), "polling goes on")
	})
	t.Run("session fails while paused", func(t *testing.T) {
		c, get, probe := upgrading(t)
		c.Frame(4, probe, false, []byte("3probe"))
		c.Send(4, false, []byte("held"))
		c.Response(5, get, 200, "text/plain", nil) // an empty payload is a parse error
		effects := c.Effects()
		e := failure(t, c, effects)
		require.Equal(t, ClientErrParse, e.Kind)
		require.Contains(t, effects, ClientEffect{Kind: CEffCloseConn, Conn: probe}, "the probe is closed with the session")
	})
	t.Run("probe lost before the switch", func(t *testing.T) {
		c, _, probe := upgrading(t)
		c.Frame(4, probe, false, []byte("3probe"))
		c.Send(4, false, []byte("held"))
		c.ConnClosed(5, probe, 1006)
		effects := c.Effects()
		require.Equal(t, []ClientEffectKind{CEffUpgradeError, CEffRequest}, effectKinds(effects),
			"the GET is still out: no new one; what was held is POSTed")
		require.Equal(t, "4held", string(effects[1].Data))
		require.False(t, c.PriorWebSocketSuccess())
	})
	t.Run("probe lost after the GET ended", func(t *testing.T) {
		c, get, probe := upgrading(t)
		c.Send(3, false, []byte("a"))
		post := c.Effects()[0].Conn
		c.Frame(4, probe, false, []byte("3probe"))
		c.Response(5, get, 200, "text/plain", []byte("6"))
		require.Empty(t, c.Effects(), "waiting for the POST")
		c.Send(5, false, []byte("held"))
		c.ConnFailed(6, probe, "reset")
		effects := c.Effects()
		require.Equal(t, []ClientEffectKind{CEffUpgradeError, CEffRequest}, effectKinds(effects), "polling resumes")
		require.Equal(t, "GET", effects[1].Method)
		c.Response(7, post, 200, "text/html", []byte("ok"))
		effects = c.Effects()
		require.Equal(t, "4held", string(effects[0].Data))
	})
	t.Run("probe refused", func(t *testing.T) {
		c, conn := startPolling(t, ClientConfig{Upgrade: true})
		c.Response(1, conn, 200, "text/plain", []byte(v4Open))
		probe := c.Effects()[1].Conn
		c.Response(2, probe, 400, "text/html", []byte("Bad request"))
		effects := c.Effects()
		require.Equal(t, []ClientEffectKind{CEffUpgradeError}, effectKinds(effects))
		require.Equal(t, CodeBadRequest, effects[0].Err.Code)
		require.Equal(t, "probe", effects[0].Err.Op)
	})
}

func TestClientCloseWhileOpening(t *testing.T) {
	c, conn := startPolling(t, ClientConfig{})
	require.True(t, c.Send(0, false, []byte("never")))
	c.Close(1)
	require.Equal(t, []ClientEffect{{Kind: CEffCloseConn, Conn: conn}, {Kind: CEffClose, Text: ReasonForcedClose}}, c.Effects())
	c.Response(2, conn, 200, "text/plain", []byte(v4Open))
	require.Empty(t, c.Effects())
	c.Close(3)
	require.Empty(t, c.Effects())
}

func TestClientLateInputDoesNotRevive(t *testing.T) {
	// A ping that arrives after the deadline has passed finds the session
	// already timed out, as if the timer had fired first.
	c, conn := startWS(t, ClientConfig{})
	c.Frame(0, conn, false, []byte(`0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200}`))
	c.Effects()
	c.Frame(501, conn, false, []byte("2"))
	effects := c.Effects()
	require.Equal(t, []ClientEffectKind{CEffCloseConn, CEffClose}, effectKinds(effects))
	require.Equal(t, ReasonPingTimeout, effects[1].Text)
}

func TestClientB64V4WebSocket(t *testing.T) {
	c, conn := startWS(t, ClientConfig{B64: true})
	c.Frame(2, conn, false, []byte(`0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200}`))
	c.Effects()
	c.Send(3, true, []byte{1, 2, 3})
	require.Equal(t, []ClientEffect{{Kind: CEffWrite, Conn: conn, Data: []byte("bAQID")}}, c.Effects())
	c.Frame(4, conn, false, []byte("bBAU="))
	require.Equal(t, []ClientEffect{{Kind: CEffMessage, Binary: true, Data: []byte{4, 5}}}, c.Effects())
}

func TestClientHandshakeWithoutHeartbeat(t *testing.T) {
	// A handshake without pingInterval/pingTimeout disables the heartbeat
	// instead of timing out at once.
	for _, proto := range []int{3, 4} {
		c, conn := startWS(t, ClientConfig{Protocol: proto})
		c.Frame(2, conn, false, []byte(`0{"sid":"x"}`))
		require.Equal(t, []ClientEffectKind{CEffOpen}, effectKinds(c.Effects()))
		_, ok := c.NextDeadline()
		require.False(t, ok)
		c.Tick(1 << 40)
		require.Empty(t, c.Effects())
		require.True(t, c.IsOpen())
	}
}

func TestClientV3BinaryContentTypeCase(t *testing.T) {
	c, conn := startPolling(t, ClientConfig{Protocol: 3, Transports: TransportPolling})
	c.Response(1, conn, 200, "text/plain; charset=UTF-8", []byte(`31:0{"sid":"s","pingInterval":300}`))
	get := c.Effects()[1].Conn
	c.Response(2, get, 200, "Application/Octet-Stream", []byte("\x01\x03\xff\x04\x01\x02"))
	effects := c.Effects()
	require.Equal(t, ClientEffect{Kind: CEffMessage, Binary: true, Data: []byte{1, 2}}, effects[0])
}

func TestClientCloseBeforeOpen(t *testing.T) {
	c := NewClient(ClientConfig{})
	c.Close(0)
	require.True(t, c.Closed())
	require.Empty(t, c.Effects())
	c.Open(1)
	require.Empty(t, c.Effects(), "a closed Client does not open")
	require.False(t, c.Send(1, false, []byte("x")))
}
