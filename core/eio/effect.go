package eio

// EffectKind says what a host must do for an Effect.
type EffectKind uint8

const (
	// EffRespond: answer HTTP request Conn with Status, Content and Data;
	// the body is never compressed when NoCompress is set.
	EffRespond EffectKind = iota + 1
	// EffReadBody: read the body of POST request Conn, at most Status bytes,
	// and hand it to Server.Body.
	EffReadBody
	// EffAccept: complete the WebSocket upgrade of request Conn (101). Frames
	// then flow through Server.Frame with the same Conn.
	EffAccept
	// EffReject: refuse the WebSocket upgrade of request Conn with a raw
	// HTTP 400 whose body is Text.
	EffReject
	// EffWrite: write a frame on WebSocket Conn: Prefix then Data, as a
	// binary frame when Binary is set, else as a text frame; never
	// compressed when NoCompress is set.
	EffWrite
	// EffCloseConn: close WebSocket Conn (close code Status, 0 for none).
	EffCloseConn
	// EffOpen: Session opened (the application's "connection" event). It
	// precedes the response to the handshake request Conn.
	EffOpen
	// EffMessage: deliver a message of Session to the application.
	EffMessage
	// EffUpgrade: Session now runs on the WebSocket transport Conn.
	EffUpgrade
	// EffClose: Session closed; Text is the reason, Desc the description.
	EffClose
	// EffError: request Conn was refused with Engine.IO error code Status,
	// message Text and context Data (a JSON object).
	EffError

	// EffUpper is the first kind an upper layer (Socket.IO) may use.
	EffUpper EffectKind = 32
)

// Content is the Content-Type of an EffRespond.
type Content uint8

const (
	ContentNone   Content = iota
	ContentText           // text/plain; charset=UTF-8
	ContentBinary         // application/octet-stream
	ContentHTML           // text/html (the "ok" of a POST)
	ContentJSON           // application/json (error bodies)
)

// Effect is one instruction from the core to its host. Data and Prefix are
// valid until the next call into the Server that produced them: a host copies
// what it keeps. Message data is the exception: it aliases the bytes the host
// passed in, or a fresh allocation, never a buffer the core reuses.
type Effect struct {
	Kind    EffectKind
	Binary  bool
	Content Content
	Session Handle
	Status  int
	Conn    uint64
	Prefix  []byte
	Data    []byte
	Text    string
	Desc    string
	// NoCompress: the frame of an EffWrite carries a packet sent with the
	// reference's compress: false, or every packet in the body of an
	// EffRespond was: the host must not compress it (per-message deflate,
	// HTTP compression). Clear, the host compresses as configured.
	NoCompress bool

	// Fields of the upper layer's effects.
	Nsp         string   // Socket.IO namespace
	ID          int64    // ack id, -1 when none
	Attachments [][]byte // binary attachments, aliasing what the host passed in
}

// Close reasons, as the reference server names them.
const (
	ReasonTransportClose = "transport close"
	ReasonTransportError = "transport error"
	ReasonPingTimeout    = "ping timeout"
	ReasonParseError     = "parse error"
	ReasonForcedClose    = "forced close"
	ReasonShuttingDown   = "server shutting down"
)

// Engine.IO HTTP error codes.
const (
	CodeUnknownTransport    = 0
	CodeUnknownSID          = 1
	CodeBadHandshakeMethod  = 2
	CodeBadRequest          = 3
	CodeForbidden           = 4
	CodeUnsupportedProtocol = 5
)

var codeMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// CodeMessage returns the reference message of an Engine.IO error code.
func CodeMessage(code int) string {
	if code >= 0 && code < len(codeMessages) {
		return codeMessages[code]
	}
	return ""
}
