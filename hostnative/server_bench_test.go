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

func benchServer(b *testing.B) (*Server, *httptest.Server) {
	io := NewServer(ServerOptions{Engine: EngineOptions{PingInterval: time.Hour, PingTimeout: time.Hour}})
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
func BenchmarkBroadcast1000(b *testing.B) {
	n := benchN()
	io, srv := benchServer(b)
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
