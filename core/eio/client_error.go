package eio

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/siohost/siohost/core/internal/jsonscan"
)

// ClientErrorKind classifies why a Client failed, so a host can tell its
// user which case of the troubleshooting guide they are in.
type ClientErrorKind uint8

const (
	// ClientErrNetwork: a request or a dial failed without an HTTP answer
	// (Message holds the host's error).
	ClientErrNetwork ClientErrorKind = iota + 1
	// ClientErrHTTP: an HTTP error status whose body is not an Engine.IO
	// error (Status, ContentType, Body).
	ClientErrHTTP
	// ClientErrEngineIO: the server refused the request with an Engine.IO
	// error: Code (0-5) and Message, from the JSON body {"code","message"}
	// of a polling request or the plain-text body of a refused WebSocket.
	ClientErrEngineIO
	// ClientErrProtocol: the answer is framed for the other protocol version
	// (ServerProtocol), e.g. "96:0{…}" (v3) to a v4 client.
	ClientErrProtocol
	// ClientErrNotEngineIO: the server answered, but not with an Engine.IO
	// open packet (an HTML page, a plain WebSocket server, a wrong path).
	ClientErrNotEngineIO
	// ClientErrHandshake: an open packet whose JSON is invalid or has no sid.
	ClientErrHandshake
	// ClientErrParse: an invalid packet or payload after the handshake.
	ClientErrParse
	// ClientErrTimeout: no handshake within ClientConfig.ConnectTimeout.
	ClientErrTimeout
	// ClientErrProbe: the WebSocket probed for an upgrade failed.
	ClientErrProbe
	// ClientErrNoTransport: the configuration allows no transport.
	ClientErrNoTransport
)

var clientErrorNames = [...]string{"", "network", "http", "engine.io", "protocol", "not engine.io", "handshake", "parse", "timeout", "probe", "no transport"}

// clientErrorLabels name the kinds in ClientError.Error.
var clientErrorLabels = [...]string{"", "network error", "", "", "answer framed for another protocol version", "not an Engine.IO answer", "invalid handshake", "invalid packet", "timeout", "probe error", "no transport"}

func (k ClientErrorKind) String() string {
	if int(k) < len(clientErrorNames) {
		return clientErrorNames[k]
	}
	return "unknown"
}

// ClientError describes a failure of a Client with its context.
type ClientError struct {
	Kind ClientErrorKind
	// Op is what failed: "handshake", "poll" (a polling GET), "post",
	// "websocket" (the session's WebSocket) or "probe" (an upgrade probe).
	Op string
	// Transport is "polling" or "websocket".
	Transport string
	// Status is the HTTP status of the answer, 0 when there was none.
	Status int
	// Code is the Engine.IO error code (0-5), -1 when there is none.
	Code int
	// Message is the Engine.IO error message, the host's network error, or
	// what was wrong with a packet.
	Message     string
	ContentType string
	// Body is the start of the offending body or frame (at most 200 bytes).
	Body string
	// ServerProtocol is the protocol version the server seems to speak
	// (ClientErrProtocol), else 0.
	ServerProtocol int
	// Hint says what the failure most likely means and what to check.
	Hint string
}

func (e *ClientError) Error() string {
	b := []byte("engine.io client: ")
	b = append(b, e.Op...)
	if e.Transport != "" {
		b = append(b, " ("...)
		b = append(b, e.Transport...)
		b = append(b, ')')
	}
	b = append(b, ": "...)
	if e.Status != 0 {
		b = append(b, "HTTP "...)
		b = strconv.AppendInt(b, int64(e.Status), 10)
	}
	switch e.Kind {
	case ClientErrEngineIO:
		b = append(b, ", Engine.IO error "...)
		b = strconv.AppendInt(b, int64(e.Code), 10)
		b = append(b, ' ')
		b = strconv.AppendQuote(b, e.Message)
	case ClientErrHTTP:
	default:
		if e.Status != 0 {
			b = append(b, ", "...)
		}
		b = append(b, clientErrorLabels[e.Kind]...)
		if e.Message != "" {
			b = append(b, ": "...)
			b = append(b, e.Message...)
		}
	}
	if e.Kind != ClientErrEngineIO {
		if e.ContentType != "" {
			b = append(b, " ("...)
			b = append(b, e.ContentType...)
			b = append(b, ')')
		}
		if e.Body != "" {
			b = append(b, ", got "...)
			b = strconv.AppendQuote(b, e.Body)
		}
	}
	if e.Hint != "" {
		b = append(b, ": "...)
		b = append(b, e.Hint...)
	}
	return string(b)
}

