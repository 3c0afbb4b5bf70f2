package hostnative

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ehLeakKind is how one session of the leak test ends.
type ehLeakKind int

const (
	leakPollingClientClose        ehLeakKind = iota // POST "1"
	leakPollingClientCloseWithGET                   // POST "1" with a GET pending
	leakWSClientClose                               // close frame from the client
	leakWSClosePacket                               // "1" from the client
	leakPollingServerClose                          // EngineConn.Close
	leakWSServerClose                               // EngineConn.Close
	leakUpgradeClientClose                          // polling upgraded, then closed by the client
	leakPollingTimeout                              // never answers pings
	leakWSTimeout                                   // never answers pings
	leakPollingGETDrop                              // the pending GET's connection goes away
	numLeakKinds
)

// TestEngineNoLeaks opens and closes 1,000 sessions in many ways, then
// checks that the engine forgets them all and that no goroutine is left.
func TestEngineNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	// A session that nobody polls dies after pingInterval+pingTimeout: long
	// enough that a loaded machine under -race finishes its upgrades first.
	env := newEhEnv(t, EngineOptions{
		PingInterval: 200 * time.Millisecond,
		PingTimeout:  time.Second,
	}, true)
	// Warm up so the baseline includes what the first requests start for
	// good (none expected, but the runtime may start helpers).
	env.handshake()
	require.Eventually(t, func() bool { return env.e.Len() == 0 }, ehWait, 5*time.Millisecond)
	env.waitClose()
	env.client.CloseIdleConnections()
	base := ehStableGoroutines()

	const sessions = 1000
	const workers = 8
	var (
		next     atomic.Int64
		kinds    sync.Map       // sid -> ehLeakKind
		bg       sync.WaitGroup // clients waiting for a server-side end
		failMu   sync.Mutex
		failures []string
	)
	fail := func(format string, args ...any) {
		failMu.Lock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
		failMu.Unlock()
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= sessions {
					return
				}
				kind := ehLeakKind(i % int64(numLeakKinds))
				if err := env.leakSession(kind, &bg, &kinds); err != nil {
					fail("session %d (kind %d): %v", i, kind, err)
				}
			}
		})
	}
	wg.Wait()
	bg.Wait()
	require.Empty(t, failures)

	require.Eventually(t, func() bool { return env.e.Len() == 0 }, ehWait, 5*time.Millisecond,
		"sessions left: %d", env.e.Len())
	// Every session that opened was closed exactly once.
	closed := 1 // the warm-up session
	deadline := time.After(ehWait)
	closedSIDs := map[string]bool{}
	for closed < sessions+1 {
		select {
		case c := <-env.closes:
			closedSIDs[c.sid] = true
			closed++
		case <-deadline:
			missing := map[ehLeakKind]int{}
			kinds.Range(func(sid, kind any) bool {
				if !closedSIDs[sid.(string)] {
					missing[kind.(ehLeakKind)]++
				}
				return true
			})
			t.Fatalf("only %d of %d sessions closed; missing by kind: %v", closed, sessions+1, missing)
		}
	}
	env.mu.Lock()
	assert.Equal(t, sessions+1, env.opens)
	env.mu.Unlock()
	select {
	case c := <-env.closes:
		t.Fatalf("a session closed twice: %+v", c)
	default:
	}

	// The host forgot every request, socket and connection.
	require.Eventually(t, func() bool {
		for _, sh := range env.e.shards {
			sh.mu.Lock()
			n := len(sh.waiters) + len(sh.sockets) + len(sh.conns)
			sh.mu.Unlock()
			if n != 0 {
				return false
			}
		}
		return true
	}, ehWait, 5*time.Millisecond, "the shards still hold requests, sockets or connections")

	env.client.CloseIdleConnections()
	var now int
	ok := assert.Eventually(t, func() bool {
		env.client.CloseIdleConnections()
		now = runtime.NumGoroutine()
		return now <= base+3
	}, 3*ehWait, 10*time.Millisecond)
	if !ok {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines: %d before, %d after:\n%s", base, now, buf[:n])
	}
}

