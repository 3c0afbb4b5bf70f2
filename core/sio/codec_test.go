package sio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/siohost/siohost/internal/testvec"
	"github.com/stretchr/testify/require"
)

// The golden vectors live in core/testdata/sio/*.json, in a language-neutral
// format (described by the "format" field of each file) so that a
// WebAssembly build can replay them unchanged. They are derived from the
// protocol facts (PROTOCOL.md section 3, socket.io-parser 4.2.x), never
// recorded from this code. packets.json and errors.json hold codec vectors
// (ops decode and encode); json.json holds JSON scanner vectors (ops valid,
// elements, unquote, placeholders, event_name; see json_test.go).
const vectorGlob = "../testdata/sio/*.json"

// vecBytes is a byte string: exactly one of text (UTF-8) or hex.
type vecBytes = testvec.Bytes

// vecPacket is a packet in vector form: Nsp is "/" for the main namespace
// and Data is null when the packet has no payload.
type vecPacket struct {
	Type        int       `json:"type"`
	Attachments int       `json:"attachments"`
	Nsp         string    `json:"nsp"`
	ID          int64     `json:"id"`
	Data        *vecBytes `json:"data"`
}

type vecPlaceholder struct {
	Raw vecBytes `json:"raw"`
	Num int      `json:"num"`
}

type vecCheck struct {
	Attachments int  `json:"attachments"`
	OK          bool `json:"ok"`
}

type vector struct {
	Name   string     `json:"name"`
	Op     string     `json:"op"`
	Note   string     `json:"note,omitempty"`
	Input  *vecBytes  `json:"input,omitempty"`
	Packet *vecPacket `json:"packet,omitempty"`
	Error  string     `json:"error,omitempty"`
	Output *vecBytes  `json:"output,omitempty"`

	// decode of a binary packet: placeholder nums in document order; for
	// op placeholders the placeholder objects and range checks.
	Placeholders json.RawMessage `json:"placeholders,omitempty"`
	Checks       []vecCheck      `json:"checks,omitempty"`

	// JSON scanner ops.
	Valid    *bool      `json:"valid,omitempty"`
	Elements []vecBytes `json:"elements,omitempty"`
	Event    *string    `json:"event,omitempty"`
	Args     []vecBytes `json:"args,omitempty"`
}

type vectorFile = testvec.File[vector]

// vectorErrors maps the language-neutral error names of the codec vectors
// to the decoder's errors.
var vectorErrors = map[string]error{
	"unknown_type":        ErrUnknownType,
	"illegal_attachments": ErrAttachments,
	"bad_id":              ErrBadID,
	"invalid_json":        ErrInvalidJSON,
	"invalid_payload":     ErrInvalidPayload,
	"reserved_event":      ErrReservedEvent,
}

func loadVectorFiles(t testing.TB) []vectorFile {
	t.Helper()
	return testvec.Load[vector](t, vectorGlob, 3)
}

