package sio

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/siohost/siohost/core/internal/jsonscan"
)

// ErrMsgpackEncode reports a packet that AppendMsgpack cannot encode: its
// payload is not valid JSON, or a binary value is 4 GiB or more.
var ErrMsgpackEncode = errors.New("sio: packet cannot be encoded with the msgpack parser")

// AppendMsgpack appends the socket.io-msgpack-parser encoding of p, a
// packet in the JSON parser's form: Data is raw JSON whose placeholders
// ({"_placeholder":true,"num":N}, in a BINARY_EVENT or BINARY_ACK) stand
// for attachments[N]. The bytes are those notepack.io writes for the
// packet object the reference server builds, so a peer sees what a Node
// server would send:
//   - the keys in the reference's order: an event type, data, id, nsp
//     (OrderEmit) or type, data, nsp, id (OrderBroadcast); an ack id,
//     type, data, nsp; other packets type, data, nsp, id; BINARY_EVENT and
//     BINARY_ACK are EVENT and ACK, their placeholders bin 8/16/32;
//   - numbers as JavaScript's JSON.parse reads them: integers in the
//     smallest of fixint, uint 8–64 and int 8–64, other numbers float 64
//     (1.0 and 1e3 are integers, -0 is 0). Integer literals beyond 2^53
//     are written exactly where Node would round them to a double first,
//     and integral values beyond the 64-bit range as float 64 where
//     notepack would wrap them around: the only differences from Node;
//   - strings unescaped into UTF-8 in fixstr or str 8/16/32, a lone
//     surrogate escape as U+FFFD;
//   - objects as maps with their keys in the JSON's order, arrays as
//     fixarray or array 16/32. JavaScript would put keys that are array
//     indices ("1") first, and keep one entry of a key given twice (the
//     last value, in the first one's place): siohost writes the keys as
//     they come, which a decoder reads as the same object.
func AppendMsgpack(dst []byte, p *Packet, attachments [][]byte, order MsgpackOrder) ([]byte, error) {
	var e mpEncoder
	return e.packet(dst, p, attachments, order)
}

// mpEncoder writes msgpack; its placeholder list is reused from one packet
// to the next.
type mpEncoder struct {
	src  []byte // the JSON being encoded
	out  []byte
	atts [][]byte
	ph   []phRef // the placeholders of src, by start
	phi  int
}

type phRef struct{ start, end, num int }

const (
	keyType = iota
	keyData
	keyNsp
	keyID
)

func (e *mpEncoder) packet(dst []byte, p *Packet, attachments [][]byte, order MsgpackOrder) ([]byte, error) {
	t := p.Type
	switch t {
	case BinaryEvent:
		t = Event
	case BinaryAck:
		t = Ack
	}
	var keys [4]int
	var k []int
	switch {
	case t == Ack && p.ID >= 0:
		k = append(keys[:0], keyID, keyType, keyData, keyNsp)
	case t == Event && order == OrderEmit:
		k = append(keys[:0], keyType, keyData, keyID, keyNsp)
	default:
		k = append(keys[:0], keyType, keyData, keyNsp, keyID)
	}
	n := 4
	if p.ID < 0 {
		n--
	}
	if p.Data == nil {
		n--
	}
	start := len(dst)
	e.out = append(dst, 0x80|byte(n))
	for _, key := range k {
		switch key {
		case keyType:
			e.out = append(e.out, 0xa4, 't', 'y', 'p', 'e', byte(t))
		case keyData:
			if p.Data == nil {
				continue
			}
			e.out = append(e.out, 0xa4, 'd', 'a', 't', 'a')
			if !e.json(p.Data, attachments) {
				e.out = e.out[:start]
				return e.done(), ErrMsgpackEncode
			}
		case keyNsp:
			e.out = append(e.out, 0xa3, 'n', 's', 'p')
			if len(p.Nsp) == 0 {
				e.out = append(e.out, 0xa1, '/')
			} else {
				e.out = strHeader(e.out, len(p.Nsp))
				e.out = append(e.out, p.Nsp...)
			}
		case keyID:
			if p.ID >= 0 {
				e.out = append(e.out, 0xa2, 'i', 'd')
				e.uint(uint64(p.ID))
			}
		}
	}
	return e.done(), nil
}

// done returns the output and drops the references to the inputs.
func (e *mpEncoder) done() []byte {
	out := e.out
	e.out, e.src, e.atts = nil, nil, nil
	if cap(e.ph) > 1024 {
		e.ph = nil
	}
	return out
}

