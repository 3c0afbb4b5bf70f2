package hostnative

import (
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoEngine is an Engine that echoes every message and records what its
// sessions did.
type echoEngine struct {
	*Engine
	mu       sync.Mutex
	messages []string
	upgrades int
	closes   []string
	queries  []string
	closed   chan struct{}
}

func newEchoEngine(t *testing.T, opts EngineOptions) (*echoEngine, *httptest.Server) {
	t.Helper()
	ee := &echoEngine{Engine: NewEngine(opts), closed: make(chan struct{}, 16)}
	ee.OnConnection(func(c *EngineConn) {
		ee.mu.Lock()
		ee.queries = append(ee.queries, c.Request().URL.RawQuery)
		ee.mu.Unlock()
		c.OnMessage(func(data []byte, binary bool) {
			ee.mu.Lock()
			if binary {
				ee.messages = append(ee.messages, "bin:"+string(data))
			} else {
				ee.messages = append(ee.messages, "txt:"+string(data))
			}
			ee.mu.Unlock()
			require.NoError(t, c.Send(data, binary))
		})
		c.OnUpgrade(func(string) {
			ee.mu.Lock()
			ee.upgrades++
			ee.mu.Unlock()
		})
		c.OnClose(func(reason, _ string) {
			ee.mu.Lock()
			ee.closes = append(ee.closes, reason)
			ee.mu.Unlock()
			ee.closed <- struct{}{}
		})
	})
	srv := httptest.NewServer(ee)
	t.Cleanup(srv.Close)
	return ee, srv
}

func (ee *echoEngine) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-ee.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the server saw no close")
	}
}

// TestNodeEngineClients drives the official engine.io-client 3.x (EIO=3) and
// 6.x (EIO=4) over polling only, WebSocket only, and polling upgraded to
// WebSocket, with text and binary echoed both ways and heartbeats running
// for longer than pingInterval+pingTimeout.
func TestNodeEngineClients(t *testing.T) {
	requireNode(t)
	modes := []struct {
		name       string
		transports string
		upgrade    bool
	}{
		{"polling", "polling", false},
		{"websocket", "websocket", false},
		{"upgrade", "polling,websocket", true},
	}
	for _, version := range []string{"3", "6"} {
		for _, m := range modes {
			t.Run("v"+version+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				ee, srv := newEchoEngine(t, EngineOptions{
					AllowEIO3:    true,
					PingInterval: 100 * time.Millisecond,
					PingTimeout:  time.Second, // tolerant of a loaded machine

				})
				upgrade := "false"
				if m.upgrade {
					upgrade = "true"
				}
				lines := runNode(t, "eio_client.js", version, srv.URL, m.transports, upgrade, "500")

				first := "polling"
				if m.transports == "websocket" {
					first = "websocket"
				}
				require.Equal(t, first, lines[0]["transport"], "transport at open: %v", lines)
				require.Equal(t, "héllo first", lines[1]["text"])
				require.Equal(t, "01020305", lines[2]["binary"])
				i := 3
				if m.upgrade {
					require.Equal(t, "websocket", lines[i]["upgrade"])
					require.Equal(t, "websocket", lines[i+1]["transport"])
					require.Equal(t, "héllo upgraded", lines[i+1]["text"])
					require.Equal(t, "01020308", lines[i+2]["binary"])
					i += 3
				}
				held := lines[i]
				require.Equal(t, "open", held["state"], "the session must survive heartbeats: %v", lines)
				require.GreaterOrEqual(t, held["pings"], float64(2), "heartbeats ran: %v", lines)

				ee.waitClosed(t)
				ee.mu.Lock()
				defer ee.mu.Unlock()
				want := []string{"txt:héllo first", "bin:\x01\x02\x03\x05"}
				if m.upgrade {
					want = append(want, "txt:héllo upgraded", "bin:\x01\x02\x03\x08")
					assert.Equal(t, 1, ee.upgrades)
				}
				assert.Equal(t, want, ee.messages)
				assert.Equal(t, []string{"transport close"}, ee.closes)
				if version == "3" && m.transports != "websocket" {
					assert.True(t, strings.Contains(ee.queries[0], "b64=1"), "the v3 node client polls with b64: %s", ee.queries[0])
				}
			})
		}
	}
}
