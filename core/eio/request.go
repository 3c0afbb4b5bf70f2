package eio

// Request is the part of an HTTP request that the Engine.IO server looks at.
// The host fills it from the request line, the query and a few headers.
type Request struct {
	Conn      uint64 // the host's id for this request; echoed in effects
	Method    string // "GET", "POST", ...
	EIO       string // query "EIO"
	Transport string // query "transport"
	SID       string // query "sid"
	B64       bool   // query "b64" present (v3 clients that cannot take binary)
	Upgrade   bool   // a valid WebSocket upgrade request
	Binary    bool   // Content-Type: application/octet-stream
	// Origin is set, with BadOrigin, when the Origin header holds characters
	// that are not allowed in a header value.
	Origin    string
	BadOrigin bool
	// Refused is set when the host's AllowRequest hook refused a handshake;
	// RefusedMessage is the message it gave.
	Refused        bool
	RefusedMessage string
	// JSONP is set when the query has a "j" parameter, J its value (the last
	// one when repeated, as the reference reads queries). A polling
	// handshake with it opens a JSONP session (see AppendJSONP); the other
	// requests' j is not looked at.
	JSONP bool
	J     string
	// ID, for a handshake, is the session id the host chose (the
	// reference's generateId); empty, the core makes one. An id already in
	// use, or one that is not made of URL-safe characters (at most
	// MaxSessionIDLen), refuses the handshake with code 3, as does
	// IDFailed: the host could not make one.
	ID       string
	IDFailed bool
}

// BodyStatus says how reading a POST body ended.
type BodyStatus uint8

const (
	BodyOK       BodyStatus = iota
	BodyTooLarge            // more than the allowed bytes
	BodyTimeout             // the client stalled
	BodyAborted             // the client went away
)

// begin resets the scratch space once the host has taken the previous
// effects.
func (s *Server) begin(now int64) {
	s.now = now
	if len(s.effects) == 0 {
		s.scratch = s.scratch[:0]
	}
}

// Request handles the metadata of an HTTP request: a handshake, a polling
// GET or POST, or a WebSocket upgrade. It returns the session the request
// belongs to, or 0 when it was refused.
func (s *Server) Request(now int64, r *Request) Handle {
	s.begin(now)
	var tr Transports
	switch r.Transport {
	case "polling":
		tr = TransportPolling
	case "websocket":
		tr = TransportWebSocket
	}
	if tr == 0 || s.cfg.Transports&tr == 0 {
		return s.fail(r, CodeUnknownTransport, "", ctx1("transport", r.Transport))
	}
	if r.BadOrigin {
		return s.fail(r, CodeBadRequest, "", ctx2("name", "INVALID_ORIGIN", "origin", r.Origin))
	}
	if r.SID == "" {
		return s.handshake(now, r, tr)
	}
	ss := s.slot(s.bySID[r.SID])
	if ss != nil && ss.state == stateLinger && now < ss.lingerBy && r.Method == "GET" && !r.Upgrade && tr == TransportPolling {
		s.lingerPoll(ss, r.Conn)
		return 0
	}
	if ss == nil || ss.state != stateOpen || !s.expire(ss, now) {
		return s.fail(r, CodeUnknownSID, "", ctx1("sid", r.SID))
	}
	if r.Upgrade && tr != TransportWebSocket {
		return s.acceptAndClose(r)
	}
	if r.Upgrade {
		return s.probe(now, r, ss)
	}
	if ss.ws != 0 || tr != TransportPolling {
		return s.fail(r, CodeBadRequest, "", ctx3("name", "TRANSPORT_MISMATCH", "transport", r.Transport, "previousTransport", s.TransportName(ss.handle)))
	}
	switch r.Method {
	case "GET":
		switch {
		case ss.getConn != 0:
			s.closeSession(ss, ReasonTransportError, "overlap from client", closeByServer)
			s.respondEmpty(r.Conn, 400)
			return 0
		default:
			// During an upgrade the GET waits for the next noop tick.
			ss.getConn = r.Conn
			if len(ss.queue) > 0 && ss.probe != probeAnswered {
				s.flushPoll(ss)
			}
		}
	case "POST":
		if ss.postConn != 0 || (ss.proto == 4 && r.Binary) {
			s.closeSession(ss, ReasonTransportError, "invalid data request", closeByServer)
			s.respondEmpty(r.Conn, 400)
			return 0
		}
		ss.postConn = r.Conn
		ss.postBinary = r.Binary
		s.emit(Effect{Kind: EffReadBody, Conn: r.Conn, Session: ss.handle, Status: int(s.cfg.MaxPayload), Binary: r.Binary})
	default:
		s.closeSession(ss, ReasonTransportError, "invalid method", closeByServer)
		s.respondEmpty(r.Conn, 500)
		return 0
	}
	return ss.handle
}

