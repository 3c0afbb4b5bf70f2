package hostnative

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// Manager is a Socket.IO client connection to one server (socket.io-client's
// Manager): one Engine.IO session at a time, multiplexing the namespaces of
// its Sockets, reconnecting when the session is lost. Every method is safe
// for concurrent use. The application's handlers (events, connects,
// disconnects, the Manager's own events) run one at a time, in order, on a
// goroutine of the Manager that lives while some are pending; they may call
// any method, and may wait for an acknowledgement.
type Manager struct {
	url    string
	opts   ManagerOptions
	auth   authSource
	epoch  time.Time
	logger *slog.Logger

	mu          sync.Mutex
	cl          *sio.Client
	eng         *mgrEngine // the current session, opened or opening; nil when none
	rec         *sio.Reconnection
	recTimer    *time.Timer
	ackTimer    *time.Timer
	ackAt       int64 // when ackTimer fires, 0 when stopped
	attempt     int   // the reconnection attempt of the session opening, 0 for the first
	sockets     map[string]*ClientSocket
	acks        map[ackKey]func(ackResult) // run under mu: must not block
	engErr      error                      // the engine failure being reported as CEffConnectError
	closeErr    error                      // the engine close being reported as CEffDisconnect
	lastFailure *ClientConnectError        // the last failed open, until one succeeds
	closed      bool
	h           managerHandlers

	qmu      sync.Mutex
	queue    []func()
	qRunning bool
}

type ackKey struct {
	nsp string
	id  int64
}

// mgrEngine is one Engine.IO session of a Manager.
type mgrEngine struct {
	ec      *EngineClient
	cancel  context.CancelFunc
	opened  bool
	closed  bool // closed before Open returned
	reason  string
	err     error
	pending []mgrMsg // messages received before Open returned
}

type mgrMsg struct {
	data   []byte
	binary bool
}

// NewManager returns a Manager for the Socket.IO server at rawURL (http,
// https, ws or wss). It connects nothing before a Socket's Connect.
func NewManager(rawURL string, opts ManagerOptions) (*Manager, error) {
	if opts.Path == "" {
		opts.Path = "/socket.io"
	}
	if opts.Timeout == 0 {
		opts.Timeout = defaultClientConnectTimeout
	}
	m := &Manager{
		url:     rawURL,
		opts:    opts,
		epoch:   time.Now(),
		logger:  opts.Logger,
		cl:      sio.NewClient(),
		sockets: map[string]*ClientSocket{},
		acks:    map[ackKey]func(ackResult){},
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	// Check the URL and options once, as every session will use them.
	if _, err := NewEngineClient(rawURL, m.engineOptions()); err != nil {
		return nil, err
	}
	var err error
	if m.auth, err = newAuthSource(opts.Auth); err != nil {
		return nil, err
	}
	jitter := opts.RandomizationFactor
	if jitter == 0 {
		jitter = sio.DefaultRandomizationFactor
	}
	m.rec = &sio.Reconnection{
		Backoff: sio.Backoff{
			Min:    opts.ReconnectionDelay.Milliseconds(),
			Max:    opts.ReconnectionDelayMax.Milliseconds(),
			Jitter: jitter,
			Random: rand.Float64,
		},
		Attempts: opts.ReconnectionAttempts,
		Disabled: opts.NoReconnection,
	}
	if opts.ReconnectionDelay > 0 && m.rec.Backoff.Min == 0 {
		m.rec.Backoff.Min = 1
	}
	if opts.ReconnectionDelayMax > 0 && m.rec.Backoff.Max == 0 {
		m.rec.Backoff.Max = 1
	}
	m.recTimer = time.AfterFunc(time.Hour, m.reconnect)
	m.recTimer.Stop()
	m.ackTimer = time.AfterFunc(time.Hour, m.onAckTimer)
	m.ackTimer.Stop()
	return m, nil
}

func (m *Manager) engineOptions() EngineClientOptions {
	return EngineClientOptions{
		Path:            m.opts.Path,
		Transports:      m.opts.Transports,
		NoUpgrade:       m.opts.NoUpgrade,
		RememberUpgrade: m.opts.RememberUpgrade,
		Query:           m.opts.Query,
		ExtraHeaders:    m.opts.ExtraHeaders,
		HTTPClient:      m.opts.HTTPClient,
		TLSConfig:       m.opts.TLSConfig,
		Protocol:        m.opts.Protocol,
		ForceBase64:     m.opts.ForceBase64,
		ConnectTimeout:  m.opts.Timeout,
		Logger:          m.opts.Logger,
	}
}

// now is the sio client's clock: milliseconds since the Manager's creation,
// from 1.
func (m *Manager) now() int64 { return time.Since(m.epoch).Milliseconds() + 1 }

// Socket returns the Socket of namespace nsp ("" is "/"), the same one for
// every call with the same name. It connects nothing before Connect.
func (m *Manager) Socket(nsp string) *ClientSocket {
	if nsp == "" {
		nsp = "/"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sockets[nsp]
	if s == nil {
		// An invalid name fails at Connect, with the reason.
		_ = m.cl.Declare(nsp)
		s = &ClientSocket{m: m, nsp: nsp, auth: m.auth, handlers: map[string]func(*ClientEvent){}}
		m.sockets[nsp] = s
	}
	return s
}

// Transport returns the name of the current session's transport,
// "polling" or "websocket", or "" when there is no open session.
func (m *Manager) Transport() string {
	m.mu.Lock()
	me := m.eng
	opened := me != nil && me.opened
	m.mu.Unlock()
	if !opened {
		return ""
	}
	return me.ec.Transport()
}

// Close disconnects every namespace, stops reconnecting and closes the
// Engine.IO session. The Manager cannot be used afterwards.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	for name := range m.sockets {
		m.cl.Disconnect(m.now(), name)
		m.applyLocked()
	}
	m.closed = true
	m.idleLocked()
	m.ackTimer.Stop()
	m.failWaitersLocked(ErrManagerClosed)
	for k, fn := range m.acks {
		delete(m.acks, k)
		fn(ackResult{err: ErrManagerClosed})
	}
	for _, s := range m.sockets {
		for _, p := range s.retryQ {
			if p.done != nil && !p.pending {
				p.done(ackResult{err: ErrManagerClosed})
			}
		}
		s.retryQ = nil
	}
	forgetManager(m)
	return nil
}

