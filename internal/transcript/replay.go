package transcript

import (
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// Flat is the comparable form of an effect: byte fields are quoted so that
// a mismatch prints readably, and the session is its number.
type Flat struct {
	Kind        string
	Conn        uint64
	Session     int
	Status      int
	Content     string
	Binary      bool
	NoCompress  bool
	Prefix      string
	Data        string
	Text        string
	Desc        string
	Nsp         string
	ID          int64
	Attachments []string
}

// Record is what one step produced, for comparing two backends.
type Record struct {
	Result   string
	Effects  []Flat
	Deadline int64 // -1: no timer pending
	Open     int
	Sessions []string // each session's id, protocol and transport
}

// Namespacer is what a backend offers to check "joined" (abi.Native does).
type Namespacer interface {
	Namespaces(h eio.Handle) []string
}

var kindNames = map[eio.EffectKind]string{
	eio.EffRespond: "respond", eio.EffReadBody: "readBody", eio.EffAccept: "accept",
	eio.EffReject: "reject", eio.EffWrite: "write", eio.EffCloseConn: "closeConn",
	eio.EffOpen: "open", eio.EffMessage: "message", eio.EffUpgrade: "upgrade",
	eio.EffClose: "close", eio.EffError: "error",
	sio.EffConnect: "connect", sio.EffEvent: "event", sio.EffAck: "ack", sio.EffDisconnect: "disconnect",
}

// sioKinds are the kinds whose absent id means -1.
var sioKinds = map[string]bool{"connect": true, "event": true, "ack": true, "disconnect": true}

var contentNames = map[eio.Content]string{
	eio.ContentNone: "", eio.ContentText: "text", eio.ContentBinary: "binary",
	eio.ContentHTML: "html", eio.ContentJSON: "json",
}

var bodyStatuses = map[string]eio.BodyStatus{
	"": eio.BodyOK, "ok": eio.BodyOK, "tooLarge": eio.BodyTooLarge,
	"timeout": eio.BodyTimeout, "aborted": eio.BodyAborted,
}

var sidRef = regexp.MustCompile(`\$sid([0-9]*)`)

// replayer is the host-side bookkeeping of one replay.
type replayer struct {
	t       testing.TB
	f       *File
	b       abi.Backend
	check   bool
	conns   map[uint64]eio.Handle // handle each request conn was attached to
	ords    map[eio.Handle]int    // session number of each handle
	handles []eio.Handle          // handles[n] is session n
	sids    []string              // sids[n] is the id of session n
	where   string
}

// Replay runs f through b, a backend made with f.CoreConfig, and returns
// what each step produced. With check, every expectation of the
// transcript is asserted too.
func Replay(t testing.TB, f *File, b abi.Backend, check bool) []Record {
	t.Helper()
	r := &replayer{t: t, f: f, b: b, check: check, conns: map[uint64]eio.Handle{},
		ords: map[eio.Handle]int{}, handles: []eio.Handle{0}, sids: []string{""}}
	records := make([]Record, 0, len(f.Steps))
	last := int64(-1 << 62)
	for i := range f.Steps {
		st := &f.Steps[i]
		require.GreaterOrEqual(t, st.Now, last, "step %d: time goes backwards", i)
		last = st.Now
		r.where = "step " + strconv.Itoa(i)
		if st.Comment != "" {
			r.where += " (" + st.Comment + ")"
		}
		records = append(records, r.step(st))
	}
	return records
}

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

func (r *replayer) bytesOf(data, hx *string) []byte {
	r.t.Helper()
	require.False(r.t, data != nil && hx != nil, "%s: both data and hex given", r.where)
	if hx != nil {
		b, err := hex.DecodeString(*hx)
		require.NoError(r.t, err, r.where)
		return b
	}
	if data != nil {
		return []byte(*data)
	}
	return nil
}

func (r *replayer) hexList(list []string) [][]byte {
	if list == nil {
		return nil
	}
	out := make([][]byte, len(list))
	for i, h := range list {
		b, err := hex.DecodeString(h)
		require.NoError(r.t, err, r.where)
		out[i] = b
	}
	return out
}

func (r *replayer) session(n *int) eio.Handle {
	r.t.Helper()
	if n == nil {
		return r.handles[len(r.handles)-1]
	}
	require.Less(r.t, *n, len(r.handles), "%s: no session %d yet", r.where, *n)
	return r.handles[*n]
}

func (r *replayer) connSession(conn uint64, n *int) eio.Handle {
	if n != nil {
		return r.session(n)
	}
	return r.conns[conn]
}

func (r *replayer) ordinal(h eio.Handle) int {
	if h == 0 {
		return 0
	}
	if n, ok := r.ords[h]; ok {
		return n
	}
	return -int(h) // a handle no "open" effect announced
}

// input runs the step's one input and returns its result: a handle, a
// bool, or nil.
func (r *replayer) input(st *Step) any {
	t, b, now := r.t, r.b, st.Now
	inputs := 0
	for _, set := range []bool{st.Request != nil, st.Body != nil, st.Frame != nil, st.Closed != nil,
		st.Close != nil, st.CloseAll != nil, st.Tick != nil, st.Send != nil,
		st.Accept != nil, st.Refuse != nil, st.Leave != nil} {
		if set {
			inputs++
		}
	}
	require.Equal(t, 1, inputs, "%s: a step has exactly one input", r.where)
	switch {
	case st.Request != nil:
		q := st.Request
		h := b.Request(now, &eio.Request{
			Conn: q.Conn, Method: q.Method, EIO: q.EIO, Transport: q.Transport,
			SID: r.expand(q.SID), B64: q.B64, Upgrade: q.Upgrade, Binary: q.Binary,
			Origin: q.Origin, BadOrigin: q.BadOrigin, Refused: q.Refused, RefusedMessage: q.RefusedMessage,
			JSONP: q.JSONP, J: q.J,
		})
		r.conns[q.Conn] = h
		return h
	case st.Body != nil:
		status, ok := bodyStatuses[st.Body.Status]
		require.True(t, ok, "%s: unknown body status %q", r.where, st.Body.Status)
		b.Body(now, st.Body.Conn, r.connSession(st.Body.Conn, st.Body.Session), r.bytesOf(st.Body.Data, st.Body.Hex), status)
	case st.Frame != nil:
		f := st.Frame
		b.Frame(now, f.Conn, r.connSession(f.Conn, f.Session), f.Binary, r.bytesOf(f.Data, f.Hex))
	case st.Closed != nil:
		b.ConnClosed(now, st.Closed.Conn, r.connSession(st.Closed.Conn, st.Closed.Session), st.Closed.Errored)
	case st.Close != nil:
		b.CloseSession(now, r.session(st.Close.Session), st.Close.Reason, "")
	case st.CloseAll != nil:
		b.CloseAll(now, st.CloseAll.Reason)
	case st.Tick != nil:
		b.Tick(now)
	case st.Send != nil && r.f.SocketIO:
		m := st.Send
		var flags sio.SendFlags
		if m.Volatile {
			flags |= sio.SendVolatile
		}
		if m.NoCompress {
			flags |= sio.SendNoCompress
		}
		return b.Emit(now, r.session(m.Session), m.Nsp, []byte(m.Text), r.hexList(m.Attachments), flags)
	case st.Send != nil:
		return b.Send(now, r.session(st.Send.Session), st.Send.Binary, r.bytesOf(st.Send.Data, st.Send.Hex))
	case st.Accept != nil:
		a := st.Accept
		return b.Accept(now, r.session(a.Session), a.Nsp, a.SID, a.PID)
	case st.Refuse != nil:
		f := st.Refuse
		var data []byte
		if f.Data != nil {
			data = []byte(*f.Data)
		}
		b.Refuse(now, r.session(f.Session), f.Nsp, f.Message, data)
	case st.Leave != nil:
		return b.Leave(now, r.session(st.Leave.Session), st.Leave.Nsp)
	}
	return nil
}

func (r *replayer) step(st *Step) Record {
	t := r.t
	result := r.input(st)
	effects, err := r.b.Effects()
	require.NoError(t, err, r.where)
	// Number the sessions opened by this step, and copy the effects before
	// any other call into the backend (which may reuse their memory).
	opened := len(r.handles)
	for _, e := range effects {
		if e.Kind == eio.EffOpen {
			r.ords[e.Session] = len(r.handles)
			r.handles = append(r.handles, e.Session)
		}
	}
	rec := Record{Effects: make([]Flat, len(effects)), Deadline: -1}
	for k, e := range effects {
		rec.Effects[k] = r.flatten(e)
	}
	// Their ids, so that "$sid" in the expectations can name them.
	for _, h := range r.handles[opened:] {
		sid, _, _ := r.b.Session(h)
		r.sids = append(r.sids, sid)
	}
	rec.Open = r.b.Len()
	switch v := result.(type) {
	case eio.Handle:
		rec.Result = "session " + strconv.Itoa(r.ordinal(v))
	case bool:
		rec.Result = strconv.FormatBool(v)
	}
	if at, ok := r.b.NextDeadline(); ok {
		rec.Deadline = at
	}
	for _, h := range r.handles[1:] {
		sid, proto, tr := r.b.Session(h)
		if proto == 0 {
			sid, tr = "", "gone" // the rest is unspecified for a stale handle
		}
		rec.Sessions = append(rec.Sessions, sid+" "+strconv.Itoa(proto)+" "+tr)
	}
	if r.check {
		r.checkStep(st, &rec, result)
	}
	return rec
}

func (r *replayer) checkStep(st *Step, rec *Record, result any) {
	t := r.t
	want := make([]Flat, len(st.Expect))
	for k := range st.Expect {
		want[k] = r.expected(&st.Expect[k])
	}
	require.Equal(t, want, rec.Effects, "%s: effects", r.where)
	if st.Result != nil {
		switch v := result.(type) {
		case eio.Handle:
			var n int
			require.NoError(t, json.Unmarshal(st.Result, &n), r.where)
			require.Equal(t, n, r.ordinal(v), "%s: session the request was attached to", r.where)
		case bool:
			var b bool
			require.NoError(t, json.Unmarshal(st.Result, &b), r.where)
			require.Equal(t, b, v, "%s: result", r.where)
		default:
			t.Fatalf("%s: this input has no result", r.where)
		}
	}
	if st.Deadline != nil {
		if string(st.Deadline) == "null" {
			require.Equal(t, int64(-1), rec.Deadline, "%s: no timer should be pending", r.where)
		} else {
			at, err := strconv.ParseInt(string(st.Deadline), 10, 64)
			require.NoError(t, err, r.where)
			require.Equal(t, at, rec.Deadline, "%s: next deadline", r.where)
		}
	}
	if st.Open != nil {
		require.Equal(t, *st.Open, rec.Open, "%s: open sessions", r.where)
	}
	if len(st.Joined) > 0 {
		ns, ok := r.b.(Namespacer)
		require.True(t, ok, "%s: the backend cannot tell the namespaces joined", r.where)
		for key, want := range st.Joined {
			n, err := strconv.Atoi(key)
			require.NoError(t, err, "%s: joined keys are session numbers", r.where)
			got := ns.Namespaces(r.session(&n))
			if len(want) == 0 {
				require.Empty(t, got, "%s: namespaces of session %d", r.where, n)
			} else {
				require.Equal(t, want, got, "%s: namespaces of session %d", r.where, n)
			}
		}
	}
}

func (r *replayer) flatten(e eio.Effect) Flat {
	kind, ok := kindNames[e.Kind]
	if !ok {
		kind = "kind" + strconv.Itoa(int(e.Kind))
	}
	var att []string
	for _, a := range e.Attachments {
		att = append(att, hex.EncodeToString(a))
	}
	return Flat{
		Kind: kind, Conn: e.Conn, Session: r.ordinal(e.Session), Status: e.Status,
		Content: contentNames[e.Content], Binary: e.Binary, NoCompress: e.NoCompress,
		Prefix: strconv.Quote(string(e.Prefix)), Data: strconv.Quote(string(e.Data)),
		Text: e.Text, Desc: e.Desc, Nsp: e.Nsp, ID: e.ID, Attachments: att,
	}
}

func (r *replayer) expected(e *Effect) Flat {
	var data []byte
	require.False(r.t, e.Data != nil && e.Hex != nil, "%s: both data and hex given", r.where)
	switch {
	case e.Data != nil:
		data = []byte(r.expand(*e.Data))
	case e.Hex != nil:
		data = r.bytesOf(nil, e.Hex)
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
	return Flat{
		Kind: e.Kind, Conn: e.Conn, Session: e.Session, Status: e.Status, Content: e.Content, Binary: e.Binary,
		NoCompress: e.NoCompress, Prefix: strconv.Quote(string(r.bytesOf(e.Prefix, e.PrefixHex))), Data: strconv.Quote(string(data)),
		Text: r.expand(e.Text), Desc: r.expand(e.Desc), Nsp: e.Nsp, ID: id, Attachments: att,
	}
}
