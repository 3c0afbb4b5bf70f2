package hostnative

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/sio"
)

// Tests of ManagerOptions.Parser = ParserMsgpack: the Go client with
// socket.io-msgpack-parser 3.0.2 against the official socket.io 4.8
// server using it, against a Server with ParserMsgpack, and its bytes
// against socket.io-client 4.8's.

// msgpackNested is an argument with nested values and numbers of every
// msgpack width, both signs, and floats.
const msgpackNested = `{"a":{"b":[1,2.5,-3,300,-200,70000,-70000,4294967296,-1e+15,2.5e-300,0.1]},"s":"é\u2028","t":true,"n":null,"e":[],"o":{}}`

// TestClientMsgpackWireNode: the packets the client core writes with the
// msgpack parser are, byte for byte, those socket.io-client 4.8 writes for
// the same calls (testdata/interop/msgpack_client_wire.js): CONNECT with
// auth and without, EVENT with and without an ack id (binary inline, the
// options key), ACK, DISCONNECT, and the CONNECT of a recovered session.
func TestClientMsgpackWireNode(t *testing.T) {
	t.Parallel()
	requireNode(t)
	node := map[string][]string{}
	for _, l := range runNode(t, "msgpack_client_wire.js") {
		if e, ok := l["error"]; ok {
			t.Fatalf("msgpack_client_wire.js: %v", e)
		}
		if n, ok := l["name"].(string); ok {
			node[n] = append(node[n], l["hex"].(string))
		}
	}

	ours := map[string][]string{}
	record := func(c *sio.Client, name string) {
		for _, e := range c.Effects() {
			if e.Kind == sio.CEffSend {
				require.True(t, e.Binary, name)
				ours[name] = append(ours[name], hex.EncodeToString(e.Data))
			}
		}
	}
	c := sio.NewClient()
	c.SetParser(sio.ParserMsgpack)
	require.NoError(t, c.Connect(1, "/", []byte(`{"token":"abc","n":1.5,"list":[1,"x",null,true]}`), nil))
	c.EngineOpen(1, 4, "E")
	record(c, "connect")
	c.Message(2, true, []byte("\x83\xa4type\x00\xa4data\x81\xa3sid\xa1S\xa3nsp\xa1/"))
	require.True(t, c.Connected("/"))
	c.Effects()
	_, err := c.Emit(3, "/", "echo", []byte(`["hi",{"a":{"b":[1,2.5,-3,300,-200,70000]}},{"_placeholder":true,"num":0}]`), [][]byte{{7, 8}}, false)
	require.NoError(t, err)
	record(c, "event:echo")
	id, err := c.Emit(3, "/", "add", []byte(`[2,3]`), nil, true)
	require.NoError(t, err)
	require.Equal(t, int64(0), id)
	record(c, "event:add")
	require.NoError(t, c.Ack(4, "/", 0, []byte(`[42,"ok"]`), nil))
	record(c, "ack")
	require.NoError(t, c.Connect(5, "/chat", nil, nil))
	record(c, "connect/chat")
	c.Message(6, true, []byte("\x83\xa4type\x00\xa4data\x81\xa3sid\xa1T\xa3nsp\xa5/chat"))
	require.True(t, c.Connected("/chat"))
	c.Effects()
	c.Disconnect(7, "/chat")
	record(c, "disconnect/chat")

	// The CONNECT of a recovered session: {pid, offset, ...auth}.
	for name, r := range map[string]sio.RecoveryState{"recover": {PID: "P"}, "recoverOffset": {PID: "P", Offset: "O"}} {
		rc := sio.NewClient()
		rc.SetParser(sio.ParserMsgpack)
		require.NoError(t, rc.Connect(1, "/", []byte(`{"token":"abc"}`), &r))
		rc.EngineOpen(1, 4, "E")
		record(rc, name)
	}

	for _, name := range []string{"connect", "event:echo", "event:add", "ack", "connect/chat", "disconnect/chat", "recover", "recoverOffset"} {
		require.NotEmpty(t, node[name], name)
		require.NotEmpty(t, ours[name], name)
		assert.Equal(t, node[name][0], ours[name][0], name)
	}
}

