package eio

// Client session transcripts: whole client sessions stored as data in
// core/testdata/client_sessions/*.json. Each is recorded from a live run of
// the Client against the real Server (netHost) and lists every input the
// Client got with the effects it produced, so any host of the core (the
// WebAssembly build included) can replay the Client side alone:
//
//	{
//	  "description": "…",
//	  "config": {"protocol": 4, "transports": ["polling", "websocket"],
//	             "upgrade": true, "b64": false, "connectTimeout": 0},
//	  "steps": [ {"now": 0, <one input>, "expect": [effects], "deadline": 500}, … ]
//	}
//
// Inputs (one per step): "open": {}, "response": {conn, status,
// contentType, data|hex}, "wsOpened": {conn}, "frame": {conn, binary,
// data|hex}, "closed": {conn, code}, "failed": {conn, err}, "send":
// {binary, data|hex}, "close": {}, "tick": {}. An effect is {kind, conn,
// method, query, content, binary, prefix|prefixHex, data|hex, text, desc,
// handshake, err: {kind, op, status, code}}; kind is the
// ClientEffectKind's name. "deadline" is NextDeadline after the step (null:
// none).
//
// TestClientTranscripts runs each scenario live and compares the recording
// with its file; `go test -run TestClientTranscripts -update-client-sessions`
// rewrites the files. TestClientTranscriptReplay drives a bare Client from
// the files.

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var updateClientSessions = flag.Bool("update-client-sessions", false, "rewrite core/testdata/client_sessions from live runs")

type ctFile struct {
	Description string   `json:"description"`
	Config      ctConfig `json:"config"`
	Steps       []ctStep `json:"steps"`
}

type ctConfig struct {
	Protocol       int      `json:"protocol"`
	Transports     []string `json:"transports"`
	Upgrade        bool     `json:"upgrade,omitempty"`
	B64            bool     `json:"b64,omitempty"`
	ConnectTimeout int64    `json:"connectTimeout,omitempty"`
}

type ctBytes struct {
	Data *string `json:"data,omitempty"`
	Hex  *string `json:"hex,omitempty"`
}

func ctBytesOf(binary bool, b []byte) ctBytes {
	if b == nil {
		return ctBytes{}
	}
	if binary || !utf8.Valid(b) {
		h := hex.EncodeToString(b)
		return ctBytes{Hex: &h}
	}
	s := string(b)
	return ctBytes{Data: &s}
}

func (b ctBytes) bytes(t *testing.T) []byte {
	switch {
	case b.Hex != nil:
		v, err := hex.DecodeString(*b.Hex)
		require.NoError(t, err)
		return v
	case b.Data != nil:
		return []byte(*b.Data)
	}
	return nil
}

type ctStep struct {
	Now      int64       `json:"now"`
	Open     *struct{}   `json:"open,omitempty"`
	Response *ctResponse `json:"response,omitempty"`
	WSOpened *ctConn     `json:"wsOpened,omitempty"`
	Frame    *ctFrame    `json:"frame,omitempty"`
	Closed   *ctConn     `json:"closed,omitempty"`
	Failed   *ctConn     `json:"failed,omitempty"`
	Send     *ctFrame    `json:"send,omitempty"`
	Close    *struct{}   `json:"close,omitempty"`
	Tick     *struct{}   `json:"tick,omitempty"`
	Expect   []ctEffect  `json:"expect"`
	Deadline *int64      `json:"deadline"`
}

type ctResponse struct {
	Conn        uint64 `json:"conn"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType,omitempty"`
	ctBytes
}

type ctConn struct {
	Conn uint64 `json:"conn"`
	Code int    `json:"code,omitempty"`
	Err  string `json:"err,omitempty"`
}

type ctFrame struct {
	Conn   uint64 `json:"conn,omitempty"`
	Binary bool   `json:"binary,omitempty"`
	ctBytes
}

type ctEffect struct {
	Kind      string     `json:"kind"`
	Conn      uint64     `json:"conn,omitempty"`
	Method    string     `json:"method,omitempty"`
	Query     string     `json:"query,omitempty"`
	Content   string     `json:"content,omitempty"`
	Binary    bool       `json:"binary,omitempty"`
	Prefix    string     `json:"prefix,omitempty"`
	PrefixHex string     `json:"prefixHex,omitempty"`
	Text      string     `json:"text,omitempty"`
	Desc      string     `json:"desc,omitempty"`
	Handshake *Handshake `json:"handshake,omitempty"`
	Err       *ctError   `json:"err,omitempty"`
	ctBytes
}

type ctError struct {
	Kind   string `json:"kind"`
	Op     string `json:"op"`
	Status int    `json:"status,omitempty"`
	Code   int    `json:"code"`
}

