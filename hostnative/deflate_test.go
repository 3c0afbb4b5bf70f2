package hostnative

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deflateServer starts a Socket.IO server for the per-message deflate
// tests, behind a sniffProxy: "send3" emits "big" (over the threshold),
// "small" and "plain" (big, with compress(false)); "up" is acked with the
// length of its string.
func deflateServer(t *testing.T, pmd *PerMessageDeflate) (*sniffProxy, string) {
	t.Helper()
	io := NewServer(ServerOptions{Engine: EngineOptions{AllowEIO3: true, PerMessageDeflate: pmd, Core: testCore(nil)}})
	io.OnConnection(func(s *Socket) {
		s.On("send3", func(*Event) {
			_ = s.Emit("big", deflateBig)
			_ = s.Emit("small", "hi")
			_ = s.Compress(false).Emit("plain", deflateBig)
		})
		s.On("up", func(ev *Event) {
			var str string
			_ = ev.Arg(0, &str)
			_ = ev.Ack(len(str))
		})
	})
	srv := httptest.NewServer(io)
	t.Cleanup(srv.Close)
	t.Cleanup(io.Close)
	p := newSniffProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	return p, p.url("")
}

var deflateBig = strings.Repeat("compressible text ", 200) // 3,600 bytes

// TestNodeSIODeflate: the official socket.io-client 2, 3 and 4 offer
// permessage-deflate through ws by default. With PerMessageDeflate on, the
// server accepts it as ws does ("permessage-deflate"), a large message
// goes compressed both ways (RSV1 on the wire) and arrives intact, while a
// message under the threshold and one sent with Compress(false) go as
// they are. Off (the default), nothing is negotiated and nothing is
// compressed, whatever the client offers.
func TestNodeSIODeflate(t *testing.T) {
	requireNode(t)
	for _, on := range []bool{true, false} {
		for _, v := range snAllVersions {
			for _, mode := range []snClient{snModes[1], snModes[2]} {
				c := mode
				c.version = v
				name := "off"
				if on {
					name = "on"
				}
				t.Run(name+"/v"+v+"/"+c.mode, func(t *testing.T) {
					t.Parallel()
					var pmd *PerMessageDeflate
					if on {
						pmd = &PerMessageDeflate{}
					}
					proxy, url := deflateServer(t, pmd)
					lines := c.run(t, url, "deflate")
					assert.Equal(t, []any{float64(len(deflateBig)), float64(2), float64(len(deflateBig))}, lines.get(t, "received")["received"])
					assert.Equal(t, []any{float64(len(deflateBig2)), float64(len(deflateBig2)), float64(4)}, lines.get(t, "acked")["acked"])

					conns := proxy.websockets()
					require.Len(t, conns, 1, "one WebSocket")
					wc := conns[0]
					assert.Contains(t, headerValue(wc.reqHead, extensionsHeader), "permessage-deflate", "ws offers it by default")
					down, up := messages(t, wc.down), messages(t, wc.up)
					big := findMessage(t, down, `42["big",`)
					small := findMessage(t, down, `42["small",`)
					plain := findMessage(t, down, `42["plain",`)
					assert.Equal(t, `42["big","`+deflateBig+`"]`, big.text)
					ups := 0
					for _, m := range up {
						if strings.Contains(m.text, `["up","upward`) {
							ups++
							assert.Equal(t, on, m.compressed, "a large message from the client")
						}
					}
					assert.Equal(t, 2, ups)
					tiny := findMessage(t, up, `42`+ackIDOf(t, up, "tiny"))
					if !on {
						assert.Empty(t, headerValue(wc.respHead, extensionsHeader), "nothing negotiated")
						for _, f := range append(wc.down, wc.up...) {
							assert.False(t, f.rsv1, "no compressed frame")
						}
						return
					}
					assert.Equal(t, "permessage-deflate", headerValue(wc.respHead, extensionsHeader))
					assert.Equal(t, "permessage-deflate", lines.get(t, "extensions")["extensions"], "what ws negotiated")
					assert.True(t, big.compressed, "a large message from the server")
					assert.False(t, small.compressed, "under the threshold")
					assert.False(t, plain.compressed, "sent with Compress(false)")
					assert.False(t, tiny.compressed, "the client's small message")
					for _, f := range wc.down {
						if f.rsv1 {
							assert.Less(t, len(f.payload), len(deflateBig)/4, "compressed for real")
						}
					}
				})
			}
		}
	}
}

