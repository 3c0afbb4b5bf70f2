package hostnative

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/sio"
)

// Tests of ServerOptions.Parser = ParserMsgpack against the reference's
// socket.io-msgpack-parser 3.0.2: the official client using it against a
// Server (every transport mode), the bytes a Server sends against those
// the Node server (socket.io 4.8 with the same parser) sends for the same
// exchange, and the core's transcoder against notepack.io itself.

// msgpackEnv makes sio_client.js use socket.io-msgpack-parser.
const msgpackEnv = "SIO_PARSER=msgpack"

// msgpackServer is snServer with the msgpack parser and the handlers of
// the "values" scenario.
func msgpackServer(t *testing.T) (*snRecorder, string) { return valuesServer(t, ParserMsgpack) }

// valuesServer is snServer with the given parser and the handlers of the
// "values" scenario.
func valuesServer(t *testing.T, parser Parser) (*snRecorder, string) {
	_, rec, url := snServer(t, ServerOptions{Parser: parser}, func(io *Server, rec *snRecorder) {
		// A middleware adds the handlers: OnConnection would replace the
		// standard ones.
		io.Of("/").Use(func(s *Socket) error {
			s.On("values", func(ev *Event) { rec.add("values-err", errString(ev.AckRaw(ev.ArgsJSON(), ev.Attachments()))) })
			s.On("ask-values", func(*Event) {
				go func() {
					sent := []any{0, -1, 70000, -70000, int64(1) << 40, 1.5, "héllo € 😀", nil, true, false,
						map[string]any{"a": []any{1, map[string]any{"b": []byte{1, 2}}}}, []byte{}, []byte{3, 4, 5}}
					res, err := s.Timeout(2*time.Second).EmitWithAck(context.Background(), "ask-values", sent...)
					got := "error"
					if err == nil {
						args := make([]any, res.Len())
						var aerr error
						for i := range args {
							aerr = errors.Join(aerr, res.Arg(i, &args[i]))
						}
						want := normalizeArgs(sent)
						if aerr == nil && fmt.Sprint(args) == fmt.Sprint(want) {
							got = "same"
						} else {
							got = fmt.Sprintf("%v, want %v (%v)", args, want, aerr)
						}
					}
					_ = s.Emit("asked-values", got)
				}()
			})
			return nil
		})
	})
	return rec, url
}

// normalizeArgs turns Go values into what Args decodes them back to
// (numbers become float64).
func normalizeArgs(vs []any) []any {
	out := make([]any, len(vs))
	for i, v := range vs {
		switch x := v.(type) {
		case int:
			out[i] = float64(x)
		case int64:
			out[i] = float64(x)
		case []any:
			out[i] = normalizeArgs(x)
		case map[string]any:
			m := map[string]any{}
			for k, e := range x {
				m[k] = normalizeArgs([]any{e})[0]
			}
			out[i] = m
		default:
			out[i] = v
		}
	}
	return out
}

