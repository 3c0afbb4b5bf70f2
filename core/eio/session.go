package eio

type sessionState uint8

const (
	stateClosed sessionState = iota
	stateOpen
	// stateLinger: closed by the client while no GET was pending. Its id is
	// kept a moment so that a GET the client sent just before closing is
	// answered with a noop rather than an error.
	stateLinger
)

// lingerTime is how long a lingering session keeps its id, in milliseconds.
const lingerTime = 1000

// noopInterval is how often a GET pending during an upgrade is answered
// with a noop, in milliseconds (the reference's upgrade check interval).
const noopInterval = 100

type probeState uint8

const (
	probeNone     probeState = iota
	probeAccepted            // WebSocket accepted, waiting for "2probe"
	probeAnswered            // "3probe" sent, waiting for "5"
)

// session is the state of one Engine.IO session. Fields are ordered to keep
// the struct small: an idle session holds no buffer.
type session struct {
	handle      Handle
	state       sessionState
	proto       uint8 // 3 or 4
	b64         bool  // v3: binary as base64 in text payloads
	probe       probeState
	refreshed   bool // v4: the pong deadline was already refreshed once
	postBinary  bool // the POST being read is application/octet-stream
	lingerClose bool // lingering: a close packet is due to the next GET
	jsonp       bool // JSONP polling: its callback index is in Server.jsonp
	id          string

	ws       uint64 // WebSocket transport conn, once upgraded or opened directly
	getConn  uint64 // pending polling GET
	postConn uint64 // polling POST whose body is being read
	probeWS  uint64 // WebSocket being probed for an upgrade

	pingAt    int64 // v4: when to send the next ping
	pongBy    int64 // v4: pong deadline; v3: next ping deadline
	upgradeBy int64 // deadline of the upgrade in progress
	lingerBy  int64 // end of the linger of a closed session
	upperBy   int64 // the upper layer's deadline for this session
	noopAt    int64 // during an upgrade: next noop for a pending GET
	scheduled int64 // deadline last pushed to the timer heap

	queue []queued // packets waiting for a GET or for the upgrade to finish
	arena []byte   // data of queued packets
}

type queued struct {
	t          PacketType
	binary     bool
	noCompress bool // sent with compress: false
	off, n     int32
}

// arenaKeep is the largest buffer a session keeps after a flush; larger ones
// are dropped so that idle sessions hold no big buffers.
const arenaKeep = 1024

func (ss *session) deadline() int64 {
	d := ss.pingAt
	for _, t := range [5]int64{ss.pongBy, ss.upgradeBy, ss.lingerBy, ss.upperBy, ss.noopAt} {
		if t != 0 && (d == 0 || t < d) {
			d = t
		}
	}
	return d
}

func (s *Server) runTimers(ss *session, now int64) {
	if ss.state == stateLinger {
		if now >= ss.lingerBy {
			s.release(ss)
		}
		return
	}
	if ss.pongBy != 0 && now >= ss.pongBy {
		s.closeSession(ss, ReasonPingTimeout, "", closeByServer)
		return
	}
	if ss.upgradeBy != 0 && now >= ss.upgradeBy {
		s.abortUpgrade(ss)
	}
	if ss.noopAt != 0 && now >= ss.noopAt {
		// As the reference's upgrade check: a GET left pending while the
		// client probes gets a noop, so it can pause polling and send "5".
		ss.noopAt = now + noopInterval
		if ss.getConn != 0 {
			s.respondPacket(ss, ss.getConn, Noop)
			ss.getConn = 0
		}
	}
	if ss.upperBy != 0 && now >= ss.upperBy && s.upper != nil {
		ss.upperBy = 0
		s.upper.Timer(ss.handle, now)
		if ss.state != stateOpen {
			return
		}
	}
	if ss.pingAt != 0 && now >= ss.pingAt {
		// The pong deadline counts from when the ping was due, not from when
		// the host got round to it, so a session times out at exactly
		// pingInterval+pingTimeout.
		ss.pongBy = ss.pingAt + s.cfg.PingTimeout
		ss.pingAt = 0
		ss.refreshed = false
		s.send(ss, Ping, false, nil)
	}
	s.schedule(ss)
}

