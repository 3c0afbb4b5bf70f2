package sio

import (
	"slices"
	"strconv"

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
	if nsp[0] != '/' {
		return ErrInvalidNamespace
	}
	for i := 0; i < len(nsp); i++ {
		if nsp[i] == ',' {
			return ErrInvalidNamespace
		}
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
		c.scratch = appendHeader(c.scratch, Disconnect, 0, ns.name, -1)
		c.sendScratch(start)
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
		c.emit(ClientEffect{Kind: CEffSend, ID: -1, Data: h.data})
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
