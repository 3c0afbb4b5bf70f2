package eio

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The Client against the real Server, through netHost (client_host_test.go).

const sid1 = "AQAAAAAAAAABAAAAAAAA" // the first session id of counterRandom

func TestClientPolling(t *testing.T) {
	h := newNetHost(t, ClientConfig{Transports: TransportPolling}, testServerConfig())
	h.do(func() { h.c.Open(0) })
	require.Equal(t, []ClientEffectKind{CEffOpen}, h.clientKinds())
	require.Equal(t, &Handshake{SID: sid1, Upgrades: []string{"websocket"}, PingInterval: 300, PingTimeout: 200, MaxPayload: 1000000}, h.client[0].Handshake)
	require.Equal(t, "polling", h.client[0].Text)
	require.Equal(t, []string{"GET EIO=4&transport=polling", "GET EIO=4&transport=polling&sid=" + sid1}, h.queries(),
		"the handshake, then one GET outstanding; no probe: WebSocket is not among the client's transports")
	require.Equal(t, []EffectKind{EffOpen}, h.serverKinds())
	require.Equal(t, sid1, h.c.SID())
	require.True(t, h.c.IsOpen())

	h.now = 10
	h.do(func() {
		require.True(t, h.c.Send(h.now, false, []byte("hello")))
		require.True(t, h.c.Send(h.now, true, []byte{1, 2, 3}))
		require.True(t, h.c.Send(h.now, false, []byte("€")))
	})
	require.Equal(t, []string{"4hello", "bAQID\x1e4€"}, h.posts(),
		"one POST at a time: what is sent meanwhile goes in the next one")
	require.Equal(t, []string{"hello", "bin:010203", "€"}, h.serverMessages())

	sh := h.s.Lookup(sid1)
	h.do(func() {
		require.True(t, h.s.Send(h.now, sh, false, []byte("world")))
		require.True(t, h.s.Send(h.now, sh, true, []byte{4, 5}))
	})
	require.Equal(t, []string{"world", "bin:0405"}, h.clientMessages())

	h.now = 20
	h.do(func() { h.c.Close(h.now) })
	last, _ := h.lastClient(CEffClose)
	require.Equal(t, ReasonForcedClose, last.Text)
	require.Equal(t, "1", h.posts()[len(h.posts())-1], "the server is told with a close packet")
	require.Equal(t, ReasonTransportClose, h.lastServer(EffClose).Text)
	require.Equal(t, 0, h.s.Len())
	require.True(t, h.c.Closed())
	n := len(h.requests)
	h.advance(5000)
	require.Len(t, h.requests, n, "nothing more after the close")
	require.False(t, h.c.Send(h.now, false, []byte("late")))
}

func TestClientWebSocketOnly(t *testing.T) {
	h := newNetHost(t, ClientConfig{Transports: TransportWebSocket}, testServerConfig())
	h.do(func() { h.c.Open(0) })
	require.Equal(t, []string{"WS EIO=4&transport=websocket"}, h.queries())
	require.Equal(t, []ClientEffectKind{CEffOpen}, h.clientKinds())
	require.Equal(t, &Handshake{SID: sid1, Upgrades: []string{}, PingInterval: 300, PingTimeout: 200, MaxPayload: 1000000}, h.client[0].Handshake)
	require.Equal(t, "websocket", h.client[0].Text)
	require.True(t, h.c.PriorWebSocketSuccess())

	h.do(func() {
		h.c.Send(h.now, false, []byte("hello"))
		h.c.Send(h.now, true, []byte{1, 2, 3, 4})
	})
	require.Equal(t, []string{"4hello", "bin:01020304"}, h.c2s)
	require.Equal(t, []string{"hello", "bin:01020304"}, h.serverMessages())

	sh := h.s.Lookup(sid1)
	h.do(func() {
		h.s.Send(h.now, sh, false, []byte("world"))
		h.s.Send(h.now, sh, true, []byte{9})
	})
	require.Equal(t, []string{"world", "bin:09"}, h.clientMessages())

	// The server closes: the WebSocket closes, the client hears "transport close".
	h.now = 50
	h.do(func() { h.s.CloseSession(h.now, sh, "") })
	last, _ := h.lastClient(CEffClose)
	require.Equal(t, ReasonTransportClose, last.Text)
	require.Equal(t, "websocket connection closed (code 1000)", last.Desc)
	require.True(t, h.c.Closed())
}

