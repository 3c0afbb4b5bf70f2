package hostnative

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// nodeEngine is the official engine.io server (testdata/interop/
// eio_server.js) run by a test, with the session events it printed.
type nodeEngine struct {
	url    string
	cmd    *exec.Cmd
	exited chan struct{}

	mu     sync.Mutex
	events []map[string]any
	more   chan struct{} // signalled on each event
}

// startNodeEngine runs eio_server.js with the given engine.io options until
// the test ends.
func startNodeEngine(t *testing.T, opts map[string]any) *nodeEngine {
	t.Helper()
	js, err := json.Marshal(opts)
	require.NoError(t, err)
	return startNodeServer(t, "eio_server.js", string(js))
}

// startNodeServer runs a Node server script of testdata/interop until the
// test ends: it prints {"port":N} once listening, then one JSON event per
// line, and exits when its stdin closes.
func startNodeServer(t *testing.T, script string, args ...string) *nodeEngine {
	t.Helper()
	requireNode(t)
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = interopDir
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = stdin.Close() // the server exits when its stdin closes
		select {
		case <-exited:
		case <-time.After(ceWait):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	n := &nodeEngine{cmd: cmd, exited: exited, more: make(chan struct{}, 1)}
	port := make(chan float64, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			if p, ok := m["port"].(float64); ok {
				port <- p
				continue
			}
			n.mu.Lock()
			n.events = append(n.events, m)
			n.mu.Unlock()
			select {
			case n.more <- struct{}{}:
			default:
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case p := <-port:
		n.url = fmt.Sprintf("http://127.0.0.1:%d", int(p))
	case <-exited:
		t.Fatalf("%s exited: %s", script, stderr.String())
	case <-time.After(ceWait):
		t.Fatalf("%s did not start: %s", script, stderr.String())
	}
	return n
}

// kill kills the server (SIGKILL: its connections drop without a word)
// and waits for it to exit.
func (n *nodeEngine) kill(t *testing.T) {
	t.Helper()
	_ = n.cmd.Process.Kill()
	select {
	case <-n.exited:
	case <-time.After(ceWait):
		t.Fatal("the node server did not exit")
	}
}

// waitEvent returns the first event with key set to value.
func (n *nodeEngine) waitEvent(t *testing.T, key, value string) map[string]any {
	t.Helper()
	deadline := time.After(ceWait)
	for {
		n.mu.Lock()
		for _, e := range n.events {
			if e[key] == value {
				n.mu.Unlock()
				return e
			}
		}
		n.mu.Unlock()
		select {
		case <-n.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s %q from the node server", key, value)
			return nil
		}
	}
}

// TestClientEngineNode drives the Go client against the official Node
// engine.io server: polling, WebSocket and upgrade, both protocol versions,
// text and binary echoed both ways, and a close the server sees as such.
func TestClientEngineNode(t *testing.T) {
	t.Parallel()
	node := startNodeEngine(t, map[string]any{"allowEIO3": true})
	cases := []struct {
		name    string
		opts    EngineClientOptions
		first   string
		upgrade bool
	}{
		{"polling", EngineClientOptions{Transports: []string{"polling"}}, "polling", false},
		{"websocket", EngineClientOptions{Transports: []string{"websocket"}}, "websocket", false},
		{"upgrade", EngineClientOptions{}, "polling", true},
		{"polling-b64", EngineClientOptions{Transports: []string{"polling"}, ForceBase64: true}, "polling", false},
		{"websocket-b64", EngineClientOptions{Transports: []string{"websocket"}, ForceBase64: true}, "websocket", false},
		{"v3-polling", EngineClientOptions{Protocol: 3, Transports: []string{"polling"}}, "polling", false},
		{"v3-websocket", EngineClientOptions{Protocol: 3, Transports: []string{"websocket"}}, "websocket", false},
		{"v3-upgrade", EngineClientOptions{Protocol: 3}, "polling", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, r := openCE(t, node.url, tc.opts)
			open := node.waitEvent(t, "open", c.ID())
			require.Equal(t, tc.first, open["transport"])
			require.Equal(t, float64(c.Protocol()), open["protocol"])
			require.Equal(t, int64(25000), c.Handshake().PingInterval)
			ceEcho(t, c, r, "first")
			if tc.upgrade {
				require.Equal(t, "websocket", r.upgraded(t))
				require.Equal(t, "websocket", node.waitEvent(t, "upgrade", c.ID())["transport"])
				ceEcho(t, c, r, "upgraded")
			}
			require.NoError(t, c.Close())
			require.Equal(t, "forced close", r.waitClosed(t).reason)
			ev := node.waitEvent(t, "close", c.ID())
			require.Equal(t, "transport close", ev["reason"], "%v", ev)
		})
	}
}

// TestClientEngineNodeHeartbeat holds sessions with the Node server through
// several heartbeats (server pings for v4, client pings for v3).
//
// Their close is not checked: a ping the server writes while the closing
// handshake is under way fails, and engine.io then reports "transport
// error" (write error), whatever the client.
func TestClientEngineNodeHeartbeat(t *testing.T) {
	t.Parallel()
	node := startNodeEngine(t, map[string]any{"allowEIO3": true, "pingInterval": 200, "pingTimeout": 3000})
	cases := []struct {
		name string
		opts EngineClientOptions
	}{
		{"polling", EngineClientOptions{Transports: []string{"polling"}}},
		{"websocket", EngineClientOptions{Transports: []string{"websocket"}}},
		{"v3-polling", EngineClientOptions{Protocol: 3, Transports: []string{"polling"}}},
		{"v3-websocket", EngineClientOptions{Protocol: 3, Transports: []string{"websocket"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, r := openCE(t, node.url, tc.opts)
			require.Equal(t, int64(200), c.Handshake().PingInterval)
			// More than twice pingInterval+pingTimeout.
			time.Sleep(2500 * time.Millisecond)
			node.mu.Lock()
			events := append([]map[string]any(nil), node.events...)
			node.mu.Unlock()
			for _, e := range events {
				require.NotEqual(t, c.ID(), e["close"], "the server closed the session: %v", e)
			}
			ceEcho(t, c, r, "held")
		})
	}
}
