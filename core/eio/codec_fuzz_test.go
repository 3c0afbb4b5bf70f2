package eio

import (
	"bytes"
	"testing"
	"unsafe"
)

// The fuzz targets check, for any input: no panic, progress (every step
// consumes input), decoded data within bounds (aliases of the input lie inside
// it), and round trips where they hold. Seeds: the committed corpora under
// testdata/fuzz/<FuzzName>/ plus every golden vector of the target's path.

// addVectorSeeds adds the inputs (decode) and outputs (encode) of the golden
// vectors of the given paths.
func addVectorSeeds(f *testing.F, paths ...string) {
	for _, nf := range loadVectorFiles(f) {
		for _, v := range nf.Vectors {
			for _, p := range paths {
				if v.Path != p {
					continue
				}
				switch {
				case v.Input != nil:
					f.Add(v.Input.Get(f))
				case v.Output != nil:
					f.Add(v.Output.Get(f))
				}
			}
		}
	}
}

// within reports whether sub lies inside buf's memory (or is empty).
func within(sub, buf []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(buf) == 0 {
		return false
	}
	s := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return s >= b && s+uintptr(len(sub)) <= b+uintptr(len(buf))
}

// checkPacket checks the invariants every decoded packet has.
func checkPacket(t *testing.T, p Packet, in []byte) {
	t.Helper()
	if p.Type >= numTypes {
		t.Fatalf("type %d out of range", p.Type)
	}
	if len(p.Data) > len(in) {
		t.Fatalf("data of %d bytes from %d input bytes", len(p.Data), len(in))
	}
}

func samePackets(a, b []Packet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || a[i].Binary != b[i].Binary || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

func FuzzDecodeText(f *testing.F) {
	addVectorSeeds(f, pathPacketText)
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := DecodeText(in)
		if err != nil {
			switch {
			case len(in) == 0:
				if err != ErrEmptyPacket {
					t.Fatalf("empty input: %v", err)
				}
			case in[0] >= '0' && in[0] <= '6':
				t.Fatalf("valid type %q refused: %v", in[0], err)
			case err != ErrUnknownType:
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		checkPacket(t, p, in)
		if p.Binary || byte(p.Type) != in[0]-'0' || len(p.Data) != len(in)-1 || !within(p.Data, in) {
			t.Fatalf("bad packet %+v from %q", p, in)
		}
		if out := AppendText(nil, p.Type, p.Data); !bytes.Equal(out, in) {
			t.Fatalf("round trip %q -> %q", in, out)
		}
	})
}

func FuzzDecodeBinaryV3(f *testing.F) {
	addVectorSeeds(f, pathWSV3Binary)
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := DecodeBinaryV3(in)
		if err != nil {
			if len(in) > 0 && in[0] < byte(numTypes) {
				t.Fatalf("valid type byte %d refused: %v", in[0], err)
			}
			return
		}
		checkPacket(t, p, in)
		if !p.Binary || byte(p.Type) != in[0] || len(p.Data) != len(in)-1 || !within(p.Data, in) {
			t.Fatalf("bad packet %+v from %x", p, in)
		}
		if out := append([]byte{byte(p.Type)}, p.Data...); !bytes.Equal(out, in) {
			t.Fatalf("round trip %x -> %x", in, out)
		}
		// v4 binary frames carry no type byte: the whole frame is data.
		if q := DecodeBinaryV4(in); q.Type != Message || !q.Binary || !bytes.Equal(q.Data, in) {
			t.Fatalf("DecodeBinaryV4 %x -> %+v", in, q)
		}
	})
}

func FuzzNextV4(f *testing.F) {
	addVectorSeeds(f, pathPayloadV4)
	f.Fuzz(func(t *testing.T, in []byte) {
		var ps []Packet
		hasBinary := false
		var err error
		for body, steps := in, 0; ; steps++ {
			if steps > len(in) {
				t.Fatalf("no progress on %q", in)
			}
			var p Packet
			var rest []byte
			p, rest, err = NextV4(body)
			if err != nil {
				if rest != nil || p.Data != nil {
					t.Fatalf("error with leftovers: %+v %q", p, rest)
				}
				break
			}
			checkPacket(t, p, body)
			if p.Binary {
				hasBinary = true
				if p.Type != Message {
					t.Fatalf("binary record of type %v", p.Type)
				}
				// decoded base64 is at most 3/4 of the record
				if len(p.Data)*4 > 3*len(body) {
					t.Fatalf("%d data bytes from a %d byte body", len(p.Data), len(body))
				}
			} else if !within(p.Data, body) || bytes.IndexByte(p.Data, recordSeparator) >= 0 {
				t.Fatalf("text data %q not a record of %q", p.Data, body)
			}
			ps = append(ps, p)
			if rest == nil {
				break
			}
			if len(rest) >= len(body) || !within(rest, body) {
				t.Fatalf("rest %q not a suffix of %q", rest, body)
			}
			body = rest
		}
		if err == nil {
			// Re-encoding gives the same packets; text-only payloads are
			// reproduced byte for byte.
			var out []byte
			for i, p := range ps {
				out = AppendV4(out, i == 0, p.Type, p.Binary, p.Data)
			}
			if !hasBinary && !bytes.Equal(out, in) {
				t.Fatalf("round trip %q -> %q", in, out)
			}
			back, err := decodeAll(pathPayloadV4, out)
			if err != nil || !samePackets(back, ps) {
				t.Fatalf("re-decode of %q: %v", out, err)
			}
		}
		// The input as the data of a binary packet survives the payload
		// encoding, alone and between text packets.
		enc := AppendV4(nil, true, Message, false, []byte("x"))
		enc = AppendV4(enc, false, Message, true, in)
		enc = AppendV4(enc, false, Noop, false, nil)
		back, err := decodeAll(pathPayloadV4, enc)
		want := []Packet{{Type: Message, Data: []byte("x")}, {Type: Message, Binary: true, Data: in}, {Type: Noop}}
		if err != nil || !samePackets(back, want) {
			t.Fatalf("binary %x in %q: %v", in, enc, err)
		}
	})
}

