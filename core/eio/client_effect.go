package eio

// ClientEffectKind says what a host must do for a ClientEffect.
type ClientEffectKind uint8

const (
	// CEffRequest: send HTTP request Conn: Method ("GET" or "POST") to the
	// Engine.IO URL (the host's base URL, path and user query) with Query
	// appended to its query string. A POST carries the body Data with the
	// Content-Type given by Content (ContentText: text/plain;charset=UTF-8,
	// ContentBinary: application/octet-stream). The answer goes to
	// Client.Response, a failure without an answer to Client.ConnFailed.
	CEffRequest ClientEffectKind = iota + 1
	// CEffDial: open WebSocket Conn to the Engine.IO URL with Query appended.
	// Report the outcome with Client.WSOpened, Client.Response (the server
	// answered the upgrade request with another status than 101) or
	// Client.ConnFailed; then frames with Client.Frame and the end with
	// Client.ConnClosed.
	CEffDial
	// CEffWrite: write a frame on WebSocket Conn: Prefix then Data, as a
	// binary frame when Binary is set, else as a text frame.
	CEffWrite
	// CEffCloseConn: close WebSocket Conn (or abandon the dial in progress),
	// or abort HTTP request Conn if it is still in flight. Nothing more is
	// expected on Conn.
	CEffCloseConn
	// CEffOpen: the session is open (the handshake in Handshake). It comes
	// before the effects that flush messages sent while opening.
	CEffOpen
	// CEffMessage: a message from the server: Data, binary when Binary is set.
	CEffMessage
	// CEffUpgrade: the session now runs on the transport named in Text
	// ("websocket"), over WebSocket Conn.
	CEffUpgrade
	// CEffUpgradeError: the upgrade probe failed (Err); the session goes on
	// over polling.
	CEffUpgradeError
	// CEffError: the session failed (Err): a CEffClose follows in the same
	// batch of effects.
	CEffError
	// CEffClose: the session is closed: Text is the reason ("transport
	// close", "transport error", "ping timeout", "forced close"), Desc a
	// description. It is the last effect of the Client.
	CEffClose
)

var clientEffectNames = [...]string{"", "request", "dial", "write", "closeConn", "open", "message", "upgrade", "upgradeError", "error", "close"}

func (k ClientEffectKind) String() string {
	if int(k) < len(clientEffectNames) {
		return clientEffectNames[k]
	}
	return "unknown"
}

// ClientEffect is one instruction from a Client to its host. Prefix and
// Data are valid until the next call into the Client once the host has
// taken the effects: a host copies what it keeps (a POST body it sends
// later, for instance). Two exceptions, as for the Server: the Data of a
// CEffMessage aliases the bytes the host passed in (or is a fresh
// allocation), and the Data of a CEffWrite made by Client.Send on an open
// WebSocket is the caller's own slice.
type ClientEffect struct {
	Kind    ClientEffectKind
	Binary  bool
	Content Content
	Conn    uint64
	Method  string
	Query   string // "EIO=4&transport=polling&sid=…": to append to the URL's query
	Prefix  []byte
	Data    []byte
	Text    string
	Desc    string

	Handshake *Handshake   // CEffOpen
	Err       *ClientError // CEffError, CEffUpgradeError
}

// Handshake is the content of the server's open packet (the tags name its
// JSON keys).
type Handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"` // milliseconds
	PingTimeout  int64    `json:"pingTimeout"`  // milliseconds
	// MaxPayload is the largest payload the server accepts, in bytes (0 when
	// the server did not say: servers before engine.io 6.2, and v3 servers).
	MaxPayload int64 `json:"maxPayload"`
}

// ClientConfig holds a Client's settings.
type ClientConfig struct {
	// Protocol is the Engine.IO protocol version: 4 (socket.io-client 3.x
	// and 4.x, engine.io-client 4+) or 3 (socket.io-client 2.x,
	// engine.io-client 3.x). Any other value means 4.
	Protocol int
	// Transports the client may use (0: both). The session starts on
	// polling when it is allowed, else on WebSocket.
	Transports Transports
	// Upgrade: after a polling handshake that offers "websocket", probe a
	// WebSocket and move the session to it.
	Upgrade bool
	// RememberUpgrade and PriorWebSocketSuccess: when both are set (and
	// WebSocket is allowed), start directly on WebSocket. The host carries
	// PriorWebSocketSuccess from one Client to the next (see
	// Client.PriorWebSocketSuccess), as engine.io-client keeps it in a
	// process-wide flag.
	RememberUpgrade       bool
	PriorWebSocketSuccess bool
	// B64 asks for binary as base64 text: the "b64=1" query parameter, "b"
	// records in polling payloads and base64 text frames on WebSocket. For
	// hosts that cannot carry binary (engine.io-client's forceBase64; a v3
	// client in Node always polls this way).
	B64 bool
	// ConnectTimeout bounds the handshake, in milliseconds (0: no bound).
	// socket.io-client's Manager applies its "timeout" option (20 s) the
	// same way. Without it, a server that accepts a WebSocket and never
	// speaks would hang the client forever.
	ConnectTimeout int64
	// Random fills b with unpredictable bytes. When set, polling requests
	// carry a "t" cache buster as engine.io-client's do.
	Random func(b []byte)
}

// DefaultClientConfig returns engine.io-client 6's defaults: protocol 4,
// polling then WebSocket, upgrade on, and socket.io-client's 20 s connect
// timeout.
func DefaultClientConfig(random func([]byte)) ClientConfig {
	return ClientConfig{
		Protocol:       4,
		Transports:     TransportPolling | TransportWebSocket,
		Upgrade:        true,
		ConnectTimeout: 20000,
		Random:         random,
	}
}
