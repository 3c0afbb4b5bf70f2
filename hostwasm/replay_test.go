package hostwasm

// The golden session transcripts of core/testdata (sessions/*.json for
// Engine.IO, sio_sessions/*.json for Socket.IO; their format is documented
// in core/eio/transcript_test.go and core/sio/transcript_test.go) replayed
// three ways side by side: the native servers called directly, the native
// abi.Core (the same binary records and effect lists the module uses), and
// the WebAssembly module in wazero. After every step the effects (every
// field, bytes compared exactly, nil told from empty), the return value,
// the next deadline, the open count and each session's particulars must be
// identical. The native run is the reference; the transcripts' own
// expectations are checked by the core's tests, and here only their effect
// kinds, so that a replay that went astray cannot pass unnoticed.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

type transcript struct {
	Description string  `json:"description"`
	Config      tConfig `json:"config"`
	Steps       []tStep `json:"steps"`
	Notes       any     `json:"notes"`
	socketIO    bool    // a sio_sessions transcript
}

type tConfig struct {
	PingInterval   int64    `json:"pingInterval"`
	PingTimeout    int64    `json:"pingTimeout"`
	UpgradeTimeout int64    `json:"upgradeTimeout"`
	MaxPayload     int64    `json:"maxPayload"`
	AllowEIO3      bool     `json:"allowEIO3"`
	AllowUpgrades  *bool    `json:"allowUpgrades"`
	Transports     []string `json:"transports"`
	Random         []string `json:"random"`
	IDPrefix       string   `json:"idPrefix"`
	ConnectTimeout int64    `json:"connectTimeout"`
}

type tStep struct {
	Now      int64               `json:"now"`
	Comment  string              `json:"comment"`
	Request  *tRequest           `json:"request"`
	Body     *tBody              `json:"body"`
	Frame    *tBody              `json:"frame"`
	Closed   *tClosed            `json:"closed"`
	Send     *tSend              `json:"send"`
	Close    *tClose             `json:"close"`
	CloseAll *tClose             `json:"closeAll"`
	Tick     *struct{}           `json:"tick"`
	Accept   *tAccept            `json:"accept"`
	Refuse   *tRefuse            `json:"refuse"`
	Leave    *tClose             `json:"leave"`
	Result   json.RawMessage     `json:"result"`
	Expect   []tEffect           `json:"expect"`
	Deadline json.RawMessage     `json:"deadline"`
	Open     *int                `json:"open"`
	Joined   map[string][]string `json:"joined"`
}

type tRequest struct {
	Conn           uint64 `json:"conn"`
	Method         string `json:"method"`
	EIO            string `json:"eio"`
	Transport      string `json:"transport"`
	SID            string `json:"sid"`
	B64            bool   `json:"b64"`
	Upgrade        bool   `json:"upgrade"`
	Binary         bool   `json:"binary"`
	Origin         string `json:"origin"`
	BadOrigin      bool   `json:"badOrigin"`
	Refused        bool   `json:"refused"`
	RefusedMessage string `json:"refusedMessage"`
}

