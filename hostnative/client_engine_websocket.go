package hostnative

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
)

// clientWS is one WebSocket of a clientIO: a session's, or a probe for the
// upgrade. One goroutine dials it and then reads it; frames the core
// produces are masked and queued under the owner's lock (which fixes their
// order), and written once it is released by whichever goroutine flushes
// first.
type clientWS struct {
	c         *clientIO
	id        uint64
	cancel    context.CancelFunc // abandons the dial
	forgotten bool               // guarded by c.mu: the core expects nothing more of it

	frameQueue       // outbound frames (nc is nil while dialing); its mu guards the two below
	failed     error // a write failed
	closeSent  bool

	pmd *wsDeflate // permessage-deflate, when the server accepted it; set before nc

	rd  io.Reader // only the reader uses it
	hdr [ws.MaxHeaderSize - 2]byte
}

// dial launches WebSocket conn with the Engine.IO query. The caller holds
// c.mu.
func (c *clientIO) dial(conn uint64, query string) {
	ctx, cancel := context.WithCancel(c.root)
	w := &clientWS{c: c, id: conn, cancel: cancel}
	c.socks[conn] = w
	c.wg.Add(1)
	go w.run(ctx, c.ep.wsBase+query)
}

// handshakeHeader holds the extra headers and the cookies of a WebSocket
// handshake.
func (c *clientIO) handshakeHeader() http.Header {
	h := c.headers.Clone()
	if h == nil {
		h = http.Header{}
	}
	if c.jar != nil {
		if cookies := c.jar.Cookies(c.ep.cookieURL); len(cookies) > 0 {
			parts := make([]string, len(cookies))
			for i, ck := range cookies {
				parts[i] = ck.Name + "=" + ck.Value
			}
			h.Set("Cookie", strings.Join(parts, "; "))
		}
	}
	return h
}

// refusal is the HTTP answer to a WebSocket handshake that was refused.
type refusal struct {
	status      int
	contentType string
	body        []byte
}

// run dials, tells the core, then reads until the connection ends.
func (w *clientWS) run(ctx context.Context, rawURL string) {
	c := w.c
	defer c.wg.Done()
	defer w.cancel()
	var raw net.Conn
	var refused *refusal
	var cookies []*http.Cookie
	d := ws.Dialer{
		TLSConfig: c.tls,
		Header:    ws.HandshakeHeaderHTTP(c.handshakeHeader()),
		NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			conn, err := nd.DialContext(ctx, network, addr)
			raw = conn
			return conn, err
		},
		OnStatusError: func(status int, _ []byte, r io.Reader) {
			// The body says why (an Engine.IO refusal is its message); a
			// server that sends no length gets a second to send it.
			if raw != nil {
				_ = raw.SetReadDeadline(time.Now().Add(time.Second))
			}
			refused = &refusal{status: status}
			resp, err := http.ReadResponse(bufio.NewReader(r), nil)
			if err != nil {
				return
			}
			refused.contentType = resp.Header.Get("Content-Type")
			refused.body, _ = io.ReadAll(io.LimitReader(resp.Body, 4096))
			cookies = resp.Cookies()
		},
		OnHeader: func(key, value []byte) error {
			if strings.EqualFold(string(key), "Set-Cookie") {
				if ck, err := http.ParseSetCookie(string(value)); err == nil {
					cookies = append(cookies, ck)
				}
			}
			return nil
		},
	}
	d.Timeout = c.dialTO
	if c.deflate != nil {
		d.Extensions = []httphead.Option{deflateOffer(c.deflate)}
	}
	nc, br, hs, err := d.Dial(ctx, rawURL)
	if err == nil && c.deflate != nil {
		if w.pmd, err = clientDeflate(c.deflate, hs.Extensions); err != nil {
			_ = nc.Close()
			if br != nil {
				ws.PutReader(br)
			}
		}
	}
	if len(cookies) > 0 && c.jar != nil {
		c.jar.SetCookies(c.ep.cookieURL, cookies)
	}
	if err != nil {
		if refused != nil {
			w.refused(refused)
		} else {
			w.ended(0, err)
		}
		return
	}
	var rd io.Reader = nc
	if br != nil {
		// Frames the server sent right behind its handshake.
		if n := br.Buffered(); n > 0 {
			pre, _ := br.Peek(n)
			rd = io.MultiReader(&prefixReader{b: append([]byte(nil), pre...)}, nc)
		}
		ws.PutReader(br)
	}
	w.rd = rd

	c.mu.Lock()
	if w.forgotten {
		c.mu.Unlock()
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
		_ = nc.Close()
		w.forget()
		return
	}
	w.mu.Lock()
	w.nc = nc
	w.mu.Unlock()
	fl := c.sink.ioWSOpened(w.id)
	c.mu.Unlock()
	w.flush()
	fl.flush()
	w.readLoop()
}

