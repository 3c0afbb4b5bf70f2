package abi

import (
	"errors"

	"github.com/siohost/siohost/core/eio"
)

// ClientRecords is a ClientBackend that drives a client core through its
// records: each call is encoded as one client input record, handed to
// Process (the module's client_process export, or ClientCore.Process), and
// the output list decoded. It is the one record-speaking host of the
// client contract in Go; hostwasm plugs a WebAssembly instance under it.
type ClientRecords struct {
	// Process runs n records at now and returns the output list, which
	// stays valid until its next call.
	Process func(now int64, in []byte, n int) ([]byte, error)
	// Release frees what runs the core (Close calls it), if set.
	Release func() error

	enc      ClientEncoder
	out      Output
	effs     []eio.Effect // the last call's, aliasing its output
	carry    []eio.Effect // earlier calls', copied
	err      error
	deadline int64
	hasDl    bool
}

var _ ClientBackend = (*ClientRecords)(nil)

var errNoResult = errors.New("abi: the client output has no result for the input")

// one runs the record in the encoder and returns its result.
func (r *ClientRecords) one(now int64) int64 {
	if r.err != nil {
		return 0
	}
	if len(r.effs) > 0 {
		// Not taken yet: the next output overwrites what they alias.
		start := len(r.carry)
		r.carry = append(r.carry, r.effs...)
		ownEffects(r.carry[start:])
		r.effs = nil
	}
	b, err := r.Process(now, r.enc.Bytes(), r.enc.Len())
	r.enc.Reset()
	if err == nil {
		err = r.out.Decode(b)
	}
	if err == nil && len(r.out.Results) != 1 {
		err = errNoResult
	}
	if err != nil {
		r.err, r.effs, r.hasDl = err, nil, false
		return 0
	}
	r.effs = r.out.Effects
	r.deadline, r.hasDl = r.out.Deadline, r.out.HasDeadline
	return r.out.Results[0].Value
}

// ownEffects copies the byte fields of effs out of the output they alias.
func ownEffects(effs []eio.Effect) {
	for i := range effs {
		e := &effs[i]
		e.Prefix = ownBytes(e.Prefix)
		e.Data = ownBytes(e.Data)
		if e.Attachments != nil {
			atts := make([][]byte, len(e.Attachments))
			for k, a := range e.Attachments {
				atts[k] = ownBytes(a)
			}
			e.Attachments = atts
		}
	}
}

func ownBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// Effects returns the effects of the calls since the last Effects, or the
// error that stopped the backend.
func (r *ClientRecords) Effects() ([]eio.Effect, error) {
	if r.err != nil {
		return nil, r.err
	}
	effs := r.effs
	r.effs = nil
	if len(r.carry) > 0 {
		effs = append(r.carry, effs...)
		r.carry = nil
	}
	return effs, nil
}

// NextDeadline is the one that ended the last output.
func (r *ClientRecords) NextDeadline() (int64, bool) { return r.deadline, r.hasDl }

// Close releases the core.
func (r *ClientRecords) Close() error {
	if r.err == nil {
		r.err = errClientClosed
	}
	if r.Release != nil {
		return r.Release()
	}
	return nil
}

var errClientClosed = errors.New("abi: client backend closed")

func (r *ClientRecords) Create(now int64, o ClientOptions) uint32 {
	r.enc.Create(o)
	return uint32(r.one(now))
}

func (r *ClientRecords) Destroy(now int64, c uint32) {
	r.enc.Destroy(c)
	r.one(now)
}

func (r *ClientRecords) Response(now int64, c, conn uint32, status int, contentType string, body []byte) {
	r.enc.Response(c, conn, status, contentType, body)
	r.one(now)
}

func (r *ClientRecords) Failed(now int64, c, conn uint32, message string) {
	r.enc.Failed(c, conn, message)
	r.one(now)
}

func (r *ClientRecords) WSOpened(now int64, c, conn uint32) {
	r.enc.WSOpened(c, conn)
	r.one(now)
}

func (r *ClientRecords) WSMessage(now int64, c, conn uint32, binary bool, data []byte) {
	r.enc.WSMessage(c, conn, binary, data)
	r.one(now)
}

func (r *ClientRecords) WSClosed(now int64, c, conn uint32, code int) {
	r.enc.WSClosed(c, conn, code)
	r.one(now)
}

func (r *ClientRecords) Tick(now int64) {
	r.enc.Tick()
	r.one(now)
}

func (r *ClientRecords) Connect(now int64, c uint32, nsp string, auth []byte, flags uint8) int64 {
	r.enc.Connect(c, nsp, auth, flags)
	return r.one(now)
}

func (r *ClientRecords) Disconnect(now int64, c uint32, nsp string) {
	r.enc.Disconnect(c, nsp)
	r.one(now)
}

func (r *ClientRecords) Emit(now int64, c uint32, nsp, event string, args []byte, attachments [][]byte, flags uint8, timeout uint32) int64 {
	r.enc.Emit(c, nsp, event, args, attachments, flags, timeout)
	return r.one(now)
}

func (r *ClientRecords) Ack(now int64, c uint32, nsp string, id uint32, args []byte, attachments [][]byte) int64 {
	r.enc.Ack(c, nsp, id, args, attachments)
	return r.one(now)
}

func (r *ClientRecords) CancelAck(now int64, c uint32, nsp string, id uint32) {
	r.enc.CancelAck(c, nsp, id)
	r.one(now)
}
