package hostnative

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Shutdown returns once every disconnect handler has run, with the reason
// "server shutting down".
func TestServerShutdownWaitsForDisconnectHandlers(t *testing.T) {
	io := NewServer(ServerOptions{})
	var connected, disconnected atomic.Int64
	ready := make(chan struct{}, 10)
	io.OnConnection(func(s *Socket) {
		connected.Add(1)
		s.OnDisconnect(func(reason, _ string) {
			time.Sleep(20 * time.Millisecond) // a handler with work to finish
			if reason == "server shutting down" {
				disconnected.Add(1)
			}
		})
		ready <- struct{}{}
	})
	srv := httptest.NewServer(io)
	defer srv.Close()
	for range 10 {
		sioDial(t, srv.URL)
	}
	for range 10 {
		<-ready
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, io.Shutdown(ctx))
	require.Equal(t, int64(10), connected.Load())
	require.Equal(t, int64(10), disconnected.Load())
}

// TestServerClosedRefusesNewSessions: after Close, handshakes over polling
// and WebSocket get 503, and the Go client says so.
func TestServerClosedRefusesNewSessions(t *testing.T) {
	t.Parallel()
	io := NewServer(ServerOptions{})
	srv := httptest.NewServer(io)
	t.Cleanup(srv.Close)
	io.Close()
	resp, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	for _, tr := range []string{"polling", "websocket"} {
		m := mtManager(t, srv.URL, ManagerOptions{Transports: []string{tr}, NoReconnection: true})
		err := m.Socket("/").Connect(mtCtx(t))
		var ce *ClientConnectError
		require.ErrorAs(t, err, &ce, tr)
		require.NotNil(t, ce.Context, tr)
		assert.Equal(t, 503, ce.Context.Status, tr)
	}
}
