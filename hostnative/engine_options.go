package hostnative

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/siohost/siohost/core/eio"
)

// EngineOptions configures an Engine. Zero values mean the defaults of the
// Node reference server (engine.io 6).
type EngineOptions struct {
	// Path is where the server listens. Default "/engine.io" (a Socket.IO
	// server uses "/socket.io").
	Path string
	// PingInterval between server pings (v4). Default 25 s.
	PingInterval time.Duration
	// PingTimeout to wait for a pong before closing. Default 20 s.
	PingTimeout time.Duration
	// UpgradeTimeout for an upgrade to complete. Default 10 s.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest message or POST body accepted, in
	// bytes; it is reported to clients as maxPayload. Default 1e6.
	MaxHTTPBufferSize int64
	// Transports enabled, among "polling" and "websocket". Default both.
	// "polling" includes JSONP polling, as in the reference: a polling
	// handshake with a "j" query parameter (socket.io-client 2.x or 3.x in
	// a browser with forceJSONP) gets its answers as scripts calling
	// ___eio[j] and posts its payloads as forms; disabling polling disables
	// it too.
	Transports []string
	// DisallowUpgrades stops polling sessions from upgrading to WebSocket
	// (the reference's allowUpgrades: false).
	DisallowUpgrades bool
	// AllowEIO3 accepts Engine.IO v3 clients (socket.io-client 2.x).
	AllowEIO3 bool
	// CORS, when set, answers cross-origin polling requests and preflights.
	CORS *CORSOptions
	// AllowRequest, when set, is asked about every handshake; a non-nil
	// error refuses it with code 4 (Forbidden) and the error's message.
	AllowRequest func(r *http.Request) error
	// Cookie, when set, sends a cookie holding the session id with the
	// handshake (the reference's cookie option).
	Cookie *http.Cookie
	// HTTPCompression configures the compression of polling responses:
	// gzip or deflate, as the request accepts, for bodies of at least
	// Threshold bytes (default 1024, the reference's httpCompression).
	HTTPCompression HTTPCompression
	// NoHTTPCompression turns that compression off (httpCompression: false).
	NoHTTPCompression bool
	// PerMessageDeflate, when set, accepts the WebSocket permessage-deflate
	// extension that clients offer (the reference's perMessageDeflate,
	// off by default there too): messages of at least its Threshold
	// (default 1024 bytes) are then sent compressed, except those sent with
	// Compress(false), and compressed messages from the client are
	// inflated, never beyond MaxHTTPBufferSize (else the WebSocket is
	// closed with 1009). Clients that offer nothing are served as before.
	PerMessageDeflate *PerMessageDeflate
	// WriteTimeout bounds one WebSocket write; a client that does not read
	// is dropped with "transport error". Default 10 s.
	WriteTimeout time.Duration
	// Logger receives recovered handler panics and core failures. Default
	// slog.Default().
	Logger *slog.Logger
	// GenerateID, when set, makes the id of each new session, as the
	// reference's generateId: unique, at most 128 characters among
	// A-Z a-z 0-9 - _ . ~ (what a query carries unescaped). An error, a
	// panic, or an unusable or duplicate id refuses the handshake with
	// code 3 (Bad request) and the context name ID_GENERATION_ERROR.
	// Default: 20 random base64url characters.
	GenerateID func(r *http.Request) (string, error)
	// Core makes the protocol core of each of the engine's shards. nil: the
	// native core (direct calls into core/eio and core/sio). With a
	// hostwasm Module m, m.NewCore runs each shard's core in WebAssembly;
	// a core that traps is replaced, and only its sessions are lost.
	Core CoreFactory
}

// CORSOptions mirrors the cors options of the reference server.
type CORSOptions struct {
	// Origins allowed: "*" allows any; otherwise exact origins.
	Origins []string
	// AllowOrigin, when set, decides instead of Origins.
	AllowOrigin func(origin string) bool
	// Credentials sets Access-Control-Allow-Credentials.
	Credentials bool
	// Methods for preflights. Default GET,HEAD,PUT,PATCH,POST,DELETE.
	Methods []string
	// AllowedHeaders for preflights. Default: those the request asks for.
	AllowedHeaders []string
	// ExposedHeaders sets Access-Control-Expose-Headers.
	ExposedHeaders []string
	// MaxAge of a preflight answer; zero sends none.
	MaxAge time.Duration
}

func (o EngineOptions) withDefaults() EngineOptions {
	if o.Path == "" {
		o.Path = "/engine.io"
	}
	o.Path = "/" + strings.Trim(o.Path, "/") + "/"
	if o.PingInterval <= 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 20 * time.Second
	}
	if o.UpgradeTimeout <= 0 {
		o.UpgradeTimeout = 10 * time.Second
	}
	if o.MaxHTTPBufferSize <= 0 {
		o.MaxHTTPBufferSize = 1e6
	}
	if len(o.Transports) == 0 {
		o.Transports = []string{"polling", "websocket"}
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.HTTPCompression.Threshold <= 0 {
		o.HTTPCompression.Threshold = defaultCompressionThreshold
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

func (o EngineOptions) coreConfig(random func([]byte)) eio.Config {
	c := eio.DefaultConfig(random)
	c.PingInterval = o.PingInterval.Milliseconds()
	c.PingTimeout = o.PingTimeout.Milliseconds()
	c.UpgradeTimeout = o.UpgradeTimeout.Milliseconds()
	c.MaxPayload = o.MaxHTTPBufferSize
	c.AllowUpgrades = !o.DisallowUpgrades
	c.AllowEIO3 = o.AllowEIO3
	c.Transports = 0
	for _, t := range o.Transports {
		switch t {
		case "polling":
			c.Transports |= eio.TransportPolling
		case "websocket":
			c.Transports |= eio.TransportWebSocket
		}
	}
	return c
}