// json writes the JSON value src, its placeholders as the binary values
// of atts; false when src is not valid JSON or a binary value is too long.
func (e *mpEncoder) json(src []byte, atts [][]byte) bool {
	if !jsonscan.Valid(src) {
		return false
	}
	e.src, e.atts, e.ph, e.phi = src, atts, e.ph[:0], 0
	if len(atts) > 0 {
		Placeholders(src, func(start, end, num int) bool {
			if num >= 0 && num < len(atts) {
				e.ph = append(e.ph, phRef{start, end, num})
			}
			return true
		})
		// The walk reports an object when it closes, so nested ones first.
		slices.SortFunc(e.ph, func(a, b phRef) int { return a.start - b.start })
	}
	_, ok := e.value(skipSpace(src, 0))
	return ok
}

// value writes the valid JSON value at src[i] and returns its end.
func (e *mpEncoder) value(i int) (int, bool) {
	src := e.src
	switch src[i] {
	case '{':
		for e.phi < len(e.ph) && e.ph[e.phi].start < i {
			e.phi++ // inside a placeholder already written
		}
		if e.phi < len(e.ph) && e.ph[e.phi].start == i {
			ph := e.ph[e.phi]
			e.phi++
			return ph.end, e.bin(e.atts[ph.num])
		}
		return e.object(i)
	case '[':
		return e.array(i)
	case '"':
		end, esc := stringEnd(src, i)
		e.str(src[i+1:end-1], esc)
		return end, true
	case 't':
		e.out = append(e.out, mpTrue)
		return i + 4, true
	case 'f':
		e.out = append(e.out, mpFalse)
		return i + 5, true
	case 'n':
		e.out = append(e.out, mpNil)
		return i + 4, true
	}
	end := i
	for end < len(src) && (src[end] >= '0' && src[end] <= '9' || src[end] == '-' || src[end] == '+' ||
		src[end] == '.' || src[end] == 'e' || src[end] == 'E') {
		end++
	}
	e.number(src[i:end])
	return end, true
}

func (e *mpEncoder) array(i int) (int, bool) {
	src := e.src
	h := len(e.out)
	e.out = append(e.out, 0x90)
	n := 0
	i = skipSpace(src, i+1)
	if src[i] != ']' {
		for {
			var ok bool
			if i, ok = e.value(i); !ok {
				return 0, false
			}
			n++
			i = skipSpace(src, i)
			if src[i] == ']' {
				break
			}
			i = skipSpace(src, i+1)
		}
	}
	e.header(h, n, 0x90, mpArray16)
	return i + 1, true
}

func (e *mpEncoder) object(i int) (int, bool) {
	src := e.src
	h := len(e.out)
	e.out = append(e.out, 0x80)
	n := 0
	i = skipSpace(src, i+1)
	if src[i] != '}' {
		for {
			end, esc := stringEnd(src, i)
			e.str(src[i+1:end-1], esc)
			i = skipSpace(src, skipSpace(src, end)+1) // past ':'
			var ok bool
			if i, ok = e.value(i); !ok {
				return 0, false
			}
			n++
			i = skipSpace(src, i)
			if src[i] == '}' {
				break
			}
			i = skipSpace(src, i+1)
		}
	}
	e.header(h, n, 0x80, mpMap16)
	return i + 1, true
}

// header sets the header of the array or map of n elements at h, written
// as a fix header: the 16 or 32-bit form moves the elements up.
func (e *mpEncoder) header(h, n int, fix, h16 byte) {
	switch {
	case n < 16:
		e.out[h] = fix | byte(n)
	case n < 1<<16:
		e.out = slices.Insert(e.out, h+1, 0, 0)
		e.out[h], e.out[h+1], e.out[h+2] = h16, byte(n>>8), byte(n)
	default:
		e.out = slices.Insert(e.out, h+1, 0, 0, 0, 0)
		e.out[h] = h16 + 1
		putU32(e.out[h+1:], uint32(n))
	}
}

func putU32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// strHeader appends the header of a string of n bytes.
func strHeader(b []byte, n int) []byte {
	switch {
	case n < 32:
		return append(b, 0xa0|byte(n))
	case n < 1<<8:
		return append(b, mpStr8, byte(n))
	case n < 1<<16:
		return append(b, mpStr16, byte(n>>8), byte(n))
	}
	b = append(b, mpStr32, 0, 0, 0, 0)
	putU32(b[len(b)-4:], uint32(n))
	return b
}

