package sio

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

// The expected bytes below are what notepack.io 2.2.0 (socket.io-msgpack-
// parser 3.0.2) writes for the packet objects the reference server builds
// from the same JSON, captured with testdata/interop/msgpack_codec.js;
// hostnative's TestMsgpackMatchesNode checks many more against it live.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	require.NoError(t, err)
	return b
}

func TestAppendMsgpackMatchesNotepack(t *testing.T) {
	cases := []struct {
		name  string
		p     Packet
		atts  []string
		order MsgpackOrder
		want  string
	}{
		{"event", Packet{Type: Event, ID: -1, Data: []byte(`["hello","w\u00f6rld"]`)}, nil, OrderEmit,
			"83a47479706502a46461746192a568656c6c6fa677c3b6726c64a36e7370a12f"},
		{"event with ack id", Packet{Type: Event, Nsp: []byte("/chat"), ID: 7, Data: []byte(`["add",1,2]`)}, nil, OrderEmit,
			"84a47479706502a46461746193a36164640102a2696407a36e7370a52f63686174"},
		{"broadcast with ack id", Packet{Type: Event, Nsp: []byte("/chat"), ID: 300, Data: []byte(`["add",1,2]`)}, nil, OrderBroadcast,
			"84a47479706502a46461746193a36164640102a36e7370a52f63686174a26964cd012c"},
		{"ack", Packet{Type: Ack, ID: 12, Data: []byte(`[3, null, true, false]`)}, nil, OrderEmit,
			"84a269640ca47479706503a4646174619403c0c3c2a36e7370a12f"},
		{"integers", Packet{Type: Event, ID: -1, Data: []byte(`["n",0,1,127,128,255,256,65535,65536,4294967295,4294967296,9007199254740991,-1,-32,-33,-128,-129,-32768,-32769,-2147483648,-2147483649,-9007199254740991]`)}, nil, OrderEmit,
			"83a47479706502a464617461dc0016a16e00017fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf001fffffffffffffffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffffd3ffe0000000000001a36e7370a12f"},
		{"floats", Packet{Type: Event, ID: -1, Data: []byte(`["f",1.5,-0.25,0.1,5e-324,1e19,1.0,1e3,-0,-0.0,2.5e1,1e400,-1e400,123456789012.5]`)}, nil, OrderEmit,
			"83a47479706502a4646174619ea166cb3ff8000000000000cbbfd0000000000000cb3fb999999999999acb0000000000000001cf8ac7230489e8000001cd03e8000019cb7ff0000000000000cbfff0000000000000cb423cbe991a148000a36e7370a12f"},
		{"strings", Packet{Type: Event, ID: -1, Data: []byte(`["s", "", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "h\u00e9llo \u20ac \ud83d\ude00", "esc\n\t\"\\\/\u0000\u001f\u2028"]`)}, nil, OrderEmit,
			"83a47479706502a46461746196a173a0bf61616161616161616161616161616161616161616161616161616161616161d9206262626262626262626262626262626262626262626262626262626262626262af68c3a96c6c6f20e282ac20f09f9880ad6573630a09225c2f001fe280a8a36e7370a12f"},
		{"nested", Packet{Type: Event, ID: -1, Data: []byte(`["o",{"a":{"b":[1,{"c":null}]},"t":true,"f":false,"e":{},"l":[]}]`)}, nil, OrderEmit,
			"83a47479706502a46461746192a16f85a16181a162920181a163c0a174c3a166c2a16580a16c90a36e7370a12f"},
		{"binary", Packet{Type: BinaryEvent, Attachments: 2, ID: -1, Data: []byte(`["b",{"_placeholder":true,"num":1},{"x":[{"num":0,"_placeholder":true}]}]`)}, []string{"", "0102"}, OrderEmit,
			"83a47479706502a46461746193a162c402010281a17891c400a36e7370a12f"},
		{"binary ack", Packet{Type: BinaryAck, Attachments: 1, ID: 5, Data: []byte(`[{"_placeholder":true,"num":0}]`)}, []string{"00ff"}, OrderEmit,
			"84a2696405a47479706503a46461746191c40200ffa36e7370a12f"},
		{"connect", Packet{Type: Connect, ID: -1, Data: []byte(`{"sid":"abc"}`)}, nil, OrderEmit,
			"83a47479706500a46461746181a3736964a3616263a36e7370a12f"},
	}
	for _, c := range cases {
		var atts [][]byte
		for _, a := range c.atts {
			atts = append(atts, unhex(t, a))
		}
		got, err := AppendMsgpack([]byte("keep"), &c.p, atts, c.order)
		require.NoError(t, err, c.name)
		require.Equal(t, "keep", string(got[:4]), c.name)
		require.Equal(t, c.want, hex.EncodeToString(got[4:]), c.name)
	}
}

