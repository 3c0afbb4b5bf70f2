package hostnative

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/siohost/siohost/core/eio"
)

// EngineClientOptions configures an EngineClient. Zero values mean the
// defaults of engine.io-client 6 (socket.io-client 4).
type EngineClientOptions struct {
	// Path is the server's Engine.IO path. Default: the URL's path when it
	// has one other than "/", else "/engine.io" (a Socket.IO server serves
	// "/socket.io").
	Path string
	// Transports the client may use, among "polling" and "websocket", in
	// order of preference: the session starts on the first one. Default
	// polling then websocket.
	Transports []string
	// NoUpgrade keeps a session that started on polling there, instead of
	// upgrading it to WebSocket when the server offers it (engine.io-client's
	// upgrade: false).
	NoUpgrade bool
	// RememberUpgrade starts directly on WebSocket when a previous session
	// with the same server and path worked over WebSocket (engine.io-client's
	// rememberUpgrade).
	RememberUpgrade bool
	// Query is added to the query string of every request, after the URL's
	// own query. The Engine.IO parameters (EIO, transport, sid, t, b64) are
	// the client's own: they are dropped from it.
	Query url.Values
	// ExtraHeaders are sent with every polling request and WebSocket
	// handshake.
	ExtraHeaders http.Header
	// HTTPClient sends the polling requests. Default: a client of its own
	// (proxies from the environment, TLSConfig) whose idle connections are
	// closed with the session. A client without a cookie jar is given one,
	// so that sticky-session cookies set by a load balancer are sent back
	// with every request and WebSocket handshake. Its Timeout, if any, must
	// exceed the server's pingInterval, or long polls fail. The idle
	// connections of a caller's client are left to the caller.
	HTTPClient *http.Client
	// TLSConfig is used for wss:// WebSockets, and for polling requests when
	// HTTPClient is nil.
	TLSConfig *tls.Config
	// Protocol is the Engine.IO protocol version: 4 (socket.io 3 and later
	// servers) or 3 (socket.io 2.x servers, or engine.io with allowEIO3).
	// Default 4.
	Protocol int
	// ForceBase64 sends binary as base64 text ("b64=1").
	ForceBase64 bool
	// ConnectTimeout bounds the handshake, as socket.io-client's timeout
	// does; the context given to Open bounds it too. Default 20 s; negative:
	// no bound but the context's.
	ConnectTimeout time.Duration
	// Logger receives recovered handler panics. Default slog.Default().
	Logger *slog.Logger
	// PerMessageDeflate configures the permessage-deflate extension that
	// WebSocket handshakes offer, as engine.io-client does by default
	// through the ws package ("permessage-deflate; client_max_window_bits",
	// threshold 1024 bytes): when the server accepts it, messages of at
	// least Threshold bytes are sent compressed, and the server's
	// compressed messages are inflated (up to 100 MiB, as ws's maxPayload).
	PerMessageDeflate PerMessageDeflate
	// NoPerMessageDeflate offers no compression (perMessageDeflate: false).
	NoPerMessageDeflate bool
}

// deflateOffer is the permessage-deflate configuration WebSockets offer,
// nil for none.
func (o *EngineClientOptions) deflateOffer() *PerMessageDeflate {
	if o.NoPerMessageDeflate {
		return nil
	}
	d := o.PerMessageDeflate.withDefaults()
	return &d
}

// Defaults of the client.
const (
	defaultClientConnectTimeout = 20 * time.Second
	// clientWriteTimeout bounds one WebSocket write.
	clientWriteTimeout = 10 * time.Second
	// clientCloseGrace bounds how long a closed session waits for the
	// answers in flight (the GET the server ends with a noop, the closing
	// handshake of a WebSocket) before dropping them.
	clientCloseGrace = 2 * time.Second
	// maxClientMessage bounds a polling body or WebSocket message from the
	// server, as the Node ws client's maxPayload does (100 MiB).
	maxClientMessage = 100 << 20
)

// engineEndpoint is where a client connects.
type engineEndpoint struct {
	httpBase  string   // "http://host:port/path/?userquery&" (with the separator)
	wsBase    string   // the same with ws:// or wss://
	cookieURL *url.URL // the HTTP URL for the cookie jar
	key       string   // server and path, for RememberUpgrade
}

// reservedQuery are the query parameters an Engine.IO client sets itself.
var reservedQuery = [...]string{"EIO", "transport", "sid", "t", "b64"}

