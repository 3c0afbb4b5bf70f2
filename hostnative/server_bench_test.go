package hostnative

import (
	"io"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
)

func benchServer(b *testing.B, core ...CoreFactory) (*Server, *httptest.Server) {
	opts := EngineOptions{PingInterval: time.Hour, PingTimeout: time.Hour}
	if len(core) > 0 {
		opts.Core = core[0]
	}
	io := NewServer(ServerOptions{Engine: opts})
	io.OnConnection(func(s *Socket) {
		s.Join("bench")
		s.On("echo", func(ev *Event) { _ = s.EmitRaw("echo", ev.ArgsJSON(), ev.Attachments()) })
	})
	srv := httptest.NewServer(io)
	b.Cleanup(srv.Close)
	return io, srv
}

// sioDial opens a WebSocket and joins "/".
func sioDial(tb testing.TB, url string) io.ReadWriter {
	conn := dialWS(tb, url+"/socket.io/?EIO=4&transport=websocket")
	if _, err := wsutil.ReadServerText(conn); err != nil {
		tb.Fatal(err)
	}
	if err := wsutil.WriteClientText(conn, []byte("40")); err != nil {
		tb.Fatal(err)
	}
	if _, err := wsutil.ReadServerText(conn); err != nil {
		tb.Fatal(err)
	}
	return conn
}

// BenchmarkSocketIOEcho measures one event round trip through the whole
// Socket.IO stack over WebSocket.
func BenchmarkSocketIOEcho(b *testing.B) {
	_, srv := benchServer(b)
	conn := sioDial(b, srv.URL)
	msg := []byte(`42["echo","hello world",{"n":1}]`)
	wsRoundTrips(b, conn, msg)
}

// BenchmarkBroadcast1000 measures a broadcast to 1,000 sockets in one room:
// each op is one emit, complete when every socket has read it.
func BenchmarkBroadcast1000(b *testing.B) { benchBroadcast(b) }

// BenchmarkCores runs the echo benchmarks (Engine.IO and Socket.IO, over
// WebSocket) and the broadcast with the native core and with the
// WebAssembly core, side by side in the same run.
func BenchmarkCores(b *testing.B) {
	cores := []struct {
		name string
		f    func(b *testing.B) CoreFactory
	}{
		{"native", func(*testing.B) CoreFactory { return nil }},
		{"wasm", func(b *testing.B) CoreFactory { return wasmModule(b).NewCore }},
	}
	for _, c := range cores {
		b.Run("EchoWebSocket/"+c.name, func(b *testing.B) {
			srv := benchEngine(b, c.f(b))
			conn := dialWS(b, srv.URL+"/engine.io/?EIO=4&transport=websocket")
			if _, err := wsutil.ReadServerText(conn); err != nil {
				b.Fatal(err)
			}
			wsRoundTrips(b, conn, []byte("4hello world"))
		})
	}
	for _, c := range cores {
		b.Run("SocketIOEcho/"+c.name, func(b *testing.B) {
			_, srv := benchServer(b, c.f(b))
			conn := sioDial(b, srv.URL)
			wsRoundTrips(b, conn, []byte(`42["echo","hello world",{"n":1}]`))
		})
	}
	for _, c := range cores {
		b.Run("Broadcast1000/"+c.name, func(b *testing.B) { benchBroadcast(b, c.f(b)) })
	}
}

func benchBroadcast(b *testing.B, core ...CoreFactory) {
	n := benchN()
	io, srv := benchServer(b, core...)
	var got atomic.Int64
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		conn := sioDial(b, srv.URL)
		go func() {
			for {
				if _, err := wsutil.ReadServerText(conn); err != nil {
					return
				}
				got.Add(1)
				select {
				case <-done:
					return
				default:
				}
			}
		}()
	}
	ns := io.Of("/")
	// The connection handler joins the room after the client hears back.
	for len(ns.To("bench").FetchSockets()) < n {
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var want int64
	for b.Loop() {
		want += int64(n)
		if err := ns.To("bench").Emit("news", "hello", 42); err != nil {
			b.Fatal(err)
		}
		for got.Load() < want {
			time.Sleep(50 * time.Microsecond)
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(want)/elapsed.Seconds(), "deliveries/s")
	b.StopTimer()
	close(done) // the readers end when cleanup closes their connections
}

func benchN() int {
	if s := os.Getenv("SIOHOST_BENCH_N"); s != "" {
		n, _ := strconv.Atoi(s)
		return n
	}
	return 1000
}

// BenchmarkMailboxRunner compares the mailbox runner (workers that wait a
// moment for more work) with a goroutine started per burst, on the
// Socket.IO echo, native and WebAssembly cores, in the same run.
func BenchmarkMailboxRunner(b *testing.B) {
	cores := []struct {
		name string
		f    func(b *testing.B) CoreFactory
	}{
		{"native", func(*testing.B) CoreFactory { return nil }},
		{"wasm", func(b *testing.B) CoreFactory { return wasmModule(b).NewCore }},
	}
	for _, c := range cores {
		for _, spawn := range []bool{true, false} {
			name := "pooled"
			if spawn {
				name = "spawn"
			}
			b.Run(c.name+"/"+name, func(b *testing.B) {
				io, srv := benchServer(b, c.f(b))
				io.engine.runner.spawn = spawn
				conn := sioDial(b, srv.URL)
				wsRoundTrips(b, conn, []byte(`42["echo","hello world",{"n":1}]`))
			})
		}
	}
}
