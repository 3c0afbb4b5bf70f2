package abi

import "github.com/siohost/siohost/core/eio"

// An output record is a 12-byte header, then the fields that its mask
// names, in the order of the mask's bits:
//
//	u8 kind, u8 content, u16 mask, u32 size (of the whole record), u32 session
//
// A field whose bit is clear has its zero value (nil for byte fields).

const outputHeader = 12

// Bits of an output record's mask.
const (
	MaskBinary      = 1 << 0  // Effect.Binary (no field)
	MaskConn        = 1 << 1  // u64 Effect.Conn
	MaskStatus      = 1 << 2  // i64 Effect.Status
	MaskID          = 1 << 3  // i64 Effect.ID
	MaskPrefix      = 1 << 4  // bytes Effect.Prefix
	MaskData        = 1 << 5  // bytes Effect.Data
	MaskText        = 1 << 6  // string Effect.Text
	MaskDesc        = 1 << 7  // string Effect.Desc
	MaskNsp         = 1 << 8  // string Effect.Nsp
	MaskAttachments = 1 << 9  // list Effect.Attachments
	MaskNoCompress  = 1 << 10 // Effect.NoCompress (no field; version 3)
	maskAll         = 1<<11 - 1
)

// AppendEffect appends the record of e to b.
func AppendEffect(b []byte, e *eio.Effect) []byte {
	mask := uint16(0)
	if e.Binary {
		mask |= MaskBinary
	}
	if e.NoCompress {
		mask |= MaskNoCompress
	}
	off := len(b)
	b = append(b, byte(e.Kind), byte(e.Content), 0, 0, 0, 0, 0, 0)
	b = appendU32(b, uint32(e.Session))
	if e.Conn != 0 {
		mask |= MaskConn
		b = appendU64(b, e.Conn)
	}
	if e.Status != 0 {
		mask |= MaskStatus
		b = appendU64(b, uint64(e.Status))
	}
	if e.ID != 0 {
		mask |= MaskID
		b = appendU64(b, uint64(e.ID))
	}
	if e.Prefix != nil {
		mask |= MaskPrefix
		b = appendBytes(b, e.Prefix)
	}
	if e.Data != nil {
		mask |= MaskData
		b = appendBytes(b, e.Data)
	}
	if e.Text != "" {
		mask |= MaskText
		b = appendString(b, e.Text)
	}
	if e.Desc != "" {
		mask |= MaskDesc
		b = appendString(b, e.Desc)
	}
	if e.Nsp != "" {
		mask |= MaskNsp
		b = appendString(b, e.Nsp)
	}
	if e.Attachments != nil {
		mask |= MaskAttachments
		b = appendList(b, e.Attachments)
	}
	putU16(b[off+2:], mask)
	putU32(b[off+4:], uint32(len(b)-off))
	return b
}

// Result is the outcome of one input: its return value, where its effects
// end, and for an info query the session's particulars.
type Result struct {
	// Value is what the core's method returned: the session handle for a
	// request (0 when refused), 1 or 0 for send, accept, emit and leave,
	// the protocol (3 or 4, 0 for a stale handle) for info, the number of
	// open sessions for openCount, 0 otherwise.
	Value int64
	// End is the index in Output.Effects just past the input's effects:
	// input i produced Effects[Results[i-1].End:Results[i].End].
	End int
	// Info only: the session id, "polling" or "websocket", and the
	// namespaces joined, in joining order.
	SID, Transport string
	Namespaces     []string
}

// AppendResult appends the result record of one input.
func AppendResult(b []byte, r *Result) []byte {
	if r.SID == "" && r.Transport == "" && r.Namespaces == nil {
		return appendControl(b, KindResult, 0, r.Value)
	}
	e := eio.Effect{Kind: KindResult, Status: int(r.Value), Text: r.SID, Desc: r.Transport}
	if r.Namespaces != nil {
		e.Attachments = make([][]byte, len(r.Namespaces))
		for i, n := range r.Namespaces {
			e.Attachments[i] = []byte(n)
		}
	}
	return AppendEffect(b, &e)
}

// AppendDeadline appends the record that ends a call's output: the binary
// bit says whether a timer is pending, and the status field holds its time.
func AppendDeadline(b []byte, at int64, ok bool) []byte {
	if !ok {
		return appendControl(b, KindDeadline, 0, 0)
	}
	return appendControl(b, KindDeadline, MaskBinary, at)
}

