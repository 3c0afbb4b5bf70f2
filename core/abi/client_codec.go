package abi

// The client side of the ABI: the records a browser (or any host that has
// transports but no protocol code) writes to drive Socket.IO clients, and
// the effects it reads back. Records share the server's framing (the 8-byte
// input header, the 12-byte output header with its field mask, byte
// strings, lists); only the kinds differ. bindings/ABI.md documents them in
// its client section.

// ClientVersion is the revision of the client section of bindings/ABI.md:
// the value of the module's client_abi_version export. It changes with any
// client layout, kind or meaning, independently of Version.
const ClientVersion = 3

// ClientInputKind is the kind of a client input record.
type ClientInputKind uint8

// Client input record kinds.
const (
	CInCreate     ClientInputKind = 1  // a new client: its handle is the result
	CInDestroy    ClientInputKind = 2  // drop a client (its connections are closed first)
	CInResponse   ClientInputKind = 3  // the HTTP answer to a request (or to a refused WebSocket)
	CInFailed     ClientInputKind = 4  // a request or WebSocket failed without an answer
	CInWSOpened   ClientInputKind = 5  // a WebSocket completed its opening handshake
	CInWSMessage  ClientInputKind = 6  // a WebSocket message
	CInWSClosed   ClientInputKind = 7  // a WebSocket closed, with its close code
	CInTick       ClientInputKind = 8  // run every client's due timers
	CInConnect    ClientInputKind = 9  // socket.connect() of a namespace, with auth
	CInDisconnect ClientInputKind = 10 // socket.disconnect() of a namespace
	CInEmit       ClientInputKind = 11 // socket.emit, with or without an ack
	CInAck        ClientInputKind = 12 // answer an event the server sent with an ack id
	CInCancelAck  ClientInputKind = 13 // stop waiting for an ack (and drop its packet if not sent yet)
	numClientKinds
)

// Flags of client input records.
const (
	// CreateNoReconnection: reconnection: false.
	CreateNoReconnection = 1 << 0
	// CreateNoUpgrade: upgrade: false (stay on the first transport).
	CreateNoUpgrade = 1 << 1
	// CreateJitter: the jitter field is meant (else 0.5).
	CreateJitter = 1 << 2
	// CreateProtocol3: speak Engine.IO 3 (socket.io 2.x servers).
	CreateProtocol3 = 1 << 3
	// CreateBase64: binary as base64 text (forceBase64).
	CreateBase64 = 1 << 4
	// CreateRememberUpgrade: rememberUpgrade; the core reports changes of
	// its prior-WebSocket-success flag with priorWebSocket effects.
	CreateRememberUpgrade = 1 << 5
	// CreatePriorWebSocket: an earlier session worked over WebSocket (with
	// CreateRememberUpgrade: start there).
	CreatePriorWebSocket = 1 << 6
	// CreateNoTimeout: no handshake bound (the timeout field is ignored).
	CreateNoTimeout = 1 << 7
	createAll       = CreateNoReconnection | CreateNoUpgrade | CreateJitter | CreateProtocol3 |
		CreateBase64 | CreateRememberUpgrade | CreatePriorWebSocket | CreateNoTimeout

	// ConnectAuthHost: the host computes the namespace's auth before
	// each CONNECT of a later session: the core asks with an auth effect
	// and waits for the answer (a connect record, or a disconnect one).
	ConnectAuthHost = 1 << 0

	// EmitAck: the emit waits for an ack (its id is the result).
	EmitAck = 1 << 0
	// EmitVolatile: drop the emit unless the transport can take it now.
	EmitVolatile = 1 << 1
)

// Parsers of a create record (version 3): the packet encoding.
const (
	ParserJSON    = 0 // socket.io-parser, the default
	ParserMsgpack = 1 // socket.io-msgpack-parser 3 (Engine.IO 4 only)
)

// Transport bits of a create record (0: both).
const (
	ClientPolling   = 1
	ClientWebSocket = 2
)

