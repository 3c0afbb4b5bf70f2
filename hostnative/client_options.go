package hostnative

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
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
	// NoUpgrade keeps a session that started on polling there
	// (socket.io-client's upgrade: false).
	NoUpgrade bool
	// RememberUpgrade starts on WebSocket when an earlier session with the
	// same server worked over it.
	RememberUpgrade bool
	// Auth is the CONNECT payload of every namespace (see SetAuth for a
	// namespace's own): a json.RawMessage or []byte holding a JSON object,
	// any value that encodes to one, or an AuthFunc called before each
	// CONNECT. Default none.
	Auth any
	// Query is added to the query string of every Engine.IO request. A
	// socket.io 2.x server reads the auth of "/" from it.
	Query url.Values
	// ExtraHeaders are sent with every polling request and WebSocket
	// handshake.
	ExtraHeaders http.Header
	// HTTPClient sends the polling requests (see EngineClientOptions).
	HTTPClient *http.Client
	// TLSConfig is used for wss:// and, without HTTPClient, https://.
	TLSConfig *tls.Config
	// Protocol is the Engine.IO protocol: 4 (socket.io 3 and later, the
	// default) or 3, to talk to socket.io 2.x servers (socket.io-client
	// 2.x's protocol: the server connects "/" by itself, custom
	// namespaces take their auth as a query string, and there is no
	// connection state recovery).
	Protocol int
	// ForceBase64 sends binary as base64 text.
	ForceBase64 bool
	// Parser is the packet encoding, which must be the server's:
	// ParserJSON (socket.io-parser, the default) or ParserMsgpack
	// (socket.io-msgpack-parser 3: each packet one binary message, as
	// socket.io-client sends with parser: require("socket.io-msgpack-parser")).
	// ParserMsgpack needs Engine.IO protocol 4.
	Parser Parser
	// Timeout bounds each Engine.IO handshake. Default 20 s.
	Timeout time.Duration
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
	// AckTimeout bounds the wait for each acknowledgement of EmitWithAck
	// (and of each try, with Retries) unless Timeout is given for the
	// emit. Default none: only the context bounds it.
	AckTimeout time.Duration
	// Retries makes emits at-least-once: each emit is sent with an ack id,
	// one at a time in order, and sent again up to Retries times when its
	// ack does not come (AckTimeout) or the connection is lost. Volatile
	// emits are not retried. Default 0: no retries.
	Retries int
	// ForceNew makes Dial create a Manager of its own instead of sharing
	// the one of an earlier Dial to the same server and path.
	ForceNew bool
	// Logger receives recovered handler panics and protocol errors.
	// Default slog.Default().
	Logger *slog.Logger
	// Core makes the client core that runs the protocol (Engine.IO
	// sessions, namespaces, acks, reconnection) behind the Manager's API
	// and transports. Default nil: the native core, in this process;
	// hostwasm's Module.NewClientCore runs it in WebAssembly instead.
	Core ClientCoreFactory
	// PerMessageDeflate and NoPerMessageDeflate configure the
	// permessage-deflate extension WebSockets offer (see
	// EngineClientOptions): on by default, threshold 1024 bytes.
	PerMessageDeflate   PerMessageDeflate
	NoPerMessageDeflate bool
}

// AuthFunc computes a namespace's CONNECT payload when it is sent, as
// socket.io-client's auth callback does (a fresh token at each
// reconnection): it returns what ManagerOptions.Auth may hold, except
// another AuthFunc. An error fails that namespace's Connect.
type AuthFunc func(ctx context.Context) (any, error)

// authSource is a namespace's auth: fixed JSON or a function.
type authSource struct {
	raw []byte
	fn  AuthFunc
}

func newAuthSource(v any) (authSource, error) {
	if fn, ok := v.(AuthFunc); ok {
		return authSource{fn: fn}, nil
	}
	if fn, ok := v.(func(context.Context) (any, error)); ok {
		return authSource{fn: fn}, nil
	}
	raw, err := authJSON(v)
	return authSource{raw: raw}, err
}

