package hostnative

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// EncodedPacket is a Socket.IO packet encoded once, whatever the number of
// its recipients: its text part and its binary attachments.
type EncodedPacket struct {
	Nsp         string
	Text        []byte
	Attachments [][]byte
	ID          int64 // ack id, -1 when none
}

// Arguments of emits and acks are encoded as JavaScript's JSON.stringify
// would write them, so peers see the bytes a Node server would send:
//   - []byte becomes a binary attachment (also inside []any and map[string]any);
//   - json.RawMessage is written as is;
//   - strings are not HTML-escaped;
//   - other values go through encoding/json without HTML escaping (map keys
//     are then sorted, Go maps having no order).

// ErrReservedEvent is returned for an emit of a name the clients reserve
// (connect, disconnect, …): their parser would drop the connection.
var ErrReservedEvent = errors.New("siohost: reserved event name")

// ErrNotArray is returned when raw arguments are not a JSON array.
var ErrNotArray = errors.New("siohost: raw arguments must be a JSON array")

func checkEventName(event string) error {
	switch event {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return ErrReservedEvent
	}
	return nil
}

// checkRawArgs accepts a valid JSON array.
func checkRawArgs(args []byte) error {
	if len(args) == 0 || args[0] != '[' || !sio.ValidJSON(args) {
		return ErrNotArray
	}
	return nil
}

// maxArgDepth bounds the nesting of encoded arguments: a cyclic value
// would otherwise recurse without end.
const maxArgDepth = 100

func encodeEvent(nsp string, id int64, event string, args []any) (*EncodedPacket, error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	var atts [][]byte
	body := eio.AppendJSONString([]byte{'['}, event)
	var err error
	for _, a := range args {
		body = append(body, ',')
		if body, err = appendArg(body, a, &atts, 0); err != nil {
			return nil, err
		}
	}
	body = append(body, ']')
	return finishPacket(nsp, id, sio.Event, body, atts), nil
}

// encodeArgs encodes arguments as a raw JSON array and its attachments,
// as emits and acks do (see appendArg).
func encodeArgs(args []any) ([]byte, [][]byte, error) {
	var atts [][]byte
	body := []byte{'['}
	var err error
	for i, a := range args {
		if i > 0 {
			body = append(body, ',')
		}
		if body, err = appendArg(body, a, &atts, 0); err != nil {
			return nil, nil, err
		}
	}
	return append(body, ']'), atts, nil
}

func encodeAck(nsp string, id int64, args []any) (*EncodedPacket, error) {
	body, atts, err := encodeArgs(args)
	if err != nil {
		return nil, err
	}
	return finishPacket(nsp, id, sio.Ack, body, atts), nil
}

// rawPacket re-sends received arguments untouched: the raw JSON array and
// its attachments, placeholders included.
func rawPacket(nsp string, id int64, t sio.PacketType, body []byte, atts [][]byte) *EncodedPacket {
	return finishPacket(nsp, id, t, body, atts)
}

func finishPacket(nsp string, id int64, t sio.PacketType, body []byte, atts [][]byte) *EncodedPacket {
	p := sio.Packet{Type: t, ID: id, Data: body}
	if nsp != "/" {
		p.Nsp = []byte(nsp)
	}
	if len(atts) > 0 {
		p.Attachments = len(atts)
		if t == sio.Event {
			p.Type = sio.BinaryEvent
		} else if t == sio.Ack {
			p.Type = sio.BinaryAck
		}
	}
	return &EncodedPacket{Nsp: nsp, Text: sio.AppendPacket(make([]byte, 0, len(body)+len(nsp)+16), &p), Attachments: atts, ID: id}
}

func appendArg(b []byte, a any, atts *[][]byte, depth int) ([]byte, error) {
	if depth > maxArgDepth {
		return nil, errors.New("siohost: argument nested too deeply (a cycle?)")
	}
	switch v := a.(type) {
	case nil:
		return append(b, "null"...), nil
	case []byte:
		b = append(b, `{"_placeholder":true,"num":`...)
		b = strconv.AppendInt(b, int64(len(*atts)), 10)
		*atts = append(*atts, v)
		return append(b, '}'), nil
	case json.RawMessage:
		if len(v) == 0 {
			return append(b, "null"...), nil
		}
		return append(b, v...), nil
	case string:
		return eio.AppendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case float64:
		return appendNumber(b, v), nil
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendArg(b, e, atts, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = eio.AppendJSONString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendArg(b, v[k], atts, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("siohost: cannot encode argument %T: %w", a, err)
	}
	return append(b, bytes.TrimRight(buf.Bytes(), "\n")...), nil
}

// appendNumber writes a float as JSON.stringify does: integers without a
// fraction, NaN and infinities as null.
func appendNumber(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, '0') // -0 included
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	out := strconv.AppendFloat(b, f, 'e', -1, 64)
	// Go writes e-07 or e+21; JavaScript writes e-7 and e+21.
	for i := len(b); i < len(out)-2; i++ {
		if out[i] == 'e' && out[i+2] == '0' {
			return append(out[:i+2], out[i+3:]...)
		}
	}
	return out
}
