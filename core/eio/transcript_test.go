package eio

// Session transcripts: whole Engine.IO sessions stored as data in
// core/testdata/sessions/*.json and replayed against the Server with an
// injected clock. The format is plain JSON so that any host of the core (the
// WebAssembly build included) can replay the same files:
//
//	{
//	  "description": "what the transcript proves",
//	  "config": {
//	    "pingInterval": 300, "pingTimeout": 200, "upgradeTimeout": 1000,
//	    "maxPayload": 1000000,            // missing or 0: the reference defaults
//	    "allowEIO3": false,
//	    "allowUpgrades": true,            // default true
//	    "transports": ["polling", "websocket"],  // default both
//	    "random": ["hex", ...],           // optional, see below
//	    "idPrefix": "Z"                   // optional
//	  },
//	  "steps": [ { "now": 0, <one input>, "result": ..., "expect": [...],
//	               "deadline": 300, "open": 1 }, ... ]
//	}
//
// Randomness: the core asks the host for random bytes (15 per session id).
// When "random" is given, its hex strings are handed out in order, one per
// call, and must have the requested length. Otherwise call k (from 1) gets
// every byte equal to k, so the first session id is "AQEBAQEBAQEBAQEBAQEB",
// the second "AgICAgICAgICAgICAgIC", the third "AwMDAwMDAwMDAwMDAwMD".
//
// Sessions are numbered 1, 2, ... in the order of their "open" effects.
// "$sid" stands for the id of the last session opened and "$sidN" for the id
// of session N; both are expanded in request.sid and in the data, text and
// desc of expected effects.
//
// Each step has a time "now" (milliseconds) and exactly one input:
//
//	"request":  {"conn", "method", "eio", "transport", "sid", "b64",
//	             "upgrade", "binary", "origin", "badOrigin", "refused",
//	             "refusedMessage"}                      Server.Request
//	"body":     {"conn", "data"|"hex", "status": "ok"|"tooLarge"|"timeout"|
//	             "aborted"}                             Server.Body
//	"frame":    {"conn", "binary", "data"|"hex"}        Server.Frame
//	"closed":   {"conn", "errored"}                     Server.ConnClosed
//	"send":     {"session", "binary", "data"|"hex"}     Server.Send
//	"close":    {"session", "reason"}                   Server.CloseSession
//	"closeAll": {"reason"}                              Server.CloseAll
//	"tick":     {}                                      Server.Tick
//
// body, frame and closed address the session that the request of the same
// conn was attached to (the handle Request returned for it; 0 when it was
// refused), unless "session" names one explicitly. send and close default
// to the last session opened.
//
// "result" checks the return value: for a request the number of the session
// the request was attached to (0 when refused), for send a boolean.
// "expect" lists every effect the step produces, in order; a missing list
// means none. An effect is {"kind", "conn", "session", "status", "content",
// "binary", "prefix"|"prefixHex", "data"|"hex", "text", "desc"}: kind is one
// of respond, readBody, accept, reject, write, closeConn, open, message,
// upgrade, close, error; content one of text, binary, html, json; session is
// the session number (absent: the effect names no session). Absent fields
// are zero and all fields are compared. "deadline" checks NextDeadline after
// the step (null: no timer pending) and "open" checks Len().

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

type transcript struct {
	Description string  `json:"description"`
	Config      tConfig `json:"config"`
	Steps       []tStep `json:"steps"`
	Notes       any     `json:"notes"`
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
}

