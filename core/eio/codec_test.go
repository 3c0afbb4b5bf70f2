package eio

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"unicode/utf16"

	"github.com/siohost/siohost/internal/testvec"
	"github.com/stretchr/testify/require"
)

// The golden vectors live in core/testdata/codec/*.json, in a
// language-neutral format (described by the "format" field of each file) so
// that a WebAssembly build can replay them unchanged. They are derived from
// the protocol facts (PROTOCOL.md), never recorded from this code.
const vectorGlob = "../testdata/codec/*.json"

// vecBytes is a byte string: exactly one of text (UTF-8) or hex.
type vecBytes = testvec.Bytes

type vecPacket struct {
	Type   int      `json:"type"`
	Binary bool     `json:"binary"`
	Data   vecBytes `json:"data"`
}

type vector struct {
	Name    string      `json:"name"`
	Path    string      `json:"path"`
	Op      string      `json:"op"`
	Input   *vecBytes   `json:"input,omitempty"`
	Packets []vecPacket `json:"packets"`
	Error   string      `json:"error,omitempty"`
	Output  *vecBytes   `json:"output,omitempty"`
}

type vectorFile = testvec.File[vector]

// Codec paths of the vector files.
const (
	pathPacketText = "packet_text"
	pathWSV4Binary = "ws_v4_binary"
	pathWSV3Binary = "ws_v3_binary"
	pathPayloadV4  = "payload_v4"
	pathPayloadV3T = "payload_v3_text"
	pathPayloadV3B = "payload_v3_binary"
)

// vectorErrors maps the language-neutral error names to the codec's errors.
var vectorErrors = map[string]error{
	"empty_packet":       ErrEmptyPacket,
	"unknown_type":       ErrUnknownType,
	"bad_base64":         ErrBadBase64,
	"bad_length":         ErrBadLength,
	"bad_binary_framing": ErrBadBinaryType,
}

func loadVectorFiles(t testing.TB) []vectorFile {
	t.Helper()
	return testvec.Load[vector](t, vectorGlob, 5)
}

// cmpPacket is the comparable, printable form of a decoded packet.
type cmpPacket struct {
	Type   PacketType
	Binary bool
	Data   string // hex
}

func toCmp(ps []Packet) []cmpPacket {
	out := make([]cmpPacket, 0, len(ps))
	for _, p := range ps {
		out = append(out, cmpPacket{p.Type, p.Binary, hex.EncodeToString(p.Data)})
	}
	return out
}

func wantPackets(t testing.TB, vs []vecPacket) []Packet {
	t.Helper()
	out := make([]Packet, 0, len(vs))
	for _, v := range vs {
		require.True(t, v.Type >= 0 && v.Type < int(numTypes), "packet type %d", v.Type)
		out = append(out, Packet{Type: PacketType(v.Type), Binary: v.Binary, Data: v.Data.Get(t)})
	}
	return out
}

// decodeAll decodes a whole input along a codec path, the way a host walks a
// frame or a request body: the packets decoded before the first error, and
// that error.
func decodeAll(path string, in []byte) ([]Packet, error) {
	var out []Packet
	// Every step consumes at least one byte, so len(in)+1 steps bound any
	// correct decoder; more means it stopped making progress.
	maxSteps := len(in) + 1
	switch path {
	case pathPacketText:
		p, err := DecodeText(in)
		if err != nil {
			return nil, err
		}
		return []Packet{p}, nil
	case pathWSV4Binary:
		return []Packet{DecodeBinaryV4(in)}, nil
	case pathWSV3Binary:
		p, err := DecodeBinaryV3(in)
		if err != nil {
			return nil, err
		}
		return []Packet{p}, nil
	case pathPayloadV4:
		// rest is nil after the last record; an empty non-nil rest means a
		// trailing separator, i.e. an empty (invalid) record.
		for body := in; ; {
			p, rest, err := NextV4(body)
			if err != nil {
				return out, err
			}
			out = append(out, p)
			if rest == nil {
				return out, nil
			}
			if len(out) > maxSteps || len(rest) >= len(body) {
				return out, errNoProgress
			}
			body = rest
		}
	case pathPayloadV3T:
		for body := in; ; {
			p, rest, ok, err := NextV3Text(body)
			if err != nil {
				return out, err
			}
			if !ok {
				if p.Type != Noop || len(rest) != 0 {
					return out, errBadEnd
				}
				return out, nil
			}
			out = append(out, p)
			if len(rest) == 0 {
				return out, nil
			}
			if len(out) > maxSteps || len(rest) >= len(body) {
				return out, errNoProgress
			}
			body = rest
		}
	case pathPayloadV3B:
		for body := in; len(body) > 0; {
			p, rest, err := NextV3Binary(body)
			if err != nil {
				return out, err
			}
			out = append(out, p)
			if len(out) > maxSteps || len(rest) >= len(body) {
				return out, errNoProgress
			}
			body = rest
		}
		return out, nil
	}
	return nil, errUnknownPath
}

