package eio

// Client is the sans-IO state machine of one Engine.IO client session, the
// counterpart of Server, after engine.io-client 6.x (protocol 4) and 3.x
// (protocol 3). The host calls Open, then hands it what happens on the
// network (Response, WSOpened, ConnFailed, Frame, ConnClosed), the
// application's commands (Send, Close) and the time (Tick at NextDeadline),
// and carries out the effects it returns. It performs no I/O, starts no
// goroutines, never reads the clock and is not safe for concurrent use.
//
// Connections are numbered by the Client: every CEffRequest and CEffDial
// names a new Conn, which the host uses when it reports back.
type Client struct {
	cfg   ClientConfig
	proto uint8
	state clientState
	now   int64

	ws      bool // the session's transport is WebSocket (else polling)
	wsReady bool // the session's WebSocket completed its opening handshake
	opened  bool // the handshake is done: hs is valid
	hs      Handshake

	pollQuery string // the query of polling requests once the sid is known (without t)

	nextConn uint64
	getConn  uint64 // polling GET in flight (the handshake, then polls)
	postConn uint64 // polling POST in flight
	wsConn   uint64 // the session's WebSocket

	probeConn uint64 // the WebSocket probed for an upgrade
	probe     probeStep

	queue []queued // packets waiting for the transport to be writable
	arena []byte   // data of queued packets

	pingBy    int64 // close with "ping timeout" unless the server shows life by then
	pingAt    int64 // v3: when to send the next ping
	connectBy int64 // close unless the handshake is done by then
	gotPing   bool  // v4: at least one ping came (for the ping timeout hint)
	// closeHeld: the server sent a close packet while a POST was in
	// flight; its answer may say why (a 413), so the close waits for it
	// (at most closeGrace).
	closeHeld bool

	priorWS bool

	effects []ClientEffect
	scratch []byte
}

type clientState uint8

const (
	clientIdle    clientState = iota
	clientOpening             // waiting for the handshake
	clientOpen
	clientClosing // Close was called: flushing what is buffered first
	clientClosed
)

type probeStep uint8

const (
	probeNo      probeStep = iota
	probeDialing           // the probe WebSocket is being opened
	probeSent              // "2probe" written, waiting for "3probe"
	probePausing           // "3probe" received: waiting for the GET and POST in flight to end
)

// NewClient returns a Client; it does nothing before Open.
func NewClient(cfg ClientConfig) *Client {
	if cfg.Protocol != 3 {
		cfg.Protocol = 4
	}
	if cfg.Transports == 0 {
		cfg.Transports = TransportPolling | TransportWebSocket
	}
	return &Client{cfg: cfg, proto: uint8(cfg.Protocol), priorWS: cfg.PriorWebSocketSuccess}
}

// Effects returns the effects produced since the previous call and resets
// the list. The returned slice is reused by the next call into the Client.
func (c *Client) Effects() []ClientEffect {
	e := c.effects
	c.effects = c.effects[:0]
	return e
}

// Handshake returns the server's handshake (zero before the session opens).
func (c *Client) Handshake() Handshake { return c.hs }

// SID returns the session id ("" before the handshake).
func (c *Client) SID() string { return c.hs.SID }

// Protocol returns the protocol version the Client speaks (3 or 4).
func (c *Client) Protocol() int { return int(c.proto) }

// TransportName returns the session's transport: "polling" or "websocket".
func (c *Client) TransportName() string {
	if c.ws {
		return "websocket"
	}
	return "polling"
}

// IsOpen reports whether the session is open (handshake done, not closing).
func (c *Client) IsOpen() bool { return c.state == clientOpen }

// Closed reports whether the session has ended (CEffClose was emitted), or
// was closed before Open.
func (c *Client) Closed() bool { return c.state == clientClosed }

// PriorWebSocketSuccess is engine.io-client's priorWebsocketSuccess after
// this session: whether WebSocket worked (the session opened on it, or a
// probe was answered) and no transport error followed. A host passes it to
// the next Client's config for RememberUpgrade.
func (c *Client) PriorWebSocketSuccess() bool { return c.priorWS }

// Writable reports whether a message sent now would leave at once rather
// than wait in the buffer (the test for volatile packets).
func (c *Client) Writable() bool {
	if c.state != clientOpen || c.closeHeld || c.probe == probePausing || len(c.queue) > 0 {
		return false
	}
	if c.ws {
		return c.wsReady
	}
	return c.postConn == 0
}

func (c *Client) emit(e ClientEffect) { c.effects = append(c.effects, e) }

func (c *Client) newConn() uint64 {
	c.nextConn++
	return c.nextConn
}

// begin starts an input: it resets the scratch space once the host has
// taken the previous effects, and applies the timers that were due, so an
// input that arrives after a deadline never revives a dead session.
func (c *Client) begin(now int64) {
	c.now = now
	if len(c.effects) == 0 {
		c.scratch = c.scratch[:0]
	}
	c.runTimers(now)
}