// Lengths at the boundaries of each header form.
func TestAppendMsgpackHeaders(t *testing.T) {
	enc := func(data string, atts ...[]byte) []byte {
		p := Packet{Type: Event, ID: -1, Data: []byte(data)}
		if len(atts) > 0 {
			p.Type, p.Attachments = BinaryEvent, len(atts)
		}
		b, err := AppendMsgpack(nil, &p, atts, OrderEmit)
		require.NoError(t, err)
		// Skip the map header, "type" 2 and "data", and "nsp" "/".
		return b[len("\x83\xa4type\x02\xa4data") : len(b)-len("\xa3nsp\xa1/")]
	}
	for _, c := range []struct {
		n    int
		head string
	}{{31, "bf"}, {32, "d920"}, {255, "d9ff"}, {256, "da0100"}, {65535, "daffff"}, {65536, "db00010000"}} {
		s := strings.Repeat("x", c.n)
		got := enc(`["` + s + `"]`)
		require.Equal(t, "91"+c.head, hex.EncodeToString(got[:1+len(c.head)/2]), "string of %d", c.n)
		// Escapes shrink the string: the header follows the decoded length.
		got = enc(`["` + strings.Repeat(`\u0078`, c.n) + `"]`)
		require.Equal(t, "91"+c.head, hex.EncodeToString(got[:1+len(c.head)/2]), "escaped string of %d", c.n)
		require.Equal(t, s, string(got[1+len(c.head)/2:1+len(c.head)/2+c.n]))
	}
	for _, c := range []struct {
		n           int
		head, mhead string
	}{{15, "9f", "8f"}, {16, "dc0010", "de0010"}, {65535, "dcffff", "deffff"}, {65536, "dd00010000", "df00010000"}} {
		got := enc(`[` + strings.TrimSuffix(strings.Repeat("0,", c.n-1), ",") + `,[` + strings.TrimSuffix(strings.Repeat("1,", c.n), ",") + `]]`)
		require.Equal(t, c.head, hex.EncodeToString(got[len(got)-c.n-len(c.head)/2:len(got)-c.n]), "array of %d", c.n)
		var obj strings.Builder
		obj.WriteString(`["o",{`)
		for i := range c.n {
			if i > 0 {
				obj.WriteByte(',')
			}
			obj.WriteString(`"` + string(rune('a'+i%26)) + `":0`)
		}
		obj.WriteString(`}]`)
		got = enc(obj.String())
		require.Equal(t, "92a16f"+c.mhead, hex.EncodeToString(got[:3+len(c.head)/2]), "map of %d", c.n)
	}
	for _, c := range []struct {
		n    int
		head string
	}{{0, "c400"}, {255, "c4ff"}, {256, "c50100"}, {65535, "c5ffff"}, {65536, "c600010000"}} {
		got := enc(`[{"_placeholder":true,"num":0}]`, make([]byte, c.n))
		require.Equal(t, "91"+c.head, hex.EncodeToString(got[:1+len(c.head)/2]), "binary of %d", c.n)
		require.Len(t, got, 1+len(c.head)/2+c.n)
	}
}

// The documented differences from notepack: integers beyond 2^53 are kept
// exactly, integral values beyond 64 bits are float 64.
func TestAppendMsgpackBigNumbers(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{"18446744073709551615", "cfffffffffffffffff"},
		{"9223372036854775807", "cf7fffffffffffffff"},
		{"-9223372036854775808", "d38000000000000000"},
		{"9007199254740993", "cf0020000000000001"},
		{"18446744073709551616", "cb43f0000000000000"},
		{"-9223372036854775809", "d38000000000000000"}, // a double: -2^63 exactly
		{"1e21", "cb444b1ae4d6e2ef50"},                 // notepack: cf35c9adc5dea00000, 1e21 mod 2^64
		{"-1e19", "cbc3e158e460913d00"},                // notepack: d3 and -1e19 mod 2^64
		{"1e300", "cb7e37e43c8800759c"},
	} {
		p := Packet{Type: Ack, ID: 1, Data: []byte("[" + c.json + "]")}
		b, err := AppendMsgpack(nil, &p, nil, OrderEmit)
		require.NoError(t, err)
		i := strings.Index(string(b), "data") + 5
		require.Equal(t, c.want, hex.EncodeToString(b[i:i+len(c.want)/2]), c.json)
		require.Equal(t, uint8(0x91), b[i-1])
	}
}

