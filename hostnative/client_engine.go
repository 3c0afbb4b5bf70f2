package hostnative

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/siohost/siohost/core/eio"
)

// EngineClient is an Engine.IO client session over HTTP long-polling and
// WebSocket, with the upgrade from one to the other, heartbeats, and the
// diagnostics of the core client (core/eio.Client), which it drives with
// real sockets and timers. It speaks to any Engine.IO server: an Engine of
// this package or the Node reference, over protocol 4, or protocol 3 for
// socket.io 2.x servers and servers that allow it (allowEIO3).
//
// Create one with NewEngineClient, set its handlers, then Open it; or call
// DialEngine, which does both but may miss the first messages of the
// session (those that arrive before the handlers are set).
//
// Every method is safe for concurrent use. The handlers of a client run one
// at a time, in the order of the events, on a goroutine that lives while
// events are pending; a handler may call any method of the client. A
// panicking handler is recovered and logged.
type EngineClient struct {
	opts   EngineClientOptions
	cfg    eio.ClientConfig
	ep     engineEndpoint
	io     *clientIO // the session's connections, guarded by mu
	epoch  time.Time
	logger *slog.Logger

	done   chan struct{} // closed once everything has ended
	ioDone chan struct{} // closed once the I/O goroutines have ended

	mu        sync.Mutex // serializes calls into core; guards what follows
	core      *eio.Client
	started   bool // Open was called
	ctxTimer  bool // the handshake timeout is the deadline of Open's context
	opened    bool // the handshake succeeded
	closed    bool // the session ended (or Close before Open)
	openCh    chan struct{}
	openDone  bool // openCh is closed
	hs        eio.Handshake
	timer     deadlineTimer // at the core's next deadline
	grace     *time.Timer
	cause     error // the Go error of the failure being reported
	abandoned error // the context error that ended Open
	failDiag  *eio.ClientError
	failCause error
	closeErr  error // what Err returns
	priorWS   bool

	hmu       sync.Mutex // guards the handlers and the event queue
	hcond     *sync.Cond // wakes goroutines throttled by a long queue
	onMessage func(data []byte, binary bool)
	onUpgrade func(transport string)
	onUpErr   func(err error)
	onClose   func(reason string, err error)
	events    []clientEvent
	running   bool
	throttled bool
	stopIO    bool // the session is over: throttled goroutines go on
	closeRan  bool // the close event was delivered
	ranReason string
	ranErr    error
}

// priorWebSocket remembers, per server and path, whether the last session
// worked over WebSocket (engine.io-client's priorWebsocketSuccess), for
// RememberUpgrade.
var priorWebSocket sync.Map

