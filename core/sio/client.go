package sio

import (
	"slices"

	"github.com/siohost/siohost/core/eio"
)

// Client is the sans-IO Socket.IO layer of one client connection (what
// socket.io-client's Manager and its Sockets keep for the protocol): the
// namespaces multiplexed over one Engine.IO session at a time, their
// CONNECT handshakes (auth, the v4 protocol's query string, connection
// state recovery), ack ids, the buffers of emits made while a namespace is
// not connected, binary attachment reassembly and the disconnect reasons.
//
// It is independent of how Engine.IO bytes move: the host tells it that
// the Engine.IO session opened (EngineOpen), hands it every message
// (Message) and the close (EngineClose), passes the application's commands
// (Connect, Disconnect, Emit, Ack, AckTimeout) and the time (Tick at
// NextDeadline), and carries out the effects: CEffSend goes to its
// Engine.IO client, the others to the application.
//
// A Client outlives Engine.IO sessions: the namespaces that are active
// (connected, or asked for and not left) send their CONNECT again when the
// next session opens, with the recovery state of the previous one, as
// socket.io-client's Sockets do on the Manager's "open". Reconnecting is
// the host's business (see Reconnection). The Client performs no I/O,
// starts no goroutines, never reads the clock and is not safe for
// concurrent use.
type Client struct {
	open       bool
	proto      uint8 // 3 or 4 while open
	engineSID  string
	now        int64
	rootJoined bool // v4 protocol: the server joined "/" before it was asked

	nsps []*clientNsp
	bin  *clientPartial // binary packet waiting for its attachments
	cur  []byte         // the message being handled, for diagnostics

	earliest int64 // earliest ack deadline (0: none); may be early, never late

	names   map[string]string // event names by their JSON spelling
	effects []ClientEffect
	scratch []byte

	parser Parser
	mp     mpEncoder // ParserMsgpack
	dec    mpDecoder
}

// maxNames bounds the event name cache.
const maxNames = 256

type nsState uint8

const (
	nsInactive   nsState = iota // left, refused, or never asked: nothing happens on open
	nsWaiting                   // active: its CONNECT goes out when the engine opens
	nsConnecting                // CONNECT sent, waiting for the reply
	nsConnected
)

type clientNsp struct {
	name      string
	state     nsState
	auth      []byte // raw JSON object, nil when none
	sid       string
	pid       string // socket.io-client's _pid
	offset    []byte // _lastOffset, as the raw JSON string; nil when none
	recovered bool
	ids       int64           // the next ack id
	acks      map[int64]int64 // pending ack ids → deadline (0: none)
	sendBuf   []heldPacket    // emits waiting for the connection
	recvBuf   []heldPacket    // events received while connecting
}

// heldPacket is a packet kept across calls, in memory of the Client's own.
type heldPacket struct {
	id          int64
	data        []byte // sendBuf: the encoded text part; recvBuf: the raw array
	attachments [][]byte
}

type clientPartial struct {
	p           Packet
	attachments [][]byte
}

// NewClient returns a Client with no namespace and no Engine.IO session.
func NewClient() *Client { return &Client{} }

// Effects returns the effects produced since the previous call and resets
// the list. The returned slice is reused by the next call into the Client.
func (c *Client) Effects() []ClientEffect {
	e := c.effects
	c.effects = c.effects[:0]
	return e
}

// IsOpen reports whether the Client has an Engine.IO session.
func (c *Client) IsOpen() bool { return c.open }

// Protocol returns the Engine.IO protocol of the session (3: Socket.IO v4,
// 4: Socket.IO v5), 0 when there is none.
func (c *Client) Protocol() int {
	if !c.open {
		return 0
	}
	return int(c.proto)
}

// Connected reports whether namespace nsp is connected.
func (c *Client) Connected(nsp string) bool {
	ns := c.find(nsp)
	return ns != nil && ns.state == nsConnected
}

// Active reports whether namespace nsp is connected or wants to be: asked
// for with Connect and neither left, refused nor disconnected by the server.
func (c *Client) Active(nsp string) bool {
	ns := c.find(nsp)
	return ns != nil && ns.state != nsInactive
}

// SID returns the socket id of namespace nsp ("" when not connected). With
// the v4 protocol it is the Engine.IO id for "/", nsp + "#" + that id for
// the others, as socket.io-client 2.x computes it.
func (c *Client) SID(nsp string) string {
	if ns := c.find(nsp); ns != nil && ns.state == nsConnected {
		return ns.sid
	}
	return ""
}

// Recovered reports whether the last connection of namespace nsp restored
// the previous session (connection state recovery: the server answered
// with the pid the Client sent).
func (c *Client) Recovered(nsp string) bool {
	ns := c.find(nsp)
	return ns != nil && ns.recovered
}

// Recovery returns the recovery state of namespace nsp: what its next
// CONNECT will carry. A host that replaces its Client passes it to the new
// one's Connect.
func (c *Client) Recovery(nsp string) RecoveryState {
	ns := c.find(nsp)
	if ns == nil {
		return RecoveryState{}
	}
	r := RecoveryState{PID: ns.pid}
	if ns.offset != nil {
		r.Offset, _ = Unquote(ns.offset)
	}
	return r
}