func (s *Server) handshake(now int64, r *Request, tr Transports) Handle {
	if r.Method != "GET" {
		return s.fail(r, CodeBadHandshakeMethod, "", ctx1("method", r.Method))
	}
	if tr == TransportWebSocket && !r.Upgrade {
		return s.fail(r, CodeBadRequest, "", ctx1("name", "TRANSPORT_HANDSHAKE_ERROR"))
	}
	if r.Refused {
		return s.fail(r, CodeForbidden, r.RefusedMessage, ctx1("message", r.RefusedMessage))
	}
	if r.Upgrade && tr != TransportWebSocket {
		return s.acceptAndClose(r)
	}
	var proto uint8
	switch {
	case r.EIO == "4":
		proto = 4
	case r.EIO == "3" && s.cfg.AllowEIO3:
		proto = 3
	default:
		return s.fail(r, CodeUnsupportedProtocol, "", ctxProtocol(r.EIO))
	}
	if r.IDFailed || r.ID != "" && !s.validID(r.ID) {
		return s.fail(r, CodeBadRequest, "", ctx1("name", "ID_GENERATION_ERROR"))
	}
	jsonp := r.JSONP && tr == TransportPolling
	var index string
	if jsonp {
		// The index is repeated in every answer of the session: a long
		// one is refused rather than kept (clients count from 0).
		if index = jsonpIndex(r.J); len(index) > MaxJSONPIndexLen {
			return s.fail(r, CodeBadRequest, "", ctx1("name", "TRANSPORT_HANDSHAKE_ERROR"))
		}
	}
	ss := s.newSession(proto, r.ID)
	if ss == nil {
		return s.fail(r, CodeBadRequest, "", ctx1("name", "ID_GENERATION_ERROR"))
	}
	// A JSONP answer is a script, so it is text: binary goes as base64 (the
	// JSONP client asks for that anyway, with b64=1).
	ss.jsonp = jsonp
	ss.b64 = proto == 3 && (r.B64 || ss.jsonp)
	if ss.jsonp {
		s.jsonp[ss.handle] = index
	}
	s.startHeartbeat(ss, now)
	s.emit(Effect{Kind: EffOpen, Conn: r.Conn, Session: ss.handle})
	if s.upper != nil {
		defer s.upper.Open(ss.handle)
	}
	start := len(s.scratch)
	if tr == TransportWebSocket {
		ss.ws = r.Conn
		s.emit(Effect{Kind: EffAccept, Conn: r.Conn, Session: ss.handle})
		s.scratch = s.appendOpenJSON(s.scratch, ss, false)
		s.writeFrame(ss, r.Conn, Open, false, false, s.scratch[start:])
		return ss.handle
	}
	var body []byte
	if proto == 3 {
		body = s.appendOpenJSON(nil, ss, true)
		s.scratch = AppendV3Text(s.scratch, Open, false, body)
	} else {
		s.scratch = AppendText(s.scratch, Open, s.appendOpenJSON(nil, ss, true))
	}
	s.respondPoll(ss, r.Conn, ContentText, start, false)
	return ss.handle
}

