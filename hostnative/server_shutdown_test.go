package hostnative

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

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
