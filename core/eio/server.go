package eio

import (
	"container/heap"
	"encoding/base64"
)

// Transports is a set of Engine.IO transports.
type Transports uint8

const (
	TransportPolling Transports = 1 << iota
	TransportWebSocket
)

// Config holds the server's protocol settings. Times are in milliseconds.
// Unlike the hosts' options, zero values are not replaced: use DefaultConfig.
type Config struct {
	PingInterval   int64
	PingTimeout    int64
	UpgradeTimeout int64
	MaxPayload     int64
	Transports     Transports
	AllowUpgrades  bool
	AllowEIO3      bool
	// Random fills b with unpredictable bytes; session ids come from it.
	Random func(b []byte)
	// IDPrefix, when not zero, replaces the first character of every
	// session id, so a host can route requests among several Servers by id.
	// It must be a base64url character.
	IDPrefix byte
}

// DefaultConfig returns the reference server's defaults.
func DefaultConfig(random func([]byte)) Config {
	return Config{
		PingInterval:   25000,
		PingTimeout:    20000,
		UpgradeTimeout: 10000,
		MaxPayload:     1000000,
		Transports:     TransportPolling | TransportWebSocket,
		AllowUpgrades:  true,
		Random:         random,
	}
}

// Handle addresses one session of a Server: a slot index in the low 20 bits
// and a generation tag above it, so a stale handle never reaches the slot's
// next tenant. Zero is never a valid handle.
type Handle uint32

const (
	handleIndexBits = 20
	handleIndexMask = 1<<handleIndexBits - 1
	maxSessions     = handleIndexMask
)

func (h Handle) index() uint32 { return uint32(h) & handleIndexMask }

// Server is the Engine.IO server state machine for many sessions. It is not
// safe for concurrent use: a host serializes calls to one Server.
type Server struct {
	cfg      Config
	sessions []session // slot 0 is unused so that Handle 0 is invalid
	free     []uint32
	bySID    map[string]Handle
	timers   timerHeap
	effects  []Effect
	scratch  []byte
	now      int64 // the time of the call in progress
	upper    Upper
	open     int
	openJSON []byte            // the handshake JSON after the sid, precomputed
	jsonp    map[Handle]string // the callback index of each JSONP session
}

// NewServer returns a Server with the given configuration.
func NewServer(cfg Config) *Server {
	s := &Server{cfg: cfg, sessions: make([]session, 1), bySID: make(map[string]Handle), jsonp: make(map[Handle]string)}
	s.openJSON = s.buildOpenJSON()
	return s
}

// Upper is a protocol layered on Engine.IO sessions (Socket.IO). Once set,
// the server calls it, inside the call that caused them, when a session
// opens, when a message arrives (instead of an EffMessage), when the upper
// layer's deadline for a session passes, and when a session closes. It may
// call back into the Server and add its own effects with Emit.
type Upper interface {
	Open(h Handle)
	Message(h Handle, binary bool, data []byte)
	Timer(h Handle, now int64)
	Close(h Handle, reason, desc string)
}

// SetUpper installs the upper layer.
func (s *Server) SetUpper(u Upper) { s.upper = u }

// Emit adds an effect of the upper layer.
func (s *Server) Emit(e Effect) { s.effects = append(s.effects, e) }

// Pending returns the number of effects not yet taken with Effects.
func (s *Server) Pending() int { return len(s.effects) }

// Now returns the time of the call in progress.
func (s *Server) Now() int64 { return s.now }

// SetTimer sets the upper layer's deadline for session h (0 clears it).
func (s *Server) SetTimer(h Handle, at int64) {
	if ss := s.get(h); ss != nil {
		ss.upperBy = at
		s.schedule(ss)
	}
}

// Writable reports whether a packet sent to session h now would go out at
// once rather than wait in a buffer: the test for volatile packets.
func (s *Server) Writable(h Handle) bool {
	ss := s.get(h)
	return ss != nil && (ss.ws != 0 || (ss.getConn != 0 && ss.probe != probeAnswered))
}

// Config returns the server's configuration.
func (s *Server) Config() Config { return s.cfg }

// Len returns the number of open sessions.
func (s *Server) Len() int { return s.open }

// Effects returns the effects produced since the previous call and resets
// the list. The returned slice is reused by the next call into the Server.
func (s *Server) Effects() []Effect {
	e := s.effects
	s.effects = s.effects[:0]
	return e
}

// Lookup returns the handle of the session with the given id, or 0.
func (s *Server) Lookup(sid string) Handle { return s.bySID[sid] }

// SID returns the id of session h, or "" if h is stale.
func (s *Server) SID(h Handle) string {
	if ss := s.get(h); ss != nil {
		return ss.id
	}
	return ""
}

// Protocol returns the protocol version (3 or 4) of session h, or 0.
func (s *Server) Protocol(h Handle) int {
	if ss := s.get(h); ss != nil {
		return int(ss.proto)
	}
	return 0
}

