package eio

import "testing"

// Sinks keep the compiler from discarding the benchmarked work.
var (
	benchPacket Packet
	benchBytes  []byte
	benchErr    error
)

var (
	benchMsg       = []byte(`42["message",{"user":"alice","text":"hello world"}]`)
	benchV4Text3   = []byte("42[\"a\",1]\x1e42[\"b\",{\"x\":2}]\x1e42[\"c\",\"three\"]")
	benchV4Mixed3  = []byte("451-[\"upload\",{\"_placeholder\":true,\"num\":0}]\x1ebAQIDBAUGBwgJCgsMDQ4PEA==\x1e42[\"done\"]")
	benchV3Text3   = []byte(`9:42["a",1]17:42["message","€"]6:b4AQID`)
	benchV3Binary2 = append(append([]byte{0, 5, 0, 0xFF}, `451-["message-back",{"_placeholder":true,"num":0}]`...), 1, 4, 0xFF, 4, 1, 2, 3)
)

func BenchmarkDecodeTextMessage(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchMsg)))
	for b.Loop() {
		benchPacket, benchErr = DecodeText(benchMsg)
	}
}

func BenchmarkAppendTextReuse(b *testing.B) {
	b.ReportAllocs()
	data := benchMsg[1:]
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = AppendText(buf[:0], Message, data)
	}
	benchBytes = buf
}

func benchNextV4(b *testing.B, payload []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		n := 0
		for body := payload; body != nil; n++ {
			benchPacket, body, benchErr = NextV4(body)
			if benchErr != nil {
				b.Fatal(benchErr)
			}
		}
		if n != 3 {
			b.Fatalf("%d packets", n)
		}
	}
}

// BenchmarkNextV4Text3 walks a payload of three text packets (no allocation).
func BenchmarkNextV4Text3(b *testing.B) { benchNextV4(b, benchV4Text3) }

// BenchmarkNextV4Mixed3 walks text, binary (base64, one allocation), text.
func BenchmarkNextV4Mixed3(b *testing.B) { benchNextV4(b, benchV4Mixed3) }

func BenchmarkAppendV4Mixed3(b *testing.B) {
	b.ReportAllocs()
	bin := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = AppendV4(buf[:0], true, Message, false, []byte(`51-["upload",{"_placeholder":true,"num":0}]`))
		buf = AppendV4(buf, false, Message, true, bin)
		buf = AppendV4(buf, false, Message, false, []byte(`2["done"]`))
	}
	benchBytes = buf
}

func BenchmarkNextV3Text3(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchV3Text3)))
	for b.Loop() {
		for body := benchV3Text3; len(body) > 0; {
			benchPacket, body, _, benchErr = NextV3Text(body)
			if benchErr != nil {
				b.Fatal(benchErr)
			}
		}
	}
}

// BenchmarkNextV3TextOnly decodes the text packets of the payload above
// (no base64, so no allocation).
func BenchmarkNextV3TextOnly(b *testing.B) {
	payload := benchV3Text3[:len(benchV3Text3)-len("6:b4AQID")]
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		for body := payload; len(body) > 0; {
			benchPacket, body, _, benchErr = NextV3Text(body)
			if benchErr != nil {
				b.Fatal(benchErr)
			}
		}
	}
}

func BenchmarkAppendV3Text3(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = AppendV3Text(buf[:0], Message, false, []byte(`2["a",1]`))
		buf = AppendV3Text(buf, Message, false, []byte(`2["message","€"]`))
		buf = AppendV3Text(buf, Message, true, []byte{1, 2, 3})
	}
	benchBytes = buf
}

func BenchmarkNextV3Binary2(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchV3Binary2)))
	for b.Loop() {
		for body := benchV3Binary2; len(body) > 0; {
			benchPacket, body, benchErr = NextV3Binary(body)
			if benchErr != nil {
				b.Fatal(benchErr)
			}
		}
	}
}

func BenchmarkAppendV3Binary2(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = AppendV3Binary(buf[:0], Message, false, []byte(`51-["message-back",{"_placeholder":true,"num":0}]`))
		buf = AppendV3Binary(buf, Message, true, []byte{1, 2, 3})
	}
	benchBytes = buf
}