func TestAppendMsgpackRefusesInvalid(t *testing.T) {
	for _, data := range []string{`[`, `["a",]`, `{"a"}`, "[\"\xff\"]", `[1]x`} {
		p := Packet{Type: Event, ID: -1, Data: []byte(data)}
		b, err := AppendMsgpack([]byte("prefix"), &p, nil, OrderEmit)
		require.ErrorIs(t, err, ErrMsgpackEncode, data)
		require.Equal(t, "prefix", string(b))
	}
}

func TestDecodeMsgpack(t *testing.T) {
	cases := []struct {
		name, in string
		typ      PacketType
		nsp      string
		id       int64
		data     string
		atts     []string
	}{
		{"event", "83a47479706502a46461746192a568656c6c6fa677c3b6726c64a36e7370a12f", Event, "", -1, `["hello","wörld"]`, nil},
		{"client event with options", "85a47479706502a46461746192a568656c6c6f01a76f7074696f6e7381a8636f6d7072657373c3a2696403a36e7370a52f63686174",
			Event, "/chat", 3, `["hello",1]`, nil},
		{"ack with binary", "84a269640ca47479706503a46461746192c40201 02c70300010203a36e7370a12f", BinaryAck, "", 12,
			`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, []string{"0102", "010203"}},
		{"connect with auth", "83a47479706500a46461746181a5746f6b656ea3616263a36e7370a12f", Connect, "", -1, `{"token":"abc"}`, nil},
		{"connect without data", "82a47479706500a36e7370a52f63686174", Connect, "/chat", -1, "", nil},
		{"connect with undefined data", "83a47479706500a464617461d40000a36e7370a12f", Connect, "", -1, "", nil},
		{"disconnect", "82a47479706501a36e7370a12f", Disconnect, "", -1, "", nil},
		{"float type and id", "84a474797065cb4000000000000000a464617461 91a161 a26964cb4014000000000000 a36e7370a12f", Event, "", 5, `["a"]`, nil},
		{"numbers", "83a47479706502a464617461 9a a16e cfffffffffffffffff d38000000000000000 ca3dcccccd cb7ff8000000000000 cb7ff0000000000000 cb8000000000000000 cb444b1ae4d6e2ef50 cb3eb0c6f7a0b5ed8d e0 a36e7370a12f",
			Event, "", -1, `["n",18446744073709551615,-9223372036854775808,0.10000000149011612,null,null,0,1e+21,0.000001,-32]`, nil},
		{"strings", "83a47479706502a464617461 94 a173 a5 0a22005c7f a4 61e282ff a4 ed a0 80 41 a36e7370a12f",
			Event, "", -1, `["s","\n\"\u0000\\` + "\x7f\",\"a\ufffd\ufffd\",\"\ufffd\ufffd\ufffdA\"]", nil},
		{"ext and dates", "83a47479706502a464617461 96 a165 d401 07 d7000000000000000000 d700 fffffffffffffc18 d70000000000000003e8 c8000305 aabbcc a36e7370a12f",
			BinaryEvent, "", -1, `["e",[1,{"_placeholder":true,"num":0}],"1970-01-01T00:00:00.000Z","1969-12-31T23:59:59.000Z","1970-01-01T00:00:01.000Z",[5,{"_placeholder":true,"num":1}]]`, []string{"07", "aabbcc"}},
		{"undefined", "83a47479706502a464617461 93 a175 d40000 82 a161 d40000 a162 01 a36e7370a12f", Event, "", -1, `["u",null,{"b":1}]`, nil},
		{"scalar keys", "83a47479706502a464617461 92 a16b 86 01 01 ff 02 cb3ff8000000000000 03 c0 04 c3 05 d40000 06 a36e7370a12f",
			Event, "", -1, `["k",{"1":1,"-1":2,"1.5":3,"null":4,"true":5,"undefined":6}]`, nil},
		{"extra keys, last wins", "85a47479706501a47479706502a46461746191a178a3666f6fc0a36e7370a12f", Event, "", -1, `["x"]`, nil},
		{"dates out of range", "83a47479706502a464617461 93 a164 d700 001eb208c2dc0000 d700 001eb208c2dc0001 a36e7370a12f",
			Event, "", -1, `["d","+275760-09-13T00:00:00.000Z",null]`, nil},
	}
	for _, c := range cases {
		in := unhex(t, c.in)
		p, atts, err := DecodeMsgpack(in)
		require.NoError(t, err, c.name)
		require.Equal(t, c.typ, p.Type, c.name)
		require.Equal(t, c.nsp, string(p.Nsp), c.name)
		require.Equal(t, c.id, p.ID, c.name)
		require.Equal(t, c.data, string(p.Data), c.name)
		if c.data == "" {
			require.Nil(t, p.Data, c.name)
		}
		require.Len(t, atts, len(c.atts), c.name)
		require.Equal(t, len(atts), p.Attachments, c.name)
		for i, a := range atts {
			require.Equal(t, c.atts[i], hex.EncodeToString(a), c.name)
			require.True(t, within(a, in), "%s: attachments alias the input", c.name)
		}
	}
}

func TestDecodeMsgpackRefuses(t *testing.T) {
	for _, c := range []struct{ name, in string }{
		{"empty", ""},
		{"not a map", "92a474797065 02"},
		{"text", hex.EncodeToString([]byte(`42["a"]`))},
		{"trailing bytes", "82a47479706501a36e7370a12f00"},
		{"truncated", "83a47479706502a46461746192a568656c6c"},
		{"no type", "81a36e7370a12f"},
		{"type 5", "82a47479706505a36e7370a12f"},
		{"type -1", "82a474797065ffa36e7370a12f"},
		{"type 2.5", "82a474797065cb4004000000000000a36e7370a12f"},
		{"type a string", "82a474797065a132a36e7370a12f"},
		{"no nsp", "81a47479706501"},
		{"nsp not a string", "82a47479706501a36e7370c0"},
		{"empty nsp", "82a47479706501a36e7370a0"},
		{"event without data", "82a47479706502a36e7370a12f"},
		{"event data not an array", "83a47479706502a46461746181a16101a36e7370a12f"},
		{"empty event", "83a47479706502a46461746190a36e7370a12f"},
		{"reserved event", "83a47479706502a46461746191aa646973636f6e6e656374a36e7370a12f"},
		{"reserved event connect", "83a47479706502a46461746191a7636f6e6e656374a36e7370a12f"},
		{"event name null", "83a47479706502a46461746191c0a36e7370a12f"},
		{"ack data not an array", "84a269640ca47479706503a464617461c0a36e7370a12f"},
		{"connect data an array", "83a47479706500a46461746190a36e7370a12f"},
		{"connect with binary", "83a47479706500a46461746181a161c40101a36e7370a12f"},
		{"connect data a date", "83a47479706500a464617461d70000000000000003e8a36e7370a12f"},
		{"disconnect with data", "83a47479706501a46461746180a36e7370a12f"},
		{"connect error number", "83a47479706504a46461746101a36e7370a12f"},
		{"negative id", "84a47479706502a46461746191a161a26964ffa36e7370a12f"},
		{"id null", "84a47479706502a46461746191a161a26964c0a36e7370a12f"},
		{"id 1.5", "84a47479706502a46461746191a161a26964cb3ff8000000000000a36e7370a12f"},
		{"id beyond 2^53", "84a47479706502a46461746191a161a26964cf0020000000000000a36e7370a12f"},
		{"unused byte c1", "83a47479706502a46461746192a161c1a36e7370a12f"},
		{"binary key", "83a47479706502a46461746192a16181c40161 01a36e7370a12f"},
		{"map key", "83a47479706502a46461746192a1618180 01a36e7370a12f"},
		{"array count too large", "83a47479706502a464617461ddffffffffa36e7370a12f"},
		{"map count too large", "83a47479706502a464617461dfffffffffa36e7370a12f"},
		{"str length too large", "83a47479706502a46461746191dbffffffff"},
		{"bin length too large", "83a47479706502a46461746192a161c6ffffffff"},
		{"ext length too large", "83a47479706502a46461746192a161c9ffffffff05"},
		{"forged placeholder out of range", "83a47479706502a46461746193a161c4010182ac5f706c616365686f6c646572c3a36e756d05a36e7370a12f"},
	} {
		in := unhex(t, c.in)
		_, _, err := DecodeMsgpack(in)
		require.Error(t, err, c.name)
	}
	// Nesting: 511 arrays in the data decode; 600 do not.
	deep := func(n int) []byte {
		b := unhex(t, "83a47479706502a464617461 92a161")
		for range n {
			b = append(b, 0x91)
		}
		b = append(b, 0xc0)
		return append(b, unhex(t, "a36e7370a12f")...)
	}
	p, _, err := DecodeMsgpack(deep(510))
	require.NoError(t, err)
	require.True(t, ValidJSON(p.Data))
	_, _, err = DecodeMsgpack(deep(600))
	require.Error(t, err)
}

// A placeholder-shaped map in a packet with binary values is one of them,
// as with the JSON parser (a client can only point at its own binaries).
func TestDecodeMsgpackForgedPlaceholder(t *testing.T) {
	in := unhex(t, "83a47479706502a46461746193a161c4010182ac5f706c616365686f6c646572c3a36e756d00a36e7370a12f")
	p, atts, err := DecodeMsgpack(in)
	require.NoError(t, err)
	require.Equal(t, `["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]`, string(p.Data))
	require.Len(t, atts, 1)
	// Without binary values, it is a map like any other.
	in = unhex(t, "83a47479706502a46461746192a16182ac5f706c616365686f6c646572c3a36e756d00a36e7370a12f")
	p, atts, err = DecodeMsgpack(in)
	require.NoError(t, err)
	require.Equal(t, Event, p.Type)
	require.Empty(t, atts)
}

// Encoding then decoding gives the JSON back (in its canonical spelling).
func TestMsgpackRoundTrip(t *testing.T) {
	for _, data := range []string{
		`["hello"]`,
		`["a",1,-1,0,1.5,-2.25e-7,1e+21,123456789,-9007199254740991,18446744073709551615,-9223372036854775808]`,
		`["s","","héllo € 😀","\"\\\n\r\t\b\f\u0001",` + "\"\u2028\"" + `]`,
		`["o",{"a":{"b":[1,{"c":null}]},"t":true,"f":false,"e":{},"l":[]}]`,
		`["b",{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]`,
		`[42,"numeric name"]`,
	} {
		var atts [][]byte
		typ := Event
		if strings.Contains(data, "_placeholder") {
			atts, typ = [][]byte{{1, 2}, {}}, BinaryEvent
		}
		for _, nsp := range []string{"", "/chat"} {
			p := Packet{Type: typ, Attachments: len(atts), ID: 9, Data: []byte(data)}
			if nsp != "" {
				p.Nsp = []byte(nsp)
			}
			b, err := AppendMsgpack(nil, &p, atts, OrderBroadcast)
			require.NoError(t, err)
			got, gotAtts, err := DecodeMsgpack(b)
			require.NoError(t, err, data)
			require.Equal(t, p, got)
			require.Equal(t, len(atts), len(gotAtts))
			for i := range atts {
				require.Equal(t, atts[i], gotAtts[i])
			}
		}
	}
}

func TestAppendJSNumber(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1, "1"}, {-1, "-1"}, {1.5, "1.5"}, {0.1, "0.1"}, {1e21, "1e+21"}, {1e20, "100000000000000000000"},
		{123456789012345680000, "123456789012345680000"}, {1.2345e-7, "1.2345e-7"}, {1e-6, "0.000001"},
		{1.5e-6, "0.0000015"}, {-1e-7, "-1e-7"}, {5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{math.Copysign(0, -1), "0"}, {float64(float32(0.1)), "0.10000000149011612"}, {2.5e25, "2.5e+25"},
	} {
		require.Equal(t, c.want, string(appendJSNumber(nil, c.f, false)), "%v", c.f)
		var v float64
		require.NoError(t, json.Unmarshal([]byte(c.want), &v))
		require.Equal(t, math.Abs(c.f), math.Abs(v))
	}
	require.Equal(t, "null", string(appendJSNumber(nil, math.NaN(), false)))
	require.Equal(t, "null", string(appendJSNumber(nil, math.Inf(1), false)))
	require.Equal(t, "NaN", string(appendJSNumber(nil, math.NaN(), true)))
	require.Equal(t, "-Infinity", string(appendJSNumber(nil, math.Inf(-1), true)))
}

