package hostnative

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// ManagerOptions configures a Manager. Zero values mean the defaults of
// socket.io-client 4.
type ManagerOptions struct {
	// Path is the server's Socket.IO path. Default "/socket.io".
	Path string
	// Transports the client may use, among "polling" and "websocket", in
	// order of preference. Default polling then websocket.
	Transports []string
	// Auth is the CONNECT payload of every namespace: a json.RawMessage
	// (or []byte) holding a JSON object, or any value that encodes to one.
	Auth any
	// Query is added to the query string of every Engine.IO request.
	Query url.Values
	// ExtraHeaders are sent with every polling request and WebSocket
	// handshake.
	ExtraHeaders http.Header
	// HTTPClient sends the polling requests (see EngineClientOptions).
	HTTPClient *http.Client
	// NoReconnection turns automatic reconnection off (socket.io-client's
	// reconnection: false). Reconnection is on by default.
	NoReconnection bool
	// ReconnectionAttempts bounds the reconnection attempts in a row; 0
	// means unlimited (the default).
	ReconnectionAttempts int
	// ReconnectionDelay is the first reconnection delay (default 1 s),
	// doubled at each attempt up to ReconnectionDelayMax (default 5 s).
	ReconnectionDelay    time.Duration
	ReconnectionDelayMax time.Duration
	// RandomizationFactor moves each delay by up to that fraction of it:
	// default 0.5; negative: no randomization.
	RandomizationFactor float64
	// Timeout bounds each Engine.IO handshake. Default 20 s.
	Timeout time.Duration
	// Logger receives recovered handler panics and protocol errors.
	// Default slog.Default().
	Logger *slog.Logger
}

// ErrManagerClosed is returned by the calls made after Manager.Close.
var ErrManagerClosed = errors.New("siohost: manager closed")

// ClientConnectError is what Connect returns when the namespace could not
// be joined: the server refused it (a middleware error: Message, and Data
// the raw JSON of its data, nil when none), or the Engine.IO session could
// not be opened (Err says why).
type ClientConnectError struct {
	Message string
	Data    json.RawMessage
	Err     error
}

func (e *ClientConnectError) Error() string {
	if e.Err != nil {
		return "siohost: connect error: " + e.Err.Error()
	}
	return "siohost: connect error: " + e.Message
}

func (e *ClientConnectError) Unwrap() error { return e.Err }

