package hostwasm

import (
	"bytes"
	"testing"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
)

// The cost of one WebSocket message of 100 bytes through the core: the
// frame goes in, the message comes out as an effect, three ways: the
// native eio.Server called directly, the native abi.Core (records and
// effect list encoded and decoded, as a native host on the shared path
// would), and the WebAssembly module in wazero. "echo" adds the reply: a
// frame and a send in one batch, two 100-byte payloads each way.

var frame100 = append([]byte("4"), bytes.Repeat([]byte("x"), 99)...)

func BenchmarkFrame(b *testing.B) {
	b.Run("native", func(b *testing.B) {
		e := eio.NewServer(eio.DefaultConfig(func(p []byte) { p[0]++ }))
		h := e.Request(0, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
		e.Effects()
		b.ReportAllocs()
		b.SetBytes(int64(len(frame100)))
		for b.Loop() {
			e.Frame(1, 1, h, false, frame100)
			if effs := e.Effects(); len(effs) != 1 || len(effs[0].Data) != 99 {
				b.Fatal(effs)
			}
		}
	})
	b.Run("native-abi", func(b *testing.B) {
		cfg := abi.DefaultConfig()
		cfg.SocketIO, cfg.Random = false, abi.RandomSeeded
		c, err := abi.New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		var enc abi.Encoder
		var out abi.Output
		var buf []byte
		enc.Request(&eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
		buf, _ = c.Process(buf, 0, enc.Bytes(), enc.Len())
		_ = out.Decode(buf)
		h := eio.Handle(out.Results[0].Value)
		b.ReportAllocs()
		b.SetBytes(int64(len(frame100)))
		for b.Loop() {
			enc.Reset()
			enc.Frame(1, h, false, frame100)
			buf, err = c.Process(buf, 1, enc.Bytes(), enc.Len())
			if err != nil {
				b.Fatal(err)
			}
			if err := out.Decode(buf); err != nil || len(out.Effects) != 1 || len(out.Effects[0].Data) != 99 {
				b.Fatal(err, out.Effects)
			}
		}
	})
	b.Run("wasm", func(b *testing.B) {
		in := newInstance(b, false)
		h := wsSession(b, in, 1)
		b.ReportAllocs()
		b.SetBytes(int64(len(frame100)))
		for b.Loop() {
			effs, err := in.Frame(1, 1, h, false, frame100)
			if err != nil || len(effs) != 1 || len(effs[0].Data) != 99 {
				b.Fatal(err, effs)
			}
		}
	})
}

func BenchmarkEcho(b *testing.B) {
	reply := frame100[1:]
	b.Run("native", func(b *testing.B) {
		e := eio.NewServer(eio.DefaultConfig(func(p []byte) { p[0]++ }))
		h := e.Request(0, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
		e.Effects()
		b.ReportAllocs()
		for b.Loop() {
			e.Frame(1, 1, h, false, frame100)
			e.Send(1, h, false, reply)
			if effs := e.Effects(); len(effs) != 2 {
				b.Fatal(effs)
			}
		}
	})
	b.Run("wasm", func(b *testing.B) {
		in := newInstance(b, false)
		h := wsSession(b, in, 1)
		var batch abi.Encoder
		b.ReportAllocs()
		for b.Loop() {
			batch.Reset()
			batch.Frame(1, h, false, frame100)
			batch.Send(h, false, reply)
			out, err := in.Process(1, &batch)
			if err != nil || len(out.Effects) != 2 {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCall is the floor: one export call that does nothing much.
func BenchmarkCall(b *testing.B) {
	in := newInstance(b, false)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := in.NextDeadline(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewInstance is the cost of one more guest.
func BenchmarkNewInstance(b *testing.B) {
	mod := module(b)
	b.ReportAllocs()
	var guest uint32
	for b.Loop() {
		in, err := mod.NewInstance(b.Context(), abi.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		guest = in.mem.Size()
		_ = in.Close()
	}
	b.ReportMetric(float64(guest)/(1<<20), "MiB-guest")
}

// BenchmarkSocketIOEcho: one event in (a frame) and one emit out, each its
// own call, through the abi.Backend that hostnative drives: native, then
// WebAssembly.
func BenchmarkSocketIOEcho(b *testing.B) {
	cfg := abi.DefaultConfig()
	frame := []byte(`42["echo","hello world",{"n":1}]`)
	reply := frame[1:]
	for _, name := range []string{"native", "wasm"} {
		b.Run(name, func(b *testing.B) {
			var be abi.Backend
			var err error
			if name == "native" {
				be, err = abi.NewNative(cfg, func(p []byte) { p[0]++ })
			} else {
				be, err = module(b).NewCore(cfg)
			}
			if err != nil {
				b.Fatal(err)
			}
			h := be.Request(0, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
			be.Frame(0, 1, h, false, []byte("40"))
			be.Effects()
			be.Accept(0, h, "/", "s", "")
			be.Effects()
			b.ReportAllocs()
			for b.Loop() {
				be.Frame(1, 1, h, false, frame)
				if effs, err := be.Effects(); err != nil || len(effs) != 1 {
					b.Fatal(err, effs)
				}
				be.Emit(1, h, "/", reply, nil, 0)
				if effs, err := be.Effects(); err != nil || len(effs) != 1 {
					b.Fatal(err, effs)
				}
			}
		})
	}
}