var deflateBig2 = strings.Repeat("upward and onward ", 200)

// ackIDOf returns the ack id that prefixes the "up" event carrying arg.
func ackIDOf(t *testing.T, msgs []wireMessage, arg string) string {
	t.Helper()
	for _, m := range msgs {
		if i := strings.Index(m.text, `["up","`+arg+`"]`); i > 0 && strings.HasPrefix(m.text, "42") {
			return m.text[2:i]
		}
	}
	require.Failf(t, "missing message", "no up %q", arg)
	return ""
}

// TestNodeEngineClientDeflate: the official engine.io-client 6 and 3
// (its ws offers permessage-deflate by default) echo large text and binary
// messages through an Engine with PerMessageDeflate: both ways they go
// compressed and come back intact, and a small message goes as is.
func TestNodeEngineClientDeflate(t *testing.T) {
	requireNode(t)
	for _, v := range []string{"6", "3"} {
		t.Run("v"+v, func(t *testing.T) {
			t.Parallel()
			_, srv := newEchoEngine(t, EngineOptions{AllowEIO3: true, PerMessageDeflate: &PerMessageDeflate{}, Core: testCore(nil)})
			proxy := newSniffProxy(t, strings.TrimPrefix(srv.URL, "http://"))
			lines := runNode(t, "eio_client.js", v, proxy.url(""), "websocket", "false", "0", "5000")
			n := 0
			for _, l := range lines {
				if _, ok := l["big"]; ok {
					assert.Equal(t, true, l["same"], "%v", l)
					n++
				}
			}
			require.Equal(t, 5, n)
			conns := proxy.websockets()
			require.Len(t, conns, 1)
			assert.Equal(t, "permessage-deflate", headerValue(conns[0].respHead, extensionsHeader))
			count := func(frames []wireFrame) (compressed, large int) {
				for _, f := range frames {
					if f.rsv1 {
						compressed++
					}
					if len(f.payload) >= 5000 {
						large++
					}
				}
				return
			}
			for dir, frames := range map[string][]wireFrame{"up": conns[0].up, "down": conns[0].down} {
				compressed, large := count(frames)
				assert.Equal(t, 4, compressed, "%s: the big text and binary messages, twice each", dir)
				assert.Zero(t, large, "%s: no large frame went uncompressed", dir)
			}
			small := findMessage(t, messages(t, conns[0].down), "4tiny")
			assert.False(t, small.compressed)
		})
	}
}

// TestClientEngineNodeDeflate: the Go client offers permessage-deflate as
// engine.io-client does, and the official engine.io server with
// perMessageDeflate accepts it: large messages go compressed both ways
// (the server keeps its context between messages, so the second inflates
// against the first) and come back intact. NoPerMessageDeflate offers
// nothing.
func TestClientEngineNodeDeflate(t *testing.T) {
	t.Parallel()
	node := startNodeEngine(t, map[string]any{"perMessageDeflate": true})
	for _, off := range []bool{false, true} {
		t.Run(map[bool]string{false: "offered", true: "not-offered"}[off], func(t *testing.T) {
			t.Parallel()
			proxy := newSniffProxy(t, strings.TrimPrefix(node.url, "http://"))
			c, r := openCE(t, proxy.url(""), EngineClientOptions{Transports: []string{"websocket"}, NoPerMessageDeflate: off})
			big := []byte(deflateBig)
			for range 2 {
				require.NoError(t, c.Send(big, false))
				require.Equal(t, "txt:"+deflateBig, r.next(t))
				require.NoError(t, c.Send(big, true))
				require.Equal(t, ceFormat(big, true), r.next(t))
			}
			require.NoError(t, c.Send([]byte("tiny"), false))
			require.Equal(t, "txt:tiny", r.next(t))
			conns := proxy.websockets()
			require.Len(t, conns, 1)
			wc := conns[0]
			bigCompressed := func(msgs []wireMessage) (n int) {
				for _, m := range msgs {
					if len(m.text) >= len(deflateBig) && m.compressed {
						n++
					}
				}
				return n
			}
			down, up := messages(t, wc.down), messages(t, wc.up)
			if off {
				assert.Empty(t, headerValue(wc.reqHead, extensionsHeader))
				assert.Zero(t, bigCompressed(up)+bigCompressed(down))
				return
			}
			assert.Equal(t, "permessage-deflate;client_max_window_bits",
				strings.ReplaceAll(headerValue(wc.reqHead, extensionsHeader), " ", ""), "ws's default offer")
			assert.Equal(t, "permessage-deflate", headerValue(wc.respHead, extensionsHeader))
			assert.Equal(t, 4, bigCompressed(up), "the client's large messages")
			assert.Equal(t, 4, bigCompressed(down), "the server's")
			assert.False(t, findMessage(t, up, "4tiny").compressed, "under the client's threshold")
			// ws keeps its context by default, and then compresses every
			// message, whatever its threshold (which it applies only
			// without context takeover).
			assert.True(t, findMessage(t, down, "4tiny").compressed)
		})
	}
}

