package abi

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

func testConfig(socketIO bool) Config {
	c := DefaultConfig()
	c.SocketIO = socketIO
	c.Random = RandomSeeded
	return c
}

func newCore(t testing.TB, c Config) *Core {
	core, err := New(c, func([]byte) { t.Fatal("the system source is not configured") })
	require.NoError(t, err)
	return core
}

// run processes the encoder's records and decodes the output.
func run(t testing.TB, c *Core, now int64, e *Encoder, buf *[]byte) *Output {
	t.Helper()
	var err error
	*buf, err = c.Process(*buf, now, e.Bytes(), e.Len())
	require.NoError(t, err)
	var o Output
	require.NoError(t, o.Decode(*buf))
	require.Len(t, o.Results, e.Len())
	return &o
}

func TestCoreHandshake(t *testing.T) {
	c := newCore(t, testConfig(false))
	var e Encoder
	var buf []byte
	e.Request(&eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling"})
	e.Request(&eio.Request{Conn: 2, Method: "GET", EIO: "9", Transport: "polling"})
	e.OpenCount()
	o := run(t, c, 1000, &e, &buf)

	h := eio.Handle(o.Results[0].Value)
	require.NotZero(t, h)
	require.Equal(t, 2, o.Results[0].End)
	require.Equal(t, eio.EffOpen, o.Effects[0].Kind)
	require.Equal(t, eio.EffRespond, o.Effects[1].Kind)
	require.True(t, bytes.HasPrefix(o.Effects[1].Data, []byte(`0{"sid":"`)))
	require.Zero(t, o.Results[1].Value, "refused")
	require.Equal(t, []eio.EffectKind{eio.EffError, eio.EffRespond}, []eio.EffectKind{o.Effects[2].Kind, o.Effects[3].Kind})
	require.Equal(t, 4, o.Results[1].End)
	require.Equal(t, int64(1), o.Results[2].Value)
	require.True(t, o.HasDeadline)
	require.Equal(t, int64(1000+25000), o.Deadline)

	e.Reset()
	e.Info(h)
	e.Info(h + 1<<20)
	o = run(t, c, 1000, &e, &buf)
	require.Equal(t, int64(4), o.Results[0].Value)
	require.Equal(t, c.Engine().SID(h), o.Results[0].SID)
	require.Equal(t, "polling", o.Results[0].Transport)
	require.Zero(t, o.Results[1].Value, "a stale handle")

	// The deadline comes and the ping goes out on the next GET.
	buf = c.Tick(buf, 26000)
	var o2 Output
	require.NoError(t, o2.Decode(buf))
	require.Len(t, o2.Results, 1)
	require.Empty(t, o2.Effects)
	e.Reset()
	e.Request(&eio.Request{Conn: 3, Method: "GET", EIO: "4", Transport: "polling", SID: c.Engine().SID(h)})
	o = run(t, c, 26001, &e, &buf)
	require.Equal(t, "2", string(o.Effects[0].Data))
}

func TestCoreBadBatchRunsNothing(t *testing.T) {
	c := newCore(t, testConfig(false))
	var e Encoder
	e.Request(&eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling"})
	b := append([]byte(nil), e.Bytes()...)
	b = append(b, 0xEE, 0, 0, 0, 8, 0, 0, 0)
	out, err := c.Process(make([]byte, 5, 64), 0, b, 2)
	require.ErrorIs(t, err, ErrUnknownInput)
	require.Empty(t, out)
	require.Zero(t, c.Engine().Len())
	// What follows the n records is not read.
	out, err = c.Process(out, 0, b, 1)
	require.NoError(t, err)
	require.NotEmpty(t, out)
	require.Equal(t, 1, c.Engine().Len())
}

// TestCoreBatchEqualsCalls: a batch gives the effects of its records run
// one by one.
func TestCoreBatchEqualsCalls(t *testing.T) {
	script := func(e *Encoder, step int) {
		switch step {
		case 0:
			e.Request(&eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
		case 1:
			e.Frame(1, 1<<20|1, false, []byte("40"))
		case 2:
			e.Accept(1<<20|1, "/", "s1", "")
		case 3:
			e.Frame(1, 1<<20|1, false, []byte(`42["hi",1]`))
		case 4:
			e.Emit(1<<20|1, "/", []byte(`2["yo"]`), nil, 0)
		case 5:
			e.Leave(1<<20|1, "/")
		case 6:
			e.CloseAll("server shutting down")
		}
	}
	const steps = 7
	one := newCore(t, testConfig(true))
	var e Encoder
	var buf []byte
	var want []eio.Effect
	for i := 0; i < steps; i++ {
		e.Reset()
		script(&e, i)
		o := run(t, one, 5, &e, &buf)
		want = append(want, deepCopy(o.Effects)...)
	}
	batch := newCore(t, testConfig(true))
	e.Reset()
	for i := 0; i < steps; i++ {
		script(&e, i)
	}
	o := run(t, batch, 5, &e, &buf)
	require.Equal(t, want, deepCopy(o.Effects))
	kinds := make([]eio.EffectKind, len(want))
	for i, ef := range want {
		kinds[i] = ef.Kind
	}
	require.Contains(t, kinds, sio.EffEvent)
	require.Contains(t, kinds, eio.EffClose)
}

// TestCoreKeepsBinaryParts: the parts of a binary packet wait in the
// Socket.IO layer across calls while the host reuses its input buffer.
func TestCoreKeepsBinaryParts(t *testing.T) {
	c := newCore(t, testConfig(true))
	var e Encoder
	var buf []byte
	arena := make([]byte, 4096)
	step := func(fill func(e *Encoder)) *Output {
		e.Reset()
		fill(&e)
		n := copy(arena, e.Bytes())
		var err error
		buf, err = c.Process(buf, 1, arena[:n], e.Len())
		require.NoError(t, err)
		for i := range arena {
			arena[i] = 0xAA // the host reuses its arena
		}
		var o Output
		require.NoError(t, o.Decode(buf))
		return &o
	}
	h := eio.Handle(step(func(e *Encoder) {
		e.Request(&eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
	}).Results[0].Value)
	step(func(e *Encoder) { e.Frame(1, h, false, []byte("40")) })
	step(func(e *Encoder) { e.Accept(h, "/", "s1", "") })
	step(func(e *Encoder) {
		e.Frame(1, h, false, []byte(`452-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`))
	})
	step(func(e *Encoder) { e.Frame(1, h, true, []byte{1, 2, 3}) })
	o := step(func(e *Encoder) { e.Frame(1, h, true, []byte{4, 5}) })
	require.Len(t, o.Effects, 1)
	ev := o.Effects[0]
	require.Equal(t, sio.EffEvent, ev.Kind)
	require.Equal(t, `["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, string(ev.Data))
	require.Equal(t, [][]byte{{1, 2, 3}, {4, 5}}, ev.Attachments)
}

func TestCoreRandom(t *testing.T) {
	ids := func(c Config, system func([]byte)) []string {
		core, err := New(c, system)
		require.NoError(t, err)
		var e Encoder
		for i := 0; i < 3; i++ {
			e.Request(&eio.Request{Conn: uint64(i + 1), Method: "GET", EIO: "4", Transport: "polling"})
		}
		out, err := core.Process(nil, 0, e.Bytes(), e.Len())
		require.NoError(t, err)
		var o Output
		require.NoError(t, o.Decode(out))
		var sids []string
		for _, r := range o.Results {
			sids = append(sids, core.Engine().SID(eio.Handle(r.Value)))
		}
		return sids
	}
	c := testConfig(false)
	c.Entropy = bytes.Repeat([]byte{1}, 15)
	seeded := ids(c, nil)
	require.Equal(t, "AQEBAQEBAQEBAQEBAQEB", seeded[0], "entropy first")
	require.Equal(t, seeded, ids(c, nil), "then the seed, reproducibly")
	c.Seed[0] = 1
	require.NotEqual(t, seeded[1], ids(c, nil)[1])

	c.Random = RandomSystem
	calls := 0
	sys := ids(c, func(b []byte) {
		calls++
		for i := range b {
			b[i] = byte(calls + 1)
		}
	})
	require.Equal(t, 2, calls, "after the entropy")
	require.Equal(t, "AgICAgICAgICAgICAgIC", sys[1])
}

// TestCoreWithoutSocketIO: the Socket.IO commands are inert when the layer
// is off, and messages come out as Engine.IO messages.
func TestCoreWithoutSocketIO(t *testing.T) {
	c := newCore(t, testConfig(false))
	var e Encoder
	var buf []byte
	e.Request(&eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
	o := run(t, c, 0, &e, &buf)
	h := eio.Handle(o.Results[0].Value)
	e.Reset()
	e.Frame(1, h, false, []byte("4hello"))
	e.Accept(h, "/", "x", "")
	e.Emit(h, "/", []byte("2[]"), nil, 0)
	e.Leave(h, "/")
	e.Refuse(h, "/", "m", nil)
	e.Send(h, true, []byte{9})
	o = run(t, c, 0, &e, &buf)
	require.Equal(t, []eio.EffectKind{eio.EffMessage, eio.EffWrite}, []eio.EffectKind{o.Effects[0].Kind, o.Effects[1].Kind})
	require.Len(t, o.Effects, 2)
	require.Equal(t, []int64{0, 0, 0, 0, 0, 1}, []int64{o.Results[0].Value, o.Results[1].Value,
		o.Results[2].Value, o.Results[3].Value, o.Results[4].Value, o.Results[5].Value})
}

func deepCopy(effs []eio.Effect) []eio.Effect {
	out := make([]eio.Effect, len(effs))
	for i, e := range effs {
		e.Prefix = cloneBytes(e.Prefix)
		e.Data = cloneBytes(e.Data)
		if e.Attachments != nil {
			atts := make([][]byte, len(e.Attachments))
			for k, a := range e.Attachments {
				atts[k] = cloneBytes(a)
			}
			e.Attachments = atts
		}
		out[i] = e
	}
	return out
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// TestCoreBroadcast: a broadcast record does what one emit record per
// recipient does, effect for effect, and counts the recipients that took
// the packet (a stale handle and a session off the namespace do not).
func TestCoreBroadcast(t *testing.T) {
	setup := func() (*Core, []eio.Handle) {
		c := newCore(t, testConfig(true))
		var e Encoder
		var buf []byte
		var hs []eio.Handle
		for conn := uint64(1); conn <= 3; conn++ {
			e.Reset()
			e.Request(&eio.Request{Conn: conn, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
			h := eio.Handle(run(t, c, 0, &e, &buf).Results[0].Value)
			e.Reset()
			e.Frame(conn, h, false, []byte("40"))
			if conn != 3 {
				e.Accept(h, "/", "s", "")
			}
			run(t, c, 0, &e, &buf)
			hs = append(hs, h)
		}
		return c, append(hs, 0x7ffff)
	}
	text, atts := []byte(`52-["b",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), [][]byte{{1}, {}}

	c1, hs := setup()
	var e Encoder
	var buf1, buf2 []byte
	for _, h := range hs {
		e.Emit(h, "/", text, atts, 0)
	}
	each := deepCopy(run(t, c1, 5, &e, &buf1).Effects)

	c2, hs2 := setup()
	require.Equal(t, hs, hs2)
	e.Reset()
	e.Broadcast(hs, "/", text, atts, 0)
	o := run(t, c2, 5, &e, &buf2)
	require.Equal(t, int64(2), o.Results[0].Value)
	require.Equal(t, each, deepCopy(o.Effects))
	require.Len(t, each, 6) // text and two attachments, twice
}