// TestNodeMsgpack runs the official client (socket.io-client 4.8, and 3.1
// for the echo) with parser: require("socket.io-msgpack-parser") against a
// Server with ParserMsgpack, over polling, WebSocket and the upgrade:
// connect with auth, echo (raw, typed, generic) of text, numbers and
// binary, acks both ways with binary, a custom namespace and an unknown
// one, middleware refusals with and without data, broadcasts to rooms, and
// values of every kind both ways.
func TestNodeMsgpack(t *testing.T) {
	hexv := func(s string) map[string]any { return map[string]any{"hex": s} }
	t.Run("connect", func(t *testing.T) {
		snEach(t, []string{"4"}, func(t *testing.T, c snClient) {
			rec, url := msgpackServer(t)
			lines := snRun(t, false, []string{msgpackEnv}, url, c.version, c.transports, c.upgrade, "connect")
			sc := rec.wait(t, "connect:/", 1)[0].(snConn)
			assert.Equal(t, sc.ID, lines.get(t, "connect")["connect"])
			assert.JSONEq(t, `{"token":"abc"}`, sc.Auth)
			who := lines.get(t, "whoami")["whoami"].(map[string]any)
			assert.Equal(t, map[string]any{"token": "abc"}, who["auth"])
			assert.Equal(t, sc.ID, who["id"])
			if c.mode == "upgrade" {
				assert.Equal(t, "websocket", lines.get(t, "upgraded")["upgraded"])
				assert.Equal(t, "websocket", who["transport"])
			}
			assert.Equal(t, []any{"client namespace disconnect"}, rec.wait(t, "disconnect:/", 1))
		})
	})
	t.Run("echo", func(t *testing.T) {
		snEach(t, []string{"3", "4"}, func(t *testing.T, c snClient) {
			rec, url := msgpackServer(t)
			lines := snRun(t, false, []string{msgpackEnv}, url, c.version, c.transports, c.upgrade, "echo")
			text := []any{"plain", 42.0, 1.5, true, nil, map[string]any{"k": "<&>", "nested": []any{1.0, "x"}}, "héllo € 😀"}
			mixed := []any{"héllo € 😀", hexv("010203"), map[string]any{"a": []any{1.0, "x", nil}, "b": hexv("0405")}}
			got := map[any]any{}
			for _, l := range lines {
				if k, ok := l["sent"]; ok {
					got[k] = l["echo"]
				}
			}
			assert.Equal(t, text, got["text"], "raw echo of text arguments")
			assert.Equal(t, mixed, got["mixed"], "raw echo of binary arguments")
			assert.Equal(t, []any{hexv("")}, got["empty-buffer"])
			assert.Equal(t, []any{"typé", hexv("00ff0a0d")}, lines.get(t, "echo2")["echo2"], "typed echo")
			assert.Equal(t, mixed, lines.get(t, "echo3")["echo3"], "generic echo")
			assert.Equal(t, []any{"", "", "", "", ""}, rec.wait(t, "echo-err", 5))
		})
	})
	t.Run("acks", func(t *testing.T) {
		snEach(t, []string{"4"}, func(t *testing.T, c snClient) {
			rec, url := msgpackServer(t)
			lines := snRun(t, false, []string{msgpackEnv}, url, c.version, c.transports, c.upgrade, "ack")
			assert.Equal(t, []any{"q!", hexv("0708"), map[string]any{"n": 1.0}}, lines.get(t, "ack")["ack"])
			assert.Equal(t, []any{}, lines.get(t, "ackEmpty")["ackEmpty"])
			assert.Equal(t, []any{[]any{true, "q", []byte{7, 8}}}, rec.get("withack"))
			assert.Equal(t, []any{[]any{"", 2.0, []byte{4, 5, 6}}}, rec.wait(t, "ask", 1))
			assert.ErrorIs(t, rec.wait(t, "ignore", 1)[0].(error), ErrAckTimeout)
			assert.Equal(t, []any{map[string]any{"n": 2.0, "bin": hexv("040506"), "ignoreTimedOut": true}},
				lines.get(t, "asked")["asked"])
		})
	})
	t.Run("namespaces", func(t *testing.T) {
		snEach(t, []string{"4"}, func(t *testing.T, c snClient) {
			rec, url := msgpackServer(t)
			lines := snRun(t, false, []string{msgpackEnv}, url, c.version, c.transports, c.upgrade, "namespaces")
			sc := rec.wait(t, "connect:/custom", 1)[0].(snConn)
			custom := lines.get(t, "custom")
			assert.Equal(t, sc.ID, custom["custom"])
			assert.Equal(t, "/custom", custom["whoami"].(map[string]any)["nsp"])
			assert.Equal(t, map[string]any{"message": "Invalid namespace", "data": nil}, lines.get(t, "random")["random"])
		})
	})
	t.Run("middleware", func(t *testing.T) {
		snEach(t, []string{"4"}, func(t *testing.T, c snClient) {
			rec, url := msgpackServer(t)
			lines := snRun(t, false, []string{msgpackEnv}, url, c.version, c.transports, c.upgrade, "middleware")
			assert.Equal(t, map[string]any{"message": "not authorized", "data": map[string]any{"content": "retry later"}},
				lines.get(t, "forbidden")["forbidden"])
			assert.Equal(t, map[string]any{"message": "not authorized", "data": nil}, lines.get(t, "plain")["plain"])
			assert.JSONEq(t, `{"token":"abc"}`, rec.wait(t, "middleware-auth", 1)[0].(string))
		})
	})
	t.Run("broadcast", func(t *testing.T) {
		snEach(t, []string{"4"}, func(t *testing.T, c snClient) {
			const n = 20
			rec, url := msgpackServer(t)
			lines := snRun(t, false, []string{msgpackEnv, "SIO_CLIENTS=" + strconv.Itoa(n)}, url, c.version, c.transports, c.upgrade, "broadcast")
			assert.Equal(t, true, lines.get(t, "joined")["idsMatch"])
			assert.Equal(t, map[string]any{"inR": float64(n), "notR2": float64((n + 1) / 2), "toR": float64(n - 1)},
				lines.get(t, "shout")["shout"])
			counts := lines.get(t, "counts")["counts"].([]any)
			require.Len(t, counts, n)
			for i, got := range counts {
				want := []any{1.0, 0.0}
				if i == 0 {
					want[0] = 0.0
				}
				if i%2 == 0 {
					want[1] = 1.0
				}
				assert.Equal(t, want, got, "client %d: [shouted, notr2]", i)
			}
			assert.Equal(t, []any{""}, rec.get("shout-err"))
		})
	})
	t.Run("values", func(t *testing.T) {
		snEach(t, []string{"4"}, func(t *testing.T, c snClient) {
			rec, url := msgpackServer(t)
			lines := snRun(t, false, []string{msgpackEnv}, url, c.version, c.transports, c.upgrade, "values")
			checked := 0
			for _, l := range lines {
				if _, ok := l["check"]; ok {
					checked++
					assert.Equal(t, true, l["ok"], "%s: %v", l["check"], l["diffs"])
				}
			}
			assert.Equal(t, 3, checked)
			// Typed arrays and ArrayBuffers (ext 0) come back as binary, a
			// Date (fixext 8) as its ISO string.
			assert.Equal(t, []any{hexv("0405"), hexv("0100"), "2024-02-29T12:30:45.678Z"}, lines.get(t, "typed")["typed"])
			assert.Equal(t, "same", lines.get(t, "asked")["asked"])
			assert.Equal(t, []any{""}, rec.wait(t, "values-err", 1))
		})
	})
}

