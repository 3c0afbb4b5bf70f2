package sio

import (
	"github.com/siohost/siohost/core/eio"
)

// Effect kinds added by the Socket.IO layer to the Engine.IO effect list.
const (
	// EffConnect: the client asks to join namespace Nsp of Session, with the
	// auth payload Data (raw JSON object, nil when absent). For v2 clients
	// (Protocol 3) Text holds the namespace's query string, which is their
	// auth. The host answers with Accept or Refuse.
	EffConnect = eio.EffUpper + iota
	// EffEvent: an event on namespace Nsp: Data is the raw JSON array (name
	// first), Attachments the binary parts, ID the ack id or -1.
	EffEvent
	// EffAck: the client acknowledged ID on Nsp with the arguments Data (a
	// raw JSON array) and Attachments.
	EffAck
	// EffDisconnect: the socket of Session on Nsp is gone; Text is the
	// reason ("client namespace disconnect", or the Engine.IO close reason).
	EffDisconnect
)

// Disconnect reasons the Socket.IO layer adds to the Engine.IO ones.
const (
	ReasonClientNamespace = "client namespace disconnect"
	ReasonServerNamespace = "server namespace disconnect"
	ReasonForcedServer    = "forced server close"
)

// Config holds the Socket.IO server settings. Times are in milliseconds.
type Config struct {
	// ConnectTimeout closes a connection that has joined no namespace by
	// then (default 45000).
	ConnectTimeout int64
	// Parser is the packet encoding every client speaks (default
	// ParserJSON).
	Parser Parser
}

// Server is the Socket.IO layer over an eio.Server: it decodes Socket.IO
// packets, keeps each connection's namespaces and binary reassembly, and
// encodes replies. Like the eio.Server, it is driven by one host goroutine
// at a time.
type Server struct {
	eio     *eio.Server
	cfg     Config
	conns   []conn // by Engine.IO handle index
	scratch []byte
	msgpack bool // cfg.Parser == ParserMsgpack
	dec     mpDecoder
	enc     mpEncoder
}

type conn struct {
	h    eio.Handle
	v4   bool // Socket.IO protocol v4 (Engine.IO v3 clients)
	nsps []nsp
	bin  *partial // binary packet waiting for attachments
}

type nsp struct {
	name      string
	connected bool // false while the host decides on the CONNECT
}

type partial struct {
	p           Packet
	nsp         string
	attachments [][]byte
}

// NewServer layers a Socket.IO server over e.
func NewServer(e *eio.Server, cfg Config) *Server {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 45000
	}
	s := &Server{eio: e, cfg: cfg, msgpack: cfg.Parser == ParserMsgpack}
	e.SetUpper(s)
	return s
}

// Engine returns the underlying Engine.IO server.
func (s *Server) Engine() *eio.Server { return s.eio }

func (s *Server) conn(h eio.Handle) *conn {
	i := int(uint32(h) & (1<<20 - 1))
	if i >= len(s.conns) || s.conns[i].h != h {
		return nil
	}
	return &s.conns[i]
}

// Open implements eio.Upper.
func (s *Server) Open(h eio.Handle) {
	i := int(uint32(h) & (1<<20 - 1))
	for len(s.conns) <= i {
		s.conns = append(s.conns, conn{})
	}
	c := &s.conns[i]
	*c = conn{h: h, v4: s.eio.Protocol(h) == 3}
	s.eio.SetTimer(h, s.eio.Now()+s.cfg.ConnectTimeout)
	if c.v4 {
		// v2 clients never send a CONNECT for "/": the server joins it.
		c.nsps = append(c.nsps, nsp{name: "/"})
		s.eio.Emit(eio.Effect{Kind: EffConnect, Session: h, Nsp: "/", ID: -1})
	}
}

// Timer implements eio.Upper: the connect timeout.
func (s *Server) Timer(h eio.Handle, now int64) {
	if c := s.conn(h); c != nil {
		for _, n := range c.nsps {
			if n.connected {
				return
			}
		}
		s.eio.CloseSession(now, h, ReasonForcedServer)
	}
}

