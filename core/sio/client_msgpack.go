package sio

// The Client with socket.io-msgpack-parser: every packet one binary
// message, written as socket.io-client 4.8 builds its packet objects and
// notepack.io encodes them.

import "github.com/siohost/siohost/core/eio"

// SetParser selects the packet encoding the Client speaks: ParserJSON (the
// default) or ParserMsgpack (socket.io-msgpack-parser 3, with the v5
// protocol only). Set it before the first session opens.
//
// With ParserMsgpack every incoming message must be a binary one holding
// one msgpack packet (a text message, or an undecodable packet, is a parse
// error: the Client closes the session with "parse error", as
// socket.io-client does), decoded to the JSON form of the effects by
// DecodeMsgpack; every outgoing packet is one binary CEffSend, with its
// binary values inline, whose bytes are those socket.io-client 4.8 sends:
//   - CONNECT {type, data, nsp}, data the auth (notepack's undefined when
//     none) or {pid, offset, ...auth} when recovering (offset undefined
//     when no offset was recorded);
//   - EVENT {type, data, options: {compress: true}, id, nsp}, id only
//     with an ack;
//   - ACK {type, id, data, nsp};
//   - DISCONNECT {type, nsp}.
//
// Auth keys named pid or offset follow the recovery ones where JavaScript's
// Object.assign would overwrite them in place: a decoder keeps the last, so
// the server reads the same object.
func (c *Client) SetParser(p Parser) { c.parser = p }

// Parser returns the packet encoding of the Client.
func (c *Client) Parser() Parser { return c.parser }

// messageMsgpack handles one message with the msgpack parser.
func (c *Client) messageMsgpack(binary bool, data []byte) {
	if !binary {
		c.parseError(ErrMsgpackText, false, data)
		return
	}
	p, atts, err := c.dec.decode(data)
	if err != nil {
		c.parseError(err, true, data)
		return
	}
	c.dispatch(&p, atts)
}

// mpKey appends a fixstr key.
func mpKey(b []byte, k string) []byte {
	b = append(b, 0xa0|byte(len(k)))
	return append(b, k...)
}

// mpMapHeader appends the header of a map of n entries.
func mpMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n < 1<<16:
		return append(b, mpMap16, byte(n>>8), byte(n))
	}
	b = append(b, mpMap32, 0, 0, 0, 0)
	putU32(b[len(b)-4:], uint32(n))
	return b
}

// appendMsgpackClientConnect appends the CONNECT of ns.
func (c *Client) appendMsgpackClientConnect(b []byte, ns *clientNsp) []byte {
	b = append(b, 0x83)
	b = mpKey(b, "type")
	b = append(b, byte(Connect))
	b = mpKey(b, "data")
	switch {
	case ns.pid != "":
		// Object.assign({pid, offset}, auth).
		n, body := 0, []byte(nil)
		if ns.auth != nil {
			mark := len(b)
			c.mp.out = b
			if c.mp.json(ns.auth, nil) {
				enc := c.mp.out[mark:]
				var i int
				n, i = mpMapCount(enc)
				body = append(body, enc[i:]...)
			}
			b = c.mp.done()[:mark]
		}
		b = mpMapHeader(b, n+2)
		b = mpKey(b, "pid")
		b = appendMsgStr(b, ns.pid)
		b = mpKey(b, "offset")
		if off, ok := Unquote(ns.offset); ns.offset != nil && ok {
			b = appendMsgStr(b, off)
		} else {
			b = append(b, mpUndefined...)
		}
		b = append(b, body...)
	case ns.auth != nil:
		mark := len(b)
		c.mp.out = b
		if !c.mp.json(ns.auth, nil) {
			c.mp.out = append(c.mp.out[:mark], mpUndefined...)
		}
		b = c.mp.done()
	default:
		b = append(b, mpUndefined...)
	}
	return appendMsgpackNsp(b, ns.name)
}

// mpMapCount reads the header of the map that enc starts with: its count
// and the start of its entries.
func mpMapCount(enc []byte) (int, int) {
	switch {
	case len(enc) >= 1 && enc[0]&0xf0 == 0x80:
		return int(enc[0] & 0x0f), 1
	case len(enc) >= 3 && enc[0] == mpMap16:
		return int(enc[1])<<8 | int(enc[2]), 3
	case len(enc) >= 5 && enc[0] == mpMap32:
		return int(uint32(enc[1])<<24 | uint32(enc[2])<<16 | uint32(enc[3])<<8 | uint32(enc[4])), 5
	}
	return 0, len(enc)
}

// appendMsgpackEmit appends an EVENT: data is the JSON array of the name
// and arguments, with placeholders for attachments. It returns false when
// data is not valid JSON.
func (c *Client) appendMsgpackEmit(b []byte, nsp string, id int64, data []byte, attachments [][]byte) ([]byte, bool) {
	start := len(b)
	n := byte(4)
	if id >= 0 {
		n = 5
	}
	b = append(b, 0x80|n)
	b = mpKey(b, "type")
	b = append(b, byte(Event))
	b = mpKey(b, "data")
	c.mp.out = b
	ok := c.mp.json(data, attachments)
	if ok {
		// socket.io-client's packet.options, which notepack encodes too.
		c.mp.out = append(c.mp.out, 0xa7, 'o', 'p', 't', 'i', 'o', 'n', 's', 0x81, 0xa8, 'c', 'o', 'm', 'p', 'r', 'e', 's', 's', mpTrue)
		if id >= 0 {
			c.mp.out = mpKey(c.mp.out, "id")
			c.mp.uint(uint64(id))
		}
	}
	b = c.mp.done()
	if !ok {
		return b[:start], false
	}
	return appendMsgpackNsp(b, nsp), true
}

// appendMsgpackAck appends an ACK {type, id, data, nsp}; false when args
// is not valid JSON.
func (c *Client) appendMsgpackAck(b []byte, nsp string, id int64, args []byte, attachments [][]byte) ([]byte, bool) {
	start := len(b)
	b = append(b, 0x84)
	b = mpKey(b, "type")
	b = append(b, byte(Ack))
	b = mpKey(b, "id")
	c.mp.out = b
	c.mp.uint(uint64(id))
	c.mp.out = mpKey(c.mp.out, "data")
	ok := true
	if len(args) == 0 {
		c.mp.out = append(c.mp.out, 0x90)
	} else {
		ok = c.mp.json(args, attachments)
	}
	b = c.mp.done()
	if !ok {
		return b[:start], false
	}
	return appendMsgpackNsp(b, nsp), true
}

// sendMsgpackConnect sends the CONNECT of ns (v5 protocol).
func (c *Client) sendMsgpackConnect(ns *clientNsp) {
	start := len(c.scratch)
	c.scratch = c.appendMsgpackClientConnect(c.scratch, ns)
	c.sendScratchBinary(start)
}

// sendScratchBinary sends the binary message that starts at start in the
// scratch.
func (c *Client) sendScratchBinary(start int) {
	end := len(c.scratch)
	c.emit(ClientEffect{Kind: CEffSend, Binary: true, ID: -1, Data: c.scratch[start:end:end]})
}

// appendEventJSON appends the JSON array of an emit: the name, then the
// arguments (inner: what lies between their brackets).
func appendEventJSON(b []byte, event string, inner []byte) []byte {
	b = eio.AppendJSONString(append(b, '['), event)
	if len(inner) > 0 {
		b = append(append(b, ','), inner...)
	}
	return append(b, ']')
}