// NewEngineClient returns a client for the Engine.IO server at rawURL
// (http, https, ws or wss; the path comes from opts.Path). It connects
// nothing before Open.
func NewEngineClient(rawURL string, opts EngineClientOptions) (*EngineClient, error) {
	ep, err := parseEngineURL(rawURL, &opts)
	if err != nil {
		return nil, err
	}
	cfg, err := opts.coreConfig()
	if err != nil {
		return nil, err
	}
	if opts.RememberUpgrade {
		cfg.RememberUpgrade = true
		if v, ok := priorWebSocket.Load(ep.key); ok && v.(bool) {
			cfg.PriorWebSocketSuccess = true
		}
	}
	c := &EngineClient{
		opts: opts, cfg: cfg, ep: ep, epoch: time.Now(), logger: opts.Logger,
		done: make(chan struct{}), ioDone: make(chan struct{}), openCh: make(chan struct{}),
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	c.hcond = sync.NewCond(&c.hmu)
	c.io = newClientIO(&c.mu, c, ep, opts.HTTPClient, opts.TLSConfig, opts.ExtraHeaders,
		time.Duration(cfg.ConnectTimeout)*time.Millisecond)
	c.io.deflate = opts.deflateOffer()
	c.timer = newDeadlineTimer(c.onTimer)
	return c, nil
}

// DialEngine opens an Engine.IO session with the server at rawURL: it
// returns once the handshake is done, or with an *EngineError that says why
// it failed. ctx bounds the handshake only. Messages that arrive before
// OnMessage is set are not delivered: to see every message, set the
// handlers between NewEngineClient and Open.
func DialEngine(ctx context.Context, rawURL string, opts EngineClientOptions) (*EngineClient, error) {
	c, err := NewEngineClient(rawURL, opts)
	if err != nil {
		return nil, err
	}
	if err := c.Open(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// now is the core's clock: milliseconds on the monotonic clock.
func (c *EngineClient) now() int64 { return time.Since(c.epoch).Milliseconds() }

// Open performs the handshake and returns once the session is open. When
// the handshake fails it returns an *EngineError whose Diagnostic says why
// (an HTML page or a 404 at a wrong path, an Engine.IO error code, a server
// of the other protocol version, a plain WebSocket server, a network
// error); the client is then closed, its OnClose handler called, and its
// connections released. ctx bounds the handshake, with ConnectTimeout;
// once open, the session no longer depends on it. Open may be called once.
func (c *EngineClient) Open(ctx context.Context) error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.started:
		c.mu.Unlock()
		return errOpenedTwice
	}
	c.started = true
	cfg := c.cfg
	if dl, ok := ctx.Deadline(); ok {
		// The core's timer reports an expired context with its
		// diagnostic (a plain WebSocket server that never speaks, …).
		left := max((time.Until(dl) + time.Millisecond - 1).Milliseconds(), 1)
		if cfg.ConnectTimeout <= 0 || left < cfg.ConnectTimeout {
			cfg.ConnectTimeout = left
			c.ctxTimer = true
		}
	}
	c.core = eio.NewClient(cfg)
	c.priorWS = c.core.PriorWebSocketSuccess()
	c.core.Open(c.now())
	fl := c.applyLocked()
	c.mu.Unlock()
	fl.flush()

	select {
	case <-c.openCh:
	case <-ctx.Done():
		c.abandon(ctx.Err())
	}
	c.mu.Lock()
	opened, err := c.opened, c.closeErr
	c.mu.Unlock()
	if opened {
		return nil
	}
	c.mu.Lock()
	timedOut := c.ctxTimer && c.failDiag != nil && c.failDiag.Kind == eio.ClientErrTimeout
	c.mu.Unlock()
	ctxErr := ctx.Err()
	if timedOut {
		// The core's handshake timer was the context's deadline, which
		// the context itself may not have noticed yet.
		ctxErr = context.DeadlineExceeded
	}
	if ctxErr != nil {
		if ee, ok := err.(*EngineError); ok && ee.Cause == nil {
			cp := *ee
			cp.Cause = ctxErr
			err = &cp
		}
	}
	// Failed: the connections were dropped; wait until their goroutines
	// are gone, so a failed dial leaves nothing behind.
	<-c.ioDone
	return err
}

// abandon ends a handshake whose context ended: with the core's timeout
// diagnostic if its deadline is due, else as a forced close.
func (c *EngineClient) abandon(err error) {
	c.mu.Lock()
	if c.opened || c.closed {
		c.mu.Unlock()
		return
	}
	c.cause, c.abandoned = err, err
	now := c.now()
	if d, ok := c.core.NextDeadline(); ok && d > now && c.ctxTimer && errors.Is(err, context.DeadlineExceeded) {
		// The core's handshake timer is the context's deadline (see
		// Open), give or take the rounding: let it report the timeout
		// with its diagnostic.
		now = d
	}
	c.core.Tick(now)
	if !c.core.Closed() {
		c.core.Close(now)
	}
	fl := c.applyLocked()
	c.cause = nil
	c.mu.Unlock()
	fl.flush()
}

// ID returns the session id ("" before the handshake).
func (c *EngineClient) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hs.SID
}

// Handshake returns the server's handshake: session id, upgrades offered,
// pingInterval, pingTimeout and maxPayload (zero before the handshake).
func (c *EngineClient) Handshake() eio.Handshake {
	c.mu.Lock()
	defer c.mu.Unlock()
	hs := c.hs
	hs.Upgrades = slices.Clone(hs.Upgrades)
	return hs
}

