package abi

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// The fuzz targets check, for any bytes: the decoders never panic, a
// failed decode yields nothing, and what decodes encodes back to the very
// same bytes (every valid record has one encoding). FuzzCore feeds valid
// records with arbitrary contents to a Core, which must never panic: the
// module turns a panic into a discarded instance.

func FuzzDecodeInputs(f *testing.F) {
	var e Encoder
	sampleInputs(&e)
	f.Add(e.Bytes(), e.Len())
	f.Add(e.Bytes()[:40], 1)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		var ins Inputs
		if err := ins.Decode(b, n); err != nil {
			if len(ins.List) != 0 {
				t.Fatal("a failed decode left records")
			}
			return
		}
		var back Encoder
		for i := range ins.List {
			encodeInput(&back, &ins.List[i])
		}
		if !bytes.Equal(back.Bytes(), b[:len(back.Bytes())]) {
			t.Fatalf("not canonical:\n%x\n%x", b, back.Bytes())
		}
	})
}

func FuzzDecodeOutput(f *testing.F) {
	var b []byte
	for _, e := range sampleEffects() {
		b = AppendEffect(b, &e)
	}
	b = AppendResult(b, &Result{Value: 3, SID: "s", Transport: "polling", Namespaces: []string{"/"}})
	b = AppendDeadline(b, 7, true)
	f.Add(b)
	f.Add(AppendDeadline(nil, 0, false))
	f.Fuzz(func(t *testing.T, b []byte) {
		var o Output
		_ = o.Decode(b)
		// Record by record, each decodes and encodes back identically.
		for len(b) > 0 {
			var e eio.Effect
			rest, err := DecodeEffect(b, &e)
			if err != nil {
				return
			}
			rec := b[:len(b)-len(rest)]
			if back := AppendEffect(nil, &e); !bytes.Equal(back, rec) {
				t.Fatalf("not canonical:\n%x\n%x", rec, back)
			}
			b = rest
		}
	})
}

func FuzzDecodeConfig(f *testing.F) {
	c := DefaultConfig()
	f.Add(AppendConfig(nil, &c))
	c.Entropy, c.Random, c.IDPrefix = []byte{1, 2}, RandomSeeded, 'Q'
	f.Add(AppendConfig(nil, &c))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeConfig(b)
		if err != nil {
			return
		}
		if back := AppendConfig(nil, &c); !bytes.Equal(back, b) {
			t.Fatalf("not canonical:\n%x\n%x", b, back)
		}
	})
}

func FuzzCore(f *testing.F) {
	var e Encoder
	e.Request(&eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
	e.Frame(1, 1<<20|1, false, []byte("40"))
	e.Accept(1<<20|1, "/", "s", "")
	e.Frame(1, 1<<20|1, false, []byte(`451-["a",{"_placeholder":true,"num":0}]`))
	e.Frame(1, 1<<20|1, true, []byte{1})
	e.Emit(1<<20|1, "/", []byte(`2["b"]`), [][]byte{{2}}, sio.SendVolatile)
	e.Request(&eio.Request{Conn: 2, Method: "GET", EIO: "3", Transport: "polling"})
	e.Body(3, 2<<20|2, []byte("4:42[]"), eio.BodyOK)
	e.Leave(1<<20|1, "/")
	e.Tick()
	f.Add(e.Bytes(), e.Len(), int64(0))
	e.Reset()
	sampleInputs(&e)
	f.Add(e.Bytes(), e.Len(), int64(1<<40))
	f.Fuzz(func(t *testing.T, b []byte, n int, now int64) {
		c := testConfig(true)
		c.AllowEIO3 = true
		core := newCore(t, c)
		// Twice, so the second batch meets the state the first left.
		for i := 0; i < 2; i++ {
			out, err := core.Process(nil, now, b, n)
			if err != nil {
				return
			}
			var o Output
			if err := o.Decode(out); err != nil {
				t.Fatal(err)
			}
			if len(o.Results) != n {
				t.Fatalf("%d results for %d inputs", len(o.Results), n)
			}
			now += 30000
			core.Tick(out, now)
		}
	})
}

// FuzzCoreScript reads the fuzzer's bytes as a script of inputs built from
// small dictionaries (so that they reach deep into the protocol), runs it
// through a Core with the input buffer scribbled over after every call, and
// through servers called directly; the effects must be identical.
func FuzzCoreScript(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 2, 0, 3, 8, 2, 4, 9, 5, 2, 10, 6, 2, 11})
	f.Add([]byte{0, 1, 0, 1, 1, 0, 2, 0, 6, 3, 1, 0, 4, 2, 2, 5, 7})
	// A WebSocket session joins "/" and receives a binary event in two
	// frames: the parts wait in the Socket.IO layer across calls.
	f.Add([]byte{0, 0, 1, 8, 0, 1, 1, 1, 2, 1, 1, 1, 2, 0, 1, 9, 1, 1, 1, 2, 1, 1, 1, 6, 0, 1, 2, 1, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, script []byte) {
		c := testConfig(true)
		c.AllowEIO3 = true
		c.PingInterval, c.PingTimeout, c.UpgradeTimeout, c.ConnectTimeout = 50, 40, 60, 70
		core := newCore(t, c)
		direct := newCore(t, c) // its servers are called directly
		var e Encoder
		var buf []byte
		arena := make([]byte, 0, 1024)
		now := int64(0)
		rd := scriptReader{b: script}
		for steps := 0; steps < 64 && len(rd.b) > 0; steps++ {
			now += int64(rd.next() % 40)
			e.Reset()
			want := rd.step(direct, now, &e)
			arena = append(arena[:0], e.Bytes()...)
			var err error
			buf, err = core.Process(buf, now, arena, e.Len())
			if err != nil {
				t.Fatal(err)
			}
			for i := range arena {
				arena[i] = 0xEE
			}
			var o Output
			if err := o.Decode(buf); err != nil {
				t.Fatal(err)
			}
			if got := deepCopy(o.Effects); !reflect.DeepEqual(want, got) {
				t.Fatalf("step %d:\nwant %+v\ngot  %+v", steps, want, got)
			}
		}
	})
}