// startHeartbeat arms the first timer of a new session.
func (s *Server) startHeartbeat(ss *session, now int64) {
	if ss.proto == 3 {
		ss.pongBy = now + s.cfg.PingInterval + s.cfg.PingTimeout
	} else {
		ss.pingAt = now + s.cfg.PingInterval
	}
	s.schedule(ss)
}

// expire applies timers that are due before an input is processed, so an
// input that arrives after a deadline never revives a dead session.
func (s *Server) expire(ss *session, now int64) bool {
	// Loop: a ping that was due arms a pong deadline that may be due too.
	// Each round closes the session or clears a deadline that was due, so
	// this ends after at most a few rounds.
	for ss.state == stateOpen {
		if d := ss.deadline(); d == 0 || now < d {
			break
		}
		s.runTimers(ss, now)
	}
	return ss.state == stateOpen
}

// onPacket handles one packet received from the client on the session's
// current transport.
func (s *Server) onPacket(ss *session, p Packet, now int64) {
	if ss.proto == 4 && ss.pongBy != 0 && p.Type != Pong && !ss.refreshed {
		// A busy client may have its pong queued behind other packets: the
		// first packet that proves it alive extends the deadline once.
		ss.refreshed = true
		ss.pongBy = now + s.cfg.PingTimeout
		s.schedule(ss)
	}
	switch p.Type {
	case Ping:
		if ss.proto == 4 {
			s.closeSession(ss, ReasonTransportError, "invalid heartbeat direction", closeByServer)
			return
		}
		s.send(ss, Pong, false, nil)
		ss.pongBy = now + s.cfg.PingInterval + s.cfg.PingTimeout
		s.schedule(ss)
	case Pong:
		if ss.proto == 3 {
			s.closeSession(ss, ReasonTransportError, "invalid heartbeat direction", closeByServer)
			return
		}
		ss.pongBy = 0
		ss.pingAt = now + s.cfg.PingInterval
		s.schedule(ss)
	case Message:
		if s.upper != nil {
			s.upper.Message(ss.handle, p.Binary, p.Data)
			return
		}
		s.emit(Effect{Kind: EffMessage, Session: ss.handle, Binary: p.Binary, Data: p.Data})
	case Close:
		s.closeSession(ss, ReasonTransportClose, "", closeByClient)
	}
}

// send queues or writes one packet to the client. Packets of the core's
// own (pings, pongs, the handshake) may be compressed, as the reference's
// are (its compress option defaults to true).
func (s *Server) send(ss *session, t PacketType, binary bool, data []byte) {
	s.sendOpt(ss, t, binary, false, data)
}

// sendOpt is send with the packet's compress option (noCompress: false).
func (s *Server) sendOpt(ss *session, t PacketType, binary, noCompress bool, data []byte) {
	if ss.ws != 0 {
		s.writeFrame(ss, ss.ws, t, binary, noCompress, data)
		return
	}
	off := len(ss.arena)
	ss.arena = append(ss.arena, data...)
	ss.queue = append(ss.queue, queued{t: t, binary: binary, noCompress: noCompress, off: int32(off), n: int32(len(data))})
	if ss.getConn != 0 && ss.probe != probeAnswered {
		s.flushPoll(ss)
	}
}

var digits = []byte("0123456")

func (s *Server) writeFrame(ss *session, conn uint64, t PacketType, binary, noCompress bool, data []byte) {
	e := Effect{Kind: EffWrite, Conn: conn, Session: ss.handle, Binary: binary, Data: data, NoCompress: noCompress}
	switch {
	case !binary:
		e.Prefix = digits[t : t+1]
	case ss.proto == 3:
		e.Prefix = rawTypes[t : t+1]
	}
	s.emit(e)
}

var rawTypes = []byte{0, 1, 2, 3, 4, 5, 6}

