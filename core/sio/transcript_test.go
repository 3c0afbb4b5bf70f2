package sio

// Socket.IO session transcripts: whole connections stored as data in
// core/testdata/sio_sessions/*.json and replayed against a Server layered on
// an eio.Server, with an injected clock. They extend the Engine.IO
// transcripts (core/testdata/sessions, see core/eio/transcript_test.go) and
// keep their field names, so that any host of the core (the WebAssembly
// build included) can replay both with one reader:
//
//	{
//	  "description": "what the transcript proves",
//	  "config": {
//	    "pingInterval": 300, "pingTimeout": 200, "upgradeTimeout": 1000,
//	    "maxPayload": 1000000,            // missing or 0: the reference defaults
//	    "allowEIO3": false,
//	    "allowUpgrades": true,            // default true
//	    "transports": ["polling", "websocket"],  // default both
//	    "random": ["hex", ...],           // optional, as for Engine.IO
//	    "idPrefix": "Z",                  // optional
//	    "connectTimeout": 45000           // missing or 0: 45000
//	  },
//	  "steps": [ { "now": 0, <one input>, "result": ..., "expect": [...],
//	               "deadline": 300, "open": 1, "joined": {"1": ["/"]} }, ... ]
//	}
//
// Randomness and session numbering are those of the Engine.IO transcripts:
// without "random", call k (from 1) of the random source gets every byte
// equal to k, so the first session id is "AQEBAQEBAQEBAQEBAQEB"; sessions
// are numbered 1, 2, ... in the order of their "open" effects; "$sid" is
// the id of the last session opened and "$sidN" that of session N, expanded
// in request.sid and in the data, text and desc of expected effects.
//
// Each step has a time "now" (milliseconds) and exactly one input. The
// Engine.IO inputs:
//
//	"request":  {"conn", "method", "eio", "transport", "sid", "b64",
//	             "upgrade", "binary", "origin", "badOrigin", "refused",
//	             "refusedMessage"}                      eio.Server.Request
//	"body":     {"conn", "session", "data"|"hex", "status": "ok"|"tooLarge"|
//	             "timeout"|"aborted"}                   eio.Server.Body
//	"frame":    {"conn", "session", "binary", "data"|"hex"}  eio.Server.Frame
//	"closed":   {"conn", "session", "errored"}          eio.Server.ConnClosed
//	"close":    {"session", "reason"}                   eio.Server.CloseSession
//	"closeAll": {"reason"}                              eio.Server.CloseAll
//	"tick":     {}                                      eio.Server.Tick
//
// body, frame and closed address the session that the request of the same
// conn was attached to, unless "session" names one. The host commands of
// the Socket.IO layer (session defaults to the last one opened):
//
//	"accept": {"session", "nsp", "sid", "pid"}          Server.Accept
//	"refuse": {"session", "nsp", "message", "data"}     Server.Refuse
//	"send":   {"session", "nsp", "text", "attachments", "volatile"}
//	                                                    Server.Send
//	"leave":  {"session", "nsp"}                        Server.Leave
//
// refuse.data is the JSON text of the error's data, as a string (absent or
// null: none). send.text is the text part of an encoded packet (without
// the Engine.IO prefix 4) and send.attachments its binary parts as hex
// strings.
//
// "result" checks the return value: for a request the number of the
// session the request was attached to (0 when refused); for accept, send
// and leave a boolean. "expect" lists every effect the step produces, in
// order; a missing list means none. An effect is {"kind", "conn",
// "session", "status", "content", "binary", "prefix"|"prefixHex",
// "data"|"hex", "text", "desc", "nsp", "id", "attachments"}. kind is one of
// the Engine.IO kinds (respond, readBody, accept, reject, write, closeConn,
// open, message, upgrade, close, error) or a Socket.IO one:
//
//	connect     nsp, data: the auth JSON (absent when the CONNECT had none),
//	            text: a v2 client's namespace query string
//	event       nsp, data: the raw JSON array, id, attachments
//	ack         nsp, data: the raw JSON array, id, attachments
//	disconnect  nsp, text: the reason
//
// attachments is a list of hex strings. id is the ack id; when absent it is
// -1 for the Socket.IO kinds and 0 for the Engine.IO ones. Other absent
// fields are zero, and all fields are compared. "deadline" checks
// NextDeadline after the step (null: no timer pending), "open" checks
// Len(), and "joined" maps session numbers to the namespaces the session
// has joined (Server.Namespaces, in joining order).

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

