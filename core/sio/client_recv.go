package sio

// What the Socket.IO client does with the packets it receives.

import (
	"slices"
	"strconv"

	"github.com/siohost/siohost/core/eio"
)

// Message hands the Client one Engine.IO message of the session. The
// bytes of a text message are not retained beyond the call, except as the
// Data of a CEffEvent or CEffAck, which aliases them; a packet that waits
// for attachments is copied.
func (c *Client) Message(now int64, binary bool, data []byte) {
	c.begin(now)
	if !c.open {
		return
	}
	c.cur = data
	if c.parser == ParserMsgpack {
		c.messageMsgpack(binary, data)
		return
	}
	if binary {
		b := c.bin
		if b == nil {
			c.parseError(ErrUnexpectedBin, true, data)
			return
		}
		if len(b.attachments)+1 < b.p.Attachments {
			b.attachments = append(b.attachments, append([]byte(nil), data...))
			return
		}
		b.attachments = append(b.attachments, data)
		c.bin = nil
		c.dispatch(&b.p, b.attachments)
		return
	}
	if c.bin != nil {
		c.parseError(ErrUnexpectedText, false, data)
		return
	}
	p, err := Decode(data)
	if err != nil {
		c.parseError(err, false, data)
		return
	}
	if p.Attachments > 0 {
		if !CheckPlaceholders(p.Data, p.Attachments) {
			c.parseError(ErrPlaceholder, false, data)
			return
		}
		// Held until the attachments come: the Client's own copy.
		p, _ = Decode(append([]byte(nil), data...))
		c.bin = &clientPartial{p: p, attachments: make([][]byte, 0, p.Attachments)}
		return
	}
	c.dispatch(&p, nil)
}

// parseError closes the connection on a packet the reference decoder
// rejects: socket.io-client's Manager closes with "parse error" (and
// reconnects).
func (c *Client) parseError(err error, binary bool, data []byte) {
	c.emit(ClientEffect{Kind: CEffError, ID: -1, Err: &ClientError{
		Kind:    ClientErrParse,
		Message: "undecodable packet: " + err.Error(),
		Packet:  packetSnippet(binary, data),
		Hint:    parseHint(err),
		Err:     err,
	}})
	c.engineClosed(eio.ReasonParseError, err.Error())
	c.emit(ClientEffect{Kind: CEffCloseEngine, ID: -1, Text: eio.ReasonParseError})
}

func (c *Client) dispatch(p *Packet, attachments [][]byte) {
	ns := c.lookup(p.Nsp)
	switch p.Type {
	case Connect:
		c.onConnect(ns, p)
	case ConnectError:
		c.onConnectError(ns, p)
	case Disconnect:
		if ns != nil && (ns.state == nsConnecting || ns.state == nsConnected) {
			ns.state = nsInactive
			e := effect(CEffDisconnect, ns)
			e.Text = ReasonIOServerDisconnect
			c.emit(e)
			c.clearAcks(ns)
			c.maybeCloseEngine()
		}
	case Event, BinaryEvent:
		switch {
		case ns == nil:
		case ns.state == nsConnected:
			c.deliver(ns, p.ID, p.Data, attachments)
		case ns.state == nsConnecting:
			// socket.io-client's receiveBuffer: delivered on connect.
			ns.recvBuf = append(ns.recvBuf, heldPacket{id: p.ID, data: append([]byte(nil), p.Data...), attachments: cloneAll(attachments)})
		}
	case Ack, BinaryAck:
		if ns == nil || ns.state == nsInactive {
			return
		}
		if _, ok := ns.acks[p.ID]; !ok {
			return // unknown or timed out: ignored, as the reference does
		}
		delete(ns.acks, p.ID)
		e := effect(CEffAck, ns)
		e.ID, e.Data, e.Attachments = p.ID, p.Data, attachments
		c.emit(e)
	}
}

