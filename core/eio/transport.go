package eio

// Frame handles one WebSocket message received on conn for session h.
// data is not retained beyond the call, except as the Data of an EffMessage,
// which aliases it.
func (s *Server) Frame(now int64, conn uint64, h Handle, binary bool, data []byte) {
	s.begin(now)
	ss := s.get(h)
	if ss == nil || !s.expire(ss, now) {
		return
	}
	switch conn {
	case ss.probeWS:
		s.onProbeFrame(ss, binary, data)
	case ss.ws:
		var p Packet
		var err error
		switch {
		case !binary && ss.proto == 3:
			p, err = DecodeV3Record(data)
		case !binary:
			p, err = DecodeV4Record(data)
		case ss.proto == 3:
			p, err = DecodeBinaryV3(data)
		default:
			p = DecodeBinaryV4(data)
		}
		if err != nil {
			s.closeSession(ss, ReasonParseError, err.Error(), closeByServer)
			return
		}
		s.onPacket(ss, p, now)
	}
}

// onProbeFrame runs the upgrade handshake on a WebSocket being probed:
// "2probe" is answered "3probe", and from then on a polling GET is answered
// with a noop every noopInterval so the client can pause polling; "5"
// completes the upgrade; anything else aborts it.
func (s *Server) onProbeFrame(ss *session, binary bool, data []byte) {
	if !binary {
		p, err := DecodeText(data)
		switch {
		case err != nil:
		case p.Type == Ping && string(p.Data) == "probe":
			s.writeFrame(ss, ss.probeWS, Pong, false, false, probeData)
			if ss.probe != probeAnswered {
				ss.probe = probeAnswered
				ss.noopAt = s.now + noopInterval
				s.schedule(ss)
			}
			return
		case p.Type == Upgrade:
			s.finishUpgrade(ss)
			return
		}
	}
	s.abortUpgrade(ss)
}

var probeData = []byte("probe")

// ConnClosed tells the server that conn (a WebSocket, or an HTTP request
// still waiting for its answer) of session h went away. errored says whether
// it failed (protocol error, message too large) rather than closed.
func (s *Server) ConnClosed(now int64, conn uint64, h Handle, errored bool) {
	s.begin(now)
	ss := s.get(h)
	if ss == nil || !s.expire(ss, now) {
		return
	}
	switch conn {
	case ss.probeWS:
		ss.probeWS = 0
		s.abortUpgrade(ss)
	case ss.ws:
		ss.ws = 0
		reason := ReasonTransportClose
		if errored {
			reason = ReasonTransportError
		}
		s.closeSession(ss, reason, "", closeByServer)
	case ss.getConn:
		ss.getConn = 0
		s.closeSession(ss, ReasonTransportError, "poll connection closed prematurely", closeByServer)
	case ss.postConn:
		ss.postConn = 0
		s.closeSession(ss, ReasonTransportError, "data request connection closed prematurely", closeByServer)
	}
}

// Send sends a message to session h: text unless binary is set. It reports
// whether the session was open. The core copies data it buffers; an EffWrite
// refers to data itself, so the caller keeps it intact until it has taken
// the effects.
func (s *Server) Send(now int64, h Handle, binary bool, data []byte) bool {
	return s.SendMessage(now, h, binary, false, data)
}

// SendMessage is Send with the reference's compress option: with
// noCompress (compress: false), the message's frame is never compressed,
// nor a polling response made only of such messages (see
// Effect.NoCompress).
func (s *Server) SendMessage(now int64, h Handle, binary, noCompress bool, data []byte) bool {
	s.begin(now)
	ss := s.get(h)
	if ss == nil || !s.expire(ss, now) {
		return false
	}
	s.sendOpt(ss, Message, binary, noCompress, data)
	return true
}

// CloseSession closes session h with the given reason ("forced close" when
// empty). Packets already queued for a polling client are still delivered.
func (s *Server) CloseSession(now int64, h Handle, reason string) {
	s.CloseSessionDesc(now, h, reason, "")
}

// CloseSessionDesc is CloseSession with a description of the cause.
func (s *Server) CloseSessionDesc(now int64, h Handle, reason, desc string) {
	s.begin(now)
	if ss := s.get(h); ss != nil {
		if reason == "" {
			reason = ReasonForcedClose
		}
		s.closeSession(ss, reason, desc, closeDrain)
	}
}

// CloseAll closes every session with the given reason.
func (s *Server) CloseAll(now int64, reason string) {
	s.begin(now)
	for i := range s.sessions {
		if ss := &s.sessions[i]; ss.state == stateOpen {
			s.closeSession(ss, reason, "", closeByServer)
		}
	}
}