type sioTranscript struct {
	Description string     `json:"description"`
	Config      sioTConfig `json:"config"`
	Steps       []sioTStep `json:"steps"`
	Notes       any        `json:"notes"`
}

type sioTConfig struct {
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

type sioTStep struct {
	Now      int64               `json:"now"`
	Comment  string              `json:"comment"`
	Request  *sioTRequest        `json:"request"`
	Body     *sioTBody           `json:"body"`
	Frame    *sioTFrame          `json:"frame"`
	Closed   *sioTClosed         `json:"closed"`
	Close    *sioTClose          `json:"close"`
	CloseAll *sioTClose          `json:"closeAll"`
	Tick     *struct{}           `json:"tick"`
	Accept   *sioTAccept         `json:"accept"`
	Refuse   *sioTRefuse         `json:"refuse"`
	Send     *sioTSend           `json:"send"`
	Leave    *sioTLeave          `json:"leave"`
	Result   json.RawMessage     `json:"result"`
	Expect   []sioTEffect        `json:"expect"`
	Deadline json.RawMessage     `json:"deadline"`
	Open     *int                `json:"open"`
	Joined   map[string][]string `json:"joined"`
}

type sioTRequest struct {
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

type sioTBody struct {
	Conn    uint64  `json:"conn"`
	Session *int    `json:"session"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
	Status  string  `json:"status"`
}

type sioTFrame struct {
	Conn    uint64  `json:"conn"`
	Session *int    `json:"session"`
	Binary  bool    `json:"binary"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
}

type sioTClosed struct {
	Conn    uint64 `json:"conn"`
	Session *int   `json:"session"`
	Errored bool   `json:"errored"`
}

type sioTClose struct {
	Session *int   `json:"session"`
	Reason  string `json:"reason"`
}

type sioTAccept struct {
	Session *int   `json:"session"`
	Nsp     string `json:"nsp"`
	SID     string `json:"sid"`
	PID     string `json:"pid"`
}

type sioTRefuse struct {
	Session *int    `json:"session"`
	Nsp     string  `json:"nsp"`
	Message string  `json:"message"`
	Data    *string `json:"data"`
}

type sioTSend struct {
	Session     *int     `json:"session"`
	Nsp         string   `json:"nsp"`
	Text        string   `json:"text"`
	Attachments []string `json:"attachments"`
	Volatile    bool     `json:"volatile"`
}

type sioTLeave struct {
	Session *int   `json:"session"`
	Nsp     string `json:"nsp"`
}

type sioTEffect struct {
	Kind        string   `json:"kind"`
	Conn        uint64   `json:"conn"`
	Session     int      `json:"session"`
	Status      int      `json:"status"`
	Content     string   `json:"content"`
	Binary      bool     `json:"binary"`
	Prefix      *string  `json:"prefix"`
	PrefixHex   *string  `json:"prefixHex"`
	Data        *string  `json:"data"`
	Hex         *string  `json:"hex"`
	Text        string   `json:"text"`
	Desc        string   `json:"desc"`
	Nsp         string   `json:"nsp"`
	ID          *int64   `json:"id"`
	Attachments []string `json:"attachments"`
}

// sioFlat is the comparable form of an effect: byte fields are quoted so
// that a mismatch prints readably.
type sioFlat struct {
	Kind        string
	Conn        uint64
	Session     int
	Status      int
	Content     string
	Binary      bool
	Prefix      string
	Data        string
	Text        string
	Desc        string
	Nsp         string
	ID          int64
	Attachments []string
}

var sioKindNames = map[eio.EffectKind]string{
	eio.EffRespond:   "respond",
	eio.EffReadBody:  "readBody",
	eio.EffAccept:    "accept",
	eio.EffReject:    "reject",
	eio.EffWrite:     "write",
	eio.EffCloseConn: "closeConn",
	eio.EffOpen:      "open",
	eio.EffMessage:   "message",
	eio.EffUpgrade:   "upgrade",
	eio.EffClose:     "close",
	eio.EffError:     "error",
	EffConnect:       "connect",
	EffEvent:         "event",
	EffAck:           "ack",
	EffDisconnect:    "disconnect",
}

// sioKinds are the effect kinds whose absent id means -1.
var sioKinds = map[string]bool{"connect": true, "event": true, "ack": true, "disconnect": true}

var sioContentNames = map[eio.Content]string{
	eio.ContentNone:   "",
	eio.ContentText:   "text",
	eio.ContentBinary: "binary",
	eio.ContentHTML:   "html",
	eio.ContentJSON:   "json",
}

var sioBodyStatuses = map[string]eio.BodyStatus{
	"":         eio.BodyOK,
	"ok":       eio.BodyOK,
	"tooLarge": eio.BodyTooLarge,
	"timeout":  eio.BodyTimeout,
	"aborted":  eio.BodyAborted,
}

const sioSessionGlob = "../testdata/sio_sessions/*.json"

func TestSessionTranscripts(t *testing.T) {
	files, err := filepath.Glob(sioSessionGlob)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name[:len(name)-len(".json")], func(t *testing.T) {
			replaySIOFile(t, f)
		})
	}
}