// Open starts the session: a polling handshake GET, or a WebSocket dial
// when only WebSocket is allowed or RememberUpgrade applies.
func (c *Client) Open(now int64) {
	c.begin(now)
	if c.state != clientIdle {
		return
	}
	c.state = clientOpening
	if c.cfg.ConnectTimeout > 0 {
		c.connectBy = now + c.cfg.ConnectTimeout
	}
	pollingOK := c.cfg.Transports&TransportPolling != 0
	wsOK := c.cfg.Transports&TransportWebSocket != 0
	switch {
	case wsOK && (!pollingOK || (c.cfg.RememberUpgrade && c.cfg.PriorWebSocketSuccess)):
		c.ws = true
		c.wsConn = c.newConn()
		c.emit(ClientEffect{Kind: CEffDial, Conn: c.wsConn, Query: c.query("websocket")})
	case pollingOK:
		c.poll()
	default:
		e := c.newError(ClientErrNoTransport, "handshake")
		e.Hint = "ClientConfig.Transports allows neither polling nor websocket"
		c.fail(e)
	}
}

// Send sends a message: text unless binary is set. It reports whether the
// session took it: messages sent while opening are buffered until the
// handshake; once Close was called, or the session ended, Send refuses.
// The Client copies what it buffers; a message written at once on an open
// WebSocket is the Data of the CEffWrite, so the caller keeps data intact
// until it has taken the effects.
func (c *Client) Send(now int64, binary bool, data []byte) bool {
	c.begin(now)
	if (c.state != clientOpening && c.state != clientOpen) || c.closeHeld {
		return false
	}
	c.sendPacket(Message, binary, data)
	return true
}

// Close closes the session as engine.io-client's socket.close() does: what
// is buffered is flushed first (and an upgrade in progress completed), then
// the server is told with a close packet, and the session ends with
// "forced close".
func (c *Client) Close(now int64) {
	c.begin(now)
	switch c.state {
	case clientIdle:
		c.state = clientClosed
	case clientOpening:
		c.closeSession(ReasonForcedClose, "", closeForced)
	case clientOpen:
		c.state = clientClosing
		c.maybeFinishClose()
	}
}

// maybeFinishClose ends a closing session once nothing is buffered or in
// flight and no upgrade is half done.
func (c *Client) maybeFinishClose() {
	if c.state == clientClosing && len(c.queue) == 0 && c.postConn == 0 && c.probe != probePausing {
		c.closeSession(ReasonForcedClose, "", closeForced)
	}
}

const closedByServer = "transport closed by the server"

// closeGrace is how long a close packet waits for the answer to the POST in
// flight, in milliseconds.
const closeGrace = 1000

type clientCloseHow uint8

const (
	closeRemote clientCloseHow = iota // the server closed, refused or failed, or the ping timeout
	closeForced                       // Close
)

// fail reports e and closes the session with "transport error".
func (c *Client) fail(e *ClientError) {
	c.priorWS = false
	c.emit(ClientEffect{Kind: CEffError, Err: e})
	c.closeSession(ReasonTransportError, e.Error(), closeRemote)
}

// closeSession ends the session. After Close, the server is told with a
// close packet ("1" on the WebSocket before closing it; a POST "1" over
// polling, whose pending GET the server answers with a noop). Otherwise
// the connections are closed and requests in flight abandoned.
func (c *Client) closeSession(reason, desc string, how clientCloseHow) {
	if c.state == clientClosed {
		return
	}
	c.state = clientClosed
	c.queue, c.arena = nil, nil
	c.pingBy, c.pingAt, c.connectBy = 0, 0, 0
	if c.probeConn != 0 {
		c.emit(ClientEffect{Kind: CEffCloseConn, Conn: c.probeConn})
		c.probeConn, c.probe = 0, probeNo
	}
	switch {
	case c.ws:
		if c.wsConn == 0 {
			break
		}
		if how == closeForced && c.wsReady && c.opened {
			c.writeFrame(c.wsConn, Close, false, nil)
		}
		c.emit(ClientEffect{Kind: CEffCloseConn, Conn: c.wsConn})
	case how == closeForced && c.opened:
		// The GET in flight is left for the server to answer (with a noop).
		if c.postConn == 0 {
			c.postPackets([]queued{{t: Close}})
		}
	default:
		for _, conn := range [2]uint64{c.getConn, c.postConn} {
			if conn != 0 {
				c.emit(ClientEffect{Kind: CEffCloseConn, Conn: conn})
			}
		}
	}
	c.getConn, c.postConn, c.wsConn = 0, 0, 0
	c.emit(ClientEffect{Kind: CEffClose, Text: reason, Desc: desc})
}
