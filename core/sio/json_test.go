package sio

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// refValid is encoding/json.Valid plus the scanner's two intended
// differences: strings must be valid UTF-8 (encoding/json.Valid accepts any
// byte >= 0x20 inside a string; Unmarshal then substitutes U+FFFD), and
// nesting stops at maxDepth (512; encoding/json allows 10000). Outside
// strings only ASCII is valid JSON anyway, so utf8.Valid of the whole input
// is exactly "every string is valid UTF-8".
func refValid(b []byte) bool {
	return json.Valid(b) && utf8.Valid(b) && jsonDepth(b) <= maxDepth
}

// jsonDepth returns the deepest nesting of arrays and objects in b, which
// encoding/json accepts.
func jsonDepth(b []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
			deepest = max(deepest, depth)
		case ']', '}':
			depth--
		}
	}
	return deepest
}

// phRecord is one Placeholders callback.
type phRecord struct{ start, end, num int }

func collectPlaceholders(b []byte) ([]phRecord, bool) {
	var out []phRecord
	ok := Placeholders(b, func(start, end, num int) bool {
		out = append(out, phRecord{start, end, num})
		return true
	})
	return out, ok
}

func iterElements(b []byte) [][]byte {
	var out [][]byte
	it := NewArrayIter(b)
	for n := 0; ; n++ {
		e, ok := it.Next()
		if !ok {
			return out
		}
		if n > len(b) {
			panic("ArrayIter made no progress")
		}
		out = append(out, e)
	}
}

func TestJSONVectors(t *testing.T) {
	ops := map[string]bool{}
	for _, v := range vectorsOf(t, "valid", "elements", "unquote", "placeholders", "event_name") {
		ops[v.Op] = true
		t.Run(v.Op+" "+v.Name, func(t *testing.T) {
			in := v.Input.Get(t)
			w := window(in)
			switch v.Op {
			case "valid":
				require.NotNil(t, v.Valid)
				require.Equal(t, *v.Valid, ValidJSON(w))
				require.Equal(t, *v.Valid, refValid(in))
				if json.Valid(in) != *v.Valid {
					require.NotEmpty(t, v.Note, "a difference from encoding/json must be documented")
				}
			case "elements":
				require.True(t, ValidJSON(in))
				want := make([]string, 0)
				for _, e := range v.Elements {
					want = append(want, string(e.Get(t)))
				}
				got := make([]string, 0)
				for _, e := range iterElements(w) {
					require.True(t, within(e, w))
					got = append(got, string(e))
				}
				require.Equal(t, want, got)
				require.Equal(t, want, rawElements(t, in))
			case "unquote":
				got, ok := Unquote(w)
				if v.Error != "" {
					require.Equal(t, "invalid_string", v.Error)
					require.False(t, ok)
					var s string
					require.Error(t, json.Unmarshal(in, &s))
					return
				}
				require.True(t, ok)
				want := string(v.Output.Get(t))
				require.Equal(t, want, got)
				require.True(t, unquotedEquals(w, want))
				var s string
				require.NoError(t, json.Unmarshal(in, &s))
				require.Equal(t, s, got, "encoding/json decodes it the same")
			case "placeholders":
				require.True(t, ValidJSON(in))
				var want []vecPlaceholder
				require.NoError(t, json.Unmarshal(v.Placeholders, &want))
				got, ok := collectPlaceholders(w)
				require.True(t, ok)
				require.Len(t, got, len(want))
				for i, ph := range want {
					require.Equal(t, string(ph.Raw.Get(t)), string(w[got[i].start:got[i].end]))
					require.Equal(t, ph.Num, got[i].num)
				}
				require.Equal(t, modelPlaceholders(t, in), got)
				require.NotEmpty(t, v.Checks)
				for _, c := range v.Checks {
					require.Equal(t, c.OK, CheckPlaceholders(w, c.Attachments), "attachments %d", c.Attachments)
				}
			case "event_name":
				require.NotNil(t, v.Event)
				name, args := EventName(w)
				require.Equal(t, *v.Event, name)
				want := make([]string, 0)
				for _, a := range v.Args {
					want = append(want, string(a.Get(t)))
				}
				got := make([]string, 0)
				for {
					a, ok := args.Next()
					if !ok {
						break
					}
					got = append(got, string(a))
				}
				require.Equal(t, want, got)
			}
		})
	}
	for _, op := range []string{"valid", "elements", "unquote", "placeholders", "event_name"} {
		require.True(t, ops[op], "no vector of op %s", op)
	}
}

