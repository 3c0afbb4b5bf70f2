package hostnative

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recoverySetup: "prepare" joins room "r", keeps data and broadcasts "seed"
// to the room; "drop" closes the transport and, once the socket is gone,
// broadcasts "missed" 1, 2, 3 to the room; "whoami" acks the socket's
// recovery state, data and rooms.
func recoverySetup(io *Server) {
	ns := io.Of("/")
	io.Use(func(s *Socket) error {
		if s.Recovered() {
			panic("the middlewares are skipped for a recovered socket")
		}
		return nil
	})
	io.OnConnection(func(s *Socket) {
		s.On("prepare", func(*Event) {
			s.Join("r")
			s.SetData(map[string]any{"user": "ada"})
			_ = ns.To("r").Emit("seed")
		})
		s.On("drop", func(*Event) {
			s.OnDisconnect(func(string, string) {
				for i := 1; i <= 3; i++ {
					_ = ns.To("r").Emit("missed", i)
				}
				_ = ns.To("elsewhere").Emit("missed", 99)
				_ = ns.Volatile().Emit("missed", 98)
			})
			s.Conn().Close()
		})
		s.On("whoami", func(ev *Event) {
			_ = ev.Ack(map[string]any{"recovered": s.Recovered(), "data": s.Data(), "rooms": s.Rooms()})
		})
	})
}

// TestServerRecoveryNodeClient: the official socket.io-client 4.8 recovers
// its socket after a lost transport: same id, recovered, the missed
// broadcasts of its rooms, its data and rooms back.
func TestServerRecoveryNodeClient(t *testing.T) {
	t.Parallel()
	requireNode(t)
	for _, c := range snModes {
		c.version = "4"
		t.Run(c.mode, func(t *testing.T) {
			t.Parallel()
			_, base := stServer(t, ServerOptions{ConnectionStateRecovery: &ConnectionStateRecovery{}}, recoverySetup)
			lines := c.run(t, base[:len(base)-len("/socket.io/")], "recovery")
			assert.Equal(t, false, lines.get(t, "connect")["recovered"])
			assert.Equal(t, "transport close", lines.get(t, "disconnect")["disconnect"])
			re := lines.get(t, "reconnect")
			assert.Equal(t, true, re["recovered"])
			assert.Equal(t, true, re["same"])
			m := lines.get(t, "missed")
			assert.Equal(t, []any{float64(1), float64(2), float64(3)}, m["missed"])
			who := m["whoami"].(map[string]any)
			assert.Equal(t, true, who["recovered"])
			assert.Equal(t, map[string]any{"user": "ada"}, who["data"])
			assert.Contains(t, who["rooms"], "r")
		})
	}
}

// TestServerRecoveryGoClient: the same with the Go client, which also says
// it recovered; without recovery on the server, the client gets a new
// socket.
func TestServerRecoveryGoClient(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			t.Parallel()
			opts := ServerOptions{}
			if on {
				opts.ConnectionStateRecovery = &ConnectionStateRecovery{MaxDisconnectionDuration: time.Minute}
			}
			_, base := stServer(t, opts, recoverySetup)
			m := mtManager(t, base[:len(base)-len("/socket.io/")], ManagerOptions{ReconnectionDelay: 50 * time.Millisecond, ReconnectionDelayMax: 100 * time.Millisecond})
			s := m.Socket("/")
			seeded := make(chan struct{}, 1)
			s.On("seed", func(*ClientEvent) { seeded <- struct{}{} })
			var missed []int
			var got atomic.Int32
			s.On("missed", func(ev *ClientEvent) {
				var n int
				_ = ev.Arg(0, &n)
				missed = append(missed, n)
				got.Add(1)
			})
			connects := make(chan bool, 2)
			s.OnConnect(func() { connects <- s.Recovered() })
			require.NoError(t, s.Connect(mtCtx(t)))
			assert.False(t, mtRecv(t, connects, "connect"))
			first := s.ID()
			require.NoError(t, s.Emit("prepare"))
			mtRecv(t, seeded, "seed")
			require.NoError(t, s.Emit("drop"))
			recovered := mtRecv(t, connects, "reconnect")
			resp, err := s.Timeout(mtWait).EmitWithAck(mtCtx(t), "whoami")
			require.NoError(t, err)
			var who struct {
				Recovered bool
				Data      json.RawMessage
				Rooms     []string
			}
			require.NoError(t, resp.Arg(0, &who))
			if !on {
				assert.False(t, recovered)
				assert.NotEqual(t, first, s.ID())
				assert.False(t, who.Recovered)
				assert.NotContains(t, who.Rooms, "r")
				return
			}
			assert.True(t, recovered)
			assert.Equal(t, first, s.ID())
			assert.True(t, who.Recovered)
			assert.JSONEq(t, `{"user":"ada"}`, string(who.Data))
			assert.Contains(t, who.Rooms, "r")
			require.Eventually(t, func() bool { return got.Load() >= 3 }, mtWait, 5*time.Millisecond)
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, []int{1, 2, 3}, missed, "the room's broadcasts, in order, and no other")
		})
	}
}

func TestAppendOffset(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `["x"]`, string(appendOffset(json.RawMessage(`[]`), "x")))
	assert.Equal(t, `[ "x"]`, string(appendOffset(json.RawMessage(`[ ]`), "x")))
	assert.Equal(t, `[1,{"a":[2]},"x"]`, string(appendOffset(json.RawMessage(`[1,{"a":[2]}]`), "x")))
}