// openLocked starts a new Engine.IO session.
func (m *Manager) openLocked() {
	ec, err := NewEngineClient(m.url, m.engineOptions())
	if err != nil { // checked by NewManager: cannot happen
		m.logger.Error("siohost: manager", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	me := &mgrEngine{ec: ec, cancel: cancel}
	m.eng = me
	ec.OnMessage(func(data []byte, binary bool) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.eng != me {
			return
		}
		if !me.opened {
			me.pending = append(me.pending, mgrMsg{data, binary})
			return
		}
		m.cl.Message(m.now(), binary, data)
		m.applyLocked()
	})
	ec.OnUpgrade(func(transport string) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.eng == me && m.h.upgrade != nil {
			fn := m.h.upgrade
			m.enqueue(func() { fn(transport) })
		}
	})
	ec.OnClose(func(reason string, err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.eng != me {
			return
		}
		if !me.opened {
			me.closed, me.reason, me.err = true, reason, err
			return
		}
		m.engineClosedLocked(reason, err)
	})
	go m.runOpen(ctx, me)
}

// runOpen opens the session of me and reports the outcome.
func (m *Manager) runOpen(ctx context.Context, me *mgrEngine) {
	err := me.ec.Open(ctx)
	var auths map[string][]byte
	var authErrs map[string]error
	if err == nil {
		auths, authErrs = m.resolveAuths(ctx, me)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.eng != me {
		return
	}
	if err != nil {
		m.openFailedLocked(err)
		return
	}
	me.opened = true
	m.lastFailure = nil
	attempt := m.attempt
	m.attempt = 0
	m.rec.Opened()
	now := m.now()
	for nsp, auth := range auths {
		_ = m.cl.Connect(now, nsp, auth, nil)
	}
	for nsp, aerr := range authErrs {
		if s := m.sockets[nsp]; s != nil {
			m.cl.Disconnect(now, nsp)
			m.applyLocked()
			s.wakeLocked(&ClientConnectError{Message: "auth: " + aerr.Error(), Err: aerr})
		}
	}
	if fn := m.h.open; fn != nil {
		m.enqueue(fn)
	}
	if fn := m.h.reconnect; fn != nil && attempt > 0 {
		m.enqueue(func() { fn(attempt) })
	}
	m.cl.EngineOpen(now, me.ec.Protocol(), me.ec.ID())
	for _, s := range m.sockets {
		s.authFresh = false
	}
	m.applyLocked()
	for _, msg := range me.pending {
		if m.eng != me {
			return
		}
		m.cl.Message(m.now(), msg.binary, msg.data)
		m.applyLocked()
	}
	me.pending = nil
	if m.eng != me {
		return
	}
	if me.closed {
		m.engineClosedLocked(me.reason, me.err)
	} else if !m.anyActiveLocked() {
		m.idleLocked()
	}
}

// resolveAuths runs the AuthFuncs of the namespaces about to connect,
// without holding the lock (they may do I/O).
func (m *Manager) resolveAuths(ctx context.Context, me *mgrEngine) (map[string][]byte, map[string]error) {
	type job struct {
		nsp string
		src authSource
	}
	var jobs []job
	m.mu.Lock()
	if m.eng == me {
		for name, s := range m.sockets {
			if s.auth.fn != nil && !s.authFresh && m.cl.Active(name) && !m.cl.Connected(name) {
				jobs = append(jobs, job{name, s.auth})
			}
		}
	}
	m.mu.Unlock()
	if len(jobs) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	defer cancel()
	auths, errs := map[string][]byte{}, map[string]error{}
	for _, j := range jobs {
		raw, err := j.src.resolve(ctx)
		if err != nil {
			errs[j.nsp] = err
		} else {
			auths[j.nsp] = raw
		}
	}
	return auths, errs
}

// openFailedLocked handles a session that could not be opened: the
// namespaces waiting for it report connect_error, and the next attempt is
// scheduled, or the Manager gives up.
func (m *Manager) openFailedLocked(err error) {
	me := m.eng
	m.eng = nil
	me.cancel()
	now := m.now()
	m.engErr = err
	m.lastFailure = engineFailure(err)
	m.cl.EngineError(now, m.lastFailure.Message)
	m.applyLocked()
	m.engErr = nil
	if fn := m.h.err; fn != nil {
		m.enqueue(func() { fn(err) })
	}
	if fn := m.h.reconnectErr; fn != nil && m.attempt > 0 {
		m.enqueue(func() { fn(err) })
	}
	m.attempt = 0
	if m.closed || !m.anyActiveLocked() {
		return
	}
	if at, ok := m.rec.Failed(now); ok {
		m.scheduleLocked(at)
		return
	}
	if fn := m.h.reconnectFailed; fn != nil && m.rec.Exhausted() {
		m.enqueue(fn)
	}
	m.giveUpLocked(engineFailure(err))
}

// engineClosedLocked handles the end of the current session.
func (m *Manager) engineClosedLocked(reason string, err error) {
	m.eng.cancel()
	m.eng = nil
	now := m.now()
	desc := ""
	var ee *EngineError
	if errors.As(err, &ee) {
		desc = ee.Description
	}
	m.closeErr = err
	m.cl.EngineClose(now, reason, desc)
	m.applyLocked()
	m.closeErr = nil
	if fn := m.h.close; fn != nil {
		details := closeDetails(err)
		m.enqueue(func() { fn(reason, details) })
	}
	if m.closed || !m.anyActiveLocked() {
		return
	}
	if at, ok := m.rec.Closed(now, reason); ok {
		m.scheduleLocked(at)
	} else {
		m.giveUpLocked(&ClientConnectError{Message: reason, Description: desc, Err: err})
	}
}

// giveUpLocked leaves the namespaces still waiting for a connection: their
// Connect calls return err.
func (m *Manager) giveUpLocked(err error) {
	now := m.now()
	for name, s := range m.sockets {
		if m.cl.Active(name) && !m.cl.Connected(name) {
			m.cl.Disconnect(now, name)
			m.applyLocked()
			s.wakeLocked(err)
		}
	}
	m.idleLocked()
}

func (m *Manager) scheduleLocked(at int64) {
	d := time.Duration(at-m.now()) * time.Millisecond
	m.recTimer.Reset(max(d, 0))
}

// reconnect runs when the reconnection timer fires.
func (m *Manager) reconnect() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.eng != nil {
		return
	}
	now := m.now()
	at, ok := m.rec.NextDeadline()
	if !ok {
		return
	}
	attempt, due := m.rec.Due(now)
	if !due {
		m.scheduleLocked(at)
		return
	}
	if !m.anyActiveLocked() {
		m.rec.Stop()
		return
	}
	m.attempt = attempt
	if fn := m.h.reconnectAttempt; fn != nil {
		m.enqueue(func() { fn(attempt) })
	}
	m.openLocked()
}

