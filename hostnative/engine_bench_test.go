package hostnative

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// The echo benchmarks measure one round trip of a small text message
// through the whole host. BenchmarkEchoBareWebSocket is the baseline they
// are compared with in the same run: a gobwas/ws echo server with no
// Engine.IO at all.

func benchEngine(b *testing.B, core ...CoreFactory) *httptest.Server {
	opts := EngineOptions{PingInterval: time.Hour, PingTimeout: time.Hour}
	if len(core) > 0 {
		opts.Core = core[0]
	}
	e := NewEngine(opts)
	e.OnConnection(func(c *EngineConn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})
	srv := httptest.NewServer(e)
	b.Cleanup(srv.Close)
	return srv
}

// dialWS opens a client WebSocket. Frames the server sent right behind its
// 101 answer may sit in the dialer's buffer: reads go through it.
func dialWS(tb testing.TB, url string) io.ReadWriter {
	conn, br, _, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(url, "http"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if br == nil {
		return conn
	}
	return struct {
		io.Reader
		io.Writer
	}{br, conn}
}

// wsRoundTrips sends msg and reads one reply, b.N times.
func wsRoundTrips(b *testing.B, conn io.ReadWriter, msg []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		if err := wsutil.WriteClientText(conn, msg); err != nil {
			b.Fatal(err)
		}
		got, err := wsutil.ReadServerText(conn)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(msg) {
			b.Fatalf("got %q", got)
		}
	}
}

func BenchmarkEchoBareWebSocket(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, _, _, err := ws.UpgradeHTTP(r, w)
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			var hdr [ws.MaxHeaderSize - 2]byte
			for {
				h, err := ws.ReadHeaderBuffer(conn, hdr[:])
				if err != nil {
					return
				}
				p := make([]byte, h.Length)
				if _, err := io.ReadFull(conn, p); err != nil {
					return
				}
				ws.Cipher(p, h.Mask, 0)
				if h.OpCode == ws.OpClose {
					return
				}
				if err := ws.WriteFrame(conn, ws.NewTextFrame(p)); err != nil {
					return
				}
			}
		}()
	}))
	b.Cleanup(srv.Close)
	conn := dialWS(b, srv.URL)
	wsRoundTrips(b, conn, []byte("4hello world"))
}

func BenchmarkEchoWebSocket(b *testing.B) {
	srv := benchEngine(b)
	conn := dialWS(b, srv.URL+"/engine.io/?EIO=4&transport=websocket")
	if _, err := wsutil.ReadServerText(conn); err != nil { // the open packet
		b.Fatal(err)
	}
	wsRoundTrips(b, conn, []byte("4hello world"))
}

func BenchmarkEchoPolling(b *testing.B) {
	srv := benchEngine(b)
	client := srv.Client()
	resp, err := client.Get(srv.URL + "/engine.io/?EIO=4&transport=polling")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sid := string(body[9:29]) // 0{"sid":"<20 chars>"
	url := srv.URL + "/engine.io/?EIO=4&transport=polling&sid=" + sid
	msg := []byte("4hello world")
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Post(url, "text/plain;charset=UTF-8", bytes.NewReader(msg))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		resp, err = client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(got, msg) {
			b.Fatalf("got %q", got)
		}
	}
}

// BenchmarkEchoDeflate: one round trip of a message between the Go client
// and an Engine, both over WebSocket, with permessage-deflate negotiated
// ("on", at the default level; "speed", at flate.BestSpeed on both sides)
// or not ("off"), for a small message (under the threshold, so never
// compressed) and JSON-like ones of 4 KB and 64 KB (compressed both ways
// when negotiated). wireB/op is what crossed the TCP connection, both ways.
func BenchmarkEchoDeflate(b *testing.B) {
	var rec strings.Builder
	for i := 0; rec.Len() < 64<<10; i++ {
		rec.WriteString(`{"id":` + strconv.Itoa(i) + `,"user":"guest-` + strconv.Itoa(i%97) + `","room":"lobby","text":"hello there, how is it going?","ts":17000000` + strconv.Itoa(i) + `},`)
	}
	sizes := []struct {
		name string
		msg  []byte
	}{
		{"16B", []byte("hello, world! 16")},
		{"4KB", []byte(rec.String()[:4<<10])},
		{"64KB", []byte(rec.String()[:64<<10])},
	}
	for _, size := range sizes {
		for _, mode := range []struct {
			name string
			pmd  *PerMessageDeflate
		}{
			{"off", nil},
			{"on", &PerMessageDeflate{}},
			{"speed", &PerMessageDeflate{Level: flate.BestSpeed}},
		} {
			pmd := mode.pmd
			b.Run(size.name+"/"+mode.name, func(b *testing.B) {
				e := NewEngine(EngineOptions{PingInterval: time.Hour, PingTimeout: time.Hour, PerMessageDeflate: pmd})
				e.OnConnection(func(c *EngineConn) {
					c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
				})
				srv := httptest.NewUnstartedServer(e)
				counted := &countingListener{Listener: srv.Listener}
				srv.Listener = counted
				srv.Start()
				b.Cleanup(srv.Close)
				copts := EngineClientOptions{Transports: []string{"websocket"}}
				if pmd != nil {
					copts.PerMessageDeflate = *pmd
				}
				c, err := DialEngine(context.Background(), srv.URL, copts)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = c.Close() })
				got := make(chan int, 1)
				c.OnMessage(func(data []byte, _ bool) { got <- len(data) })
				b.ReportAllocs()
				b.SetBytes(int64(len(size.msg)))
				start := counted.bytes.Load()
				b.ResetTimer()
				for b.Loop() {
					if err := c.Send(size.msg, false); err != nil {
						b.Fatal(err)
					}
					if n := <-got; n != len(size.msg) {
						b.Fatalf("echoed %d bytes", n)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(counted.bytes.Load()-start)/float64(b.N), "wireB/op")
			})
		}
	}
}

// countingListener counts the bytes its connections read and write.
type countingListener struct {
	net.Listener
	bytes atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, n: &l.bytes}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}