func TestClientWebSocketClose(t *testing.T) {
	h := newNetHost(t, ClientConfig{Transports: TransportWebSocket}, testServerConfig())
	h.do(func() { h.c.Open(0) })
	h.do(func() { h.c.Close(h.now) })
	require.Equal(t, []string{"1"}, h.c2s, "the close packet, then the socket is closed")
	last, _ := h.lastClient(CEffClose)
	require.Equal(t, ReasonForcedClose, last.Text)
	require.Equal(t, ReasonTransportClose, h.lastServer(EffClose).Text)
	require.Equal(t, 0, h.s.Len())
}

func TestClientUpgrade(t *testing.T) {
	h := newNetHost(t, DefaultClientConfig(nil), testServerConfig())
	h.do(func() { h.c.Open(0) })
	require.Equal(t, []string{
		"GET EIO=4&transport=polling",
		"WS EIO=4&transport=websocket&sid=" + sid1,
		"GET EIO=4&transport=polling&sid=" + sid1,
	}, h.queries(), "the probe starts right after the handshake, the polling GET goes out too")
	require.Equal(t, []string{"2probe"}, h.c2s)
	require.Equal(t, []string{"3probe"}, h.s2c)
	require.Equal(t, []ClientEffectKind{CEffOpen}, h.clientKinds(), "not upgraded yet: the GET is still pending")
	require.False(t, h.c.Writable(), "paused")

	// Meanwhile both sides send: the client buffers, the server holds.
	sh := h.s.Lookup(sid1)
	h.now = 20
	h.do(func() {
		require.True(t, h.c.Send(h.now, false, []byte("during")))
		require.True(t, h.s.Send(h.now, sh, false, []byte("held")))
	})
	require.Empty(t, h.posts(), "polling is paused: nothing is POSTed")

	// The server's upgrade check answers the pending GET with a noop; the
	// client switches, sends "5" and flushes its buffer on the WebSocket.
	h.advance(150)
	require.Equal(t, []ClientEffectKind{CEffOpen, CEffUpgrade, CEffMessage}, h.clientKinds())
	up, at := h.lastClient(CEffUpgrade)
	require.Equal(t, "websocket", up.Text)
	require.Equal(t, int64(100), at)
	require.Equal(t, []string{"2probe", "5", "4during"}, h.c2s)
	require.Equal(t, []string{"held"}, h.clientMessages())
	require.Equal(t, []string{"during"}, h.serverMessages())
	require.Equal(t, []EffectKind{EffOpen, EffUpgrade, EffMessage}, h.serverKinds())
	require.Equal(t, "websocket", h.c.TransportName())
	require.Equal(t, "websocket", h.s.TransportName(sh))
	require.True(t, h.c.PriorWebSocketSuccess())
	require.Len(t, h.requests, 3, "no GET after the upgrade")

	// Heartbeats now run on the WebSocket.
	h.advance(2000)
	require.True(t, h.c.IsOpen())
	require.Equal(t, 1, h.s.Len())
	require.Contains(t, h.c2s, "3")
	require.Len(t, h.requests, 3)
}

func TestClientUpgradeWithPostInFlight(t *testing.T) {
	// Messages sent while the probe runs (one POST in flight, one
	// buffered) all arrive in order; the session ends on WebSocket.
	h := newNetHost(t, DefaultClientConfig(nil), testServerConfig())
	h.c.Open(0)
	for !h.c.opened {
		h.step()
	}
	require.True(t, h.c.Send(h.now, false, []byte("a")))
	require.True(t, h.c.Send(h.now, false, []byte("b")))
	h.advance(150)
	require.Equal(t, []string{"4a", "4b"}, h.posts())
	require.Equal(t, []string{"a", "b"}, h.serverMessages())
	require.Equal(t, "websocket", h.c.TransportName())
	require.Equal(t, []string{"2probe", "5"}, h.c2s)
}

func TestClientUpgradeBlocked(t *testing.T) {
	// A proxy that does not pass WebSocket refuses the probe: the session
	// stays on polling, and the client says why.
	h := newNetHost(t, DefaultClientConfig(nil), testServerConfig())
	h.refuseUpgrade = 502
	h.do(func() { h.c.Open(0) })
	require.Equal(t, []ClientEffectKind{CEffOpen, CEffUpgradeError}, h.clientKinds())
	e := h.client[1].Err
	require.Equal(t, ClientErrHTTP, e.Kind)
	require.Equal(t, "probe", e.Op)
	require.Equal(t, 502, e.Status)
	require.Contains(t, e.Hint, "proxy")
	require.Equal(t, "polling", h.c.TransportName())
	require.False(t, h.c.PriorWebSocketSuccess())
	h.do(func() { h.c.Send(h.now, false, []byte("still polling")) })
	require.Equal(t, []string{"still polling"}, h.serverMessages())
	h.advance(1000)
	require.True(t, h.c.IsOpen())
	require.Equal(t, 1, h.s.Len())
}