var (
	errNoProgress  = errors.New("test: decoder made no progress")
	errBadEnd      = errors.New("test: NextV3Text ended with ok=false but not Noop/empty rest")
	errUnknownPath = errors.New("test: unknown codec path")
)

// encodeAll appends the encoding of ps along a codec path to dst.
func encodeAll(t testing.TB, path string, dst []byte, ps []Packet) []byte {
	t.Helper()
	switch path {
	case pathPacketText:
		require.Len(t, ps, 1)
		require.False(t, ps[0].Binary, "packet_text encodes text packets only")
		return AppendText(dst, ps[0].Type, ps[0].Data)
	case pathPayloadV4:
		for i, p := range ps {
			dst = AppendV4(dst, i == 0, p.Type, p.Binary, p.Data)
		}
		return dst
	case pathPayloadV3T:
		if len(ps) == 0 {
			return append(dst, EmptyV3Text...)
		}
		for _, p := range ps {
			dst = AppendV3Text(dst, p.Type, p.Binary, p.Data)
		}
		return dst
	case pathPayloadV3B:
		for _, p := range ps {
			dst = AppendV3Binary(dst, p.Type, p.Binary, p.Data)
		}
		return dst
	}
	t.Fatalf("no encoder for path %q", path)
	return nil
}

func TestCodecVectors(t *testing.T) {
	files := loadVectorFiles(t)

	seenOps := map[string]bool{}
	seenErrs := map[string]bool{}
	textTypesDec := map[int]bool{}
	textTypesEnc := map[int]bool{}

	for _, nf := range files {
		names := map[string]bool{}
		for _, v := range nf.Vectors {
			key := v.Op + " " + v.Name
			require.False(t, names[key], "%s: duplicate vector %q", nf.Name, key)
			names[key] = true
			seenOps[v.Path+"/"+v.Op] = true
			t.Run(nf.Name+"/"+key, func(t *testing.T) {
				switch v.Op {
				case "decode":
					checkDecodeVector(t, v)
					if v.Error != "" {
						seenErrs[v.Error] = true
					} else if v.Path == pathPacketText {
						textTypesDec[v.Packets[0].Type] = true
					}
				case "encode":
					checkEncodeVector(t, v)
					if v.Path == pathPacketText {
						textTypesEnc[v.Packets[0].Type] = true
					}
				default:
					t.Fatalf("unknown op %q", v.Op)
				}
			})
		}
	}

	// Every codec path is covered, and every error and packet type occurs.
	for _, want := range []string{
		pathPacketText + "/decode", pathPacketText + "/encode",
		pathWSV4Binary + "/decode", pathWSV3Binary + "/decode",
		pathPayloadV4 + "/decode", pathPayloadV4 + "/encode",
		pathPayloadV3T + "/decode", pathPayloadV3T + "/encode",
		pathPayloadV3B + "/decode", pathPayloadV3B + "/encode",
	} {
		require.True(t, seenOps[want], "no vector for %s", want)
	}
	for name := range vectorErrors {
		require.True(t, seenErrs[name], "no vector expects error %s", name)
	}
	for typ := 0; typ < int(numTypes); typ++ {
		require.True(t, textTypesDec[typ], "no packet_text decode vector of type %d", typ)
		require.True(t, textTypesEnc[typ], "no packet_text encode vector of type %d", typ)
	}
}

func checkDecodeVector(t *testing.T, v vector) {
	require.Nil(t, v.Output, "decode vectors have no output")
	in := v.Input.Get(t)
	want := wantPackets(t, v.Packets)

	// Decode from a window of a larger buffer whose next bytes look like
	// valid input, with the capacity capped: a decoder that reslices past
	// its input panics instead of reading them.
	buf := append(bytes.Repeat([]byte{'9'}, 3), in...)
	buf = append(buf, ":9\x1e\xff"...)
	got, err := decodeAll(v.Path, buf[3:3+len(in):3+len(in)])
	if v.Error != "" {
		wantErr, ok := vectorErrors[v.Error]
		require.True(t, ok, "unknown error name %q", v.Error)
		require.ErrorIs(t, err, wantErr)
	} else {
		require.NoError(t, err)
	}
	require.Equal(t, toCmp(want), toCmp(got))
}

func checkEncodeVector(t *testing.T, v vector) {
	require.Nil(t, v.Input, "encode vectors have no input")
	require.Empty(t, v.Error, "encode vectors have no error")
	ps := wantPackets(t, v.Packets)
	want := v.Output.Get(t)

	got := encodeAll(t, v.Path, nil, ps)
	require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(got))

	// Appending keeps what dst holds, with or without spare capacity.
	prefix := []byte("prefix")
	got = encodeAll(t, v.Path, prefix, ps)
	require.Equal(t, "prefix"+string(want), string(got))
	roomy := append(make([]byte, 0, 4096), "prefix"...)
	got = encodeAll(t, v.Path, roomy, ps)
	require.Equal(t, "prefix"+string(want), string(got))

	// The output decodes back to the same packets.
	back, err := decodeAll(v.Path, want)
	require.NoError(t, err)
	require.Equal(t, toCmp(ps), toCmp(back))
}

