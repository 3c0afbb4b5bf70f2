package hostnative

import (
	"context"
	"testing"
)

// BenchmarkClientEngineEcho measures one round trip of a small text message
// through an EngineClient and an echo Engine (compare it with
// BenchmarkEchoBareWebSocket and the engine's echo benchmarks of the same
// run).
func BenchmarkClientEngineEcho(b *testing.B) {
	for _, tr := range []string{"websocket", "polling"} {
		b.Run(tr, func(b *testing.B) {
			srv := benchEngine(b)
			c, err := NewEngineClient(srv.URL, EngineClientOptions{Transports: []string{tr}})
			if err != nil {
				b.Fatal(err)
			}
			got := make(chan struct{}, 1)
			c.OnMessage(func([]byte, bool) { got <- struct{}{} })
			if err := c.Open(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				_ = c.Close()
				<-c.Done()
			})
			msg := []byte(`42["message","hello, world"]`)
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if err := c.Send(msg, false); err != nil {
					b.Fatal(err)
				}
				<-got
			}
		})
	}
}

// BenchmarkClientSocketEcho measures one Socket.IO event round trip through
// a ClientSocket and a Server that echoes it (compare with
// BenchmarkClientEngineEcho of the same run: the Socket.IO layers' cost on
// both sides), and an EmitWithAck round trip.
func BenchmarkClientSocketEcho(b *testing.B) { benchClientSocketEcho(b, nil) }

// benchClientSocketEcho runs the emit and ack round trips with core.
func benchClientSocketEcho(b *testing.B, core ClientCoreFactory) {
	_, srv := mtServer(b, echoSetup(nil, nil))
	m, err := NewManager(srv.URL, ManagerOptions{Transports: []string{"websocket"}, Core: core})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	s := m.Socket("/")
	got := make(chan struct{}, 1)
	s.On("echo", func(*ClientEvent) { got <- struct{}{} })
	if err := s.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Run("emit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Emit("echo", "hello, world"); err != nil {
				b.Fatal(err)
			}
			<-got
		}
	})
	b.Run("ack", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			if _, err := s.EmitWithAck(ctx, "add", 1, 2); err != nil {
				b.Fatal(err)
			}
		}
	})
}