// probe starts the upgrade of a polling session to WebSocket r.Conn. A
// second WebSocket for a session that is upgrading or upgraded is accepted
// and then closed at once, as the reference does: clients that attach no
// error handler would otherwise crash on an HTTP refusal.
func (s *Server) probe(now int64, r *Request, ss *session) Handle {
	s.emit(Effect{Kind: EffAccept, Conn: r.Conn, Session: ss.handle})
	if ss.ws != 0 || ss.probe != probeNone || !s.cfg.AllowUpgrades {
		s.emit(Effect{Kind: EffCloseConn, Conn: r.Conn})
		return 0
	}
	ss.probeWS = r.Conn
	ss.probe = probeAccepted
	ss.upgradeBy = now + s.cfg.UpgradeTimeout
	s.schedule(ss)
	return ss.handle
}

// acceptAndClose completes a WebSocket upgrade that names another
// transport, then closes it, as the reference does: the polling transport
// does not take upgrades.
func (s *Server) acceptAndClose(r *Request) Handle {
	s.emit(Effect{Kind: EffAccept, Conn: r.Conn})
	s.emit(Effect{Kind: EffCloseConn, Conn: r.Conn})
	return 0
}

// Body hands the server the body of the POST request conn of session h.
// For a JSONP session it is the form the client posted (see
// DecodeJSONPBody).
func (s *Server) Body(now int64, conn uint64, h Handle, body []byte, st BodyStatus) {
	s.begin(now)
	ss := s.get(h)
	if ss == nil || ss.postConn != conn {
		s.respondEmpty(conn, 400)
		return
	}
	ss.postConn = 0
	if !s.expire(ss, now) {
		s.respondEmpty(conn, 400)
		return
	}
	switch st {
	case BodyTooLarge:
		s.closeSession(ss, ReasonTransportError, "payload too large", closeByServer)
		s.respondEmpty(conn, 413)
		return
	case BodyTimeout:
		s.closeSession(ss, ReasonTransportError, "data request timeout", closeByServer)
		s.respondEmpty(conn, 408)
		return
	case BodyAborted:
		s.closeSession(ss, ReasonTransportError, "data request connection closed prematurely", closeByServer)
		return
	}
	decode := true
	if ss.jsonp {
		// A form whose field d holds the payload. Without one (or with a
		// binary body, which the reference's form parser does not read) the
		// request is answered and otherwise ignored, as the reference does.
		body, decode = DecodeJSONPBody(body)
		decode = decode && !ss.postBinary
	}
	if decode {
		s.decodePayload(ss, body, now)
	}
	start := len(s.scratch)
	s.scratch = append(s.scratch, "ok"...)
	s.emit(Effect{Kind: EffRespond, Conn: conn, Status: 200, Content: ContentHTML, Data: s.scratch[start:]})
}

func (s *Server) decodePayload(ss *session, body []byte, now int64) {
	binary := ss.postBinary
	if len(body) == 0 && !binary {
		s.closeSession(ss, ReasonParseError, ErrEmptyPacket.Error(), closeByServer)
		return
	}
	// A v4 payload ends when NextV4 returns a nil rest: an empty rest after
	// a trailing separator is an empty record, which is an error.
	for ss.state == stateOpen {
		var p Packet
		var err error
		switch {
		case ss.proto == 4:
			if body == nil {
				return
			}
			p, body, err = NextV4(body)
		case len(body) == 0:
			return
		case binary:
			p, body, err = NextV3Binary(body)
		default:
			var ok bool
			p, body, ok, err = NextV3Text(body)
			if err == nil && !ok {
				return
			}
		}
		if err != nil {
			s.closeSession(ss, ReasonParseError, err.Error(), closeByServer)
			return
		}
		s.onPacket(ss, p, now)
	}
}