// TestManagerMsgpackNode drives the client with the msgpack parser against
// the official socket.io 4.8 server using socket.io-msgpack-parser: auth
// with nested values, events both ways with nested values, numbers and
// binary, acks both ways, a second namespace the server disconnects, a
// middleware refusal with data, and the client's disconnect.
func TestManagerMsgpackNode(t *testing.T) {
	t.Parallel()
	node := startNodeSIOWith(t, map[string]any{"parser": "msgpack"})
	for _, transports := range [][]string{nil, {"polling"}, {"websocket"}} {
		t.Run(transportsName(transports), func(t *testing.T) {
			t.Parallel()
			auth := json.RawMessage(`{"token":"abc","nested":{"list":[1,-2,3.25,"x",null,false]}}`)
			m := mtManager(t, node.url, ManagerOptions{Transports: transports, Parser: ParserMsgpack, Auth: auth})
			s := m.Socket("/")
			echoes := make(chan *ClientEvent, 4)
			s.On("echo", func(ev *ClientEvent) { echoes <- ev })
			s.On("ask", func(ev *ClientEvent) {
				var n int
				_ = ev.Arg(0, &n)
				_ = ev.Ack(n*2, "ok", []byte{9, 8})
			})
			reasons := make(chan string, 2)
			s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
			require.NoError(t, s.Connect(mtCtx(t)))
			ev := node.waitEvent(t, "connect", s.ID())
			got, _ := json.Marshal(ev["auth"])
			assert.JSONEq(t, string(auth), string(got))
			// The client's ack with a binary value: Node logs a Buffer as
			// {"type":"Buffer","data":[…]}.
			args, _ := json.Marshal(node.waitEvent(t, "ackFrom", s.ID())["args"])
			assert.JSONEq(t, `[42,"ok",{"type":"Buffer","data":[9,8]}]`, string(args))

			require.NoError(t, s.Emit("echo", "hi", json.RawMessage(msgpackNested), []byte{7, 8}, []byte{}))
			e := mtRecv(t, echoes, "echo")
			require.Equal(t, 4, e.Len())
			var str string
			var nested json.RawMessage
			var bin, empty []byte
			require.NoError(t, e.Arg(0, &str))
			require.NoError(t, e.Arg(1, &nested))
			require.NoError(t, e.Arg(2, &bin))
			require.NoError(t, e.Arg(3, &empty))
			assert.Equal(t, "hi", str)
			// What Node's JSON would print of the value: integers exact,
			// 4294967296 included.
			assert.JSONEq(t, msgpackNested, string(nested))
			assert.Equal(t, []byte{7, 8}, bin)
			assert.Empty(t, empty)

			resp, err := s.EmitWithAck(mtCtx(t), "add", 2, 3.5)
			require.NoError(t, err)
			var sum float64
			require.NoError(t, resp.Arg(0, &sum))
			assert.Equal(t, 5.5, sum)

			chat := m.Socket("/chat")
			require.NoError(t, chat.Connect(mtCtx(t)))
			assert.Equal(t, "/chat", node.waitEvent(t, "connect", chat.ID())["nsp"])
			chatEchoes := make(chan *ClientEvent, 1)
			chat.On("echo", func(ev *ClientEvent) { chatEchoes <- ev })
			require.NoError(t, chat.Emit("echo", 1))
			var one int
			require.NoError(t, mtRecv(t, chatEchoes, "chat echo").Arg(0, &one))
			assert.Equal(t, 1, one)
			chatReasons := make(chan string, 1)
			chat.OnDisconnect(func(reason string, _ *DisconnectDetails) { chatReasons <- reason })
			require.NoError(t, chat.Emit("kick"))
			assert.Equal(t, "io server disconnect", mtRecv(t, chatReasons, "chat disconnect"))

			id := s.ID()
			s.Disconnect()
			assert.Equal(t, "io client disconnect", mtRecv(t, reasons, "disconnect"))
			assert.Equal(t, "client namespace disconnect", node.waitEvent(t, "disconnect", id)["reason"])

			bad := mtManager(t, node.url, ManagerOptions{Transports: transports, Parser: ParserMsgpack, Auth: json.RawMessage(`{"token":"bad"}`)})
			err = bad.Socket("/").Connect(mtCtx(t))
			var ce *ClientConnectError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "not authorized", ce.Message)
			assert.JSONEq(t, `{"code":401}`, string(ce.Data))
		})
	}
}

// msgpackGoServer is a Server with ParserMsgpack: "/" and "/chat" echo
// "echo", ack "add" with the sum and disconnect on "kick"; "/private"
// refuses with data.
func msgpackGoServer(t *testing.T, parser Parser, socks chan<- *Socket, auths chan<- string) string {
	t.Helper()
	io := NewServer(ServerOptions{Parser: parser})
	for _, name := range []string{"/", "/chat"} {
		io.Of(name).OnConnection(func(s *Socket) {
			if auths != nil && name == "/" {
				auths <- string(s.Handshake().Auth)
			}
			s.On("echo", func(ev *Event) { _ = s.EmitRaw("echo", ev.ArgsJSON(), ev.Attachments()) })
			s.On("add", func(ev *Event) {
				var a, b float64
				_ = ev.Arg(0, &a)
				_ = ev.Arg(1, &b)
				_ = ev.Ack(a + b)
			})
			s.On("kick", func(*Event) { s.Disconnect(false) })
			if socks != nil && name == "/" {
				socks <- s
			}
		})
	}
	io.Of("/private").Use(func(s *Socket) error {
		return &ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
	})
	srv := httptest.NewServer(io)
	t.Cleanup(srv.Close)
	t.Cleanup(io.Close)
	return srv.URL
}