// rawElements decodes the array b into json.RawMessage elements: the bytes
// of each value, as encoding/json delimits them.
func rawElements(t testing.TB, b []byte) []string {
	t.Helper()
	var raws []json.RawMessage
	require.NoError(t, json.Unmarshal(b, &raws))
	out := make([]string, 0, len(raws))
	for _, r := range raws {
		out = append(out, string(r))
	}
	return out
}

// validDocs is a table of JSON documents, valid and invalid, compared with
// encoding/json. Every prefix of every document is compared too.
var validDocs = []string{
	``, ` `, `null`, `true`, `false`, `nul`, `nulll`, `t`, `f`, `fals`, `n`, `TRUE`,
	`0`, `-0`, `1`, `-1`, `10`, `01`, `00`, `-01`, `1.0`, `1.`, `.1`, `-.1`, `1.e1`, `1e1`, `1E1`, `1e+1`, `1e-1`,
	`1e`, `1e+`, `1ee1`, `1e1.5`, `1.5.5`, `--1`, `+1`, `-`, `0x10`, `1_000`, `123456789012345678901234567890`,
	`1.7976931348623157e309`, `-0.0e-0`, `2.`, `0.`, `Infinity`, `-Infinity`, `NaN`,
	`""`, `"a"`, `"\"`, `"\\"`, `"\""`, `"\/"`, `"\b\f\n\r\t"`, `"\a"`, `"\u"`, `"\u0"`, `"\u00"`, `"\u000"`, `"\u0000"`,
	`"\u00zz"`, `"\uD800"`, `"\uDFFF\uD800"`, `"\uD83D\uDE00"`, `"\U0041"`, `"\x41"`, `"\'"`, `"\0"`, `"a` + "\x00" + `"`,
	`"` + "\x1f" + `"`, `"` + "\x7f" + `"`, `"` + "\t" + `"`, `"é"`, `"😀"`, `"` + "\xff" + `"`, `"` + "\xc3" + `"`,
	`"` + "\xed\xa0\x80" + `"`, `"` + "\xef\xbf\xbd" + `"`, `"` + "\xf4\x90\x80\x80" + `"`, `'a'`, `"a`, `a"`,
	`[]`, `[ ]`, `[1]`, `[1,]`, `[,1]`, `[,]`, `[1 2]`, `[1,,2]`, `[[]]`, `[[[]]]`, `[[]`, `[]]`, `[}`, `{]`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{,"a":1}`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a:1}`, `{1:1}`, `{"a":1 "b":2}`,
	`{"a":1,"a":2}`, `{"":""}`, `{"a":{"b":{"c":[1,{"d":null}]}}}`, `{"a":[}`, `{"a":1}}`, `{{}}`,
	` [1] `, "\t[1]\t", "\r\n[1]\r\n", "\v[1]", "\f[1]", "\u00a0[1]", "\ufeff[1]", `[1]x`, `x[1]`, `[1][2]`, `1 2`, `"a" "b"`,
	`[1]//c`, `/*c*/[1]`, `[true,false,null]`, `[truefalse]`, `[true false]`, `{"a":true}`, `{"a":tru}`,
	`["message",1,"2",{"3":[true]}]`, `["a",{"_placeholder":true,"num":0}]`, `{"sid":"c6niKZJGDbpmkMrsAAAB","pid":"x"}`,
	strings.Repeat("[", 512) + strings.Repeat("]", 512),
	strings.Repeat("[", 513) + strings.Repeat("]", 513),
	strings.Repeat(`{"a":`, 512) + `1` + strings.Repeat("}", 512),
	strings.Repeat(`{"a":`, 513) + `1` + strings.Repeat("}", 513),
	strings.Repeat(`[{"a":`, 256) + `1` + strings.Repeat("}]", 256),
	strings.Repeat(`[{"a":`, 257) + `1` + strings.Repeat("}]", 257),
	strings.Repeat("[", 20000),
	`[` + strings.Repeat(`1,`, 10000) + `1]`,
}