// appendControl appends a control record whose only field is the status
// (when not zero): what AppendEffect writes for it, without building an
// eio.Effect.
func appendControl(b []byte, kind byte, mask uint16, status int64) []byte {
	if status == 0 {
		return append(b, kind, 0, byte(mask), byte(mask>>8), outputHeader, 0, 0, 0, 0, 0, 0, 0)
	}
	mask |= MaskStatus
	b = append(b, kind, 0, byte(mask), byte(mask>>8), outputHeader+8, 0, 0, 0, 0, 0, 0, 0)
	return appendU64(b, uint64(status))
}

// Output is a decoded output list. Decode reuses its memory; the byte
// fields of its effects alias the decoded buffer, so a host copies what it
// keeps beyond the next call.
type Output struct {
	Effects []eio.Effect
	Results []Result
	// Deadline is the next time at which the host must call tick, valid
	// when HasDeadline.
	Deadline    int64
	HasDeadline bool

	slab    [][]byte
	strings Interner
}

// Decode decodes a whole output list.
func (o *Output) Decode(b []byte) error {
	clear(o.Effects)
	clear(o.slab)
	o.Effects, o.Results, o.slab = o.Effects[:0], o.Results[:0], o.slab[:0]
	o.Deadline, o.HasDeadline = 0, false
	for len(b) > 0 {
		var e eio.Effect
		var err error
		b, err = o.decodeOne(b, &e)
		if err != nil {
			return err
		}
		switch e.Kind {
		case KindResult:
			r := Result{Value: int64(e.Status), End: len(o.Effects), SID: e.Text, Transport: e.Desc}
			if e.Attachments != nil {
				r.Namespaces = make([]string, len(e.Attachments))
				for i, a := range e.Attachments {
					r.Namespaces[i] = o.strings.String(a)
				}
			}
			o.Results = append(o.Results, r)
		case KindDeadline:
			o.Deadline, o.HasDeadline = int64(e.Status), e.Binary
		default:
			o.Effects = append(o.Effects, e)
		}
	}
	return nil
}

// DecodeEffect decodes the one record at the start of b, effect or
// control record, and returns what follows it. Its byte fields alias b.
func DecodeEffect(b []byte, e *eio.Effect) (rest []byte, err error) {
	var o Output
	return o.decodeOne(b, e)
}

func (o *Output) decodeOne(b []byte, e *eio.Effect) ([]byte, error) {
	if len(b) < outputHeader {
		return nil, ErrTruncated
	}
	size := getU32(b[4:])
	if size < outputHeader || uint64(size) > uint64(len(b)) {
		return nil, ErrRecordSize
	}
	mask := getU16(b[2:])
	if b[0] == 0 || mask&^maskAll != 0 {
		return nil, ErrBadOutput
	}
	*e = eio.Effect{Kind: eio.EffectKind(b[0]), Content: eio.Content(b[1]), Session: eio.Handle(getU32(b[8:])),
		Binary: mask&MaskBinary != 0, NoCompress: mask&MaskNoCompress != 0}
	r := reader{b: b[outputHeader:size]}
	if mask&MaskConn != 0 {
		e.Conn = r.u64()
	}
	if mask&MaskStatus != 0 {
		e.Status = int(int64(r.u64()))
	}
	if mask&MaskID != 0 {
		e.ID = int64(r.u64())
	}
	if mask&MaskPrefix != 0 {
		e.Prefix = present(&r)
	}
	if mask&MaskData != 0 {
		e.Data = present(&r)
	}
	if mask&MaskText != 0 {
		e.Text = o.strings.String(present(&r))
	}
	if mask&MaskDesc != 0 {
		e.Desc = o.strings.String(present(&r))
	}
	if mask&MaskNsp != 0 {
		e.Nsp = o.strings.String(present(&r))
	}
	if mask&MaskAttachments != 0 {
		o.slab, e.Attachments = r.list(o.slab)
		if e.Attachments == nil {
			r.fail(ErrBadOutput)
		}
	}
	switch {
	case r.err != nil:
		return nil, r.err
	case len(r.b) != 0:
		return nil, ErrBadOutput
	}
	// A field whose bit is set holds a value that its clear bit could not
	// express: the encoding stays canonical.
	if (mask&MaskConn != 0 && e.Conn == 0) || (mask&MaskStatus != 0 && e.Status == 0) ||
		(mask&MaskID != 0 && e.ID == 0) || (mask&MaskText != 0 && e.Text == "") ||
		(mask&MaskDesc != 0 && e.Desc == "") || (mask&MaskNsp != 0 && e.Nsp == "") {
		return nil, ErrBadOutput
	}
	return b[size:], nil
}

// present reads a byte field whose mask bit is set: it is never nil.
func present(r *reader) []byte {
	v := r.bytes()
	if v == nil && r.err == nil {
		r.fail(ErrBadOutput)
	}
	return v
}