func TestAppendISODate(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want string
	}{
		{0, `"1970-01-01T00:00:00.000Z"`},
		{1700000000123, `"2023-11-14T22:13:20.123Z"`},
		{-1, `"1969-12-31T23:59:59.999Z"`},
		{951782400000, `"2000-02-29T00:00:00.000Z"`},
		{-62167219200000, `"0000-01-01T00:00:00.000Z"`},
		{-62167219200001, `"-000001-12-31T23:59:59.999Z"`},
		{253402300800000, `"+010000-01-01T00:00:00.000Z"`},
		{-8.64e15, `"-271821-04-20T00:00:00.000Z"`},
		{8.64e15 + 1, `null`},
	} {
		require.Equal(t, c.want, string(appendISODate(nil, c.ms)), "%d", c.ms)
	}
}

func TestMaximalSubpart(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"\xff", "\ufffd"},
		{"\xe2\x82", "\ufffd"},
		{"\xe2\x82A", "\ufffdA"},
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // a surrogate: E0..9F only after ED
		{"\xf0\x9f\x98", "\ufffd"},
		{"\xf0\x8f\x98\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"\xc0\xaf", "\ufffd\ufffd"},
		{"a\xc3", "a\ufffd"},
	} {
		got := appendJSONText(nil, []byte(c.in))
		var s string
		require.NoError(t, json.Unmarshal(got, &s))
		require.Equal(t, c.want, s, "%q", c.in)
	}
}