func TestValidJSONTable(t *testing.T) {
	check := func(b []byte) {
		t.Helper()
		if got, want := ValidJSON(b), refValid(b); got != want {
			t.Fatalf("ValidJSON(%.200q) = %v, want %v (json.Valid %v)", b, got, want, json.Valid(b))
		}
	}
	docs := append([]string{}, validDocs...)
	for _, v := range vectorsOf(t, "valid", "elements", "unquote", "placeholders", "event_name", "decode", "encode") {
		if v.Input != nil {
			docs = append(docs, string(v.Input.Get(t)))
		}
		if v.Output != nil {
			docs = append(docs, string(v.Output.Get(t)))
		}
	}
	for _, d := range docs {
		b := []byte(d)
		check(b)
		check(window(b))
		if len(b) < 2000 {
			for n := range b {
				check(b[:n])
				check(b[n:])
			}
		}
	}
}

// jsonAlphabet biases random input toward JSON's own bytes.
const jsonAlphabet = "[]{}\",:0123456789-+.eE \t\r\n\\/ubfnrtalsxy_\x00\x1f\x7f\xc3\xa9\xff\xed\xa0"

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if r.IntN(8) == 0 {
			b[i] = byte(r.IntN(256))
		} else {
			b[i] = jsonAlphabet[r.IntN(len(jsonAlphabet))]
		}
	}
	return b
}

// genJSON appends a random valid JSON value (strings valid UTF-8, depth
// bounded), with random white space, escapes, number spellings and the odd
// placeholder.
func genJSON(r *rand.Rand, b []byte, depth int) []byte {
	ws := func() {
		for r.IntN(4) == 0 {
			b = append(b, " \t\r\n"[r.IntN(4)])
		}
	}
	kind := r.IntN(9)
	if depth <= 0 && kind < 3 {
		kind += 3
	}
	switch kind {
	case 0, 1:
		b = append(b, '[')
		ws()
		for i, n := 0, r.IntN(5); i < n; i++ {
			if i > 0 {
				b = append(b, ',')
				ws()
			}
			b = genJSON(r, b, depth-1)
			ws()
		}
		b = append(b, ']')
	case 2:
		b = append(b, '{')
		ws()
		for i, n := 0, r.IntN(4); i < n; i++ {
			if i > 0 {
				b = append(b, ',')
				ws()
			}
			b = genString(r, b)
			ws()
			b = append(b, ':')
			ws()
			b = genJSON(r, b, depth-1)
			ws()
		}
		b = append(b, '}')
	case 3, 4:
		b = genString(r, b)
	case 5, 6:
		b = genNumber(r, b)
	case 7:
		b = append(b, []string{"true", "false", "null"}[r.IntN(3)]...)
	case 8:
		keys := []string{`"_placeholder":true`, `"num":` + []string{"0", "1", "7", "-1", "1.0", `"0"`, "10"}[r.IntN(7)], `"x":1`, `"\u005fplaceholder":true`, `"_placeholder":false`}
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		b = append(b, '{')
		b = append(b, strings.Join(keys[:1+r.IntN(len(keys))], ",")...)
		b = append(b, '}')
	}
	return b
}