// ClientOptions is the content of a create record (socket.io-client's
// Manager options that the core implements). Zero values mean defaults.
type ClientOptions struct {
	Transports       uint32 // ClientPolling | ClientWebSocket; 0: both
	Timeout          uint32 // handshake bound, ms; 0: 20000
	Attempts         uint32 // reconnectionAttempts; 0: unlimited
	Delay, DelayMax  uint32 // reconnectionDelay(Max), ms; 0: 1000, 5000
	JitterMillionths uint32 // randomizationFactor × 10^6, with CreateJitter
	Parser           uint32 // the packet encoding (version 3): ParserJSON or ParserMsgpack
	NoReconnection   bool
	NoUpgrade        bool
	JitterGiven      bool
	Protocol3        bool
	Base64           bool
	RememberUpgrade  bool
	PriorWebSocket   bool
	NoTimeout        bool
}

// ClientInput is one decoded client input record; byte fields alias the
// buffer it was decoded from.
type ClientInput struct {
	Kind   ClientInputKind
	Flags  uint8
	Client uint32
	Conn   uint32
	// Num: response status, wsClosed code, emit timeout (ms, 0: none), ack id.
	Num         uint32
	Nsp         []byte
	Text        []byte // response content type, failed message, emit event
	Data        []byte // response body, message data, connect auth (nil: none), emit/ack args
	Attachments [][]byte
	Options     ClientOptions
}

// Binary reports the binary flag of a wsMessage record.
func (in *ClientInput) Binary() bool { return in.Flags&flagOne != 0 }

// ClientInputs decodes batches of client input records, reusing its memory.
type ClientInputs struct {
	List []ClientInput
	slab [][]byte
}

// Decode decodes n records from the start of b. Nothing is decoded when one
// record is invalid.
func (ins *ClientInputs) Decode(b []byte, n int) error {
	clear(ins.slab)
	ins.slab = ins.slab[:0]
	var err error
	ins.List, err = decodeBatch(b, n, ins.List, ins.decodeOne)
	return err
}

func (ins *ClientInputs) decodeOne(b []byte, in *ClientInput) ([]byte, error) {
	kind, flags, r, rest, err := recordHeader(b)
	if err != nil {
		return nil, err
	}
	*in = ClientInput{Kind: ClientInputKind(kind), Flags: flags}
	allowed := uint8(0)
	switch in.Kind {
	case CInCreate:
		allowed = createAll
		o := &in.Options
		o.Transports, o.Timeout, o.Attempts = r.u32(), r.u32(), r.u32()
		o.Delay, o.DelayMax, o.JitterMillionths = r.u32(), r.u32(), r.u32()
		o.Parser = r.u32()
		o.NoReconnection = in.Flags&CreateNoReconnection != 0
		o.NoUpgrade = in.Flags&CreateNoUpgrade != 0
		o.JitterGiven = in.Flags&CreateJitter != 0
		o.Protocol3 = in.Flags&CreateProtocol3 != 0
		o.Base64 = in.Flags&CreateBase64 != 0
		o.RememberUpgrade = in.Flags&CreateRememberUpgrade != 0
		o.PriorWebSocket = in.Flags&CreatePriorWebSocket != 0
		o.NoTimeout = in.Flags&CreateNoTimeout != 0
		if o.Transports > ClientPolling|ClientWebSocket || o.JitterMillionths > 1e6 ||
			o.Parser > ParserMsgpack || o.Parser == ParserMsgpack && o.Protocol3 {
			r.fail(ErrBadInput)
		}
	case CInDestroy:
		in.Client = r.u32()
	case CInResponse:
		in.Client, in.Conn, in.Num = r.u32(), r.u32(), r.u32()
		in.Text, in.Data = r.str(), r.bytes()
	case CInFailed:
		in.Client, in.Conn = r.u32(), r.u32()
		in.Text = r.str()
	case CInWSOpened:
		in.Client, in.Conn = r.u32(), r.u32()
	case CInWSMessage:
		allowed = flagOne
		in.Client, in.Conn = r.u32(), r.u32()
		in.Data = r.bytes()
	case CInWSClosed:
		in.Client, in.Conn, in.Num = r.u32(), r.u32(), r.u32()
	case CInTick:
	case CInConnect:
		allowed = ConnectAuthHost
		in.Client = r.u32()
		in.Nsp, in.Data = r.str(), r.bytes()
	case CInDisconnect:
		in.Client = r.u32()
		in.Nsp = r.str()
	case CInEmit:
		allowed = EmitAck | EmitVolatile
		in.Client, in.Num = r.u32(), r.u32()
		in.Nsp, in.Text, in.Data = r.str(), r.str(), r.bytes()
		ins.slab, in.Attachments = r.list(ins.slab)
	case CInAck:
		in.Client, in.Num = r.u32(), r.u32()
		in.Nsp, in.Data = r.str(), r.bytes()
		ins.slab, in.Attachments = r.list(ins.slab)
	case CInCancelAck:
		in.Client, in.Num = r.u32(), r.u32()
		in.Nsp = r.str()
	default:
		return nil, ErrUnknownInput
	}
	if err := recordEnd(&r, in.Flags, allowed); err != nil {
		return nil, err
	}
	return rest, nil
}

