package hostnative

import (
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siohost/siohost/core/eio"
)

// ConnectionStateRecovery turns on the reference's connection state
// recovery: a socket whose transport was lost (not one that left or was
// disconnected on purpose) comes back, within MaxDisconnectionDuration,
// with its id, rooms and data, and receives the broadcasts it missed. Each
// broadcast event (not volatile, without ack) then carries an offset as
// its last argument, which the client sends back when it reconnects.
type ConnectionStateRecovery struct {
	// MaxDisconnectionDuration is how long the state of a disconnected
	// socket, and the broadcasts, are kept. Default 2 minutes.
	MaxDisconnectionDuration time.Duration
	// RunMiddlewares runs the connection middlewares for a recovered socket
	// too (the reference's skipMiddlewares: false); by default they are
	// skipped.
	RunMiddlewares bool
}

// recoverable reports whether a socket that disconnected with reason keeps
// its state, as in the reference.
func recoverable(reason string) bool {
	switch reason {
	case eio.ReasonTransportError, eio.ReasonTransportClose, eio.ReasonForcedClose,
		eio.ReasonPingTimeout, eio.ReasonShuttingDown, "forced server close":
		return true
	}
	return false
}

// sessionStore keeps, per namespace, the state of the sockets that may
// recover and the broadcasts they may have missed, for maxAge.
type sessionStore struct {
	maxAge time.Duration

	offsets atomic.Uint64 // the last offset given

	mu       sync.Mutex
	sessions map[string]*savedSession // by private id
	packets  []savedPacket            // oldest first
	swept    time.Time                // when expired sessions were last dropped
}

type savedSession struct {
	sid, pid string
	rooms    []string
	data     any
	at       time.Time
}

type savedPacket struct {
	offset string
	at     time.Time
	p      *EncodedPacket
	rooms  []string
	except []string
}

func newSessionStore(opts *ConnectionStateRecovery) *sessionStore {
	if opts == nil {
		return nil
	}
	maxAge := opts.MaxDisconnectionDuration
	if maxAge <= 0 {
		maxAge = 2 * time.Minute
	}
	return &sessionStore{maxAge: maxAge, sessions: map[string]*savedSession{}}
}

// nextOffset names the next broadcast. Offsets only have to be unique
// within the store, which dies with the server (and its sessions with it),
// so a counter does: no random bytes per broadcast.
func (st *sessionStore) nextOffset() string {
	return strconv.FormatUint(st.offsets.Add(1), 36)
}

// trimLocked forgets the packets older than maxAge (the oldest are first,
// so this costs nothing when none expired) and, now and then, the expired
// sessions (restore checks their age anyway).
func (st *sessionStore) trimLocked(now time.Time) {
	limit := now.Add(-st.maxAge)
	n := 0
	for n < len(st.packets) && st.packets[n].at.Before(limit) {
		st.packets[n] = savedPacket{}
		n++
	}
	st.packets = st.packets[n:]
	if now.Sub(st.swept) < st.maxAge/4 {
		return
	}
	st.swept = now
	for pid, s := range st.sessions {
		if s.at.Before(limit) {
			delete(st.sessions, pid)
		}
	}
}

// record keeps a broadcast packet whose last argument is offset.
func (st *sessionStore) record(offset string, p *EncodedPacket, opts BroadcastOptions) {
	now := time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.trimLocked(now)
	st.packets = append(st.packets, savedPacket{offset: offset, at: now, p: p,
		rooms: slices.Clone(opts.Rooms), except: slices.Clone(opts.Except)})
}

// persist keeps the state of a socket that may come back.
func (st *sessionStore) persist(s *savedSession) {
	s.at = time.Now()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.trimLocked(s.at)
	st.sessions[s.pid] = s
}

// restore takes the state saved under pid, with the packets broadcast
// after offset that its rooms would have received. It fails, as the
// reference does, when the session expired or the offset is unknown.
func (st *sessionStore) restore(pid, offset string) (*savedSession, []*EncodedPacket, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.trimLocked(time.Now())
	s := st.sessions[pid]
	if s == nil {
		return nil, nil, false
	}
	delete(st.sessions, pid)
	if time.Since(s.at) > st.maxAge {
		return nil, nil, false
	}
	i := slices.IndexFunc(st.packets, func(p savedPacket) bool { return p.offset == offset })
	if i < 0 {
		return nil, nil, false
	}
	var missed []*EncodedPacket
	for _, p := range st.packets[i+1:] {
		if reaches(s.rooms, p.rooms, p.except) {
			missed = append(missed, p.p)
		}
	}
	return s, missed, true
}

// reaches reports whether a broadcast to rooms minus except would have
// reached a socket in socketRooms.
func reaches(socketRooms, rooms, except []string) bool {
	in := len(rooms) == 0
	for _, r := range socketRooms {
		if slices.Contains(except, r) {
			return false
		}
		if !in && slices.Contains(rooms, r) {
			in = true
		}
	}
	return in
}

// recoveryAuth reads the private id and offset a recovering client adds
// to its CONNECT payload.
func recoveryAuth(auth []byte) (pid, offset string, ok bool) {
	if len(auth) == 0 {
		return "", "", false
	}
	var v struct {
		PID    *string `json:"pid"`
		Offset *string `json:"offset"`
	}
	if json.Unmarshal(auth, &v) != nil || v.PID == nil || v.Offset == nil {
		return "", "", false
	}
	return *v.PID, *v.Offset, true
}

// appendOffset adds offset as the last element of the raw JSON array args.
func appendOffset(args json.RawMessage, offset string) json.RawMessage {
	out := make([]byte, 0, len(args)+len(offset)+3)
	i := len(args) - 1 // the closing bracket
	for i > 0 && args[i] != ']' {
		i--
	}
	out = append(out, args[:i]...)
	empty := true
	for _, c := range args[1:i] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			empty = false
			break
		}
	}
	if !empty {
		out = append(out, ',')
	}
	out = eio.AppendJSONString(out, offset)
	return append(out, ']')
}
