package hostnative

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
)

// The WebSocket permessage-deflate extension (RFC 7692), as the reference
// negotiates it through the ws package: the server's perMessageDeflate
// option (off by default) and engine.io-client's (on by default), each
// with a threshold of 1024 bytes under which messages go uncompressed.
//
// Each side compresses every message on its own, with a pooled compressor:
// it never keeps a compression context between messages, which the
// extension allows whatever was negotiated (a sender is free not to use
// the context it may keep), so an idle connection holds no compressor. The
// receiving side does what the peer negotiated: when the peer may keep its
// context ("context takeover", ws's default), the last 32 KB of what its
// messages inflated to are kept for the next one.

// PerMessageDeflate configures the WebSocket permessage-deflate extension:
// the reference's perMessageDeflate option on the server (EngineOptions,
// off unless set) and engine.io-client's on the clients (on by default).
// Zero values mean the defaults of the ws package that the reference uses.
//
// Two points where the server follows the reference's documented intent
// rather than what engine.io 6.6 and ws 8 do: messages under the threshold
// and messages sent with Compress(false) always go uncompressed, whereas
// ws applies the threshold only when its own context is not kept
// (server_no_context_takeover), compressing every message otherwise, and
// engine.io's WebSocket transport no longer passes the compress flag to
// ws. The server never keeps its context, so compressing small messages
// would only cost.
type PerMessageDeflate struct {
	// Threshold is the size, in bytes, from which a message is sent
	// compressed (the Engine.IO packet as written, its type digit
	// included). Default 1024; negative: every message.
	Threshold int
	// Level is the compress/flate level, from 1 (flate.BestSpeed) to 9
	// (flate.BestCompression), or flate.HuffmanOnly. Default (0):
	// flate.DefaultCompression, the level zlib uses by default as in ws.
	Level int
	// ServerNoContextTakeover tells the client that the server compresses
	// each message on its own (server_no_context_takeover), so that the
	// client need not keep the server's context between messages. The
	// server compresses each message on its own anyway. On a client, it
	// asks the server not to keep its context.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks the client to compress each message on
	// its own (client_no_context_takeover). Without it, as by ws's default,
	// a client may keep its context between messages, and the server then
	// keeps the last 32 KB that the client's compressed messages inflated
	// to, for as long as the connection lasts (allocated with the first
	// compressed message). On a client, it offers the same (the client
	// compresses each message on its own anyway).
	ClientNoContextTakeover bool
}

// defaultDeflateThreshold is the threshold of ws and engine.io.
const defaultDeflateThreshold = 1024

func (o PerMessageDeflate) withDefaults() PerMessageDeflate {
	switch {
	case o.Threshold == 0:
		o.Threshold = defaultDeflateThreshold
	case o.Threshold < 0:
		o.Threshold = 0
	}
	if o.Level == 0 || o.Level < flate.HuffmanOnly || o.Level > flate.BestCompression {
		o.Level = flate.DefaultCompression
	}
	return o
}

// maxWindowBits is the only LZ77 window compress/flate compresses with.
const maxWindowBits = 15

// wsDeflate is the permessage-deflate state of one WebSocket, once
// negotiated.
type wsDeflate struct {
	threshold int  // messages at least this long are compressed
	level     int  // their compression level
	noSend    bool // this side may not compress (the peer asked for a window under 15 bits)
	takeover  bool // the peer may keep its context: inflate with window
	// window holds the last 32 KB the peer's compressed messages inflated
	// to, while takeover; only the reading goroutine uses it.
	window []byte
}

// deflates reports whether a message of n bytes sent with d is compressed.
func (d *wsDeflate) deflates(n int) bool { return d != nil && !d.noSend && n >= d.threshold }

// extensionsHeader is the canonical Sec-WebSocket-Extensions.
const extensionsHeader = "Sec-WebSocket-Extensions"