func (c *Client) onConnect(ns *clientNsp, p *Packet) {
	if c.proto == 3 && len(p.Nsp) == 0 && (ns == nil || ns.state == nsInactive || ns.state == nsWaiting) {
		// The v4 server joined "/" before the application asked for it.
		c.rootJoined = true
		return
	}
	switch {
	case ns == nil || ns.state == nsInactive || ns.state == nsWaiting:
		return // no socket listens to it
	case ns.state == nsConnected:
		c.emit(ClientEffect{Kind: CEffError, ID: -1, Err: &ClientError{
			Kind:    ClientErrUnexpected,
			Nsp:     ns.name,
			Message: "CONNECT reply for a namespace already connected (ignored)",
			Packet:  packetSnippet(false, c.cur),
		}})
		return
	}
	if c.proto == 3 {
		sid := c.engineSID
		if ns.name != "/" {
			sid = ns.name + "#" + c.engineSID
		}
		c.connected(ns, sid, "")
		return
	}
	var sid, pid string
	if kindOf(p.Data) == kindObject {
		if v := member(p.Data, "sid"); kindOf(v) == kindString {
			sid, _ = Unquote(v)
		}
		if v := member(p.Data, "pid"); kindOf(v) == kindString {
			pid, _ = Unquote(v)
		}
	}
	if sid == "" {
		// socket.io-client reports it and leaves the socket waiting.
		e := effect(CEffConnectError, ns)
		e.Text = MessageServerV2
		e.Err = &ClientError{
			Kind:    ClientErrServerV2,
			Nsp:     ns.name,
			Message: "CONNECT reply without sid",
			Packet:  packetSnippet(false, c.cur),
			Hint: "the server speaks the Socket.IO v4 protocol of socket.io 2.x, which a v5 (socket.io 3+) client cannot talk to: " +
				"connect with Engine.IO protocol 3 (the socket.io-client 2.x compatibility), or upgrade the server to socket.io 3 or later",
		}
		c.emit(e)
		return
	}
	c.connected(ns, sid, pid)
}

// connected completes the CONNECT of ns, as socket.io-client's onconnect:
// the events received meanwhile are delivered and the buffered emits sent,
// then the connection is reported.
func (c *Client) connected(ns *clientNsp, sid, pid string) {
	ns.sid = sid
	ns.recovered = pid != "" && ns.pid == pid
	ns.pid = pid
	ns.state = nsConnected
	recv := ns.recvBuf
	ns.recvBuf = nil
	for _, h := range recv {
		c.deliver(ns, h.id, h.data, h.attachments)
	}
	send := ns.sendBuf
	ns.sendBuf = nil
	for _, h := range send {
		c.emit(ClientEffect{Kind: CEffSend, Binary: c.parser == ParserMsgpack, ID: -1, Data: h.data})
		for _, a := range h.attachments {
			c.sendBinary(a)
		}
	}
	e := effect(CEffConnected, ns)
	e.Text, e.PID, e.Recovered = sid, pid, ns.recovered
	c.emit(e)
}

// deliver reports an event and, when the namespace recovers sessions,
// records its offset: socket.io-client takes the last argument of every
// event that has no ack id when it is a string (the event name counts as
// one when there are no arguments).
func (c *Client) deliver(ns *clientNsp, id int64, data []byte, attachments [][]byte) {
	it := NewArrayIter(data)
	first, _ := it.Next()
	e := effect(CEffEvent, ns)
	e.Name, e.ID, e.Data, e.Attachments = c.eventName(first), id, data, attachments
	c.emit(e)
	if ns.pid != "" && id < 0 {
		last := first
		for v, ok := it.Next(); ok; v, ok = it.Next() {
			last = v
		}
		if kindOf(last) == kindString {
			ns.offset = append(ns.offset[:0], last...)
		}
	}
}

// eventName returns the name of an event from the JSON spelling of the
// packet's first element (a string, or a number the reference passes as
// is), without allocating for a name seen before.
func (c *Client) eventName(raw []byte) string {
	if name, ok := c.names[string(raw)]; ok {
		return name
	}
	var name string
	if kindOf(raw) == kindString {
		name, _ = Unquote(raw)
	} else {
		name = string(raw)
	}
	if len(c.names) < maxNames {
		if c.names == nil {
			c.names = map[string]string{}
		}
		c.names[string(raw)] = name
	}
	return name
}