// stringEnd returns the end of the valid JSON string literal at src[i],
// and whether it holds an escape.
func stringEnd(src []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '"':
			return j + 1, esc
		case '\\':
			esc = true
			j++
		}
	}
	return len(src), esc // not valid JSON: callers check first
}

// str writes the inside of a valid JSON string literal as a msgpack
// string; esc tells whether it holds an escape.
func (e *mpEncoder) str(s []byte, esc bool) {
	if !esc {
		e.out = strHeader(e.out, len(s))
		e.out = append(e.out, s...)
		return
	}
	// Escapes only shrink: write the header for the raw length, then the
	// text, then fix the header if the text needs a shorter one.
	h := len(e.out)
	e.out = strHeader(e.out, len(s))
	reserved := len(e.out) - h
	body := len(e.out)
	for j := 0; j < len(s); {
		if s[j] != '\\' {
			k := j + 1
			for k < len(s) && s[k] != '\\' {
				k++
			}
			e.out = append(e.out, s[j:k]...)
			j = k
			continue
		}
		r, w := jsonscan.Unescape(s[j:])
		if w == 0 {
			w = len(s) - j // not valid JSON: callers check first
		}
		e.out = utf8.AppendRune(e.out, r)
		j += w
	}
	n := len(e.out) - body
	var hdr [5]byte
	hb := strHeader(hdr[:0], n)
	if len(hb) != reserved {
		copy(e.out[h+len(hb):], e.out[body:])
		e.out = e.out[:h+len(hb)+n]
	}
	copy(e.out[h:], hb)
}

// bin writes a binary value.
func (e *mpEncoder) bin(v []byte) bool {
	n := len(v)
	switch {
	case n < 1<<8:
		e.out = append(e.out, mpBin8, byte(n))
	case n < 1<<16:
		e.out = append(e.out, mpBin16, byte(n>>8), byte(n))
	case uint64(n) < 1<<32:
		e.out = append(e.out, mpBin32, 0, 0, 0, 0)
		putU32(e.out[len(e.out)-4:], uint32(n))
	default:
		return false
	}
	e.out = append(e.out, v...)
	return true
}

// number writes a valid JSON number as notepack writes the JavaScript
// number JSON.parse makes of it, integer literals within 64 bits exactly.
func (e *mpEncoder) number(tok []byte) {
	neg := tok[0] == '-'
	digits := tok
	if neg {
		digits = tok[1:]
	}
	var u uint64
	integer := true
	for _, c := range digits {
		d := uint64(c - '0')
		if c < '0' || c > '9' || u > math.MaxUint64/10 || u == math.MaxUint64/10 && d > math.MaxUint64%10 {
			integer = false
			break
		}
		u = u*10 + d
	}
	switch {
	case integer && !neg:
		e.uint(u)
		return
	case integer && u <= 1<<63:
		e.int(-int64(u-1) - 1)
		return
	}
	f, _ := strconv.ParseFloat(string(tok), 64) // ±Inf beyond the range, as JSON.parse
	e.float(f)
}

// float writes a JavaScript number: integral values within 64 bits as
// integers, others as float 64.
func (e *mpEncoder) float(f float64) {
	switch {
	case f != math.Trunc(f) || math.IsInf(f, 0):
		e.out = append(e.out, mpFloat64, 0, 0, 0, 0, 0, 0, 0, 0)
		putU64(e.out[len(e.out)-8:], math.Float64bits(f))
	case f >= 0 && f < 1<<64:
		e.uint(uint64(f))
	case f < 0 && f >= -(1<<63):
		e.int(int64(f))
	default:
		e.out = append(e.out, mpFloat64, 0, 0, 0, 0, 0, 0, 0, 0)
		putU64(e.out[len(e.out)-8:], math.Float64bits(f))
	}
}

func putU64(b []byte, v uint64) {
	putU32(b, uint32(v>>32))
	putU32(b[4:], uint32(v))
}

// uint writes a non-negative integer in notepack's smallest form.
func (e *mpEncoder) uint(u uint64) {
	switch {
	case u < 0x80:
		e.out = append(e.out, byte(u))
	case u < 1<<8:
		e.out = append(e.out, mpUint8, byte(u))
	case u < 1<<16:
		e.out = append(e.out, mpUint16, byte(u>>8), byte(u))
	case u < 1<<32:
		e.out = append(e.out, mpUint32, 0, 0, 0, 0)
		putU32(e.out[len(e.out)-4:], uint32(u))
	default:
		e.out = append(e.out, mpUint64, 0, 0, 0, 0, 0, 0, 0, 0)
		putU64(e.out[len(e.out)-8:], u)
	}
}