// authJSON encodes an auth value as a JSON object (nil stays nil).
func authJSON(v any) ([]byte, error) {
	var raw []byte
	switch a := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		raw = a
	case []byte:
		raw = a
	case AuthFunc, func(context.Context) (any, error):
		return nil, errors.New("siohost: an AuthFunc must return a value, not another AuthFunc")
	default:
		b, err := json.Marshal(a)
		if err != nil {
			return nil, fmt.Errorf("siohost: auth: %w", err)
		}
		raw = b
	}
	if !json.Valid(raw) || len(raw) == 0 || raw[0] != '{' {
		return nil, sio.ErrInvalidAuth
	}
	return append([]byte(nil), raw...), nil
}

// resolve returns the JSON to send now.
func (a authSource) resolve(ctx context.Context) ([]byte, error) {
	if a.fn == nil {
		return a.raw, nil
	}
	v, err := a.fn(ctx)
	if err != nil {
		return nil, err
	}
	return authJSON(v)
}

// ErrManagerClosed is returned by the calls made after Manager.Close.
var ErrManagerClosed = errors.New("siohost: manager closed")

// ClientConnectError is socket.io-client's connect_error: a namespace
// could not be joined. Either the server refused it (a middleware error:
// Message, and Data the raw JSON of its data, nil when none), or the
// Engine.IO session could not be opened: Message is then the JavaScript
// client's ("xhr poll error", "websocket error", "timeout"), Description
// says what happened, Context is the diagnostic (HTTP status, Engine.IO
// code, the start of the answer, a hint naming the likely cause) and Err
// the *EngineError. errors.As finds the *eio.ClientError or
// *sio.ClientError behind it.
type ClientConnectError struct {
	Message     string
	Data        json.RawMessage
	Description string
	Context     *eio.ClientError
	Err         error
}

func (e *ClientConnectError) Error() string {
	s := "siohost: connect error: " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	} else if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

func (e *ClientConnectError) Unwrap() error { return e.Err }

// DisconnectDetails are the details socket.io-client gives with some
// disconnect reasons ("transport error", "transport close", "parse
// error"): what the transport reported (Message, Description), the
// diagnostic of a failure (Context, nil when the close was not one) and
// the Go error behind it (Err: an *EngineError or a *sio.ClientError).
type DisconnectDetails struct {
	Message     string
	Description string
	Context     *eio.ClientError
	Err         error
}

// engineFailure turns an Engine.IO client's failure into the JavaScript
// client's connect_error.
func engineFailure(err error) *ClientConnectError {
	ce := &ClientConnectError{Err: err}
	var ee *EngineError
	if !errors.As(err, &ee) {
		ce.Message, ce.Description = "xhr poll error", err.Error()
		return ce
	}
	ce.Context = ee.Diagnostic
	ce.Message = transportErrorMessage(ee)
	ce.Description = ee.Description
	if d := ee.Diagnostic; d != nil {
		// As engine.io-client's: the HTTP status, else what failed.
		switch {
		case d.Status != 0:
			ce.Description = strconv.Itoa(d.Status)
		case d.Message != "":
			ce.Description = d.Message
		}
	}
	if ce.Description == "" && ee.Cause != nil {
		ce.Description = ee.Cause.Error()
	}
	return ce
}

// transportErrorMessage names a failure as engine.io-client does.
func transportErrorMessage(ee *EngineError) string {
	d := ee.Diagnostic
	switch {
	case d == nil && errors.Is(ee.Cause, context.DeadlineExceeded):
		return "timeout"
	case d == nil:
		return ee.Reason
	case d.Kind == eio.ClientErrTimeout:
		return "timeout"
	case d.Transport == "websocket":
		return "websocket error"
	}
	return "xhr poll error"
}

// closeDetails turns an Engine.IO close into disconnect details (nil for
// a close without any).
func closeDetails(err error) *DisconnectDetails {
	var ee *EngineError
	if !errors.As(err, &ee) {
		return nil
	}
	dd := &DisconnectDetails{Description: ee.Description, Context: ee.Diagnostic, Err: ee}
	if ee.Diagnostic != nil {
		dd.Message = transportErrorMessage(ee)
	}
	return dd
}
