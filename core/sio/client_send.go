package sio

// The commands of the Socket.IO client: connect, disconnect, emit, ack.

import (
	"github.com/siohost/siohost/core/eio"
)

// Connect asks to join namespace nsp (socket.connect()), with auth, a raw
// JSON object or nil. The CONNECT goes out at once when the Engine.IO
// session is open, else when it opens. recovery, when not nil, replaces
// the namespace's recovery state (a PID of "" turns recovery off);
// otherwise the state the Client tracked is used: with a pid, the CONNECT
// payload is {"pid":…,"offset":…,…auth}. A namespace already connecting or
// connected only takes the new auth for its next CONNECT.
//
// With the v4 protocol, the auth of a custom namespace becomes its query
// string (40/nsp?token=abc,); socket.io 2.x servers take the auth of "/"
// from the Engine.IO URL's query, which is the host's to set, and have no
// connection state recovery.
func (c *Client) Connect(now int64, nsp string, auth []byte, recovery *RecoveryState) error {
	c.begin(now)
	if nsp == "" {
		nsp = "/"
	}
	if err := checkClientNsp(nsp); err != nil {
		return err
	}
	if auth != nil {
		auth = trimSpace(auth)
		if kindOf(auth) != kindObject || !ValidJSON(auth) {
			return ErrInvalidAuth
		}
		auth = append([]byte(nil), auth...)
	}
	ns := c.find(nsp)
	if ns == nil {
		ns = &clientNsp{name: nsp}
		c.nsps = append(c.nsps, ns)
	}
	ns.auth = auth
	if recovery != nil {
		ns.pid, ns.offset = recovery.PID, nil
		if recovery.Offset != "" {
			ns.offset = eio.AppendJSONString(nil, recovery.Offset)
		}
	}
	if ns.state == nsInactive {
		ns.state = nsWaiting
	}
	if c.open && ns.state == nsWaiting {
		c.sendConnect(ns)
	}
	return nil
}

// Declare makes namespace nsp known without connecting it: emits made
// before its Connect are then buffered, as socket.io-client buffers those
// of a Socket created but not connected yet.
func (c *Client) Declare(nsp string) error {
	if nsp == "" {
		nsp = "/"
	}
	if err := checkClientNsp(nsp); err != nil {
		return err
	}
	if c.find(nsp) == nil {
		c.nsps = append(c.nsps, &clientNsp{name: nsp})
	}
	return nil
}

func checkClientNsp(nsp string) error {
	if nsp[0] != '/' {
		return ErrInvalidNamespace
	}
	for i := 0; i < len(nsp); i++ {
		if nsp[i] == ',' {
			return ErrInvalidNamespace
		}
	}
	return nil
}

// sendConnect sends the CONNECT of ns.
func (c *Client) sendConnect(ns *clientNsp) {
	ns.state = nsConnecting
	start := len(c.scratch)
	b := append(c.scratch, '0')
	if c.proto == 3 {
		if ns.name == "/" {
			// The server joined "/" by itself: its CONNECT is the reply.
			if c.rootJoined {
				c.connected(ns, c.engineSID, "")
			}
			return
		}
		b = append(b, ns.name...)
		if ns.auth != nil {
			mark := len(b)
			b = appendQuery(append(b, '?'), ns.auth)
			if len(b) == mark+1 {
				b = b[:mark]
			}
		}
		b = append(b, ',')
	} else if c.parser == ParserMsgpack {
		c.sendMsgpackConnect(ns)
		return
	} else {
		if ns.name != "/" {
			b = append(b, ns.name...)
			b = append(b, ',')
		}
		if ns.pid != "" {
			b = append(b, `{"pid":`...)
			b = eio.AppendJSONString(b, ns.pid)
			if ns.offset != nil {
				b = append(b, `,"offset":`...)
				b = append(b, ns.offset...)
			}
			// Later keys win in JSON.parse, as in the reference's
			// Object.assign({pid, offset}, auth).
			if inner := objectInner(ns.auth); len(inner) > 0 {
				b = append(b, ',')
				b = append(b, inner...)
			}
			b = append(b, '}')
		} else {
			b = append(b, ns.auth...)
		}
	}
	c.scratch = b
	c.sendScratch(start)
}

// sendScratch sends the text message that starts at start in the scratch.
func (c *Client) sendScratch(start int) {
	end := len(c.scratch)
	c.emit(ClientEffect{Kind: CEffSend, ID: -1, Data: c.scratch[start:end:end]})
}

func (c *Client) sendBinary(data []byte) {
	c.emit(ClientEffect{Kind: CEffSend, Binary: true, ID: -1, Data: data})
}

// Disconnect leaves namespace nsp (socket.disconnect()): a connected one
// is sent a DISCONNECT and reports "io client disconnect"; one still
// connecting is dropped silently. When no namespace is active any more,
// the Engine.IO session is closed (CEffCloseEngine, "forced close").
// Emits buffered for nsp stay buffered for a later Connect, as in
// socket.io-client.
func (c *Client) Disconnect(now int64, nsp string) {
	c.begin(now)
	ns := c.find(nsp)
	if ns == nil || ns.state == nsInactive {
		return
	}
	connected := ns.state == nsConnected
	ns.state = nsInactive
	if connected {
		start := len(c.scratch)
		if c.parser == ParserMsgpack {
			c.scratch = appendMsgpackDisconnect(c.scratch, ns.name)
			c.sendScratchBinary(start)
		} else {
			c.scratch = appendHeader(c.scratch, Disconnect, 0, ns.name, -1)
			c.sendScratch(start)
		}
		e := effect(CEffDisconnect, ns)
		e.Text = ReasonIOClientDisconnect
		c.emit(e)
		c.clearAcks(ns)
	}
	c.maybeCloseEngine()
}