// refused hands the core the HTTP answer to a refused handshake.
func (w *clientWS) refused(r *refusal) {
	c := w.c
	c.mu.Lock()
	delete(c.socks, w.id)
	var fl clientFlush
	if !w.forgotten {
		w.forgotten = true
		fl = c.sink.ioResponse(w.id, r.status, r.contentType, r.body)
	}
	c.mu.Unlock()
	fl.flush()
}

// ended tells the core that the WebSocket closed (code; 1006 for a
// connection dropped without a close frame) or failed (err).
func (w *clientWS) ended(code int, err error) {
	c := w.c
	c.mu.Lock()
	delete(c.socks, w.id)
	var fl clientFlush
	if !w.forgotten {
		w.forgotten = true
		if err != nil {
			fl = c.sink.ioFailed(w.id, err.Error(), err)
		} else {
			fl = c.sink.ioWSClosed(w.id, code)
		}
	}
	c.mu.Unlock()
	fl.flush()
}

func (w *clientWS) forget() {
	c := w.c
	c.mu.Lock()
	delete(c.socks, w.id)
	c.mu.Unlock()
}

// appendMaskedFrame appends a client frame: header with a fresh random
// mask, then prefix and data masked.
func appendMaskedFrame(b []byte, op ws.OpCode, prefix, data []byte) []byte {
	n := len(prefix) + len(data)
	start := len(b)
	b = appendFrameHeader(b, byte(op), n)
	b[start+1] |= 0x80
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rand.Uint32())
	b = append(b, mask[:]...)
	p := len(b)
	b = append(b, prefix...)
	b = append(b, data...)
	ws.Cipher(b[p:], mask, 0)
	return b
}

// enqueue queues one data frame, copied into a pooled buffer. With an offer
// of compression (deflate), a message of at least its threshold is queued
// as is, to be compressed when written if the server accepted (finish).
func (w *clientWS) enqueue(binaryFrame bool, prefix, data []byte, deflate *PerMessageDeflate) {
	op := ws.OpText
	if binaryFrame {
		op = ws.OpBinary
	}
	if deflate != nil && len(prefix)+len(data) >= deflate.Threshold {
		w.pushMessage(byte(op), prefix, data)
		return
	}
	p := getFrame(len(prefix) + len(data) + 14)
	*p = appendMaskedFrame(*p, op, prefix, data)
	w.push(p)
}

func (w *clientWS) enqueueControl(op ws.OpCode, payload []byte) {
	p := getFrame(len(payload) + 6)
	*p = appendMaskedFrame(*p, op, nil, payload)
	w.push(p)
}

func (w *clientWS) enqueueClose(code int) { w.pushClose(code) }

// finish frames a message queued for compression: compressed (RSV1 set)
// when the server accepted the extension and it gets smaller, then masked.
func (w *clientWS) finish(op byte, payload []byte) *[]byte {
	var p *[]byte
	if w.pmd != nil && !w.pmd.noSend {
		deflateMessage(w.pmd.level, payload, func(z []byte) {
			if len(z) < len(payload) {
				p = getFrame(len(z) + 14)
				*p = appendMaskedFrame(*p, ws.OpCode(op), nil, z)
				(*p)[0] |= rsv1
			}
		})
	}
	if p == nil {
		p = getFrame(len(payload) + 14)
		*p = appendMaskedFrame(*p, ws.OpCode(op), nil, payload)
	}
	return p
}

// flush writes the queued frames, then the close frame if one is due.
func (w *clientWS) flush() {
	if err := w.frameQueue.flush(clientWriteTimeout, w.finish, w.writeClose); err != nil {
		w.fail(err)
	}
}

// writeClose sends the close frame; the reader then waits a little for the
// server's.
func (w *clientWS) writeClose(nc net.Conn, code int) {
	w.mu.Lock()
	w.closeSent = true
	w.mu.Unlock()
	var payload [2]byte
	binary.BigEndian.PutUint16(payload[:], uint16(code))
	frame := appendMaskedFrame(make([]byte, 0, 8), ws.OpClose, nil, payload[:])
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write(frame)
	_ = nc.SetReadDeadline(time.Now().Add(clientCloseGrace))
}

// fail drops a connection whose write failed; the reader reports it.
func (w *clientWS) fail(err error) {
	w.mu.Lock()
	if w.failed == nil {
		w.failed = err
	}
	nc := w.drain()
	w.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
}