func ctEffects(effects []ClientEffect) []ctEffect {
	out := []ctEffect{}
	for _, e := range effects {
		x := ctEffect{Kind: e.Kind.String(), Conn: e.Conn, Method: e.Method, Query: e.Query,
			Content: clientContentNames[e.Content], Binary: e.Binary,
			Text: e.Text, Desc: e.Desc, Handshake: e.Handshake, ctBytes: ctBytesOf(e.Binary, e.Data)}
		if e.Binary {
			x.PrefixHex = hex.EncodeToString(e.Prefix)
		} else {
			x.Prefix = string(e.Prefix)
		}
		if e.Err != nil {
			x.Err = &ctError{Kind: e.Err.Kind.String(), Op: e.Err.Op, Status: e.Err.Status, Code: e.Err.Code}
		}
		out = append(out, x)
	}
	return out
}

// clientCall runs one input of the Client and, when recording, records it
// with the effects it produced.
func (h *netHost) clientCall(st ctStep, f func()) {
	if h.rec == nil {
		f()
		return
	}
	h.collect()
	f()
	effects := h.c.Effects()
	st.Now, st.Expect = h.now, ctEffects(effects)
	if d, ok := h.c.NextDeadline(); ok {
		st.Deadline = &d
	}
	*h.rec = append(*h.rec, st)
	for _, e := range effects {
		h.fromClient(e)
	}
}

func (h *netHost) open() { h.clientCall(ctStep{Open: &struct{}{}}, func() { h.c.Open(h.now) }) }

func (h *netHost) send(binary bool, data []byte) {
	h.clientCall(ctStep{Send: &ctFrame{Binary: binary, ctBytes: ctBytesOf(binary, data)}}, func() {
		h.c.Send(h.now, binary, data)
	})
}

func (h *netHost) close() { h.clientCall(ctStep{Close: &struct{}{}}, func() { h.c.Close(h.now) }) }

type ctScenario struct {
	name, description string
	client            ClientConfig
	server            func() Config
	run               func(h *netHost)
}

func v3Server() Config {
	cfg := testServerConfig()
	cfg.AllowEIO3 = true
	return cfg
}

var ctScenarios = []ctScenario{
	{"polling", "v4 polling only: handshake, one GET outstanding, text and binary both ways (one POST at a time), then Client.Close: POST 1, the pending GET answered with a noop that is ignored, reason forced close.",
		ClientConfig{Transports: TransportPolling}, testServerConfig, func(h *netHost) {
			h.open()
			h.pump()
			h.send(false, []byte("hello"))
			h.send(true, []byte{1, 2, 3})
			h.pump()
			h.do(func() { h.s.Send(h.now, h.s.Lookup(sid1), false, []byte("world")) })
			h.advance(350) // one ping, answered
			h.close()
			h.pump()
		}},
	{"websocket", "v4 WebSocket only: the open packet as the first frame, a binary frame each way, a ping answered, then the server closes the session: transport close.",
		ClientConfig{Transports: TransportWebSocket}, testServerConfig, func(h *netHost) {
			h.open()
			h.pump()
			h.send(true, []byte{1, 2})
			h.pump()
			h.do(func() { h.s.Send(h.now, h.s.Lookup(sid1), true, []byte{3}) })
			h.advance(350)
			h.do(func() { h.s.CloseSession(h.now, h.s.Lookup(sid1), "") })
		}},
	{"upgrade", "v4 polling to WebSocket: probe 2probe/3probe, polling paused until the server's noop ends the GET, 5, the message buffered meanwhile flushed on the WebSocket, then Client.Close: the close packet then the socket.",
		DefaultClientConfig(nil), testServerConfig, func(h *netHost) {
			h.open()
			h.pump()
			h.send(false, []byte("during"))
			h.advance(350)
			h.close()
			h.pump()
		}},
	{"v3_polling_b64", "v3 polling with b64: <len>: payloads, binary as b4<base64>, the client pings every pingInterval and the server pongs.",
		ClientConfig{Protocol: 3, Transports: TransportPolling, B64: true}, v3Server, func(h *netHost) {
			h.open()
			h.pump()
			h.send(false, []byte(`42["é"]`))
			h.send(true, []byte{1, 2, 3})
			h.pump()
			h.do(func() { h.s.Send(h.now, h.s.Lookup(sid1), true, []byte{4}) })
			h.advance(650)
			h.close()
			h.pump()
		}},
	{"v3_polling_binary", "v3 polling without b64: binary payloads (application/octet-stream) both ways when a flush holds binary, text payloads otherwise.",
		ClientConfig{Protocol: 3, Transports: TransportPolling}, v3Server, func(h *netHost) {
			h.open()
			h.pump()
			h.send(false, []byte("x"))
			h.send(true, []byte{1, 2, 3})
			h.pump()
			h.do(func() { h.s.Send(h.now, h.s.Lookup(sid1), true, []byte{4, 5}) })
			h.advance(350)
		}},
	{"v3_websocket", "v3 WebSocket: binary frames carry a 0x04 type byte; the client pings, the server pongs.",
		ClientConfig{Protocol: 3, Transports: TransportWebSocket}, v3Server, func(h *netHost) {
			h.open()
			h.pump()
			h.send(true, []byte{1, 2})
			h.pump()
			h.advance(650)
		}},
	{"batching", "v4 POSTs batched up to the server's maxPayload (100): 1 packet, then 3 by 3.",
		ClientConfig{Transports: TransportPolling}, func() Config { c := testServerConfig(); c.MaxPayload = 100; return c }, func(h *netHost) {
			h.open()
			h.pump()
			for i := 0; i < 7; i++ {
				h.send(false, []byte(strings.Repeat(string(rune('a'+i)), 30)))
			}
			h.pump()
		}},
	{"v3_refused", "a v3 client and a server without v3: HTTP 400 code 5 becomes an engine.io error with code 5, then close with transport error.",
		ClientConfig{Protocol: 3, Transports: TransportPolling}, testServerConfig, func(h *netHost) {
			h.open()
			h.pump()
		}},
}