// Emit sends event with args (a raw JSON array of the arguments, without
// the name; nil for none, placeholders included for the attachments) on
// namespace nsp. With wantAck it returns the ack id the server's CEffAck
// will carry (ids count from 0 per namespace, as in socket.io-client),
// else -1. A namespace not connected buffers the packet until it is.
// Volatile emits are the host's: it drops them when its Engine.IO client
// is not Writable. args is not validated beyond its brackets: it must be
// valid JSON, or the server closes the connection.
func (c *Client) Emit(now int64, nsp, event string, args []byte, attachments [][]byte, wantAck bool) (int64, error) {
	c.begin(now)
	ns := c.find(nsp)
	if ns == nil {
		return -1, ErrUnknownNamespace
	}
	for _, r := range reserved {
		if event == r {
			return -1, ErrReservedEvent
		}
	}
	inner, ok := arrayInner(args)
	if !ok {
		return -1, ErrInvalidArgs
	}
	if len(attachments) > MaxAttachments {
		return -1, ErrTooManyAttachments
	}
	var mp []byte // ParserMsgpack: the whole packet
	if c.parser == ParserMsgpack {
		mark := len(c.scratch)
		c.scratch = appendEventJSON(c.scratch, event, inner)
		src := c.scratch[mark:]
		id := int64(-1)
		if wantAck {
			id = ns.ids
		}
		var ok bool
		if mp, ok = c.appendMsgpackEmit(make([]byte, 0, len(ns.name)+len(src)+48), ns.name, id, src, attachments); !ok {
			c.scratch = c.scratch[:mark]
			return -1, ErrInvalidArgs
		}
		c.scratch = c.scratch[:mark]
	}
	id := int64(-1)
	if wantAck {
		id = ns.ids
		ns.ids++
		if ns.acks == nil {
			ns.acks = map[int64]int64{}
		}
		ns.acks[id] = 0
	}
	connected := ns.state == nsConnected
	if mp != nil {
		if !connected {
			ns.sendBuf = append(ns.sendBuf, heldPacket{id: id, data: mp})
			return id, nil
		}
		c.sendBinary(mp)
		return id, nil
	}
	var b []byte
	start := 0
	if connected {
		b, start = c.scratch, len(c.scratch)
	} else {
		b = make([]byte, 0, len(ns.name)+len(event)+len(inner)+32)
	}
	t := Event
	if len(attachments) > 0 {
		t = BinaryEvent
	}
	b = appendHeader(b, t, len(attachments), ns.name, id)
	b = eio.AppendJSONString(append(b, '['), event)
	if len(inner) > 0 {
		b = append(append(b, ','), inner...)
	}
	b = append(b, ']')
	if !connected {
		ns.sendBuf = append(ns.sendBuf, heldPacket{id: id, data: b, attachments: cloneAll(attachments)})
		return id, nil
	}
	c.scratch = b
	c.sendScratch(start)
	for _, a := range attachments {
		c.sendBinary(a)
	}
	return id, nil
}

// AckTimeout gives the ack id of namespace nsp a deadline
// (socket.timeout(ms).emit): if no ack has come by then, a CEffAckFailed
// "operation has timed out" reports it, and the packet is dropped if it
// is still buffered. It reports whether the ack was pending.
func (c *Client) AckTimeout(nsp string, id, deadline int64) bool {
	ns := c.find(nsp)
	if ns == nil || deadline <= 0 {
		return false
	}
	if _, ok := ns.acks[id]; !ok {
		return false
	}
	ns.acks[id] = deadline
	if c.earliest == 0 || deadline < c.earliest {
		c.earliest = deadline
	}
	return true
}

// Ack answers the event id of namespace nsp that asked for an ack, with
// args (a raw JSON array, nil for none) and attachments.
func (c *Client) Ack(now int64, nsp string, id int64, args []byte, attachments [][]byte) error {
	c.begin(now)
	ns := c.find(nsp)
	switch {
	case ns == nil:
		return ErrUnknownNamespace
	case ns.state != nsConnected:
		return ErrNotConnected
	case id < 0 || id > maxID:
		return ErrBadID
	case len(attachments) > MaxAttachments:
		return ErrTooManyAttachments
	}
	args = trimSpace(args)
	if _, ok := arrayInner(args); !ok {
		return ErrInvalidArgs
	}
	if c.parser == ParserMsgpack {
		start := len(c.scratch)
		b, ok := c.appendMsgpackAck(c.scratch, ns.name, id, args, attachments)
		if !ok {
			return ErrInvalidArgs
		}
		c.scratch = b
		c.sendScratchBinary(start)
		return nil
	}
	t := Ack
	if len(attachments) > 0 {
		t = BinaryAck
	}
	start := len(c.scratch)
	b := appendHeader(c.scratch, t, len(attachments), ns.name, id)
	if len(args) == 0 {
		b = append(b, '[', ']')
	} else {
		b = append(b, args...)
	}
	c.scratch = b
	c.sendScratch(start)
	for _, a := range attachments {
		c.sendBinary(a)
	}
	return nil
}
