// Package sio is the sans-IO Socket.IO layer of siohost: the packet codec of
// protocols v5 (and v4, spoken by socket.io-client 2.x over Engine.IO v3)
// and the per-connection state that sits on an Engine.IO session: namespace
// connections, connect timeouts and binary attachment reassembly. Event
// arguments stay raw JSON, byte for byte; nothing here decodes them.
package sio

import (
	"errors"
	"strconv"
)

// PacketType is the Socket.IO packet type.
type PacketType byte

const (
	Connect PacketType = iota
	Disconnect
	Event
	Ack
	ConnectError
	BinaryEvent
	BinaryAck
)

// MaxAttachments is the reference decoder's limit of binary attachments per
// packet.
const MaxAttachments = 10

// maxID keeps ack ids within JavaScript's safe integers.
const maxID = 1<<53 - 1

// Packet is a decoded Socket.IO packet. Nsp and Data alias the input.
type Packet struct {
	Type        PacketType
	Attachments int    // binary types: the number of attachments that follow
	Nsp         []byte // namespace without the trailing comma; empty for "/"
	ID          int64  // ack id, -1 when absent
	Data        []byte // raw JSON payload, nil when absent
}

// NspName returns the namespace of p, "/" when the packet named none.
func (p *Packet) NspName() string {
	if len(p.Nsp) == 0 {
		return "/"
	}
	return string(p.Nsp)
}

// Decoding errors.
var (
	ErrUnknownType    = errors.New("sio: unknown packet type")
	ErrAttachments    = errors.New("sio: illegal attachments")
	ErrBadID          = errors.New("sio: invalid ack id")
	ErrInvalidJSON    = errors.New("sio: invalid payload")
	ErrInvalidPayload = errors.New("sio: invalid payload for packet type")
	ErrReservedEvent  = errors.New("sio: reserved event name")
	ErrUnexpectedText = errors.New("sio: text received while attachments are pending")
	ErrUnexpectedBin  = errors.New("sio: binary received with no attachment pending")
	ErrPlaceholder    = errors.New("sio: placeholder out of range")
)

// reserved are event names a client may not emit.
var reserved = []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

// Decode decodes the text part of a packet and validates it as the
// reference decoder does. It never allocates.
func Decode(b []byte) (Packet, error) {
	p := Packet{ID: -1}
	if err := splitHeader(&p, b, MaxAttachments); err != nil {
		return p, err
	}
	if p.Data != nil && !ValidJSON(p.Data) {
		return p, ErrInvalidJSON
	}
	return p, validate(&p)
}

// splitHeader splits the text form of a packet into p: type, attachment
// count (1 to maxAttachments), namespace, ack id, and payload (not looked
// at). p's ID is -1 beforehand.
func splitHeader(p *Packet, b []byte, maxAttachments int) error {
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		return ErrUnknownType
	}
	p.Type = PacketType(b[0] - '0')
	i := 1
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		n, start := 0, i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 4 {
			n = n*10 + int(b[i]-'0')
			i++
		}
		if i == start || i >= len(b) || b[i] != '-' || n < 1 || n > maxAttachments {
			return ErrAttachments
		}
		p.Attachments = n
		i++
	}
	if i < len(b) && b[i] == '/' {
		start := i
		for i < len(b) && b[i] != ',' {
			i++
		}
		p.Nsp = b[start:i]
		if i < len(b) {
			i++ // the comma
		}
		if len(p.Nsp) == 1 {
			p.Nsp = nil
		}
	}
	if i < len(b) && b[i] >= '0' && b[i] <= '9' {
		var id int64
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			id = id*10 + int64(b[i]-'0')
			if id > maxID {
				return ErrBadID
			}
			i++
		}
		p.ID = id
	}
	if i < len(b) {
		p.Data = b[i:]
	}
	return nil
}

func validate(p *Packet) error {
	k := kindOf(p.Data)
	switch p.Type {
	case Connect:
		if p.Data != nil && k != kindObject {
			return ErrInvalidPayload
		}
	case Disconnect:
		if p.Data != nil {
			return ErrInvalidPayload
		}
	case ConnectError:
		if k != kindObject && k != kindString {
			return ErrInvalidPayload
		}
	case Ack, BinaryAck:
		if k != kindArray {
			return ErrInvalidPayload
		}
	case Event, BinaryEvent:
		if k != kindArray {
			return ErrInvalidPayload
		}
		it := NewArrayIter(p.Data)
		first, ok := it.Next()
		if !ok {
			return ErrInvalidPayload
		}
		switch kindOf(first) {
		case kindNumber:
		case kindString:
			// Compared decoded ("\u0063onnect" is "connect"), without
			// allocating.
			for _, r := range reserved {
				if unquotedEquals(first, r) {
					return ErrReservedEvent
				}
			}
		default:
			return ErrInvalidPayload
		}
	}
	return nil
}

// EventName returns the name of an event packet's payload (the first
// element, a string, or a number in its JSON spelling) and the raw
// arguments that follow it, as a JSON array without the name.
func EventName(payload []byte) (name string, args ArrayIter) {
	it := NewArrayIter(payload)
	first, _ := it.Next()
	if kindOf(first) == kindString {
		name, _ = Unquote(first)
	} else {
		name = string(first)
	}
	return name, it
}

// AppendPacket encodes the text part of p: type, attachment count, namespace
// (omitted for "/"), ack id and payload.
func AppendPacket(dst []byte, p *Packet) []byte {
	dst = append(dst, '0'+byte(p.Type))
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if len(p.Nsp) > 0 && string(p.Nsp) != "/" {
		dst = append(dst, p.Nsp...)
		dst = append(dst, ',')
	}
	if p.ID >= 0 {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// CheckPlaceholders reports whether every placeholder in payload refers to
// one of n attachments.
func CheckPlaceholders(payload []byte, n int) bool {
	return Placeholders(payload, func(_, _, num int) bool { return num >= 0 && num < n })
}