// TestDeflateGoPeers: the Go client and server negotiate per-message
// deflate with each other; Compress(false) and small messages go as they
// are; a client that does not offer it, or a server that does not enable
// it, gets nothing compressed.
func TestDeflateGoPeers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		server      *PerMessageDeflate
		noOffer     bool
		negotiated  string
		compression bool
	}{
		{"both", &PerMessageDeflate{}, false, "permessage-deflate", true},
		{"no-takeover", &PerMessageDeflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true}, false,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover", true},
		{"server-off", nil, false, "", false},
		{"client-off", &PerMessageDeflate{}, true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			socks := make(chan *Socket, 1)
			got := make(chan string, 8)
			io := NewServer(ServerOptions{Engine: EngineOptions{PerMessageDeflate: tc.server, Core: testCore(nil)}})
			io.OnConnection(func(s *Socket) {
				s.On("up", func(ev *Event) {
					var str string
					_ = ev.Arg(0, &str)
					got <- str
				})
				socks <- s
			})
			srv := httptest.NewServer(io)
			t.Cleanup(srv.Close)
			t.Cleanup(io.Close)
			proxy := newSniffProxy(t, strings.TrimPrefix(srv.URL, "http://"))
			m, err := NewManager(proxy.url(""), ManagerOptions{Transports: []string{"websocket"}, NoReconnection: true, NoPerMessageDeflate: tc.noOffer})
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			cs := m.Socket("/")
			recvd := make(chan string, 8)
			for _, ev := range []string{"big", "plain", "small"} {
				cs.On(ev, func(e *ClientEvent) {
					var str string
					_ = e.Arg(0, &str)
					recvd <- ev + ":" + str
				})
			}
			ctx, cancel := context.WithTimeout(context.Background(), stWait)
			defer cancel()
			require.NoError(t, cs.Connect(ctx))
			s := stRecv(t, socks, "server socket")
			require.NoError(t, s.Emit("big", deflateBig))
			require.NoError(t, s.Compress(false).Emit("plain", deflateBig))
			require.NoError(t, s.Emit("small", "x"))
			for _, want := range []string{"big:" + deflateBig, "plain:" + deflateBig, "small:x"} {
				require.Equal(t, want, stRecv(t, recvd, want[:5]))
			}
			require.NoError(t, cs.Emit("up", deflateBig2))
			require.NoError(t, cs.Emit("up", "y"))
			require.Equal(t, deflateBig2, stRecv(t, got, "up"))
			require.Equal(t, "y", stRecv(t, got, "up"))

			conns := proxy.websockets()
			require.Len(t, conns, 1)
			wc := conns[0]
			assert.Equal(t, tc.negotiated, headerValue(wc.respHead, extensionsHeader))
			down, up := messages(t, wc.down), messages(t, wc.up)
			assert.Equal(t, tc.compression, findMessage(t, down, `42["big"`).compressed)
			assert.False(t, findMessage(t, down, `42["plain"`).compressed)
			assert.False(t, findMessage(t, down, `42["small"`).compressed)
			assert.Equal(t, tc.compression, findMessage(t, up, `42["up","upward`).compressed)
			assert.False(t, findMessage(t, up, `42["up","y"]`).compressed)
		})
	}
}