// int writes an integer in notepack's smallest form.
func (e *mpEncoder) int(v int64) {
	switch {
	case v >= 0:
		e.uint(uint64(v))
	case v >= -32:
		e.out = append(e.out, byte(v))
	case v >= math.MinInt8:
		e.out = append(e.out, mpInt8, byte(v))
	case v >= math.MinInt16:
		e.out = append(e.out, mpInt16, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		e.out = append(e.out, mpInt32, 0, 0, 0, 0)
		putU32(e.out[len(e.out)-4:], uint32(v))
	default:
		e.out = append(e.out, mpInt64, 0, 0, 0, 0, 0, 0, 0, 0)
		putU64(e.out[len(e.out)-8:], uint64(v))
	}
}

// mpUndefined is notepack's undefined: fixext 1 of type 0.
var mpUndefined = []byte{mpFixExt1, 0, 0}

// appendMsgpackConnect appends the CONNECT reply the reference builds:
// {type, data: {sid, pid}, nsp}, pid undefined without connection state
// recovery; {type, nsp} for v4 clients.
func appendMsgpackConnect(b []byte, nsp, sid, pid string, v4 bool) []byte {
	if v4 {
		b = append(b, 0x82, 0xa4, 't', 'y', 'p', 'e', byte(Connect))
		return appendMsgpackNsp(b, nsp)
	}
	b = append(b, 0x83, 0xa4, 't', 'y', 'p', 'e', byte(Connect), 0xa4, 'd', 'a', 't', 'a', 0x82, 0xa3, 's', 'i', 'd')
	b = appendMsgStr(b, sid)
	b = append(b, 0xa3, 'p', 'i', 'd')
	if pid == "" {
		b = append(b, mpUndefined...)
	} else {
		b = appendMsgStr(b, pid)
	}
	return appendMsgpackNsp(b, nsp)
}

// appendMsgpackDisconnect appends {type: 1, nsp}.
func appendMsgpackDisconnect(b []byte, nsp string) []byte {
	b = append(b, 0x82, 0xa4, 't', 'y', 'p', 'e', byte(Disconnect))
	return appendMsgpackNsp(b, nsp)
}

// appendMsgpackRefusal appends the CONNECT_ERROR the reference builds. Its
// own "Invalid namespace" refusal is {type, nsp, data: {message}}; a
// middleware's is {type, data, nsp} with data {message, data} (data
// undefined when absent), or for v4 clients data or else the message.
func (e *mpEncoder) appendMsgpackRefusal(b []byte, nsp, message string, data []byte, v4 bool) []byte {
	if message == "Invalid namespace" && (data == nil || v4) {
		b = append(b, 0x83, 0xa4, 't', 'y', 'p', 'e', byte(ConnectError))
		b = appendMsgpackNsp(b, nsp)
		b = append(b, 0xa4, 'd', 'a', 't', 'a', 0x81, 0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e')
		return appendMsgStr(b, message)
	}
	b = append(b, 0x83, 0xa4, 't', 'y', 'p', 'e', byte(ConnectError), 0xa4, 'd', 'a', 't', 'a')
	switch {
	case v4 && data != nil:
		b = e.appendJSON(b, data)
	case v4:
		b = appendMsgStr(b, message)
	default:
		b = append(b, 0x82, 0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e')
		b = appendMsgStr(b, message)
		b = append(b, 0xa4, 'd', 'a', 't', 'a')
		if data == nil {
			b = append(b, mpUndefined...)
		} else {
			b = e.appendJSON(b, data)
		}
	}
	return appendMsgpackNsp(b, nsp)
}

// appendJSON appends the msgpack of the JSON value src (undefined when it
// is not valid JSON).
func (e *mpEncoder) appendJSON(b, src []byte) []byte {
	start := len(b)
	e.out = b
	if !e.json(src, nil) {
		e.out = append(e.out[:start], mpUndefined...)
	}
	b = e.out
	e.done()
	return b
}

func appendMsgpackNsp(b []byte, nsp string) []byte {
	b = append(b, 0xa3, 'n', 's', 'p')
	return appendMsgStr(b, nsp)
}

func appendMsgStr(b []byte, s string) []byte {
	b = strHeader(b, len(s))
	return append(b, s...)
}
