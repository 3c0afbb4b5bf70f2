package sio

import (
	"errors"
	"math"
	"strconv"
)

// Parser is the packet encoding a server speaks: the reference's parser
// option. Every client of a server must use the same one.
type Parser uint8

const (
	// ParserJSON is socket.io-parser, the reference's default: a text
	// packet whose payload is JSON, followed by its binary attachments as
	// separate binary messages.
	ParserJSON Parser = iota
	// ParserMsgpack is socket.io-msgpack-parser 3 (notepack.io): each
	// packet is one msgpack map {type, data, nsp, id} sent as a single
	// binary Engine.IO message, binary values inline. Text messages are
	// invalid. See DecodeMsgpack and AppendMsgpack for how its values map
	// to the JSON form the rest of the core and the hosts work with.
	ParserMsgpack
)

// Errors of the msgpack parser.
var (
	ErrMsgpack     = errors.New("sio: invalid msgpack packet")
	ErrMsgpackText = errors.New("sio: text message with the msgpack parser")
)

// MsgpackOrder is the order in which AppendMsgpack writes an event's keys:
// the reference writes them in the order its server builds the packet,
// which depends on how the packet was sent.
type MsgpackOrder uint8

const (
	// OrderEmit is the order of a socket's emit: type, data, id, nsp.
	OrderEmit MsgpackOrder = iota
	// OrderBroadcast is the order of the adapter's broadcasts: type,
	// data, nsp, id.
	OrderBroadcast
)

// The msgpack format bytes used here.
const (
	mpNil      = 0xc0
	mpFalse    = 0xc2
	mpTrue     = 0xc3
	mpBin8     = 0xc4
	mpBin16    = 0xc5
	mpBin32    = 0xc6
	mpExt8     = 0xc7
	mpExt16    = 0xc8
	mpExt32    = 0xc9
	mpFloat32  = 0xca
	mpFloat64  = 0xcb
	mpUint8    = 0xcc
	mpUint16   = 0xcd
	mpUint32   = 0xce
	mpUint64   = 0xcf
	mpInt8     = 0xd0
	mpInt16    = 0xd1
	mpInt32    = 0xd2
	mpInt64    = 0xd3
	mpFixExt1  = 0xd4
	mpFixExt2  = 0xd5
	mpFixExt4  = 0xd6
	mpFixExt8  = 0xd7
	mpFixExt16 = 0xd8
	mpStr8     = 0xd9
	mpStr16    = 0xda
	mpStr32    = 0xdb
	mpArray16  = 0xdc
	mpArray32  = 0xdd
	mpMap16    = 0xde
	mpMap32    = 0xdf
)

// maxSafe is JavaScript's largest safe integer: ack ids stay within it.
const maxSafe = 1<<53 - 1

