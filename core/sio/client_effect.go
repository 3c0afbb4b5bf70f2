package sio

// ClientEffectKind says what a host must do for a ClientEffect.
type ClientEffectKind uint8

const (
	// CEffSend: send Data as one Engine.IO message (binary when Binary is
	// set) through the Engine.IO client, in order with the other sends.
	CEffSend ClientEffectKind = iota + 1
	// CEffConnected: namespace Nsp is connected: Text is the socket id,
	// PID the private session id (connection state recovery; "" when the
	// server does not recover sessions) and Recovered says whether the
	// server restored the previous session (it answered with the pid the
	// Client sent). Events buffered while connecting and the sends
	// buffered while not connected precede it, as in socket.io-client.
	CEffConnected
	// CEffConnectError: the server refused namespace Nsp (CONNECT_ERROR):
	// Text is the message, Data the raw JSON of the error's data (nil when
	// it had none). With the v4 protocol (socket.io 2.x servers), Data is
	// the whole raw payload and Text its message when there is one. Err is
	// set when the Client itself found the reply unusable (a CONNECT reply
	// without sid, from a socket.io 2.x server): Text is then the message
	// socket.io-client gives.
	CEffConnectError
	// CEffEvent: an event on Nsp: Name is the event name, Data the raw
	// JSON array of the packet (name first; Args iterates the arguments),
	// Attachments the binary parts its placeholders refer to, ID the ack
	// id the server waits for (answer with Client.Ack) or -1.
	CEffEvent
	// CEffAck: the server acknowledged the emit ID on Nsp with the raw
	// JSON array Data and Attachments.
	CEffAck
	// CEffAckFailed: the ack ID on Nsp will never come: Text is
	// "operation has timed out" (Client.AckTimeout) or "socket has been
	// disconnected". socket.io-client calls only the callbacks that take
	// an error (timeout, emitWithAck) and drops the others silently.
	CEffAckFailed
	// CEffDisconnect: namespace Nsp is no longer connected: Text is the
	// reason ("io server disconnect", "io client disconnect", "parse error"
	// or the Engine.IO close reason: "transport close", "transport error",
	// "ping timeout", "forced close"), Desc a description when there is
	// one. As in socket.io-client it comes for a namespace that was
	// connecting too.
	CEffDisconnect
	// CEffError: the server broke the protocol (Err). A parse error is
	// followed by CEffDisconnect for each namespace and CEffCloseEngine.
	CEffError
	// CEffCloseEngine: close the Engine.IO session (the Client already
	// considers it closed; its close need not be reported): Text is the
	// reason: "parse error" (the server sent an undecodable packet; the
	// Manager reconnects) or "forced close" (no namespace is active any
	// more; the Manager does not reconnect). Sends that precede it must be
	// written first (the Engine.IO client's Close flushes its buffer).
	CEffCloseEngine
)

var clientEffectNames = [...]string{"", "send", "connected", "connectError", "event", "ack", "ackFailed", "disconnect", "error", "closeEngine"}

func (k ClientEffectKind) String() string {
	if int(k) < len(clientEffectNames) {
		return clientEffectNames[k]
	}
	return "unknown"
}

// ClientEffect is one instruction from a Client to its host.
//
// Data and Attachments are valid until the next call into the Client once
// the host has taken the effects: a host copies what it keeps. A CEffSend
// that carries an attachment passed to Emit or Ack is the caller's own
// slice; the Data of a CEffEvent or CEffAck aliases the message passed to
// Message (or is the Client's copy, for packets held across calls).
type ClientEffect struct {
	Kind        ClientEffectKind
	Binary      bool // CEffSend
	Recovered   bool // CEffConnected
	Nsp         string
	ID          int64 // CEffEvent, CEffAck, CEffAckFailed: the ack id, -1 when none
	Name        string
	Text        string
	Desc        string
	PID         string
	Data        []byte
	Attachments [][]byte
	Err         *ClientError
}

// Args iterates the arguments of a CEffEvent (what follows the name).
func (e *ClientEffect) Args() ArrayIter {
	it := NewArrayIter(e.Data)
	if e.Kind == CEffEvent {
		it.Next()
	}
	return it
}

// RecoveryState is what connection state recovery needs to restore a
// namespace's session: the private session id of the last CONNECT reply
// and the offset of the last event received (JSON string values, decoded).
// socket.io-client keeps them as _pid and _lastOffset.
type RecoveryState struct {
	PID    string
	Offset string // "" when no offset was recorded (the server then cannot recover)
}

// Client disconnect reasons (socket.io-client's names).
const (
	ReasonIOServerDisconnect = "io server disconnect"
	ReasonIOClientDisconnect = "io client disconnect"
)

// Ack failure texts (socket.io-client's error messages).
const (
	AckTimedOut     = "operation has timed out"
	AckDisconnected = "socket has been disconnected"
)

// MessageServerV2 is what socket.io-client 3.x/4.x report as connect_error
// when a CONNECT reply has no sid.
const MessageServerV2 = "It seems you are trying to reach a Socket.IO server in v2.x with a v3.x client, but they are not compatible (more information here: https://socket.io/docs/v3/migrating-from-2-x-to-3-0/)"