// With the msgpack parser, the server speaks one binary message per
// packet: CONNECT, events, acks, refusals and DISCONNECT; a broadcast is
// transcoded once for all its recipients; a text message is a parse error.
func TestServerMsgpack(t *testing.T) {
	h := newHarness(t, nil, Config{Parser: ParserMsgpack})
	const conn = 1
	hd := h.openWS(0, conn, "4")
	writes := func() [][]byte {
		var out [][]byte
		for _, e := range h.e.Effects() {
			require.Equal(t, eio.EffWrite, e.Kind)
			require.True(t, e.Binary)
			out = append(out, e.Data)
		}
		return out
	}

	// CONNECT to "/" and "/chat".
	h.e.Frame(1, conn, hd, true, unhex(t, "82a47479706500a36e7370a12f"))
	effs := h.e.Effects()
	require.Len(t, effs, 1)
	require.Equal(t, EffConnect, effs[0].Kind)
	require.Equal(t, "/", effs[0].Nsp)
	require.Nil(t, effs[0].Data)
	require.True(t, h.s.Accept(1, hd, "/", "SID", ""))
	w := writes()
	require.Equal(t, "83a47479706500a46461746182a3736964a3534944a3706964d40000a36e7370a12f", hex.EncodeToString(w[0]))

	h.e.Frame(2, conn, hd, true, unhex(t, "83a47479706500a46461746181a5746f6b656ea3616263a36e7370a52f63686174"))
	effs = h.e.Effects()
	require.Len(t, effs, 1)
	require.Equal(t, `{"token":"abc"}`, string(effs[0].Data))
	require.True(t, h.s.Accept(2, hd, "/chat", "S2", "P2"))
	require.Equal(t, "83a47479706500a46461746182a3736964a25332a3706964a25032a36e7370a52f63686174", hex.EncodeToString(writes()[0]))

	// A refusal by a middleware, with and without data, and the
	// reference's own for an unknown namespace.
	h.e.Frame(3, conn, hd, true, unhex(t, "82a47479706500a36e7370a22f78"))
	h.e.Effects()
	h.s.Refuse(3, hd, "/x", "not authorized", []byte(`{"code":401}`))
	require.Equal(t, "83a47479706504a46461746182a76d657373616765ae6e6f7420617574686f72697a6564a46461746181a4636f6465cd0191a36e7370a22f78",
		hex.EncodeToString(writes()[0]))
	h.e.Frame(3, conn, hd, true, unhex(t, "82a47479706500a36e7370a22f78"))
	h.e.Effects()
	h.s.Refuse(3, hd, "/x", "no", nil)
	require.Equal(t, "83a47479706504a46461746182a76d657373616765a26e6fa464617461d40000a36e7370a22f78", hex.EncodeToString(writes()[0]))
	h.e.Frame(3, conn, hd, true, unhex(t, "82a47479706500a36e7370a22f78"))
	h.e.Effects()
	h.s.Refuse(3, hd, "/x", "Invalid namespace", nil)
	require.Equal(t, "83a47479706504a36e7370a22f78a46461746181a76d657373616765b1496e76616c6964206e616d657370616365", hex.EncodeToString(writes()[0]))

	// An event with binary and an ack id reaches the host in the JSON
	// parser's form.
	in := unhex(t, "84a47479706502a46461746192a161c40201 02a2696407a36e7370a52f63686174")
	h.e.Frame(4, conn, hd, true, in)
	effs = h.e.Effects()
	require.Len(t, effs, 1)
	require.Equal(t, EffEvent, effs[0].Kind)
	require.Equal(t, "/chat", effs[0].Nsp)
	require.Equal(t, int64(7), effs[0].ID)
	require.Equal(t, `["a",{"_placeholder":true,"num":0}]`, string(effs[0].Data))
	require.Equal(t, [][]byte{{1, 2}}, effs[0].Attachments)

	// The host answers in the JSON parser's form; the client gets msgpack.
	require.True(t, h.s.Send(5, hd, "/chat", []byte(`61-/chat,7[{"_placeholder":true,"num":0}]`), [][]byte{{9}}, 0))
	require.Equal(t, "84a2696407a47479706503a46461746191c40109a36e7370a52f63686174", hex.EncodeToString(writes()[0]))
	require.False(t, h.s.Send(5, hd, "/nope", []byte(`2/nope,["a"]`), nil, 0))
	require.False(t, h.s.Send(5, hd, "/", []byte(`2["a"`), nil, 0), "invalid JSON is not sent")
	require.Empty(t, h.e.Effects())

	// A broadcast: one transcoding, the same bytes for every recipient.
	hd2 := h.openWS(6, 2, "4")
	h.e.Frame(6, 2, hd2, true, unhex(t, "82a47479706500a36e7370a12f"))
	h.e.Effects()
	require.True(t, h.s.Accept(6, hd2, "/", "SID2", ""))
	h.e.Effects()
	n := h.s.Broadcast(7, []eio.Handle{hd, hd2, 12345}, "/", []byte(`25["news",1]`), nil, 0)
	require.Equal(t, 2, n)
	w = writes()
	require.Len(t, w, 2)
	require.Equal(t, "84a47479706502a46461746192a46e65777301a36e7370a12fa2696405", hex.EncodeToString(w[0]))
	require.Same(t, &w[0][0], &w[1][0])

	// DISCONNECT.
	require.True(t, h.s.Leave(8, hd, "/chat"))
	require.Equal(t, "82a47479706501a36e7370a52f63686174", hex.EncodeToString(writes()[0]))

	// A text message closes the connection.
	h.e.Frame(9, conn, hd, false, []byte(`42["a"]`))
	var closed bool
	for _, e := range h.e.Effects() {
		if e.Kind == EffDisconnect {
			require.Equal(t, eio.ReasonForcedClose, e.Text)
			closed = true
		}
	}
	require.True(t, closed)
}

