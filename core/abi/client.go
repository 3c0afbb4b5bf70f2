package abi

import (
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// ClientCore runs Socket.IO clients for a host that only has transports
// (a browser): each client is what socket.io-client's Manager keeps, an
// eio.Client per Engine.IO session, one sio.Client for the namespaces and
// a sio.Reconnection, glued the way hostnative's Manager glues them. It is
// what the module's client_process export runs, and runs natively the
// same way.
type ClientCore struct {
	clients map[uint32]*clientConn
	next    uint32
	random  func([]byte)
	ins     ClientInputs
	out     []byte

	// Direct calls (ClientBackend) collect effects instead of encoding
	// them; their byte fields are copied to slab, as what they alias
	// (the eio.Client's scratch space) may change within one call.
	encode bool
	effs   []eio.Effect
	slab   []byte
	heads  [][]byte
	taken  bool // Effects returned effs: the next call starts afresh
}

// NewClientCore returns an empty ClientCore. random fills a buffer with
// unpredictable bytes: the reconnection jitter and polling cache busters.
func NewClientCore(random func([]byte)) *ClientCore {
	return &ClientCore{clients: map[uint32]*clientConn{}, random: random}
}

// Process decodes n client input records from in and runs them at now,
// appending to out (reset) the output list: each input's effects then its
// result record, and the deadline record.
func (cc *ClientCore) Process(out []byte, now int64, in []byte, n int) ([]byte, error) {
	out = out[:0]
	if err := cc.ins.Decode(in, n); err != nil {
		return out, err
	}
	cc.out, cc.encode = out, true
	defer func() { cc.encode = false }()
	for i := range cc.ins.List {
		v := cc.run(now, &cc.ins.List[i])
		cc.out = appendControl(cc.out, KindResult, 0, v)
	}
	at, ok := cc.NextDeadline()
	cc.out = AppendDeadline(cc.out, at, ok)
	out, cc.out = cc.out, nil
	return out, nil
}

// NextDeadline returns the earliest timer of all clients.
func (cc *ClientCore) NextDeadline() (int64, bool) {
	d := int64(0)
	for _, c := range cc.clients {
		if t, ok := c.deadline(); ok && (d == 0 || t < d) {
			d = t
		}
	}
	return d, d != 0
}

// Len returns the number of live clients.
func (cc *ClientCore) Len() int { return len(cc.clients) }

func (cc *ClientCore) run(now int64, in *ClientInput) int64 {
	switch in.Kind {
	case CInCreate:
		return int64(cc.create(in.Options))
	case CInTick:
		cc.tick(now)
		return 0
	case CInConnect:
		return cc.connect(now, in.Client, string(in.Nsp), in.Data, in.Flags)
	case CInDisconnect:
		cc.disconnect(now, in.Client, string(in.Nsp))
		return 0
	case CInEmit:
		return cc.emit(now, in.Client, string(in.Nsp), string(in.Text), in.Data, in.Attachments, in.Flags, in.Num)
	case CInAck:
		return cc.ack(now, in.Client, string(in.Nsp), in.Num, in.Data, in.Attachments)
	case CInCancelAck:
		cc.cancelAck(now, in.Client, string(in.Nsp), in.Num)
		return 0
	}
	c := cc.clients[in.Client]
	if c == nil {
		return 0
	}
	c.now = now
	switch in.Kind {
	case CInDestroy:
		c.destroy()
		delete(cc.clients, in.Client)
		return 0
	case CInResponse:
		c.response(in.Conn, int(in.Num), string(in.Text), in.Data)
	case CInFailed:
		c.failed(in.Conn, string(in.Text))
	case CInWSOpened:
		if e, conn := c.route(in.Conn); e != nil {
			e.WSOpened(now, conn)
		}
	case CInWSMessage:
		if e, conn := c.route(in.Conn); e != nil {
			e.Frame(now, conn, in.Binary(), in.Data)
		}
	case CInWSClosed:
		if e, conn := c.route(in.Conn); e != nil {
			e.ConnClosed(now, conn, int(in.Num))
		}
	}
	c.pump()
	return 0
}

func (c *clientConn) response(hostConn uint32, status int, contentType string, body []byte) {
	if e, conn := c.route(hostConn); e != nil {
		e.Response(c.now, conn, status, contentType, body)
	}
}

func (c *clientConn) failed(hostConn uint32, message string) {
	if e, conn := c.route(hostConn); e != nil {
		e.ConnFailed(c.now, conn, message)
	}
}

func (cc *ClientCore) create(o ClientOptions) uint32 {
	cc.next++
	for cc.next == 0 || cc.clients[cc.next] != nil {
		cc.next++
	}
	cc.clients[cc.next] = newClientConn(cc, cc.next, o)
	return cc.next
}

func (cc *ClientCore) tick(now int64) {
	for _, c := range cc.clients {
		c.tick(now)
	}
}

// client returns client h with its clock set, or nil.
func (cc *ClientCore) client(now int64, h uint32) *clientConn {
	c := cc.clients[h]
	if c != nil {
		c.now = now
	}
	return c
}

func (cc *ClientCore) connect(now int64, h uint32, nsp string, auth []byte, flags uint8) int64 {
	c := cc.client(now, h)
	if c == nil {
		return 0
	}
	return c.connect(nsp, auth, flags)
}

func (cc *ClientCore) disconnect(now int64, h uint32, nsp string) {
	c := cc.client(now, h)
	if c == nil {
		return
	}
	c.sio.Disconnect(now, nsp)
	c.applySio()
	c.answered(nsp)
	c.idle()
	c.pump()
}

func (cc *ClientCore) emit(now int64, h uint32, nsp, event string, args []byte, atts [][]byte, flags uint8, timeout uint32) int64 {
	c := cc.client(now, h)
	if c == nil {
		return 0
	}
	return c.emitCmd(nsp, event, args, atts, flags, timeout)
}

func (cc *ClientCore) ack(now int64, h uint32, nsp string, id uint32, args []byte, atts [][]byte) int64 {
	c := cc.client(now, h)
	if c == nil {
		return 0
	}
	if err := c.sio.Ack(now, nsp, int64(id), args, atts); err != nil {
		c.errorEffect(nsp, err.Error())
		return EmitRefused
	}
	c.applySio()
	c.pump()
	return 0
}

// cancelAck fails the wait for ack id at once; its ackFailed effect (a
// timeout) tells the host nothing it does not know.
func (cc *ClientCore) cancelAck(now int64, h uint32, nsp string, id uint32) {
	c := cc.client(now, h)
	if c == nil {
		return
	}
	if c.sio.AckTimeout(nsp, int64(id), now) {
		c.sio.Tick(now)
		c.applySio()
		c.pump()
	}
}

// engine is one Engine.IO session of a client. Its connections are
// numbered base+n for the eio.Client's conn n, so the host sees numbers
// that never repeat within a client.
type engine struct {
	ec      *eio.Client
	base    uint32
	top     uint32 // the highest conn the eio.Client named
	opened  bool
	retired bool // closing on its own (the app closed it); its events are not the client's
}

type clientConn struct {
	cc     *ClientCore
	handle uint32
	opts   ClientOptions
	now    int64

	sio      *sio.Client
	rec      *sio.Reconnection
	nsps     []string // every namespace ever asked for
	eng      *engine  // the current session, opening or open
	old      *engine  // a session closing gracefully after the last namespace left
	nextBase uint32
	lastErr  *eio.ClientError // the failure being reported as connect errors
	priorWS  bool             // the last session worked over WebSocket

	hostAuth []string // the namespaces whose auth the host computes
	awaiting []string // auth effects not answered yet: events wait meanwhile
	held     bool     // awaiting answers before the CONNECTs of a new session

	events []eio.ClientEffect // session events of the engine, waiting to be handled
	evEng  []*engine
}

func newClientConn(cc *ClientCore, h uint32, o ClientOptions) *clientConn {
	jitter := sio.DefaultRandomizationFactor
	if o.JitterGiven {
		jitter = float64(o.JitterMillionths) / 1e6
	}
	c := &clientConn{cc: cc, handle: h, opts: o, sio: sio.NewClient(), priorWS: o.PriorWebSocket}
	if o.Parser == ParserMsgpack {
		c.sio.SetParser(sio.ParserMsgpack)
	}
	c.rec = &sio.Reconnection{
		Backoff: sio.Backoff{
			Min: int64(o.Delay), Max: int64(o.DelayMax), Jitter: jitter,
			Random: cc.float,
		},
		Attempts: int(o.Attempts),
		Disabled: o.NoReconnection,
	}
	return c
}

// float returns a number in [0, 1) from the host's randomness, as
// Math.random would.
func (cc *ClientCore) float() float64 {
	var b [8]byte
	cc.random(b[:])
	return float64(getU64(b[:])>>11) / (1 << 53)
}

func (c *clientConn) deadline() (int64, bool) {
	d := int64(0)
	add := func(t int64, ok bool) {
		if ok && (d == 0 || t < d) {
			d = t
		}
	}
	if c.eng != nil {
		add(c.eng.ec.NextDeadline())
	}
	if c.old != nil {
		add(c.old.ec.NextDeadline())
	}
	add(c.sio.NextDeadline())
	add(c.rec.NextDeadline())
	return d, d != 0
}

// route finds the engine that numbered host conn, and its own number.
func (c *clientConn) route(conn uint32) (*eio.Client, uint64) {
	for _, e := range [2]*engine{c.eng, c.old} {
		if e != nil && conn > e.base && conn <= e.base+e.top {
			return e.ec, uint64(conn - e.base)
		}
	}
	return nil, 0
}

func (c *clientConn) effect(e eio.Effect) {
	e.Session = eio.Handle(c.handle)
	if c.cc.encode {
		c.cc.out = AppendEffect(c.cc.out, &e)
		return
	}
	c.cc.keep(&e)
}

func (c *clientConn) errorEffect(nsp, msg string) {
	c.effect(eio.Effect{Kind: CEffError, Nsp: nsp, Text: msg})
}

func (c *clientConn) anyActive() bool {
	for _, n := range c.nsps {
		if c.sio.Active(n) {
			return true
		}
	}
	return false
}

func (c *clientConn) connect(nsp string, auth []byte, flags uint8) int64 {
	if err := c.sio.Connect(c.now, nsp, auth, nil); err != nil {
		c.errorEffect(nsp, err.Error())
		return EmitRefused
	}
	if nsp == "" {
		nsp = "/"
	}
	c.hostAuth = setMember(c.hostAuth, nsp, flags&ConnectAuthHost != 0)
	known := false
	for _, n := range c.nsps {
		known = known || n == nsp
	}
	if !known {
		c.nsps = append(c.nsps, nsp)
	}
	c.applySio()
	c.answered(nsp)
	if c.eng == nil && !c.rec.Scheduled() && c.anyActive() {
		c.open()
	}
	c.pump()
	return 0
}

// setMember adds name to list, or removes it.
func setMember(list []string, name string, in bool) []string {
	for i, n := range list {
		if n == name {
			if !in {
				return append(list[:i], list[i+1:]...)
			}
			return list
		}
	}
	if in {
		list = append(list, name)
	}
	return list
}

// askAuth asks the host for the auth of the namespaces about to CONNECT
// whose auth it computes; it reports whether the CONNECTs must wait.
func (c *clientConn) askAuth() bool {
	for _, n := range c.hostAuth {
		if c.sio.Active(n) && !c.sio.Connected(n) {
			c.awaiting = append(c.awaiting, n)
			c.effect(eio.Effect{Kind: CEffAuth, Nsp: n})
		}
	}
	if len(c.awaiting) == 0 {
		return false
	}
	c.held = true
	for i := range c.events {
		c.events[i].Data = cloneData(c.events[i].Data) // they outlive this call
	}
	return true
}

func cloneData(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// answered takes the host's answer for nsp (a connect or a disconnect);
// after the last one, the session's CONNECTs go and its events resume.
func (c *clientConn) answered(nsp string) {
	if !c.held {
		return
	}
	c.awaiting = setMember(c.awaiting, nsp, false)
	if len(c.awaiting) > 0 {
		return
	}
	c.held = false
	if e := c.eng; e != nil && e.opened {
		c.sio.EngineOpen(c.now, e.ec.Protocol(), e.ec.SID())
		c.applySio()
	}
}

func (c *clientConn) emitCmd(nsp, event string, args []byte, atts [][]byte, flags uint8, timeout uint32) int64 {
	if flags&EmitVolatile != 0 && (c.eng == nil || !c.eng.ec.Writable() || !c.sio.Connected(nsp)) {
		return EmitDropped
	}
	id, err := c.sio.Emit(c.now, nsp, event, args, atts, flags&EmitAck != 0)
	if err == sio.ErrUnknownNamespace && c.sio.Declare(nsp) == nil {
		// An emit before the namespace's connect waits for it, as
		// socket.io-client's buffer does.
		id, err = c.sio.Emit(c.now, nsp, event, args, atts, flags&EmitAck != 0)
	}
	if err != nil {
		c.errorEffect(nsp, err.Error())
		return EmitRefused
	}
	if id >= 0 && timeout > 0 {
		c.sio.AckTimeout(nsp, id, c.now+int64(timeout))
	}
	c.applySio()
	c.pump()
	return id
}

// open starts a new Engine.IO session.
func (c *clientConn) open() {
	cfg := eio.DefaultClientConfig(c.cc.random)
	if c.opts.Transports != 0 {
		cfg.Transports = 0
		if c.opts.Transports&ClientPolling != 0 {
			cfg.Transports |= eio.TransportPolling
		}
		if c.opts.Transports&ClientWebSocket != 0 {
			cfg.Transports |= eio.TransportWebSocket
		}
	}
	if c.opts.Timeout != 0 {
		cfg.ConnectTimeout = int64(c.opts.Timeout)
	}
	if c.opts.NoTimeout {
		cfg.ConnectTimeout = 0
	}
	if c.opts.Protocol3 {
		cfg.Protocol = 3
	}
	cfg.B64 = c.opts.Base64
	cfg.RememberUpgrade = c.opts.RememberUpgrade
	cfg.PriorWebSocketSuccess = c.priorWS
	cfg.Upgrade = !c.opts.NoUpgrade
	c.eng = &engine{ec: eio.NewClient(cfg), base: c.nextBase}
	c.eng.ec.Open(c.now)
	c.drain(c.eng)
}

// drain carries out an engine's transport effects at once (their bytes
// alias the eio.Client's scratch space) and queues its session events,
// which may call back into the engine, for pump.
func (c *clientConn) drain(e *engine) {
	for _, ef := range e.ec.Effects() {
		out := eio.Effect{Conn: uint64(e.base) + ef.Conn}
		if ef.Conn != 0 && uint32(ef.Conn) > e.top {
			e.top = uint32(ef.Conn)
			c.nextBase = max(c.nextBase, e.base+e.top)
		}
		switch ef.Kind {
		case eio.CEffRequest:
			out.Kind, out.Text, out.Desc, out.Content, out.Data = CEffRequest, ef.Method, ef.Query, ef.Content, ef.Data
		case eio.CEffDial:
			out.Kind, out.Desc = CEffWSOpen, ef.Query
		case eio.CEffWrite:
			out.Kind, out.Binary, out.Prefix, out.Data = CEffWSSend, ef.Binary, ef.Prefix, ef.Data
			if len(out.Prefix) == 0 {
				out.Prefix = nil
			}
		case eio.CEffCloseConn:
			out.Kind = CEffConnClose
		default:
			if c.held {
				ef.Data = cloneData(ef.Data) // waits for the host's auth
			}
			c.events = append(c.events, ef)
			c.evEng = append(c.evEng, e)
			continue
		}
		c.effect(out)
	}
	if v := e.ec.PriorWebSocketSuccess(); v != c.priorWS && c.opts.RememberUpgrade {
		c.priorWS = v
		c.effect(eio.Effect{Kind: CEffPriorWebSocket, Binary: v})
	}
}

// pump handles the queued session events in order, draining the engines
// after each.
func (c *clientConn) pump() {
	for _, e := range [2]*engine{c.eng, c.old} {
		if e != nil {
			c.drain(e)
		}
	}
	for len(c.events) > 0 && !c.held {
		ef, e := c.events[0], c.evEng[0]
		c.events, c.evEng = c.events[1:], c.evEng[1:]
		c.onEngineEvent(e, &ef)
		for _, e := range [2]*engine{c.eng, c.old} {
			if e != nil {
				c.drain(e)
			}
		}
	}
	if !c.held {
		c.events, c.evEng = c.events[:0], c.evEng[:0]
	}
}

// retire closes the current session on the application's behalf: it
// flushes and says goodbye on its own, and nothing it reports concerns the
// client any more.
func (c *clientConn) retire() {
	e := c.eng
	if e == nil {
		return
	}
	c.eng = nil
	// The host hears that the session is over, though the engine's own
	// events no longer concern it.
	if e.opened {
		c.effect(eio.Effect{Kind: CEffEngineClose, Text: eio.ReasonForcedClose})
	} else {
		c.effect(eio.Effect{Kind: CEffEngineDropped})
	}
	if c.old != nil {
		c.old.ec.Close(c.now) // one graceful close at a time is plenty
		c.drain(c.old)
	}
	e.retired = true
	c.old = e
	e.ec.Close(c.now)
	c.drain(e)
	if e.ec.Closed() {
		c.old = nil
	}
}

// idle stops reconnecting and closes the session once no namespace is
// active (as socket.io-client's Manager does when its last socket leaves
// or is refused).
func (c *clientConn) idle() {
	if c.anyActive() {
		return
	}
	c.rec.Stop()
	if c.eng != nil {
		c.retire()
	}
}

func (c *clientConn) tick(now int64) {
	c.now = now
	if n, due := c.rec.Due(now); due {
		if c.eng == nil && c.anyActive() {
			c.effect(eio.Effect{Kind: CEffReconnectAttempt, Status: n})
			c.open()
		} else if c.eng == nil {
			c.rec.Stop()
		}
	}
	for _, e := range [2]*engine{c.eng, c.old} {
		if e != nil {
			e.ec.Tick(now)
		}
	}
	c.sio.Tick(now)
	c.applySio()
	c.pump()
}

func (c *clientConn) destroy() {
	for _, n := range c.nsps {
		c.sio.Disconnect(c.now, n)
		c.applySio()
	}
	c.rec.Stop()
	c.retire()
	c.pump()
}
