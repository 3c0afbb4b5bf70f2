package eio

import (
	"bytes"
	"encoding/base64"
)

// recordSeparator joins the packets of a v4 polling payload.
const recordSeparator = 0x1e

// NextV4 decodes the first packet of a v4 polling payload and returns the
// rest of the payload (nil after the last packet). A binary record is
// "b"+base64 and is always a message; decoding it allocates the decoded
// bytes, text records alias body.
func NextV4(body []byte) (p Packet, rest []byte, err error) {
	rec := body
	if i := bytes.IndexByte(body, recordSeparator); i >= 0 {
		rec, rest = body[:i], body[i+1:]
	}
	p, err = DecodeV4Record(rec)
	if err != nil {
		return Packet{}, nil, err
	}
	return p, rest, nil
}

// DecodeV4Record decodes one v4 packet in text form: a type digit and its
// data, or "b"+base64 for a binary message. The latter is how polling
// payloads carry binary, and how clients with forceBase64 send it over
// WebSocket text frames.
func DecodeV4Record(rec []byte) (Packet, error) {
	if len(rec) > 0 && rec[0] == 'b' {
		data, err := decodeBase64(rec[1:])
		if err != nil {
			return Packet{}, err
		}
		return Packet{Type: Message, Binary: true, Data: data}, nil
	}
	return DecodeText(rec)
}

// DecodeV3Record decodes one v3 packet in text form: a type digit and its
// data, or "b<type>"+base64 for a binary packet.
func DecodeV3Record(rec []byte) (Packet, error) {
	if len(rec) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	return decodeV3Record(rec)
}

// AppendV4 appends one packet to a v4 polling payload, adding the separator
// when dst already holds a packet of this payload (first reports whether it
// is the first).
func AppendV4(dst []byte, first bool, t PacketType, binary bool, data []byte) []byte {
	if !first {
		dst = append(dst, recordSeparator)
	}
	if binary {
		dst = append(dst, 'b')
		return appendBase64(dst, data)
	}
	return AppendText(dst, t, data)
}

func decodeBase64(src []byte) ([]byte, error) {
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		return nil, ErrBadBase64
	}
	return dst[:n], nil
}

func appendBase64(dst, data []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(data))
	dst = grow(dst, n)
	base64.StdEncoding.Encode(dst[len(dst):len(dst)+n], data)
	return dst[:len(dst)+n]
}

// grow makes room for n more bytes without changing len(dst).
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	nb := make([]byte, len(dst), 2*cap(dst)+n)
	copy(nb, dst)
	return nb
}