func (c *Client) onConnectError(ns *clientNsp, p *Packet) {
	if c.proto == 3 {
		// socket.io-client 2.x emits "error" with the payload (err.data or
		// err.message); an error on "/" reaches every socket. The socket
		// stays and tries again on the next session.
		msg := errorMessage(p.Data)
		for _, n := range c.nsps {
			if n.state != nsConnecting || (n != ns && len(p.Nsp) != 0) {
				continue
			}
			n.state = nsWaiting
			e := effect(CEffConnectError, n)
			e.Text, e.Data = msg, p.Data
			c.emit(e)
		}
		return
	}
	if ns == nil || ns.state == nsInactive || ns.state == nsWaiting {
		return
	}
	e := effect(CEffConnectError, ns)
	e.Text = errorMessage(p.Data)
	if kindOf(p.Data) == kindObject {
		e.Data = member(p.Data, "data")
	}
	wasConnected := ns.state == nsConnected
	ns.state = nsInactive
	c.emit(e)
	if wasConnected {
		c.clearAcks(ns)
	}
	c.maybeCloseEngine()
}

// errorMessage returns the message of a CONNECT_ERROR payload: the string
// itself, or the object's "message".
func errorMessage(data []byte) string {
	v := data
	if kindOf(data) == kindObject {
		v = member(data, "message")
	}
	switch kindOf(v) {
	case kindString:
		s, _ := Unquote(v)
		return s
	case kindInvalid:
		return ""
	}
	return string(v)
}

// clearAcks fails the pending acks of ns whose packets were sent, as
// socket.io-client's _clearAcks on close: the buffered ones stay.
func (c *Client) clearAcks(ns *clientNsp) {
	if len(ns.acks) == 0 {
		return
	}
	var ids []int64
	for id := range ns.acks {
		if !ns.buffered(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		delete(ns.acks, id)
		e := effect(CEffAckFailed, ns)
		e.ID, e.Text = id, AckDisconnected
		c.emit(e)
	}
}

func (ns *clientNsp) buffered(id int64) bool {
	for _, h := range ns.sendBuf {
		if h.id == id {
			return true
		}
	}
	return false
}

func (ns *clientNsp) dropBuffered(id int64) {
	for i, h := range ns.sendBuf {
		if h.id == id {
			ns.sendBuf = append(ns.sendBuf[:i], ns.sendBuf[i+1:]...)
			return
		}
	}
}

// appendHeader appends a packet's type, attachment count, namespace and ack
// id, as AppendPacket does, from the namespace's name.
func appendHeader(b []byte, t PacketType, attachments int, nsp string, id int64) []byte {
	b = append(b, '0'+byte(t))
	if t == BinaryEvent || t == BinaryAck {
		b = strconv.AppendInt(b, int64(attachments), 10)
		b = append(b, '-')
	}
	if nsp != "/" && nsp != "" {
		b = append(b, nsp...)
		b = append(b, ',')
	}
	if id >= 0 {
		b = strconv.AppendInt(b, id, 10)
	}
	return b
}

func trimSpace(b []byte) []byte {
	i := skipSpace(b, 0)
	j := len(b)
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}

// arrayInner returns what lies between the brackets of a JSON array (nil
// or empty args: no arguments).
func arrayInner(args []byte) ([]byte, bool) {
	args = trimSpace(args)
	if len(args) == 0 {
		return nil, true
	}
	if len(args) < 2 || args[0] != '[' || args[len(args)-1] != ']' {
		return nil, false
	}
	return trimSpace(args[1 : len(args)-1]), true
}

// objectInner returns the members of a JSON object, without the braces.
func objectInner(obj []byte) []byte {
	obj = trimSpace(obj)
	if len(obj) < 2 {
		return nil
	}
	return trimSpace(obj[1 : len(obj)-1])
}

func cloneAll(in [][]byte) [][]byte {
	if len(in) == 0 {
		return nil
	}
	out := make([][]byte, len(in))
	for i, a := range in {
		out[i] = append([]byte(nil), a...)
	}
	return out
}