// flushPoll answers the pending GET with every queued packet.
func (s *Server) flushPoll(ss *session) {
	start := len(s.scratch)
	content := ContentText
	switch {
	case ss.proto == 4:
		for i, q := range ss.queue {
			s.scratch = AppendV4(s.scratch, i == 0, q.t, q.binary, ss.arena[q.off:q.off+q.n])
		}
	case !ss.b64 && hasBinary(ss.queue):
		content = ContentBinary
		for _, q := range ss.queue {
			s.scratch = AppendV3Binary(s.scratch, q.t, q.binary, ss.arena[q.off:q.off+q.n])
		}
	default:
		for _, q := range ss.queue {
			s.scratch = AppendV3Text(s.scratch, q.t, q.binary, ss.arena[q.off:q.off+q.n])
		}
	}
	// As the reference's polling transport, the body may be compressed
	// when any of its packets may be.
	s.respondPoll(ss, ss.getConn, content, start, noneCompressible(ss.queue))
	ss.getConn = 0
	ss.queue = ss.queue[:0]
	ss.arena = ss.arena[:0]
	if cap(ss.arena) > arenaKeep {
		ss.arena, ss.queue = nil, nil
	}
}

// noneCompressible reports whether every packet of q was sent with
// compress: false.
func noneCompressible(q []queued) bool {
	for _, p := range q {
		if !p.noCompress {
			return false
		}
	}
	return len(q) > 0
}

func hasBinary(q []queued) bool {
	for _, p := range q {
		if p.binary {
			return true
		}
	}
	return false
}

// respondPacket answers polling request conn with a payload of one data-less
// packet (noop or close).
func (s *Server) respondPacket(ss *session, conn uint64, t PacketType) {
	start := len(s.scratch)
	if ss.proto == 3 {
		s.scratch = AppendV3Text(s.scratch, t, false, nil)
	} else {
		s.scratch = AppendText(s.scratch, t, nil)
	}
	s.respondPoll(ss, conn, ContentText, start, false)
}

// respondPoll answers polling GET conn with the payload written in the
// scratch space from start; a JSONP session's answer is the script that
// carries it.
func (s *Server) respondPoll(ss *session, conn uint64, content Content, start int, noCompress bool) {
	if ss.jsonp {
		end := len(s.scratch)
		s.scratch = AppendJSONP(s.scratch, s.jsonp[ss.handle], s.scratch[start:end])
		start, content = end, ContentText
	}
	s.emit(Effect{Kind: EffRespond, Conn: conn, Session: ss.handle, Status: 200, Content: content,
		Data: s.scratch[start:], NoCompress: noCompress})
}

type closeHow uint8

const (
	closeByServer closeHow = iota // an error or a timeout
	closeByClient                 // the client sent a close packet
	closeDrain                    // the application closed it: queued packets are still delivered
)