// TransportName returns "polling" or "websocket" for session h.
func (s *Server) TransportName(h Handle) string {
	if ss := s.get(h); ss != nil && ss.ws != 0 {
		return "websocket"
	}
	return "polling"
}

// get returns the open session h, or nil.
func (s *Server) get(h Handle) *session {
	if ss := s.slot(h); ss != nil && ss.state == stateOpen {
		return ss
	}
	return nil
}

// slot returns session h if it is open or lingering, or nil.
func (s *Server) slot(h Handle) *session {
	i := h.index()
	if i == 0 || int(i) >= len(s.sessions) {
		return nil
	}
	ss := &s.sessions[i]
	if ss.handle != h || ss.state == stateClosed {
		return nil
	}
	return ss
}

func (s *Server) emit(e Effect) { s.effects = append(s.effects, e) }

// newSession allocates a slot and an id (id, when the host chose one). It returns nil when the server is
// full.
func (s *Server) newSession(proto uint8, id string) *session {
	var i uint32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		if len(s.sessions) > maxSessions {
			return nil
		}
		s.sessions = append(s.sessions, session{})
		i = uint32(len(s.sessions) - 1)
	}
	ss := &s.sessions[i]
	gen := uint32(ss.handle)>>handleIndexBits + 1
	*ss = session{handle: Handle(gen<<handleIndexBits | i), state: stateOpen, proto: proto}
	if ss.handle == 0 {
		ss.handle = Handle(1<<handleIndexBits | i)
	}
	for ss.id = id; ss.id == ""; {
		ss.id = s.newID()
		if _, dup := s.bySID[ss.id]; dup {
			ss.id = ""
		}
	}
	s.bySID[ss.id] = ss.handle
	s.open++
	return ss
}

// release frees the slot and the id of a closed session.
func (s *Server) release(ss *session) {
	delete(s.bySID, ss.id)
	if ss.jsonp {
		delete(s.jsonp, ss.handle)
	}
	ss.state = stateClosed
	ss.queue, ss.arena = nil, nil
	s.free = append(s.free, ss.handle.index())
}

// MaxSessionIDLen bounds the length of a session id the host chooses.
const MaxSessionIDLen = 128

// validID accepts a host-chosen id: new, and made of the characters a
// query parameter carries unescaped.
func (s *Server) validID(id string) bool {
	if len(id) > MaxSessionIDLen {
		return false
	}
	if _, dup := s.bySID[id]; dup {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}

func (s *Server) newID() string {
	var raw [15]byte
	var out [20]byte
	s.cfg.Random(raw[:])
	base64.RawURLEncoding.Encode(out[:], raw[:])
	if s.cfg.IDPrefix != 0 {
		out[0] = s.cfg.IDPrefix
	}
	return string(out[:])
}

// NextDeadline returns the earliest time at which the host must call Tick,
// and false when no timer is pending.
func (s *Server) NextDeadline() (int64, bool) {
	for len(s.timers) > 0 {
		t := s.timers[0]
		if ss := s.slot(t.h); ss != nil && ss.deadline() == t.at {
			return t.at, true
		}
		heap.Pop(&s.timers)
	}
	return 0, false
}

// Tick runs every timer due at now: pings, ping timeouts, upgrade timeouts.
func (s *Server) Tick(now int64) {
	s.begin(now)
	for len(s.timers) > 0 && s.timers[0].at <= now {
		t := heap.Pop(&s.timers).(timer)
		if ss := s.slot(t.h); ss != nil && ss.deadline() == t.at {
			s.runTimers(ss, now)
		}
	}
}

// schedule records ss's current deadline in the heap. Entries made stale by
// a later change are skipped when they surface; when they outnumber the live
// ones, the heap is rebuilt, so a client that pings in a loop cannot grow it.
func (s *Server) schedule(ss *session) {
	if at := ss.deadline(); at != 0 && at != ss.scheduled {
		ss.scheduled = at
		heap.Push(&s.timers, timer{at: at, h: ss.handle})
		if len(s.timers) > 64+2*len(s.sessions) {
			s.compactTimers()
		}
	}
}

// compactTimers rebuilds the heap with one entry per pending deadline.
func (s *Server) compactTimers() {
	s.timers = s.timers[:0]
	for i := range s.sessions {
		ss := &s.sessions[i]
		if ss.state != stateClosed && ss.scheduled != 0 && ss.deadline() == ss.scheduled {
			s.timers = append(s.timers, timer{at: ss.scheduled, h: ss.handle})
		}
	}
	heap.Init(&s.timers)
}

type timer struct {
	at int64
	h  Handle
}

type timerHeap []timer

func (t timerHeap) Len() int           { return len(t) }
func (t timerHeap) Less(i, j int) bool { return t[i].at < t[j].at }
func (t timerHeap) Swap(i, j int)      { t[i], t[j] = t[j], t[i] }
func (t *timerHeap) Push(x any)        { *t = append(*t, x.(timer)) }
func (t *timerHeap) Pop() any {
	old := *t
	x := old[len(old)-1]
	*t = old[:len(old)-1]
	return x
}
