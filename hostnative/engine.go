package hostnative

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/siohost/siohost/core/eio"
)

// Engine is an Engine.IO server: an http.Handler serving long-polling and
// WebSocket at its path. Mount it on any router.
type Engine struct {
	opts         EngineOptions
	shards       []*shard
	next         atomic.Uint32
	connID       atomic.Uint64
	epoch        time.Time
	onConnection atomic.Pointer[func(*EngineConn)]
	onConnError  atomic.Pointer[func(*ConnectionError)]
	onHeaders    [2]atomic.Pointer[func(http.Header, *http.Request)] // initial, every
	upgrader     ws.HTTPUpgrader
	sio          *Server      // the Socket.IO server on top, if any
	busy         atomic.Int64 // connection queues being drained
	closed       atomic.Bool  // Server.Close was called: no new sessions
	runner       runner       // runs the mailboxes
}

// ConnectionError describes a refused request, as the reference server's
// "connection_error" event does: the Engine.IO error code (0-5), its
// message, and a context such as {"name":"TRANSPORT_MISMATCH",
// "transport":"polling","previousTransport":"websocket"}.
type ConnectionError struct {
	Request *http.Request
	Code    int
	Message string
	Context map[string]any
	// Err is the error of the application's hook behind the refusal
	// (EngineOptions.GenerateID), if any; Context["error"] has its text.
	Err error
}

func (e *ConnectionError) Error() string { return e.Message }

// sidAlphabet is the base64url alphabet; a session id starts with the
// character that names its shard.
const sidAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

const numShards = 8

// NewEngine returns an Engine with the given options.
func NewEngine(opts EngineOptions) *Engine { return newEngine(opts, nil) }

func newEngine(opts EngineOptions, srv *Server) *Engine {
	e := &Engine{opts: opts.withDefaults(), epoch: time.Now(), sio: srv}
	for i := range numShards {
		cfg := e.abiConfig()
		cfg.IDPrefix = sidAlphabet[i]
		e.shards = append(e.shards, newShard(e, cfg))
	}
	return e
}

func randomBytes(b []byte) { _, _ = rand.Read(b) }

// now is the core's clock: milliseconds on the monotonic clock.
func (e *Engine) now() int64 { return time.Since(e.epoch).Milliseconds() }

// Path returns the path the engine serves, with a trailing slash.
func (e *Engine) Path() string { return e.opts.Path }

// OnConnection sets the handler for new sessions. Handlers it registers on
// the connection see every message: none is delivered before it returns.
func (e *Engine) OnConnection(fn func(*EngineConn)) { e.onConnection.Store(&fn) }

// OnConnectionError sets the handler told about every refused request.
func (e *Engine) OnConnectionError(fn func(*ConnectionError)) { e.onConnError.Store(&fn) }

// OnInitialHeaders sets a hook that may change the headers of the answer
// to a handshake (the first polling GET, or a WebSocket opened without a
// session id), as the reference's "initial_headers" event. The session
// cookie (EngineOptions.Cookie) is already set.
func (e *Engine) OnInitialHeaders(fn func(h http.Header, r *http.Request)) {
	e.onHeaders[0].Store(&fn)
}

// OnHeaders sets a hook that may change the headers of every successful
// answer of a session: polling responses, and WebSocket upgrades, as the
// reference's "headers" event. For a handshake it runs after the
// OnInitialHeaders hook.
func (e *Engine) OnHeaders(fn func(h http.Header, r *http.Request)) { e.onHeaders[1].Store(&fn) }

// headers prepares the headers of a successful answer to r: for the
// answer that opens session sid (sid empty otherwise), the session cookie
// and the initial hook first.
func (e *Engine) headers(h http.Header, r *http.Request, sid string) {
	if sid != "" {
		if c := e.opts.Cookie; c != nil {
			h.Add("Set-Cookie", sessionCookie(c, sid))
		}
		if fn := e.onHeaders[0].Load(); fn != nil {
			e.safely(func() { (*fn)(h, r) })
		}
	}
	if fn := e.onHeaders[1].Load(); fn != nil {
		e.safely(func() { (*fn)(h, r) })
	}
}

// mayOpen tells whether the core will open a session for req, a request
// without sid: the reference calls generateId only then. (The core checks
// again; this only spares the generator junk requests.)
func (e *Engine) mayOpen(req *eio.Request) bool {
	if req.Method != http.MethodGet || !(req.EIO == "4" || req.EIO == "3" && e.opts.AllowEIO3) {
		return false
	}
	if req.Transport == "websocket" && !req.Upgrade {
		return false
	}
	return slices.Contains(e.opts.Transports, req.Transport)
}

// generateID runs the application's id generator; a panic is an error.
func (e *Engine) generateID(r *http.Request) (id string, err error) {
	if !e.safely(func() { id, err = e.opts.GenerateID(r) }) {
		return "", errHandlerPanic
	}
	if err == nil && id == "" {
		err = errors.New("siohost: GenerateID returned an empty id")
	}
	return id, err
}

