package abi

import "github.com/siohost/siohost/core/eio"

// Every integer is little-endian. A byte string is a u32 length followed by
// the bytes; the length nilLen (0xFFFFFFFF) stands for nil, so that nil and
// empty survive the trip (the core tells them apart in a few places, such
// as a CONNECT_ERROR without data). A list of byte strings is a u32 count
// (nilLen for nil) followed by that many byte strings.

const nilLen = 0xFFFFFFFF

// maxLen bounds every length and record size: an arena never exceeds 1 GiB.
const maxLen = 1 << 30

func putU16(b []byte, v uint16) {
	_ = b[1]
	b[0], b[1] = byte(v), byte(v>>8)
}

func putU32(b []byte, v uint32) {
	_ = b[3]
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

func appendU32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

func appendU64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24),
		byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

func appendBytes(b, v []byte) []byte {
	if v == nil {
		return appendU32(b, nilLen)
	}
	b = appendU32(b, uint32(len(v)))
	return append(b, v...)
}

func appendString(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}

func appendList(b []byte, list [][]byte) []byte {
	if list == nil {
		return appendU32(b, nilLen)
	}
	b = appendU32(b, uint32(len(list)))
	for _, v := range list {
		b = appendBytes(b, v)
	}
	return b
}

func getU16(b []byte) uint16 {
	_ = b[1]
	return uint16(b[0]) | uint16(b[1])<<8
}

func getU32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func getU64(b []byte) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// reader reads the fields of one record. The first error sticks: later
// reads return zero values, and err reports it.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) u8() uint8 {
	if len(r.b) < 1 {
		r.fail(ErrTruncated)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.fail(ErrTruncated)
		return 0
	}
	v := getU32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail(ErrTruncated)
		return 0
	}
	v := getU64(r.b)
	r.b = r.b[8:]
	return v
}

// bytes returns a byte string aliasing the record, or nil. Its capacity is
// clipped, so appending to it never writes over the next field.
func (r *reader) bytes() []byte {
	n := r.u32()
	if n == nilLen || r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)) {
		r.fail(ErrTruncated)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// str returns a string field as bytes; nil and empty are the same string.
func (r *reader) str() []byte { return r.bytes() }

// handles returns a count then that many session handles, appended to dst
// (a reused slab).
func (r *reader) handles(dst []eio.Handle) (slab, list []eio.Handle) {
	n := r.u32()
	if r.err != nil {
		return dst, nil
	}
	if uint64(n)*4 != uint64(len(r.b)) {
		// The list ends the record: a count that does not fill it exactly
		// is refused before it sizes an allocation.
		r.fail(ErrBadInput)
		return dst, nil
	}
	start := len(dst)
	for i := uint32(0); i < n; i++ {
		dst = append(dst, eio.Handle(r.u32()))
	}
	return dst, dst[start:len(dst):len(dst)]
}

// list returns a list of byte strings; the slices alias the record and the
// list itself is appended to dst (a reused slab), or nil for a nil list.
func (r *reader) list(dst [][]byte) (slab, list [][]byte) {
	n := r.u32()
	if n == nilLen || r.err != nil {
		return dst, nil
	}
	// Each element takes at least 4 bytes: a count beyond that is a lie,
	// caught before it sizes an allocation.
	if uint64(n)*4 > uint64(len(r.b)) {
		r.fail(ErrTruncated)
		return dst, nil
	}
	if n == 0 {
		return dst, [][]byte{}
	}
	start := len(dst)
	for i := uint32(0); i < n && r.err == nil; i++ {
		dst = append(dst, r.bytes())
	}
	if r.err != nil {
		return dst[:start], nil
	}
	return dst, dst[start:len(dst):len(dst)]
}