// Protocol returns the Engine.IO protocol version the client speaks (3 or 4).
func (c *EngineClient) Protocol() int { return c.cfg.Protocol }

// Transport returns the name of the session's transport: "polling" or
// "websocket" ("" before Open).
func (c *EngineClient) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.core == nil {
		return ""
	}
	return c.core.TransportName()
}

// Writable reports whether a message sent now would leave at once rather
// than wait for the transport (the test for volatile packets).
func (c *EngineClient) Writable() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core != nil && c.core.Writable()
}

// Send sends a message: binary when binary is set, else text (data must
// then be valid UTF-8). Messages sent during Open wait for the handshake;
// those sent while the transport is busy are buffered and sent in order.
// data may be reused once Send returns. Send returns ErrClosed once Close
// was called or the session ended, ErrNotOpened before Open.
func (c *EngineClient) Send(data []byte, binary bool) error {
	c.mu.Lock()
	if c.core == nil {
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return ErrClosed
		}
		return ErrNotOpened
	}
	ok := c.core.Send(c.now(), binary, data)
	fl := c.applyLocked()
	c.mu.Unlock()
	fl.flush()
	if !ok {
		return ErrClosed
	}
	return nil
}

// Close closes the session as engine.io-client's close() does: what is
// buffered is sent first, then the server is told (a close packet), and
// the session ends with the reason "forced close" (OnClose gets a nil
// error). It does not wait: Done is closed once everything has ended,
// which takes at most a couple of seconds when the server does not answer.
// Close always returns nil.
func (c *EngineClient) Close() error {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return nil
	case c.core == nil:
		// Never opened: nothing runs.
		c.closed, c.closeErr = true, ErrClosed
		c.mu.Unlock()
		c.io.stop()
		close(c.ioDone)
		close(c.done)
		return nil
	}
	c.core.Close(c.now())
	if !c.closed && c.grace == nil {
		// A server that never answers the last POST must not hold the
		// session open.
		c.grace = time.AfterFunc(clientCloseGrace, c.abortIO)
	}
	fl := c.applyLocked()
	c.mu.Unlock()
	fl.flush()
	return nil
}

// Done returns a channel closed once the session has ended, its OnClose
// handler has returned, and every goroutine and connection of the client
// is gone.
func (c *EngineClient) Done() <-chan struct{} { return c.done }

// Err returns nil while the session is open (or not yet opened), ErrClosed
// after Close, else the *EngineError that ended it.
func (c *EngineClient) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// OnMessage sets the handler for messages from the server. data belongs
// to the handler.
func (c *EngineClient) OnMessage(fn func(data []byte, binary bool)) {
	c.hmu.Lock()
	c.onMessage = fn
	c.hmu.Unlock()
}

// OnUpgrade sets the handler called when the session moves to another
// transport ("websocket").
func (c *EngineClient) OnUpgrade(fn func(transport string)) {
	c.hmu.Lock()
	c.onUpgrade = fn
	c.hmu.Unlock()
}

// OnUpgradeError sets the handler called when an upgrade fails (an
// *EngineError with Reason "probe error" and a Diagnostic): the session goes
// on over polling. A proxy or load balancer that blocks WebSocket shows up
// here.
func (c *EngineClient) OnUpgradeError(fn func(err error)) {
	c.hmu.Lock()
	c.onUpErr = fn
	c.hmu.Unlock()
}

// OnClose sets the handler called once when the session ends, with the
// reason ("transport close", "transport error", "ping timeout", "forced
// close") and, unless the application closed it, an *EngineError with the
// details. A handler set after the session ended is called at once (on the
// handlers' goroutine).
func (c *EngineClient) OnClose(fn func(reason string, err error)) {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	if c.closeRan && fn != nil {
		c.pushLocked(clientEvent{kind: cevClose, text: c.ranReason, err: c.ranErr, closeFn: fn})
		return
	}
	c.onClose = fn
}