func (m *Manager) anyActiveLocked() bool {
	for name := range m.sockets {
		if m.cl.Active(name) {
			return true
		}
	}
	return false
}

// ensureOpenLocked starts a session when an active namespace needs one.
func (m *Manager) ensureOpenLocked() {
	if m.eng == nil && !m.rec.Scheduled() && m.anyActiveLocked() {
		m.openLocked()
	}
}

// idleLocked stops everything once no namespace is active.
func (m *Manager) idleLocked() {
	if m.anyActiveLocked() && !m.closed {
		return
	}
	m.rec.Stop()
	m.recTimer.Stop()
	if me := m.eng; me != nil {
		m.eng = nil
		me.cancel()
		_ = me.ec.Close()
		if me.opened {
			m.cl.EngineClose(m.now(), eio.ReasonForcedClose, "")
			m.applyLocked()
		}
	}
}

// armAcksLocked sets the ack timer for the sio client's next deadline.
func (m *Manager) armAcksLocked() {
	at, ok := m.cl.NextDeadline()
	if !ok || (m.ackAt != 0 && m.ackAt <= at) {
		return
	}
	m.ackAt = at
	m.ackTimer.Reset(max(time.Duration(at-m.now())*time.Millisecond, 0))
}

// onAckTimer fails the acks whose time is up.
func (m *Manager) onAckTimer() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ackAt = 0
	if m.closed {
		return
	}
	m.cl.Tick(m.now())
	m.applyLocked()
	m.armAcksLocked()
}