type tStep struct {
	Now      int64           `json:"now"`
	Comment  string          `json:"comment"`
	Request  *tRequest       `json:"request"`
	Body     *tBody          `json:"body"`
	Frame    *tFrame         `json:"frame"`
	Closed   *tClosed        `json:"closed"`
	Send     *tSend          `json:"send"`
	Close    *tClose         `json:"close"`
	CloseAll *tClose         `json:"closeAll"`
	Tick     *struct{}       `json:"tick"`
	Result   json.RawMessage `json:"result"`
	Expect   []tEffect       `json:"expect"`
	Deadline json.RawMessage `json:"deadline"`
	Open     *int            `json:"open"`
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

type tBody struct {
	Conn    uint64  `json:"conn"`
	Session *int    `json:"session"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
	Status  string  `json:"status"`
}

type tFrame struct {
	Conn    uint64  `json:"conn"`
	Session *int    `json:"session"`
	Binary  bool    `json:"binary"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
}

type tClosed struct {
	Conn    uint64 `json:"conn"`
	Session *int   `json:"session"`
	Errored bool   `json:"errored"`
}

type tSend struct {
	Session *int    `json:"session"`
	Binary  bool    `json:"binary"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
}

type tClose struct {
	Session *int   `json:"session"`
	Reason  string `json:"reason"`
}

type tEffect struct {
	Kind      string  `json:"kind"`
	Conn      uint64  `json:"conn"`
	Session   int     `json:"session"`
	Status    int     `json:"status"`
	Content   string  `json:"content"`
	Binary    bool    `json:"binary"`
	Prefix    *string `json:"prefix"`
	PrefixHex *string `json:"prefixHex"`
	Data      *string `json:"data"`
	Hex       *string `json:"hex"`
	Text      string  `json:"text"`
	Desc      string  `json:"desc"`
}

// flatEffect is the comparable form of an effect: byte fields are quoted so
// that a mismatch prints readably.
type flatEffect struct {
	Kind    string
	Conn    uint64
	Session int
	Status  int
	Content string
	Binary  bool
	Prefix  string
	Data    string
	Text    string
	Desc    string
}

var kindNames = map[EffectKind]string{
	EffRespond:   "respond",
	EffReadBody:  "readBody",
	EffAccept:    "accept",
	EffReject:    "reject",
	EffWrite:     "write",
	EffCloseConn: "closeConn",
	EffOpen:      "open",
	EffMessage:   "message",
	EffUpgrade:   "upgrade",
	EffClose:     "close",
	EffError:     "error",
}

var contentNames = map[Content]string{
	ContentNone:   "",
	ContentText:   "text",
	ContentBinary: "binary",
	ContentHTML:   "html",
	ContentJSON:   "json",
}

var bodyStatuses = map[string]BodyStatus{
	"":         BodyOK,
	"ok":       BodyOK,
	"tooLarge": BodyTooLarge,
	"timeout":  BodyTimeout,
	"aborted":  BodyAborted,
}

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "sessions", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name[:len(name)-len(".json")], func(t *testing.T) {
			replayFile(t, f)
		})
	}
}

func loadTranscript(t *testing.T, path string) *transcript {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var tr transcript
	require.NoError(t, dec.Decode(&tr), "decoding %s", path)
	return &tr
}

// replayer holds the host-side bookkeeping of one replay.
type replayer struct {
	t       *testing.T
	s       *Server
	conns   map[uint64]Handle // handle each request conn was attached to
	ords    map[Handle]int    // session number of each handle
	handles []Handle          // handles[n] is session n
	sids    []string          // sids[n] is the id of session n
}

func newTranscriptConfig(t *testing.T, c tConfig) Config {
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
	cfg := DefaultConfig(random)
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
				cfg.Transports |= TransportPolling
			case "websocket":
				cfg.Transports |= TransportWebSocket
			default:
				t.Fatalf("unknown transport %q in config", name)
			}
		}
	}
	if c.IDPrefix != "" {
		require.Len(t, c.IDPrefix, 1)
		cfg.IDPrefix = c.IDPrefix[0]
	}
	return cfg
}

func replayFile(t *testing.T, path string) {
	tr := loadTranscript(t, path)
	require.NotEmpty(t, tr.Description, "a transcript says what it proves")
	r := &replayer{
		t:       t,
		s:       NewServer(newTranscriptConfig(t, tr.Config)),
		conns:   make(map[uint64]Handle),
		ords:    make(map[Handle]int),
		handles: []Handle{0},
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

var sidRef = regexp.MustCompile(`\$sid([0-9]*)`)

func (r *replayer) expand(s string) string {
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

func (r *replayer) bytesOf(where string, data, hx *string) []byte {
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

func (r *replayer) session(where string, n *int) Handle {
	r.t.Helper()
	if n == nil {
		return r.handles[len(r.handles)-1]
	}
	require.Less(r.t, *n, len(r.handles), "%s: no session %d yet", where, *n)
	return r.handles[*n]
}

func (r *replayer) connSession(where string, conn uint64, n *int) Handle {
	if n != nil {
		return r.session(where, n)
	}
	return r.conns[conn]
}

func (r *replayer) step(i int, st *tStep) {
	t := r.t
	where := "step " + strconv.Itoa(i)
	if st.Comment != "" {
		where += " (" + st.Comment + ")"
	}
	inputs := 0
	for _, set := range []bool{st.Request != nil, st.Body != nil, st.Frame != nil, st.Closed != nil,
		st.Send != nil, st.Close != nil, st.CloseAll != nil, st.Tick != nil} {
		if set {
			inputs++
		}
	}
	require.Equal(t, 1, inputs, "%s: a step has exactly one input", where)

	s, now := r.s, st.Now
	var result any
	switch {
	case st.Request != nil:
		q := st.Request
		h := s.Request(now, &Request{
			Conn: q.Conn, Method: q.Method, EIO: q.EIO, Transport: q.Transport,
			SID: r.expand(q.SID), B64: q.B64, Upgrade: q.Upgrade, Binary: q.Binary,
			Origin: q.Origin, BadOrigin: q.BadOrigin, Refused: q.Refused, RefusedMessage: q.RefusedMessage,
		})
		r.conns[q.Conn] = h
		result = h
	case st.Body != nil:
		b := st.Body
		status, ok := bodyStatuses[b.Status]
		require.True(t, ok, "%s: unknown body status %q", where, b.Status)
		s.Body(now, b.Conn, r.connSession(where, b.Conn, b.Session), r.bytesOf(where, b.Data, b.Hex), status)
	case st.Frame != nil:
		f := st.Frame
		s.Frame(now, f.Conn, r.connSession(where, f.Conn, f.Session), f.Binary, r.bytesOf(where, f.Data, f.Hex))
	case st.Closed != nil:
		c := st.Closed
		s.ConnClosed(now, c.Conn, r.connSession(where, c.Conn, c.Session), c.Errored)
	case st.Send != nil:
		result = s.Send(now, r.session(where, st.Send.Session), st.Send.Binary, r.bytesOf(where, st.Send.Data, st.Send.Hex))
	case st.Close != nil:
		s.CloseSession(now, r.session(where, st.Close.Session), st.Close.Reason)
	case st.CloseAll != nil:
		s.CloseAll(now, st.CloseAll.Reason)
	case st.Tick != nil:
		s.Tick(now)
	}

	// Number the sessions opened by this step before reading the effects,
	// so that "$sid" in the expectations can name them.
	effects := s.Effects()
	for _, e := range effects {
		if e.Kind == EffOpen {
			r.ords[e.Session] = len(r.handles)
			r.handles = append(r.handles, e.Session)
			r.sids = append(r.sids, s.SID(e.Session))
		}
	}
	got := make([]flatEffect, len(effects))
	for k, e := range effects {
		got[k] = r.flatten(e)
	}
	want := make([]flatEffect, len(st.Expect))
	for k := range st.Expect {
		want[k] = r.expected(where, &st.Expect[k])
	}
	require.Equal(t, want, got, "%s: effects", where)

	if st.Result != nil {
		switch v := result.(type) {
		case Handle:
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
		at, ok := s.NextDeadline()
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
		require.Equal(t, *st.Open, s.Len(), "%s: open sessions", where)
	}
}

func (r *replayer) ordinal(h Handle) int {
	if h == 0 {
		return 0
	}
	if n, ok := r.ords[h]; ok {
		return n
	}
	return -int(h) // a handle no "open" effect announced
}

func (r *replayer) flatten(e Effect) flatEffect {
	kind, ok := kindNames[e.Kind]
	if !ok {
		kind = "kind" + strconv.Itoa(int(e.Kind))
	}
	return flatEffect{
		Kind: kind, Conn: e.Conn, Session: r.ordinal(e.Session), Status: e.Status,
		Content: contentNames[e.Content], Binary: e.Binary,
		Prefix: strconv.Quote(string(e.Prefix)), Data: strconv.Quote(string(e.Data)),
		Text: e.Text, Desc: e.Desc,
	}
}

func (r *replayer) expected(where string, e *tEffect) flatEffect {
	var data []byte
	switch {
	case e.Data != nil && e.Hex != nil:
		r.t.Fatalf("%s: both data and hex given", where)
	case e.Data != nil:
		data = []byte(r.expand(*e.Data))
	case e.Hex != nil:
		data = r.bytesOf(where, nil, e.Hex)
	}
	return flatEffect{
		Kind: e.Kind, Conn: e.Conn, Session: e.Session, Status: e.Status, Content: e.Content, Binary: e.Binary,
		Prefix: strconv.Quote(string(r.bytesOf(where, e.Prefix, e.PrefixHex))), Data: strconv.Quote(string(data)),
		Text: r.expand(e.Text), Desc: r.expand(e.Desc),
	}
}