func loadSIOTranscript(t *testing.T, path string) *sioTranscript {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var tr sioTranscript
	require.NoError(t, dec.Decode(&tr), "decoding %s", path)
	return &tr
}

// sioReplayer holds the host-side bookkeeping of one replay.
type sioReplayer struct {
	t       *testing.T
	s       *Server
	e       *eio.Server
	conns   map[uint64]eio.Handle // handle each request conn was attached to
	ords    map[eio.Handle]int    // session number of each handle
	handles []eio.Handle          // handles[n] is session n
	sids    []string              // sids[n] is the id of session n
}

func sioTranscriptConfig(t *testing.T, c sioTConfig) (eio.Config, Config) {
	calls := 0
	random := func(b []byte) {
		calls++
		if c.Random == nil {
			for i := range b {
				b[i] = byte(calls)
			}
			return
		}
		require.LessOrEqual(t, calls, len(c.Random), "config.random exhausted")
		v, err := hex.DecodeString(c.Random[calls-1])
		require.NoError(t, err)
		require.Len(t, v, len(b), "config.random[%d] has the wrong length", calls-1)
		copy(b, v)
	}
	cfg := eio.DefaultConfig(random)
	if c.PingInterval != 0 {
		cfg.PingInterval = c.PingInterval
	}
	if c.PingTimeout != 0 {
		cfg.PingTimeout = c.PingTimeout
	}
	if c.UpgradeTimeout != 0 {
		cfg.UpgradeTimeout = c.UpgradeTimeout
	}
	if c.MaxPayload != 0 {
		cfg.MaxPayload = c.MaxPayload
	}
	cfg.AllowEIO3 = c.AllowEIO3
	if c.AllowUpgrades != nil {
		cfg.AllowUpgrades = *c.AllowUpgrades
	}
	if c.Transports != nil {
		cfg.Transports = 0
		for _, name := range c.Transports {
			switch name {
			case "polling":
				cfg.Transports |= eio.TransportPolling
			case "websocket":
				cfg.Transports |= eio.TransportWebSocket
			default:
				t.Fatalf("unknown transport %q in config", name)
			}
		}
	}
	if c.IDPrefix != "" {
		require.Len(t, c.IDPrefix, 1)
		cfg.IDPrefix = c.IDPrefix[0]
	}
	return cfg, Config{ConnectTimeout: c.ConnectTimeout}
}

func replaySIOFile(t *testing.T, path string) {
	tr := loadSIOTranscript(t, path)
	require.NotEmpty(t, tr.Description, "a transcript says what it proves")
	ecfg, scfg := sioTranscriptConfig(t, tr.Config)
	e := eio.NewServer(ecfg)
	r := &sioReplayer{
		t:       t,
		e:       e,
		s:       NewServer(e, scfg),
		conns:   make(map[uint64]eio.Handle),
		ords:    make(map[eio.Handle]int),
		handles: []eio.Handle{0},
		sids:    []string{""},
	}
	last := int64(-1 << 62)
	for i := range tr.Steps {
		st := &tr.Steps[i]
		require.GreaterOrEqual(t, st.Now, last, "step %d: time goes backwards", i)
		last = st.Now
		r.step(i, st)
	}
}

var sioSIDRef = regexp.MustCompile(`\$sid([0-9]*)`)