func TestClientV3Polling(t *testing.T) {
	for _, b64 := range []bool{true, false} {
		t.Run(map[bool]string{true: "b64", false: "binary"}[b64], func(t *testing.T) {
			scfg := testServerConfig()
			scfg.AllowEIO3 = true
			h := newNetHost(t, ClientConfig{Protocol: 3, Transports: TransportPolling, B64: b64}, scfg)
			h.do(func() { h.c.Open(0) })
			q := "GET EIO=3&transport=polling"
			if b64 {
				q += "&b64=1"
			}
			require.Equal(t, []string{q, "GET EIO=3&transport=polling&sid=" + sid1}, h.queries(), "b64 at the handshake only")
			require.Equal(t, []ClientEffectKind{CEffOpen}, h.clientKinds())
			require.Equal(t, 3, h.s.Protocol(h.s.Lookup(sid1)))

			h.do(func() {
				h.c.Send(h.now, false, []byte("x"))
				h.c.Send(h.now, false, []byte(`42["é"]`))
				h.c.Send(h.now, true, []byte{1, 2, 3})
			})
			if b64 {
				require.Equal(t, []string{"2:4x", `8:442["é"]6:b4AQID`}, h.posts())
			} else {
				require.Equal(t, []string{"2:4x", "\x00\x09\xff442[\"é\"]\x01\x04\xff\x04\x01\x02\x03"}, h.posts())
				require.Equal(t, ContentBinary, h.requests[len(h.requests)-1].Content)
			}
			require.Equal(t, []string{"x", `42["é"]`, "bin:010203"}, h.serverMessages())

			sh := h.s.Lookup(sid1)
			h.do(func() {
				h.s.Send(h.now, sh, true, []byte{7, 8})
				h.s.Send(h.now, sh, false, []byte("y"))
			})
			require.Equal(t, []string{"bin:0708", "y"}, h.clientMessages())

			// v3 heartbeat: the client pings every pingInterval, the server
			// answers; nobody times out.
			h.advance(3000)
			require.True(t, h.c.IsOpen())
			require.Equal(t, 1, h.s.Len())
			pings := 0
			for _, p := range h.posts() {
				if p == "1:2" {
					pings++
				}
			}
			require.Equal(t, 10, pings)

			h.do(func() { h.c.Close(h.now) })
			require.Equal(t, "1:1", h.posts()[len(h.posts())-1])
			require.Equal(t, ReasonTransportClose, h.lastServer(EffClose).Text)
		})
	}
}

func TestClientV3WebSocket(t *testing.T) {
	for _, b64 := range []bool{false, true} {
		t.Run(map[bool]string{true: "b64", false: "binary"}[b64], func(t *testing.T) {
			scfg := testServerConfig()
			scfg.AllowEIO3 = true
			h := newNetHost(t, ClientConfig{Protocol: 3, Transports: TransportWebSocket, B64: b64}, scfg)
			h.do(func() { h.c.Open(0) })
			q := "WS EIO=3&transport=websocket"
			if b64 {
				q += "&b64=1"
			}
			require.Equal(t, []string{q}, h.queries())
			require.Equal(t, []ClientEffectKind{CEffOpen}, h.clientKinds())
			h.do(func() {
				h.c.Send(h.now, false, []byte("hi"))
				h.c.Send(h.now, true, []byte{1, 2})
			})
			if b64 {
				require.Equal(t, []string{"4hi", "b4AQI="}, h.c2s)
			} else {
				require.Equal(t, []string{"4hi", "bin:040102"}, h.c2s)
			}
			require.Equal(t, []string{"hi", "bin:0102"}, h.serverMessages())
			sh := h.s.Lookup(sid1)
			h.do(func() { h.s.Send(h.now, sh, true, []byte{3}) })
			require.Equal(t, []string{"bin:03"}, h.clientMessages())

			h.advance(2000)
			require.True(t, h.c.IsOpen())
			require.Equal(t, 1, h.s.Len())
			require.Contains(t, h.c2s, "2")
			require.Contains(t, h.s2c, "3")
		})
	}
}

func TestClientV3Upgrade(t *testing.T) {
	scfg := testServerConfig()
	scfg.AllowEIO3 = true
	ccfg := DefaultClientConfig(nil)
	ccfg.Protocol, ccfg.B64 = 3, true
	h := newNetHost(t, ccfg, scfg)
	h.do(func() { h.c.Open(0) })
	h.advance(200)
	require.Equal(t, []ClientEffectKind{CEffOpen, CEffUpgrade}, h.clientKinds())
	require.Equal(t, "WS EIO=3&transport=websocket&sid="+sid1+"&b64=1", h.queries()[1])
	h.do(func() { h.c.Send(h.now, true, []byte{1}) })
	require.Equal(t, []string{"bin:01"}, h.serverMessages())
	h.advance(3000)
	require.True(t, h.c.IsOpen())
}