func FuzzNextV3Text(f *testing.F) {
	addVectorSeeds(f, pathPayloadV3T)
	f.Fuzz(func(t *testing.T, in []byte) {
		var ps []Packet
		var err error
		for body, steps := in, 0; ; steps++ {
			if steps > len(in) {
				t.Fatalf("no progress on %q", in)
			}
			p, rest, ok, e := NextV3Text(body)
			if e != nil {
				if ok || rest != nil {
					t.Fatalf("error with ok=%v rest=%q", ok, rest)
				}
				err = e
				break
			}
			if !ok {
				if p.Type != Noop || len(rest) != 0 {
					t.Fatalf("end with %+v rest %q", p, rest)
				}
				break
			}
			checkPacket(t, p, body)
			if !p.Binary && !within(p.Data, body) {
				t.Fatalf("text data %q not inside %q", p.Data, body)
			}
			if len(rest) >= len(body) || !within(rest, body) {
				t.Fatalf("rest %q not a suffix of %q", rest, body)
			}
			ps = append(ps, p)
			if len(rest) == 0 {
				break
			}
			body = rest
		}
		if err == nil {
			// Re-encoding gives the same packets (not always the same bytes:
			// "0:" records and leading zeros are dropped, base64 normalized).
			out := encodeAll(t, pathPayloadV3T, nil, ps)
			back, err := decodeAll(pathPayloadV3T, out)
			if err != nil || !samePackets(back, ps) {
				t.Fatalf("re-decode of %q (from %q): %v", out, in, err)
			}
		}
		// Any bytes survive as the data of a text or a binary packet: the
		// UTF-16 length the encoder writes is the one the decoder counts.
		enc := AppendV3Text(nil, Message, false, in)
		enc = AppendV3Text(enc, Message, true, in)
		enc = AppendV3Text(enc, Ping, false, nil)
		back, err := decodeAll(pathPayloadV3T, enc)
		want := []Packet{{Type: Message, Data: in}, {Type: Message, Binary: true, Data: in}, {Type: Ping}}
		if err != nil || !samePackets(back, want) {
			t.Fatalf("data %q in %q: %v", in, enc, err)
		}
	})
}

func FuzzNextV3Binary(f *testing.F) {
	addVectorSeeds(f, pathPayloadV3B)
	f.Fuzz(func(t *testing.T, in []byte) {
		var ps []Packet
		var err error
		for body, steps := in, 0; len(body) > 0; steps++ {
			if steps > len(in) {
				t.Fatalf("no progress on %x", in)
			}
			var p Packet
			var rest []byte
			p, rest, err = NextV3Binary(body)
			if err != nil {
				if rest != nil {
					t.Fatalf("error with rest %x", rest)
				}
				break
			}
			checkPacket(t, p, body)
			if !within(p.Data, body) || len(rest) >= len(body) || !within(rest, body) {
				t.Fatalf("packet %+v / rest %x outside %x", p, rest, body)
			}
			ps = append(ps, p)
			body = rest
		}
		if err == nil {
			out := encodeAll(t, pathPayloadV3B, nil, ps)
			back, err := decodeAll(pathPayloadV3B, out)
			if err != nil || !samePackets(back, ps) {
				t.Fatalf("re-decode of %x (from %x): %v", out, in, err)
			}
		}
		enc := AppendV3Binary(nil, Message, false, in)
		enc = AppendV3Binary(enc, Message, true, in)
		enc = AppendV3Binary(enc, Noop, false, nil)
		back, err := decodeAll(pathPayloadV3B, enc)
		want := []Packet{{Type: Message, Data: in}, {Type: Message, Binary: true, Data: in}, {Type: Noop}}
		if err != nil || !samePackets(back, want) {
			t.Fatalf("data %x in %x: %v", in, enc, err)
		}
	})
}
