package hostnative

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/siohost/siohost/core/eio"
)

// wsConn is one WebSocket of a session. Frames produced by the core are
// queued under the shard lock (which fixes their order) and written after it
// is released by whichever goroutine flushes first. A single goroutine reads;
// nothing else runs for the connection, and no buffer is held while idle.
type wsConn struct {
	id     uint64
	h      eio.Handle
	sh     *shard
	listed bool // in the flush list of the batch holding the shard lock

	frameQueue      // outbound frames; its mu also guards failed
	failed     bool // a write failed: the end is a transport error

	// pmd is the permessage-deflate state, when the handshake negotiated
	// it (set under the shard lock before any frame is queued), and
	// pmdAccept the extension's response header.
	pmd       *wsDeflate
	pmdAccept string

	rd  io.Reader   // the reading side; only the reader goroutine uses it
	ec  *EngineConn // the session, once known; only the reader uses it
	hdr [ws.MaxHeaderSize - 2]byte
}

const maxPooledFrame = 64 << 10

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func getFrame(n int) *[]byte {
	p := framePool.Get().(*[]byte)
	if cap(*p) < n {
		*p = make([]byte, 0, n)
	}
	*p = (*p)[:0]
	return p
}

func putFrame(p *[]byte) {
	if cap(*p) <= maxPooledFrame {
		framePool.Put(p)
	}
}

// enqueue copies one data frame into a pooled buffer: the only allocation an
// outbound frame may cost, and only when the pool is empty. A message to
// compress is queued as is, and compressed when written (finish); shared
// marks one that other connections are sent too (a broadcast), whose
// compression is then shared (see sharedDeflate).
func (c *wsConn) enqueue(binaryFrame, noCompress, shared bool, prefix, data []byte) {
	op := byte(ws.OpText)
	if binaryFrame {
		op = byte(ws.OpBinary)
	}
	n := len(prefix) + len(data)
	if !noCompress && c.pmd.deflates(n) {
		if shared {
			op |= sharedMark
		}
		c.pushMessage(op, prefix, data)
		return
	}
	p := getFrame(n + 10)
	*p = appendFrameHeader(*p, op, n)
	*p = append(*p, prefix...)
	*p = append(*p, data...)
	c.push(p)
}

func (c *wsConn) enqueueControl(op ws.OpCode, payload []byte) {
	p := getFrame(len(payload) + 2)
	*p = appendFrameHeader(*p, byte(op), len(payload))
	*p = append(*p, payload...)
	c.push(p)
}

func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n < 126:
		return append(b, byte(n))
	case n <= 0xFFFF:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}

func (c *wsConn) enqueueClose(code int) { c.pushClose(code) }

// finish compresses a message queued by enqueue into its frame (RSV1
// set), or frames it as is when compressing does not make it smaller.
func (c *wsConn) finish(op byte, payload []byte) *[]byte {
	if op&sharedMark != 0 {
		return sharedDeflate(c.pmd.level, op&^sharedMark, payload)
	}
	return deflateFrame(c.pmd.level, op, payload)
}

// deflateFrame makes the frame of a message, compressed (RSV1 set) unless
// that does not make it smaller.
func deflateFrame(level int, op byte, payload []byte) *[]byte {
	var p *[]byte
	deflateMessage(level, payload, func(z []byte) {
		if len(z) < len(payload) {
			p = getFrame(len(z) + 10)
			*p = appendFrameHeader(*p, op|rsv1, len(z))
			*p = append(*p, z...)
		}
	})
	if p == nil {
		p = getFrame(len(payload) + 10)
		*p = appendFrameHeader(*p, op, len(payload))
		*p = append(*p, payload...)
	}
	return p
}

// acceptHeader adds the extensions the handshake accepted to the headers
// of its response.
func (c *wsConn) acceptHeader(h http.Header) http.Header {
	if c.pmdAccept == "" {
		return h
	}
	h = h.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(extensionsHeader, c.pmdAccept)
	return h
}