// bodySnippetLen bounds ClientError.Body.
const bodySnippetLen = 200

func snippet(body []byte) string {
	if len(body) > bodySnippetLen {
		n := bodySnippetLen
		for n > 0 && !utf8.RuneStart(body[n]) {
			n--
		}
		body = body[:n]
	}
	return string(body)
}

func (c *Client) newError(kind ClientErrorKind, op string) *ClientError {
	e := &ClientError{Kind: kind, Op: op, Code: -1, Transport: "polling"}
	if op == "websocket" || op == "probe" || (op == "handshake" && c.ws) {
		e.Transport = "websocket"
	}
	return e
}

// httpError describes an HTTP answer with a status other than 200 (or 101
// for a WebSocket).
func (c *Client) httpError(op string, status int, contentType string, body []byte) *ClientError {
	e := c.newError(ClientErrHTTP, op)
	e.Status, e.ContentType, e.Body = status, contentType, snippet(body)
	if code, msg, ok := parseEIOError(body); ok {
		e.Kind, e.Code, e.Message = ClientErrEngineIO, code, msg
	} else if code := codeOf(string(bytes.TrimSpace(body))); code >= 0 {
		// A refused WebSocket upgrade: a raw 400 whose body is the message.
		e.Kind, e.Code, e.Message = ClientErrEngineIO, code, CodeMessage(code)
	}
	e.Hint = c.hint(e)
	return e
}

// parseEIOError reads an Engine.IO error body: {"code":N,"message":"…"}.
func parseEIOError(body []byte) (code int, message string, ok bool) {
	hasCode, hasMessage := false, false
	valid := jsonObject(body, func(key string, val []byte) {
		switch key {
		case "code":
			if n, ok := jsonInt(val); ok && n >= 0 && n < 1000 {
				code, hasCode = int(n), true
			}
		case "message":
			message, hasMessage = jsonscan.Unquote(val)
		}
	})
	return code, message, valid && hasCode && hasMessage
}

func codeOf(message string) int {
	for i, m := range codeMessages {
		if m == message {
			return i
		}
	}
	return -1
}

// notOpenError describes a handshake answer that is not an open packet:
// framed for the other protocol version, or not Engine.IO at all.
func (c *Client) notOpenError(op string, binary bool, contentType string, data []byte) *ClientError {
	e := c.newError(ClientErrNotEngineIO, op)
	e.ContentType = contentType
	switch {
	case binary:
		e.Body = "binary frame of " + strconv.Itoa(len(data)) + " bytes"
	default:
		e.Body = snippet(data)
	}
	switch {
	case binary:
	case c.proto == 4 && looksV3Open(data):
		e.Kind, e.ServerProtocol = ClientErrProtocol, 3
	case c.proto == 3 && len(data) > 1 && data[0] == '0' && data[1] == '{':
		e.Kind, e.ServerProtocol = ClientErrProtocol, 4
	}
	e.Hint = c.hint(e)
	return e
}

// looksV3Open reports whether b starts as a v3 text payload whose first
// packet is an open packet: "<digits>:0".
func looksV3Open(b []byte) bool {
	i := 0
	for i < len(b) && i < maxLengthDigits && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i > 0 && len(b) > i+1 && b[i] == ':' && b[i+1] == '0'
}