// ClientEncoder writes client input records (what the JavaScript host does
// by hand; Go uses it in tests and native hosts of the same contract).
type ClientEncoder struct{ Encoder }

func (e *ClientEncoder) begin(k ClientInputKind, flags uint8) int {
	return e.Encoder.begin(InputKind(k), flags)
}

// Create adds the creation of a client.
func (e *ClientEncoder) Create(o ClientOptions) {
	flags := b2u(o.NoReconnection)*CreateNoReconnection | b2u(o.NoUpgrade)*CreateNoUpgrade | b2u(o.JitterGiven)*CreateJitter |
		b2u(o.Protocol3)*CreateProtocol3 | b2u(o.Base64)*CreateBase64 | b2u(o.RememberUpgrade)*CreateRememberUpgrade |
		b2u(o.PriorWebSocket)*CreatePriorWebSocket | b2u(o.NoTimeout)*CreateNoTimeout
	off := e.begin(CInCreate, flags)
	for _, v := range [...]uint32{o.Transports, o.Timeout, o.Attempts, o.Delay, o.DelayMax, o.JitterMillionths, o.Parser} {
		e.buf = appendU32(e.buf, v)
	}
	e.end(off)
}

func (e *ClientEncoder) u32s(k ClientInputKind, flags uint8, vs ...uint32) int {
	off := e.begin(k, flags)
	for _, v := range vs {
		e.buf = appendU32(e.buf, v)
	}
	return off
}

// Destroy adds the end of client c.
func (e *ClientEncoder) Destroy(c uint32) { e.end(e.u32s(CInDestroy, 0, c)) }

// Response adds the HTTP answer to request conn of client c.
func (e *ClientEncoder) Response(c, conn uint32, status int, contentType string, body []byte) {
	off := e.u32s(CInResponse, 0, c, conn, uint32(status))
	e.buf = appendString(e.buf, contentType)
	e.buf = appendBytes(e.buf, body)
	e.end(off)
}

// Failed adds the failure of request or WebSocket conn.
func (e *ClientEncoder) Failed(c, conn uint32, message string) {
	off := e.u32s(CInFailed, 0, c, conn)
	e.buf = appendString(e.buf, message)
	e.end(off)
}

// WSOpened adds the opening of WebSocket conn.
func (e *ClientEncoder) WSOpened(c, conn uint32) { e.end(e.u32s(CInWSOpened, 0, c, conn)) }

// WSMessage adds a message received on WebSocket conn.
func (e *ClientEncoder) WSMessage(c, conn uint32, binary bool, data []byte) {
	off := e.u32s(CInWSMessage, b2u(binary), c, conn)
	e.buf = appendBytes(e.buf, data)
	e.end(off)
}

// WSClosed adds the close of WebSocket conn with its close code.
func (e *ClientEncoder) WSClosed(c, conn uint32, code int) {
	e.end(e.u32s(CInWSClosed, 0, c, conn, uint32(code)))
}

// Tick adds a run of every client's due timers.
func (e *ClientEncoder) Tick() { e.end(e.begin(CInTick, 0)) }

// Connect adds socket.connect() of namespace nsp with auth (a JSON object,
// nil for none); flags may hold ConnectAuthHost.
func (e *ClientEncoder) Connect(c uint32, nsp string, auth []byte, flags uint8) {
	off := e.u32s(CInConnect, flags, c)
	e.buf = appendString(e.buf, nsp)
	e.buf = appendBytes(e.buf, auth)
	e.end(off)
}

