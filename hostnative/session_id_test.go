package hostnative

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// EngineOptions.GenerateID names the sessions: the official
// engine.io-client 6 sees the id, and polling, the upgrade and the echo
// reach the session (routed to its shard by the id).
func TestEngineGenerateIDNode(t *testing.T) {
	requireNode(t)
	var n atomic.Int64
	_, srv := newEchoEngine(t, EngineOptions{
		PingInterval: time.Minute, Core: testCore(nil),
		GenerateID: func(r *http.Request) (string, error) {
			return "user-" + strconv.FormatInt(n.Add(1), 10), nil
		},
	})
	for i := 1; i <= 3; i++ {
		lines := runNode(t, "eio_client.js", "6", srv.URL, "polling,websocket", "true", "0")
		assert.Equal(t, "user-"+strconv.Itoa(i), lines[0]["open"], "%v", lines)
		require.Equal(t, "websocket", lines[3]["upgrade"], "%v", lines)
		assert.Equal(t, "héllo upgraded", lines[4]["text"])
	}
}

// A generator that fails, panics, or gives an unusable or duplicate id
// refuses the handshake with code 3, and the connection error carries
// the generator's error.
func TestEngineGenerateIDRefusals(t *testing.T) {
	var mode atomic.Value
	env := newEhEnv(t, EngineOptions{PingInterval: time.Minute, GenerateID: func(r *http.Request) (string, error) {
		switch m := mode.Load().(string); m {
		case "error":
			return "", errors.New("the id service is down")
		case "panic":
			panic("generator panics")
		default:
			return m, nil
		}
	}}, false)
	mode.Store("taken")
	r := env.do("GET", "EIO=4&transport=polling", nil, nil)
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "taken", ehParseOpen(t, string(r.body)).SID)

	for _, tc := range []struct{ mode, errText string }{
		{"error", "the id service is down"},
		{"panic", errHandlerPanic.Error()},
		{"", "siohost: GenerateID returned an empty id"},
		{"taken", ""},
		{"not safe", ""},
	} {
		mode.Store(tc.mode)
		r := env.do("GET", "EIO=4&transport=polling", nil, nil)
		assert.Equal(t, http.StatusBadRequest, r.status, tc.mode)
		assert.JSONEq(t, `{"code":3,"message":"Bad request"}`, string(r.body), tc.mode)
		ce := recv(t, env.cerrs, ehWait, "connection error")
		assert.Equal(t, 3, ce.Code)
		assert.Equal(t, "ID_GENERATION_ERROR", ce.Context["name"])
		if tc.errText != "" {
			assert.Equal(t, tc.errText, ce.Context["error"])
			assert.True(t, strings.Contains(ce.Err.Error(), tc.errText))
		} else {
			assert.Nil(t, ce.Err)
		}
	}
	// Requests the core refuses anyway never reach the generator, as in
	// the reference.
	mode.Store("panic")
	for _, q := range []string{"EIO=5&transport=polling", "EIO=3&transport=polling", "EIO=4&transport=xhr", "EIO=4&transport=websocket"} {
		r := env.do("GET", q, nil, nil)
		assert.Equal(t, http.StatusBadRequest, r.status, q)
		ce := recv(t, env.cerrs, ehWait, "connection error")
		assert.NotEqual(t, "ID_GENERATION_ERROR", ce.Context["name"], q)
		assert.Nil(t, ce.Err, q)
	}
	// Over WebSocket too: the upgrade is refused.
	mode.Store("error")
	r = env.do("GET", "EIO=4&transport=websocket", nil, http.Header{
		"Connection": {"Upgrade"}, "Upgrade": {"websocket"},
		"Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="},
	})
	assert.Equal(t, http.StatusBadRequest, r.status)
}
