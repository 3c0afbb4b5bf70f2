package hostnative

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/siohost/siohost/core/abi"
)

// Manager is a Socket.IO client connection to one server (socket.io-client's
// Manager): one Engine.IO session at a time, multiplexing the namespaces of
// its Sockets, reconnecting when the session is lost. Every method is safe
// for concurrent use. The application's handlers (events, connects,
// disconnects, the Manager's own events) run one at a time, in order, on a
// goroutine of the Manager that lives while some are pending; they may call
// any method, and may wait for an acknowledgement.
//
// The protocol (Engine.IO sessions, namespaces, acks, reconnection) runs in
// a client core behind abi.ClientBackend, natively by default or in
// WebAssembly (ManagerOptions.Core); the Manager carries out its effects
// with its transports and timer, and keeps what belongs to the
// application: handlers, ack callbacks, the retry queues, AuthFuncs.
type Manager struct {
	url    string
	opts   ManagerOptions
	auth   authSource
	epoch  time.Time
	logger *slog.Logger
	ep     engineEndpoint

	mu        sync.Mutex
	core      abi.ClientBackend
	handle    uint32 // the client in core
	io        *clientIO
	timer     deadlineTimer // at the core's next deadline
	opening   bool          // a session is opening
	opened    bool          // a session is open
	transport string        // the open session's transport
	reconnN   int           // the attempts the opening session took, for OnReconnect
	sockets   map[string]*ClientSocket
	acks      map[ackKey]func(ackResult) // run under mu: must not block
	engErr    error                      // the failed open being reported
	closeErr  error                      // the session close being reported
	cause     error                      // the Go error of the failure being reported
	refusal   string                     // the error effect of a refused command
	giveUp    *ClientConnectError        // the core will not try again: waiting Connects fail with it
	pend      clientFlush                // frames queued by an apply whose caller flushes later
	// lastFailure is the last failed open, until one succeeds.
	lastFailure *ClientConnectError
	closed      bool
	h           managerHandlers

	qmu      sync.Mutex
	qcond    *sync.Cond // wakes readers throttled by a long queue
	queue    []func()
	qRunning bool
	qStop    bool // closed: throttled readers go on
}

type ackKey struct {
	nsp string
	id  int64
}

// ClientCoreFactory makes the client core of a Manager (see
// ManagerOptions.Core); hostwasm's Module.NewClientCore is one.
type ClientCoreFactory func() (abi.ClientBackend, error)

// nativeClientCore is the default: the core in this process.
func nativeClientCore() (abi.ClientBackend, error) { return abi.NewClientCore(randomBytes), nil }

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
		sockets: map[string]*ClientSocket{},
		acks:    map[ackKey]func(ackResult){},
	}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	eo := m.engineOptions()
	ep, err := parseEngineURL(rawURL, &eo)
	if err != nil {
		return nil, err
	}
	co, err := m.clientOptions(&eo, ep)
	if err != nil {
		return nil, err
	}
	if m.auth, err = newAuthSource(opts.Auth); err != nil {
		return nil, err
	}
	factory := opts.Core
	if factory == nil {
		factory = nativeClientCore
	}
	if m.core, err = factory(); err != nil {
		return nil, err
	}
	m.ep = ep
	m.qcond = sync.NewCond(&m.qmu)
	m.io = newClientIO(&m.mu, m, ep, opts.HTTPClient, opts.TLSConfig, opts.ExtraHeaders, max(opts.Timeout, 0))
	m.io.deflate = eo.deflateOffer()
	m.timer = newDeadlineTimer(m.onTimer)
	m.handle = m.core.Create(m.now(), co)
	if _, err := m.core.Effects(); err != nil {
		_ = m.core.Close()
		return nil, err
	}
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

		PerMessageDeflate:   m.opts.PerMessageDeflate,
		NoPerMessageDeflate: m.opts.NoPerMessageDeflate,
	}
}

// clientOptions checks the options as an EngineClient would and turns
// them into the core's.
func (m *Manager) clientOptions(eo *EngineClientOptions, ep engineEndpoint) (abi.ClientOptions, error) {
	cfg, err := eo.coreConfig()
	if err != nil {
		return abi.ClientOptions{}, err
	}
	o := abi.ClientOptions{
		Transports:      uint32(cfg.Transports),
		NoUpgrade:       !cfg.Upgrade,
		Protocol3:       cfg.Protocol == 3,
		Base64:          cfg.B64,
		RememberUpgrade: cfg.RememberUpgrade || m.opts.RememberUpgrade,
		PriorWebSocket:  cfg.PriorWebSocketSuccess,
		NoReconnection:  m.opts.NoReconnection,
		Attempts:        clampU32(int64(m.opts.ReconnectionAttempts)),
		Delay:           delayMillis(m.opts.ReconnectionDelay),
		DelayMax:        delayMillis(m.opts.ReconnectionDelayMax),
	}
	switch m.opts.Parser {
	case ParserJSON:
	case ParserMsgpack:
		if o.Protocol3 {
			return abi.ClientOptions{}, errors.New("siohost: ParserMsgpack needs Engine.IO protocol 4 (socket.io-msgpack-parser 3 speaks the Socket.IO v5 protocol)")
		}
		o.Parser = abi.ParserMsgpack
	default:
		return abi.ClientOptions{}, fmt.Errorf("siohost: unknown parser %d", m.opts.Parser)
	}
	if cfg.ConnectTimeout == 0 {
		o.NoTimeout = true
	} else {
		o.Timeout = clampU32(cfg.ConnectTimeout)
	}
	if m.opts.RememberUpgrade {
		if v, ok := priorWebSocket.Load(ep.key); ok && v.(bool) {
			o.PriorWebSocket = true
		}
	}
	switch f := m.opts.RandomizationFactor; {
	case f < 0:
		o.JitterGiven = true
	case f > 0:
		o.JitterGiven, o.JitterMillionths = true, uint32(math.Round(min(f, 1)*1e6))
	}
	return o, nil
}