// waitGoroutines waits, up to wait, for the goroutine count to settle at
// base or below, and fails with every goroutine's stack if it does not.
func waitGoroutines(t *testing.T, base int, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		n := ehStableGoroutines()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, %d before:\n%s", n, base, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ehStableGoroutines returns the goroutine count once it stops falling.
func ehStableGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

// leakSession runs one session of the leak test to its end, or hands a
// client that waits for the server to bg.
func (env *ehEnv) leakSession(kind ehLeakKind, bg *sync.WaitGroup, kinds *sync.Map) error {
	poll := func(sid string) string { return "EIO=4&transport=polling&sid=" + sid }
	switch kind {
	case leakPollingClientClose, leakPollingClientCloseWithGET, leakPollingServerClose,
		leakPollingTimeout, leakPollingGETDrop, leakUpgradeClientClose:
		r, err := env.try("GET", "EIO=4&transport=polling", nil, nil)
		if err != nil {
			return err
		}
		if r.status != 200 || len(r.body) < 2 {
			return fmt.Errorf("handshake: %d %s", r.status, r.body)
		}
		sid, err := ehSIDOf(r.body)
		if err != nil {
			return err
		}
		kinds.Store(sid, kind)
		switch kind {
		case leakPollingClientClose:
			if _, err := env.try("POST", poll(sid), []byte("4hi\x1e1"), nil); err != nil {
				return err
			}
		case leakPollingClientCloseWithGET:
			get := env.goDo("GET", poll(sid), nil)
			if _, err := env.try("POST", poll(sid), []byte("1"), nil); err != nil {
				return err
			}
			// The GET gets a noop (it was pending), "2" (a ping came
			// first) or 400 (it came after the close).
			<-get
		case leakPollingServerClose:
			get := env.goDo("GET", poll(sid), nil)
			env.leakConn(sid).Close()
			<-get
		case leakPollingTimeout:
			// Nothing more: the server times it out.
		case leakPollingGETDrop:
			bg.Go(func() {
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() {
					defer close(done)
					req, err := http.NewRequestWithContext(ctx, "GET", env.url+"?"+poll(sid), nil)
					if err != nil {
						return
					}
					if resp, err := env.client.Do(req); err == nil {
						_ = resp.Body.Close()
					}
				}()
				time.Sleep(5 * time.Millisecond)
				cancel()
				<-done
			})
		case leakUpgradeClientClose:
			c, refusal, _, err := env.dialWS("EIO=4&transport=websocket&sid="+sid, nil)
			if err != nil || refusal != nil {
				return fmt.Errorf("upgrade: %v %v", err, refusal)
			}
			if err := wsutil.WriteClientText(c.conn, []byte("2probe")); err != nil {
				return err
			}
			if err := ehExpectFrame(c, "3probe"); err != nil {
				return err
			}
			if err := wsutil.WriteClientText(c.conn, []byte("5")); err != nil {
				return err
			}
			return ehCloseWS(c)
		}
		return nil
	default:
		c, refusal, _, err := env.dialWS("EIO=4&transport=websocket", nil)
		if err != nil || refusal != nil {
			return fmt.Errorf("websocket: %v %v", err, refusal)
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(ehWait))
		p, _, err := wsutil.ReadServerData(c.rw)
		if err != nil {
			return err
		}
		sid, err := ehSIDOf(p)
		if err != nil {
			return err
		}
		kinds.Store(sid, kind)
		switch kind {
		case leakWSClientClose:
			if err := wsutil.WriteClientText(c.conn, []byte("4hi")); err != nil {
				return err
			}
			return ehCloseWS(c)
		case leakWSClosePacket:
			if err := wsutil.WriteClientText(c.conn, []byte("1")); err != nil {
				return err
			}
			bg.Go(func() { _ = ehDrainWS(c) })
		case leakWSServerClose:
			env.leakConn(sid).Close()
			bg.Go(func() { _ = ehDrainWS(c) })
		case leakWSTimeout:
			bg.Go(func() { _ = ehDrainWS(c) })
		}
		return nil
	}
}

// leakConn is conn without the test assertions, for worker goroutines.
func (env *ehEnv) leakConn(sid string) *EngineConn {
	for {
		env.mu.Lock()
		c := env.conns[sid]
		env.mu.Unlock()
		if c != nil {
			return c
		}
		time.Sleep(time.Millisecond)
	}
}

func ehSIDOf(open []byte) (string, error) {
	const prefix = `0{"sid":"`
	if len(open) < len(prefix)+20 || string(open[:len(prefix)]) != prefix {
		return "", fmt.Errorf("not an open packet: %q", open)
	}
	return string(open[len(prefix) : len(prefix)+20]), nil
}

// ehExpectFrame reads data frames, skipping pings, until want.
func ehExpectFrame(c *ehWS, want string) error {
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(ehWait))
		p, _, err := wsutil.ReadServerData(c.rw)
		if err != nil {
			return err
		}
		if string(p) == want {
			return nil
		}
		if string(p) != "2" {
			return fmt.Errorf("got %q, want %q", p, want)
		}
	}
}

// ehCloseWS sends a close frame and waits for the server to end the
// connection.
func ehCloseWS(c *ehWS) error {
	f := ws.MaskFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusNormalClosure, "")))
	if err := ws.WriteFrame(c.conn, f); err != nil {
		return err
	}
	return ehDrainWS(c)
}

// ehDrainWS reads until the server closes, answering its close frame, then
// closes the client side.
func ehDrainWS(c *ehWS) error {
	defer c.conn.Close()
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(ehWait))
		_, _, err := wsutil.ReadServerData(c.rw)
		if err == nil {
			continue
		}
		var ce wsutil.ClosedError
		if errors.As(err, &ce) {
			return nil
		}
		return err
	}
}