// deflateRaw compresses p as a permessage-deflate message.
func deflateRaw(t *testing.T, p []byte) []byte {
	t.Helper()
	return appendDeflated(nil, flate.BestCompression, p)
}

// rawDeflateWS opens a raw WebSocket that offers permessage-deflate to an
// Engine with it and the given MaxHTTPBufferSize, and reads the open
// packet.
func rawDeflateWS(t *testing.T, maxBuffer int64) (*ehEnv, *wsTestConn) {
	t.Helper()
	env := newEhEnv(t, EngineOptions{PerMessageDeflate: &PerMessageDeflate{}, MaxHTTPBufferSize: maxBuffer}, true)
	ctx, cancel := context.WithTimeout(context.Background(), stWait)
	defer cancel()
	d := ws.Dialer{Extensions: []httphead.Option{deflateOffer(&PerMessageDeflate{ClientNoContextTakeover: true})}}
	conn, br, hs, err := d.Dial(ctx, "ws"+strings.TrimPrefix(env.srv.URL, "http")+"/engine.io/?EIO=4&transport=websocket")
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.Len(t, hs.Extensions, 1, "negotiated")
	c := &wsTestConn{conn: conn, rd: conn}
	if br != nil {
		c.rd = io.MultiReader(br, conn)
	}
	op, p := c.read(t)
	require.Equal(t, ws.OpText, op)
	require.True(t, bytes.HasPrefix(p, []byte("0{")))
	return env, c
}

// TestServerDeflateInbound: a compressed message from a client is
// inflated; one that inflates beyond MaxHTTPBufferSize (a zip bomb) is
// refused with 1009 as the reference's ws does, and so is a compressed
// frame when nothing was negotiated (1002); invalid compressed data gets
// 1007. Each ends the session with "transport error".
func TestServerDeflateInbound(t *testing.T) {
	t.Parallel()
	const limit = 100 << 10
	t.Run("inflated", func(t *testing.T) {
		t.Parallel()
		env, c := rawDeflateWS(t, limit)
		msg := "4" + strings.Repeat("z", limit-1) // exactly the limit
		c.writeCompressed(t, ws.OpText, deflateRaw(t, []byte(msg)))
		require.Equal(t, msg[1:], recv(t, env.msgs, stWait, "message").data)
	})
	for name, tc := range map[string]struct {
		payload func(t *testing.T) []byte
		code    ws.StatusCode
	}{
		"zip bomb":      {func(t *testing.T) []byte { return deflateRaw(t, make([]byte, 64<<20)) }, ws.StatusMessageTooBig},
		"one over":      {func(t *testing.T) []byte { return deflateRaw(t, []byte("4"+strings.Repeat("z", limit))) }, ws.StatusMessageTooBig},
		"corrupt input": {func(*testing.T) []byte { return []byte{0xff, 0xff, 0xff, 0x00} }, ws.StatusInvalidFramePayloadData},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env, c := rawDeflateWS(t, limit)
			p := tc.payload(t)
			require.Less(t, len(p), limit, "the frame itself is within the limit")
			c.writeCompressed(t, ws.OpText, p)
			require.Equal(t, tc.code, c.closeCode(t))
			require.Equal(t, "transport error", recv(t, env.closes, stWait, "close").reason)
		})
	}
	t.Run("not negotiated", func(t *testing.T) {
		t.Parallel()
		env := newEhEnv(t, EngineOptions{PerMessageDeflate: &PerMessageDeflate{}}, true)
		conn, rd := stDialWS(t, env.srv.URL+"/engine.io/?EIO=4&transport=websocket")
		require.True(t, strings.HasPrefix(stReadText(t, conn, rd), "0{"))
		c := &wsTestConn{conn: conn, rd: rd}
		c.writeCompressed(t, ws.OpText, deflateRaw(t, []byte("4hello")))
		require.Equal(t, ws.StatusProtocolError, c.closeCode(t))
		require.Equal(t, "transport error", recv(t, env.closes, stWait, "close").reason)
	})
}