func clampU32(v int64) uint32 { return uint32(min(max(v, 0), math.MaxUint32)) }

// delayMillis is a reconnection delay in ms: 0 for the default, at least 1
// for any other.
func delayMillis(d time.Duration) uint32 {
	if d <= 0 {
		return 0
	}
	return clampU32(max(d.Milliseconds(), 1))
}

// now is the core's clock: milliseconds since the Manager's creation,
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
		s = &ClientSocket{m: m, nsp: nsp, auth: m.auth, handlers: map[string]func(*ClientEvent){}}
		m.sockets[nsp] = s
	}
	return s
}

// Transport returns the name of the current session's transport,
// "polling" or "websocket", or "" when there is no open session.
func (m *Manager) Transport() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.opened {
		return ""
	}
	return m.transport
}

// Close disconnects every namespace, stops reconnecting and closes the
// Engine.IO session. The Manager cannot be used afterwards.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	// What waits hears that the Manager closed, before the core's own
	// reports of the disconnects.
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
	for name, s := range m.sockets {
		if s.active {
			s.active = false
			m.core.Disconnect(m.now(), m.handle, name)
		}
	}
	m.core.Destroy(m.now(), m.handle)
	fl := m.applyLocked()
	m.timer.stop()
	m.mu.Unlock()
	fl.flush()
	forgetManager(m)
	go m.release()
	return nil
}

// release frees the transports once the last connections have said
// goodbye (within clientCloseGrace), then the core.
func (m *Manager) release() {
	m.qmu.Lock()
	m.qStop = true
	m.qcond.Broadcast()
	m.qmu.Unlock()
	grace := time.AfterFunc(clientCloseGrace, m.io.abort)
	m.io.release()
	grace.Stop()
	m.mu.Lock()
	_ = m.core.Close()
	m.mu.Unlock()
}

// rearmLocked points the timer at the core's next deadline.
func (m *Manager) rearmLocked() {
	d, ok := m.core.NextDeadline()
	m.timer.set(d, ok && !m.closed, m.now())
}

func (m *Manager) onTimer() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.timer.fired()
	m.core.Tick(m.now())
	fl := m.applyLocked()
	m.mu.Unlock()
	fl.flush()
}

// quietLocked reports whether nothing goes on: no session, no
// reconnection or ack timer, no connection in flight.
func (m *Manager) quietLocked() bool {
	_, pending := m.core.NextDeadline()
	return !m.opened && !m.opening && !pending && m.io.idle()
}

// The connections' reports (clientSink), under m.mu.

// Once the Manager is closed, they are dropped: the core's handle is
// destroyed, and the core itself (a WebAssembly instance, say) may be
// gone by the time a connection winds down.

func (m *Manager) ioResponse(conn uint64, status int, contentType string, body []byte) clientFlush {
	if m.closed {
		return clientFlush{}
	}
	m.core.Response(m.now(), m.handle, uint32(conn), status, contentType, body)
	return m.applyLocked()
}

func (m *Manager) ioFailed(conn uint64, msg string, err error) clientFlush {
	if m.closed {
		return clientFlush{}
	}
	m.cause = err
	m.core.Failed(m.now(), m.handle, uint32(conn), msg)
	fl := m.applyLocked()
	m.cause = nil
	return fl
}

func (m *Manager) ioWSOpened(conn uint64) clientFlush {
	if m.closed {
		return clientFlush{}
	}
	m.core.WSOpened(m.now(), m.handle, uint32(conn))
	return m.applyLocked()
}

func (m *Manager) ioWSMessage(conn uint64, binary bool, data []byte) clientFlush {
	if m.closed {
		return clientFlush{}
	}
	m.core.WSMessage(m.now(), m.handle, uint32(conn), binary, data)
	return m.applyLocked()
}

func (m *Manager) ioWSClosed(conn uint64, code int) clientFlush {
	if m.closed {
		return clientFlush{}
	}
	m.core.WSClosed(m.now(), m.handle, uint32(conn), code)
	return m.applyLocked()
}

// ioThrottle holds a reader (a WebSocket's, or the next poll) while
// clientQueueHigh handlers wait, until they are down to clientQueueLow,
// so a server cannot make the client buffer without bound.
func (m *Manager) ioThrottle() {
	m.qmu.Lock()
	for len(m.queue) >= clientQueueHigh && !m.qStop {
		m.qcond.Wait()
	}
	m.qmu.Unlock()
}