func TestClientMessagesBeforeOpen(t *testing.T) {
	h := newNetHost(t, ClientConfig{Transports: TransportWebSocket}, testServerConfig())
	h.c.Open(0)
	require.True(t, h.c.Send(0, false, []byte("early")))
	h.pump()
	require.Equal(t, []string{"early"}, h.serverMessages())
	require.Equal(t, []ClientEffectKind{CEffOpen}, h.clientKinds())
}

func TestClientRememberUpgrade(t *testing.T) {
	cfg := DefaultClientConfig(nil)
	cfg.RememberUpgrade, cfg.PriorWebSocketSuccess = true, true
	h := newNetHost(t, cfg, testServerConfig())
	h.do(func() { h.c.Open(0) })
	require.Equal(t, []string{"WS EIO=4&transport=websocket"}, h.queries())
	require.Equal(t, "websocket", h.c.TransportName())

	cfg.PriorWebSocketSuccess = false
	h = newNetHost(t, cfg, testServerConfig())
	h.do(func() { h.c.Open(0) })
	require.Equal(t, "GET EIO=4&transport=polling", h.queries()[0])
}

func TestClientCacheBuster(t *testing.T) {
	cfg := DefaultClientConfig(counterRandom())
	h := newNetHost(t, cfg, testServerConfig())
	h.do(func() { h.c.Open(0) })
	q := h.queries()
	require.Equal(t, "GET EIO=4&transport=polling&t=AQAAAAAA", q[0])
	require.Equal(t, "WS EIO=4&transport=websocket&sid="+sid1, q[1], "no t on WebSocket")
	require.Equal(t, "GET EIO=4&transport=polling&sid="+sid1+"&t=AgAAAAAA", q[2])
}

func TestClientServerErrorsThroughServer(t *testing.T) {
	t.Run("v3 client, v3 disabled", func(t *testing.T) {
		h := newNetHost(t, ClientConfig{Protocol: 3, Transports: TransportPolling}, testServerConfig())
		h.do(func() { h.c.Open(0) })
		require.Equal(t, []ClientEffectKind{CEffError, CEffClose}, h.clientKinds())
		e := h.client[0].Err
		require.Equal(t, ClientErrEngineIO, e.Kind)
		require.Equal(t, CodeUnsupportedProtocol, e.Code)
		require.Equal(t, "Unsupported protocol version", e.Message)
		require.Contains(t, e.Hint, "allowEIO3")
		require.Equal(t, ReasonTransportError, h.client[1].Text)
	})
	t.Run("polling disabled", func(t *testing.T) {
		scfg := testServerConfig()
		scfg.Transports = TransportWebSocket
		h := newNetHost(t, ClientConfig{Transports: TransportPolling}, scfg)
		h.do(func() { h.c.Open(0) })
		e := h.client[0].Err
		require.Equal(t, CodeUnknownTransport, e.Code)
		require.Contains(t, e.Hint, "polling transport")
	})
	t.Run("websocket disabled", func(t *testing.T) {
		scfg := testServerConfig()
		scfg.Transports = TransportPolling
		h := newNetHost(t, ClientConfig{Transports: TransportWebSocket}, scfg)
		h.do(func() { h.c.Open(0) })
		e := h.client[0].Err
		require.Equal(t, ClientErrEngineIO, e.Kind, "the raw 400 text of a refused upgrade is read too")
		require.Equal(t, CodeUnknownTransport, e.Code)
		require.Equal(t, "websocket", e.Transport)
		require.Equal(t, 400, e.Status)
	})
	t.Run("session gone", func(t *testing.T) {
		h := newNetHost(t, ClientConfig{Transports: TransportPolling}, testServerConfig())
		h.do(func() { h.c.Open(0) })
		// The server forgets the session without telling (another
		// instance, a restart): the next request gets code 1.
		h.s = NewServer(testServerConfig())
		h.do(func() { h.c.Send(h.now, false, []byte("x")) })
		e, _ := h.lastClient(CEffError)
		require.Equal(t, CodeUnknownSID, e.Err.Code)
		require.Equal(t, "post", e.Err.Op)
		require.Contains(t, e.Err.Hint, "sticky sessions")
	})
}

func effectKinds(effects []ClientEffect) []ClientEffectKind {
	k := make([]ClientEffectKind, len(effects))
	for i, e := range effects {
		k[i] = e.Kind
	}
	return k
}
