package sio

import (
	"strconv"
	"testing"
)

// Sinks keep the compiler from discarding the benchmarked work.
var (
	benchPacket Packet
	benchBytes  []byte
	benchErr    error
	benchBool   bool
	benchInt    int
)

var (
	benchEvent  = []byte(`2["message",1,"2",{"3":[true]}]`)
	benchBinary = []byte(`52-789["upload",{"name":"photo.png","parts":[{"_placeholder":true,"num":0},{"num":1,"_placeholder":true}],"meta":{"w":640,"h":480,"tags":["a","b"]}}]`)
	benchJSON1K = func() []byte {
		// A realistic ~1 KB event payload: nested objects, arrays, numbers,
		// escapes and non-ASCII text.
		b := []byte(`["chat:history",{"room":"general","messages":[`)
		for i := 0; len(b) < 960; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = strconv.AppendInt(b, int64(1000+i), 10)
			b = append(b, `,"user":"alice","text":"h\u00e9llo \"world\" 😀","ts":1.7e12,"seen":true,"tags":[]}`...)
		}
		return append(b, `]}]`...)
	}()
)

func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchEvent)))
	for b.Loop() {
		benchPacket, benchErr = Decode(benchEvent)
	}
}

func BenchmarkDecodeBinaryEvent(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBinary)))
	for b.Loop() {
		benchPacket, benchErr = Decode(benchBinary)
	}
}

func BenchmarkValidJSON1K(b *testing.B) {
	if !ValidJSON(benchJSON1K) {
		b.Fatal("benchmark payload is not valid")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchJSON1K)))
	for b.Loop() {
		benchBool = ValidJSON(benchJSON1K)
	}
}

func BenchmarkAppendPacketReuse(b *testing.B) {
	p, err := Decode(benchEvent)
	if err != nil {
		b.Fatal(err)
	}
	p.Nsp = []byte("/admin")
	p.ID = 456
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendPacket(buf[:0], &p)
	}
	benchBytes = buf
}

func BenchmarkPlaceholders(b *testing.B) {
	p, err := Decode(benchBinary)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(p.Data)))
	for b.Loop() {
		n := 0
		Placeholders(p.Data, func(_, _, num int) bool { n += num; return true })
		benchInt = n
	}
}

func BenchmarkCheckPlaceholders(b *testing.B) {
	p, err := Decode(benchBinary)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		benchBool = CheckPlaceholders(p.Data, p.Attachments)
	}
}

func BenchmarkEventNameArgs(b *testing.B) {
	payload := benchEvent[1:]
	b.ReportAllocs()
	for b.Loop() {
		_, args := EventName(payload)
		n := 0
		for {
			a, ok := args.Next()
			if !ok {
				break
			}
			n += len(a)
		}
		benchInt = n
	}
}