func ctConfigOf(c ClientConfig) ctConfig {
	x := ctConfig{Protocol: c.Protocol, Upgrade: c.Upgrade, B64: c.B64, ConnectTimeout: c.ConnectTimeout}
	if x.Protocol == 0 {
		x.Protocol = 4
	}
	if c.Transports&TransportPolling != 0 {
		x.Transports = append(x.Transports, "polling")
	}
	if c.Transports&TransportWebSocket != 0 {
		x.Transports = append(x.Transports, "websocket")
	}
	return x
}

func (c ctConfig) client() ClientConfig {
	cfg := ClientConfig{Protocol: c.Protocol, Upgrade: c.Upgrade, B64: c.B64, ConnectTimeout: c.ConnectTimeout}
	for _, name := range c.Transports {
		switch name {
		case "polling":
			cfg.Transports |= TransportPolling
		case "websocket":
			cfg.Transports |= TransportWebSocket
		}
	}
	return cfg
}

func ctPath(name string) string {
	return filepath.Join("..", "testdata", "client_sessions", name+".json")
}

func TestClientTranscripts(t *testing.T) {
	for _, sc := range ctScenarios {
		t.Run(sc.name, func(t *testing.T) {
			h := newNetHost(t, sc.client, sc.server())
			var steps []ctStep
			h.rec = &steps
			sc.run(h)
			got := ctFile{Description: sc.description, Config: ctConfigOf(sc.client), Steps: steps}
			var buf strings.Builder
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", " ")
			require.NoError(t, enc.Encode(got))
			raw := []byte(buf.String())
			if *updateClientSessions {
				require.NoError(t, os.WriteFile(ctPath(sc.name), raw, 0o644))
				return
			}
			want, err := os.ReadFile(ctPath(sc.name))
			require.NoError(t, err, "run with -update-client-sessions to create it")
			require.Equal(t, string(want), string(raw), "the live run differs from %s", ctPath(sc.name))
		})
	}
}

func TestClientTranscriptReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "client_sessions", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			var tr ctFile
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&tr))
			require.NotEmpty(t, tr.Description)
			c := NewClient(tr.Config.client())
			for i, st := range tr.Steps {
				switch {
				case st.Open != nil:
					c.Open(st.Now)
				case st.Response != nil:
					c.Response(st.Now, st.Response.Conn, st.Response.Status, st.Response.ContentType, st.Response.bytes(t))
				case st.WSOpened != nil:
					c.WSOpened(st.Now, st.WSOpened.Conn)
				case st.Frame != nil:
					c.Frame(st.Now, st.Frame.Conn, st.Frame.Binary, st.Frame.bytes(t))
				case st.Closed != nil:
					c.ConnClosed(st.Now, st.Closed.Conn, st.Closed.Code)
				case st.Failed != nil:
					c.ConnFailed(st.Now, st.Failed.Conn, st.Failed.Err)
				case st.Send != nil:
					c.Send(st.Now, st.Send.Binary, st.Send.bytes(t))
				case st.Close != nil:
					c.Close(st.Now)
				case st.Tick != nil:
					c.Tick(st.Now)
				default:
					t.Fatalf("step %d has no input", i)
				}
				require.Equal(t, st.Expect, ctEffects(c.Effects()), "step %d", i)
				d, ok := c.NextDeadline()
				if st.Deadline == nil {
					require.False(t, ok, "step %d: no deadline expected", i)
				} else {
					require.Equal(t, *st.Deadline, d, "step %d: deadline", i)
				}
			}
		})
	}
}

// clientContentNames spell Content as the transcripts do.
var clientContentNames = map[Content]string{
	ContentNone:   "",
	ContentText:   "text",
	ContentBinary: "binary",
	ContentHTML:   "html",
	ContentJSON:   "json",
}
