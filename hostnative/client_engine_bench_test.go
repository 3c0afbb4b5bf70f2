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