// applyLocked carries out the core's effects: requests and dials start,
// frames are queued, events are queued for the handlers. The caller holds
// c.mu and flushes the result once unlocked.
func (c *EngineClient) applyLocked() (fl clientFlush) {
	effs := c.core.Effects()
	for i := range effs {
		e := &effs[i]
		switch e.Kind {
		case eio.CEffRequest:
			c.io.request(e.Conn, e.Method, e.Query, e.Content, e.Data)
		case eio.CEffDial:
			c.io.dial(e.Conn, e.Query)
		case eio.CEffWrite:
			c.io.write(e.Conn, e.Binary, e.Prefix, e.Data, &fl)
		case eio.CEffCloseConn:
			c.io.closeConn(e.Conn, &fl)
		case eio.CEffOpen:
			c.opened, c.hs = true, *e.Handshake
			c.signalOpen()
		case eio.CEffMessage:
			d := e.Data[:len(e.Data):len(e.Data)]
			c.push(clientEvent{kind: cevMessage, binary: e.Binary, data: d})
		case eio.CEffUpgrade:
			c.push(clientEvent{kind: cevUpgrade, text: e.Text})
		case eio.CEffUpgradeError:
			err := &EngineError{Reason: "probe error", Diagnostic: e.Err, Cause: c.cause}
			c.push(clientEvent{kind: cevUpgradeError, err: err})
		case eio.CEffError:
			c.failDiag, c.failCause = e.Err, c.cause
		case eio.CEffClose:
			c.ended(e.Text, e.Desc)
		}
	}
	if v := c.core.PriorWebSocketSuccess(); v != c.priorWS {
		c.priorWS = v
		if c.opts.RememberUpgrade {
			priorWebSocket.Store(c.ep.key, v)
		}
	}
	if !c.closed {
		c.rearm()
	}
	return fl
}

func (c *EngineClient) signalOpen() {
	if !c.openDone {
		c.openDone = true
		close(c.openCh)
	}
}

// ended handles the end of the session: the close event is queued, the
// timers stopped, and the connections still in flight are given
// clientCloseGrace to finish.
func (c *EngineClient) ended(reason, desc string) {
	c.closed = true
	var err error
	switch {
	case reason == eio.ReasonForcedClose && c.abandoned != nil && c.failDiag == nil:
		err = &EngineError{Reason: reason, Description: "the handshake was abandoned", Cause: c.abandoned}
		c.closeErr = err
	case reason == eio.ReasonForcedClose && c.failDiag == nil:
		c.closeErr = ErrClosed
	default:
		err = &EngineError{Reason: reason, Description: desc, Diagnostic: c.failDiag, Cause: c.failCause}
		c.closeErr = err
	}
	c.signalOpen()
	c.timer.stop()
	c.push(clientEvent{kind: cevClose, text: reason, err: err})
	if c.grace == nil {
		c.grace = time.AfterFunc(clientCloseGrace, c.abortIO)
	}
	go c.finish()
}

// finish waits for the connections to end, releases what the session
// holds, and closes Done after the last handler.
func (c *EngineClient) finish() {
	c.io.wg.Wait()
	c.mu.Lock()
	c.grace.Stop()
	c.mu.Unlock()
	c.io.release()
	c.hmu.Lock()
	c.stopIO = true
	c.hcond.Broadcast()
	c.hmu.Unlock()
	close(c.ioDone)
	c.push(clientEvent{kind: cevDone})
}

// abortIO drops what is still in flight: requests, dials and WebSockets.
func (c *EngineClient) abortIO() {
	c.hmu.Lock()
	c.stopIO = true
	c.hcond.Broadcast()
	c.hmu.Unlock()
	c.io.abort()
}

// The connections' reports (clientSink), under c.mu.

func (c *EngineClient) ioResponse(conn uint64, status int, contentType string, body []byte) clientFlush {
	c.core.Response(c.now(), conn, status, contentType, body)
	return c.applyLocked()
}