// Close implements eio.Upper: every namespace of the connection is gone.
func (s *Server) Close(h eio.Handle, reason, desc string) {
	c := s.conn(h)
	if c == nil {
		return
	}
	for _, n := range c.nsps {
		s.eio.Emit(eio.Effect{Kind: EffDisconnect, Session: h, Nsp: n.name, Text: reason, Desc: desc, ID: -1})
	}
	*c = conn{}
}

// Message implements eio.Upper: one Engine.IO message of a connection.
func (s *Server) Message(h eio.Handle, binary bool, data []byte) {
	c := s.conn(h)
	if c == nil {
		return
	}
	if s.msgpack {
		s.messageMsgpack(c, binary, data)
		return
	}
	if binary {
		if c.bin == nil {
			s.fail(h, ErrUnexpectedBin)
			return
		}
		c.bin.attachments = append(c.bin.attachments, data)
		if len(c.bin.attachments) == c.bin.p.Attachments {
			b := c.bin
			c.bin = nil
			s.dispatch(c, &b.p, b.nsp, b.attachments)
		}
		return
	}
	if c.bin != nil {
		s.fail(h, ErrUnexpectedText)
		return
	}
	p, err := Decode(data)
	if err != nil {
		s.fail(h, err)
		return
	}
	name := s.nspName(c, &p)
	if p.Attachments > 0 {
		if !CheckPlaceholders(p.Data, p.Attachments) {
			s.fail(h, ErrPlaceholder)
			return
		}
		c.bin = &partial{p: p, nsp: name, attachments: make([][]byte, 0, p.Attachments)}
		return
	}
	s.dispatch(c, &p, name, nil)
}

// messageMsgpack decodes a message of the msgpack parser: one binary
// message per packet, binary values inline.
func (s *Server) messageMsgpack(c *conn, binary bool, data []byte) {
	if !binary {
		s.fail(c.h, ErrMsgpackText)
		return
	}
	p, atts, err := s.dec.decode(data)
	if err != nil {
		s.fail(c.h, err)
		return
	}
	s.dispatch(c, &p, s.nspName(c, &p), atts)
}

// nspName returns the namespace of p as a string, reusing the connection's
// copy when it has one, so a packet on a joined namespace allocates nothing.
func (s *Server) nspName(c *conn, p *Packet) string {
	if len(p.Nsp) == 0 {
		return "/"
	}
	for _, n := range c.nsps {
		if n.name == string(p.Nsp) {
			return n.name
		}
	}
	return string(p.Nsp)
}

func (s *Server) dispatch(c *conn, p *Packet, name string, attachments [][]byte) {
	h := c.h
	if p.Type == Connect {
		query := ""
		if c.v4 {
			// v2 clients put their auth in the namespace's query string.
			for i := 0; i < len(name); i++ {
				if name[i] == '?' {
					name, query = name[:i], name[i+1:]
					break
				}
			}
		}
		if c.find(name) >= 0 {
			s.fail(h, ErrInvalidPayload)
			return
		}
		c.nsps = append(c.nsps, nsp{name: name})
		s.eio.Emit(eio.Effect{Kind: EffConnect, Session: h, Nsp: name, Data: p.Data, Text: query, ID: -1})
		return
	}
	i := c.find(name)
	if i < 0 || !c.nsps[i].connected || p.Type == ConnectError {
		s.fail(h, ErrInvalidPayload)
		return
	}
	switch p.Type {
	case Disconnect:
		c.nsps = append(c.nsps[:i], c.nsps[i+1:]...)
		s.eio.Emit(eio.Effect{Kind: EffDisconnect, Session: h, Nsp: name, Text: ReasonClientNamespace, ID: -1})
	case Event, BinaryEvent:
		s.eio.Emit(eio.Effect{Kind: EffEvent, Session: h, Nsp: name, ID: p.ID, Data: p.Data, Attachments: attachments})
	case Ack, BinaryAck:
		s.eio.Emit(eio.Effect{Kind: EffAck, Session: h, Nsp: name, ID: p.ID, Data: p.Data, Attachments: attachments})
	}
}

func (c *conn) find(name string) int {
	for i, n := range c.nsps {
		if n.name == name {
			return i
		}
	}
	return -1
}

