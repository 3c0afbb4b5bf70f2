package eio

import (
	"strconv"
	"unicode/utf8"
)

// The v3 protocol (EIO=3, socket.io 1.x/2.x clients) frames polling payloads
// differently from v4:
//   - text payloads: "<len>:<packet>" repeated, where len is the length of the
//     packet in UTF-16 code units (a JavaScript string length), and a binary
//     packet is written "b<type><base64>";
//   - binary payloads (application/octet-stream, used when the client did not
//     ask for b64 and the flush holds binary): "<0|1><len digits as bytes>0xFF<data>".

// maxLengthDigits bounds the length prefix so a hostile payload cannot make
// the decoder scan forever or overflow (the reference stops at 310 digits; we
// stop far earlier since no valid payload needs more than 10).
const maxLengthDigits = 10

// NextV3Text decodes the first packet of a v3 text payload. Records of length
// zero ("0:") are skipped; when only such records remain, p.Type is Noop with
// ok false. A malformed payload returns an error; so does an empty body, which
// the reference parser rejects as a whole (call it again only while the rest
// is not empty).
func NextV3Text(body []byte) (p Packet, rest []byte, ok bool, err error) {
	if len(body) == 0 {
		return Packet{}, nil, false, ErrEmptyPacket
	}
	for len(body) > 0 {
		n, i := 0, 0
		for ; i < len(body) && body[i] != ':'; i++ {
			c := body[i]
			// A length above len(body) can never match (a UTF-16 unit takes
			// at least one byte); refusing it early also keeps n from
			// overflowing where int has 32 bits.
			if c < '0' || c > '9' || i >= maxLengthDigits || n > len(body)/10 {
				return Packet{}, nil, false, ErrBadLength
			}
			n = n*10 + int(c-'0')
		}
		if i == 0 || i == len(body) {
			return Packet{}, nil, false, ErrBadLength
		}
		body = body[i+1:]
		size, units := 0, 0
		for units < n && size < len(body) {
			r, w := utf8.DecodeRune(body[size:])
			size += w
			units++
			if r >= 0x10000 {
				units++
			}
		}
		if units != n {
			return Packet{}, nil, false, ErrBadLength
		}
		rec := body[:size]
		body = body[size:]
		if len(rec) == 0 {
			continue
		}
		p, err := decodeV3Record(rec)
		if err != nil {
			return Packet{}, nil, false, err
		}
		return p, body, true, nil
	}
	return Packet{Type: Noop}, nil, false, nil
}

func decodeV3Record(rec []byte) (Packet, error) {
	if rec[0] != 'b' {
		return DecodeText(rec)
	}
	if len(rec) < 2 || rec[1]-'0' >= byte(numTypes) {
		return Packet{}, ErrUnknownType
	}
	data, err := decodeBase64(rec[2:])
	if err != nil {
		return Packet{}, err
	}
	return Packet{Type: PacketType(rec[1] - '0'), Binary: true, Data: data}, nil
}

// NextV3Binary decodes the first packet of a v3 binary payload.
func NextV3Binary(body []byte) (p Packet, rest []byte, err error) {
	if len(body) < 3 || body[0] > 1 {
		return Packet{}, nil, ErrBadBinaryType
	}
	isString := body[0] == 0
	n, i := 0, 1
	for ; i < len(body) && body[i] != 0xFF; i++ {
		// n > len(body)/10: the length already exceeds the body; stopping
		// here also keeps n from overflowing where int has 32 bits (a
		// negative n would make the slicing below panic).
		if body[i] > 9 || i > maxLengthDigits || n > len(body)/10 {
			return Packet{}, nil, ErrBadLength
		}
		n = n*10 + int(body[i])
	}
	if i == 1 || i == len(body) || n == 0 || n > len(body)-i-1 {
		return Packet{}, nil, ErrBadLength
	}
	rec := body[i+1 : i+1+n]
	rest = body[i+1+n:]
	if isString {
		p, err = DecodeText(rec)
	} else {
		p, err = DecodeBinaryV3(rec)
	}
	if err != nil {
		return Packet{}, nil, err
	}
	return p, rest, nil
}

// AppendV3Text appends one packet to a v3 text payload. Binary packets are
// written in the b64 form "b<type><base64>".
func AppendV3Text(dst []byte, t PacketType, binary bool, data []byte) []byte {
	if binary {
		n := 2 + (len(data)+2)/3*4
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, ':', 'b', '0'+byte(t))
		return appendBase64(dst, data)
	}
	dst = strconv.AppendInt(dst, int64(1+utf16Len(data)), 10)
	dst = append(dst, ':')
	return AppendText(dst, t, data)
}

// AppendV3Binary appends one packet to a v3 binary payload.
func AppendV3Binary(dst []byte, t PacketType, binary bool, data []byte) []byte {
	if binary {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 0)
	}
	dst = appendDigitBytes(dst, 1+len(data))
	dst = append(dst, 0xFF)
	if binary {
		dst = append(dst, byte(t))
	} else {
		dst = append(dst, '0'+byte(t))
	}
	return append(dst, data...)
}

// EmptyV3Text is the v3 encoding of a payload with no packet.
var EmptyV3Text = []byte("0:")

func appendDigitBytes(dst []byte, n int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte(n % 10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, tmp[i:]...)
}

// utf16Len is the length of the UTF-8 text b as a JavaScript string. Invalid
// bytes count as one unit each, as the replacement character they become.
func utf16Len(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			i++
			n++
			continue
		}
		r, w := utf8.DecodeRune(b[i:])
		i += w
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
