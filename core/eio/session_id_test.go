package eio

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A handshake takes the id the host chose; an unusable one, or the host's
// failure to make one, is refused with code 3 and ID_GENERATION_ERROR.
func TestHostChosenSessionID(t *testing.T) {
	s := testServer()
	h := s.Request(0, &Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling", ID: "user-42_a.b~c"})
	require.NotZero(t, h)
	effects := s.Effects()
	require.Len(t, effects, 2)
	require.Contains(t, string(effects[1].Data), `"sid":"user-42_a.b~c"`)
	require.Equal(t, h, s.Lookup("user-42_a.b~c"))

	ws := s.Request(0, &Request{Conn: 2, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true, ID: "ws-1"})
	require.NotZero(t, ws)
	require.Equal(t, "ws-1", s.SID(ws))
	s.Effects()

	for _, r := range []Request{
		{ID: "user-42_a.b~c"}, // in use
		{ID: "has space"},     // not URL-safe
		{ID: "sid&x=1"},       // would break the query
		{ID: strings.Repeat("a", MaxSessionIDLen+1)}, // too long
		{IDFailed: true}, // the host's generator failed
		{IDFailed: true, ID: "fine", Upgrade: true}, // over WebSocket too
	} {
		r.Conn, r.Method, r.EIO, r.Transport = 3, "GET", "4", "polling"
		if r.Upgrade {
			r.Transport = "websocket"
		}
		require.Zero(t, s.Request(1, &r), "%+v", r)
		effects := s.Effects()
		require.Equal(t, EffError, effects[0].Kind)
		require.Equal(t, CodeBadRequest, effects[0].Status)
		require.JSONEq(t, `{"name":"ID_GENERATION_ERROR"}`, string(effects[0].Data))
	}
	require.Equal(t, 2, s.Len())

	// A long id at the bound is fine, and the core's own ids go on.
	require.NotZero(t, s.Request(2, &Request{Conn: 4, Method: "GET", EIO: "4", Transport: "polling", ID: strings.Repeat("z", MaxSessionIDLen)}))
	s.Effects()
	own := s.Request(2, &Request{Conn: 5, Method: "GET", EIO: "4", Transport: "polling"})
	require.Len(t, s.SID(own), 20)
}