// DecodeMsgpack decodes one packet of socket.io-msgpack-parser into the
// form of the JSON parser: the packet (Data a new JSON text, Nsp aliasing
// b) and its binary values (aliasing b), which Data refers to by
// placeholders, {"_placeholder":true,"num":N}, as a BINARY_EVENT or
// BINARY_ACK of the JSON parser does. It never panics, and it allocates
// two slices sized by what it found (at most about 16 bytes of JSON per
// byte of b), whatever lengths b claims.
//
// The packet is checked as the reference's decoder checks it: a map whose
// type is an integer from 0 to 4, whose nsp is a string and whose data
// suits the type; other keys are ignored, and of keys given twice the last
// counts. Beyond the reference, siohost refuses what it cannot carry, and
// what its JSON parser refuses too:
//   - an event whose data is not a non-empty array starting with a number
//     or a string that is not a reserved name (the msgpack parser of the
//     reference lets these reach the server's listeners);
//   - an ack id that is negative, not an integer or beyond 2^53-1;
//   - an empty namespace name;
//   - binary values in a CONNECT (auth), CONNECT_ERROR or DISCONNECT;
//   - a map that reads as a placeholder whose num is not one of the
//     packet's binary values (a placeholder-shaped map in a packet with
//     binary values is one of them, as with the JSON parser);
//   - a map key that is not a string or another scalar (numbers, true,
//     false, nil and undefined keys are spelled as JavaScript's String()
//     does: 1.5 is "1.5");
//   - nesting deeper than the JSON scanner's limit (512).
//
// The values map to JSON as JavaScript's JSON.stringify would write the
// decoded object, except for integers:
//   - integers (of any width, 64-bit ones included) are written exactly;
//     floats (32 and 64 bits) in JavaScript's shortest form (1.5, 1e+21,
//     0 for -0), NaN and the infinities as null;
//   - strings are UTF-8, with each invalid sequence replaced by U+FFFD as
//     Node does;
//   - bin 8/16/32 and ext 8/16/32 of type 0 (notepack's ArrayBuffer) are
//     binary values;
//   - fixext 1 of type 0 (notepack's undefined) is null in an array and
//     leaves out the key of a map (and the field of the packet);
//   - fixext 8 of type 0 (notepack's Date) is the date's ISO string, or
//     null when out of JavaScript's range;
//   - any other ext is [type, binary], the array notepack decodes it into.
func DecodeMsgpack(b []byte) (Packet, [][]byte, error) {
	var d mpDecoder
	return d.decode(b)
}

// mpDecoder decodes msgpack packets; its buffers are reused from one
// packet to the next.
type mpDecoder struct {
	b    []byte
	out  []byte
	atts [][]byte
}

// keepScratch is the largest scratch buffer a decoder keeps between
// packets.
const keepScratch = 64 << 10

// decode decodes b (see DecodeMsgpack).
func (d *mpDecoder) decode(b []byte) (Packet, [][]byte, error) {
	// The work is done on a copy on the stack: appending to its buffers
	// costs no write barrier.
	local := mpDecoder{b: b, out: d.out[:0], atts: d.atts[:0]}
	p, atts, err := local.run()
	d.out, d.atts = local.out, local.atts
	d.release()
	return p, atts, err
}

func (d *mpDecoder) run() (Packet, [][]byte, error) {
	p := Packet{ID: -1}
	b := d.b
	n, i, ok := d.mapHeader(0)
	if !ok {
		return p, nil, ErrMsgpack
	}
	// The value ranges of the fields, the last of each key. The data is
	// transcoded as it comes (again if it comes twice).
	var typ, nsp, id [2]int
	hasData := false
	for range n {
		k, _, kend, ok := d.key(i)
		if !ok {
			return p, nil, ErrMsgpack
		}
		var end int
		switch {
		case string(k) != "data":
			end, ok = d.skip(kend, 0)
		case d.undefined(kend):
			end, ok, hasData = kend+3, true, false
		default:
			d.out, d.atts, hasData = d.out[:0], d.atts[:0], true
			end, ok = d.value(kend, 0)
		}
		if !ok {
			return p, nil, ErrMsgpack
		}
		switch string(k) {
		case "type":
			typ = [2]int{kend, end}
		case "nsp":
			nsp = [2]int{kend, end}
		case "id":
			id = [2]int{kend, end}
		}
		i = end
	}
	if i != len(b) {
		return p, nil, ErrMsgpack
	}
	t, ok := d.integer(typ)
	if !ok || t < int64(Connect) || t > int64(ConnectError) {
		return p, nil, ErrMsgpack
	}
	p.Type = PacketType(t)
	name, ok := d.str(nsp)
	if !ok || len(name) == 0 {
		return p, nil, ErrMsgpack
	}
	if string(name) != "/" {
		p.Nsp = name
	}
	if id[1] > id[0] && !d.undefined(id[0]) {
		v, ok := d.integer(id)
		if !ok || v < 0 || v > maxSafe {
			return p, nil, ErrMsgpack
		}
		p.ID = v
	}
	if hasData {
		p.Data = append(make([]byte, 0, len(d.out)), d.out...)
	}
	var atts [][]byte
	if len(d.atts) > 0 {
		switch p.Type {
		case Event:
			p.Type = BinaryEvent
		case Ack:
			p.Type = BinaryAck
		default:
			return p, nil, ErrMsgpack
		}
		p.Attachments = len(d.atts)
		atts = append(make([][]byte, 0, len(d.atts)), d.atts...)
	}
	if err := validate(&p); err != nil {
		return p, nil, err
	}
	if len(atts) > 0 && !CheckPlaceholders(p.Data, len(atts)) {
		return p, nil, ErrPlaceholder
	}
	return p, atts, nil
}

