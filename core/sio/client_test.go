package sio

// The Client against the real core Server, through sioHost
// (client_host_test.go): an eio.Client and an eio.Server in memory.

import (
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

var transports = []struct {
	name string
	tr   eio.Transports
}{
	{"websocket", eio.TransportWebSocket},
	{"polling", eio.TransportPolling},
	{"upgrade", eio.TransportPolling | eio.TransportWebSocket},
}

// connected makes a host whose client joined "/" and "/custom" (with
// auth) over a v5 session.
func connected(t *testing.T, tr eio.Transports) *sioHost {
	h := newSIOHost(t, 4, tr)
	require.NoError(t, h.c.Connect(0, "/", nil, nil))
	require.NoError(t, h.c.Connect(0, "/custom", []byte(`{"token":"abc"}`), nil))
	h.open()
	require.True(t, h.c.Connected("/"))
	require.True(t, h.c.Connected("/custom"))
	return h
}

func TestClientConnect(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			h := newSIOHost(t, 4, tc.tr)
			require.NoError(t, h.c.Connect(0, "/", nil, nil))
			require.NoError(t, h.c.Connect(0, "/custom", []byte(` {"token":"abc"} `), nil))
			h.pump()
			require.Empty(t, h.c2s, "nothing is sent before the engine opens")
			require.True(t, h.c.Active("/custom"))
			require.False(t, h.c.Connected("/custom"))

			h.open()
			require.Equal(t, []string{"40", `40/custom,{"token":"abc"}`}, h.c2s)
			require.Equal(t, []string{`40{"sid":"sid-/"}`, `40/custom,{"sid":"sid-/custom"}`}, h.s2c)
			if tc.tr == eio.TransportPolling|eio.TransportWebSocket {
				require.Equal(t, "websocket", h.ec.TransportName(), "the session upgraded")
			}

			require.Equal(t, []eio.EffectKind{EffConnect, EffConnect}, h.serverKinds())
			require.Equal(t, "/", h.server[0].Nsp)
			require.Nil(t, h.server[0].Data, "no auth: a bare 40")
			require.Equal(t, "/custom", h.server[1].Nsp)
			require.Equal(t, `{"token":"abc"}`, string(h.server[1].Data))

			require.Equal(t, []ClientEffectKind{CEffConnected, CEffConnected}, h.clientKinds())
			require.Equal(t, ClientEffect{Kind: CEffConnected, Nsp: "/", ID: -1, Text: "sid-/"}, h.client[0])
			require.Equal(t, ClientEffect{Kind: CEffConnected, Nsp: "/custom", ID: -1, Text: "sid-/custom"}, h.client[1])
			require.Equal(t, "sid-/custom", h.c.SID("/custom"))
			require.False(t, h.c.Recovered("/custom"))
			require.Equal(t, 4, h.c.Protocol())
			require.Equal(t, []string{"/", "/custom"}, h.s.Namespaces(h.handle()))

			// A namespace joined once the session is open connects at once.
			h.reset()
			h.do(func() { require.NoError(t, h.c.Connect(h.now, "/late", nil, nil)) })
			require.Equal(t, []string{"40/late,"}, h.c2s)
			require.Equal(t, "sid-/late", h.c.SID("/late"))
			// Connect on a connected namespace sends nothing.
			h.reset()
			h.do(func() { require.NoError(t, h.c.Connect(h.now, "/late", nil, nil)) })
			require.Empty(t, h.c2s)
		})
	}
}

func TestClientConnectArguments(t *testing.T) {
	c := NewClient()
	require.ErrorIs(t, c.Connect(0, "custom", nil, nil), ErrInvalidNamespace)
	require.ErrorIs(t, c.Connect(0, "/a,b", nil, nil), ErrInvalidNamespace)
	require.ErrorIs(t, c.Connect(0, "/", []byte(`[1]`), nil), ErrInvalidAuth)
	require.ErrorIs(t, c.Connect(0, "/", []byte(`{"a":}`), nil), ErrInvalidAuth)
	require.NoError(t, c.Connect(0, "", []byte(`{}`), nil), `"" is "/"`)
	require.True(t, c.Active("/"))
	_, err := c.Emit(0, "/nope", "x", nil, nil, false)
	require.ErrorIs(t, err, ErrUnknownNamespace)
	_, err = c.Emit(0, "/", "disconnect", nil, nil, false)
	require.ErrorIs(t, err, ErrReservedEvent)
	_, err = c.Emit(0, "/", "x", []byte(`{"a":1}`), nil, false)
	require.ErrorIs(t, err, ErrInvalidArgs)
	_, err = c.Emit(0, "/", "x", []byte(`[]`), make([][]byte, 11), false)
	require.ErrorIs(t, err, ErrTooManyAttachments)
	require.ErrorIs(t, c.Ack(0, "/", 1, nil, nil), ErrNotConnected)
	require.ErrorIs(t, c.Ack(0, "/x", 1, nil, nil), ErrUnknownNamespace)
	require.ErrorIs(t, c.Declare("x"), ErrInvalidNamespace)
	require.NoError(t, c.Declare("/later"))
	require.False(t, c.Active("/later"), "declared, not connecting")
	_, err = c.Emit(0, "/later", "x", nil, nil, false)
	require.NoError(t, err, "buffered until Connect")
	require.Empty(t, c.Effects())
}