// TestInflateBound: however much a message claims to inflate to, inflate
// stops at the limit and allocates no more than the message's actual
// size: next to nothing for a bomb (at most a pooled decompressor, should
// the pool have been emptied), exactly the size for a message within the
// limit.
func TestInflateBound(t *testing.T) {
	bomb := appendDeflated(nil, flate.BestCompression, make([]byte, 256<<20)) // 256 MiB of zeros
	require.Less(t, len(bomb), 512<<10)
	legit := appendDeflated(nil, flate.DefaultCompression, make([]byte, 1<<20))
	const limit = 1 << 20
	d := &wsDeflate{}
	// The least of a few runs: a GC may empty the pool of decompressors
	// in between, and other goroutines of the process allocate too.
	allocated := func(p []byte) (least uint64, out []byte, err error) {
		for i := range 5 {
			_, _ = d.inflate(bomb[:1024], limit) // a decompressor in the pool
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			out, err = d.inflate(p, limit)
			runtime.ReadMemStats(&after)
			if n := after.TotalAlloc - before.TotalAlloc; i == 0 || n < least {
				least = n
			}
		}
		return least, out, err
	}
	n, _, err := allocated(bomb)
	require.ErrorIs(t, err, errInflateTooBig)
	t.Logf("allocated %d bytes to refuse a %d-byte bomb of 256 MiB (limit %d)", n, len(bomb), limit)
	assert.Less(t, n, uint64(256<<10), "far below the limit")

	n, out, err := allocated(legit)
	require.NoError(t, err, "exactly the limit")
	assert.Len(t, out, limit)
	t.Logf("allocated %d bytes to inflate %d bytes", n, len(out))
	// A fresh decompressor may have been made: the pool is shared with
	// every other connection of the process (and the race detector drops
	// pooled items at random).
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_ = inflaters.New()
	runtime.ReadMemStats(&after)
	fresh := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, n, uint64(limit+4<<10)+fresh, "the output, and next to nothing else")

	_, err = d.inflate(appendDeflated(nil, flate.DefaultCompression, make([]byte, limit+1)), limit)
	require.ErrorIs(t, err, errInflateTooBig, "one byte over")
	for _, size := range []int{0, 1, 1000, inflateDirect - 1, inflateDirect, inflateDirect + 1, 300000} {
		msg := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		out, err := d.inflate(appendDeflated(nil, flate.BestSpeed, msg), limit)
		require.NoError(t, err, "size %d", size)
		require.Equal(t, msg, out, "size %d", size)
	}
}

