package abi

import (
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// encodeInput writes in back with the Encoder: the inverse of decoding.
func encodeInput(e *Encoder, in *Input) {
	switch in.Kind {
	case InRequest:
		e.Request(&eio.Request{Conn: in.Conn, Method: string(in.Method), EIO: string(in.EIO),
			Transport: string(in.Transport), SID: string(in.SID), Origin: string(in.Origin),
			RefusedMessage: string(in.Text), B64: in.Flags&ReqB64 != 0, Upgrade: in.Flags&ReqUpgrade != 0,
			Binary: in.Flags&ReqBinary != 0, BadOrigin: in.Flags&ReqBadOrigin != 0, Refused: in.Flags&ReqRefused != 0,
			JSONP: in.Flags&ReqJSONP != 0, J: string(in.J), ID: string(in.ID), IDFailed: in.Flags&ReqIDFailed != 0})
	case InBody:
		e.Body(in.Conn, in.Session, in.Data, eio.BodyStatus(in.Flags))
	case InFrame:
		e.Frame(in.Conn, in.Session, in.Binary(), in.Data)
	case InClosed:
		e.ConnClosed(in.Conn, in.Session, in.Flags != 0)
	case InSend:
		e.Send(in.Session, in.Binary(), in.Data)
	case InClose:
		e.CloseSession(in.Session, string(in.Text), string(in.Desc))
	case InCloseAll:
		e.CloseAll(string(in.Text))
	case InTick:
		e.Tick()
	case InAccept:
		e.Accept(in.Session, string(in.Nsp), string(in.SID), string(in.PID))
	case InRefuse:
		e.Refuse(in.Session, string(in.Nsp), string(in.Text), in.Data)
	case InEmit:
		e.Emit(in.Session, string(in.Nsp), in.Data, in.Attachments, sio.SendFlags(in.Flags))
	case InLeave:
		e.Leave(in.Session, string(in.Nsp))
	case InInfo:
		e.Info(in.Session)
	case InOpenCount:
		e.OpenCount()
	case InBroadcast:
		e.Broadcast(in.Handles, string(in.Nsp), in.Data, in.Attachments, sio.SendFlags(in.Flags))
	}
}

// sampleInputs writes one record of every kind, with nil and empty byte
// strings both represented.
func sampleInputs(e *Encoder) {
	e.Request(&eio.Request{Conn: 1<<40 + 7, Method: "GET", EIO: "4", Transport: "polling", SID: "AQEBAQEBAQEBAQEBAQEB",
		B64: true, Upgrade: true, Binary: true, Origin: "o\x01", BadOrigin: true, Refused: true, RefusedMessage: "no",
		JSONP: true, J: "12", ID: "custom-id", IDFailed: true})
	e.Body(2, 0x100001, []byte("4hello\x1e4"), eio.BodyTimeout)
	e.Frame(3, 0x200001, true, []byte{})
	e.Frame(3, 0x200001, false, nil)
	e.ConnClosed(4, 5, true)
	e.Send(6, false, []byte("x"))
	e.CloseSession(7, "forced close", "because")
	e.CloseAll("server shutting down")
	e.Tick()
	e.Accept(8, "/admin", "sid", "pid")
	e.Refuse(9, "/", "nope", nil)
	e.Refuse(9, "/", "nope", []byte(`{"a":1}`))
	e.Emit(10, "/", []byte(`2["a"]`), [][]byte{{1, 2}, {}, nil}, sio.SendVolatile)
	e.Emit(10, "/", []byte(`2["a"]`), nil, 0)
	e.Emit(10, "/", []byte(`2["a"]`), nil, sio.SendNoCompress|sio.SendVolatile)
	e.Leave(11, "/chat")
	e.Info(12)
	e.OpenCount()
	e.Broadcast([]eio.Handle{13, 0x300001}, "/", []byte(`2["b"]`), [][]byte{{3}}, sio.SendVolatile)
	e.Broadcast(nil, "/x", []byte(`2["c"]`), nil, sio.SendNoCompress)
}

func TestInputRoundTrip(t *testing.T) {
	var e Encoder
	sampleInputs(&e)
	var ins Inputs
	require.NoError(t, ins.Decode(e.Bytes(), e.Len()))
	require.Len(t, ins.List, e.Len())

	r := &ins.List[0]
	require.Equal(t, InRequest, r.Kind)
	require.Equal(t, uint64(1<<40+7), r.Conn)
	require.Equal(t, "GET|4|polling|AQEBAQEBAQEBAQEBAQEB|o\x01|no|12",
		string(r.Method)+"|"+string(r.EIO)+"|"+string(r.Transport)+"|"+string(r.SID)+"|"+string(r.Origin)+"|"+string(r.Text)+"|"+string(r.J))
	require.Equal(t, uint8(reqAll), r.Flags)
	require.Equal(t, eio.BodyTimeout, eio.BodyStatus(ins.List[1].Flags))
	require.Equal(t, eio.Handle(0x100001), ins.List[1].Session)
	require.NotNil(t, ins.List[2].Data, "empty stays empty")
	require.Empty(t, ins.List[2].Data)
	require.True(t, ins.List[2].Binary())
	require.Nil(t, ins.List[3].Data, "nil stays nil")
	require.Nil(t, ins.List[10].Data, "a refusal without data")
	require.Equal(t, `{"a":1}`, string(ins.List[11].Data))
	require.Equal(t, [][]byte{{1, 2}, {}, nil}, ins.List[12].Attachments)
	require.Nil(t, ins.List[13].Attachments)
	require.Equal(t, EmitFlagVolatile, ins.List[12].Flags)
	require.Equal(t, EmitFlagNoCompress|EmitFlagVolatile, ins.List[14].Flags)
	require.Equal(t, []eio.Handle{13, 0x300001}, ins.List[18].Handles)
	require.Equal(t, [][]byte{{3}}, ins.List[18].Attachments)
	require.Empty(t, ins.List[19].Handles)
	require.Equal(t, EmitFlagNoCompress, ins.List[19].Flags)

	// Encoding the decoded records gives the same bytes.
	var back Encoder
	for i := range ins.List {
		encodeInput(&back, &ins.List[i])
	}
	require.Equal(t, e.Bytes(), back.Bytes())

	// Appending to a decoded field never writes over the next one.
	data := ins.List[1].Data
	_ = append(data, 'X')
	require.NoError(t, ins.Decode(e.Bytes(), e.Len()))
	require.Equal(t, e.Bytes(), back.Bytes())
}

func TestInputRejects(t *testing.T) {
	var e Encoder
	e.Frame(1, 2, false, []byte("4hi"))
	good := e.Bytes()
	var ins Inputs
	mutate := func(f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), good...))
	}
	for name, c := range map[string]struct {
		b   []byte
		n   int
		err error
	}{
		"negative count":   {good, -1, ErrRecordSize},
		"count too large":  {good, 2, ErrTruncated},
		"truncated header": {good[:5], 1, ErrRecordSize},
		"size beyond":      {good[:len(good)-1], 1, ErrRecordSize},
		"size too small":   {mutate(func(b []byte) []byte { b[4] = 7; return b }), 1, ErrRecordSize},
		"unknown kind":     {mutate(func(b []byte) []byte { b[0] = 99; return b }), 1, ErrUnknownInput},
		"unknown flag":     {mutate(func(b []byte) []byte { b[1] = 2; return b }), 1, ErrBadInput},
		"reserved":         {mutate(func(b []byte) []byte { b[3] = 1; return b }), 1, ErrBadInput},
		"field too long":   {mutate(func(b []byte) []byte { b[20] = 9; return b }), 1, ErrTruncated},
		"trailing bytes": {mutate(func(b []byte) []byte {
			b = append(b, 0)
			b[4]++
			return b
		}), 1, ErrBadInput},
	} {
		t.Run(name, func(t *testing.T) {
			ins.List = append(ins.List[:0], Input{Kind: InTick})
			err := ins.Decode(c.b, c.n)
			require.ErrorIs(t, err, c.err)
			require.Empty(t, ins.List, "nothing decoded")
			require.Equal(t, int32(StatusBadInput), Status(err))
		})
	}
	// A request's j without the JSONP flag has a second encoding: refused.
	var je Encoder
	je.Request(&eio.Request{Method: "GET", JSONP: true, J: "3"})
	jb := append([]byte(nil), je.Bytes()...)
	jb[1] &^= ReqJSONP
	require.ErrorIs(t, ins.Decode(jb, 1), ErrBadInput)
	je.Reset()
	je.Request(&eio.Request{Method: "GET", J: "3"})
	require.NoError(t, ins.Decode(je.Bytes(), 1))
	require.Empty(t, ins.List[0].J, "no j is written without the flag")

	// A second record that is invalid voids the first.
	e.Frame(1, 2, false, nil)
	b := append([]byte(nil), e.Bytes()...)
	b[len(good)] = 0
	require.Error(t, ins.Decode(b, 2))
	require.Empty(t, ins.List)
}