func genNumber(r *rand.Rand, b []byte) []byte {
	if r.IntN(3) == 0 {
		b = append(b, '-')
	}
	if r.IntN(3) == 0 {
		b = append(b, '0')
	} else {
		b = strconv.AppendInt(b, 1+r.Int64N(1e6), 10)
	}
	if r.IntN(3) == 0 {
		b = append(b, '.')
		b = strconv.AppendInt(b, r.Int64N(1000), 10)
	}
	if r.IntN(4) == 0 {
		b = append(b, "eE"[r.IntN(2)])
		if r.IntN(2) == 0 {
			b = append(b, "+-"[r.IntN(2)])
		}
		b = strconv.AppendInt(b, r.Int64N(400), 10)
	}
	return b
}

func genString(r *rand.Rand, b []byte) []byte {
	b = append(b, '"')
	for i, n := 0, r.IntN(8); i < n; i++ {
		switch r.IntN(10) {
		case 0:
			b = append(b, '\\', `"\/bfnrt`[r.IntN(8)])
		case 1:
			// Any \u escape, surrogates included, in either case.
			u := r.IntN(0x10000)
			if r.IntN(3) == 0 {
				u = 0xD800 + r.IntN(0x800)
			}
			h := strconv.FormatInt(int64(u), 16)
			h = strings.Repeat("0", 4-len(h)) + h
			if r.IntN(2) == 0 {
				h = strings.ToUpper(h)
			}
			b = append(b, `\u`+h...)
		case 2:
			b = utf8.AppendRune(b, rune(0x80+r.IntN(0x10FFFF-0x80)))
		case 3:
			b = append(b, "]},[{:"[r.IntN(6)])
		default:
			b = append(b, byte('a'+r.IntN(26)))
		}
	}
	return append(b, '"')
}

// mutate applies a few random edits to a copy of b.
func mutate(r *rand.Rand, b []byte) []byte {
	b = bytes.Clone(b)
	for n := 1 + r.IntN(3); n > 0; n-- {
		switch r.IntN(4) {
		case 0: // insert
			i := r.IntN(len(b) + 1)
			b = append(b[:i], append(randomBytes(r, 1), b[i:]...)...)
		case 1: // delete
			if len(b) > 0 {
				i := r.IntN(len(b))
				b = append(b[:i], b[i+1:]...)
			}
		case 2: // replace
			if len(b) > 0 {
				b[r.IntN(len(b))] = randomBytes(r, 1)[0]
			}
		case 3: // truncate
			if len(b) > 0 {
				b = b[:r.IntN(len(b))]
			}
		}
	}
	return b
}

// TestValidJSONRandom compares ValidJSON with encoding/json on random bytes,
// random valid documents and mutations of them.
func TestValidJSONRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	valid := 0
	for i := 0; i < n; i++ {
		var b []byte
		switch i % 3 {
		case 0:
			b = randomBytes(r, r.IntN(24))
		case 1:
			b = genJSON(r, nil, 4)
			if !ValidJSON(b) || !refValid(b) {
				t.Fatalf("generated document %q: ValidJSON %v, reference %v", b, ValidJSON(b), refValid(b))
			}
		case 2:
			b = mutate(r, genJSON(r, nil, 4))
		}
		got, want := ValidJSON(b), refValid(b)
		if got != want {
			t.Fatalf("ValidJSON(%q) = %v, want %v (json.Valid %v)", b, got, want, json.Valid(b))
		}
		if got {
			valid++
		}
	}
	t.Logf("%d inputs, %d valid", n, valid)
}