func TestDecodeTextAliasesInput(t *testing.T) {
	in := []byte(`42["message","hello"]`)
	p, err := DecodeText(in)
	require.NoError(t, err)
	require.Same(t, &in[1], &p.Data[0])

	p, rest, err := NextV4([]byte("4a\x1e4b"))
	require.NoError(t, err)
	require.Equal(t, "a", string(p.Data))
	require.Equal(t, "4b", string(rest))
	_, rest, err = NextV4(rest)
	require.NoError(t, err)
	require.Nil(t, rest, "rest is nil after the last record")
}

func TestPacketTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}
	for i, w := range want {
		require.Equal(t, w, PacketType(i).String())
	}
	require.Equal(t, "unknown", PacketType(7).String())
	require.Equal(t, "unknown", PacketType(255).String())
}

// utf16Len must agree with JavaScript's String.prototype.length of the
// decoded text (invalid UTF-8 becomes one U+FFFD per bad byte, as Go's
// string-to-rune conversion does).
func TestUTF16Len(t *testing.T) {
	for _, s := range []string{"", "a", "€", "😀", `42["message","€"]`, `42["message","😀"]`, "\xff", "\xe2\x82", "a\xf0\x9f\x98", "\xed\xa0\x80"} {
		require.Equal(t, len(utf16.Encode([]rune(s))), utf16Len([]byte(s)), "%q", s)
	}
	require.Equal(t, 17, utf16Len([]byte(`42["message","€"]`)))
	require.Equal(t, 18, utf16Len([]byte(`42["message","😀"]`)))
}

// TestV3TextNoPacket: when only empty records remain, NextV3Text reports
// ok=false with a Noop packet, as documented.
func TestV3TextNoPacket(t *testing.T) {
	p, rest, ok, err := NextV3Text([]byte("0:0:"))
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, Noop, p.Type)
	require.Empty(t, rest)
}

// TestCodecZeroAllocs pins the allocation-free paths: decoding text packets
// and payloads (data aliases the input) and encoding into a reused buffer.
func TestCodecZeroAllocs(t *testing.T) {
	msg := []byte(`42["message","hello"]`)
	v4 := []byte("4hello\x1e42[\"a\",1]\x1e6")
	v3 := []byte(`6:4hello17:42["message","€"]1:6`)
	v3b := []byte{0, 6, 0xFF, '4', 'h', 'e', 'l', 'l', 'o', 1, 4, 0xFF, 4, 1, 2, 3}
	ws3 := []byte{4, 1, 2, 3}
	buf := make([]byte, 0, 1024)

	cases := []struct {
		name string
		f    func()
	}{
		{"DecodeText", func() {
			p, err := DecodeText(msg)
			if err != nil || p.Type != Message {
				panic("decode")
			}
		}},
		{"DecodeBinaryV3", func() {
			if _, err := DecodeBinaryV3(ws3); err != nil {
				panic("decode")
			}
		}},
		{"DecodeBinaryV4", func() { _ = DecodeBinaryV4(ws3) }},
		{"NextV4 text payload", func() {
			for body := v4; body != nil; {
				var err error
				if _, body, err = NextV4(body); err != nil {
					panic("decode")
				}
			}
		}},
		{"NextV3Text text payload", func() {
			for body := v3; len(body) > 0; {
				var err error
				if _, body, _, err = NextV3Text(body); err != nil {
					panic("decode")
				}
			}
		}},
		{"NextV3Binary", func() {
			for body := v3b; len(body) > 0; {
				var err error
				if _, body, err = NextV3Binary(body); err != nil {
					panic("decode")
				}
			}
		}},
		{"AppendText", func() { buf = AppendText(buf[:0], Message, msg[1:]) }},
		{"AppendV4", func() {
			buf = AppendV4(buf[:0], true, Message, false, msg[1:])
			buf = AppendV4(buf, false, Message, true, ws3)
		}},
		{"AppendV3Text", func() {
			buf = AppendV3Text(buf[:0], Message, false, msg[1:])
			buf = AppendV3Text(buf, Message, true, ws3)
		}},
		{"AppendV3Binary", func() {
			buf = AppendV3Binary(buf[:0], Message, false, msg[1:])
			buf = AppendV3Binary(buf, Message, true, ws3)
		}},
	}
	for _, c := range cases {
		require.Zero(t, testing.AllocsPerRun(100, c.f), c.name)
	}
}