func sampleEffects() []eio.Effect {
	return []eio.Effect{
		{Kind: eio.EffRespond, Conn: 1, Session: 0x100001, Status: 200, Content: eio.ContentText, Data: []byte("0{}")},
		{Kind: eio.EffReadBody, Conn: 2, Status: 1 << 40, Binary: true},
		{Kind: eio.EffWrite, Conn: 3, Session: 1, Prefix: []byte("4"), Data: []byte{}},
		{Kind: eio.EffWrite, Conn: 3, Session: 1, Prefix: []byte{4}, Data: []byte{0xff, 0}, Binary: true},
		{Kind: eio.EffWrite, Conn: 3, Session: 1, Prefix: []byte("4"), Data: []byte("x"), NoCompress: true},
		{Kind: eio.EffClose, Session: 1, Text: "transport close", Desc: "d"},
		{Kind: eio.EffError, Conn: 4, Status: 0, Text: "Transport unknown", Data: []byte(`{"transport":"x"}`)},
		{Kind: eio.EffUpper, Session: 1, Nsp: "/", ID: -1, Data: []byte(`["a"]`)},
		{Kind: eio.EffUpper + 1, Session: 1, Nsp: "/chat", ID: 1<<53 + 1, Data: []byte(`["a",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{1}, {}, nil}},
		{Kind: eio.EffUpper + 2, Session: 1, Nsp: "/x", ID: 0, Attachments: [][]byte{}},
		{Kind: 200},
	}
}

func TestEffectRoundTrip(t *testing.T) {
	var b []byte
	for _, e := range sampleEffects() {
		start := len(b)
		b = AppendEffect(b, &e)
		var got eio.Effect
		rest, err := DecodeEffect(b[start:], &got)
		require.NoError(t, err)
		require.Empty(t, rest)
		require.True(t, reflect.DeepEqual(e, got), "%#v\n%#v", e, got)
	}
}

func TestOutputDecode(t *testing.T) {
	effs := sampleEffects()
	var b []byte
	b = AppendEffect(b, &effs[0])
	b = AppendResult(b, &Result{Value: 0x100001})
	b = AppendResult(b, &Result{})
	b = AppendEffect(b, &effs[7])
	b = AppendEffect(b, &effs[8])
	b = AppendResult(b, &Result{Value: 4, SID: "sid", Transport: "websocket", Namespaces: []string{"/", "/chat"}})
	b = AppendDeadline(b, 0, true)

	var o Output
	require.NoError(t, o.Decode(b))
	require.Len(t, o.Effects, 3)
	require.Equal(t, []Result{
		{Value: 0x100001, End: 1},
		{End: 1},
		{Value: 4, End: 3, SID: "sid", Transport: "websocket", Namespaces: []string{"/", "/chat"}},
	}, o.Results)
	require.True(t, o.HasDeadline, "a deadline at time 0 is still a deadline")
	require.Zero(t, o.Deadline)

	require.NoError(t, o.Decode(AppendDeadline(nil, 12345, true)))
	require.Equal(t, []any{true, int64(12345)}, []any{o.HasDeadline, o.Deadline})
	require.Empty(t, o.Effects)
	require.NoError(t, o.Decode(AppendDeadline(nil, 12345, false)))
	require.False(t, o.HasDeadline)

	// Strings repeat without allocating once seen.
	close := AppendEffect(nil, &eio.Effect{Kind: eio.EffClose, Session: 1, Text: "transport close"})
	require.NoError(t, o.Decode(close))
	allocs := testing.AllocsPerRun(100, func() { _ = o.Decode(close) })
	require.Zero(t, allocs)
}

func TestOutputRejects(t *testing.T) {
	good := AppendEffect(nil, &eio.Effect{Kind: eio.EffWrite, Conn: 1, Data: []byte("x"), Text: "t"})
	var o Output
	for name, b := range map[string][]byte{
		"truncated":   good[:len(good)-1],
		"short":       good[:outputHeader-1],
		"kind zero":   append([]byte{0}, good[1:]...),
		"unknown bit": append([]byte{good[0], good[1], good[2], 0x80}, good[4:]...),
		"zero conn":   AppendEffect(nil, &eio.Effect{Kind: 1, Conn: 1})[:outputHeader],
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, o.Decode(b))
		})
	}
	// A set bit whose value its clear bit could express is not canonical.
	b := AppendEffect(nil, &eio.Effect{Kind: 1, Conn: 1})
	for i := outputHeader; i < len(b); i++ {
		b[i] = 0
	}
	require.ErrorIs(t, o.Decode(b), ErrBadOutput)
	// So is a nil byte string whose bit is set.
	b = AppendEffect(nil, &eio.Effect{Kind: 1, Data: []byte{}})
	putU32(b[outputHeader:], nilLen)
	require.ErrorIs(t, o.Decode(b), ErrBadOutput)
}

func TestConfigRoundTrip(t *testing.T) {
	c := DefaultConfig()
	c.AllowEIO3, c.IDPrefix, c.ConnectTimeout = true, 'Z', 5000
	c.Transports = eio.TransportWebSocket
	c.Random, c.Seed[3] = RandomSeeded, 9
	c.Entropy = []byte{1, 2, 3}
	b := AppendConfig(nil, &c)
	got, err := DecodeConfig(b)
	require.NoError(t, err)
	require.Equal(t, c, got)

	c.Entropy = nil
	got, err = DecodeConfig(AppendConfig(nil, &c))
	require.NoError(t, err)
	require.Equal(t, c, got)

	c.Parser = sio.ParserMsgpack
	got, err = DecodeConfig(AppendConfig(nil, &c))
	require.NoError(t, err)
	require.Equal(t, c, got)
	require.NotZero(t, getU32(AppendConfig(nil, &c)[4:])&CfgMsgpack)
	c.Parser = 2 // no such parser
	_, err = New(c, nil)
	require.ErrorIs(t, err, ErrBadConfig)

	other := append([]byte(nil), b...)
	other[0] = Version + 1
	_, err = DecodeConfig(other)
	require.ErrorIs(t, err, ErrVersion)
	require.Equal(t, int32(StatusVersion), Status(err))

	for name, f := range map[string]func(c *Config){
		"ping interval": func(c *Config) { c.PingInterval = 0 },
		"max payload":   func(c *Config) { c.MaxPayload = -1 },
		"id prefix":     func(c *Config) { c.IDPrefix = '+' },
		"random mode":   func(c *Config) { c.Random = 7 },
	} {
		bad := DefaultConfig()
		f(&bad)
		_, err := DecodeConfig(AppendConfig(nil, &bad))
		require.ErrorIs(t, err, ErrBadConfig, name)
		_, err = New(bad, nil)
		require.ErrorIs(t, err, ErrBadConfig, name)
	}
	_, err = DecodeConfig(b[:len(b)-1])
	require.ErrorIs(t, err, ErrBadConfig)
	_, err = DecodeConfig(append(b, 0))
	require.ErrorIs(t, err, ErrBadConfig)
}

// TestFieldsCovered fails when the core's effect, request or
// configuration gains a field: the ABI (records, bindings/ABI.md, Version)
// must carry it before this list is updated.
func TestFieldsCovered(t *testing.T) {
	names := func(v any) []string {
		var out []string
		ty := reflect.TypeOf(v)
		for i := 0; i < ty.NumField(); i++ {
			out = append(out, ty.Field(i).Name)
		}
		return out
	}
	require.Equal(t, []string{"Kind", "Binary", "Content", "Session", "Status", "Conn", "Prefix", "Data",
		"Text", "Desc", "NoCompress", "Nsp", "ID", "Attachments"}, names(eio.Effect{}))
	require.Equal(t, []string{"Conn", "Method", "EIO", "Transport", "SID", "B64", "Upgrade", "Binary",
		"Origin", "BadOrigin", "Refused", "RefusedMessage", "JSONP", "J", "ID", "IDFailed"}, names(eio.Request{}))
	require.Equal(t, []string{"PingInterval", "PingTimeout", "UpgradeTimeout", "MaxPayload", "Transports",
		"AllowUpgrades", "AllowEIO3", "Random", "IDPrefix"}, names(eio.Config{}))
	require.Equal(t, []string{"ConnectTimeout", "Parser"}, names(sio.Config{}))
}

func TestStatus(t *testing.T) {
	for _, st := range []int32{StatusBadInput, StatusNotConfigured, StatusBadConfig, StatusVersion} {
		require.Equal(t, st, Status(StatusError(st)))
	}
	require.Equal(t, int32(StatusPanic), Status(errors.New("boom")))
	require.Zero(t, Status(nil))
}