func (c *Client) hint(e *ClientError) string {
	switch e.Kind {
	case ClientErrNetwork:
		if e.Op == "handshake" && !(c.ws && c.wsReady) {
			return "the server could not be reached: check the URL, the port, TLS and proxies"
		}
		return "the connection broke: the network, a proxy or load balancer timeout, or the server went away"
	case ClientErrEngineIO:
		return c.codeHint(e)
	case ClientErrHTTP:
		return httpHint(e, c.hs.MaxPayload)
	case ClientErrProtocol:
		if e.ServerProtocol == 3 {
			return "the server speaks Engine.IO v3 (a socket.io 2.x server): use protocol 3 (the socket.io-client 2.x wire), or upgrade the server to socket.io 3 or later"
		}
		return "the server speaks Engine.IO v4 (socket.io 3 or later): use protocol 4"
	case ClientErrNotEngineIO:
		if e.Transport == "websocket" {
			return "the WebSocket server does not speak Engine.IO: a plain WebSocket server, or a wrong path"
		}
		return "this URL does not lead to an Engine.IO server: a wrong path (Socket.IO serves /socket.io/, a bare Engine.IO server /engine.io/), or a web server or proxy answers it"
	case ClientErrHandshake:
		return "the server's open packet is not a valid Engine.IO handshake"
	case ClientErrParse:
		return "the server sent something the Engine.IO parser cannot read: a proxy that alters the stream, or a server that is not Engine.IO"
	case ClientErrTimeout:
		if c.ws && c.wsReady {
			return "the WebSocket was accepted but no Engine.IO open packet came: a plain WebSocket server waits for the client to speak first, or a wrong path"
		}
		return "the server did not complete the handshake in time: check that it runs and that nothing between blocks the requests"
	}
	return ""
}

func (c *Client) codeHint(e *ClientError) string {
	switch e.Code {
	case CodeUnknownTransport:
		return "the server does not enable the " + e.Transport + " transport: check the transports option on both sides"
	case CodeUnknownSID:
		return "the server does not know this session: it was closed or timed out, or the request reached another server instance (several instances need sticky sessions, or WebSocket only)"
	case CodeBadHandshakeMethod:
		return "an Engine.IO handshake must be a GET request"
	case CodeBadRequest:
		return "the server refused the request: a transport that does not match the session's, a protocol version that differs from the session's, an invalid Origin header, or a middleware error"
	case CodeForbidden:
		return "the server's allowRequest hook refused the connection"
	case CodeUnsupportedProtocol:
		if c.proto == 3 {
			return "the server does not accept Engine.IO v3 (socket.io-client 2.x): enable allowEIO3 on the server, or use protocol 4"
		}
		return "the server does not accept Engine.IO v4: a socket.io 2.x server needs protocol 3"
	}
	return ""
}

func httpHint(e *ClientError, maxPayload int64) string {
	switch {
	case e.Status == 413:
		h := "the payload exceeded the server's maxPayload (maxHttpBufferSize"
		if maxPayload > 0 {
			h += ", " + strconv.FormatInt(maxPayload, 10) + " bytes"
		}
		return h + ")"
	case e.Status == 404:
		return "nothing answers at this path: check the path (Socket.IO serves /socket.io/, a bare Engine.IO server /engine.io/) and the port"
	case e.Status == 401 || e.Status == 403:
		return "the server or a proxy in front of it refused the request: an authentication, origin (CORS) or address rule"
	case isHTML(e.ContentType, e.Body):
		return "the answer is an HTML page, not Engine.IO: a wrong path, or a web server or proxy answers this URL"
	case e.Status == 400 && e.Op != "handshake":
		return "the server closed the session: an overlapping request, a payload it could not parse, or a timeout"
	case e.Status >= 500:
		return "a server or proxy error"
	}
	return "not an Engine.IO answer: check the URL and the path"
}

func isHTML(contentType, body string) bool {
	if len(contentType) >= 9 && contentType[:9] == "text/html" {
		return true
	}
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '<':
			return true
		}
		return false
	}
	return false
}
