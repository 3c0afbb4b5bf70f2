package hostnative

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// JSONP polling through real HTTP: GET answers are scripts calling
// ___eio[j] with the payload plain polling would send, POST bodies are forms
// as engine.io-client 3.x and 4.x post them.

// unwrapJSONP checks that body is the script ___eio[index]("...");, with a
// string literal that JavaScript can hold (no raw U+2028/U+2029), and
// returns the payload it carries.
func unwrapJSONP(t *testing.T, body []byte, index string) string {
	t.Helper()
	head, foot := "___eio["+index+"](", ");"
	s := string(body)
	require.True(t, strings.HasPrefix(s, head) && strings.HasSuffix(s, foot), "not a JSONP answer for %s: %q", index, s)
	lit := s[len(head) : len(s)-len(foot)]
	require.NotContains(t, lit, "\u2028")
	require.NotContains(t, lit, "\u2029")
	var payload string
	require.NoError(t, json.Unmarshal([]byte(lit), &payload), "not a string literal: %q", lit)
	return payload
}

// jsonpForm encodes payload as engine.io-client 3.x/4.x's JSONP transport
// posts it: a backslash-n becomes a backslash and a newline, then every
// newline a backslash-n, in the form field d.
func jsonpForm(payload string) []byte {
	p := strings.ReplaceAll(payload, `\n`, "\\\n")
	p = strings.ReplaceAll(p, "\n", `\n`)
	return []byte(url.Values{"d": {p}}.Encode())
}

var formHeader = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

func TestEngineHTTPJSONP(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute}, false)
	r := env.do("GET", "EIO=4&transport=polling&j=2", nil, nil)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "text/plain; charset=UTF-8", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	open := ehParseOpen(t, unwrapJSONP(t, r.body, "2"))
	assert.Equal(t, []string{"websocket"}, open.Upgrades)
	sid := open.SID
	q := "EIO=4&transport=polling&j=2&sid=" + sid
	c := env.conn(sid)

	t.Run("GET", func(t *testing.T) {
		env.sub(t)
		text := "q\"b\\s\nl\\nL\u2028p\u2029€"
		require.NoError(t, c.Send([]byte(text), false))
		require.NoError(t, c.Send([]byte{1, 2, 0xff}, true))
		g := env.do("GET", q, nil, nil)
		require.Equal(t, 200, g.status)
		assert.Equal(t, "text/plain; charset=UTF-8", g.header.Get("Content-Type"))
		assert.Equal(t, `___eio[2]("4q\"b\\s\nl\\nL\u2028p\u2029€\u001ebAQL/");`, g.String())
		assert.Equal(t, "4"+text+"\x1ebAQL/", unwrapJSONP(t, g.body, "2"))

		// A parked GET is wrapped too.
		ch := env.goDo("GET", q, nil)
		env.waitParked(1)
		require.NoError(t, c.Send([]byte("late"), false))
		assert.Equal(t, "4late", unwrapJSONP(t, env.recv(ch).body, "2"))
	})

	t.Run("POST", func(t *testing.T) {
		env.sub(t)
		// A real newline, a backslash-n, a quote, U+2028, and binary.
		payload := "4a\nb\x1e4c\\nd\"\u2028\x1ebAQID"
		p := env.do("POST", q, jsonpForm(payload), formHeader)
		require.Equal(t, 200, p.status)
		assert.Equal(t, "text/html", p.header.Get("Content-Type"))
		assert.Equal(t, "ok", p.String())
		assert.Equal(t, ehMsg{sid, "a\nb", false}, env.waitMsg())
		assert.Equal(t, ehMsg{sid, "c\\nd\"\u2028", false}, env.waitMsg())
		assert.Equal(t, ehMsg{sid, "\x01\x02\x03", true}, env.waitMsg())

		// A form without d: answered, ignored.
		for _, body := range []string{"", "x=1", "d=4a&d=4b", "\xff\x00%%"} {
			p := env.do("POST", q, []byte(body), formHeader)
			require.Equal(t, 200, p.status, "%q", body)
			assert.Equal(t, "ok", p.String())
		}
		select {
		case m := <-env.msgs:
			t.Fatalf("unexpected message %+v", m)
		default:
		}
		assert.Equal(t, 1, env.e.Len())
	})

	t.Run("compressed", func(t *testing.T) {
		env.sub(t)
		big := strings.Repeat("\u2028x", 600)
		require.NoError(t, c.Send([]byte(big), false))
		g := env.do("GET", q, nil, http.Header{"Accept-Encoding": {"gzip"}})
		require.Equal(t, 200, g.status)
		require.Equal(t, "gzip", g.header.Get("Content-Encoding"))
		zr, err := gzip.NewReader(bytes.NewReader(g.body))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, "4"+big, unwrapJSONP(t, plain, "2"))
	})

	t.Run("errors", func(t *testing.T) {
		env.sub(t)
		// Refusals are the reference's JSON, not scripts.
		requireEIOError(t, env.do("GET", "EIO=4&transport=polling&j=2&sid=nope", nil, nil), 400, 1, "Session ID unknown")
		requireEIOError(t, env.do("POST", "EIO=4&transport=polling&j=2", []byte("d=4x"), formHeader), 400, 2, "Bad handshake method")
		env.waitConnError()
		env.waitConnError()

		// Overlapping GETs: the parked one gets a wrapped close packet.
		ch := env.goDo("GET", q, nil)
		env.waitParked(1)
		r := env.do("GET", q, nil, nil)
		assert.Equal(t, 400, r.status)
		assert.Empty(t, r.body)
		assert.Equal(t, "1", unwrapJSONP(t, env.recv(ch).body, "2"))
		assert.Equal(t, ehClose{sid, "transport error", "overlap from client"}, env.waitClose())
	})
}