// checkArrayIter compares ArrayIter over the valid JSON array b with
// encoding/json's raw elements, and checks Rest after every step.
func checkArrayIter(t testing.TB, b []byte) {
	t.Helper()
	want := rawElements(t, b)
	it := NewArrayIter(b)
	for i := 0; ; i++ {
		rest := append([]byte{'['}, it.Rest()...)
		if !ValidJSON(rest) {
			t.Fatalf("%q: after %d elements, [+Rest() = %q is not valid", b, i, rest)
		}
		if got := rawElements(t, rest); !equalStrings(got, want[i:]) {
			t.Fatalf("%q: after %d elements, [+Rest() holds %q, want %q", b, i, got, want[i:])
		}
		e, ok := it.Next()
		if !ok {
			if i != len(want) {
				t.Fatalf("%q: %d elements, want %d", b, i, len(want))
			}
			return
		}
		if i >= len(want) || string(e) != want[i] {
			t.Fatalf("%q: element %d = %q, want %q", b, i, e, want)
		}
		if !within(e, b) {
			t.Fatalf("%q: element %d does not alias the input", b, i)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestArrayIter(t *testing.T) {
	for _, s := range []string{
		`[]`, ` [ ] `, `[1]`, `[ 1 ]`, "[\n1\n,\n2\n]\n", `[[],[[]],{}]`, `["]",",","[","\"]\"",{"]":"["}]`,
		`["a\\",1]`, `["\\\"",2]`, `[{"a":[1,2,{"b":"],"}]},3]`, `[-1.5e+3,true,false,null,"x"]`,
		`["message",1,"2",{"3":[true]}]`,
	} {
		checkArrayIter(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		b := append([]byte("[ "), genJSON(r, nil, 3)...)
		for n := r.IntN(4); n > 0; n-- {
			b = append(b, " ,\t"...)
			b = genJSON(r, b, 3)
		}
		b = append(b, "\n]"...)
		checkArrayIter(t, b)
	}

	// Not an array: the value itself is the only element. Invalid input:
	// no panic, and the iterator stops.
	require.Equal(t, [][]byte{[]byte(`{"a":1}`)}, iterElements([]byte(`{"a":1}`)))
	for i := 0; i < 20000; i++ {
		b := mutate(r, append([]byte("["), genJSON(r, nil, 2)...))
		for _, e := range iterElements(b) {
			require.True(t, within(e, b))
		}
	}
}

// TestEventNameArgs: the iterator EventName returns goes on after the name.
func TestEventNameArgs(t *testing.T) {
	name, args := EventName([]byte(`["message",1,"2",{"3":[true]}]`))
	require.Equal(t, "message", name)
	require.Equal(t, `1,"2",{"3":[true]}]`, string(args.Rest()))
	a, ok := args.Next()
	require.True(t, ok)
	require.Equal(t, "1", string(a))
	require.Equal(t, `"2",{"3":[true]}]`, string(args.Rest()))

	name, args = EventName([]byte(`[42]`))
	require.Equal(t, "42", name)
	_, ok = args.Next()
	require.False(t, ok)
	require.Equal(t, "]", string(args.Rest()))
}

// checkUnquote compares Unquote with encoding/json on the string literal b.
func checkUnquote(t testing.TB, b []byte) {
	t.Helper()
	got, ok := Unquote(b)
	var want string
	err := json.Unmarshal(b, &want)
	// encoding/json allows white space around the literal; Unquote does not.
	bare := len(b) > 0 && b[0] == '"' && b[len(b)-1] == '"'
	if ValidJSON(b) && bare {
		if err != nil || !ok || got != want {
			t.Fatalf("Unquote(%q) = %q, %v; encoding/json %q, %v", b, got, ok, want, err)
		}
		if !unquotedEquals(b, want) || unquotedEquals(b, want+"x") || (want != "" && unquotedEquals(b, want[:len(want)-1])) {
			t.Fatalf("unquotedEquals(%q, %q) is wrong", b, want)
		}
		return
	}
	// Unquote expects a valid literal and does not check everything, but it
	// never refuses one encoding/json accepts, and what it accepts beyond
	// encoding/json is only raw control characters or unescaped quotes.
	if !ok && err == nil && bare {
		t.Fatalf("Unquote(%q) refused a literal encoding/json decodes to %q", b, want)
	}
	if ok && err != nil && !hasLooseBytes(b) {
		t.Fatalf("Unquote(%q) = %q, but encoding/json refuses it: %v", b, got, err)
	}
}

// hasLooseBytes reports whether the would-be literal b holds a raw control
// character or an unescaped quote inside.
func hasLooseBytes(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	in := b[1 : len(b)-1]
	for i := 0; i < len(in); i++ {
		switch c := in[i]; {
		case c == '\\':
			i++
		case c == '"' || c < 0x20:
			return true
		}
	}
	return false
}

func TestUnquote(t *testing.T) {
	for _, s := range []string{
		`""`, `"a"`, `"\""`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u0000"`, `"\u001f"`, `"\u007f"`, `"\u0080"`, `"\u00e9"`,
		`"\u20ac"`, `"\uFFFF"`, `"\uFFFE"`, `"\uD83D\uDE00"`, `"\uD800"`, `"\uDBFF"`, `"\uDC00"`, `"\uDFFF"`,
		`"\uD800\uD800"`, `"\uDC00\uD800"`, `"\uD800\uDBFF\uDC00"`, `"\uD800x"`, `"\uD800\n"`, `"\uD800\u0041"`,
		`"\uD800\uDC00\uDC00"`, `"\uDBFF\uDFFF"`, `"a\u0062c"`, `"é😀"`, `"\u00e9😀\ud83d\ude00"`,
		`"\x"`, `"\u"`, `"\u1"`, `"\u12"`, `"\u123"`, `"\u12g4"`, `"\uD800\u"`, `"\uD800\uDC0"`, `"\"`, `"\`,
	} {
		checkUnquote(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 50000; i++ {
		checkUnquote(t, genString(r, nil))
		checkUnquote(t, mutate(r, genString(r, nil)))
	}
	// Not a literal.
	for _, s := range []string{``, `"`, `a`, `"a`, `a"`, `[1]`, `1`} {
		_, ok := Unquote([]byte(s))
		require.False(t, ok, s)
		require.False(t, unquotedEquals([]byte(s), s), s)
	}
}

func TestUnquotedEquals(t *testing.T) {
	for _, c := range []struct {
		raw, s string
		eq     bool
	}{
		{`"connect"`, "connect", true},
		{`"\u0063onnect"`, "connect", true},
		{`"\u0063\u006f\u006E\u006e\u0065\u0063\u0074"`, "connect", true},
		{`"connect"`, "connec", false},
		{`"connec"`, "connect", false},
		{`"\u0063onnect"`, "connecT", false},
		{`""`, "", true},
		{`""`, "a", false},
		{`"\ud83d\ude00"`, "😀", true},
		{`"\ud83d"`, "\ufffd", true},
		{`"\ud83d"`, "\xed\xa0\xbd", false},
		{`"\ud83d\ude00"`, "\ufffd\ufffd", false},
		{`"\x"`, `\x`, false},
		{`"é"`, "é", true},
		{`"\u00e9"`, "é", true},
		{`"\u00e9"`, "\xc3", false},
	} {
		require.Equal(t, c.eq, unquotedEquals([]byte(c.raw), c.s), "%s vs %q", c.raw, c.s)
	}
}

// jvalue is an order-preserving decoded JSON value, for the placeholder
// model.
type jvalue struct {
	start, end int // object bounds
	tok        json.Token
	elems      []*jvalue // array elements or object values
	keys       []string  // object keys (decoded)
	isObject   bool
}

func parseModel(dec *json.Decoder) (*jvalue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return &jvalue{tok: tok}, nil
	}
	v := &jvalue{isObject: d == '{', start: int(dec.InputOffset()) - 1}
	for dec.More() {
		if v.isObject {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v.keys = append(v.keys, k.(string))
		}
		e, err := parseModel(dec)
		if err != nil {
			return nil, err
		}
		v.elems = append(v.elems, e)
	}
	if _, err := dec.Token(); err != nil { // closing delimiter
		return nil, err
	}
	v.end = int(dec.InputOffset())
	return v, nil
}

// canonicalNum is the model of smallInt: a non-negative integer of at most
// seven digits, spelled canonically.
func canonicalNum(tok json.Token) int {
	n, ok := tok.(json.Number)
	if !ok {
		return -1
	}
	s := string(n)
	if s == "" || len(s) > 7 || strings.Trim(s, "0123456789") != "" || (len(s) > 1 && s[0] == '0') {
		return -1
	}
	v, _ := strconv.Atoi(s)
	return v
}

// walkModel lists the placeholders of v the way Placeholders reports them:
// an object's values first, then the object itself if its last
// "_placeholder" key is true.
func walkModel(v *jvalue, out *[]phRecord) {
	for _, e := range v.elems {
		walkModel(e, out)
	}
	if !v.isObject {
		return
	}
	isPH, num := false, -1
	for i, k := range v.keys {
		switch k {
		case "_placeholder":
			isPH = v.elems[i].tok == true
		case "num":
			num = canonicalNum(v.elems[i].tok)
		}
	}
	if isPH {
		*out = append(*out, phRecord{v.start, v.end, num})
	}
}

// modelPlaceholders lists the placeholders of the valid JSON value b with
// encoding/json's tokenizer.
func modelPlaceholders(t testing.TB, b []byte) []phRecord {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := parseModel(dec)
	require.NoError(t, err)
	_, err = dec.Token()
	require.ErrorIs(t, err, io.EOF)
	var out []phRecord
	walkModel(v, &out)
	return out
}

func checkPlaceholders(t testing.TB, b []byte) {
	t.Helper()
	got, ok := collectPlaceholders(b)
	if !ValidJSON(b) {
		for _, r := range got {
			if r.start < 0 || r.start >= r.end || r.end > len(b) {
				t.Fatalf("Placeholders(%q): bounds %d:%d out of range", b, r.start, r.end)
			}
		}
		return
	}
	if !ok {
		t.Fatalf("Placeholders(%q) did not complete", b)
	}
	want := modelPlaceholders(t, b)
	if len(got) != len(want) {
		t.Fatalf("Placeholders(%q) = %v, model %v", b, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Placeholders(%q) = %v, model %v", b, got, want)
		}
	}
	// CheckPlaceholders agrees with the reported nums.
	for n := 0; n <= 3; n++ {
		all := true
		for _, r := range got {
			all = all && r.num >= 0 && r.num < n
		}
		if CheckPlaceholders(b, n) != all {
			t.Fatalf("CheckPlaceholders(%q, %d) != %v", b, n, all)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	for _, s := range []string{
		`{"_placeholder":true,"num":0}`, `[{"_placeholder":true,"num":0}]`, `[{"num":0,"_placeholder":true}]`,
		`{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":1}}`, `[{"a":{"b":[{"_placeholder":true,"num":2}]}}]`,
		`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`,
		`[{"\u005f\u0070laceholder":true,"\u006e\u0075\u006d":1}]`, `[{"_placeholder" : true , "num" : 0 }]`,
		`["_placeholder",{"_placeholder":null},{"_placeholder":"true"},{"_placeholder":true,"num":[0]}]`,
		`1`, `"x"`, `[]`, `{}`, `[[[[]]]]`,
	} {
		checkPlaceholders(t, []byte(s))
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 30000; i++ {
		b := genJSON(r, nil, 4)
		checkPlaceholders(t, b)
		checkPlaceholders(t, mutate(r, b))
	}

	// fn returning false stops the walk.
	calls := 0
	two := []byte(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	require.False(t, Placeholders(two, func(_, _, _ int) bool { calls++; return false }))
	require.Equal(t, 1, calls)
	require.False(t, CheckPlaceholders(two, 1))

	// Nesting beyond the limit does not complete.
	require.False(t, Placeholders([]byte(strings.Repeat("[", 600)+strings.Repeat("]", 600)), func(_, _, _ int) bool { return true }))
	require.False(t, Placeholders(nil, func(_, _, _ int) bool { return true }))
}
