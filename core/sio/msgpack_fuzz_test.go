package sio

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// The msgpack targets check, for any input: no panic, bounded output, and
// that decoding and encoding agree with each other and with an independent
// reading of the JSON (encoding/json). Seeds: testdata/fuzz/<FuzzName>/
// plus the vectors of msgpack_test.go.

var msgpackSeeds = []string{
	"83a47479706502a46461746192a568656c6c6fa677c3b6726c64a36e7370a12f",
	"85a47479706502a46461746192a568656c6c6f01a76f7074696f6e7381a8636f6d7072657373c3a2696403a36e7370a52f63686174",
	"84a269640ca47479706503a46461746192c4020102c70300010203a36e7370a12f",
	"83a47479706500a46461746181a5746f6b656ea3616263a36e7370a12f",
	"83a47479706500a464617461d40000a36e7370a12f",
	"82a47479706501a36e7370a12f",
	"83a47479706502a4646174619aa16ecfffffffffffffffffd38000000000000000ca3dcccccdcb7ff8000000000000cb7ff0000000000000cb8000000000000000cb444b1ae4d6e2ef50cb3eb0c6f7a0b5ed8de0a36e7370a12f",
	"83a47479706502a46461746194a173a50a22005c7fa461e282ffa4eda08041a36e7370a12f",
	"83a47479706502a46461746196a165d40107d7000000000000000000d700fffffffffffffc18d70000000000000003e8c8000305aabbcca36e7370a12f",
	"83a47479706502a46461746192a16b860101ff02cb3ff800000000000003c004c305d4000006a36e7370a12f",
	"83a47479706502a46461746193a161c4010182ac5f706c616365686f6c646572c3a36e756d00a36e7370a12f",
	"83a47479706504a46461746182a76d657373616765a26e6fa464617461d40000a36e7370a22f78",
	"83a47479706502a464617461ddffffffffa36e7370a12f",
}

// FuzzDecodeMsgpack: DecodeMsgpack never panics; what it accepts is a
// valid packet in the JSON parser's form (valid JSON, placeholders in
// range, attachments aliasing the input) of bounded size, and encoding it
// again (AppendMsgpack) gives bytes that decode to the same values.
func FuzzDecodeMsgpack(f *testing.F) {
	for _, s := range msgpackSeeds {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, atts, err := DecodeMsgpack(in)
		if err != nil {
			return
		}
		if p.Data != nil && !ValidJSON(p.Data) {
			t.Fatalf("invalid JSON %q from %x", p.Data, in)
		}
		if len(p.Data) > 16*len(in)+64 {
			t.Fatalf("%d bytes of JSON from %d bytes", len(p.Data), len(in))
		}
		if err := validate(&p); err != nil {
			t.Fatalf("decoded an invalid packet %+v: %v", p, err)
		}
		if p.Attachments != len(atts) || len(atts) > 0 && !CheckPlaceholders(p.Data, len(atts)) {
			t.Fatalf("attachments %d/%d, data %s", p.Attachments, len(atts), p.Data)
		}
		for _, a := range atts {
			if !within(a, in) {
				t.Fatal("attachment does not alias the input")
			}
		}
		if !within(p.Nsp, in) {
			t.Fatal("namespace does not alias the input")
		}
		for _, order := range []MsgpackOrder{OrderEmit, OrderBroadcast} {
			b, err := AppendMsgpack(nil, &p, atts, order)
			if err != nil {
				t.Fatalf("cannot encode %+v: %v", p, err)
			}
			q, qatts, err := DecodeMsgpack(b)
			if err != nil {
				t.Fatalf("cannot decode %x (from %+v): %v", b, p, err)
			}
			if q.ID != p.ID || q.Type != p.Type || !bytes.Equal(q.Nsp, p.Nsp) {
				t.Fatalf("header %+v, then %+v", p, q)
			}
			if !reflect.DeepEqual(resolve(t, p.Data, atts, true), resolve(t, q.Data, qatts, true)) {
				t.Fatalf("data %s, then %s", p.Data, q.Data)
			}
		}
	})
}

// FuzzAppendMsgpack: AppendMsgpack refuses invalid JSON, leaving dst as it
// was, and encodes valid JSON into bytes that decode to the same values
// (as encoding/json reads them), placeholders and binaries included.
func FuzzAppendMsgpack(f *testing.F) {
	for _, s := range []string{
		`["hello","wörld",1,-1,1.5,null,true,false,{"a":[]}]`,
		`[{"_placeholder":true,"num":0},{"x":{"num":1,"_placeholder":true}}]`,
		`[18446744073709551615,-9223372036854775808,18446744073709551616,1e400,-0,1e21,5e-324]`,
		`["\ud83d\ude00\ud800\u0000\"\\"]`,
		`{"message":"no","data":{"code":401}}`,
		`"a string"`,
		`[1,2`,
		`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":7}]`,
	} {
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		atts := make([][]byte, n%4)
		for i := range atts {
			atts[i] = bytes.Repeat([]byte{byte(i)}, i*100)
		}
		p := Packet{Type: Ack, ID: 3, Data: data}
		switch kindOf(data) {
		case kindObject, kindString:
			p.Type, p.ID = ConnectError, -1
		}
		if len(atts) > 0 {
			p.Type, p.Attachments = BinaryAck, len(atts)
		}
		b, err := AppendMsgpack([]byte("dst"), &p, atts, OrderEmit)
		if !ValidJSON(data) {
			if err == nil || string(b) != "dst" {
				t.Fatalf("encoded invalid JSON %q", data)
			}
			return
		}
		if err != nil {
			t.Fatalf("cannot encode %q: %v", data, err)
		}
		q, qatts, err := DecodeMsgpack(b[3:])
		if err != nil {
			// What the decoder may refuse: a packet that is no ACK or
			// CONNECT_ERROR, binary in a CONNECT_ERROR, or a map that reads as
			// a placeholder out of range next to real binaries.
			if kindOf(data) != kindArray && p.Type != ConnectError || p.Type == ConnectError && bytes.Contains(b, []byte{mpBin8}) ||
				bytes.Contains(data, []byte("placeholder")) {
				return
			}
			t.Fatalf("cannot decode the encoding of %q: %v", data, err)
		}
		var want any
		if json.Unmarshal(data, &want) != nil {
			return // beyond encoding/json's numbers
		}
		if !reflect.DeepEqual(resolve(t, data, atts, false), resolve(t, q.Data, qatts, false)) {
			t.Fatalf("%s became %s", data, q.Data)
		}
	})
}

// resolve reads JSON as encoding/json does (exact numbers when exact is
// set), with each placeholder in range replaced by its attachment.
func resolve(t *testing.T, data []byte, atts [][]byte, exact bool) any {
	if data == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if exact {
		dec.UseNumber()
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("cannot read %s: %v", data, err)
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			if x["_placeholder"] == true && len(atts) > 0 {
				var num float64 = -1
				switch n := x["num"].(type) {
				case float64:
					num = n
				case json.Number:
					num, _ = n.Float64()
				}
				if num >= 0 && num < float64(len(atts)) && num == float64(int(num)) {
					return atts[int(num)]
				}
			}
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return v
	}
	return walk(v)
}
