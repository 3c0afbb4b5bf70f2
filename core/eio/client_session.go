package eio

import (
	"strconv"

	"github.com/siohost/siohost/core/internal/jsonscan"
)

// The session's packets and timers: the handshake, the heartbeat (v4: the
// server pings and the client answers, closing when no ping comes within
// pingInterval+pingTimeout; v3: the client pings every pingInterval and
// closes when no pong comes within pingTimeout), and the write buffer.

// NextDeadline returns the earliest time at which the host must call Tick,
// and false when no timer is pending.
func (c *Client) NextDeadline() (int64, bool) {
	if c.state == clientIdle || c.state == clientClosed {
		return 0, false
	}
	d := int64(0)
	for _, t := range [3]int64{c.pingBy, c.pingAt, c.connectBy} {
		if t != 0 && (d == 0 || t < d) {
			d = t
		}
	}
	return d, d != 0
}

// Tick runs the timers due at now: the handshake timeout, the ping timeout
// and (v3) the client's pings.
func (c *Client) Tick(now int64) { c.begin(now) }

func (c *Client) runTimers(now int64) {
	// Each round closes the session or clears a deadline that was due; a
	// v3 ping arms a pong deadline that may be due too.
	for c.state == clientOpening || c.state == clientOpen || c.state == clientClosing {
		switch {
		case c.connectBy != 0 && now >= c.connectBy:
			c.connectBy = 0
			e := c.newError(ClientErrTimeout, "handshake")
			e.Message = "no handshake within " + strconv.FormatInt(c.cfg.ConnectTimeout, 10) + " ms"
			e.Hint = c.hint(e)
			c.fail(e)
		case c.pingBy != 0 && now >= c.pingBy && c.closeHeld:
			c.closeSession(ReasonTransportClose, closedByServer, closeRemote)
		case c.pingBy != 0 && now >= c.pingBy:
			desc := ""
			if c.proto == 4 && !c.gotPing {
				desc = "no ping ever came from the server: if it is a socket.io 2.x server (Engine.IO v3), it waits for the client's pings: use protocol 3"
			}
			c.closeSession(ReasonPingTimeout, desc, closeRemote)
		case c.pingAt != 0 && now >= c.pingAt:
			// engine.io-client 3.x: a ping every pingInterval after the
			// last pong; the pong must come within pingTimeout. The
			// deadline counts from when the ping was due.
			c.pingBy = c.pingAt + c.hs.PingTimeout
			c.pingAt = 0
			c.sendPacket(Ping, false, nil)
		default:
			return
		}
	}
}

// onHandshake opens the session with the JSON of the server's open packet.
func (c *Client) onHandshake(data []byte) {
	hs, problem := parseHandshake(data)
	if problem != "" {
		e := c.newError(ClientErrHandshake, "handshake")
		e.Message = problem
		e.Body = snippet(data)
		e.Hint = c.hint(e)
		c.fail(e)
		return
	}
	c.hs, c.opened, c.state, c.connectBy = hs, true, clientOpen, 0
	c.priorWS = c.ws
	upgrade := false
	for _, u := range hs.Upgrades {
		upgrade = upgrade || (u == "websocket" && !c.ws && c.cfg.Upgrade && c.cfg.Transports&TransportWebSocket != 0)
	}
	c.resetPingTimeout()
	if c.proto == 3 && hs.PingInterval > 0 {
		c.pingAt = c.now + hs.PingInterval
	}
	open := c.hs
	c.emit(ClientEffect{Kind: CEffOpen, Text: c.TransportName(), Handshake: &open})
	c.flush()
	if upgrade {
		c.startProbe()
	}
}

// resetPingTimeout gives the server pingInterval+pingTimeout from now to
// show life. A handshake that gives neither (not an Engine.IO server, or a
// broken one) disables the heartbeat rather than timing out at once.
func (c *Client) resetPingTimeout() {
	if d := c.hs.PingInterval + c.hs.PingTimeout; d > 0 {
		c.pingBy = c.now + d
	}
}

// parseHandshake reads the handshake JSON; problem says what is wrong with
// it, if anything.
func parseHandshake(data []byte) (hs Handshake, problem string) {
	bad := ""
	ok := jsonObject(data, func(key string, val []byte) {
		var ok bool
		switch key {
		case "sid":
			hs.SID, ok = jsonscan.Unquote(val)
		case "upgrades":
			hs.Upgrades, ok = jsonStrings(val)
		case "pingInterval":
			hs.PingInterval, ok = jsonInt(val)
			ok = ok && hs.PingInterval >= 0
		case "pingTimeout":
			hs.PingTimeout, ok = jsonInt(val)
			ok = ok && hs.PingTimeout >= 0
		case "maxPayload":
			hs.MaxPayload, ok = jsonInt(val)
			ok = ok && hs.MaxPayload >= 0
		default:
			ok = true
		}
		if !ok && bad == "" {
			bad = key
		}
	})
	switch {
	case !ok:
		return hs, "its JSON is not an object"
	case bad != "":
		return hs, "invalid " + bad
	case hs.SID == "":
		return hs, "no sid"
	}
	return hs, ""
}

// onPacket handles one packet of the open session, on its transport.
func (c *Client) onPacket(p Packet) {
	if c.proto == 3 {
		// engine.io-client 3.x: any packet proves the server alive.
		c.resetPingTimeout()
	}
	switch p.Type {
	case Close:
		if c.postConn != 0 {
			// The server closed the session while reading a POST: when
			// it refused the POST (a payload over maxPayload), its answer
			// says why, and it is worth the wait.
			c.closeHeld = true
			c.pingBy, c.pingAt = c.now+closeGrace, 0
			return
		}
		c.closeSession(ReasonTransportClose, closedByServer, closeRemote)
	case Ping:
		if c.proto == 4 {
			c.gotPing = true
			c.resetPingTimeout()
			c.sendPacket(Pong, false, nil)
		}
	case Pong:
		if c.proto == 3 && c.hs.PingInterval > 0 {
			c.pingAt = c.now + c.hs.PingInterval
		}
	case Message:
		c.emit(ClientEffect{Kind: CEffMessage, Binary: p.Binary, Data: p.Data})
	}
}

// sendPacket writes a packet at once on an open WebSocket with nothing
// buffered, or buffers it and flushes.
func (c *Client) sendPacket(t PacketType, binary bool, data []byte) {
	if c.ws && c.wsReady && c.opened && len(c.queue) == 0 && c.probe != probePausing &&
		(c.state == clientOpen || c.state == clientClosing) {
		c.writeFrame(c.wsConn, t, binary, data)
		return
	}
	off := len(c.arena)
	c.arena = append(c.arena, data...)
	c.queue = append(c.queue, queued{t: t, binary: binary, off: int32(off), n: int32(len(data))})
	c.flush()
}

// flush sends what is buffered if the transport can take it: every packet
// as a frame on WebSocket, one POST at a time on polling.
func (c *Client) flush() {
	if (c.state != clientOpen && c.state != clientClosing) || c.probe == probePausing || len(c.queue) == 0 {
		return
	}
	if !c.ws {
		if c.postConn == 0 {
			c.postBatch()
		}
		return
	}
	if !c.wsReady {
		return
	}
	for _, q := range c.queue {
		start := len(c.scratch)
		c.scratch = append(c.scratch, c.arena[q.off:q.off+q.n]...)
		c.writeFrame(c.wsConn, q.t, q.binary, c.scratch[start:])
	}
	c.queue, c.arena = c.queue[:0], c.arena[:0]
	if cap(c.arena) > arenaKeep {
		c.queue, c.arena = nil, nil
	}
}