// fail closes a connection that sent an invalid packet, as the reference
// does: every socket of it sees "forced close".
func (s *Server) fail(h eio.Handle, err error) {
	s.eio.CloseSessionDesc(s.eio.Now(), h, eio.ReasonForcedClose, err.Error())
}

// Accept answers the CONNECT of session h to namespace name: the socket id
// sid (and pid, when connection state recovery is on, else "") is sent to
// v5 clients; v4 clients get a bare CONNECT.
func (s *Server) Accept(now int64, h eio.Handle, name, sid, pid string) bool {
	c := s.conn(h)
	if c == nil {
		return false
	}
	i := c.find(name)
	if i < 0 || c.nsps[i].connected {
		return false
	}
	c.nsps[i].connected = true
	// As the reference does, the first namespace joined cancels the connect
	// timeout for good: leaving every namespace later does not revive it.
	s.eio.SetTimer(h, 0)
	s.begin()
	start := len(s.scratch)
	if s.msgpack {
		s.scratch = appendMsgpackConnect(s.scratch, name, sid, pid, c.v4)
		return s.eio.Send(now, h, true, s.scratch[start:])
	}
	p := Packet{Type: Connect, Nsp: nspBytes(name), ID: -1}
	b := AppendPacket(s.scratch, &p)
	if !c.v4 {
		b = append(b, `{"sid":`...)
		b = eio.AppendJSONString(b, sid)
		if pid != "" {
			b = append(b, `,"pid":`...)
			b = eio.AppendJSONString(b, pid)
		}
		b = append(b, '}')
	}
	s.scratch = b
	return s.eio.Send(now, h, false, b[start:])
}

// Refuse answers the CONNECT of session h to namespace name with a
// CONNECT_ERROR. v5 clients get {"message":…[,"data":…]}; v4 clients get
// data when there is some, else the message as a string, as the reference
// does for them.
func (s *Server) Refuse(now int64, h eio.Handle, name, message string, data []byte) {
	c := s.conn(h)
	if c == nil {
		return
	}
	if i := c.find(name); i >= 0 && !c.nsps[i].connected {
		c.nsps = append(c.nsps[:i], c.nsps[i+1:]...)
	}
	s.begin()
	start := len(s.scratch)
	if s.msgpack {
		s.scratch = s.enc.appendMsgpackRefusal(s.scratch, name, message, data, c.v4)
		s.eio.Send(now, h, true, s.scratch[start:])
		return
	}
	p := Packet{Type: ConnectError, Nsp: nspBytes(name), ID: -1}
	b := AppendPacket(s.scratch, &p)
	switch {
	case c.v4 && data != nil:
		b = append(b, data...)
	case c.v4:
		b = eio.AppendJSONString(b, message)
	default:
		b = append(b, `{"message":`...)
		b = eio.AppendJSONString(b, message)
		if data != nil {
			b = append(b, `,"data":`...)
			b = append(b, data...)
		}
		b = append(b, '}')
	}
	s.scratch = b
	s.eio.Send(now, h, false, b[start:])
}

// SendFlags are the options of a packet sent with Server.Send, as the
// reference's socket flags.
type SendFlags uint8

const (
	// SendVolatile drops the packet when it cannot go out at once.
	SendVolatile SendFlags = 1 << iota
	// SendNoCompress is the reference's compress(false): the packet's
	// frames are never compressed, nor a polling response made only of
	// such packets (eio.Effect.NoCompress).
	SendNoCompress
)

// Send sends one encoded packet (its text part, then its attachments) to
// session h, provided the session is still on namespace name. A volatile
// packet is dropped when it cannot go out at once. With the msgpack
// parser, the packet is transcoded into one binary message (AppendMsgpack,
// OrderEmit); false when it cannot be.
func (s *Server) Send(now int64, h eio.Handle, name string, text []byte, attachments [][]byte, flags SendFlags) bool {
	if !s.sendable(h, name, flags) {
		return false
	}
	if s.msgpack {
		b, ok := s.transcode(text, attachments, OrderEmit)
		return ok && s.eio.SendMessage(now, h, true, flags&SendNoCompress != 0, b)
	}
	return s.sendText(now, h, text, attachments, flags)
}