// acceptDeflate negotiates the extension as the ws package's server does:
// the first of the client's permessage-deflate offers that can be
// accepted is, with the parameters it named (client_max_window_bits
// without a value dropped) and those of o. Offers that cannot be accepted
// are declined rather than refused, and so are malformed headers: the
// connection then goes on uncompressed. It returns the response header
// value, or "" when nothing was accepted.
func acceptDeflate(o *PerMessageDeflate, h http.Header) (*wsDeflate, string) {
	for _, v := range h.Values(extensionsHeader) {
		offers, ok := httphead.ParseOptions([]byte(v), nil)
		if !ok {
			continue
		}
		for _, offer := range offers {
			if string(offer.Name) != wsflate.ExtensionName {
				continue
			}
			var p wsflate.Parameters
			if p.Parse(offer) != nil {
				continue
			}
			if p.ServerMaxWindowBits.Defined() && p.ServerMaxWindowBits < maxWindowBits {
				// compress/flate cannot compress with a smaller window.
				continue
			}
			cfg := o.withDefaults()
			resp := wsflate.Parameters{
				ServerNoContextTakeover: p.ServerNoContextTakeover || cfg.ServerNoContextTakeover,
				ClientNoContextTakeover: p.ClientNoContextTakeover || cfg.ClientNoContextTakeover,
				ServerMaxWindowBits:     p.ServerMaxWindowBits,
			}
			if p.ClientMaxWindowBits > 1 {
				resp.ClientMaxWindowBits = p.ClientMaxWindowBits
			}
			d := &wsDeflate{threshold: cfg.Threshold, level: cfg.Level, takeover: !resp.ClientNoContextTakeover}
			return d, formatDeflate(resp)
		}
	}
	return nil, ""
}

// formatDeflate writes the extension with its parameters, as a header
// value.
func formatDeflate(p wsflate.Parameters) string {
	var b strings.Builder
	b.WriteString(wsflate.ExtensionName)
	if p.ServerNoContextTakeover {
		b.WriteString("; server_no_context_takeover")
	}
	if p.ClientNoContextTakeover {
		b.WriteString("; client_no_context_takeover")
	}
	if p.ServerMaxWindowBits > 1 {
		b.WriteString("; server_max_window_bits=" + strconv.Itoa(int(p.ServerMaxWindowBits)))
	}
	switch {
	case p.ClientMaxWindowBits == 1:
		b.WriteString("; client_max_window_bits")
	case p.ClientMaxWindowBits > 1:
		b.WriteString("; client_max_window_bits=" + strconv.Itoa(int(p.ClientMaxWindowBits)))
	}
	return b.String()
}

// deflateOffer is a client's offer, as the ws package makes it by default:
// "permessage-deflate; client_max_window_bits", plus the no-context-
// takeover parameters asked for.
func deflateOffer(o *PerMessageDeflate) httphead.Option {
	return wsflate.Parameters{
		ServerNoContextTakeover: o.ServerNoContextTakeover,
		ClientNoContextTakeover: o.ClientNoContextTakeover,
		ClientMaxWindowBits:     1,
	}.Option()
}

// errDeflateResponse reports a server's permessage-deflate response that
// the offer does not allow.
var errDeflateResponse = errors.New("siohost: invalid permessage-deflate response")

// clientDeflate reads the server's answer to a client's offer (the
// extensions the handshake accepted) as the ws package's client does.
func clientDeflate(o *PerMessageDeflate, accepted []httphead.Option) (*wsDeflate, error) {
	for _, opt := range accepted {
		if string(opt.Name) != wsflate.ExtensionName {
			continue
		}
		var p wsflate.Parameters
		if err := p.Parse(opt); err != nil {
			return nil, errDeflateResponse
		}
		if o.ServerNoContextTakeover && !p.ServerNoContextTakeover {
			return nil, errDeflateResponse
		}
		cfg := o.withDefaults()
		return &wsDeflate{
			threshold: cfg.Threshold,
			level:     cfg.Level,
			// A window under 15 bits: compress/flate cannot keep to it, so
			// the client sends uncompressed (it may: each message says).
			noSend:   p.ClientMaxWindowBits > 1 && p.ClientMaxWindowBits < maxWindowBits,
			takeover: !p.ServerNoContextTakeover,
		}, nil
	}
	return nil, nil
}

