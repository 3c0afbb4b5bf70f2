package eio

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestDecodeJSONPBody(t *testing.T) {
	// Expected values computed with Node 20's querystring.parse and the
	// reference's two newline regexes (engine.io 6 polling-jsonp.js); none
	// means the field d is missing or not a string, and the POST is ignored.
	const none = "\x00none"
	for _, c := range []struct{ body, want string }{
		{"d=4hello", "4hello"},
		{"", none},
		{"d", ""},
		{"d=", ""},
		{"x=1", none},
		{"d=1&d=2", none}, // a list, not a string
		{"x=1&d=a+b", "a b"},
		{"%64=abc", "abc"},
		{`d=%34%22%5c%5cn%22`, `4"\n"`},
		{`d=a%5Cnb`, "a\nb"},
		{`d=a%5C%5Cnb`, `a\nb`},
		{`d=a%5C%5C%5Cnb`, `a\\nb`},
		{`d=%5C%5C%5C%5Cn`, `\\\n`},
		{"d=%zz%4%", "%zz%4%"},
		{"d=%e2%82%ac", "€"},
		{"d=a=b", "a=b"},
		{"&&d=x&", "x"},
		{"=&d==", "="},
		{"D=1", none},
		{"d%3D1", none},
		{`d=%5Cn%5Cn`, "\n\n"},
		{`d=%5C`, `\`},
		{`d=%5C%5Cn%5Cn`, "\\n\n"},
		{"+d=1", none},
		{"d+=1", none},
		{"d=x;y", "x;y"},
		{"d=100%25", "100%"},
		{"d=%2B%26%3D", "+&="},
		// Only the first 1000 fields exist, empty ones included.
		{strings.Repeat("&", 999) + "d=1", "1"},
		{strings.Repeat("&", 1000) + "d=1", none},
		{strings.Repeat("x=1&", 999) + "d=1", "1"},
		{strings.Repeat("x=1&", 1000) + "d=1", none},
		{"d=1&" + strings.Repeat("x&", 998) + "d=2", none},
		{"d=1&" + strings.Repeat("x&", 999) + "d=2", "1"},
	} {
		body := []byte(c.body)
		got, ok := DecodeJSONPBody(body)
		if c.want == none {
			require.False(t, ok, "%.60q", c.body)
			continue
		}
		require.True(t, ok, "%.60q", c.body)
		require.Equal(t, c.want, string(got), "%.60q", c.body)
		require.Equal(t, c.body, string(body), "the body is not modified")
	}
}

func TestAppendJSONP(t *testing.T) {
	for _, c := range []struct{ index, payload, want string }{
		{"0", "4hello", `___eio[0]("4hello");`},
		{"", "", `___eio[]("");`},
		{"12", `42["a","\"q\"","b\\c"]`, `___eio[12]("42[\"a\",\"\\\"q\\\"\",\"b\\\\c\"]");`},
		{"1", "a\nb\r\t\x00\x1f\x7f", `___eio[1]("a\nb\r\t\u0000\u001f` + "\x7f" + `");`},
		{"1", "x\u2028y\u2029z", `___eio[1]("x\u2028y\u2029z");`},
		{"1", "é€😀", `___eio[1]("é€😀");`},
		{"1", "a\xffb\xed\xa0\x80", `___eio[1]("a` + "\ufffd" + `b` + strings.Repeat("\ufffd", 3) + `");`},
		{"1", "4hello\x1ebAQID", `___eio[1]("4hello\u001ebAQID");`},
	} {
		require.Equal(t, c.want, string(AppendJSONP([]byte("x"), c.index, []byte(c.payload)))[1:], "%q", c.payload)
	}
}

func TestJSONPIndex(t *testing.T) {
	for j, want := range map[string]string{"": "", "0": "0", "12": "12", "a1b2": "12", "-3": "3", "x": "", "007": "007", "١": ""} {
		require.Equal(t, want, jsonpIndex(j), "%q", j)
	}
}

// openJSONP opens a JSONP polling session and returns it with the answer to
// its handshake.
func openJSONP(t *testing.T, s *Server, eio, j string, b64 bool) (Handle, string) {
	t.Helper()
	h := s.Request(0, &Request{Conn: 1, Method: "GET", EIO: eio, Transport: "polling", B64: b64, JSONP: true, J: j})
	require.NotZero(t, h)
	effs := s.Effects()
	require.Equal(t, []EffectKind{EffOpen, EffRespond}, kinds(effs))
	require.Equal(t, 200, effs[1].Status)
	require.Equal(t, ContentText, effs[1].Content)
	return h, string(effs[1].Data)
}

// poll sends a GET (with or without j) and returns the answer's body.
func poll(t *testing.T, s *Server, now int64, conn uint64, sid string, j bool) Effect {
	t.Helper()
	s.Request(now, &Request{Conn: conn, Method: "GET", EIO: "4", Transport: "polling", SID: sid, JSONP: j, J: "9"})
	effs := s.Effects()
	require.Len(t, effs, 1)
	require.Equal(t, EffRespond, effs[0].Kind)
	return effs[0]
}

// post sends a POST with body and returns its effects (the last one the
// answer).
func post(t *testing.T, s *Server, now int64, conn uint64, h Handle, body string) []Effect {
	t.Helper()
	s.Request(now, &Request{Conn: conn, Method: "POST", EIO: "4", Transport: "polling", SID: s.SID(h)})
	require.Equal(t, []EffectKind{EffReadBody}, kinds(s.Effects()))
	s.Body(now, conn, h, []byte(body), BodyOK)
	return s.Effects()
}

func TestJSONPSession(t *testing.T) {
	s := testServer()
	h, open := openJSONP(t, s, "4", "3x", false)
	sid := s.SID(h)
	require.Equal(t, `___eio[3]("0{\"sid\":\"`+sid+`\",\"upgrades\":[\"websocket\"],\"pingInterval\":300,\"pingTimeout\":200,\"maxPayload\":1000000}");`, open)

	// Text and binary, wrapped; the index is the handshake's, whatever
	// (if anything) a later request says.
	require.True(t, s.Send(1, h, false, []byte("a\"b\\c\u2028")))
	require.True(t, s.Send(1, h, true, []byte{1, 2, 3}))
	for _, j := range []bool{false, true} {
		got := poll(t, s, 2, 2, sid, j)
		require.Equal(t, 200, got.Status)
		require.Equal(t, ContentText, got.Content)
		if !j {
			require.Equal(t, `___eio[3]("4a\"b\\c\u2028\u001ebAQID");`, string(got.Data))
			require.True(t, s.Send(3, h, false, []byte("x")))
		} else {
			require.Equal(t, `___eio[3]("4x");`, string(got.Data))
		}
	}

	// A POST: the form's field d, newlines restored.
	effs := post(t, s, 4, 3, h, `d=4one%5Cn%5C%5Cn%1E4two`)
	require.Equal(t, []EffectKind{EffMessage, EffMessage, EffRespond}, kinds(effs))
	require.Equal(t, "one\n\\n", string(effs[0].Data))
	require.Equal(t, "two", string(effs[1].Data))
	require.Equal(t, Effect{Kind: EffRespond, Conn: 3, Status: 200, Content: ContentHTML, Data: []byte("ok")}, effs[2])

	// Without a field d, the POST is answered and ignored.
	effs = post(t, s, 5, 4, h, "x=1&d=a&d=b")
	require.Equal(t, []EffectKind{EffRespond}, kinds(effs))
	require.Equal(t, "ok", string(effs[0].Data))
	require.Equal(t, 1, s.Len())

	// An empty d is an empty payload: a parse error, as plain polling's.
	effs = post(t, s, 6, 5, h, "d=")
	require.Equal(t, []EffectKind{EffClose, EffRespond}, kinds(effs))
	require.Equal(t, ReasonParseError, effs[0].Text)

	// Errors are not wrapped.
	s.Request(7, &Request{Conn: 6, Method: "GET", EIO: "4", Transport: "polling", SID: sid, JSONP: true, J: "3"})
	effs = s.Effects()
	require.Equal(t, []EffectKind{EffError, EffRespond}, kinds(effs))
	require.Equal(t, 400, effs[1].Status)
	require.Equal(t, `{"code":1,"message":"Session ID unknown"}`, string(effs[1].Data))
	require.Empty(t, s.jsonp, "the index goes with the session")
}

func TestJSONPSessionV3(t *testing.T) {
	cfg := DefaultConfig(counterRandom())
	cfg.AllowEIO3 = true
	s := NewServer(cfg)
	// Without b64, a JSONP session still gets binary as base64: its answers
	// are scripts, so text.
	h, open := openJSONP(t, s, "3", "0", false)
	require.True(t, strings.HasPrefix(open, `___eio[0]("`), open)
	require.True(t, s.Send(1, h, true, []byte{1, 2, 3}))
	require.True(t, s.Send(1, h, false, []byte("é\n")))
	got := poll(t, s, 2, 2, s.SID(h), false)
	require.Equal(t, ContentText, got.Content)
	require.Equal(t, `___eio[0]("6:b4AQID3:4é\n");`, string(got.Data))

	// A v3 POST: the length-prefixed payload in d.
	effs := post(t, s, 3, 3, h, "d=1%3A2")
	require.Equal(t, []EffectKind{EffRespond}, kinds(effs[len(effs)-1:]))
	require.Equal(t, "ok", string(effs[len(effs)-1].Data))

	// A binary body is not a form: answered and ignored.
	s.Request(4, &Request{Conn: 4, Method: "POST", EIO: "3", Transport: "polling", SID: s.SID(h), Binary: true})
	require.Equal(t, []EffectKind{EffReadBody}, kinds(s.Effects()))
	s.Body(4, 4, h, []byte{0, 1, 0xff, '1'}, BodyOK)
	effs = s.Effects()
	require.Equal(t, []EffectKind{EffRespond}, kinds(effs))
	require.Equal(t, "ok", string(effs[0].Data))
	require.Equal(t, 1, s.Len())
}

func TestJSONPLingerAndClose(t *testing.T) {
	s := testServer()
	h, _ := openJSONP(t, s, "4", "5", false)
	sid := s.SID(h)
	// Closed by the application with a packet queued: the next GET gets the
	// packet, the one after the close packet, both wrapped.
	require.True(t, s.Send(1, h, false, []byte("bye")))
	s.CloseSession(1, h, "")
	s.Effects()
	require.Equal(t, `___eio[5]("4bye");`, string(poll(t, s, 2, 2, sid, false).Data))
	require.Equal(t, `___eio[5]("1");`, string(poll(t, s, 3, 3, sid, false).Data))
	require.Empty(t, s.jsonp)

	// A pending GET of a session the client closes gets a wrapped noop.
	h, _ = openJSONP(t, s, "4", "6", false)
	s.Request(4, &Request{Conn: 4, Method: "GET", EIO: "4", Transport: "polling", SID: s.SID(h)})
	require.Empty(t, s.Effects())
	effs := post(t, s, 5, 5, h, "d=1")
	require.Equal(t, []EffectKind{EffRespond, EffClose, EffRespond}, kinds(effs))
	require.Equal(t, `___eio[6]("6");`, string(effs[0].Data))
}

func TestJSONPOnlyOnPollingHandshake(t *testing.T) {
	s := testServer()
	// j on a WebSocket handshake means nothing.
	h := s.Request(0, &Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true, JSONP: true, J: "1"})
	require.NotZero(t, h)
	effs := s.Effects()
	require.Equal(t, []EffectKind{EffOpen, EffAccept, EffWrite}, kinds(effs))
	require.Equal(t, byte('{'), effs[2].Data[0])
	// Nor on a later request of a plain polling session.
	p := openPolling(t, s, 1, 2)
	require.True(t, s.Send(2, p, false, []byte("x")))
	require.Equal(t, "4x", string(poll(t, s, 3, 3, s.SID(p), true).Data))
	effs = post(t, s, 4, 4, p, "4y")
	require.Equal(t, []EffectKind{EffMessage, EffRespond}, kinds(effs))
	require.Empty(t, s.jsonp)
}

// The reference's transform, with the same regular expressions (RE2 and
// JavaScript agree on them): the oracle of the fuzz target.
var (
	rSlashes       = regexp.MustCompile(`(\\)?\\n`)
	rDoubleSlashes = regexp.MustCompile(`\\\\n`)
)

func referenceJSONPBody(body string) (string, bool) {
	var d string
	found := false
	for i, seg := range strings.Split(body, "&") {
		if i == maxFormFields {
			break
		}
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		if referenceUnescape(k) != "d" {
			continue
		}
		if found {
			return "", false
		}
		d, found = referenceUnescape(v), true
	}
	if !found {
		return "", false
	}
	d = rSlashes.ReplaceAllStringFunc(d, func(m string) string {
		if len(m) == 3 {
			return m
		}
		return "\n"
	})
	return rDoubleSlashes.ReplaceAllString(d, `\n`), true
}

func referenceUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			b.WriteByte(' ')
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(byte(unhex(s[i+1])<<4 | unhex(s[i+2])))
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func isHex(c byte) bool { return unhex(c) >= 0 }

func FuzzDecodeJSONPBody(f *testing.F) {
	for _, s := range []string{"d=4hello", "d=%5C%5Cn%5Cn", "d=1&d=2", "%64=x", "&&d=%zz", "d=%e2%80%a8", "d"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		orig := string(body)
		got, ok := DecodeJSONPBody(body)
		if string(body) != orig {
			t.Fatal("the body was modified")
		}
		want, wantOK := referenceJSONPBody(orig)
		if ok != wantOK || string(got) != want {
			t.Fatalf("DecodeJSONPBody(%q) = %q, %v; the reference gives %q, %v", orig, got, ok, want, wantOK)
		}
		if len(got) > len(body) {
			t.Fatalf("%d bytes out of %d", len(got), len(body))
		}
	})
}

func FuzzAppendJSONP(f *testing.F) {
	for _, s := range []string{"4hello", "", "\u2028\u2029", "\"\\\n\x00", "\xff\xed\xa0\x80", "4€\x1ebAQID"} {
		f.Add("1", []byte(s))
	}
	f.Fuzz(func(t *testing.T, j string, payload []byte) {
		index := jsonpIndex(j)
		out := AppendJSONP(nil, index, payload)
		head := "___eio[" + index + "]("
		if !bytes.HasPrefix(out, []byte(head)) || !bytes.HasSuffix(out, []byte(");")) {
			t.Fatalf("%q", out)
		}
		lit := out[len(head) : len(out)-2]
		if !utf8.Valid(lit) || bytes.Contains(lit, []byte("\u2028")) || bytes.Contains(lit, []byte("\u2029")) {
			t.Fatalf("not a JavaScript string: %q", lit)
		}
		var s string
		if err := json.Unmarshal(lit, &s); err != nil {
			t.Fatalf("not JSON: %q: %v", lit, err)
		}
		if utf8.Valid(payload) && s != string(payload) {
			t.Fatalf("%q decodes to %q", payload, s)
		}
	})
}
