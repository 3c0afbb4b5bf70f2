package eio

import (
	"encoding/base64"
	"strings"
)

// The polling side of the Client: one GET in flight at a time, re-issued
// after each answer; buffered packets flushed as one POST at a time, which
// a v4 client caps at the server's maxPayload (engine.io-client >= 6.2; the
// 3.x client sends the whole buffer).

// poll issues the next polling GET (the first one is the handshake).
func (c *Client) poll() {
	c.getConn = c.newConn()
	c.emit(ClientEffect{Kind: CEffRequest, Conn: c.getConn, Method: "GET", Query: c.query("polling")})
}

// query returns the Engine.IO query parameters of a request, in
// engine.io-client's order: EIO, transport, sid, t, b64. A polling client
// asks for b64 at the handshake only (the server fixes it for the session);
// a WebSocket asks on every connection.
func (c *Client) query(transport string) string {
	cache := transport == "polling" && c.cfg.Random == nil && c.hs.SID != ""
	if cache && c.pollQuery != "" {
		return c.pollQuery
	}
	b := make([]byte, 0, 64)
	b = append(b, "EIO="...)
	b = append(b, '0'+c.proto)
	b = append(b, "&transport="...)
	b = append(b, transport...)
	if c.hs.SID != "" {
		b = append(b, "&sid="...)
		b = appendQueryEscape(b, c.hs.SID)
	}
	polling := transport == "polling"
	if polling && c.cfg.Random != nil {
		var raw [6]byte
		c.cfg.Random(raw[:])
		b = append(b, "&t="...)
		b = base64.RawURLEncoding.AppendEncode(b, raw[:])
	}
	if c.cfg.B64 && (!polling || c.hs.SID == "") {
		b = append(b, "&b64=1"...)
	}
	if cache {
		c.pollQuery = string(b)
		return c.pollQuery
	}
	return string(b)
}

// appendQueryEscape percent-encodes s for a query value, keeping only the
// unreserved characters.
func appendQueryEscape(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.' || ch == '~' {
			b = append(b, ch)
			continue
		}
		b = append(b, '%', "0123456789ABCDEF"[ch>>4], "0123456789ABCDEF"[ch&15])
	}
	return b
}

// postBatch sends the first packets of the buffer as one POST.
func (c *Client) postBatch() {
	n := c.batchLen()
	c.postPackets(c.queue[:n])
	rest := c.queue[n:]
	if len(rest) == 0 {
		c.queue, c.arena = c.queue[:0], c.arena[:0]
		if cap(c.arena) > arenaKeep {
			c.queue, c.arena = nil, nil
		}
		return
	}
	base := rest[0].off
	c.arena = c.arena[:copy(c.arena, c.arena[base:])]
	c.queue = c.queue[:copy(c.queue, rest)]
	for i := range c.queue {
		c.queue[i].off -= base
	}
}

// batchLen is how many buffered packets the next POST takes: all of them,
// except that a v4 client stops before the packet that would make the
// payload exceed the server's maxPayload (the first packet always goes).
func (c *Client) batchLen() int {
	limit := c.hs.MaxPayload
	if c.proto != 4 || limit <= 0 || len(c.queue) < 2 {
		return len(c.queue)
	}
	size := int64(0)
	for i, q := range c.queue {
		rec := int64(1 + q.n) // type digit, or "b" before base64
		if q.binary {
			rec = int64(1 + base64.StdEncoding.EncodedLen(int(q.n)))
		}
		if i > 0 {
			rec++ // the record separator
			if size+rec > limit {
				return i
			}
		}
		size += rec
	}
	return len(c.queue)
}

// postPackets POSTs the given packets (their data in the arena) as one
// payload.
func (c *Client) postPackets(list []queued) {
	start := len(c.scratch)
	content := ContentText
	switch {
	case c.proto == 4:
		for i, q := range list {
			c.scratch = AppendV4(c.scratch, i == 0, q.t, q.binary, c.arena[q.off:q.off+q.n])
		}
	case !c.cfg.B64 && hasBinary(list):
		content = ContentBinary
		for _, q := range list {
			c.scratch = AppendV3Binary(c.scratch, q.t, q.binary, c.arena[q.off:q.off+q.n])
		}
	default:
		for _, q := range list {
			c.scratch = AppendV3Text(c.scratch, q.t, q.binary, c.arena[q.off:q.off+q.n])
		}
	}
	c.postConn = c.newConn()
	c.emit(ClientEffect{Kind: CEffRequest, Conn: c.postConn, Method: "POST", Query: c.query("polling"), Content: content, Data: c.scratch[start:]})
}

// Response hands the Client the HTTP answer to request conn: a polling GET
// or POST it asked for, or a WebSocket dial that the server answered with
// a status other than 101. body is not retained beyond the call, except as
// the Data of a CEffMessage, which aliases it.
func (c *Client) Response(now int64, conn uint64, status int, contentType string, body []byte) {
	c.begin(now)
	if conn == 0 || c.state == clientIdle || c.state == clientClosed {
		return
	}
	switch conn {
	case c.getConn:
		c.getConn = 0
		c.onPollResponse(status, contentType, body)
	case c.postConn:
		c.postConn = 0
		if status != 200 {
			c.fail(c.httpError("post", status, contentType, body))
			return
		}
		if c.closeHeld {
			c.closeSession(ReasonTransportClose, closedByServer, closeRemote)
			return
		}
		c.flush()
		c.maybePause()
		c.maybeFinishClose()
	case c.wsConn:
		if !c.wsReady {
			c.fail(c.httpError(c.wsOp(), status, contentType, body))
		}
	case c.probeConn:
		if c.probe == probeDialing {
			c.probeConn = 0
			c.probeFailed(c.httpError("probe", status, contentType, body))
		}
	}
}

// onPollResponse handles the answer to a polling GET: the handshake, then
// payloads of packets.
func (c *Client) onPollResponse(status int, contentType string, body []byte) {
	op := "poll"
	if !c.opened {
		op = "handshake"
	}
	if status != 200 {
		c.fail(c.httpError(op, status, contentType, body))
		return
	}
	whole := body
	const octetStream = "application/octet-stream"
	binary := c.proto == 3 && len(contentType) >= len(octetStream) && strings.EqualFold(contentType[:len(octetStream)], octetStream)
	for first := true; ; first = false {
		var p Packet
		var err error
		done := false
		switch {
		case c.proto == 4:
			if done = body == nil && !first; !done {
				p, body, err = NextV4(body)
			}
		case binary:
			if done = len(body) == 0 && !first; !done {
				p, body, err = NextV3Binary(body)
			}
		default:
			if done = len(body) == 0 && !first; !done {
				var ok bool
				p, body, ok, err = NextV3Text(body)
				done = err == nil && !ok
			}
		}
		switch {
		case !c.opened && (done || err != nil || p.Type != Open):
			c.fail(c.notOpenError(op, false, contentType, whole))
			return
		case done:
		case err != nil:
			e := c.newError(ClientErrParse, op)
			e.Message, e.ContentType, e.Body = err.Error(), contentType, snippet(whole)
			e.Hint = c.hint(e)
			c.fail(e)
			return
		case !c.opened:
			c.onHandshake(p.Data)
		default:
			c.onPacket(p)
		}
		if c.state == clientClosed || c.closeHeld {
			return
		}
		if done {
			break
		}
	}
	if c.probe == probePausing {
		c.maybePause()
		return
	}
	if !c.ws {
		c.poll()
	}
}