// Len returns the number of open sessions.
func (e *Engine) Len() int {
	n := 0
	for _, sh := range e.shards {
		if sh.idle() {
			continue
		}
		b := sh.begin(0, nil)
		n += sh.core.Len()
		sh.end(b)
		b.done()
	}
	return n
}

// Close closes every session with the reason "server shutting down".
// Cores that hold resources (WebAssembly instances) are released, and made
// again if the engine serves another request: like the reference's
// engine.close(), it leaves the engine open to new sessions (Server.Close
// does not).
func (e *Engine) Close() {
	for _, sh := range e.shards {
		if sh.idle() {
			continue
		}
		b := sh.begin(0, nil)
		sh.core.CloseAll(b.now, eio.ReasonShuttingDown)
		sh.applyEffects(b)
		if c, ok := sh.core.(io.Closer); ok && len(sh.conns) == 0 {
			_ = c.Close()
			sh.core = stubCore{}
		}
		sh.release(b)
		b.done()
	}
}

// Shutdown closes every session like Close, then waits until the handlers
// of their last events (close, disconnect) have run, or ctx ends.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.Close()
	return e.idle(ctx)
}

// idle waits until no connection has events left to run.
func (e *Engine) idle(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for e.busy.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

func (e *Engine) shardFor(sid string) *shard {
	if sid == "" {
		return e.shards[e.next.Add(1)%numShards]
	}
	if e.opts.GenerateID != nil {
		// The application's ids carry no shard prefix: hash them (FNV-1a).
		h := uint32(2166136261)
		for i := 0; i < len(sid); i++ {
			h = (h ^ uint32(sid[i])) * 16777619
		}
		return e.shards[h%numShards]
	}
	i := strings.IndexByte(sidAlphabet, sid[0])
	if i < 0 {
		i = 0
	}
	return e.shards[i%numShards]
}

// ServeHTTP serves one Engine.IO request.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path+"/", e.opts.Path) {
		http.NotFound(w, r)
		return
	}
	upgrade := isUpgrade(r)
	if upgrade && !validWebSocketKey(r) {
		// Refused before any session exists, as the reference's ws server
		// does.
		w.Header().Set("Connection", "close")
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	if e.opts.CORS != nil && !upgrade && e.opts.CORS.apply(w, r) {
		return
	}
	q := r.URL.Query()
	if e.closed.Load() && q.Get("sid") == "" {
		// The Socket.IO server was closed: no new session, as the
		// reference's io.close() closes its HTTP server.
		w.Header().Set("Connection", "close")
		http.Error(w, "Service Unavailable: the server is closed", http.StatusServiceUnavailable)
		return
	}
	req := eio.Request{
		Conn:      e.connID.Add(1),
		Method:    r.Method,
		EIO:       q.Get("EIO"),
		Transport: q.Get("transport"),
		SID:       q.Get("sid"),
		B64:       q.Get("b64") != "", // "b64=" is falsy to the reference too
		Upgrade:   upgrade,
		Binary:    r.Header.Get("Content-Type") == "application/octet-stream",
	}
	if j := q["j"]; len(j) == 1 && req.SID == "" {
		// JSONP polling, decided at the handshake; a repeated j is no
		// string to the reference, hence no JSONP.
		req.JSONP, req.J = true, j[0]
	}
	if origin := r.Header.Get("Origin"); origin != "" && !validHeaderValue(origin) {
		req.Origin, req.BadOrigin = origin, true
	}
	if req.SID == "" && r.Method == http.MethodGet && e.opts.AllowRequest != nil {
		if err := e.opts.AllowRequest(r); err != nil {
			req.Refused, req.RefusedMessage = true, err.Error()
		}
	}
	var idErr error
	if req.SID == "" && e.opts.GenerateID != nil && !req.Refused && e.mayOpen(&req) {
		req.ID, idErr = e.generateID(r)
		req.IDFailed = idErr != nil
	}
	sh := e.shardFor(req.SID + req.ID) // one is empty
	b := sh.begin(req.Conn, r)
	b.idErr = idErr
	sh.ensureCore()
	// Through the pooled batch: a local's address handed to an interface
	// method would escape, one allocation per request.
	b.request = req
	h := sh.core.Request(b.now, &b.request)
	sh.applyEffects(b)
	var wait chan pollResponse
	if h != 0 && !b.self.answered {
		// A parked GET: register it before unlocking so no answer is missed.
		wait = make(chan pollResponse, 1)
		sh.waiters[req.Conn] = wait
	}
	sh.release(b)
	out := b.self
	b.done()

	switch {
	case out.ws != nil:
		e.serveWebSocket(w, r, sh, out.ws, out.sid)
	case out.rejected:
		w.Header().Set("Connection", "close")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, out.reject)
	case out.respond:
		e.respond(w, r, out.resp, out.sid)
	case out.readBody:
		e.readBody(w, r, sh, req.Conn, h, out.limit)
	case wait != nil:
		e.waitPoll(w, r, sh, req.Conn, h, wait)
	}
}