type scriptReader struct{ b []byte }

func (r *scriptReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

var (
	scriptHandles = []eio.Handle{0, 1<<20 | 1, 1<<20 | 2, 1<<20 | 3, 2<<20 | 1, 2<<20 | 2}
	scriptData    = []string{"2probe", "5", "40", "41", "42[\"a\"]", "4", "451-[\"b\",{\"_placeholder\":true,\"num\":0}]",
		"461-[{\"_placeholder\":true,\"num\":0}]", "40/a,{\"x\":1}", "3", "1", "6", "2", "4\x1e4", "4:42[]", "", "43/a,1[2]",
		"44/a", "0", "40/a?x=1,"}
	scriptStrings = []string{"", "/", "/a", "GET", "POST", "3", "4", "polling", "websocket", "x"}
)

func (r *scriptReader) handle() eio.Handle { return scriptHandles[int(r.next())%len(scriptHandles)] }
func (r *scriptReader) conn() uint64       { return uint64(r.next() % 4) }
func (r *scriptReader) str() string        { return scriptStrings[int(r.next())%len(scriptStrings)] }
func (r *scriptReader) data() []byte {
	d := []byte(scriptData[int(r.next())%len(scriptData)])
	if n := int(r.next() % 4); n > 0 && len(r.b) >= n {
		d = append(d, r.b[:n]...)
		r.b = r.b[n:]
	}
	return d
}

// step adds one input to e, runs it on the direct core's servers, and
// returns the effects.
func (r *scriptReader) step(direct *Core, now int64, e *Encoder) []eio.Effect {
	s, x := direct.e, direct.s
	switch r.next() % 14 {
	case 0:
		req := eio.Request{Conn: r.conn(), Method: "GET", EIO: "4", Transport: r.str()}
		if req.Transport == "websocket" {
			req.Upgrade = true
		}
		if h := r.handle(); h != 0 {
			req.SID = s.SID(h)
		}
		if r.next()%3 == 0 {
			req.EIO = "3"
		}
		if r.next()%4 == 0 {
			req.Method = "POST"
		}
		e.Request(&req)
		s.Request(now, &req)
	case 1:
		conn, h, d, st := r.conn(), r.handle(), r.data(), eio.BodyStatus(r.next()%4)
		e.Body(conn, h, d, st)
		s.Body(now, conn, h, d, st)
	case 2, 3:
		conn, h, bin, d := r.conn(), r.handle(), r.next()%3 == 0, r.data()
		e.Frame(conn, h, bin, d)
		s.Frame(now, conn, h, bin, d)
	case 4:
		conn, h, errd := r.conn(), r.handle(), r.next()%2 == 0
		e.ConnClosed(conn, h, errd)
		s.ConnClosed(now, conn, h, errd)
	case 5:
		h, bin, d := r.handle(), r.next()%2 == 0, r.data()
		e.Send(h, bin, d)
		s.Send(now, h, bin, d)
	case 6:
		h, reason := r.handle(), r.str()
		e.CloseSession(h, reason, "")
		s.CloseSessionDesc(now, h, reason, "")
	case 7:
		e.CloseAll("bye")
		s.CloseAll(now, "bye")
	case 8:
		e.Tick()
		s.Tick(now)
	case 9:
		h, nsp := r.handle(), r.str()
		e.Accept(h, nsp, "sid", "")
		x.Accept(now, h, nsp, "sid", "")
	case 10:
		h, nsp := r.handle(), r.str()
		var d []byte
		if r.next()%2 == 0 {
			d = []byte(`{"a":1}`)
		}
		e.Refuse(h, nsp, "no", d)
		x.Refuse(now, h, nsp, "no", d)
	case 11:
		h, nsp, d, flags := r.handle(), r.str(), r.data(), sio.SendFlags(r.next()%4)
		var atts [][]byte
		for n := r.next() % 3; n > 0; n-- {
			atts = append(atts, r.data())
		}
		e.Emit(h, nsp, d, atts, flags)
		x.Send(now, h, nsp, d, atts, flags)
	case 12:
		h, nsp := r.handle(), r.str()
		e.Leave(h, nsp)
		x.Leave(now, h, nsp)
	case 13:
		e.Info(r.handle())
	}
	return deepCopy(s.Effects())
}
