// Package eio is the sans-IO Engine.IO layer of siohost: the packet and
// payload codecs for protocols v3 and v4, and the server session state
// machine. It performs no I/O, starts no goroutines and never reads the
// clock: hosts feed it bytes and the current time and carry out the effects
// it returns. It depends on the standard library alone and stays small enough
// to compile to WebAssembly (no fmt, encoding/json or reflect).
package eio

import "errors"

// PacketType is the Engine.IO packet type, written on the wire as one ASCII
// digit.
type PacketType byte

const (
	Open PacketType = iota
	Close
	Ping
	Pong
	Message
	Upgrade
	Noop
	numTypes
)

var typeNames = [numTypes]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

func (t PacketType) String() string {
	if t < numTypes {
		return typeNames[t]
	}
	return "unknown"
}

// Packet is one Engine.IO packet. Data aliases the buffer it was decoded from
// unless the decoder had to transform it (base64), in which case it is a new
// slice.
type Packet struct {
	Type   PacketType
	Binary bool // a message whose payload is binary
	Data   []byte
}

// Decoding errors. They carry no allocation and are comparable with errors.Is.
var (
	ErrEmptyPacket   = errors.New("eio: empty packet")
	ErrUnknownType   = errors.New("eio: unknown packet type")
	ErrBadBase64     = errors.New("eio: invalid base64 payload")
	ErrBadLength     = errors.New("eio: invalid payload length")
	ErrBinaryNotMsg  = errors.New("eio: binary packet is not a message")
	ErrBadBinaryType = errors.New("eio: invalid binary payload framing")
)

// DecodeText decodes a packet carried as text: a type digit followed by the
// data, as in a WebSocket text frame or one record of a polling payload.
// It never allocates: Data aliases b.
func DecodeText(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	t := b[0] - '0'
	if t >= byte(numTypes) {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: PacketType(t), Data: b[1:]}, nil
}

// DecodeBinaryV4 decodes a v4 WebSocket binary frame: always a message, with
// no type byte.
func DecodeBinaryV4(b []byte) Packet {
	return Packet{Type: Message, Binary: true, Data: b}
}

// DecodeBinaryV3 decodes a v3 WebSocket binary frame, which starts with the
// packet type as a raw byte (0x04 for a message).
func DecodeBinaryV3(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmptyPacket
	}
	if b[0] >= byte(numTypes) {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: PacketType(b[0]), Binary: true, Data: b[1:]}, nil
}

// AppendText appends the text form of a non-binary packet: type digit and
// data.
func AppendText(dst []byte, t PacketType, data []byte) []byte {
	dst = append(dst, '0'+byte(t))
	return append(dst, data...)
}