// TestDeflateNegotiation: the server's answer to offers, as ws's
// acceptAsServer gives it, and the client's reading of answers.
func TestDeflateNegotiation(t *testing.T) {
	t.Parallel()
	for offer, want := range map[string]string{
		"":                       "",
		"x-webkit-deflate-frame": "",
		"permessage-deflate":     "permessage-deflate",
		"permessage-deflate; client_max_window_bits":     "permessage-deflate",
		"permessage-deflate; client_max_window_bits=10":  "permessage-deflate; client_max_window_bits=10",
		"permessage-deflate; server_no_context_takeover": "permessage-deflate; server_no_context_takeover",
		"permessage-deflate; client_no_context_takeover": "permessage-deflate; client_no_context_takeover",
		"permessage-deflate; server_max_window_bits=15":  "permessage-deflate; server_max_window_bits=15",
		// compress/flate cannot keep to a smaller window: the next offer.
		"permessage-deflate; server_max_window_bits=10, permessage-deflate": "permessage-deflate",
		"permessage-deflate; server_max_window_bits=10":                     "",
		"permessage-deflate; bogus":                                         "",
		"permessage-deflate; client_max_window_bits=99":                     "",
		"foo, permessage-deflate; client_max_window_bits":                   "permessage-deflate",
		`permessage-deflate; client_max_window_bits="12"`:                   "permessage-deflate; client_max_window_bits=12",
	} {
		h := http.Header{}
		if offer != "" {
			h.Set(extensionsHeader, offer)
		}
		d, got := acceptDeflate(&PerMessageDeflate{}, h)
		assert.Equal(t, want, got, "offer %q", offer)
		assert.Equal(t, want != "", d != nil, "offer %q", offer)
	}
	h := http.Header{}
	h.Set(extensionsHeader, "permessage-deflate; client_max_window_bits")
	d, got := acceptDeflate(&PerMessageDeflate{ServerNoContextTakeover: true, ClientNoContextTakeover: true, Threshold: -1}, h)
	assert.Equal(t, "permessage-deflate; server_no_context_takeover; client_no_context_takeover", got)
	assert.False(t, d.takeover, "the client compresses each message on its own: no window kept")
	assert.Zero(t, d.threshold, "negative: every message")
	d, _ = acceptDeflate(&PerMessageDeflate{}, h)
	assert.True(t, d.takeover)
	assert.Equal(t, 1024, d.threshold)
	assert.Equal(t, flate.DefaultCompression, d.level)

	parse := func(s string) []httphead.Option {
		opts, ok := httphead.ParseOptions([]byte(s), nil)
		require.True(t, ok)
		return opts
	}
	d, err := clientDeflate(&PerMessageDeflate{}, parse("permessage-deflate"))
	require.NoError(t, err)
	assert.True(t, d.takeover)
	assert.False(t, d.noSend)
	d, err = clientDeflate(&PerMessageDeflate{}, parse("permessage-deflate; server_no_context_takeover; client_max_window_bits=10"))
	require.NoError(t, err)
	assert.False(t, d.takeover)
	assert.True(t, d.noSend, "a window under 15 bits: the client sends uncompressed")
	d, err = clientDeflate(&PerMessageDeflate{}, nil)
	require.NoError(t, err)
	assert.Nil(t, d, "the server accepted nothing")
	_, err = clientDeflate(&PerMessageDeflate{ServerNoContextTakeover: true}, parse("permessage-deflate"))
	require.ErrorIs(t, err, errDeflateResponse, "the server must honour server_no_context_takeover")
}

// TestInflateContextTakeover: messages compressed with one context kept
// across them (as ws does by default) inflate in order with the window.
func TestInflateContextTakeover(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	d := &wsDeflate{takeover: true}
	msgs := []string{strings.Repeat("abcdefgh", 5000), "short", strings.Repeat("abcdefgh", 5000) + "!", strings.Repeat("x", 70000)}
	for _, m := range msgs {
		buf.Reset()
		_, _ = zw.Write([]byte(m))
		require.NoError(t, zw.Flush())
		p := bytes.TrimSuffix(buf.Bytes(), deflateTrailer)
		out, err := d.inflate(append([]byte(nil), p...), 1<<20)
		require.NoError(t, err)
		require.Equal(t, m, string(out))
	}
	assert.Len(t, d.window, windowSize)
}

// wsTestConn is a raw client WebSocket for the tests.
type wsTestConn struct {
	conn net.Conn
	rd   io.Reader
}

func (c *wsTestConn) read(t *testing.T) (ws.OpCode, []byte) {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(stWait))
	h, err := ws.ReadHeader(c.rd)
	require.NoError(t, err)
	p := make([]byte, h.Length)
	_, err = io.ReadFull(c.rd, p)
	require.NoError(t, err)
	return h.OpCode, p
}

// closeCode reads until the server's close frame and returns its code.
func (c *wsTestConn) closeCode(t *testing.T) ws.StatusCode {
	t.Helper()
	for {
		op, p := c.read(t)
		if op == ws.OpClose {
			require.GreaterOrEqual(t, len(p), 2)
			return ws.StatusCode(binary.BigEndian.Uint16(p))
		}
	}
}

// writeCompressed sends payload as one masked frame with RSV1 set.
func (c *wsTestConn) writeCompressed(t *testing.T, op ws.OpCode, payload []byte) {
	t.Helper()
	f := ws.NewFrame(op, true, append([]byte(nil), payload...))
	f.Header.Rsv = ws.Rsv(true, false, false)
	f = ws.MaskFrameInPlace(f)
	var buf bytes.Buffer
	require.NoError(t, ws.WriteFrame(&buf, f))
	_, err := c.conn.Write(buf.Bytes())
	require.NoError(t, err)
}