// rsv1 is the bit of a frame's first byte that marks a compressed message.
const rsv1 = 0x40

// flush writes every queued frame, and the close frame if one is due.
func (c *wsConn) flush() {
	if c.frameQueue.flush(c.sh.e.opts.WriteTimeout, c.finish, c.writeClose) != nil {
		c.fail()
	}
}

// writeClose sends a close frame and half-closes the connection; the reader
// then sees the client's close or EOF and releases the socket.
func (c *wsConn) writeClose(nc net.Conn, code int) {
	var payload []byte
	if code != 0 {
		payload = binary.BigEndian.AppendUint16(nil, uint16(code))
	}
	frame := appendFrameHeader(make([]byte, 0, 4), byte(ws.OpClose), len(payload))
	frame = append(frame, payload...)
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write(frame)
	if tc, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
		_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		return
	}
	_ = nc.Close()
}

// fail drops a connection whose writes failed; the reader reports it.
func (c *wsConn) fail() {
	c.mu.Lock()
	c.failed = true
	nc := c.drain()
	c.mu.Unlock()
	_ = nc.Close()
}

// attach binds the upgraded network connection, flushes what was queued
// before it existed, and starts the reader.
func (c *wsConn) attach(nc net.Conn, br *bufio.Reader) {
	c.rd = nc
	if n := br.Buffered(); n > 0 {
		// Frames the client sent right behind its handshake sit in net/http's
		// buffer; take them out so that buffer can be dropped.
		pre, _ := br.Peek(n)
		c.rd = io.MultiReader(&prefixReader{b: append([]byte(nil), pre...)}, nc)
	}
	c.mu.Lock()
	c.nc = nc
	c.mu.Unlock()
	c.flush()
	go c.readLoop()
}

type prefixReader struct{ b []byte }

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.b) == 0 {
		return 0, io.EOF
	}
	n := copy(b, p.b)
	p.b = p.b[n:]
	return n, nil
}

var errProtocol = errors.New("websocket protocol error")

// readLoop reads frames until the connection ends, then tells the core.
func (c *wsConn) readLoop() {
	errored := c.read()
	c.mu.Lock()
	errored = errored || c.failed
	nc := c.drain()
	c.mu.Unlock()
	c.closed(errored) // after the frames read before the end, by the same goroutine
	if errored {
		// Unread input would make the close a reset that can destroy the
		// close frame in flight: drain it first, for a bounded time.
		_ = nc.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = io.Copy(io.Discard, io.LimitReader(c.rd, 1<<20))
	}
	_ = nc.Close()
}

// closed tells the core that the WebSocket is gone.
func (c *wsConn) closed(errored bool) {
	b := c.sh.begin(0, nil)
	delete(c.sh.sockets, c.id)
	c.sh.core.ConnClosed(b.now, c.id, c.h, errored)
	c.sh.end(b)
	b.done()
}