// TestNodeJSONParserValues: the "values" scenario passes with the default
// parser too, so the two parsers deliver the same values.
func TestNodeJSONParserValues(t *testing.T) {
	snEach(t, []string{"4"}, func(t *testing.T, c snClient) {
		rec, url := valuesServer(t, ParserJSON)
		lines := c.run(t, url, "values")
		for _, l := range lines {
			if _, ok := l["check"]; ok {
				assert.Equal(t, true, l["ok"], "%s: %v", l["check"], l["diffs"])
			}
		}
		assert.Equal(t, []any{map[string]any{"hex": "0405"}, map[string]any{"hex": "0100"}, "2024-02-29T12:30:45.678Z"},
			lines.get(t, "typed")["typed"])
		assert.Equal(t, "same", lines.get(t, "asked")["asked"])
		assert.Equal(t, []any{""}, rec.wait(t, "values-err", 1))
	})
}

// TestNodeMsgpackWrongParser: a client with the default parser cannot
// talk to a msgpack Server (nor the reverse): its first packet is a parse
// error that closes the connection, as with the reference. The client
// (reconnection off) never connects: its engine closes before the CONNECT
// reply, which socket.io-client reports with no event at all.
func TestNodeMsgpackWrongParser(t *testing.T) {
	requireNode(t)
	for _, c := range []struct {
		name   string
		parser Parser
		env    []string
	}{{"json client", ParserMsgpack, nil}, {"msgpack client", ParserJSON, []string{msgpackEnv}}} {
		t.Run(c.name, func(t *testing.T) {
			_, rec, url := snServer(t, ServerOptions{Parser: c.parser}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", "sio_client.js", "4", url, "websocket", "false", "connect")
			cmd.Dir = interopDir
			cmd.Env = append(cmd.Environ(), c.env...)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the client must not connect: %s", out)
			assert.Contains(t, string(out), "exited before the scenario finished")
			assert.NotContains(t, string(out), `"connect"`)
			assert.Empty(t, rec.get("connect:/"))
		})
	}
}

// TestMsgpackWireMatchesNode: for the same exchange (msgpack_wire.js: a
// raw WebSocket client sending msgpack packets), a Server with ParserMsgpack
// sends byte for byte what socket.io 4.8 with socket.io-msgpack-parser
// sends (sio_server.js with parser "msgpack"): the CONNECT replies (socket
// ids masked), an event with an ack id, the echo of numbers, strings,
// nested objects and binary, an ack, a middleware refusal with data, the
// Invalid namespace refusal, a DISCONNECT and broadcasts with and without
// an ack id.
func TestMsgpackWireMatchesNode(t *testing.T) {
	requireNode(t)
	node := startNodeSIOWith(t, map[string]any{"parser": "msgpack"})
	want := msgpackWire(t, node.url)

	io := NewServer(ServerOptions{Parser: ParserMsgpack, Engine: EngineOptions{Core: testCore(nil)}})
	t.Cleanup(io.Close)
	setup := func(ns *Namespace) {
		ns.Use(func(s *Socket) error {
			var auth struct{ Token string }
			_ = json.Unmarshal(s.Handshake().Auth, &auth)
			if auth.Token == "bad" {
				return &ConnectError{Message: "not authorized", Data: map[string]any{"code": 401}}
			}
			return nil
		})
		ns.OnConnection(func(s *Socket) {
			s.On("echo", func(ev *Event) { _ = s.EmitRaw("echo", ev.ArgsJSON(), ev.Attachments()) })
			s.On("add", func(ev *Event) {
				var a, b float64
				_ = ev.Arg(0, &a)
				_ = ev.Arg(1, &b)
				_ = ev.Ack(a + b)
			})
			s.On("kick", func(*Event) { s.Disconnect(false) })
			s.On("survey", func(*Event) {
				go func() { _, _ = ns.To(s.ID()).Timeout(time.Second).EmitWithAck(context.Background(), "survey", 1) }()
			})
			s.On("drop", func(*Event) {
				_ = ns.To(s.ID()).Emit("before", 0)
				time.AfterFunc(50*time.Millisecond, func() { s.Conn().Close() })
			})
			go func() { _, _ = s.Timeout(5*time.Second).EmitWithAck(context.Background(), "ask", 21) }()
		})
	}
	setup(io.Of("/"))
	setup(io.Of("/chat"))
	srv := httptest.NewServer(io)
	t.Cleanup(srv.Close)
	got := msgpackWire(t, srv.URL)

	require.Len(t, want, 10)
	require.Equal(t, len(want), len(got))
	for i := range want {
		t.Logf("%s: %v", want[i].step, want[i].frames)
		assert.Equal(t, want[i], got[i], "step %s", want[i].step)
	}
}

type wireStep struct {
	step   string
	frames []string
}

// msgpackWire runs msgpack_wire.js against url and returns its steps, the
// open packet left out and socket ids masked.
func msgpackWire(t *testing.T, url string) []wireStep {
	t.Helper()
	var steps []wireStep
	for _, l := range runNode(t, "msgpack_wire.js", url) {
		if l["done"] != nil {
			continue
		}
		require.Nil(t, l["error"])
		s := wireStep{step: l["step"].(string)}
		if s.step == "open" {
			continue
		}
		for _, f := range l["frames"].([]any) {
			h, ok := f.(string)
			require.True(t, ok, "step %s: a text frame %v", s.step, f)
			s.frames = append(s.frames, maskSID(t, h))
		}
		steps = append(steps, s)
	}
	return steps
}

// maskSID replaces the value of a "sid" string key by x's.
func maskSID(t *testing.T, h string) string {
	b, err := hex.DecodeString(h)
	require.NoError(t, err)
	if i := bytes.Index(b, []byte("\xa3sid")); i >= 0 && i+4 < len(b) && b[i+4]&0xe0 == 0xa0 {
		n := int(b[i+4] & 0x1f)
		copy(b[i+5:i+5+n], bytes.Repeat([]byte{'x'}, n))
	}
	return hex.EncodeToString(b)
}

// TestMsgpackMatchesNode compares the core's transcoder with notepack.io
// and socket.io-msgpack-parser themselves (msgpack_codec.js): encoding
// (sio.AppendMsgpack, in each key order the reference uses) of fixed and
// random payloads gives notepack's bytes, and decoding (sio.DecodeMsgpack)
// of notepack's output and of hand-made packets gives the values, the
// binaries and the refusals of the reference's decoder, but where siohost
// refuses more (documented on DecodeMsgpack).
func TestMsgpackMatchesNode(t *testing.T) {
	requireNode(t)
	type encCase struct {
		keys  []string
		p     sio.Packet
		atts  [][]byte
		order sio.MsgpackOrder
	}
	var encs []encCase
	add := func(data string, atts [][]byte) {
		typ := sio.Event
		if len(atts) > 0 {
			typ = sio.BinaryEvent
		}
		encs = append(encs,
			encCase{[]string{"type", "data", "nsp"}, sio.Packet{Type: typ, ID: -1, Data: []byte(data), Attachments: len(atts)}, atts, sio.OrderEmit},
			encCase{[]string{"type", "data", "id", "nsp"}, sio.Packet{Type: typ, Nsp: []byte("/chat"), ID: 7, Data: []byte(data), Attachments: len(atts)}, atts, sio.OrderEmit},
			encCase{[]string{"type", "data", "nsp", "id"}, sio.Packet{Type: typ, ID: 70000, Data: []byte(data), Attachments: len(atts)}, atts, sio.OrderBroadcast},
			encCase{[]string{"id", "type", "data", "nsp"}, sio.Packet{Type: typ + 1, ID: 1 << 40, Data: []byte(data), Attachments: len(atts)}, atts, sio.OrderEmit},
		)
	}
	big := func(n int) string { return strings.Repeat("é", n/2) + strings.Repeat("x", n%2) }
	for _, d := range []string{
		`["hello","wörld",1,-1,1.5,null,true,false,{"a":[]}]`,
		`["n",0,1,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740991,-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,-9007199254740991]`,
		`["f",1.5,-0.25,0.1,5e-324,1e19,1.0,1e3,-0,-0.0,2.5e1,1e400,-1e400,123456789012.5,1.7976931348623157e-308]`,
		`["s","","\u0000\u001f\"\\\/\b\f\n\r\t\u2028\ud83d\ude00",` + strconv.Quote(big(31)) + `,` + strconv.Quote(big(32)) + `,` + strconv.Quote(big(255)) + `,` +
			strconv.Quote(big(256)) + `,` + strconv.Quote(big(65535)) + `,` + strconv.Quote(big(65536)) + `]`,
		`["sizes",[` + seq(15) + `],[` + seq(16) + `],[` + seq(65535) + `],[` + seq(65536) + `],{` + keys(15) + `},{` + keys(16) + `},{` + keys(70000) + `}]`,
	} {
		add(d, nil)
	}
	add(`["b",{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]},{"num":2,"_placeholder":true},{"_placeholder":true,"num":3}]`,
		[][]byte{{}, bytes.Repeat([]byte{1}, 255), bytes.Repeat([]byte{2}, 256), bytes.Repeat([]byte{3}, 65536)})
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var atts [][]byte
		d := randomJSON(rnd, 0, &atts)
		add(`["r",`+d+`]`, atts)
	}

	var reqs bytes.Buffer
	for _, c := range encs {
		r := map[string]any{"keys": c.keys, "type": int(c.p.Type) % 5, "data": string(c.p.Data), "nsp": c.p.NspName()}
		if c.p.Type == sio.BinaryEvent {
			r["type"] = int(sio.Event)
		} else if c.p.Type == sio.BinaryAck {
			r["type"] = int(sio.Ack)
		}
		if c.p.ID >= 0 {
			r["id"] = c.p.ID
		}
		var atts []string
		for _, a := range c.atts {
			atts = append(atts, hex.EncodeToString(a))
		}
		r["atts"] = atts
		writeJSONLine(t, &reqs, map[string]any{"encode": r})
	}
	answers := runCodec(t, reqs.Bytes())
	require.Len(t, answers, len(encs))
	var decodeIn [][]byte
	for i, c := range encs {
		got, err := sio.AppendMsgpack(nil, &c.p, c.atts, c.order)
		require.NoError(t, err)
		want := answers[i]["hex"].(string)
		if g := hex.EncodeToString(got); g != want {
			at := 0
			for at < len(g) && at < len(want) && g[at] == want[at] {
				at++
			}
			from := max(0, at-80)
			t.Fatalf("case %d (%v, %.300s): differ at byte %d:\ngot      …%.200s\nnotepack …%.200s", i, c.keys, c.p.Data, at/2, g[from:], want[from:])
		}
		if i%4 == 0 {
			decodeIn = append(decodeIn, got)
		}
	}

	// Decoding: notepack's own output, then hand-made packets.
	for _, h := range []string{
		"85a47479706502a46461746192a568656c6c6f01a76f7074696f6e7381a8636f6d7072657373c3a2696403a36e7370a52f63686174",
		"84a269640ca47479706503a46461746192c4020102c70300010203a36e7370a12f",
		"83a47479706500a46461746181a5746f6b656ea3616263a36e7370a12f",
		"83a47479706500a464617461d40000a36e7370a12f",
		"82a47479706501a36e7370a12f",
		"84a474797065cb4000000000000000a46461746191a161a26964cb4014000000000000a36e7370a12f",
		"83a47479706502a4646174619aa16ecf001fffffffffffffd3ffe0000000000001ca3dcccccdcb7ff8000000000000cb7ff0000000000000cb8000000000000000cb444b1ae4d6e2ef50cb3eb0c6f7a0b5ed8de0a36e7370a12f",
		"83a47479706502a46461746194a173a50a22005c7fa461e282ffa4eda08041a36e7370a12f",
		"83a47479706502a46461746196a165d40107d7000000000000000000d700fffffffffffffc18d70000000000000003e8c8000305aabbcca36e7370a12f",
		"83a47479706502a46461746193a175d4000082a161d40000a16201a36e7370a12f",
		"83a47479706502a46461746192a16b860101ff02cb3ff800000000000003c004c305d4000006a36e7370a12f",
		"85a47479706501a47479706502a46461746191a178a3666f6fc0a36e7370a12f",
		"83a47479706502a46461746193a164d700001eb208c2dc0000d700001eb208c2dc0001a36e7370a12f",
		"83a47479706502a46461746193a161c4010182ac5f706c616365686f6c646572c3a36e756d00a36e7370a12f",
		// Refused by both.
		"", "92a47479706502", "82a47479706501a36e7370a12f00", "83a47479706502a46461746192a568656c6c",
		"81a36e7370a12f", "82a47479706505a36e7370a12f", "82a474797065ffa36e7370a12f", "82a474797065cb4004000000000000a36e7370a12f",
		"81a47479706501", "82a47479706501a36e7370c0", "82a47479706502a36e7370a12f", "83a47479706502a46461746181a16101a36e7370a12f",
		"84a269640ca47479706503a464617461c0a36e7370a12f", "83a47479706500a46461746190a36e7370a12f",
		"83a47479706500a464617461d70000000000000003e8a36e7370a12f", "83a47479706501a46461746180a36e7370a12f",
		"83a47479706504a46461746101a36e7370a12f", "84a47479706502a46461746191a161a26964c0a36e7370a12f",
		"84a47479706502a46461746191a161a26964cb3ff8000000000000a36e7370a12f", "83a47479706502a46461746192a161c1a36e7370a12f",
		"83a47479706502a46461746191dbffffffff",
		// Refused by siohost alone (see DecodeMsgpack).
		"82a47479706501a36e7370a0",
		"83a47479706502a46461746190a36e7370a12f",
		"83a47479706502a46461746191aa646973636f6e6e656374a36e7370a12f",
		"83a47479706502a46461746191c0a36e7370a12f",
		"83a47479706500a46461746181a161c40101a36e7370a12f",
		"84a47479706502a46461746191a161a26964ffa36e7370a12f",
		"83a47479706502a46461746192a16181c4016101a36e7370a12f",
		"83a47479706502a46461746193a161c4010182ac5f706c616365686f6c646572c3a36e756d05a36e7370a12f",
	} {
		decodeIn = append(decodeIn, unhexT(t, h))
	}
	siohostOnly := map[string]bool{
		"82a47479706501a36e7370a0":                                                                 true, // empty nsp
		"83a47479706502a46461746190a36e7370a12f":                                                   true, // empty event
		"83a47479706502a46461746191aa646973636f6e6e656374a36e7370a12f":                             true, // reserved name
		"83a47479706502a46461746191c0a36e7370a12f":                                                 true, // name null
		"83a47479706500a46461746181a161c40101a36e7370a12f":                                         true, // binary auth
		"84a47479706502a46461746191a161a26964ffa36e7370a12f":                                       true, // negative id
		"83a47479706502a46461746192a16181c4016101a36e7370a12f":                                     true, // binary key
		"83a47479706502a46461746193a161c4010182ac5f706c616365686f6c646572c3a36e756d05a36e7370a12f": true, // forged placeholder
	}
	reqs.Reset()
	for _, in := range decodeIn {
		writeJSONLine(t, &reqs, map[string]any{"decode": hex.EncodeToString(in)})
	}
	answers = runCodec(t, reqs.Bytes())
	require.Len(t, answers, len(decodeIn))
	for i, in := range decodeIn {
		h := hex.EncodeToString(in)
		a := answers[i]
		p, atts, err := sio.DecodeMsgpack(in)
		if a["error"] != nil {
			require.Error(t, err, "%s: node refuses it (%v)", h, a["error"])
			continue
		}
		if siohostOnly[h] {
			require.Error(t, err, "%s: documented refusal", h)
			continue
		}
		require.NoError(t, err, "%.200s", h)
		typ := p.Type
		switch typ {
		case sio.BinaryEvent:
			typ = sio.Event
		case sio.BinaryAck:
			typ = sio.Ack
		}
		assert.Equal(t, a["type"], float64(typ), h)
		assert.Equal(t, a["nsp"], p.NspName(), h)
		if id, ok := a["id"]; ok {
			assert.Equal(t, id, float64(p.ID), h)
		} else {
			assert.Equal(t, int64(-1), p.ID, h)
		}
		if d, ok := a["data"].(string); ok {
			assert.JSONEq(t, d, string(p.Data), h)
		} else {
			assert.Nil(t, p.Data, h)
		}
		var wantAtts []string
		for _, x := range a["atts"].([]any) {
			wantAtts = append(wantAtts, x.(string))
		}
		var gotAtts []string
		for _, x := range atts {
			gotAtts = append(gotAtts, hex.EncodeToString(x))
		}
		assert.Equal(t, wantAtts, gotAtts, h)
	}
}

