package sio

import (
	"testing"

	"github.com/siohost/siohost/core/eio"
)

// The msgpack parser against the JSON parser, for the same packets: a
// typical chat event, one with two binary values, and a ~1 KB event.
// Decoding is what Server.Message does with an incoming message (the JSON
// path validates and slices the text, the msgpack path transcodes it into
// that text); encoding is what Server.Send does with a packet the host
// encoded (the JSON path sends the text as is, the msgpack path transcodes
// it).

var benchChat = []byte(`2["chat message",{"user":"alice","text":"hello world","ts":1700000000000,"tags":["a","b"],"score":4.5,"ok":true}]`)

type benchCase struct {
	name string
	text []byte   // the JSON parser's form
	atts [][]byte // its attachments
}

func msgpackBenchCases() []benchCase {
	return []benchCase{
		{"chat", benchChat, nil},
		{"binary", benchBinary, [][]byte{make([]byte, 1000), make([]byte, 100)}},
		{"1KB", append([]byte{'2'}, benchJSON1K...), nil},
	}
}

// toMsgpack returns the msgpack form of a benchmark case.
func (c benchCase) toMsgpack(b *testing.B) []byte {
	p, ok := decodeHeader(c.text)
	if !ok {
		b.Fatal("bad header")
	}
	out, err := AppendMsgpack(nil, &p, c.atts, OrderEmit)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func BenchmarkDecodeJSONvsMsgpack(b *testing.B) {
	for _, c := range msgpackBenchCases() {
		b.Run(c.name+"/json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				benchPacket, benchErr = Decode(c.text)
				if benchPacket.Attachments > 0 {
					benchBool = CheckPlaceholders(benchPacket.Data, benchPacket.Attachments)
				}
			}
		})
		in := c.toMsgpack(b)
		b.Run(c.name+"/msgpack", func(b *testing.B) {
			var d mpDecoder
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				benchPacket, _, benchErr = d.decode(in)
			}
			if benchErr != nil {
				b.Fatal(benchErr)
			}
		})
	}
}

func BenchmarkEncodeJSONvsMsgpack(b *testing.B) {
	for _, c := range msgpackBenchCases() {
		b.Run(c.name+"/json", func(b *testing.B) {
			// What the JSON path does with the host's text: nothing but
			// hand it on (measured as a copy into a reused buffer).
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				buf = append(buf[:0], c.text...)
			}
			benchBytes = buf
		})
		b.Run(c.name+"/msgpack", func(b *testing.B) {
			var e mpEncoder
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			b.SetBytes(int64(len(c.text)))
			for b.Loop() {
				p, _ := decodeHeader(c.text)
				buf, benchErr = e.packet(buf[:0], &p, c.atts, OrderEmit)
			}
			benchBytes = buf
		})
	}
}

// The whole Socket.IO layer: an event message in (to the EffEvent), and
// an event out (Server.Send, to the write effects), on a WebSocket
// session, with each parser.
func BenchmarkServerJSONvsMsgpack(b *testing.B) {
	for _, parser := range []struct {
		name string
		p    Parser
	}{{"json", ParserJSON}, {"msgpack", ParserMsgpack}} {
		h := newHarness(b, nil, Config{Parser: parser.p})
		hd := h.e.Request(0, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
		h.e.Effects()
		connect := []byte("0")
		if parser.p == ParserMsgpack {
			connect = []byte("\x82\xa4type\x00\xa3nsp\xa1/")
		}
		h.s.Message(hd, parser.p == ParserMsgpack, connect)
		h.e.Effects()
		h.s.Accept(0, hd, "/", "sid", "")
		h.e.Effects()
		in := benchChat
		if parser.p == ParserMsgpack {
			in = benchCase{text: benchChat}.toMsgpack(b)
		}
		b.Run("in/"+parser.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.s.Message(hd, parser.p == ParserMsgpack, in)
				if effs := h.e.Effects(); len(effs) != 1 {
					b.Fatal(effs)
				}
			}
		})
		b.Run("out/"+parser.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !h.s.Send(1, hd, "/", benchChat, nil, 0) {
					b.Fatal("not sent")
				}
				h.e.Effects()
			}
		})
	}
}