// vectorsOf returns the vectors of the given ops from every file.
func vectorsOf(t testing.TB, ops ...string) []vector {
	t.Helper()
	var out []vector
	for _, nf := range loadVectorFiles(t) {
		for _, v := range nf.Vectors {
			for _, op := range ops {
				if v.Op == op {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

// cmpPacket is the comparable, printable form of a packet.
type cmpPacket struct {
	Type        PacketType
	Attachments int
	Nsp         string
	ID          int64
	Data        string
	HasData     bool
}

func toCmp(p Packet) cmpPacket {
	return cmpPacket{p.Type, p.Attachments, p.NspName(), p.ID, string(p.Data), p.Data != nil}
}

func (v *vecPacket) packet(t testing.TB) Packet {
	t.Helper()
	require.True(t, v.Type >= 0 && v.Type <= 6, "packet type %d", v.Type)
	require.True(t, v.ID >= -1 && v.ID <= maxID, "ack id %d", v.ID)
	require.True(t, strings.HasPrefix(v.Nsp, "/"), "nsp %q", v.Nsp)
	p := Packet{Type: PacketType(v.Type), Attachments: v.Attachments, ID: v.ID}
	if v.Type == int(BinaryEvent) || v.Type == int(BinaryAck) {
		require.True(t, v.Attachments >= 1 && v.Attachments <= MaxAttachments, "attachments %d", v.Attachments)
	} else {
		require.Zero(t, v.Attachments)
	}
	if v.Nsp != "/" {
		p.Nsp = []byte(v.Nsp)
	}
	if v.Data != nil {
		p.Data = v.Data.Get(t)
	}
	return p
}

// window returns in as the middle of a larger buffer whose next bytes could
// continue a valid packet, with the capacity capped: a decoder that reslices
// past its input panics instead of reading them.
func window(in []byte) []byte {
	buf := append([]byte("999"), in...)
	buf = append(buf, `,1["x"]}]`...)
	return buf[3 : 3+len(in) : 3+len(in)]
}

func TestPacketVectors(t *testing.T) {
	files := loadVectorFiles(t)
	seenErrs := map[string]bool{}
	decTypes := map[int]bool{}
	encTypes := map[int]bool{}
	for _, nf := range files {
		names := map[string]bool{}
		for _, v := range nf.Vectors {
			key := v.Op + " " + v.Name
			require.False(t, names[key], "%s: duplicate vector %q", nf.Name, key)
			names[key] = true
			switch v.Op {
			case "decode":
				t.Run(nf.Name+"/"+key, func(t *testing.T) { checkDecodeVector(t, v) })
				if v.Error != "" {
					seenErrs[v.Error] = true
				} else {
					decTypes[v.Packet.Type] = true
				}
			case "encode":
				t.Run(nf.Name+"/"+key, func(t *testing.T) { checkEncodeVector(t, v) })
				encTypes[v.Packet.Type] = true
			}
		}
	}
	for name := range vectorErrors {
		require.True(t, seenErrs[name], "no vector expects error %s", name)
	}
	for typ := 0; typ <= 6; typ++ {
		require.True(t, decTypes[typ], "no decode vector of type %d", typ)
		require.True(t, encTypes[typ], "no encode vector of type %d", typ)
	}
}

func checkDecodeVector(t *testing.T, v vector) {
	require.Nil(t, v.Output, "decode vectors have no output")
	in := window(v.Input.Get(t))
	got, err := Decode(in)
	if v.Error != "" {
		require.Nil(t, v.Packet, "error vectors have no packet")
		wantErr, ok := vectorErrors[v.Error]
		require.True(t, ok, "unknown error name %q", v.Error)
		require.ErrorIs(t, err, wantErr)
		return
	}
	require.NoError(t, err)
	require.NotNil(t, v.Packet)
	want := v.Packet.packet(t)
	require.Equal(t, toCmp(want), toCmp(got))
	if got.Data != nil {
		require.Same(t, &in[len(in)-len(got.Data)], &got.Data[0], "Data aliases the input")
	}

	// The placeholders of a binary packet, in document order.
	if v.Placeholders != nil {
		var want []int
		require.NoError(t, json.Unmarshal(v.Placeholders, &want))
		var nums []int
		require.True(t, Placeholders(got.Data, func(_, _, num int) bool {
			nums = append(nums, num)
			return true
		}))
		require.Equal(t, want, append([]int{}, nums...))
	}

	// Re-encoding gives a packet that decodes to the same packet.
	enc := AppendPacket(nil, &got)
	back, err := Decode(enc)
	require.NoError(t, err, "re-encoded as %q", enc)
	require.Equal(t, toCmp(got), toCmp(back))
}

func checkEncodeVector(t *testing.T, v vector) {
	require.Nil(t, v.Input, "encode vectors have no input")
	require.Empty(t, v.Error, "encode vectors have no error")
	p := v.Packet.packet(t)
	want := v.Output.Get(t)

	require.Equal(t, string(want), string(AppendPacket(nil, &p)))
	// Appending keeps what dst holds, with or without spare capacity.
	require.Equal(t, "prefix"+string(want), string(AppendPacket([]byte("prefix"), &p)))
	roomy := append(make([]byte, 0, 4096), "prefix"...)
	require.Equal(t, "prefix"+string(want), string(AppendPacket(roomy, &p)))
	// The main namespace may be spelled "/" as well as left empty.
	if p.Nsp == nil {
		p2 := p
		p2.Nsp = []byte("/")
		require.Equal(t, string(want), string(AppendPacket(nil, &p2)))
	}

	// The output decodes back to the same packet.
	back, err := Decode(want)
	require.NoError(t, err)
	require.Equal(t, toCmp(p), toCmp(back))
}

// refDecode is an independent model of the decoder, written from the
// socket.io-parser 4.2.x decodeString rules (PROTOCOL.md 3.2) with
// encoding/json doing the JSON work, plus siohost's documented strictness:
//   - the attachment count is 1 to 4 decimal digits worth 1..MaxAttachments
//     (the reference accepts anything Number() reads as an integer >= 0);
//   - the ack id is a run of ASCII digits worth at most 2^53-1 (the
//     reference also reads white space as digits: Number(" ") == 0);
//   - the payload starts right at its first byte (white space there is
//     invalid), its strings are valid UTF-8 and it nests at most 512 deep;
//   - EVENT, ACK, CONNECT_ERROR and the binary types need a payload (the
//     reference skips validation when there is none).
func refDecode(in []byte) (Packet, error) {
	s := string(in)
	p := Packet{ID: -1}
	if s == "" || s[0] < '0' || s[0] > '6' {
		return p, ErrUnknownType
	}
	p.Type = PacketType(s[0] - '0')
	i := 1
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		dash := strings.IndexByte(s[1:], '-')
		if dash < 0 {
			return p, ErrAttachments
		}
		count := s[1 : 1+dash]
		if count == "" || len(count) > 4 || strings.Trim(count, "0123456789") != "" {
			return p, ErrAttachments
		}
		n, _ := strconv.Atoi(count)
		if n < 1 || n > MaxAttachments {
			return p, ErrAttachments
		}
		p.Attachments = n
		i = 2 + dash
	}
	if i < len(s) && s[i] == '/' {
		end := strings.IndexByte(s[i:], ',')
		if end < 0 {
			end = len(s) - i
		}
		if nsp := in[i : i+end]; string(nsp) != "/" {
			p.Nsp = nsp
		}
		i += end + 1
		if i > len(s) {
			i = len(s)
		}
	}
	if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		digits := strings.TrimLeft(s[i:j], "0")
		if len(digits) > 16 {
			return p, ErrBadID
		}
		id, _ := strconv.ParseInt("0"+digits, 10, 64)
		if id > 1<<53-1 {
			return p, ErrBadID
		}
		p.ID = id
		i = j
	}
	if i < len(s) {
		p.Data = in[i:]
		if !refValid(p.Data) {
			return p, ErrInvalidJSON
		}
	}
	if p.Data == nil {
		if p.Type == Connect || p.Type == Disconnect {
			return p, nil
		}
		return p, ErrInvalidPayload
	}
	if c := p.Data[0]; c == ' ' || c == '\t' || c == '\n' || c == '\r' {
		return p, ErrInvalidPayload
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(p.Data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		panic("refValid accepted what encoding/json cannot decode: " + err.Error())
	}
	switch p.Type {
	case Connect:
		if _, ok := v.(map[string]any); !ok {
			return p, ErrInvalidPayload
		}
	case Disconnect:
		return p, ErrInvalidPayload
	case ConnectError:
		switch v.(type) {
		case string, map[string]any:
		default:
			return p, ErrInvalidPayload
		}
	case Ack, BinaryAck:
		if _, ok := v.([]any); !ok {
			return p, ErrInvalidPayload
		}
	case Event, BinaryEvent:
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			return p, ErrInvalidPayload
		}
		switch name := arr[0].(type) {
		case json.Number:
		case string:
			for _, r := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
				if name == r {
					return p, ErrReservedEvent
				}
			}
		default:
			return p, ErrInvalidPayload
		}
	}
	return p, nil
}

// The model agrees with the golden vectors, so comparing Decode with it
// (TestDecodeMatchesModel, FuzzDecode) extends the vectors to any input.
func TestReferenceModelVectors(t *testing.T) {
	for _, v := range vectorsOf(t, "decode") {
		in := v.Input.Get(t)
		got, err := refDecode(in)
		if v.Error != "" {
			require.ErrorIs(t, err, vectorErrors[v.Error], v.Name)
			continue
		}
		require.NoError(t, err, v.Name)
		require.Equal(t, toCmp(v.Packet.packet(t)), toCmp(got), v.Name)
	}
}

// checkDecode compares Decode with the model and checks the invariants of
// a decoded packet: fields alias the input, and re-encoding round-trips.
func checkDecode(t testing.TB, in []byte) {
	t.Helper()
	got, err := Decode(in)
	want, wantErr := refDecode(in)
	if !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
		t.Fatalf("Decode(%q): error %v, model %v", in, err, wantErr)
	}
	if err != nil {
		return
	}
	if toCmp(got) != toCmp(want) {
		t.Fatalf("Decode(%q) = %+v, model %+v", in, toCmp(got), toCmp(want))
	}
	if !within(got.Data, in) || !within(got.Nsp, in) {
		t.Fatalf("Decode(%q): Nsp or Data does not alias the input", in)
	}
	enc := AppendPacket(nil, &got)
	back, err := Decode(enc)
	if err != nil || toCmp(back) != toCmp(got) {
		t.Fatalf("Decode(%q) re-encoded as %q decodes to %+v, %v", in, enc, toCmp(back), err)
	}
}

func TestDecodeMatchesModel(t *testing.T) {
	for _, v := range vectorsOf(t, "decode") {
		in := v.Input.Get(t)
		checkDecode(t, in)
		// Every prefix and a few one-byte edits of each vector.
		for n := range in {
			checkDecode(t, in[:n])
		}
		for i := range in {
			for _, c := range []byte{'-', '/', ',', '0', '9', '[', ']', '"', ' ', 'x', '{', '}'} {
				edited := bytes.Clone(in)
				edited[i] = c
				checkDecode(t, edited)
			}
		}
	}
	for _, in := range []string{
		"5001-[1]", "50001-[1]", "510-[1]", "5010-[1]", "50010-[1]", "6010-0[]",
		"2/,[1]", "2/,,[1]", "2//,[1]", "0/,", "0/a,/b", "1/a,1", "3/a,0[]",
		"29007199254740991[1]", "2009007199254740991[1]", "29007199254740992[1]", "2000000000000000000000000001[1]",
		`2["\ud800"]`, `2["connect\u0000"]`, `2["conne\u0063t"]`, `2["\/connect"]`, `2["connect` + "\xc0" + `"]`,
	} {
		checkDecode(t, []byte(in))
	}
}

func TestDecodeAliasesInput(t *testing.T) {
	in := []byte(`2/admin,456["project:delete",123]`)
	p, err := Decode(in)
	require.NoError(t, err)
	require.Same(t, &in[1], &p.Nsp[0])
	require.Same(t, &in[11], &p.Data[0])
	require.Equal(t, "/admin", p.NspName())

	p, err = Decode([]byte("0/"))
	require.NoError(t, err)
	require.Nil(t, p.Nsp, `"/" is the main namespace`)
	require.Equal(t, "/", p.NspName())
	require.Nil(t, p.Data)
	require.Equal(t, int64(-1), p.ID)
}

func TestDecodeDepthLimit(t *testing.T) {
	ok := `2["a",` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + "]"
	_, err := Decode([]byte(ok))
	require.NoError(t, err)
	deep := `2["a",` + strings.Repeat("[", 512) + strings.Repeat("]", 512) + "]"
	_, err = Decode([]byte(deep))
	require.ErrorIs(t, err, ErrInvalidJSON)
	// Hostile nesting fails fast and without exhausting the stack.
	huge := "2" + strings.Repeat("[", 1<<20)
	_, err = Decode([]byte(huge))
	require.ErrorIs(t, err, ErrInvalidJSON)
}

func TestCheckPlaceholders(t *testing.T) {
	ph := func(n int) string { return `{"_placeholder":true,"num":` + strconv.Itoa(n) + "}" }
	two := `["m",` + ph(0) + "," + ph(1) + "]"
	require.True(t, CheckPlaceholders([]byte(two), 2))
	require.True(t, CheckPlaceholders([]byte(two), 10))
	require.False(t, CheckPlaceholders([]byte(two), 1))
	require.False(t, CheckPlaceholders([]byte(two), 0))
	require.True(t, CheckPlaceholders([]byte(`["m",1]`), 0))
	require.False(t, CheckPlaceholders([]byte(`["m",{"_placeholder":true}]`), 1))
	require.False(t, CheckPlaceholders([]byte(`["m",{"_placeholder":true,"num":-1}]`), 1))
	// Placeholders may repeat or skip attachments; only the range counts.
	require.True(t, CheckPlaceholders([]byte(`[`+ph(1)+","+ph(1)+"]"), 2))
}

// TestDecodeZeroAllocs pins the allocation-free paths: decoding (including
// the reserved-name check of an escaped name), validating and walking the
// payload, and encoding into a reused buffer.
func TestDecodeZeroAllocs(t *testing.T) {
	msg := []byte(`2["message",1,"2",{"3":[true]}]`)
	escaped := []byte(`2/admin,12["\u0063onnecx",{"a":"\ud83d\ude00"}]`)
	reservedEsc := []byte(`2["\u0063onnect"]`)
	bin := []byte(`52-789["message-with-ack",{"_placeholder":true,"num":0},{"\u005fplaceholder":true,"num":1}]`)
	buf := make([]byte, 0, 256)
	var p Packet
	cases := []struct {
		name string
		f    func()
	}{
		{"Decode", func() {
			var err error
			if p, err = Decode(msg); err != nil {
				panic(err)
			}
		}},
		{"Decode escaped name", func() {
			if _, err := Decode(escaped); err != nil {
				panic(err)
			}
		}},
		{"Decode reserved escaped name", func() {
			if _, err := Decode(reservedEsc); err != ErrReservedEvent {
				panic(err)
			}
		}},
		{"Decode binary + CheckPlaceholders", func() {
			q, err := Decode(bin)
			if err != nil || !CheckPlaceholders(q.Data, q.Attachments) {
				panic("binary")
			}
		}},
		{"ValidJSON", func() {
			if !ValidJSON(msg[1:]) {
				panic("valid")
			}
		}},
		{"ArrayIter", func() {
			it := NewArrayIter(msg[1:])
			for {
				if _, ok := it.Next(); !ok {
					break
				}
			}
		}},
		{"AppendPacket", func() { buf = AppendPacket(buf[:0], &p) }},
	}
	for _, c := range cases {
		require.Zero(t, testing.AllocsPerRun(200, c.f), c.name)
	}
}

func TestAppendPacketFields(t *testing.T) {
	p := Packet{Type: BinaryAck, Attachments: 3, Nsp: []byte("/a"), ID: 0, Data: []byte("[]")}
	require.Equal(t, "63-/a,0[]", string(AppendPacket(nil, &p)))
	p = Packet{Type: Disconnect, ID: -1}
	require.Equal(t, "1", string(AppendPacket(nil, &p)))
}