// tBody is a body or a frame.
type tBody struct {
	Conn    uint64  `json:"conn"`
	Session *int    `json:"session"`
	Binary  bool    `json:"binary"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
	Status  string  `json:"status"`
}

type tClosed struct {
	Conn    uint64 `json:"conn"`
	Session *int   `json:"session"`
	Errored bool   `json:"errored"`
}

// tSend is an Engine.IO send (binary, data|hex) or a Socket.IO one (nsp,
// text, attachments, volatile).
type tSend struct {
	Session     *int     `json:"session"`
	Binary      bool     `json:"binary"`
	Data        *string  `json:"data"`
	Hex         *string  `json:"hex"`
	Nsp         string   `json:"nsp"`
	Text        string   `json:"text"`
	Attachments []string `json:"attachments"`
	Volatile    bool     `json:"volatile"`
}

// tClose is a close, a closeAll or a leave.
type tClose struct {
	Session *int   `json:"session"`
	Reason  string `json:"reason"`
	Nsp     string `json:"nsp"`
}

type tAccept struct {
	Session *int   `json:"session"`
	Nsp     string `json:"nsp"`
	SID     string `json:"sid"`
	PID     string `json:"pid"`
}

type tRefuse struct {
	Session *int    `json:"session"`
	Nsp     string  `json:"nsp"`
	Message string  `json:"message"`
	Data    *string `json:"data"`
}

type tEffect struct {
	Kind string `json:"kind"`
}

var kindNames = map[eio.EffectKind]string{
	eio.EffRespond: "respond", eio.EffReadBody: "readBody", eio.EffAccept: "accept", eio.EffReject: "reject",
	eio.EffWrite: "write", eio.EffCloseConn: "closeConn", eio.EffOpen: "open", eio.EffMessage: "message",
	eio.EffUpgrade: "upgrade", eio.EffClose: "close", eio.EffError: "error",
	sio.EffConnect: "connect", sio.EffEvent: "event", sio.EffAck: "ack", sio.EffDisconnect: "disconnect",
}

var bodyStatuses = map[string]eio.BodyStatus{
	"": eio.BodyOK, "ok": eio.BodyOK, "tooLarge": eio.BodyTooLarge, "timeout": eio.BodyTimeout, "aborted": eio.BodyAborted,
}

func TestReplayTranscripts(t *testing.T) {
	mod := module(t)
	for _, set := range []struct {
		dir      string
		socketIO bool
	}{{"sessions", false}, {"sio_sessions", true}} {
		files, err := filepath.Glob(filepath.Join("..", "core", "testdata", set.dir, "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, f := range files {
			name := filepath.Base(f)
			t.Run(set.dir+"/"+name[:len(name)-len(".json")], func(t *testing.T) {
				tr := loadTranscript(t, f)
				tr.socketIO = set.socketIO
				newReplay(t, mod, tr).run()
			})
		}
	}
}

func loadTranscript(t *testing.T, path string) *transcript {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var tr transcript
	require.NoError(t, json.Unmarshal(raw, &tr), "decoding %s", path)
	require.NotEmpty(t, tr.Steps)
	return &tr
}

// replay drives the three cores through one transcript.
type replay struct {
	t  *testing.T
	tr *transcript

	e *eio.Server // native, direct
	s *sio.Server

	core *abi.Core // native, through the ABI
	enc  abi.Encoder
	buf  []byte
	out  abi.Output

	wasm *Instance

	conns   map[uint64]eio.Handle
	handles []eio.Handle // handles[n] is session n
	sids    []string
	effects int // effects compared
}

// randomBytes returns the transcript's random source, as the core's
// transcript tests define it: config.random's entries in order, or else
// call k (from 1) gets bytes all equal to k. Session ids take 15 bytes.
func randomBytes(t *testing.T, c tConfig) (func([]byte), []byte) {
	var pool []byte
	if c.Random != nil {
		for _, h := range c.Random {
			v, err := hex.DecodeString(h)
			require.NoError(t, err)
			pool = append(pool, v...)
		}
	} else {
		for k := 1; k <= 255; k++ {
			pool = append(pool, bytes.Repeat([]byte{byte(k)}, 15)...)
		}
	}
	native := pool
	return func(b []byte) {
		require.GreaterOrEqual(t, len(native), len(b), "the transcript's random bytes ran out")
		n := copy(b, native)
		native = native[n:]
	}, pool
}

func newReplay(t *testing.T, mod *Module, tr *transcript) *replay {
	c := tr.Config
	random, pool := randomBytes(t, c)
	ecfg := eio.DefaultConfig(random)
	if c.PingInterval != 0 {
		ecfg.PingInterval = c.PingInterval
	}
	if c.PingTimeout != 0 {
		ecfg.PingTimeout = c.PingTimeout
	}
	if c.UpgradeTimeout != 0 {
		ecfg.UpgradeTimeout = c.UpgradeTimeout
	}
	if c.MaxPayload != 0 {
		ecfg.MaxPayload = c.MaxPayload
	}
	ecfg.AllowEIO3 = c.AllowEIO3
	if c.AllowUpgrades != nil {
		ecfg.AllowUpgrades = *c.AllowUpgrades
	}
	if c.Transports != nil {
		ecfg.Transports = 0
		for _, name := range c.Transports {
			switch name {
			case "polling":
				ecfg.Transports |= eio.TransportPolling
			case "websocket":
				ecfg.Transports |= eio.TransportWebSocket
			default:
				t.Fatalf("unknown transport %q", name)
			}
		}
	}
	if c.IDPrefix != "" {
		ecfg.IDPrefix = c.IDPrefix[0]
	}

	r := &replay{t: t, tr: tr, conns: make(map[uint64]eio.Handle), handles: []eio.Handle{0}, sids: []string{""}}
	r.e = eio.NewServer(ecfg)
	if tr.socketIO {
		r.s = sio.NewServer(r.e, sio.Config{ConnectTimeout: c.ConnectTimeout})
	}

	var acfg abi.Config
	acfg.SetEngine(ecfg)
	acfg.SocketIO = tr.socketIO
	acfg.ConnectTimeout = c.ConnectTimeout
	acfg.Entropy = pool
	acfg.Random = abi.RandomSeeded // never reached: the pool lasts
	var err error
	r.core, err = abi.New(acfg, nil)
	require.NoError(t, err)
	r.wasm, err = mod.NewInstance(context.Background(), acfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.wasm.Close() })
	return r
}

func (r *replay) run() {
	for i := range r.tr.Steps {
		r.step(i, &r.tr.Steps[i])
	}
	require.Positive(r.t, r.effects, "the transcript produced no effect")
}

var sidRef = regexp.MustCompile(`\$sid([0-9]*)`)

func (r *replay) expand(s string) string {
	return sidRef.ReplaceAllStringFunc(s, func(m string) string {
		n := len(r.sids) - 1
		if len(m) > len("$sid") {
			n, _ = strconv.Atoi(m[len("$sid"):])
		}
		if n <= 0 || n >= len(r.sids) {
			return m
		}
		return r.sids[n]
	})
}

func (r *replay) bytesOf(data, hx *string) []byte {
	switch {
	case hx != nil:
		b, err := hex.DecodeString(*hx)
		require.NoError(r.t, err)
		return b
	case data != nil:
		return []byte(*data)
	}
	return nil
}

func (r *replay) session(n *int) eio.Handle {
	if n == nil {
		return r.handles[len(r.handles)-1]
	}
	require.Less(r.t, *n, len(r.handles))
	return r.handles[*n]
}

func (r *replay) connSession(conn uint64, n *int) eio.Handle {
	if n != nil {
		return r.session(n)
	}
	return r.conns[conn]
}

// flat is an effect copied out of the buffers it aliases.
type flat struct {
	Kind        eio.EffectKind
	Binary      bool
	Content     eio.Content
	Session     eio.Handle
	Status      int
	Conn        uint64
	Prefix      []byte
	Data        []byte
	Text, Desc  string
	Nsp         string
	ID          int64
	Attachments [][]byte
}

func flatten(effs []eio.Effect) []flat {
	out := make([]flat, len(effs))
	for i, e := range effs {
		f := flat{Kind: e.Kind, Binary: e.Binary, Content: e.Content, Session: e.Session, Status: e.Status,
			Conn: e.Conn, Prefix: clone(e.Prefix), Data: clone(e.Data), Text: e.Text, Desc: e.Desc, Nsp: e.Nsp, ID: e.ID}
		if e.Attachments != nil {
			f.Attachments = make([][]byte, len(e.Attachments))
			for k, a := range e.Attachments {
				f.Attachments[k] = clone(a)
			}
		}
		out[i] = f
	}
	return out
}

// viaABI runs the encoder's one record through the native abi.Core.
func (r *replay) viaABI(now int64) ([]flat, int64) {
	var err error
	r.buf, err = r.core.Process(r.buf, now, r.enc.Bytes(), r.enc.Len())
	require.NoError(r.t, err)
	require.NoError(r.t, r.out.Decode(r.buf))
	require.Len(r.t, r.out.Results, 1)
	require.Equal(r.t, len(r.out.Effects), r.out.Results[0].End)
	return flatten(r.out.Effects), r.out.Results[0].Value
}

func (r *replay) step(i int, st *tStep) {
	t := r.t
	where := "step " + strconv.Itoa(i)
	if st.Comment != "" {
		where += " (" + st.Comment + ")"
	}
	e, s, w, now := r.e, r.s, r.wasm, st.Now
	r.enc.Reset()
	var native, wasm []eio.Effect
	var nativeResult, wasmResult int64 // handles, or 1/0
	var err error
	switch {
	case st.Request != nil:
		q := st.Request
		req := eio.Request{Conn: q.Conn, Method: q.Method, EIO: q.EIO, Transport: q.Transport,
			SID: r.expand(q.SID), B64: q.B64, Upgrade: q.Upgrade, Binary: q.Binary,
			Origin: q.Origin, BadOrigin: q.BadOrigin, Refused: q.Refused, RefusedMessage: q.RefusedMessage}
		h := e.Request(now, &req)
		r.conns[q.Conn] = h
		nativeResult = int64(h)
		r.enc.Request(&req)
		var wh eio.Handle
		wh, wasm, err = w.Request(now, &req)
		wasmResult = int64(wh)
	case st.Body != nil:
		b := st.Body
		status, ok := bodyStatuses[b.Status]
		require.True(t, ok, "%s: body status %q", where, b.Status)
		h, data := r.connSession(b.Conn, b.Session), r.bytesOf(b.Data, b.Hex)
		e.Body(now, b.Conn, h, data, status)
		r.enc.Body(b.Conn, h, data, status)
		wasm, err = w.Body(now, b.Conn, h, data, status)
	case st.Frame != nil:
		f := st.Frame
		h, data := r.connSession(f.Conn, f.Session), r.bytesOf(f.Data, f.Hex)
		e.Frame(now, f.Conn, h, f.Binary, data)
		r.enc.Frame(f.Conn, h, f.Binary, data)
		wasm, err = w.Frame(now, f.Conn, h, f.Binary, data)
	case st.Closed != nil:
		c := st.Closed
		h := r.connSession(c.Conn, c.Session)
		e.ConnClosed(now, c.Conn, h, c.Errored)
		r.enc.ConnClosed(c.Conn, h, c.Errored)
		wasm, err = w.ConnClosed(now, c.Conn, h, c.Errored)
	case st.Send != nil && !r.tr.socketIO:
		m := st.Send
		h, data := r.session(m.Session), r.bytesOf(m.Data, m.Hex)
		nativeResult = b2i(e.Send(now, h, m.Binary, data))
		r.enc.Send(h, m.Binary, data)
		var ok bool
		ok, wasm, err = w.Send(now, h, m.Binary, data)
		wasmResult = b2i(ok)
	case st.Send != nil:
		m := st.Send
		h := r.session(m.Session)
		var atts [][]byte
		if m.Attachments != nil {
			for _, a := range m.Attachments {
				atts = append(atts, r.bytesOf(nil, &a))
			}
		}
		nativeResult = b2i(s.Send(now, h, m.Nsp, []byte(m.Text), atts, m.Volatile))
		r.enc.Emit(h, m.Nsp, []byte(m.Text), atts, m.Volatile)
		var ok bool
		ok, wasm, err = w.Emit(now, h, m.Nsp, []byte(m.Text), atts, m.Volatile)
		wasmResult = b2i(ok)
	case st.Close != nil:
		h := r.session(st.Close.Session)
		e.CloseSession(now, h, st.Close.Reason)
		r.enc.CloseSession(h, st.Close.Reason, "")
		wasm, err = w.CloseSession(now, h, st.Close.Reason, "")
	case st.CloseAll != nil:
		e.CloseAll(now, st.CloseAll.Reason)
		r.enc.CloseAll(st.CloseAll.Reason)
		wasm, err = w.CloseAll(now, st.CloseAll.Reason)
	case st.Tick != nil:
		e.Tick(now)
		r.enc.Tick()
		wasm, err = w.Tick(now)
	case st.Accept != nil:
		a := st.Accept
		h := r.session(a.Session)
		nativeResult = b2i(s.Accept(now, h, a.Nsp, a.SID, a.PID))
		r.enc.Accept(h, a.Nsp, a.SID, a.PID)
		var ok bool
		ok, wasm, err = w.Accept(now, h, a.Nsp, a.SID, a.PID)
		wasmResult = b2i(ok)
	case st.Refuse != nil:
		f := st.Refuse
		h := r.session(f.Session)
		var data []byte
		if f.Data != nil {
			data = []byte(*f.Data)
		}
		s.Refuse(now, h, f.Nsp, f.Message, data)
		r.enc.Refuse(h, f.Nsp, f.Message, data)
		wasm, err = w.Refuse(now, h, f.Nsp, f.Message, data)
	case st.Leave != nil:
		h := r.session(st.Leave.Session)
		nativeResult = b2i(s.Leave(now, h, st.Leave.Nsp))
		r.enc.Leave(h, st.Leave.Nsp)
		var ok bool
		ok, wasm, err = w.Leave(now, h, st.Leave.Nsp)
		wasmResult = b2i(ok)
	default:
		t.Fatalf("%s: no input", where)
	}
	require.NoError(t, err, where)
	native = e.Effects()
	want := flatten(native)
	got := flatten(wasm)
	viaABI, abiResult := r.viaABI(now)
	require.Equal(t, want, viaABI, "%s: effects through the native abi.Core", where)
	require.Equal(t, want, got, "%s: effects through the WebAssembly module", where)
	require.Equal(t, nativeResult, abiResult, "%s: result through the native abi.Core", where)
	require.Equal(t, nativeResult, wasmResult, "%s: result through the WebAssembly module", where)
	r.effects += len(want)

	// The transcript's expected kinds, so that a replay gone astray shows.
	var kinds, wantKinds []string
	for _, ef := range native {
		kinds = append(kinds, kindNames[ef.Kind])
	}
	for _, ef := range st.Expect {
		wantKinds = append(wantKinds, ef.Kind)
	}
	require.Equal(t, wantKinds, kinds, "%s: the native core strayed from the transcript", where)

	for _, ef := range native {
		if ef.Kind == eio.EffOpen {
			r.handles = append(r.handles, ef.Session)
			r.sids = append(r.sids, e.SID(ef.Session))
		}
	}

	at, ok := e.NextDeadline()
	wat, wok, err := w.NextDeadline()
	require.NoError(t, err)
	require.Equal(t, []any{ok, at}, []any{wok, wat}, "%s: next deadline", where)
	require.Equal(t, []any{ok, at}, []any{r.out.HasDeadline, r.out.Deadline}, "%s: deadline of the output", where)
	n, err := w.Len()
	require.NoError(t, err)
	require.Equal(t, e.Len(), n, "%s: open sessions", where)
	for k, h := range r.handles[1:] {
		info, err := w.Info(h)
		require.NoError(t, err)
		want := Info{Protocol: e.Protocol(h)}
		if want.Protocol != 0 {
			want.SID, want.Transport = e.SID(h), e.TransportName(h)
			if s != nil {
				want.Namespaces = s.Namespaces(h)
			}
		}
		require.Equal(t, want, info, "%s: session %d", where, k+1)
	}
}

func b2i(v bool) int64 {
	if v {
		return 1
	}
	return 0
}
