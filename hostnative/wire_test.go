package hostnative

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"
)

// sniffProxy forwards TCP connections to a backend and records what the
// WebSocket connections among them carry: the handshake's request and
// response heads, and every frame each way (header bits and unmasked
// payload), so tests can see what went compressed on the wire.
type sniffProxy struct {
	addr string

	mu    sync.Mutex
	conns []*wireConn
}

// wireConn is one proxied connection: "up" is client to server.
type wireConn struct {
	reqHead, respHead string
	up, down          []wireFrame
}

// wireFrame is one frame as sent.
type wireFrame struct {
	op      ws.OpCode
	fin     bool
	rsv1    bool
	payload []byte // unmasked
}

func newSniffProxy(t *testing.T, backend string) *sniffProxy {
	t.Helper()
	p := &sniffProxy{}
	// One record per connection, made by the first of its two pipes.
	var mu sync.Mutex
	records := map[net.Conn]*wireConn{}
	record := func(client net.Conn) *wireConn {
		mu.Lock()
		defer mu.Unlock()
		wc := records[client]
		if wc == nil {
			wc = &wireConn{}
			records[client] = wc
			p.mu.Lock()
			p.conns = append(p.conns, wc)
			p.mu.Unlock()
		}
		return wc
	}
	p.addr = startProxy(t, backend, func(dst, src net.Conn, up bool) {
		client := src
		if !up {
			client = dst
		}
		sc := &frameScanner{p: p, wc: record(client), up: up}
		_, _ = io.Copy(io.MultiWriter(dst, sc), src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	})
	return p
}

// url is the proxy's address as an http URL with path.
func (p *sniffProxy) url(path string) string { return "http://" + p.addr + path }

// websockets returns a copy of what the WebSocket connections carried so
// far.
func (p *sniffProxy) websockets() []wireConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []wireConn
	for _, c := range p.conns {
		if strings.Contains(c.respHead, " 101 ") {
			cp := *c
			cp.up = append([]wireFrame(nil), c.up...)
			cp.down = append([]wireFrame(nil), c.down...)
			out = append(out, cp)
		}
	}
	return out
}

// frameScanner parses one direction of a connection as it passes.
type frameScanner struct {
	p        *sniffProxy
	wc       *wireConn
	up       bool
	buf      []byte
	headDone bool
	ignore   bool // not a WebSocket
}

func (s *frameScanner) Write(b []byte) (int, error) {
	if s.ignore {
		return len(b), nil
	}
	s.buf = append(s.buf, b...)
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	for {
		if !s.headDone {
			i := bytes.Index(s.buf, []byte("\r\n\r\n"))
			if i < 0 {
				return len(b), nil
			}
			head := string(s.buf[:i+4])
			s.buf = s.buf[i+4:]
			s.headDone = true
			if s.up {
				s.wc.reqHead = head
				s.ignore = !strings.Contains(strings.ToLower(head), "upgrade: websocket")
			} else {
				s.wc.respHead = head
				s.ignore = !strings.Contains(head, " 101 ")
			}
			if s.ignore {
				s.buf = nil
				return len(b), nil
			}
			continue
		}
		h, err := ws.ReadHeader(bytes.NewReader(s.buf))
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return len(b), nil
			}
			s.ignore = true
			return len(b), nil
		}
		hs := headerSize(h)
		if int64(len(s.buf)) < int64(hs)+h.Length {
			return len(b), nil
		}
		payload := append([]byte(nil), s.buf[hs:hs+int(h.Length)]...)
		if h.Masked {
			ws.Cipher(payload, h.Mask, 0)
		}
		f := wireFrame{op: h.OpCode, fin: h.Fin, rsv1: h.Rsv&0x4 != 0, payload: payload}
		if s.up {
			s.wc.up = append(s.wc.up, f)
		} else {
			s.wc.down = append(s.wc.down, f)
		}
		s.buf = s.buf[hs+int(h.Length):]
	}
}

func headerSize(h ws.Header) int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// wireMessage is a data message as its receiver reads it.
type wireMessage struct {
	text       string
	compressed bool
}

// messages decodes the data frames of one direction into messages,
// inflating compressed ones in order (with the sender's context, in case
// it keeps it). Fragmented messages are not expected.
func messages(t *testing.T, frames []wireFrame) []wireMessage {
	t.Helper()
	d := &wsDeflate{takeover: true}
	var out []wireMessage
	for _, f := range frames {
		if f.op != ws.OpText && f.op != ws.OpBinary {
			continue
		}
		require.True(t, f.fin, "a fragmented message")
		p := f.payload
		if f.rsv1 {
			var err error
			p, err = d.inflate(p, 1<<30)
			require.NoError(t, err)
		}
		out = append(out, wireMessage{text: string(p), compressed: f.rsv1})
	}
	return out
}

// find returns the first message that starts with prefix.
func findMessage(t *testing.T, msgs []wireMessage, prefix string) wireMessage {
	t.Helper()
	for _, m := range msgs {
		if strings.HasPrefix(m.text, prefix) {
			return m
		}
	}
	require.Failf(t, "missing message", "no message starting with %q among %d", prefix, len(msgs))
	return wireMessage{}
}

// headerValue returns the value of header name in an HTTP head.
func headerValue(head, name string) string {
	for _, line := range strings.Split(head, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
