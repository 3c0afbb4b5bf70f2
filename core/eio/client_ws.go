package eio

import "strconv"

// The WebSocket side of the Client: a session opened directly on a
// WebSocket, and the upgrade of a polling session (probe "2probe", expect
// "3probe", pause polling until the GET and POST in flight end, send "5",
// switch, flush the buffer on the WebSocket).

var (
	clientTypeDigits = []byte("0123456")
	clientRawTypes   = []byte{0, 1, 2, 3, 4, 5, 6}
)

// wsOp names the session's WebSocket in errors: the handshake until the
// open packet came.
func (c *Client) wsOp() string {
	if c.opened {
		return "websocket"
	}
	return "handshake"
}

// writeFrame writes one packet on WebSocket conn. Binary goes as a binary
// frame (v3: after a raw type byte), or with B64 as a base64 text frame.
func (c *Client) writeFrame(conn uint64, t PacketType, binary bool, data []byte) {
	e := ClientEffect{Kind: CEffWrite, Conn: conn, Binary: binary, Data: data}
	switch {
	case !binary:
		e.Prefix = clientTypeDigits[t : t+1]
	case c.cfg.B64:
		start := len(c.scratch)
		c.scratch = append(c.scratch, 'b')
		if c.proto == 3 {
			c.scratch = append(c.scratch, '0'+byte(t))
		}
		c.scratch = appendBase64(c.scratch, data)
		e.Binary, e.Data = false, c.scratch[start:]
	case c.proto == 3:
		e.Prefix = clientRawTypes[t : t+1]
	}
	c.emit(e)
}

// decodeFrame decodes one WebSocket message from the server.
func (c *Client) decodeFrame(binary bool, data []byte) (Packet, error) {
	switch {
	case !binary && c.proto == 3:
		return DecodeV3Record(data)
	case !binary:
		// "b"+base64 is how the server sends binary to a b64 client.
		return DecodeV4Record(data)
	case c.proto == 3:
		return DecodeBinaryV3(data)
	}
	return DecodeBinaryV4(data), nil
}

// WSOpened tells the Client that WebSocket conn completed its opening
// handshake.
func (c *Client) WSOpened(now int64, conn uint64) {
	c.begin(now)
	if conn == 0 || c.state == clientIdle || c.state == clientClosed {
		return
	}
	switch {
	case conn == c.wsConn && !c.wsReady:
		// The server speaks first: its open packet.
		c.wsReady = true
	case conn == c.probeConn && c.probe == probeDialing:
		c.probe = probeSent
		c.writeFrame(conn, Ping, false, probeData)
	}
}

// Frame hands the Client one WebSocket message received on conn. data is
// not retained beyond the call, except as the Data of a CEffMessage, which
// aliases it.
func (c *Client) Frame(now int64, conn uint64, binary bool, data []byte) {
	c.begin(now)
	if conn == 0 || c.state == clientIdle || c.state == clientClosed {
		return
	}
	switch conn {
	case c.wsConn:
		if !c.wsReady {
			return
		}
		p, err := c.decodeFrame(binary, data)
		switch {
		case !c.opened && (err != nil || binary || p.Type != Open):
			c.fail(c.notOpenError("handshake", binary, "", data))
		case !c.opened:
			c.onHandshake(p.Data)
		case err != nil:
			e := c.newError(ClientErrParse, "websocket")
			e.Message, e.Body = err.Error(), snippet(data)
			e.Hint = c.hint(e)
			c.fail(e)
		default:
			c.onPacket(p)
		}
	case c.probeConn:
		c.onProbeFrame(binary, data)
	}
}

// onProbeFrame runs the client's side of the upgrade on the probe.
func (c *Client) onProbeFrame(binary bool, data []byte) {
	switch c.probe {
	case probeSent:
		if !binary && string(data) == "3probe" {
			c.probe = probePausing
			c.priorWS = true
			c.maybePause()
			return
		}
		e := c.newError(ClientErrProbe, "probe")
		e.Message = "expected 3probe"
		if binary {
			e.Body = "binary frame of " + strconv.Itoa(len(data)) + " bytes"
		} else {
			e.Body = snippet(data)
		}
		c.probeFailed(e)
	case probePausing:
		// The server has no reason to speak on the probe before "5", but
		// what it says is not lost.
		if p, err := c.decodeFrame(binary, data); err == nil {
			c.onPacket(p)
		}
	}
}