func (r *sioReplayer) expand(s string) string {
	return sioSIDRef.ReplaceAllStringFunc(s, func(m string) string {
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

func (r *sioReplayer) bytesOf(where string, data, hx *string) []byte {
	r.t.Helper()
	if data != nil && hx != nil {
		r.t.Fatalf("%s: both data and hex given", where)
	}
	if hx != nil {
		b, err := hex.DecodeString(*hx)
		require.NoError(r.t, err, where)
		return b
	}
	if data != nil {
		return []byte(*data)
	}
	return nil
}

func (r *sioReplayer) hexList(where string, list []string) [][]byte {
	r.t.Helper()
	if list == nil {
		return nil
	}
	out := make([][]byte, len(list))
	for i, h := range list {
		b, err := hex.DecodeString(h)
		require.NoError(r.t, err, where)
		out[i] = b
	}
	return out
}

func (r *sioReplayer) session(where string, n *int) eio.Handle {
	r.t.Helper()
	if n == nil {
		return r.handles[len(r.handles)-1]
	}
	require.Less(r.t, *n, len(r.handles), "%s: no session %d yet", where, *n)
	return r.handles[*n]
}

func (r *sioReplayer) connSession(where string, conn uint64, n *int) eio.Handle {
	if n != nil {
		return r.session(where, n)
	}
	return r.conns[conn]
}

func (r *sioReplayer) step(i int, st *sioTStep) {
	t := r.t
	where := "step " + strconv.Itoa(i)
	if st.Comment != "" {
		where += " (" + st.Comment + ")"
	}
	inputs := 0
	for _, set := range []bool{st.Request != nil, st.Body != nil, st.Frame != nil, st.Closed != nil,
		st.Close != nil, st.CloseAll != nil, st.Tick != nil,
		st.Accept != nil, st.Refuse != nil, st.Send != nil, st.Leave != nil} {
		if set {
			inputs++
		}
	}
	require.Equal(t, 1, inputs, "%s: a step has exactly one input", where)

	e, s, now := r.e, r.s, st.Now
	var result any
	switch {
	case st.Request != nil:
		q := st.Request
		h := e.Request(now, &eio.Request{
			Conn: q.Conn, Method: q.Method, EIO: q.EIO, Transport: q.Transport,
			SID: r.expand(q.SID), B64: q.B64, Upgrade: q.Upgrade, Binary: q.Binary,
			Origin: q.Origin, BadOrigin: q.BadOrigin, Refused: q.Refused, RefusedMessage: q.RefusedMessage,
		})
		r.conns[q.Conn] = h
		result = h
	case st.Body != nil:
		b := st.Body
		status, ok := sioBodyStatuses[b.Status]
		require.True(t, ok, "%s: unknown body status %q", where, b.Status)
		e.Body(now, b.Conn, r.connSession(where, b.Conn, b.Session), r.bytesOf(where, b.Data, b.Hex), status)
	case st.Frame != nil:
		f := st.Frame
		e.Frame(now, f.Conn, r.connSession(where, f.Conn, f.Session), f.Binary, r.bytesOf(where, f.Data, f.Hex))
	case st.Closed != nil:
		c := st.Closed
		e.ConnClosed(now, c.Conn, r.connSession(where, c.Conn, c.Session), c.Errored)
	case st.Close != nil:
		e.CloseSession(now, r.session(where, st.Close.Session), st.Close.Reason)
	case st.CloseAll != nil:
		e.CloseAll(now, st.CloseAll.Reason)
	case st.Tick != nil:
		e.Tick(now)
	case st.Accept != nil:
		a := st.Accept
		result = s.Accept(now, r.session(where, a.Session), a.Nsp, a.SID, a.PID)
	case st.Refuse != nil:
		f := st.Refuse
		var data []byte
		if f.Data != nil {
			data = []byte(*f.Data)
		}
		s.Refuse(now, r.session(where, f.Session), f.Nsp, f.Message, data)
	case st.Send != nil:
		m := st.Send
		result = s.Send(now, r.session(where, m.Session), m.Nsp, []byte(m.Text), r.hexList(where, m.Attachments), m.Volatile)
	case st.Leave != nil:
		result = s.Leave(now, r.session(where, st.Leave.Session), st.Leave.Nsp)
	}

	// Number the sessions opened by this step before reading the effects,
	// so that "$sid" in the expectations can name them.
	effects := e.Effects()
	for _, ef := range effects {
		if ef.Kind == eio.EffOpen {
			r.ords[ef.Session] = len(r.handles)
			r.handles = append(r.handles, ef.Session)
			r.sids = append(r.sids, e.SID(ef.Session))
		}
	}
	got := make([]sioFlat, len(effects))
	for k, ef := range effects {
		got[k] = r.flatten(ef)
	}
	want := make([]sioFlat, len(st.Expect))
	for k := range st.Expect {
		want[k] = r.expected(where, &st.Expect[k])
	}
	require.Equal(t, want, got, "%s: effects", where)

	if st.Result != nil {
		switch v := result.(type) {
		case eio.Handle:
			var n int
			require.NoError(t, json.Unmarshal(st.Result, &n), where)
			require.Equal(t, n, r.ordinal(v), "%s: session the request was attached to", where)
		case bool:
			var b bool
			require.NoError(t, json.Unmarshal(st.Result, &b), where)
			require.Equal(t, b, v, "%s: result", where)
		default:
			t.Fatalf("%s: this input has no result", where)
		}
	}
	if st.Deadline != nil {
		at, ok := e.NextDeadline()
		if string(st.Deadline) == "null" {
			require.False(t, ok, "%s: no timer should be pending, got %d", where, at)
		} else {
			want, err := strconv.ParseInt(string(st.Deadline), 10, 64)
			require.NoError(t, err, where)
			require.True(t, ok, "%s: a timer should be pending", where)
			require.Equal(t, want, at, "%s: next deadline", where)
		}
	}
	if st.Open != nil {
		require.Equal(t, *st.Open, e.Len(), "%s: open sessions", where)
	}
	for key, want := range st.Joined {
		n, err := strconv.Atoi(key)
		require.NoError(t, err, "%s: joined keys are session numbers", where)
		got := s.Namespaces(r.session(where, &n))
		if len(want) == 0 {
			require.Empty(t, got, "%s: namespaces of session %d", where, n)
		} else {
			require.Equal(t, want, got, "%s: namespaces of session %d", where, n)
		}
	}
}

func (r *sioReplayer) ordinal(h eio.Handle) int {
	if h == 0 {
		return 0
	}
	if n, ok := r.ords[h]; ok {
		return n
	}
	return -int(h) // a handle no "open" effect announced
}

func (r *sioReplayer) flatten(e eio.Effect) sioFlat {
	kind, ok := sioKindNames[e.Kind]
	if !ok {
		kind = "kind" + strconv.Itoa(int(e.Kind))
	}
	var att []string
	for _, a := range e.Attachments {
		att = append(att, hex.EncodeToString(a))
	}
	return sioFlat{
		Kind: kind, Conn: e.Conn, Session: r.ordinal(e.Session), Status: e.Status,
		Content: sioContentNames[e.Content], Binary: e.Binary,
		Prefix: strconv.Quote(string(e.Prefix)), Data: strconv.Quote(string(e.Data)),
		Text: e.Text, Desc: e.Desc, Nsp: e.Nsp, ID: e.ID, Attachments: att,
	}
}

func (r *sioReplayer) expected(where string, e *sioTEffect) sioFlat {
	var data []byte
	switch {
	case e.Data != nil && e.Hex != nil:
		r.t.Fatalf("%s: both data and hex given", where)
	case e.Data != nil:
		data = []byte(r.expand(*e.Data))
	case e.Hex != nil:
		data = r.bytesOf(where, nil, e.Hex)
	}
	id := int64(0)
	if sioKinds[e.Kind] {
		id = -1
	}
	if e.ID != nil {
		id = *e.ID
	}
	var att []string
	if len(e.Attachments) > 0 {
		att = append(att, e.Attachments...)
	}
	return sioFlat{
		Kind: e.Kind, Conn: e.Conn, Session: e.Session, Status: e.Status, Content: e.Content, Binary: e.Binary,
		Prefix: strconv.Quote(string(r.bytesOf(where, e.Prefix, e.PrefixHex))), Data: strconv.Quote(string(data)),
		Text: r.expand(e.Text), Desc: r.expand(e.Desc), Nsp: e.Nsp, ID: id, Attachments: att,
	}
}