// PendingAcks returns how many acks namespace nsp waits for.
func (c *Client) PendingAcks(nsp string) int {
	if ns := c.find(nsp); ns != nil {
		return len(ns.acks)
	}
	return 0
}

func (c *Client) find(nsp string) *clientNsp {
	if nsp == "" {
		nsp = "/"
	}
	for _, ns := range c.nsps {
		if ns.name == nsp {
			return ns
		}
	}
	return nil
}

// lookup finds the namespace named by a decoded packet, without allocating.
func (c *Client) lookup(nsp []byte) *clientNsp {
	if len(nsp) == 0 {
		return c.find("/")
	}
	for _, ns := range c.nsps {
		if ns.name == string(nsp) {
			return ns
		}
	}
	return nil
}

func (c *Client) emit(e ClientEffect) { c.effects = append(c.effects, e) }

// effect starts an effect about namespace ns with no ack id.
func effect(k ClientEffectKind, ns *clientNsp) ClientEffect {
	return ClientEffect{Kind: k, Nsp: ns.name, ID: -1}
}

// begin starts an input: it resets the scratch space once the host has
// taken the previous effects, and runs the ack timers that are due, so an
// ack that arrives after its deadline is ignored as the reference ignores
// it.
func (c *Client) begin(now int64) {
	c.now = now
	if len(c.effects) == 0 {
		c.scratch = c.scratch[:0]
	}
	c.runTimers(now)
}

// NextDeadline returns when the host must call Tick (an ack timeout), and
// false when no timer is pending. It may be early, never late.
func (c *Client) NextDeadline() (int64, bool) { return c.earliest, c.earliest != 0 }

// Tick runs the timers due at now: acks that timed out.
func (c *Client) Tick(now int64) { c.begin(now) }

func (c *Client) runTimers(now int64) {
	if c.earliest == 0 || now < c.earliest {
		return
	}
	c.earliest = 0
	var due []int64
	for _, ns := range c.nsps {
		due = due[:0]
		for id, at := range ns.acks {
			switch {
			case at == 0:
			case at <= now:
				due = append(due, id)
			case c.earliest == 0 || at < c.earliest:
				c.earliest = at
			}
		}
		slices.Sort(due)
		for _, id := range due {
			delete(ns.acks, id)
			ns.dropBuffered(id)
			e := effect(CEffAckFailed, ns)
			e.ID, e.Text = id, AckTimedOut
			c.emit(e)
		}
	}
}

// EngineOpen tells the Client that an Engine.IO session opened with
// protocol (3: the Socket.IO v4 protocol of socket.io 2.x, whose server
// joins "/" by itself and takes the auth of other namespaces in their query
// string; 4: Socket.IO v5) and id engineSID. Every active namespace sends
// its CONNECT.
func (c *Client) EngineOpen(now int64, protocol int, engineSID string) {
	c.begin(now)
	if c.open {
		c.engineClosed(eio.ReasonTransportClose, "a new Engine.IO session opened")
	}
	c.open, c.proto, c.engineSID = true, 4, engineSID
	if protocol == 3 {
		c.proto = 3
	}
	c.rootJoined, c.bin = false, nil
	for _, ns := range c.nsps {
		if ns.state == nsWaiting {
			c.sendConnect(ns)
		}
	}
}

// EngineClose tells the Client that the Engine.IO session closed, with the
// Engine.IO client's reason and description. Every namespace connected or
// connecting is disconnected with that reason and will connect again on
// the next session. A close after CEffCloseEngine is ignored.
func (c *Client) EngineClose(now int64, reason, desc string) {
	c.begin(now)
	if c.open {
		c.engineClosed(reason, desc)
	}
}

// EngineError tells the Client that the Engine.IO session failed to open
// or failed (message describes it: engine.io-client says "xhr poll error",
// "websocket error", "timeout"…). As socket.io-client's Sockets do on the
// Manager's "error", every active namespace that is not connected reports
// it as a CEffConnectError. The close, if any, is EngineClose.
func (c *Client) EngineError(now int64, message string) {
	c.begin(now)
	for _, ns := range c.nsps {
		if ns.state == nsWaiting || ns.state == nsConnecting {
			e := effect(CEffConnectError, ns)
			e.Text = message
			c.emit(e)
		}
	}
}

func (c *Client) engineClosed(reason, desc string) {
	c.open, c.bin, c.rootJoined = false, nil, false
	for _, ns := range c.nsps {
		if ns.state == nsConnecting || ns.state == nsConnected {
			ns.state = nsWaiting
			e := effect(CEffDisconnect, ns)
			e.Text, e.Desc = reason, desc
			c.emit(e)
			c.clearAcks(ns)
		}
	}
}

// maybeCloseEngine closes the session once no namespace is active, as the
// Manager does when its last Socket is destroyed.
func (c *Client) maybeCloseEngine() {
	if !c.open {
		return
	}
	for _, ns := range c.nsps {
		if ns.state != nsInactive {
			return
		}
	}
	c.open, c.bin, c.rootJoined = false, nil, false
	c.emit(ClientEffect{Kind: CEffCloseEngine, ID: -1, Text: eio.ReasonForcedClose})
}