// abort drops the connection at once (the session is over and its grace
// time spent).
func (w *clientWS) abort() {
	w.cancel()
	w.mu.Lock()
	nc := w.nc
	w.done = true
	w.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
}

// readLoop reads frames until the connection ends, then tells the core.
func (w *clientWS) readLoop() {
	code, err := w.read()
	w.mu.Lock()
	if w.failed != nil {
		code, err = 0, w.failed
	}
	nc := w.drain()
	w.mu.Unlock()
	_ = nc.Close()
	w.ended(code, err)
}

// errServerProtocol reports a frame that breaks RFC 6455.
type errServerProtocol string

func (e errServerProtocol) Error() string { return "websocket protocol error: " + string(e) }

// read runs the frame loop. It returns the close code of the server's close
// frame (1005 when it has none, 1006 when the connection ended without
// one), or the error that broke the connection.
func (w *clientWS) read() (code int, err error) {
	var msg []byte // a fragmented message being assembled
	var msgBinary, msgCompressed bool
	for {
		w.c.sink.ioThrottle()
		h, err := ws.ReadHeaderBuffer(w.rd, w.hdr[:])
		if err != nil {
			return w.readEnd(err)
		}
		if h.Masked || !validRsv(h, w.pmd != nil) {
			return w.protocolError(ws.StatusProtocolError, "masked or reserved bits set in a server frame")
		}
		if h.OpCode.IsControl() {
			if h.Length > 125 || !h.Fin {
				return w.protocolError(ws.StatusProtocolError, "invalid control frame")
			}
			p := make([]byte, h.Length)
			if _, err := io.ReadFull(w.rd, p); err != nil {
				return w.readEnd(err)
			}
			switch h.OpCode {
			case ws.OpPing:
				w.enqueueControl(ws.OpPong, p)
				w.flush()
			case ws.OpClose:
				code := 1005
				if len(p) >= 2 {
					code = int(binary.BigEndian.Uint16(p))
				}
				w.mu.Lock()
				sent := w.closeSent
				w.mu.Unlock()
				if !sent {
					echo := code
					if echo == 1005 {
						echo = 1000
					}
					w.enqueueClose(echo)
					w.flush()
				}
				return code, nil
			}
			continue
		}
		if int64(len(msg))+h.Length > maxClientMessage {
			return w.protocolError(ws.StatusMessageTooBig, "message over "+strconv.Itoa(maxClientMessage)+" bytes")
		}
		p, err := readPayload(w.rd, h.Length)
		if err != nil {
			return w.readEnd(err)
		}
		switch {
		case h.OpCode == ws.OpContinuation && msg == nil:
			return w.protocolError(ws.StatusProtocolError, "continuation frame out of a message")
		case h.OpCode == ws.OpContinuation:
			msg = append(msg, p...)
			p = msg
		case msg != nil:
			return w.protocolError(ws.StatusProtocolError, "new message inside a fragmented one")
		case h.OpCode != ws.OpText && h.OpCode != ws.OpBinary:
			return w.protocolError(ws.StatusProtocolError, "unknown opcode "+strconv.Itoa(int(h.OpCode)))
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
			if p, err = w.pmd.inflate(p, maxClientMessage); err != nil {
				if errors.Is(err, errInflateTooBig) {
					return w.protocolError(ws.StatusMessageTooBig, "message inflates over "+strconv.Itoa(maxClientMessage)+" bytes")
				}
				return w.protocolError(ws.StatusInvalidFramePayloadData, "invalid compressed message: "+err.Error())
			}
		}
		if !msgBinary && !utf8.Valid(p) {
			return w.protocolError(ws.StatusInvalidFramePayloadData, "text message not UTF-8")
		}
		w.deliver(msgBinary, p)
	}
}

// readEnd maps a read error: a connection that ends without a close frame
// is a close with code 1006, as browsers report; anything else a failure.
func (w *clientWS) readEnd(err error) (int, error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return 1006, nil
	}
	return 0, err
}

// protocolError closes the connection with code after a broken frame.
func (w *clientWS) protocolError(code ws.StatusCode, what string) (int, error) {
	w.enqueueClose(int(code))
	w.flush()
	return 0, errServerProtocol(what)
}

// deliver hands one message to the core.
func (w *clientWS) deliver(binaryMsg bool, p []byte) {
	c := w.c
	c.mu.Lock()
	if w.forgotten {
		c.mu.Unlock()
		return
	}
	fl := c.sink.ioWSMessage(w.id, binaryMsg, p)
	c.mu.Unlock()
	fl.flush()
}
