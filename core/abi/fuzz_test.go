package abi

import (
	"bytes"
	"testing"

	"github.com/siohost/siohost/core/eio"
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
	e.Emit(1<<20|1, "/", []byte(`2["b"]`), [][]byte{{2}}, true)
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