func parseEngineURL(rawURL string, opts *EngineClientOptions) (engineEndpoint, error) {
	var ep engineEndpoint
	u, err := url.Parse(rawURL)
	if err != nil {
		return ep, fmt.Errorf("siohost: engine client URL: %w", err)
	}
	var httpScheme, wsScheme string
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		httpScheme, wsScheme = "http", "ws"
	case "https", "wss":
		httpScheme, wsScheme = "https", "wss"
	default:
		return ep, fmt.Errorf("siohost: engine client URL %q: the scheme must be http, https, ws or wss", rawURL)
	}
	if u.Host == "" {
		return ep, fmt.Errorf("siohost: engine client URL %q has no host", rawURL)
	}
	path := opts.Path
	if path == "" {
		path = u.Path
	}
	if path == "" || path == "/" {
		path = "/engine.io"
	}
	path = "/" + strings.Trim(path, "/") + "/"
	q := u.Query()
	for k, vs := range opts.Query {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	for _, k := range reservedQuery {
		q.Del(k)
	}
	query := q.Encode()
	if query != "" {
		query += "&"
	}
	pu := &url.URL{Scheme: httpScheme, Host: u.Host, Path: path}
	escaped := pu.EscapedPath()
	ep.httpBase = httpScheme + "://" + u.Host + escaped + "?" + query
	ep.wsBase = wsScheme + "://" + u.Host + escaped + "?" + query
	ep.cookieURL = pu
	ep.key = u.Host + escaped
	if httpScheme == "https" {
		ep.key = "s:" + ep.key
	}
	return ep, nil
}

// coreConfig turns the options into the core client's settings.
func (o *EngineClientOptions) coreConfig() (eio.ClientConfig, error) {
	cfg := eio.DefaultClientConfig(randomBytes)
	switch o.Protocol {
	case 0, 4:
		cfg.Protocol = 4
	case 3:
		cfg.Protocol = 3
	default:
		return cfg, fmt.Errorf("siohost: engine client: protocol %d: must be 3 or 4", o.Protocol)
	}
	if len(o.Transports) > 0 {
		cfg.Transports = 0
		for _, t := range o.Transports {
			switch t {
			case "polling":
				cfg.Transports |= eio.TransportPolling
			case "websocket":
				cfg.Transports |= eio.TransportWebSocket
			default:
				return cfg, fmt.Errorf("siohost: engine client: unknown transport %q (want polling or websocket)", t)
			}
		}
		if o.Transports[0] == "websocket" {
			// The core starts on polling whenever it may; a session that
			// prefers WebSocket starts as a remembered upgrade does.
			cfg.RememberUpgrade, cfg.PriorWebSocketSuccess = true, true
		}
	}
	cfg.Upgrade = !o.NoUpgrade
	cfg.B64 = o.ForceBase64
	switch {
	case o.ConnectTimeout == 0:
		cfg.ConnectTimeout = defaultClientConnectTimeout.Milliseconds()
	case o.ConnectTimeout < 0:
		cfg.ConnectTimeout = 0
	default:
		cfg.ConnectTimeout = max(o.ConnectTimeout.Milliseconds(), 1)
	}
	return cfg, nil
}

// EngineError tells why an EngineClient failed or closed. It is what Open
// and DialEngine return when the handshake fails, what OnClose and
// OnUpgradeError receive, and what Err returns.
type EngineError struct {
	// Reason is the close reason, as engine.io-client gives it: "transport
	// error", "transport close", "ping timeout" or "forced close"; "probe
	// error" for an upgrade that failed (the session goes on).
	Reason string
	// Description details the reason.
	Description string
	// Diagnostic describes a failure: what failed (handshake, poll, post,
	// websocket, probe), the HTTP status, the Engine.IO error code and
	// message, the start of the offending body, and a hint naming the
	// likely cause. It is nil for a close that is not a failure (the server
	// closed the session, a ping timeout).
	Diagnostic *eio.ClientError
	// Cause is the Go error behind a network failure or an abandoned
	// handshake (a *net.OpError, a TLS error, context.DeadlineExceeded), if
	// any.
	Cause error
}

// Error returns the diagnostic's sentence, or the reason and description.
func (e *EngineError) Error() string {
	if e.Diagnostic != nil {
		return e.Diagnostic.Error()
	}
	s := "engine.io client: " + e.Reason
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the diagnostic and the cause, so errors.As finds the
// *eio.ClientError and errors.Is the network or context error.
func (e *EngineError) Unwrap() []error {
	var errs []error
	if e.Diagnostic != nil {
		errs = append(errs, e.Diagnostic)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// ErrNotOpened is returned by Send before Open.
var ErrNotOpened = errors.New("siohost: engine client not opened")

// errOpenedTwice is returned by a second call to Open.
var errOpenedTwice = errors.New("siohost: EngineClient.Open called twice")