func unhexT(t *testing.T, s string) []byte {
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func seq(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i % 1000))
	}
	return b.String()
}

func keys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	return b.String()
}

// randomJSON writes a random JSON value within what notepack and siohost
// write alike (integers within 2^53, integral floats below 2^64, keys that
// are no array indices and appear once per object), binary values as
// placeholders.
func randomJSON(r *rand.Rand, depth int, atts *[][]byte) string {
	k := r.IntN(10)
	if depth > 4 {
		k = r.IntN(6)
	}
	switch k {
	case 0:
		return []string{"null", "true", "false"}[r.IntN(3)]
	case 1:
		return strconv.FormatInt(r.Int64N(1<<54)-1<<53, 10)
	case 2:
		return strconv.FormatInt(r.Int64N(1<<18)-1<<17, 10)
	case 3:
		f := (r.Float64() - 0.5) * float64(r.Uint64N(1<<30))
		if r.IntN(4) == 0 {
			f *= 1e-200
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case 4:
		b, _ := json.Marshal(randomString(r))
		return string(b)
	case 5:
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		*atts = append(*atts, b)
		return `{"_placeholder":true,"num":` + strconv.Itoa(len(*atts)-1) + `}`
	case 6, 7:
		n := r.IntN(20)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = randomJSON(r, depth+1, atts)
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		n := r.IntN(20)
		parts := make([]string, n)
		seen := map[string]bool{}
		for i := range parts {
			k := "k" + randomString(r)
			for seen[k] {
				k += "+"
			}
			seen[k] = true
			key, _ := json.Marshal(k)
			parts[i] = string(key) + ":" + randomJSON(r, depth+1, atts)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
}

func randomString(r *rand.Rand) string {
	alphabet := []rune("ab \"\\/\n\t\x00\x1féü€😀\u2028")
	n := r.IntN(40)
	if r.IntN(10) == 0 {
		n = 200 + r.IntN(200)
	}
	out := make([]rune, n)
	for i := range out {
		out[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(out)
}

func writeJSONLine(t *testing.T, w *bytes.Buffer, v any) {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	w.Write(b)
	w.WriteByte('\n')
}

// runCodec runs msgpack_codec.js on requests and returns its answers.
func runCodec(t *testing.T, requests []byte) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "msgpack_codec.js")
	cmd.Dir = interopDir
	cmd.Stdin = bytes.NewReader(requests)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var out []map[string]any
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	require.NoError(t, errors.Join(sc.Err(), cmd.Wait()), "stderr: %s", stderr.String())
	return out
}

// TestNodeMsgpackRecovery: connection state recovery with the msgpack
// parser (the pid in the CONNECT reply, offsets appended to broadcasts, the
// client's pid and offset in its CONNECT) brings the socket back with its
// missed broadcasts, as with the default parser.
func TestNodeMsgpackRecovery(t *testing.T) {
	requireNode(t)
	for _, c := range snModes {
		c.version = "4"
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			_, base := stServer(t, ServerOptions{Parser: ParserMsgpack, ConnectionStateRecovery: &ConnectionStateRecovery{}}, recoverySetup)
			lines := snRun(t, false, []string{msgpackEnv}, base[:len(base)-len("/socket.io/")], c.version, c.transports, c.upgrade, "recovery")
			assert.Equal(t, false, lines.get(t, "connect")["recovered"])
			re := lines.get(t, "reconnect")
			assert.Equal(t, true, re["recovered"])
			assert.Equal(t, true, re["same"])
			m := lines.get(t, "missed")
			assert.Equal(t, []any{float64(1), float64(2), float64(3)}, m["missed"])
			assert.Equal(t, map[string]any{"user": "ada"}, m["whoami"].(map[string]any)["data"])
		})
	}
}