// Disconnect adds socket.disconnect() of namespace nsp.
func (e *ClientEncoder) Disconnect(c uint32, nsp string) {
	off := e.u32s(CInDisconnect, 0, c)
	e.buf = appendString(e.buf, nsp)
	e.end(off)
}

// Emit adds an emit: args is the raw JSON array of the arguments (without
// the event name; placeholders for the attachments), timeout the ack
// timeout in ms (0: none).
func (e *ClientEncoder) Emit(c uint32, nsp, event string, args []byte, attachments [][]byte, flags uint8, timeout uint32) {
	off := e.u32s(CInEmit, flags, c, timeout)
	e.buf = appendString(e.buf, nsp)
	e.buf = appendString(e.buf, event)
	e.buf = appendBytes(e.buf, args)
	e.buf = appendList(e.buf, attachments)
	e.end(off)
}

// Ack adds the answer to event id of namespace nsp.
func (e *ClientEncoder) Ack(c uint32, nsp string, id uint32, args []byte, attachments [][]byte) {
	off := e.u32s(CInAck, 0, c, id)
	e.buf = appendString(e.buf, nsp)
	e.buf = appendBytes(e.buf, args)
	e.buf = appendList(e.buf, attachments)
	e.end(off)
}

// CancelAck adds the end of the wait for ack id of namespace nsp.
func (e *ClientEncoder) CancelAck(c uint32, nsp string, id uint32) {
	off := e.u32s(CInCancelAck, 0, c, id)
	e.buf = appendString(e.buf, nsp)
	e.end(off)
}

// Client effect kinds: the kind byte of the output records of
// client_process. The Session field of a record is the client's handle.
const (
	CEffRequest          = 1  // conn; text method; desc query; content; data body (POST)
	CEffWSOpen           = 2  // conn; desc query
	CEffWSSend           = 3  // conn; binary; prefix then data
	CEffConnClose        = 4  // conn: close the WebSocket or abort the request
	CEffEngineOpen       = 5  // text transport; desc Engine.IO session id
	CEffUpgrade          = 6  // text transport ("websocket")
	CEffUpgradeError     = 7  // text message; desc description
	CEffEngineClose      = 8  // text reason; desc description; data JSON context of a transport failure
	CEffEngineError      = 9  // a session failed to open: text message; desc description; data JSON context
	CEffAuth             = 10 // nsp: the host answers with its auth (connect) or leaves (disconnect)
	CEffPriorWebSocket   = 11 // binary: whether the last session worked over WebSocket (rememberUpgrade)
	CEffEngineDropped    = 12 // the session opening was given up (no namespace needs it any more)
	CEffConnected        = 32 // nsp; text socket id; desc pid; binary recovered
	CEffConnectError     = 33 // nsp; status source; text message; desc description; data
	CEffEvent            = 34 // nsp; text event name; data raw JSON array (name first); id (-1: none); attachments
	CEffAck              = 35 // nsp; id; data raw JSON array; attachments
	CEffAckFailed        = 36 // nsp; id; text reason
	CEffDisconnect       = 37 // nsp; text reason; desc description
	CEffError            = 38 // nsp; text message (a protocol violation or a refused command)
	CEffReconnectAttempt = 39 // status attempt number (from 1)
	CEffReconnect        = 40 // status attempts it took
	CEffReconnectError   = 41 // text message; desc description
	CEffReconnectFailed  = 42 // reconnectionAttempts exhausted
)

// Sources of a connect error (its status field).
const (
	ConnectErrServer    = 0 // CONNECT_ERROR from the server: data is its JSON data (nil: none)
	ConnectErrTransport = 1 // the Engine.IO session failed: desc says why, data is a JSON context
	ConnectErrProtocol  = 2 // the server's reply is unusable (a socket.io 2.x server)
)

// Results of an emit record besides an ack id (>= 0).
const (
	EmitNoAck   = -1 // sent or buffered, no ack asked
	EmitDropped = -2 // volatile and the transport was busy
	EmitRefused = -3 // invalid: an error effect says why
)