// Broadcast sends one encoded packet to each session of hs that is on
// namespace name, as Send does, and returns how many took it. With the
// msgpack parser, the packet is transcoded once for all of them
// (OrderBroadcast).
func (s *Server) Broadcast(now int64, hs []eio.Handle, name string, text []byte, attachments [][]byte, flags SendFlags) int {
	sent := 0
	var b []byte
	for _, h := range hs {
		if !s.sendable(h, name, flags) {
			continue
		}
		if !s.msgpack {
			if s.sendText(now, h, text, attachments, flags) {
				sent++
			}
			continue
		}
		if b == nil {
			var ok bool
			if b, ok = s.transcode(text, attachments, OrderBroadcast); !ok {
				return sent
			}
		}
		if s.eio.SendMessage(now, h, true, flags&SendNoCompress != 0, b) {
			sent++
		}
	}
	return sent
}

// sendable reports whether session h is on namespace name and, for a
// volatile packet, can take it at once.
func (s *Server) sendable(h eio.Handle, name string, flags SendFlags) bool {
	c := s.conn(h)
	if c == nil {
		return false
	}
	if i := c.find(name); i < 0 || !c.nsps[i].connected {
		return false
	}
	return flags&SendVolatile == 0 || s.eio.Writable(h)
}

func (s *Server) sendText(now int64, h eio.Handle, text []byte, attachments [][]byte, flags SendFlags) bool {
	noCompress := flags&SendNoCompress != 0
	if !s.eio.SendMessage(now, h, false, noCompress, text) {
		return false
	}
	for _, a := range attachments {
		s.eio.SendMessage(now, h, true, noCompress, a)
	}
	return true
}

// transcode encodes a packet given in the JSON parser's form with the
// msgpack parser, into the scratch space.
func (s *Server) transcode(text []byte, attachments [][]byte, order MsgpackOrder) ([]byte, bool) {
	p, ok := decodeHeader(text)
	if !ok {
		return nil, false
	}
	s.begin()
	start := len(s.scratch)
	b, err := s.enc.packet(s.scratch, &p, attachments, order)
	s.scratch = b
	return b[start:], err == nil
}

// decodeHeader splits a packet in the JSON parser's text form, as the
// host encodes it (its payload is trusted, and its attachments are not
// bounded as a client's are).
func decodeHeader(b []byte) (Packet, bool) {
	p := Packet{ID: -1}
	err := splitHeader(&p, b, 9999)
	return p, err == nil
}

// Leave disconnects session h from namespace name on the server's side: the
// client is sent a DISCONNECT. The connection stays open.
func (s *Server) Leave(now int64, h eio.Handle, name string) bool {
	c := s.conn(h)
	if c == nil {
		return false
	}
	i := c.find(name)
	if i < 0 {
		return false
	}
	connected := c.nsps[i].connected
	c.nsps = append(c.nsps[:i], c.nsps[i+1:]...)
	if !connected {
		return false
	}
	s.begin()
	start := len(s.scratch)
	if s.msgpack {
		s.scratch = appendMsgpackDisconnect(s.scratch, name)
		return s.eio.Send(now, h, true, s.scratch[start:])
	}
	p := Packet{Type: Disconnect, Nsp: nspBytes(name), ID: -1}
	s.scratch = AppendPacket(s.scratch, &p)
	return s.eio.Send(now, h, false, s.scratch[start:])
}

// Namespaces returns the namespaces session h has joined.
func (s *Server) Namespaces(h eio.Handle) []string {
	c := s.conn(h)
	if c == nil {
		return nil
	}
	var out []string
	for _, n := range c.nsps {
		if n.connected {
			out = append(out, n.name)
		}
	}
	return out
}

// begin reclaims the scratch space once the host has taken the effects that
// could refer to it.
func (s *Server) begin() {
	if s.eio.Pending() == 0 {
		s.scratch = s.scratch[:0]
	}
}

func nspBytes(name string) []byte {
	if name == "/" {
		return nil
	}
	return []byte(name)
}
