package hostnative

import (
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// startProxy listens on a local port and connects each client to backend;
// pipes copies one direction (up: client to server) and returns when its
// source ends. Everything is closed and waited for at cleanup. It returns
// the listener's address.
func startProxy(t *testing.T, backend string, pipes func(dst, src net.Conn, up bool)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var open sync.Map
	t.Cleanup(func() {
		_ = ln.Close()
		open.Range(func(k, _ any) bool { _ = k.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				_ = c.Close()
				continue
			}
			open.Store(c, nil)
			open.Store(b, nil)
			wg.Add(2)
			go func() { defer wg.Done(); pipes(b, c, true) }()
			go func() { defer wg.Done(); pipes(c, b, false) }()
		}
	}()
	return ln.Addr().String()
}