// read runs the frame loop; it returns whether the connection failed rather
// than closed.
func (c *wsConn) read() (errored bool) {
	maxPayload := c.sh.e.opts.MaxHTTPBufferSize
	var msg []byte // a fragmented message being assembled
	var msgBinary, msgCompressed bool
	for {
		h, err := ws.ReadHeaderBuffer(c.rd, c.hdr[:])
		if err != nil {
			return errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected)
		}
		if !h.Masked || !validRsv(h, c.pmd != nil) {
			c.closeWith(ws.StatusProtocolError)
			return true
		}
		if h.OpCode.IsControl() {
			if h.Length > 125 || !h.Fin {
				c.closeWith(ws.StatusProtocolError)
				return true
			}
			p := make([]byte, h.Length) // rare: kept off the reader's stack
			if _, err := io.ReadFull(c.rd, p); err != nil {
				return false
			}
			ws.Cipher(p, h.Mask, 0)
			switch h.OpCode {
			case ws.OpPing:
				c.enqueueControl(ws.OpPong, p)
				c.flush()
			case ws.OpClose:
				c.enqueueClose(closeCodeOf(p))
				c.flush()
				return false
			}
			continue
		}
		if int64(len(msg))+h.Length > maxPayload {
			c.closeWith(ws.StatusMessageTooBig)
			return true
		}
		p, err := readPayload(c.rd, h.Length)
		if err != nil {
			return false
		}
		ws.Cipher(p, h.Mask, 0)
		switch {
		case h.OpCode == ws.OpContinuation && msg == nil:
			c.closeWith(ws.StatusProtocolError)
			return true
		case h.OpCode == ws.OpContinuation:
			msg = append(msg, p...)
			p = msg
		case msg != nil:
			c.closeWith(ws.StatusProtocolError)
			return true
		default:
			msgBinary, msgCompressed = h.OpCode == ws.OpBinary, h.Rsv != 0
		}
		if !h.Fin {
			if msg == nil {
				msg = p
			}
			continue
		}
		msg = nil
		if msgCompressed {
			// Inflated within the same bound as any message (the
			// reference's maxHttpBufferSize), however much it claims.
			if p, err = c.pmd.inflate(p, maxPayload); err != nil {
				code := ws.StatusInvalidFramePayloadData
				if errors.Is(err, errInflateTooBig) {
					code = ws.StatusMessageTooBig
				}
				c.closeWith(code)
				return true
			}
		}
		if !msgBinary && !utf8.Valid(p) {
			c.closeWith(ws.StatusInvalidFramePayloadData)
			return true
		}
		c.deliver(msgBinary, p)
	}
}

// readPayload reads n bytes. The buffer grows as bytes arrive, so a header
// that announces a large frame pins no memory until the data comes.
func readPayload(r io.Reader, n int64) ([]byte, error) {
	const chunk = 64 << 10
	if n <= chunk {
		p := make([]byte, n)
		_, err := io.ReadFull(r, p)
		return p, err
	}
	p := make([]byte, 0, chunk)
	for int64(len(p)) < n {
		if len(p) == cap(p) {
			p = slices.Grow(p, int(min(n-int64(len(p)), int64(len(p)))))
		}
		step := int(min(n-int64(len(p)), int64(cap(p)-len(p))))
		m, err := io.ReadFull(r, p[len(p):len(p)+step])
		p = p[:len(p)+m]
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// deliver hands a message to the core, on the reader itself: the core
// never blocks, and handlers run on the connection's mailbox, so the reader
// goes on reading (a handler awaiting an ack gets it). Then backpressure:
// the reader waits while the mailbox is full.
func (c *wsConn) deliver(binaryMsg bool, p []byte) {
	b := c.sh.begin(0, nil)
	c.sh.core.Frame(b.now, c.id, c.h, binaryMsg, p)
	if c.ec == nil && c.sh.sockets[c.id] == c {
		c.ec = c.sh.conns[c.h]
	}
	c.sh.end(b)
	b.done()
	if c.ec != nil {
		c.ec.throttle()
	}
}

func (c *wsConn) closeWith(code ws.StatusCode) {
	c.enqueueClose(int(code))
	c.flush()
}

// validRsv checks a frame's reserved bits: only RSV1, on the first frame of
// a data message, and only when permessage-deflate was negotiated.
func validRsv(h ws.Header, deflate bool) bool {
	switch {
	case h.Rsv == 0:
		return true
	case !deflate || h.Rsv != ws.Rsv(true, false, false):
		return false
	}
	return h.OpCode == ws.OpText || h.OpCode == ws.OpBinary
}

func closeCodeOf(p []byte) int {
	if len(p) < 2 {
		return 0
	}
	code := int(binary.BigEndian.Uint16(p))
	if code == 1005 || code == 1006 || code == 1015 {
		return 0
	}
	return code
}
