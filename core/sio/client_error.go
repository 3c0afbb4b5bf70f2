package sio

import (
	"errors"
	"strconv"
)

// ClientErrorKind classifies how a server broke the Socket.IO protocol.
type ClientErrorKind uint8

const (
	// ClientErrParse: a packet socket.io-client's decoder rejects (Err is
	// the decoder's error). The Client closes the connection with "parse
	// error", as the reference Manager does, and the Manager reconnects.
	ClientErrParse ClientErrorKind = iota + 1
	// ClientErrServerV2: a CONNECT reply without a sid: the server speaks
	// the v4 protocol of socket.io 2.x.
	ClientErrServerV2
	// ClientErrUnexpected: a packet that makes no sense in the state of its
	// namespace (a CONNECT reply to a connected namespace). It is ignored.
	ClientErrUnexpected
)

var clientErrorKindNames = [...]string{"", "parse", "server v2", "unexpected"}

func (k ClientErrorKind) String() string {
	if int(k) < len(clientErrorKindNames) {
		return clientErrorKindNames[k]
	}
	return "unknown"
}

// ClientError describes a protocol violation by the server, with what the
// Client received.
type ClientError struct {
	Kind ClientErrorKind
	// Nsp is the namespace of the packet ("" when it could not be told).
	Nsp string
	// Message says what was wrong.
	Message string
	// Packet is the start of the offending Engine.IO message (at most 200
	// bytes; a binary message is described by its length).
	Packet string
	// Hint says what the failure most likely means and what to check.
	Hint string
	// Err is the decoder's error (ClientErrParse), else nil.
	Err error
}

func (e *ClientError) Error() string {
	b := []byte("socket.io client: ")
	if e.Nsp != "" {
		b = append(b, "namespace "...)
		b = append(b, e.Nsp...)
		b = append(b, ": "...)
	}
	b = append(b, e.Message...)
	if e.Packet != "" {
		b = append(b, ", got "...)
		b = strconv.AppendQuote(b, e.Packet)
	}
	if e.Hint != "" {
		b = append(b, " ("...)
		b = append(b, e.Hint...)
		b = append(b, ')')
	}
	return string(b)
}

func (e *ClientError) Unwrap() error { return e.Err }

// Errors of the Client's commands.
var (
	ErrUnknownNamespace   = errors.New("sio: namespace never connected (call Connect first)")
	ErrInvalidNamespace   = errors.New("sio: a namespace starts with '/' and holds no ','")
	ErrInvalidAuth        = errors.New("sio: auth must be a JSON object")
	ErrInvalidArgs        = errors.New("sio: arguments must be a JSON array")
	ErrTooManyAttachments = errors.New("sio: more binary attachments than the server accepts (10)")
	ErrNotConnected       = errors.New("sio: namespace not connected")
)

const maxSnippet = 200

func packetSnippet(binary bool, data []byte) string {
	if binary {
		return "binary message of " + strconv.Itoa(len(data)) + " bytes"
	}
	if len(data) > maxSnippet {
		return string(data[:maxSnippet]) + "…"
	}
	return string(data)
}

// parseHint explains a decoding failure in terms of its likely cause.
func parseHint(err error) string {
	switch err {
	case ErrReservedEvent:
		return "the server emitted an event name the clients reserve (connect, connect_error, disconnect, disconnecting, newListener, removeListener)"
	case ErrUnexpectedBin, ErrUnexpectedText, ErrPlaceholder, ErrAttachments:
		return "the binary attachments do not match the packet's header: an attachment was lost, duplicated or reordered"
	case ErrMsgpackText:
		return "the client uses socket.io-msgpack-parser, whose packets are binary messages: the server seems to use the default socket.io-parser; both sides must use the same parser"
	case ErrMsgpack:
		return "the client uses socket.io-msgpack-parser: does the server use it too? Both sides must use the same parser"
	case ErrUnknownType:
		return "not a Socket.IO packet: is the server a Socket.IO server, or a plain Engine.IO one?"
	}
	return "the socket.io clients close the connection on such a packet and reconnect"
}