func TestClientEvents(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			h := connected(t, tc.tr)
			h.reset()

			// Client → server, text and binary.
			h.do(func() {
				id, err := h.c.Emit(h.now, "/", "message", []byte(`[1,"2",{"3":[true]}]`), nil, false)
				require.NoError(t, err)
				require.Equal(t, int64(-1), id)
				_, err = h.c.Emit(h.now, "/custom", "bin", []byte(`[{"_placeholder":true,"num":0},"x",{"_placeholder":true,"num":1}]`), [][]byte{{1, 2, 3}, {4}}, false)
				require.NoError(t, err)
				_, err = h.c.Emit(h.now, "/custom", "none", nil, nil, false)
				require.NoError(t, err)
			})
			require.Equal(t, []string{
				`42["message",1,"2",{"3":[true]}]`,
				`452-/custom,["bin",{"_placeholder":true,"num":0},"x",{"_placeholder":true,"num":1}]`, "bin:010203", "bin:04",
				`42/custom,["none"]`,
			}, h.c2s)
			require.Equal(t, []eio.EffectKind{EffEvent, EffEvent, EffEvent}, h.serverKinds())
			require.Equal(t, `["message",1,"2",{"3":[true]}]`, string(h.server[0].Data))
			require.Equal(t, int64(-1), h.server[0].ID)
			require.Equal(t, "/custom", h.server[1].Nsp)
			require.Equal(t, [][]byte{{1, 2, 3}, {4}}, h.server[1].Attachments)
			require.Equal(t, `["none"]`, string(h.server[2].Data))

			// Server → client.
			h.serverSend("/", `42["hello","world",{"a":[1]}]`)
			e := h.last(CEffEvent)
			require.Equal(t, "/", e.Nsp)
			require.Equal(t, "hello", e.Name)
			require.Equal(t, `["hello","world",{"a":[1]}]`, string(e.Data))
			require.Equal(t, int64(-1), e.ID)
			require.Nil(t, e.Attachments)
			args := e.Args()
			var got []string
			for v, ok := args.Next(); ok; v, ok = args.Next() {
				got = append(got, string(v))
			}
			require.Equal(t, []string{`"world"`, `{"a":[1]}`}, got)

			h.serverSend("/custom", `452-/custom,["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, []byte{4, 5}, []byte{6})
			e = h.last(CEffEvent)
			require.Equal(t, "/custom", e.Nsp)
			require.Equal(t, "file", e.Name)
			require.Equal(t, [][]byte{{4, 5}, {6}}, e.Attachments)

			// Numeric and escaped names.
			h.serverSend("/", `42[7,"x"]`)
			require.Equal(t, "7", h.last(CEffEvent).Name)
			h.serverSend("/", `42["caf\u00e9"]`)
			require.Equal(t, "café", h.last(CEffEvent).Name)

			// An event for a namespace the client never joined is ignored,
			// as socket.io-client ignores it (no socket listens).
			n := len(h.client)
			h.do(func() { h.c.Message(h.now, false, []byte(`2/other,["x"]`)) })
			require.Len(t, h.client, n)
		})
	}
}

func TestClientAcks(t *testing.T) {
	h := connected(t, eio.TransportWebSocket)
	h.reset()

	// The client asks; ids count from 0 per namespace.
	var ids []int64
	h.do(func() {
		for _, nsp := range []string{"/custom", "/custom", "/", "/custom"} {
			id, err := h.c.Emit(h.now, nsp, "q", []byte(`[1]`), nil, true)
			require.NoError(t, err)
			ids = append(ids, id)
		}
	})
	require.Equal(t, []int64{0, 1, 0, 2}, ids)
	require.Equal(t, []string{`42/custom,0["q",1]`, `42/custom,1["q",1]`, `420["q",1]`, `42/custom,2["q",1]`}, h.c2s)
	require.Equal(t, int64(1), h.server[1].ID)
	require.Equal(t, 3, h.c.PendingAcks("/custom"))

	h.serverSend("/custom", `43/custom,1["r1"]`)
	e := h.last(CEffAck)
	require.Equal(t, ClientEffect{Kind: CEffAck, Nsp: "/custom", ID: 1, Data: []byte(`["r1"]`)}, e)
	n := len(h.client)
	h.serverSend("/custom", `43/custom,1["again"]`)
	h.serverSend("/custom", `43/custom,9[]`)
	h.serverSend("/", `432[]`)
	require.Len(t, h.client, n, "acks for unknown or answered ids are ignored")

	h.serverSend("/custom", `461-/custom,2[{"_placeholder":true,"num":0}]`, []byte{7, 7})
	e = h.last(CEffAck)
	require.Equal(t, int64(2), e.ID)
	require.Equal(t, [][]byte{{7, 7}}, e.Attachments)
	require.Equal(t, 1, h.c.PendingAcks("/custom"))

	// The server asks; the client answers.
	h.serverSend("/custom", `42/custom,7["ask",1]`)
	e = h.last(CEffEvent)
	require.Equal(t, int64(7), e.ID)
	require.Equal(t, "ask", e.Name)
	h.reset()
	h.do(func() {
		require.NoError(t, h.c.Ack(h.now, "/custom", 7, []byte(`["yes",{"a":1}]`), nil))
		require.NoError(t, h.c.Ack(h.now, "/custom", 8, []byte(`[{"_placeholder":true,"num":0}]`), [][]byte{{9}}))
		require.NoError(t, h.c.Ack(h.now, "/", 9, nil, nil))
	})
	require.Equal(t, []string{`43/custom,7["yes",{"a":1}]`, `461-/custom,8[{"_placeholder":true,"num":0}]`, "bin:09", `439[]`}, h.c2s)
	require.Equal(t, []eio.EffectKind{EffAck, EffAck, EffAck}, h.serverKinds())
	require.Equal(t, int64(7), h.server[0].ID)
	require.Equal(t, `["yes",{"a":1}]`, string(h.server[0].Data))
	require.Equal(t, [][]byte{{9}}, h.server[1].Attachments)
	require.Equal(t, "/", h.server[2].Nsp)
}

func TestClientConnectError(t *testing.T) {
	h := newSIOHost(t, 4, eio.TransportWebSocket)
	h.accept = func(e eio.Effect) {
		switch e.Nsp {
		case "/forbidden":
			h.s.Refuse(h.now, e.Session, e.Nsp, "not authorized", []byte(`{"content":"retry later"}`))
		case "/random":
			h.s.Refuse(h.now, e.Session, e.Nsp, "Invalid namespace", nil)
		default:
			require.True(t, h.s.Accept(h.now, e.Session, e.Nsp, "sid-"+e.Nsp, ""))
		}
	}
	for _, nsp := range []string{"/", "/forbidden", "/random"} {
		require.NoError(t, h.c.Connect(0, nsp, nil, nil))
	}
	h.open()
	require.Equal(t, []string{`40{"sid":"sid-/"}`,
		`44/forbidden,{"message":"not authorized","data":{"content":"retry later"}}`,
		`44/random,{"message":"Invalid namespace"}`}, h.s2c)
	require.Equal(t, []ClientEffectKind{CEffConnected, CEffConnectError, CEffConnectError}, h.clientKinds())
	require.Equal(t, ClientEffect{Kind: CEffConnectError, Nsp: "/forbidden", ID: -1, Text: "not authorized", Data: []byte(`{"content":"retry later"}`)}, h.client[1])
	require.Equal(t, ClientEffect{Kind: CEffConnectError, Nsp: "/random", ID: -1, Text: "Invalid namespace"}, h.client[2])
	require.False(t, h.c.Active("/forbidden"), "a refused namespace is left (socket.destroy())")
	require.True(t, h.c.IsOpen(), "the engine stays: / is active")

	// Asking again connects again (and is refused again).
	h.reset()
	h.do(func() { require.NoError(t, h.c.Connect(h.now, "/forbidden", []byte(`{"token":"x"}`), nil)) })
	require.Equal(t, []string{`40/forbidden,{"token":"x"}`}, h.c2s)
	require.Equal(t, []ClientEffectKind{CEffConnectError}, h.clientKinds())

	// A refusal of the only active namespace closes the connection, as the
	// Manager does when its last socket is destroyed.
	h2 := newSIOHost(t, 4, eio.TransportWebSocket)
	h2.accept = func(e eio.Effect) { h2.s.Refuse(h2.now, e.Session, e.Nsp, "not authorized", nil) }
	require.NoError(t, h2.c.Connect(0, "/", nil, nil))
	h2.open()
	require.Equal(t, []ClientEffectKind{CEffConnectError, CEffCloseEngine}, h2.clientKinds())
	require.Equal(t, eio.ReasonForcedClose, h2.client[1].Text)
	require.False(t, ReconnectAfter(h2.client[1].Text))
	require.True(t, h2.ec.Closed())
	require.False(t, h2.c.IsOpen())
	require.Equal(t, eio.EffClose, h2.lastServer(eio.EffClose).Kind)
}

func TestClientServerDisconnect(t *testing.T) {
	h := connected(t, eio.TransportWebSocket)
	h.reset()
	h.do(func() {
		_, err := h.c.Emit(h.now, "/custom", "q", nil, nil, true)
		require.NoError(t, err)
	})
	h.do(func() { require.True(t, h.s.Leave(h.now, h.handle(), "/custom")) })
	require.Equal(t, []string{`41/custom,`}, h.s2c)
	require.Equal(t, []ClientEffectKind{CEffDisconnect, CEffAckFailed}, h.clientKinds())
	require.Equal(t, ClientEffect{Kind: CEffDisconnect, Nsp: "/custom", ID: -1, Text: ReasonIOServerDisconnect}, h.client[0])
	require.Equal(t, ClientEffect{Kind: CEffAckFailed, Nsp: "/custom", ID: 0, Text: AckDisconnected}, h.client[1])
	require.False(t, h.c.Active("/custom"), "no reconnection for io server disconnect")
	require.True(t, h.c.IsOpen())

	// The last namespace: the connection closes.
	h.reset()
	h.do(func() { require.True(t, h.s.Leave(h.now, h.handle(), "/")) })
	require.Equal(t, []ClientEffectKind{CEffDisconnect, CEffCloseEngine}, h.clientKinds())
	require.Equal(t, ReasonIOServerDisconnect, h.client[0].Text)
	require.True(t, h.ec.Closed())
	require.Equal(t, eio.ReasonForcedClose, h.engine[len(h.engine)-1].Text)
	require.Len(t, h.client, 2, "the engine's own close reports nothing more")
}

func TestClientDisconnect(t *testing.T) {
	h := connected(t, eio.TransportPolling)
	h.reset()
	h.do(func() { h.c.Disconnect(h.now, "/custom") })
	require.Equal(t, []string{`41/custom,`}, h.c2s)
	require.Equal(t, []ClientEffect{{Kind: CEffDisconnect, Nsp: "/custom", ID: -1, Text: ReasonIOClientDisconnect}}, h.client)
	require.Equal(t, []eio.EffectKind{EffDisconnect}, h.serverKinds())
	require.Equal(t, ReasonClientNamespace, h.server[0].Text)
	require.True(t, h.ec.IsOpen(), "the engine stays for /")
	h.do(func() { h.c.Disconnect(h.now, "/custom") })
	require.Len(t, h.client, 1, "twice is once")

	_, err := h.c.Emit(h.now, "/custom", "later", nil, nil, false)
	require.NoError(t, err, "an emit on a left namespace waits for a Connect, as in socket.io-client")

	h.reset()
	h.do(func() { h.c.Disconnect(h.now, "/") })
	require.Equal(t, []string{`41`}, h.c2s)
	require.Equal(t, []ClientEffectKind{CEffDisconnect, CEffCloseEngine}, h.clientKinds())
	require.Equal(t, []eio.EffectKind{EffDisconnect, eio.EffClose}, h.serverKinds(), "41 reaches the server before the close")
	require.True(t, h.ec.Closed())
	require.Equal(t, eio.ReasonTransportClose, h.server[1].Text)
}

func TestClientEngineClose(t *testing.T) {
	t.Run("transport close", func(t *testing.T) {
		h := connected(t, eio.TransportWebSocket)
		h.reset()
		h.do(func() { h.es.CloseSession(h.now, h.handle(), eio.ReasonForcedClose) })
		require.Equal(t, []ClientEffectKind{CEffDisconnect, CEffDisconnect}, h.clientKinds())
		require.Equal(t, eio.ReasonTransportClose, h.client[0].Text)
		require.Equal(t, "/", h.client[0].Nsp)
		require.Equal(t, "/custom", h.client[1].Nsp)
		require.True(t, h.c.Active("/custom"), "the namespaces connect again on the next session")
		require.False(t, h.c.Connected("/custom"))
		require.True(t, ReconnectAfter(h.client[0].Text))

		h.reset()
		h.open()
		require.Equal(t, []string{"40", `40/custom,{"token":"abc"}`}, h.c2s, "auth kept")
		require.Equal(t, []ClientEffectKind{CEffConnected, CEffConnected}, h.clientKinds())
	})
	t.Run("ping timeout", func(t *testing.T) {
		h := connected(t, eio.TransportWebSocket)
		h.reset()
		h.dropS2C = true
		h.advance(h.now + 1000)
		require.Equal(t, []ClientEffectKind{CEffDisconnect, CEffDisconnect}, h.clientKinds())
		require.Equal(t, eio.ReasonPingTimeout, h.client[0].Text)
	})
	t.Run("transport error", func(t *testing.T) {
		h := connected(t, eio.TransportWebSocket)
		h.reset()
		h.do(func() { h.ec.ConnFailed(h.now, h.dials[len(h.dials)-1], "connection reset by peer") })
		require.Equal(t, []ClientEffectKind{CEffDisconnect, CEffDisconnect}, h.clientKinds(),
			"connected namespaces report no connect_error for the engine's error")
		require.Equal(t, eio.ReasonTransportError, h.client[0].Text)
		require.Contains(t, h.client[0].Desc, "connection reset by peer")
	})
	t.Run("open failure", func(t *testing.T) {
		h := newSIOHost(t, 4, eio.TransportWebSocket)
		require.NoError(t, h.c.Connect(0, "/", nil, nil))
		h.dropS2C = true
		h.open()
		h.reset()
		h.do(func() { h.ec.ConnFailed(h.now, h.dials[len(h.dials)-1], "connection refused") })
		require.Equal(t, []ClientEffectKind{CEffConnectError}, h.clientKinds(), "socket.onerror: connect_error while not connected")
		require.Contains(t, h.client[0].Text, "connection refused")
		require.True(t, h.c.Active("/"))
	})
}

func TestClientParseError(t *testing.T) {
	cases := []struct {
		name string
		send func(h *sioHost)
		err  error
	}{
		{"invalid json", func(h *sioHost) { h.es.Send(h.now, h.handle(), false, []byte(`2["x"`)) }, ErrInvalidJSON},
		{"reserved name", func(h *sioHost) { h.es.Send(h.now, h.handle(), false, []byte(`2["connect"]`)) }, ErrReservedEvent},
		{"unknown type", func(h *sioHost) { h.es.Send(h.now, h.handle(), false, []byte(`abc`)) }, ErrUnknownType},
		{"stray binary", func(h *sioHost) { h.es.Send(h.now, h.handle(), true, []byte{1}) }, ErrUnexpectedBin},
		{"text during attachments", func(h *sioHost) {
			h.es.Send(h.now, h.handle(), false, []byte(`51-["x",{"_placeholder":true,"num":0}]`))
			h.es.Send(h.now, h.handle(), false, []byte(`2["y"]`))
		}, ErrUnexpectedText},
		{"placeholder out of range", func(h *sioHost) {
			h.es.Send(h.now, h.handle(), false, []byte(`51-["x",{"_placeholder":true,"num":1}]`))
		}, ErrPlaceholder},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := connected(t, eio.TransportWebSocket)
			h.reset()
			h.do(func() { tc.send(h) })
			require.Equal(t, []ClientEffectKind{CEffError, CEffDisconnect, CEffDisconnect, CEffCloseEngine}, h.clientKinds())
			err := h.client[0].Err
			require.Equal(t, ClientErrParse, err.Kind)
			require.ErrorIs(t, err, tc.err)
			require.NotEmpty(t, err.Hint)
			require.Equal(t, eio.ReasonParseError, h.client[1].Text)
			require.Equal(t, eio.ReasonParseError, h.client[3].Text)
			require.True(t, ReconnectAfter(h.client[3].Text), "the Manager reconnects after a parse error")
			require.True(t, h.ec.Closed(), "the host closed the engine")
			require.True(t, h.c.Active("/custom"))
		})
	}
}

// The v4 protocol (Engine.IO v3, socket.io 2.x): the server joins "/"
// itself, custom namespaces carry their auth as a query string, socket ids
// derive from the Engine.IO id and errors are bare payloads.
func TestClientV4Protocol(t *testing.T) {
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			h := newSIOHost(t, 3, tc.tr)
			h.accept = func(e eio.Effect) {
				switch e.Nsp {
				case "/forbidden":
					h.s.Refuse(h.now, e.Session, e.Nsp, "not authorized", nil)
				case "/data":
					h.s.Refuse(h.now, e.Session, e.Nsp, "not authorized", []byte(`{"content":"retry later"}`))
				default:
					require.True(t, h.s.Accept(h.now, e.Session, e.Nsp, "ignored", ""))
				}
			}
			require.NoError(t, h.c.Connect(0, "/", nil, nil))
			require.NoError(t, h.c.Connect(0, "/custom", []byte(`{"token":"abc","q":"a b&c=é","n":1}`), nil))
			require.NoError(t, h.c.Connect(0, "/forbidden", []byte(`{}`), nil))
			require.NoError(t, h.c.Connect(0, "/data", nil, nil))
			h.open()
			require.Equal(t, 3, h.c.Protocol())
			esid := h.ec.SID()
			require.Equal(t, []string{`40/custom?token=abc&q=a%20b%26c%3D%C3%A9&n=1,`, `40/forbidden,`, `40/data,`}, h.c2s, "no CONNECT for /")
			require.Equal(t, []eio.EffectKind{EffConnect, EffConnect, EffConnect, EffConnect}, h.serverKinds())
			require.Equal(t, "/", h.server[0].Nsp)
			require.Equal(t, "/custom", h.server[1].Nsp)
			require.Equal(t, "token=abc&q=a%20b%26c%3D%C3%A9&n=1", h.server[1].Text)
			require.Equal(t, []string{`40`, `40/custom,`, `44/forbidden,"not authorized"`, `44/data,{"content":"retry later"}`}, h.s2c)

			require.Equal(t, []ClientEffectKind{CEffConnected, CEffConnected, CEffConnectError, CEffConnectError}, h.clientKinds())
			require.Equal(t, esid, h.client[0].Text)
			require.Equal(t, "/custom#"+esid, h.client[1].Text)
			require.Equal(t, ClientEffect{Kind: CEffConnectError, Nsp: "/forbidden", ID: -1, Text: "not authorized", Data: []byte(`"not authorized"`)}, h.client[2])
			require.Equal(t, ClientEffect{Kind: CEffConnectError, Nsp: "/data", ID: -1, Data: []byte(`{"content":"retry later"}`)}, h.client[3])
			require.True(t, h.c.Active("/forbidden"), "socket.io-client 2.x keeps the socket: it tries again on the next session")

			// Events and acks are the same as in v5.
			h.reset()
			h.do(func() {
				_, err := h.c.Emit(h.now, "/custom", "m", []byte(`[{"_placeholder":true,"num":0}]`), [][]byte{{1, 2}}, true)
				require.NoError(t, err)
			})
			require.Equal(t, []string{`451-/custom,0["m",{"_placeholder":true,"num":0}]`, "bin:0102"}, h.c2s)
			require.Equal(t, [][]byte{{1, 2}}, h.lastServer(EffEvent).Attachments)
			h.serverSend("/custom", `43/custom,0["ok"]`)
			require.Equal(t, int64(0), h.last(CEffAck).ID)

			// Disconnect sends 41 for "/" too.
			h.reset()
			h.do(func() { h.c.Disconnect(h.now, "/") })
			require.Equal(t, []string{`41`}, h.c2s)
			require.Equal(t, ReasonClientNamespace, h.lastServer(EffDisconnect).Text)
		})
	}
}

// A v4 server joins "/" before the application asks for it: a later
// Connect("/") is connected at once, without a packet.
func TestClientV4RootJoinedFirst(t *testing.T) {
	h := newSIOHost(t, 3, eio.TransportWebSocket)
	require.NoError(t, h.c.Connect(0, "/custom", nil, nil))
	h.open()
	require.Equal(t, []string{`40/custom,`}, h.c2s)
	require.Equal(t, []string{`40`, `40/custom,`}, h.s2c)
	require.Equal(t, []ClientEffectKind{CEffConnected}, h.clientKinds())
	h.reset()
	h.do(func() { require.NoError(t, h.c.Connect(h.now, "/", nil, nil)) })
	require.Empty(t, h.c2s)
	require.Equal(t, []ClientEffect{{Kind: CEffConnected, Nsp: "/", ID: -1, Text: h.ec.SID()}}, h.client)
}

// Connection state recovery: the pid of the CONNECT reply and the last
// offset are sent on the next CONNECT; the reply carrying the same pid
// means the session was recovered.
func TestClientRecovery(t *testing.T) {
	h := newSIOHost(t, 4, eio.TransportWebSocket)
	pid := "pid-1"
	h.accept = func(e eio.Effect) {
		require.True(t, h.s.Accept(h.now, e.Session, e.Nsp, "sid-1", pid))
	}
	require.NoError(t, h.c.Connect(0, "/", []byte(`{"token":"t"}`), nil))
	h.open()
	require.Equal(t, []string{`40{"token":"t"}`}, h.c2s)
	require.Equal(t, []string{`40{"sid":"sid-1","pid":"pid-1"}`}, h.s2c)
	require.Equal(t, ClientEffect{Kind: CEffConnected, Nsp: "/", ID: -1, Text: "sid-1", PID: "pid-1"}, h.last(CEffConnected))
	require.Equal(t, RecoveryState{PID: "pid-1"}, h.c.Recovery("/"), "no offset before an event")

	h.serverSend("/", `42["hello","world","off-1"]`)
	require.Equal(t, RecoveryState{PID: "pid-1", Offset: "off-1"}, h.c.Recovery("/"))
	h.serverSend("/", `421["ask","off-x"]`)
	h.serverSend("/", `42["n",1]`)
	h.serverSend("/", `451-["b",{"_placeholder":true,"num":0}]`, []byte{1})
	require.Equal(t, "off-1", h.c.Recovery("/").Offset, "events with an ack id, or whose last argument is not a string, leave the offset")
	h.serverSend("/", `42["hello","w\"x","off\u00e92"]`)
	require.Equal(t, "offé2", h.c.Recovery("/").Offset)

	// The connection drops; the next session recovers.
	h.do(func() { h.es.CloseSession(h.now, h.handle(), eio.ReasonForcedClose) })
	h.reset()
	h.open()
	require.Equal(t, []string{`40{"pid":"pid-1","offset":"off\u00e92","token":"t"}`}, h.c2s)
	require.Equal(t, `{"pid":"pid-1","offset":"off\u00e92","token":"t"}`, string(h.lastServer(EffConnect).Data))
	e := h.last(CEffConnected)
	require.True(t, e.Recovered)
	require.True(t, h.c.Recovered("/"))
	require.Equal(t, "sid-1", h.c.SID("/"))

	// A server that lost the session answers with a new pid.
	h.do(func() { h.es.CloseSession(h.now, h.handle(), eio.ReasonForcedClose) })
	pid = "pid-2"
	h.reset()
	h.open()
	require.False(t, h.last(CEffConnected).Recovered)
	require.False(t, h.c.Recovered("/"))
	require.Equal(t, RecoveryState{PID: "pid-2", Offset: "offé2"}, h.c.Recovery("/"))

	// A server without recovery: no pid, no offsets, nothing sent next time.
	h.do(func() { h.es.CloseSession(h.now, h.handle(), eio.ReasonForcedClose) })
	pid = ""
	h.reset()
	h.open()
	require.Equal(t, `{"pid":"pid-2","offset":"off\u00e92","token":"t"}`, string(h.lastServer(EffConnect).Data))
	require.Equal(t, "", h.c.Recovery("/").PID)
	h.serverSend("/", `42["hello","off-3"]`)
	h.do(func() { h.es.CloseSession(h.now, h.handle(), eio.ReasonForcedClose) })
	h.reset()
	h.open()
	require.Equal(t, []string{`40{"token":"t"}`}, h.c2s)
}

// The recovery state can be handed over explicitly (a host that replaces
// its Client, or restores a persisted session), and a reply crafted with
// that pid is a recovery.
func TestClientRecoveryState(t *testing.T) {
	c := NewClient()
	require.NoError(t, c.Connect(0, "/chat", nil, &RecoveryState{PID: "p9", Offset: "o9"}))
	c.EngineOpen(1, 4, "e1")
	effs := c.Effects()
	require.Len(t, effs, 1)
	require.Equal(t, `0/chat,{"pid":"p9","offset":"o9"}`, string(effs[0].Data))
	c.Message(2, false, []byte(`0/chat,{"sid":"s9","pid":"p9"}`))
	effs = c.Effects()
	require.Equal(t, []ClientEffect{{Kind: CEffConnected, Nsp: "/chat", ID: -1, Text: "s9", PID: "p9", Recovered: true}}, effs)
	require.True(t, c.Recovered("/chat"))

	// Missed packets follow the reply; their offsets are recorded.
	c.Message(3, false, []byte(`2/chat,["m","o10"]`))
	require.Equal(t, "o10", c.Recovery("/chat").Offset)

	// No offset yet: only the pid; an empty PID turns recovery off.
	c2 := NewClient()
	require.NoError(t, c2.Connect(0, "/", []byte(`{"a":1}`), &RecoveryState{PID: "p"}))
	c2.EngineOpen(1, 4, "e")
	require.Equal(t, `0{"pid":"p","a":1}`, string(c2.Effects()[0].Data))
	c2.EngineClose(2, eio.ReasonTransportClose, "")
	c2.Effects()
	require.NoError(t, c2.Connect(3, "/", []byte(`{"a":1}`), &RecoveryState{}))
	c2.EngineOpen(4, 4, "e2")
	require.Equal(t, `0{"a":1}`, string(c2.Effects()[0].Data))
}

// A socket.io 2.x server's CONNECT reply has no sid: a v5 client says what
// socket.io-client says, with the diagnosis.
func TestClientServerV2Reply(t *testing.T) {
	c := NewClient()
	require.NoError(t, c.Connect(0, "/", nil, nil))
	c.EngineOpen(0, 4, "e")
	require.Equal(t, "0", string(c.Effects()[0].Data))
	c.Message(1, false, []byte("0"))
	effs := c.Effects()
	require.Len(t, effs, 1)
	e := effs[0]
	require.Equal(t, CEffConnectError, e.Kind)
	require.Equal(t, MessageServerV2, e.Text)
	require.Equal(t, ClientErrServerV2, e.Err.Kind)
	require.Contains(t, e.Err.Error(), "socket.io 2.x")
	require.Contains(t, e.Err.Error(), `got "0"`)
	require.True(t, c.Active("/"), "socket.io-client leaves the socket waiting")
	require.False(t, c.Connected("/"))

	// A duplicate CONNECT reply is reported and ignored.
	c.Message(2, false, []byte(`0{"sid":"a"}`))
	c.Effects()
	c.Message(3, false, []byte(`0{"sid":"b"}`))
	effs = c.Effects()
	require.Len(t, effs, 1)
	require.Equal(t, ClientErrUnexpected, effs[0].Err.Kind)
	require.Equal(t, "a", c.SID("/"))
}

// Emits made while a namespace is not connected are buffered and sent on
// connect; events received while connecting are delivered then too, both
// before the connection is reported, as socket.io-client's emitBuffered.
func TestClientBuffers(t *testing.T) {
	c := NewClient()
	require.NoError(t, c.Connect(0, "/", nil, nil))
	id, err := c.Emit(0, "/", "early", []byte(`[1]`), nil, true)
	require.NoError(t, err)
	require.Equal(t, int64(0), id)
	att := []byte{5}
	_, err = c.Emit(0, "/", "bin", []byte(`[{"_placeholder":true,"num":0}]`), [][]byte{att}, false)
	require.NoError(t, err)
	att[0] = 6 // the Client kept its own copy
	require.Empty(t, c.Effects())
	c.EngineOpen(1, 4, "e")
	require.Equal(t, "0", string(c.Effects()[0].Data))
	c.Message(2, false, []byte(`2["pre",1]`))
	require.Empty(t, c.Effects(), "held while connecting")
	c.Message(3, false, []byte(`0{"sid":"s"}`))
	effs := c.Effects()
	require.Equal(t, []ClientEffectKind{CEffEvent, CEffSend, CEffSend, CEffSend, CEffConnected}, kindsOf(effs))
	require.Equal(t, "pre", effs[0].Name)
	require.Equal(t, `20["early",1]`, string(effs[1].Data))
	require.Equal(t, `51-["bin",{"_placeholder":true,"num":0}]`, string(effs[2].Data))
	require.Equal(t, []byte{5}, effs[3].Data)
	require.True(t, effs[3].Binary)

	// Across a reconnection: sent acks fail, buffered ones wait.
	_, err = c.Emit(4, "/", "sent", nil, nil, true) // id 1, sent
	require.NoError(t, err)
	c.Effects()
	c.EngineClose(5, eio.ReasonTransportClose, "")
	_, err = c.Emit(6, "/", "held", nil, nil, true) // id 2, buffered
	require.NoError(t, err)
	effs = c.Effects()
	require.Equal(t, []ClientEffectKind{CEffDisconnect, CEffAckFailed, CEffAckFailed}, kindsOf(effs))
	require.Equal(t, []int64{0, 1}, []int64{effs[1].ID, effs[2].ID})
	require.Equal(t, 1, c.PendingAcks("/"))
	c.EngineOpen(7, 4, "e2")
	c.Message(8, false, []byte(`0{"sid":"s2"}`))
	effs = c.Effects()
	require.Equal(t, []ClientEffectKind{CEffSend, CEffSend, CEffConnected}, kindsOf(effs))
	require.Equal(t, `22["held"]`, string(effs[1].Data))
	c.Message(9, false, []byte(`32["ok"]`))
	require.Equal(t, int64(2), c.Effects()[0].ID)
}

func TestClientAckTimeout(t *testing.T) {
	c := NewClient()
	require.NoError(t, c.Connect(0, "/", nil, nil))
	_, ok := c.NextDeadline()
	require.False(t, ok)
	// A buffered emit whose ack times out is dropped.
	id, _ := c.Emit(0, "/", "held", nil, nil, true)
	require.True(t, c.AckTimeout("/", id, 500))
	require.False(t, c.AckTimeout("/", 99, 500), "unknown id")
	c.EngineOpen(1, 4, "e")
	c.Message(2, false, []byte(`0{"sid":"s"}`))
	require.Equal(t, []ClientEffectKind{CEffSend, CEffSend, CEffConnected}, kindsOf(c.Effects()))

	id1, _ := c.Emit(3, "/", "a", nil, nil, true)
	id2, _ := c.Emit(3, "/", "b", nil, nil, true)
	c.Effects()
	require.True(t, c.AckTimeout("/", id1, 1000))
	require.True(t, c.AckTimeout("/", id2, 2000))
	d, ok := c.NextDeadline()
	require.True(t, ok)
	require.Equal(t, int64(500), d, "the held packet's deadline; it was sent, the timer runs on")
	c.Tick(500)
	effs := c.Effects()
	require.Equal(t, []ClientEffect{{Kind: CEffAckFailed, Nsp: "/", ID: id, Text: AckTimedOut}}, effs)
	d, _ = c.NextDeadline()
	require.Equal(t, int64(1000), d)
	c.Tick(999)
	require.Empty(t, c.Effects())
	// The ack for id1 comes after its deadline, and the timer has not run
	// yet: the deadline wins, as the reference's timer would have fired.
	c.Message(1500, false, []byte(`31["late"]`))
	effs = c.Effects()
	require.Equal(t, []ClientEffect{{Kind: CEffAckFailed, Nsp: "/", ID: id1, Text: AckTimedOut}}, effs)
	c.Message(1600, false, []byte(`32["in time"]`))
	effs = c.Effects()
	require.Equal(t, CEffAck, effs[0].Kind)
	c.Tick(2000)
	require.Empty(t, c.Effects())
	_, ok = c.NextDeadline()
	require.False(t, ok)

	// With the buffered timed-out packet dropped, a reconnection sends
	// nothing more.
	id3, _ := c.Emit(2100, "/", "c", nil, nil, true)
	c.AckTimeout("/", id3, 3000)
	c.EngineClose(2200, eio.ReasonTransportClose, "")
	require.Equal(t, []ClientEffectKind{CEffSend, CEffDisconnect, CEffAckFailed}, kindsOf(c.Effects()))
	_, ok = c.NextDeadline()
	require.True(t, ok, "may be early")
	c.Tick(3000)
	require.Empty(t, c.Effects())
	_, ok = c.NextDeadline()
	require.False(t, ok)
}

// Reconnection end to end: the session dies, the policy schedules
// attempts, the new session reconnects the namespaces.
func TestClientReconnects(t *testing.T) {
	h := connected(t, eio.TransportWebSocket)
	rand := []float64{0.25, 0.75}
	r := NewReconnection(func() float64 { v := rand[0]; rand = rand[1:]; return v })
	h.reset()
	h.dropS2C = true
	h.advance(h.now + 600)
	require.Equal(t, eio.ReasonPingTimeout, h.client[0].Text)
	closedAt := h.now
	at, ok := r.Closed(h.now, h.client[0].Text)
	require.True(t, ok)
	require.Equal(t, closedAt+875, at)
	_, ok = r.Due(at - 1)
	require.False(t, ok)
	h.advance(at)
	n, ok := r.Due(h.now)
	require.True(t, ok)
	require.Equal(t, 1, n)
	// The first attempt fails (the server does not answer).
	h.open()
	h.do(func() { h.ec.ConnFailed(h.now, h.dials[len(h.dials)-1], "connection refused") })
	at, ok = r.Failed(h.now)
	require.True(t, ok)
	require.Equal(t, h.now+2750, at)
	h.advance(at)
	n, ok = r.Due(h.now)
	require.True(t, ok)
	require.Equal(t, 2, n)
	h.dropS2C = false
	h.reset()
	h.open()
	require.Equal(t, 2, r.Opened())
	require.Equal(t, []ClientEffectKind{CEffConnected, CEffConnected}, h.clientKinds())
	require.Equal(t, []string{"40", `40/custom,{"token":"abc"}`}, h.c2s)
}

func kindsOf(effs []ClientEffect) []ClientEffectKind {
	out := make([]ClientEffectKind, len(effs))
	for i, e := range effs {
		out[i] = e.Kind
	}
	return out
}