// TestManagerMsgpackServer: the client with the msgpack parser against a
// Server with ParserMsgpack, over every transport: auth, events both ways
// with nested values and binary, acks both ways, a second namespace the
// server disconnects, a refusal with data, and the client's disconnect.
func TestManagerMsgpackServer(t *testing.T) {
	t.Parallel()
	for _, transports := range [][]string{nil, {"polling"}, {"websocket"}} {
		t.Run(transportsName(transports), func(t *testing.T) {
			t.Parallel()
			socks := make(chan *Socket, 2)
			auths := make(chan string, 2)
			url := msgpackGoServer(t, ParserMsgpack, socks, auths)
			auth := `{"token":"abc","nested":{"list":[1,-2,3.25,"x",null,false]}}`
			m := mtManager(t, url, ManagerOptions{Transports: transports, Parser: ParserMsgpack, Auth: json.RawMessage(auth)})
			s := m.Socket("/")
			echoes := make(chan *ClientEvent, 4)
			s.On("echo", func(ev *ClientEvent) { echoes <- ev })
			s.On("ask", func(ev *ClientEvent) { _ = ev.Ack(json.RawMessage(msgpackNested), []byte{1, 2}) })
			require.NoError(t, s.Connect(mtCtx(t)))
			assert.JSONEq(t, auth, mtRecv(t, auths, "auth"))
			ss := mtRecv(t, socks, "server socket")
			assert.Equal(t, ss.ID(), s.ID())

			require.NoError(t, s.Emit("echo", json.RawMessage(msgpackNested), []byte{7, 8, 9}))
			e := mtRecv(t, echoes, "echo")
			var nested json.RawMessage
			var bin []byte
			require.NoError(t, e.Arg(0, &nested))
			require.NoError(t, e.Arg(1, &bin))
			assert.JSONEq(t, msgpackNested, string(nested))
			assert.Equal(t, []byte{7, 8, 9}, bin)

			resp, err := s.EmitWithAck(mtCtx(t), "add", 2, 3)
			require.NoError(t, err)
			var sum int
			require.NoError(t, resp.Arg(0, &sum))
			assert.Equal(t, 5, sum)

			sresp, err := ss.EmitWithAck(mtCtx(t), "ask")
			require.NoError(t, err)
			var back json.RawMessage
			require.NoError(t, sresp.Arg(0, &back))
			assert.JSONEq(t, msgpackNested, string(back))
			require.NoError(t, sresp.Arg(1, &bin))
			assert.Equal(t, []byte{1, 2}, bin)

			chat := m.Socket("/chat")
			require.NoError(t, chat.Connect(mtCtx(t)))
			chatReasons := make(chan string, 1)
			chat.OnDisconnect(func(reason string, _ *DisconnectDetails) { chatReasons <- reason })
			require.NoError(t, chat.Emit("kick"))
			assert.Equal(t, "io server disconnect", mtRecv(t, chatReasons, "chat disconnect"))

			err = m.Socket("/private").Connect(mtCtx(t))
			var ce *ClientConnectError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "not authorized", ce.Message)
			assert.JSONEq(t, `{"code":401}`, string(ce.Data))

			reasons := make(chan string, 1)
			s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
			s.Disconnect()
			assert.Equal(t, "io client disconnect", mtRecv(t, reasons, "disconnect"))
		})
	}
}

// TestManagerMsgpackWrongParser: a client whose parser is not the
// server's fails to connect with an error that says so, against a Server
// and against the Node server, in both pairings.
func TestManagerMsgpackWrongParser(t *testing.T) {
	t.Parallel()
	for _, server := range []string{"go", "node"} {
		for _, c := range []struct{ server, client Parser }{{ParserJSON, ParserMsgpack}, {ParserMsgpack, ParserJSON}} {
			t.Run(server+"/client "+parserName(c.client), func(t *testing.T) {
				t.Parallel()
				var url string
				switch {
				case server == "go":
					url = msgpackGoServer(t, c.server, nil, nil)
				case c.server == ParserMsgpack:
					url = startNodeSIOWith(t, map[string]any{"parser": "msgpack"}).url
				default:
					url = startNodeSIO(t).url
				}
				m := mtManager(t, url, ManagerOptions{Parser: c.client, Transports: []string{"websocket"}, ReconnectionAttempts: 1, ReconnectionDelay: 10 * time.Millisecond})
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				err := m.Socket("/").Connect(ctx)
				require.Error(t, err)
				assert.Contains(t, err.Error(), "parser", "%v", err)
			})
		}
	}
}

func parserName(p Parser) string {
	if p == ParserMsgpack {
		return "msgpack"
	}
	return "json"
}

// TestManagerParserOptions: an unknown parser, and msgpack with Engine.IO
// 3, are refused.
func TestManagerParserOptions(t *testing.T) {
	_, err := NewManager("http://127.0.0.1:1", ManagerOptions{Parser: 7})
	require.Error(t, err)
	_, err = NewManager("http://127.0.0.1:1", ManagerOptions{Parser: ParserMsgpack, Protocol: 3})
	require.ErrorContains(t, err, "protocol 4")
}