// Decoding a typical event costs two allocations (its JSON and the list of
// attachments, when there are some); encoding one into the server's
// scratch space none.
func TestMsgpackAllocs(t *testing.T) {
	h := newHarness(t, nil, Config{Parser: ParserMsgpack})
	hd := h.openWS(0, 1, "4")
	h.e.Frame(1, 1, hd, true, unhex(t, "82a47479706500a36e7370a12f"))
	h.e.Effects()
	require.True(t, h.s.Accept(1, hd, "/", "SID", ""))
	h.e.Effects()
	text := unhex(t, "83a47479706502a46461746193a56576656e74a5776f726c6482a16101a162c3a36e7370a12f")
	bin := unhex(t, "83a47479706502a46461746193a56576656e74a5776f726c64c403010203a36e7370a12f")
	for _, c := range []struct {
		in   []byte
		want float64
	}{{text, 1}, {bin, 2}} {
		allocs := testing.AllocsPerRun(100, func() {
			h.s.Message(hd, true, c.in)
			if effs := h.e.Effects(); len(effs) != 1 || effs[0].Kind != EffEvent {
				t.Fatalf("unexpected effects %+v", effs)
			}
		})
		require.Equal(t, c.want, allocs)
	}
	out := []byte(`2["event","world",{"a":1,"b":true}]`)
	allocs := testing.AllocsPerRun(100, func() {
		if !h.s.Send(2, hd, "/", out, nil, 0) {
			t.Fatal("not sent")
		}
		h.e.Effects()
	})
	require.Zero(t, allocs)
}