// deflater is a pooled compressor and the buffer it appends to.
type deflater struct {
	zw  *flate.Writer
	out appendWriter
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// deflaters holds pooled compressors by level (flate.HuffmanOnly is -2).
var deflaters [flate.BestCompression + 3]sync.Pool

// deflateTrailer ends the sync flush of a message; RFC 7692 has the
// sender drop it and the receiver append it.
var deflateTrailer = []byte{0, 0, 0xff, 0xff}

// maxKeptDeflate bounds the output buffer a pooled compressor keeps.
const maxKeptDeflate = 256 << 10

// deflateMessage compresses payload as one permessage-deflate message (a
// raw DEFLATE stream, sync-flushed, the trailing 00 00 ff ff dropped),
// independently of any other message, and hands the result to use, which
// must not keep it: it lives in the pooled compressor's buffer.
func deflateMessage(level int, payload []byte, use func(compressed []byte)) {
	pool := &deflaters[level-flate.HuffmanOnly]
	d, _ := pool.Get().(*deflater)
	if d == nil {
		d = &deflater{}
		d.zw, _ = flate.NewWriter(&d.out, level) // level checked by withDefaults
	} else {
		d.zw.Reset(&d.out)
	}
	d.out.b = d.out.b[:0]
	_, _ = d.zw.Write(payload) // writing to memory cannot fail
	_ = d.zw.Flush()
	use(bytes.TrimSuffix(d.out.b, deflateTrailer))
	if cap(d.out.b) > maxKeptDeflate {
		d.out.b = nil
	}
	pool.Put(d)
}

// appendDeflated appends payload compressed by deflateMessage to dst.
func appendDeflated(dst []byte, level int, payload []byte) []byte {
	deflateMessage(level, payload, func(z []byte) { dst = append(dst, z...) })
	return dst
}

// errInflateTooBig reports a compressed message that inflates beyond the
// size allowed.
var errInflateTooBig = errors.New("siohost: inflated message too large")

// inflater is a pooled decompressor, its source, and a scratch buffer.
type inflater struct {
	fr      io.ReadCloser // a flate.Resetter
	src     messageSource
	scratch [inflateDirect]byte
}

var inflaters = sync.Pool{New: func() any {
	in := &inflater{}
	in.fr = flate.NewReader(&in.src)
	return in
}}

// reset points the decompressor at the start of message p.
func (in *inflater) reset(p, window []byte) error {
	in.src = messageSource{p: p}
	return in.fr.(flate.Resetter).Reset(&in.src, window)
}

// windowSize is the LZ77 window: what context takeover refers back into.
const windowSize = 32 << 10

// inflateDirect is the size of an inflater's scratch buffer: a message up
// to that size is inflated once; a longer one is measured first, then
// inflated again into a buffer of its size.
const inflateDirect = 64 << 10

// inflate decompresses one message compressed by the peer. Its output may
// not exceed limit bytes (errInflateTooBig). Whatever the message claims
// to inflate to, only its actual size (so never more than the limit) is
// allocated, besides the pooled decompressor and scratch buffer: a
// message that fits in the scratch buffer is inflated there and copied
// out; a longer one is inflated through it to be measured (stopping at the
// limit), then again into a buffer of the exact size. When the peer keeps
// its context, the message is inflated with the window of the previous
// ones, and becomes part of the window.
func (d *wsDeflate) inflate(p []byte, limit int64) ([]byte, error) {
	in := inflaters.Get().(*inflater)
	defer func() {
		in.src = messageSource{} // the pool must not keep the message alive
		inflaters.Put(in)
	}()
	if err := in.reset(p, d.window); err != nil {
		return nil, err
	}
	var total int64
	var err error
	for err == nil && total <= limit {
		var n int
		if total < int64(len(in.scratch)) {
			n, err = in.fr.Read(in.scratch[total:])
		} else {
			n, err = in.fr.Read(in.scratch[:])
		}
		total += int64(n)
	}
	switch {
	case total > limit:
		return nil, errInflateTooBig
	case err != io.EOF:
		return nil, err
	}
	out := make([]byte, total)
	if total <= int64(len(in.scratch)) {
		copy(out, in.scratch[:total])
	} else {
		// Longer than the scratch buffer: inflate it again, into out.
		if err := in.reset(p, d.window); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(in.fr, out); err != nil {
			return nil, err
		}
	}
	if d.takeover {
		d.keepWindow(out)
	}
	return out, nil
}

// keepWindow makes the last 32 KB of the window and msg the new window.
func (d *wsDeflate) keepWindow(msg []byte) {
	if d.window == nil {
		d.window = make([]byte, 0, windowSize)
	}
	if len(msg) >= windowSize {
		d.window = append(d.window[:0], msg[len(msg)-windowSize:]...)
		return
	}
	if keep := windowSize - len(msg); len(d.window) > keep {
		d.window = d.window[:copy(d.window, d.window[len(d.window)-keep:])]
	}
	d.window = append(d.window, msg...)
}

// messageSource reads a compressed message, then the end of the stream:
// the trailer its sender dropped and an empty final block. It is a
// flate.Reader (a ByteReader), so the decompressor reads it unbuffered.
type messageSource struct {
	p    []byte
	tail int
}

var messageEnd = [...]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

func (s *messageSource) Read(b []byte) (int, error) {
	if len(s.p) > 0 {
		n := copy(b, s.p)
		s.p = s.p[n:]
		return n, nil
	}
	if s.tail < len(messageEnd) {
		n := copy(b, messageEnd[s.tail:])
		s.tail += n
		return n, nil
	}
	return 0, io.EOF
}

func (s *messageSource) ReadByte() (byte, error) {
	if len(s.p) > 0 {
		c := s.p[0]
		s.p = s.p[1:]
		return c, nil
	}
	if s.tail < len(messageEnd) {
		c := messageEnd[s.tail]
		s.tail++
		return c, nil
	}
	return 0, io.EOF
}