// release drops the references to the input and a scratch buffer grown
// too large to keep.
func (d *mpDecoder) release() {
	d.b = nil
	clear(d.atts[:cap(d.atts)])
	if cap(d.out) > keepScratch {
		d.out = nil
	}
	if cap(d.atts) > keepScratch/24 {
		d.atts = nil
	}
}

// u returns the big-endian unsigned integer of n bytes at i, if b has them.
func (d *mpDecoder) u(i, n int) (uint64, bool) {
	if i < 0 || n > len(d.b)-i {
		return 0, false
	}
	var v uint64
	for _, c := range d.b[i : i+n] {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// span checks that n bytes (a length read from the input) follow i and
// returns their end.
func (d *mpDecoder) span(i int, n uint64) (int, bool) {
	if i < 0 || i > len(d.b) || n > uint64(len(d.b)-i) {
		return 0, false
	}
	return i + int(n), true
}

// mapHeader reads a map header at i: the number of pairs and where they
// start.
func (d *mpDecoder) mapHeader(i int) (int, int, bool) {
	return d.header(i, 0x80, mpMap16, mpMap32, 2)
}

// arrayHeader is mapHeader for arrays.
func (d *mpDecoder) arrayHeader(i int) (int, int, bool) {
	return d.header(i, 0x90, mpArray16, mpArray32, 1)
}

// header reads the header of a map or array (fixed form fix..fix+15, or
// the 16- and 32-bit forms) at i. Each element takes at least minBytes,
// so a count the input cannot hold is refused.
func (d *mpDecoder) header(i int, fix, c16, c32 byte, minBytes uint64) (int, int, bool) {
	if i >= len(d.b) {
		return 0, 0, false
	}
	var n uint64
	var ok bool
	switch c := d.b[i]; {
	case c >= fix && c <= fix+0x0f:
		n, i, ok = uint64(c&0x0f), i+1, true
	case c == c16:
		n, ok = d.u(i+1, 2)
		i += 3
	case c == c32:
		n, ok = d.u(i+1, 4)
		i += 5
	}
	if !ok || n > uint64(len(d.b)-min(i, len(d.b)))/minBytes {
		return 0, 0, false
	}
	return int(n), i, true
}

// strAt returns the bytes of the string at i and its end, or false when
// no string starts there.
func (d *mpDecoder) strAt(i int) ([]byte, int, bool) {
	if i >= len(d.b) {
		return nil, 0, false
	}
	var n uint64
	ok := true
	switch c := d.b[i]; {
	case c >= 0xa0 && c <= 0xbf:
		n, i = uint64(c&0x1f), i+1
	case c == mpStr8:
		n, ok = d.u(i+1, 1)
		i += 2
	case c == mpStr16:
		n, ok = d.u(i+1, 2)
		i += 3
	case c == mpStr32:
		n, ok = d.u(i+1, 4)
		i += 5
	default:
		return nil, 0, false
	}
	if !ok {
		return nil, 0, false
	}
	end, ok := d.span(i, n)
	if !ok {
		return nil, 0, false
	}
	return d.b[i:end], end, true
}

// str returns the string value of a field.
func (d *mpDecoder) str(r [2]int) ([]byte, bool) {
	if r[1] <= r[0] {
		return nil, false
	}
	s, end, ok := d.strAt(r[0])
	return s, ok && end == r[1]
}

// undefined reports whether notepack's undefined (fixext 1 of type 0)
// starts at i.
func (d *mpDecoder) undefined(i int) bool {
	return i+2 < len(d.b) && d.b[i] == mpFixExt1 && d.b[i+1] == 0
}

// key checks the map key at i and returns its bytes when it is a string
// (isStr; other scalars name no packet field) and its end.
func (d *mpDecoder) key(i int) (s []byte, isStr bool, end int, ok bool) {
	if s, end, ok := d.strAt(i); ok {
		return s, true, end, true
	}
	if !d.scalarKey(i) {
		return nil, false, 0, false
	}
	end, ok = d.skip(i, 1)
	return nil, false, end, ok
}

// scalarKey reports whether a scalar that JavaScript spells as a key
// starts at i: a number, nil, a boolean or undefined.
func (d *mpDecoder) scalarKey(i int) bool {
	if i >= len(d.b) {
		return false
	}
	c := d.b[i]
	return c < 0x80 || c >= 0xe0 || c == mpNil || c == mpFalse || c == mpTrue ||
		(c >= mpFloat32 && c <= mpInt64) || d.undefined(i)
}

// skip checks the value at i and returns its end.
func (d *mpDecoder) skip(i, depth int) (int, bool) {
	if i >= len(d.b) || depth > maxDepth {
		return 0, false
	}
	switch c := d.b[i]; {
	case c < 0x80 || c >= 0xe0 || c == mpNil || c == mpFalse || c == mpTrue:
		return i + 1, true
	case c <= 0x8f || c == mpMap16 || c == mpMap32:
		n, j, ok := d.mapHeader(i)
		if !ok {
			return 0, false
		}
		for range n {
			_, _, kend, ok := d.key(j)
			if !ok {
				return 0, false
			}
			if j, ok = d.skip(kend, depth+1); !ok {
				return 0, false
			}
		}
		return j, true
	case c <= 0x9f || c == mpArray16 || c == mpArray32:
		n, j, ok := d.arrayHeader(i)
		if !ok {
			return 0, false
		}
		for range n {
			if j, ok = d.skip(j, depth+1); !ok {
				return 0, false
			}
		}
		return j, true
	case c <= 0xbf || c == mpStr8 || c == mpStr16 || c == mpStr32:
		_, end, ok := d.strAt(i)
		return end, ok
	case c == mpBin8 || c == mpBin16 || c == mpBin32:
		w := 1 << (c - mpBin8)
		n, ok := d.u(i+1, w)
		if !ok {
			return 0, false
		}
		return d.span(i+1+w, n)
	case c == mpExt8 || c == mpExt16 || c == mpExt32:
		w := 1 << (c - mpExt8)
		n, ok := d.u(i+1, w)
		if !ok {
			return 0, false
		}
		return d.span(i+2+w, n)
	case c >= mpFixExt1 && c <= mpFixExt16:
		return d.span(i+2, 1<<(c-mpFixExt1))
	case c == mpFloat32:
		return d.span(i+1, 4)
	case c == mpFloat64:
		return d.span(i+1, 8)
	case c >= mpUint8 && c <= mpUint64:
		return d.span(i+1, 1<<(c-mpUint8))
	case c >= mpInt8 && c <= mpInt64:
		return d.span(i+1, 1<<(c-mpInt8))
	}
	return 0, false // 0xc1, never used
}

// number reads the number at i: an integer (exact) or a float.
func (d *mpDecoder) number(i int) (v int64, u uint64, f float64, kind byte, end int, ok bool) {
	if i >= len(d.b) {
		return
	}
	c := d.b[i]
	switch {
	case c < 0x80:
		return int64(c), 0, 0, 'i', i + 1, true
	case c >= 0xe0:
		return int64(int8(c)), 0, 0, 'i', i + 1, true
	case c == mpFloat32:
		x, ok := d.u(i+1, 4)
		return 0, 0, float64(math.Float32frombits(uint32(x))), 'f', i + 5, ok
	case c == mpFloat64:
		x, ok := d.u(i+1, 8)
		return 0, 0, math.Float64frombits(x), 'f', i + 9, ok
	case c >= mpUint8 && c <= mpUint64:
		w := 1 << (c - mpUint8)
		x, ok := d.u(i+1, w)
		if x > math.MaxInt64 {
			return 0, x, 0, 'u', i + 1 + w, ok
		}
		return int64(x), 0, 0, 'i', i + 1 + w, ok
	case c >= mpInt8 && c <= mpInt64:
		w := 1 << (c - mpInt8)
		x, ok := d.u(i+1, w)
		shift := 64 - 8*w
		return int64(x<<shift) >> shift, 0, 0, 'i', i + 1 + w, ok
	}
	return
}

// integer returns the value of a field that must be an integer: any
// integer format, or a float with an integral value, as JavaScript's
// Number.isInteger accepts.
func (d *mpDecoder) integer(r [2]int) (int64, bool) {
	if r[1] <= r[0] {
		return 0, false
	}
	v, _, f, kind, end, ok := d.number(r[0])
	if !ok || end != r[1] {
		return 0, false
	}
	switch kind {
	case 'i':
		return v, true
	case 'f':
		if f != math.Trunc(f) || math.Abs(f) > maxSafe {
			return 0, false
		}
		return int64(f), true
	}
	return 0, false // beyond int64: no field takes it
}

// value writes the JSON of the value at i (not undefined but in arrays)
// and returns its end.
func (d *mpDecoder) value(i, depth int) (int, bool) {
	if i >= len(d.b) || depth > maxDepth {
		return 0, false
	}
	c := d.b[i]
	switch {
	case c < 0x80 || c >= 0xe0 || c >= mpFloat32 && c <= mpInt64:
		v, u, f, kind, end, ok := d.number(i)
		if !ok {
			return 0, false
		}
		switch kind {
		case 'i':
			d.out = strconv.AppendInt(d.out, v, 10)
		case 'u':
			d.out = strconv.AppendUint(d.out, u, 10)
		default:
			d.out = appendJSNumber(d.out, f, false)
		}
		return end, true
	case c <= 0x8f, c == mpMap16, c == mpMap32:
		return d.object(i, depth)
	case c <= 0x9f, c == mpArray16, c == mpArray32:
		n, j, ok := d.arrayHeader(i)
		if !ok {
			return 0, false
		}
		d.out = append(d.out, '[')
		for k := range n {
			if k > 0 {
				d.out = append(d.out, ',')
			}
			if d.undefined(j) {
				d.out = append(d.out, "null"...)
				j += 3
				continue
			}
			if j, ok = d.value(j, depth+1); !ok {
				return 0, false
			}
		}
		d.out = append(d.out, ']')
		return j, true
	case c <= 0xbf, c == mpStr8, c == mpStr16, c == mpStr32:
		s, end, ok := d.strAt(i)
		if !ok {
			return 0, false
		}
		d.out = appendJSONText(d.out, s)
		return end, true
	case c == mpNil:
		d.out = append(d.out, "null"...)
		return i + 1, true
	case c == mpFalse:
		d.out = append(d.out, "false"...)
		return i + 1, true
	case c == mpTrue:
		d.out = append(d.out, "true"...)
		return i + 1, true
	case c == mpBin8, c == mpBin16, c == mpBin32:
		w := 1 << (c - mpBin8)
		n, ok := d.u(i+1, w)
		if !ok {
			return 0, false
		}
		end, ok := d.span(i+1+w, n)
		if !ok {
			return 0, false
		}
		return end, d.binary(d.b[i+1+w:end], depth)
	case c == mpExt8, c == mpExt16, c == mpExt32:
		w := 1 << (c - mpExt8)
		n, ok := d.u(i+1, w)
		if !ok {
			return 0, false
		}
		start := i + 2 + w
		end, ok := d.span(start, n)
		if !ok {
			return 0, false
		}
		if typ := int8(d.b[i+1+w]); typ != 0 {
			return end, d.ext(typ, d.b[start:end], depth)
		}
		return end, d.binary(d.b[start:end], depth)
	case c >= mpFixExt1 && c <= mpFixExt16:
		end, ok := d.span(i+2, 1<<(c-mpFixExt1))
		if !ok {
			return 0, false
		}
		typ, payload := int8(d.b[i+1]), d.b[i+2:end]
		switch {
		case typ == 0 && c == mpFixExt1:
			return 0, false // undefined: the callers handle it
		case typ == 0 && c == mpFixExt8:
			ms := int64(getU64(payload))
			d.out = appendISODate(d.out, ms)
			return end, true
		}
		return end, d.ext(typ, payload, depth)
	}
	return 0, false
}

func getU64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

// object writes the JSON object of the map at i.
func (d *mpDecoder) object(i, depth int) (int, bool) {
	n, j, ok := d.mapHeader(i)
	if !ok {
		return 0, false
	}
	d.out = append(d.out, '{')
	first := true
	for range n {
		k, isStr, kend, ok := d.key(j)
		if !ok {
			return 0, false
		}
		if d.undefined(kend) {
			j = kend + 3 // JSON.stringify leaves out undefined members
			continue
		}
		if !first {
			d.out = append(d.out, ',')
		}
		first = false
		if isStr {
			d.out = appendJSONText(d.out, k)
		} else {
			d.out = d.appendKey(d.out, j)
		}
		d.out = append(d.out, ':')
		if j, ok = d.value(kend, depth+1); !ok {
			return 0, false
		}
	}
	d.out = append(d.out, '}')
	return j, true
}

// appendKey writes the scalar key at i (checked by key) as the string
// JavaScript makes of it.
func (d *mpDecoder) appendKey(b []byte, i int) []byte {
	c := d.b[i]
	b = append(b, '"')
	switch {
	case c == mpNil:
		b = append(b, "null"...)
	case c == mpFalse:
		b = append(b, "false"...)
	case c == mpTrue:
		b = append(b, "true"...)
	case c == mpFixExt1:
		b = append(b, "undefined"...)
	default:
		v, u, f, kind, _, _ := d.number(i)
		switch kind {
		case 'i':
			b = strconv.AppendInt(b, v, 10)
		case 'u':
			b = strconv.AppendUint(b, u, 10)
		default:
			b = appendJSNumber(b, f, true)
		}
	}
	return append(b, '"')
}

// binary writes the placeholder of a binary value, which becomes the next
// attachment.
func (d *mpDecoder) binary(v []byte, depth int) bool {
	if depth+1 > maxDepth {
		return false
	}
	d.out = append(d.out, `{"_placeholder":true,"num":`...)
	d.out = strconv.AppendInt(d.out, int64(len(d.atts)), 10)
	d.out = append(d.out, '}')
	d.atts = append(d.atts, v[:len(v):len(v)])
	return true
}

// ext writes an ext value other than notepack's as the array notepack
// decodes it into: [type, binary].
func (d *mpDecoder) ext(typ int8, v []byte, depth int) bool {
	if depth+1 > maxDepth {
		return false
	}
	d.out = append(d.out, '[')
	d.out = strconv.AppendInt(d.out, int64(typ), 10)
	d.out = append(d.out, ',')
	if !d.binary(v, depth+1) {
		return false
	}
	d.out = append(d.out, ']')
	return true
}