func (c *EngineClient) ioFailed(conn uint64, msg string, err error) clientFlush {
	c.cause = err
	c.core.ConnFailed(c.now(), conn, msg)
	fl := c.applyLocked()
	c.cause = nil
	return fl
}

func (c *EngineClient) ioWSOpened(conn uint64) clientFlush {
	c.core.WSOpened(c.now(), conn)
	return c.applyLocked()
}

func (c *EngineClient) ioWSMessage(conn uint64, binary bool, data []byte) clientFlush {
	c.core.Frame(c.now(), conn, binary, data)
	return c.applyLocked()
}

func (c *EngineClient) ioWSClosed(conn uint64, code int) clientFlush {
	c.core.ConnClosed(c.now(), conn, code)
	return c.applyLocked()
}

func (c *EngineClient) ioThrottle() { c.throttle() }

// rearm points the timer at the core's next deadline.
func (c *EngineClient) rearm() {
	d, ok := c.core.NextDeadline()
	c.timer.set(d, ok, c.now())
}

func (c *EngineClient) onTimer() {
	c.mu.Lock()
	if c.core == nil || c.closed {
		c.mu.Unlock()
		return
	}
	c.timer.fired()
	c.core.Tick(c.now())
	fl := c.applyLocked()
	c.mu.Unlock()
	fl.flush()
}

// The handlers' event queue.

type clientEventKind uint8

const (
	cevMessage clientEventKind = iota
	cevUpgrade
	cevUpgradeError
	cevClose
	cevDone
)

type clientEvent struct {
	kind    clientEventKind
	binary  bool
	data    []byte
	text    string
	err     error
	closeFn func(string, error) // a close handler set after the close
}

// Backpressure: a reader (a WebSocket's, or the next polling GET) waits
// while clientQueueHigh events wait for the handlers, until they are down
// to clientQueueLow, so a server cannot make the client buffer without
// bound.
const (
	clientQueueHigh = 256
	clientQueueLow  = 64
)

func (c *EngineClient) push(ev clientEvent) {
	c.hmu.Lock()
	c.pushLocked(ev)
	c.hmu.Unlock()
}

func (c *EngineClient) pushLocked(ev clientEvent) {
	c.events = append(c.events, ev)
	if !c.running {
		c.running = true
		go c.drain()
	}
}

func (c *EngineClient) drain() {
	c.hmu.Lock()
	for len(c.events) > 0 {
		ev := c.events[0]
		c.events[0] = clientEvent{}
		c.events = c.events[1:]
		if c.throttled && len(c.events) < clientQueueLow {
			c.throttled = false
			c.hcond.Broadcast()
		}
		var run func()
		switch ev.kind {
		case cevMessage:
			if fn := c.onMessage; fn != nil {
				run = func() { fn(ev.data, ev.binary) }
			}
		case cevUpgrade:
			if fn := c.onUpgrade; fn != nil {
				run = func() { fn(ev.text) }
			}
		case cevUpgradeError:
			if fn := c.onUpErr; fn != nil {
				run = func() { fn(ev.err) }
			}
		case cevClose:
			fn := ev.closeFn
			if fn == nil {
				fn = c.onClose
				c.closeRan, c.ranReason, c.ranErr = true, ev.text, ev.err
				c.onMessage, c.onUpgrade, c.onUpErr, c.onClose = nil, nil, nil, nil
			}
			if fn != nil {
				run = func() { fn(ev.text, ev.err) }
			}
		case cevDone:
			close(c.done)
		}
		if run != nil {
			c.hmu.Unlock()
			c.safely(run)
			c.hmu.Lock()
		}
	}
	c.events = nil
	c.running = false
	c.hmu.Unlock()
}

// throttle holds a reader while the handlers are behind.
func (c *EngineClient) throttle() {
	c.hmu.Lock()
	for len(c.events) >= clientQueueHigh && !c.stopIO {
		c.throttled = true
		c.hcond.Wait()
	}
	c.hmu.Unlock()
}

// safely runs a handler, recovering and logging a panic.
func (c *EngineClient) safely(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			c.logger.Error("siohost: engine client handler panic", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	fn()
}
