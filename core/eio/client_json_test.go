package eio

import (
	"encoding/json"
	"testing"

	"github.com/siohost/siohost/core/internal/jsonscan"
	"github.com/stretchr/testify/require"
)

func TestClientParseHandshake(t *testing.T) {
	hs, problem := parseHandshake([]byte(` {"sid":"a\/b\u00e9\ud83d\ude00","upgrades":["websocket","webtransport"],` +
		`"extra":{"nested":[1,{"x":null}],"t":true},"pingInterval":25000,"pingTimeout":2e4,"maxPayload":1000000.0} `))
	require.Empty(t, problem)
	require.Equal(t, Handshake{SID: "a/bé😀", Upgrades: []string{"websocket", "webtransport"}, PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1000000}, hs)

	hs, problem = parseHandshake([]byte(`{"sid":"x","upgrades":[],"pingInterval":1,"pingTimeout":2}`))
	require.Empty(t, problem)
	require.Equal(t, Handshake{SID: "x", Upgrades: []string{}, PingInterval: 1, PingTimeout: 2}, hs, "no maxPayload: an older server")

	for body, want := range map[string]string{
		`{"sid":"x","pingInterval":-1}`:  "invalid pingInterval",
		`{"sid":"x","pingTimeout":"1"}`:  "invalid pingTimeout",
		`{"sid":1}`:                      "invalid sid",
		`{"sid":"x","upgrades":"ws"}`:    "invalid upgrades",
		`{"sid":""}`:                     "no sid",
		`{}`:                             "no sid",
		`{"sid":"x"`:                     "its JSON is not an object",
		`{"sid":"x"} trailing`:           "its JSON is not an object",
		`["sid","x"]`:                    "its JSON is not an object",
		`{"sid":"x",}`:                   "its JSON is not an object",
		`{"sid":"\x01"}`:                 "its JSON is not an object",
		`{"sid":"x","a":[1,2}`:           "its JSON is not an object",
		`{"sid":"x","a":01.5e}`:          "its JSON is not an object",
		`{"sid":"x","maxPayload":1e400}`: "invalid maxPayload",
	} {
		_, problem := parseHandshake([]byte(body))
		require.Equal(t, want, problem, body)
	}
}

func TestClientJSONAgainstEncodingJSON(t *testing.T) {
	// jsonObject accepts what encoding/json accepts as an object (for these
	// inputs), and unquotes strings the same way.
	inputs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":"\"\\\/\b\f\n\r\t\u0041"}`, `{"a":[]}`, `{"a":[[],[{}]]}`,
		`{"a":-0.5e+3,"b":false,"c":null}`, `{"a" : "x" , "b" : [ 1 , 2 ] }`, `{"\u00e9":"\ud800"}`,
		`{"a":}`, `{"a":1,}`, `{a:1}`, `{"a":tru}`, `{"a":"x"`, `{"a":[1,]}`, `{"a":"\x"}`, `{"a":"\u12"}`, ``, `{`, `}`,
	}
	for _, in := range inputs {
		var m map[string]json.RawMessage
		stdOK := json.Unmarshal([]byte(in), &m) == nil
		got := map[string]string{}
		ok := jsonObject([]byte(in), func(key string, val []byte) { got[key] = string(val) })
		require.Equal(t, stdOK, ok, in)
		if !ok {
			continue
		}
		for k, raw := range m {
			require.JSONEq(t, string(raw), got[k], in)
			var s string
			if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
				u, ok := jsonscan.Unquote([]byte(got[k]))
				require.True(t, ok, got[k])
				require.Equal(t, s, u, in)
			}
		}
	}
}

func TestClientParseEIOError(t *testing.T) {
	code, msg, ok := parseEIOError([]byte(`{"code":3,"message":"Bad request","context":{"name":"TRANSPORT_MISMATCH"}}`))
	require.True(t, ok)
	require.Equal(t, 3, code)
	require.Equal(t, "Bad request", msg)
	for _, bad := range []string{`{"code":"3","message":"x"}`, `{"code":3}`, `{"message":"x"}`, `{"code":-1,"message":"x"}`, `Bad request`, ``} {
		_, _, ok := parseEIOError([]byte(bad))
		require.False(t, ok, bad)
	}
}