// Manager is a Socket.IO client connection to one server (socket.io-client's
// Manager): one Engine.IO session at a time, multiplexing the namespaces of
// its Sockets, reconnecting when the session is lost. Every method is safe
// for concurrent use. The application's handlers (events, disconnects) run
// one at a time, in order, on a goroutine of the Manager that lives while
// some are pending; they may call any method.
type Manager struct {
	url    string
	opts   ManagerOptions
	auth   []byte
	epoch  time.Time
	logger *slog.Logger

	mu      sync.Mutex
	cl      *sio.Client
	eng     *mgrEngine // the current session, opened or opening; nil when none
	rec     *sio.Reconnection
	timer   *time.Timer
	sockets map[string]*ClientSocket
	acks    map[ackKey]chan ackResult
	lastErr error // the engine failure being reported as CEffConnectError
	closed  bool

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
	desc    string
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
		acks:    map[ackKey]chan ackResult{},
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	// Check the URL and options once, as every session will use them.
	if _, err := NewEngineClient(rawURL, m.engineOptions()); err != nil {
		return nil, err
	}
	if opts.Auth != nil {
		var raw []byte
		switch a := opts.Auth.(type) {
		case json.RawMessage:
			raw = a
		case []byte:
			raw = a
		default:
			b, err := json.Marshal(a)
			if err != nil {
				return nil, fmt.Errorf("siohost: manager auth: %w", err)
			}
			raw = b
		}
		if !json.Valid(raw) || len(raw) == 0 || raw[0] != '{' {
			return nil, sio.ErrInvalidAuth
		}
		m.auth = append([]byte(nil), raw...)
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
	return m, nil
}

func (m *Manager) engineOptions() EngineClientOptions {
	return EngineClientOptions{
		Path:           m.opts.Path,
		Transports:     m.opts.Transports,
		Query:          m.opts.Query,
		ExtraHeaders:   m.opts.ExtraHeaders,
		HTTPClient:     m.opts.HTTPClient,
		ConnectTimeout: m.opts.Timeout,
		Logger:         m.opts.Logger,
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
		s = &ClientSocket{m: m, nsp: nsp, handlers: map[string]func(*ClientEvent){}}
		m.sockets[nsp] = s
	}
	return s
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
	m.failWaitersLocked(ErrManagerClosed)
	for k, ch := range m.acks {
		delete(m.acks, k)
		ch <- ackResult{err: ErrManagerClosed}
	}
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
	ec.OnClose(func(reason string, err error) {
		var desc string
		var ee *EngineError
		if errors.As(err, &ee) {
			desc = ee.Description
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.eng != me {
			return
		}
		if !me.opened {
			me.closed, me.reason, me.desc = true, reason, desc
			return
		}
		m.engineClosedLocked(reason, desc)
	})
	go func() {
		err := ec.Open(ctx)
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.eng != me {
			return
		}
		if err != nil {
			m.eng = nil
			cancel()
			now := m.now()
			m.lastErr = err
			m.cl.EngineError(now, err.Error())
			m.applyLocked()
			m.lastErr = nil
			if at, ok := m.rec.Failed(now); ok {
				m.scheduleLocked(at)
			} else {
				m.failWaitersLocked(&ClientConnectError{Message: err.Error(), Err: err})
			}
			return
		}
		me.opened = true
		m.rec.Opened()
		m.cl.EngineOpen(m.now(), ec.Protocol(), ec.ID())
		m.applyLocked()
		for _, msg := range me.pending {
			if m.eng != me {
				return
			}
			m.cl.Message(m.now(), msg.binary, msg.data)
			m.applyLocked()
		}
		me.pending = nil
		if me.closed && m.eng == me {
			m.engineClosedLocked(me.reason, me.desc)
		}
	}()
}

// engineClosedLocked handles the end of the current session.
func (m *Manager) engineClosedLocked(reason, desc string) {
	m.eng.cancel()
	m.eng = nil
	now := m.now()
	m.cl.EngineClose(now, reason, desc)
	m.applyLocked()
	if m.closed || !m.anyActiveLocked() {
		return
	}
	if at, ok := m.rec.Closed(now, reason); ok {
		m.scheduleLocked(at)
	} else {
		m.failWaitersLocked(&ClientConnectError{Message: reason})
	}
}

func (m *Manager) scheduleLocked(at int64) {
	if m.timer != nil {
		m.timer.Stop()
	}
	d := time.Duration(at-m.now()) * time.Millisecond
	m.timer = time.AfterFunc(max(d, 0), m.reconnect)
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
	if _, due := m.rec.Due(now); !due {
		m.scheduleLocked(at)
		return
	}
	if m.anyActiveLocked() {
		m.openLocked()
	} else {
		m.rec.Stop()
	}
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
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
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

// applyLocked carries out the sio client's effects.
func (m *Manager) applyLocked() {
	for _, e := range m.cl.Effects() {
		switch e.Kind {
		case sio.CEffSend:
			if m.eng != nil {
				_ = m.eng.ec.Send(e.Data, e.Binary)
			}
		case sio.CEffCloseEngine:
			if me := m.eng; me != nil {
				m.eng = nil
				me.cancel()
				_ = me.ec.Close()
			}
			if e.Text == eio.ReasonParseError && !m.closed {
				if at, ok := m.rec.Closed(m.now(), e.Text); ok {
					m.scheduleLocked(at)
				}
			} else {
				m.rec.Stop()
			}
		case sio.CEffConnected:
			if s := m.sockets[e.Nsp]; s != nil {
				s.id, s.connected = e.Text, true
				s.wakeLocked(nil)
			}
		case sio.CEffConnectError:
			if s := m.sockets[e.Nsp]; s != nil {
				ce := &ClientConnectError{Message: e.Text, Err: m.lastErr}
				if e.Data != nil {
					ce.Data = append(json.RawMessage(nil), e.Data...)
				}
				s.wakeLocked(ce)
			}
		case sio.CEffEvent:
			s := m.sockets[e.Nsp]
			if s == nil {
				continue
			}
			fn := s.handlers[e.Name]
			if fn == nil {
				continue
			}
			ev := &ClientEvent{Socket: s, Name: e.Name, data: append([]byte(nil), e.Data...), attachments: cloneAttachments(e.Attachments), id: e.ID}
			m.enqueue(func() { fn(ev) })
		case sio.CEffAck:
			if ch := m.acks[ackKey{e.Nsp, e.ID}]; ch != nil {
				delete(m.acks, ackKey{e.Nsp, e.ID})
				ch <- ackResult{data: append([]byte(nil), e.Data...), attachments: cloneAttachments(e.Attachments)}
			}
		case sio.CEffAckFailed:
			if ch := m.acks[ackKey{e.Nsp, e.ID}]; ch != nil {
				delete(m.acks, ackKey{e.Nsp, e.ID})
				err := ErrDisconnected
				if e.Text == sio.AckTimedOut {
					err = ErrAckTimeout
				}
				ch <- ackResult{err: err}
			}
		case sio.CEffDisconnect:
			if s := m.sockets[e.Nsp]; s != nil {
				s.id, s.connected = "", false
				if !sio.ReconnectAfter(e.Text) {
					s.wakeLocked(&ClientConnectError{Message: e.Text})
				}
				if fn := s.onDisconnect; fn != nil {
					reason, desc := e.Text, e.Desc
					m.enqueue(func() { fn(reason, desc) })
				}
			}
		case sio.CEffError:
			m.logger.Warn("siohost: socket.io client", "err", e.Err)
		}
	}
}

func (m *Manager) failWaitersLocked(err error) {
	for _, s := range m.sockets {
		s.wakeLocked(err)
	}
}

func cloneAttachments(in [][]byte) [][]byte {
	if len(in) == 0 {
		return nil
	}
	out := make([][]byte, len(in))
	for i, a := range in {
		out[i] = append([]byte(nil), a...)
	}
	return out
}

// enqueue runs fn after the handlers queued before it, on the Manager's
// handler goroutine.
func (m *Manager) enqueue(fn func()) {
	m.qmu.Lock()
	m.queue = append(m.queue, fn)
	if m.qRunning {
		m.qmu.Unlock()
		return
	}
	m.qRunning = true
	m.qmu.Unlock()
	go m.runQueue()
}

func (m *Manager) runQueue() {
	for {
		m.qmu.Lock()
		if len(m.queue) == 0 {
			m.queue = nil
			m.qRunning = false
			m.qmu.Unlock()
			return
		}
		fn := m.queue[0]
		m.queue[0] = nil
		m.queue = m.queue[1:]
		m.qmu.Unlock()
		m.call(fn)
	}
}

func (m *Manager) call(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			m.logger.Error("siohost: client handler panicked", "panic", r)
		}
	}()
	fn()
}