// startProbe opens a WebSocket to probe for the upgrade.
func (c *Client) startProbe() {
	c.priorWS = false
	c.probeConn = c.newConn()
	c.probe = probeDialing
	c.emit(ClientEffect{Kind: CEffDial, Conn: c.probeConn, Query: c.query("websocket")})
}

// maybePause completes the upgrade once polling is paused: no GET and no
// POST in flight. The server answers a pending GET with a noop once it has
// sent "3probe".
func (c *Client) maybePause() {
	if c.probe != probePausing || c.getConn != 0 || c.postConn != 0 {
		return
	}
	if c.state != clientOpen && c.state != clientClosing {
		return
	}
	c.ws, c.wsConn, c.wsReady = true, c.probeConn, true
	c.probeConn, c.probe = 0, probeNo
	c.writeFrame(c.wsConn, Upgrade, false, nil)
	c.emit(ClientEffect{Kind: CEffUpgrade, Conn: c.wsConn, Text: "websocket"})
	c.flush()
	c.maybeFinishClose()
}

// probeFailed abandons the upgrade: the session goes on over polling (and
// resumes polling if it had paused). The probe is closed unless the caller
// already knows it gone (probeConn 0).
func (c *Client) probeFailed(e *ClientError) {
	if e.Hint == "" || e.Kind == ClientErrHTTP {
		e.Hint = "the session stays on polling: something between the client and the server (a proxy, a load balancer without WebSocket support or sticky sessions) may block WebSocket"
	}
	if c.probeConn != 0 {
		c.emit(ClientEffect{Kind: CEffCloseConn, Conn: c.probeConn})
	}
	paused := c.probe == probePausing
	c.probeConn, c.probe, c.priorWS = 0, probeNo, false
	c.emit(ClientEffect{Kind: CEffUpgradeError, Err: e})
	if !paused {
		return
	}
	if c.getConn == 0 && !c.ws {
		c.poll()
	}
	c.flush()
	c.maybeFinishClose()
}

// ConnFailed tells the Client that request or WebSocket conn failed without
// an HTTP answer (DNS, refused connection, TLS, reset, the host's request
// timeout), or that an open WebSocket failed (a read or protocol error). err
// describes the failure.
func (c *Client) ConnFailed(now int64, conn uint64, err string) {
	c.begin(now)
	if conn == 0 || c.state == clientIdle || c.state == clientClosed {
		return
	}
	var e *ClientError
	switch conn {
	case c.getConn:
		c.getConn = 0
		if c.opened {
			e = c.newError(ClientErrNetwork, "poll")
		} else {
			e = c.newError(ClientErrNetwork, "handshake")
		}
	case c.postConn:
		c.postConn = 0
		if c.closeHeld {
			c.closeSession(ReasonTransportClose, closedByServer, closeRemote)
			return
		}
		e = c.newError(ClientErrNetwork, "post")
	case c.wsConn:
		e = c.newError(ClientErrNetwork, c.wsOp())
		c.wsConn = 0
	case c.probeConn:
		e = c.newError(ClientErrProbe, "probe")
		e.Message = err
		c.probeConn = 0
		c.probeFailed(e)
		return
	default:
		return
	}
	e.Message = err
	e.Hint = c.hint(e)
	c.fail(e)
}

// ConnClosed tells the Client that WebSocket conn closed, with the close
// code of the close frame (1005 when it had none, 1006 when the connection
// dropped without one, as browsers report). For an HTTP request in flight
// it is ConnFailed.
func (c *Client) ConnClosed(now int64, conn uint64, code int) {
	c.begin(now)
	if conn == 0 || c.state == clientIdle || c.state == clientClosed {
		return
	}
	desc := "websocket connection closed (code " + strconv.Itoa(code) + ")"
	switch conn {
	case c.wsConn:
		c.wsConn = 0
		if !c.opened {
			e := c.newError(ClientErrNotEngineIO, "handshake")
			e.Message = "the server closed the WebSocket (code " + strconv.Itoa(code) + ") before its open packet"
			e.Hint = c.hint(e)
			c.fail(e)
			return
		}
		c.closeSession(ReasonTransportClose, desc, closeRemote)
	case c.probeConn:
		e := c.newError(ClientErrProbe, "probe")
		e.Message = "transport closed: " + desc
		c.probeConn = 0
		c.probeFailed(e)
	case c.getConn, c.postConn:
		c.ConnFailed(now, conn, "connection closed")
	}
}