func TestEngineHTTPJSONPErrors(t *testing.T) {
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, MaxHTTPBufferSize: 100}, false)
	open := func() (string, string) {
		r := env.do("GET", "EIO=4&transport=polling&j=0", nil, nil)
		sid := ehParseOpen(t, unwrapJSONP(t, r.body, "0")).SID
		return sid, "EIO=4&transport=polling&j=0&sid=" + sid
	}

	// The limit is on the form as posted: 100 bytes pass, 101 do not.
	sid, q := open()
	body := "d=4" + strings.Repeat("%22", 32) + "x"
	require.Len(t, body, 100)
	require.Equal(t, "ok", env.do("POST", q, []byte(body), formHeader).String())
	assert.Equal(t, strings.Repeat(`"`, 32)+"x", env.waitMsg().data)
	r := env.do("POST", q, []byte(body+"y"), formHeader)
	assert.Equal(t, 413, r.status)
	assert.Equal(t, ehClose{sid, "transport error", "payload too large"}, env.waitClose())

	// An invalid payload in d closes the session, as on plain polling.
	sid, q = open()
	require.Equal(t, 200, env.do("POST", q, []byte("d=abc"), formHeader).status)
	assert.Equal(t, "parse error", env.waitClose().reason)
	requireEIOError(t, env.do("GET", q, nil, nil), 400, 1, "Session ID unknown")

	// A v4 binary body is refused as on plain polling.
	sid, q = open()
	r = env.do("POST", q, []byte("d=4x"), http.Header{"Content-Type": {"application/octet-stream"}})
	assert.Equal(t, 400, r.status)
	assert.Equal(t, ehClose{sid, "transport error", "invalid data request"}, env.waitClose())

	// A callback index is at most 16 digits: it is repeated in every
	// answer of the session.
	r = env.do("GET", "EIO=4&transport=polling&j="+strings.Repeat("9", 16), nil, nil)
	assert.Equal(t, 200, r.status)
	unwrapJSONP(t, r.body, strings.Repeat("9", 16))
	requireEIOError(t, env.do("GET", "EIO=4&transport=polling&j="+strings.Repeat("9", 17), nil, nil), 400, 3, "Bad request")

	// A repeated j is no JSONP (the reference's query has an array then).
	r = env.do("GET", "EIO=4&transport=polling&j=1&j=2", nil, nil)
	assert.Equal(t, 200, r.status)
	assert.True(t, strings.HasPrefix(string(r.body), `0{"sid":`), "plain polling: %s", r.body)
}

func TestEngineHTTPJSONPv3(t *testing.T) {
	env := newEhEnv(t, EngineOptions{AllowEIO3: true, PingInterval: time.Minute}, false)
	for _, b64 := range []string{"&b64=1", ""} {
		t.Run("b64="+b64, func(t *testing.T) {
			env.sub(t)
			r := env.do("GET", "EIO=3&transport=polling&j=7"+b64, nil, nil)
			require.Equal(t, 200, r.status)
			payload := unwrapJSONP(t, r.body, "7")
			i := strings.IndexByte(payload, ':')
			require.Positive(t, i)
			sid := ehParseOpen(t, payload[i+1:]).SID
			q := "EIO=3&transport=polling&j=7" + b64 + "&sid=" + sid
			c := env.conn(sid)

			// Binary goes as base64 in the text payload, with or without
			// b64: a script is text. Lengths count UTF-16 code units.
			require.NoError(t, c.Send([]byte{1, 2, 3}, true))
			require.NoError(t, c.Send([]byte("é\u2028\n😀"), false))
			g := env.do("GET", q, nil, nil)
			assert.Equal(t, "text/plain; charset=UTF-8", g.header.Get("Content-Type"))
			assert.Equal(t, `___eio[7]("6:b4AQID6:4é\u2028\n😀");`, g.String())

			p := env.do("POST", q, jsonpForm("6:b4BAUG5:4é\n\\n"), formHeader)
			require.Equal(t, "ok", p.String())
			assert.Equal(t, ehMsg{sid, "\x04\x05\x06", true}, env.waitMsg())
			assert.Equal(t, ehMsg{sid, "é\n\\n", false}, env.waitMsg())

			// A binary body is not a form: answered and ignored.
			p = env.do("POST", q, []byte("6:b4AQID"), http.Header{"Content-Type": {"application/octet-stream"}})
			assert.Equal(t, "ok", p.String())
			c.Close()
			env.waitClose()
		})
	}
}
