package sio

import (
	"encoding/json"
	"testing"
	"unsafe"
)

// The fuzz targets check, for any input: no panic, and agreement with an
// independent model built on encoding/json (refDecode, refValid,
// rawElements, json.Unmarshal, modelPlaceholders) where the input is in the
// model's domain. Seeds: the committed corpora under
// testdata/fuzz/<FuzzName>/ plus the golden vectors.
//
// Intended differences from encoding/json, which the models encode: the
// scanner rejects invalid UTF-8 inside strings (encoding/json.Valid accepts
// it, and Unmarshal turns it into U+FFFD) and nesting deeper than 512
// (encoding/json allows 10000).

// addVectorSeeds adds the inputs and outputs of the golden vectors of the
// given ops, and for JSON-level targets the JSON payloads of the codec
// vectors.
func addVectorSeeds(f *testing.F, payloads bool, ops ...string) {
	for _, v := range vectorsOf(f, ops...) {
		for _, b := range []*vecBytes{v.Input, v.Output} {
			if b == nil {
				continue
			}
			f.Add(b.Get(f))
		}
		if payloads && v.Packet != nil && v.Packet.Data != nil {
			f.Add(v.Packet.Data.Get(f))
		}
	}
}

// within reports whether sub lies inside buf's memory (or is empty).
func within(sub, buf []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(buf) == 0 {
		return false
	}
	s := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return s >= b && s+uintptr(len(sub)) <= b+uintptr(len(buf))
}

// FuzzDecode: Decode agrees with refDecode (same error, same packet); a
// decoded packet aliases the input and re-encodes (AppendPacket) to bytes
// that decode to the same packet.
func FuzzDecode(f *testing.F) {
	addVectorSeeds(f, false, "decode", "encode")
	f.Fuzz(func(t *testing.T, in []byte) {
		checkDecode(t, in)
	})
}

// FuzzValidJSON: ValidJSON agrees with encoding/json.Valid except for the
// documented differences (refValid).
func FuzzValidJSON(f *testing.F) {
	addVectorSeeds(f, true, "valid", "elements", "unquote", "placeholders", "event_name", "decode")
	for _, d := range validDocs {
		if len(d) < 1000 {
			f.Add([]byte(d))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := ValidJSON(in), refValid(in); got != want {
			t.Fatalf("ValidJSON(%q) = %v, want %v (json.Valid %v)", in, got, want, json.Valid(in))
		}
	})
}

// FuzzArrayIter: over a valid array, the elements are encoding/json's raw
// elements byte for byte and Rest stays consistent; over anything else the
// iterator terminates without panicking and returns slices of the input.
func FuzzArrayIter(f *testing.F) {
	addVectorSeeds(f, true, "elements", "event_name", "decode")
	f.Fuzz(func(t *testing.T, in []byte) {
		if ValidJSON(in) {
			i := skipSpace(in, 0)
			if in[i] == '[' {
				checkArrayIter(t, in)
				return
			}
		}
		for _, e := range iterElements(in) {
			if !within(e, in) {
				t.Fatalf("ArrayIter(%q) returned %q, not a slice of the input", in, e)
			}
		}
		name, args := EventName(in)
		_ = name
		for n := 0; ; n++ {
			if _, ok := args.Next(); !ok {
				break
			}
			if n > len(in) {
				t.Fatalf("EventName(%q): args made no progress", in)
			}
		}
	})
}

// FuzzUnquote: for a valid literal, Unquote equals json.Unmarshal into a
// string and unquotedEquals agrees; for anything else, no panic, and no
// literal encoding/json accepts is refused.
func FuzzUnquote(f *testing.F) {
	addVectorSeeds(f, false, "unquote")
	for _, s := range []string{`"\u0063onnect"`, `"\ud83d\ude00"`, `"\ud800\ud800"`, `"\uD800\uDC0"`, `"a\"b"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkUnquote(t, in)
	})
}

// FuzzPlaceholders: over valid JSON, Placeholders reports the placeholder
// objects modelPlaceholders finds with encoding/json's tokenizer (bounds,
// num and order) and CheckPlaceholders agrees; over anything else, no panic
// and in-range bounds.
func FuzzPlaceholders(f *testing.F) {
	addVectorSeeds(f, true, "placeholders", "decode")
	f.Fuzz(func(t *testing.T, in []byte) {
		checkPlaceholders(t, in)
	})
}