// closeSession ends a session: the pending GET is answered (noop when the
// client itself asked to close, else a close packet, or first what was
// still queued), WebSockets are closed, and the application is told why.
//
// A polling session whose close cannot be told at once lingers instead of
// vanishing: when the client closed it, the GET it may have had in flight
// gets a noop; when the application closed it with packets still queued,
// the next GET gets them and the one after it the close packet, as the
// reference drains its buffer before closing, so a client handles the last
// packets before it hears of the close.
func (s *Server) closeSession(ss *session, reason, desc string, how closeHow) {
	byClient := how == closeByClient
	if how == closeByServer {
		// Only an application's close drains the queue; the reference drops
		// it on errors and timeouts.
		ss.queue, ss.arena = ss.queue[:0], ss.arena[:0]
	}
	// An application's close of a polling session is told on the next GET
	// when none is pending (as the reference waits for one to send its close
	// packet); a client's close keeps the id for the GET it may have in
	// flight.
	linger := ss.ws == 0 && ((byClient && ss.getConn == 0) ||
		(how == closeDrain && (len(ss.queue) > 0 || ss.getConn == 0)))
	if ss.getConn != 0 {
		switch {
		case byClient:
			s.respondPacket(ss, ss.getConn, Noop)
		case len(ss.queue) > 0:
			s.flushPoll(ss)
		default:
			s.respondPacket(ss, ss.getConn, Close)
		}
		ss.getConn = 0
	}
	if ss.probeWS != 0 {
		s.emit(Effect{Kind: EffCloseConn, Conn: ss.probeWS, Session: ss.handle})
	}
	if ss.ws != 0 {
		s.emit(Effect{Kind: EffCloseConn, Conn: ss.ws, Session: ss.handle})
	}
	if s.upper != nil {
		s.upper.Close(ss.handle, reason, desc)
	}
	s.emit(Effect{Kind: EffClose, Session: ss.handle, Text: reason, Desc: desc})
	s.open--
	if !linger {
		s.release(ss)
		return
	}
	next := session{handle: ss.handle, id: ss.id, proto: ss.proto, b64: ss.b64, jsonp: ss.jsonp, state: stateLinger}
	if byClient {
		next.lingerBy = s.now + lingerTime
	} else {
		next.lingerBy = s.now + s.cfg.PingTimeout
		next.lingerClose = true
		next.queue, next.arena = ss.queue, ss.arena
	}
	*ss = next
	s.schedule(ss)
}

// lingerPoll answers a GET for a lingering session: the packets still
// queued, then a close packet on the GET after; a noop when the client
// closed the session itself.
func (s *Server) lingerPoll(ss *session, conn uint64) {
	switch {
	case len(ss.queue) > 0:
		ss.getConn = conn
		s.flushPoll(ss)
		ss.lingerBy = s.now + s.cfg.PingTimeout
		s.schedule(ss)
		return
	case ss.lingerClose:
		s.respondPacket(ss, conn, Close)
	default:
		s.respondPacket(ss, conn, Noop)
	}
	s.release(ss)
}

// abortUpgrade closes the WebSocket being probed; the session stays on
// polling.
func (s *Server) abortUpgrade(ss *session) {
	if ss.probeWS != 0 {
		s.emit(Effect{Kind: EffCloseConn, Conn: ss.probeWS, Session: ss.handle})
	}
	ss.probeWS, ss.probe, ss.upgradeBy, ss.noopAt = 0, probeNone, 0, 0
	if ss.getConn != 0 && len(ss.queue) > 0 {
		s.flushPoll(ss)
	}
	// The upgrade deadline may have been the only one in the timer heap:
	// push the heartbeat deadline that now comes first.
	s.schedule(ss)
}

// finishUpgrade switches the session to the probed WebSocket and flushes
// what polling had buffered.
func (s *Server) finishUpgrade(ss *session) {
	switch {
	case ss.getConn != 0 && ss.probe != probeAnswered:
		// "5" without a probe: the client never paused polling.
		s.respondPacket(ss, ss.getConn, Noop)
	case ss.getConn != 0:
		// A GET still pending after the probe is one the client sent after
		// it stopped polling: it gets what any polling request gets from
		// now on.
		s.fail(&Request{Conn: ss.getConn}, CodeBadRequest, "", ctx3("name", "TRANSPORT_MISMATCH", "transport", "polling", "previousTransport", "websocket"))
	}
	ss.getConn = 0
	ss.ws, ss.probeWS, ss.probe, ss.upgradeBy, ss.noopAt = ss.probeWS, 0, probeNone, 0, 0
	s.emit(Effect{Kind: EffUpgrade, Session: ss.handle, Conn: ss.ws})
	for _, q := range ss.queue {
		// Queued data lives in the session arena; copy it out so the effect
		// stays valid after the arena is reset.
		start := len(s.scratch)
		s.scratch = append(s.scratch, ss.arena[q.off:q.off+q.n]...)
		s.writeFrame(ss, ss.ws, q.t, q.binary, q.noCompress, s.scratch[start:])
	}
	ss.queue, ss.arena = nil, nil
	s.schedule(ss)
}
