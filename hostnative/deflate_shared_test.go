package hostnative

import (
	"bytes"
	"compress/flate"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A broadcast over permessage-deflate is compressed once for all its
// recipients (per shard): they all get the same compressed frame, and
// inflate the message intact.
func TestDeflateBroadcastShared(t *testing.T) {
	t.Parallel()
	io := NewServer(ServerOptions{Engine: EngineOptions{PerMessageDeflate: &PerMessageDeflate{}, Core: testCore(nil)}})
	srv := httptest.NewServer(io)
	t.Cleanup(srv.Close)
	t.Cleanup(io.Close)
	proxy := newSniffProxy(t, strings.TrimPrefix(srv.URL, "http://"))
	const n = 12
	got := make(chan string, n)
	for range n {
		m, err := NewManager(proxy.url(""), ManagerOptions{Transports: []string{"websocket"}, NoReconnection: true})
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		cs := m.Socket("/")
		cs.On("news", func(e *ClientEvent) {
			var s string
			_ = e.Arg(0, &s)
			got <- s
		})
		ctx, cancel := context.WithTimeout(context.Background(), stWait)
		require.NoError(t, cs.Connect(ctx))
		cancel()
	}
	require.NoError(t, io.Emit("news", deflateBig))
	for range n {
		require.Equal(t, deflateBig, stRecv(t, got, "news"))
	}
	var frames [][]byte
	for _, wc := range proxy.websockets() {
		for _, f := range wc.down {
			if f.rsv1 {
				frames = append(frames, f.payload)
			}
		}
	}
	require.Len(t, frames, n, "one compressed frame each")
	for _, f := range frames[1:] {
		assert.Equal(t, frames[0], f, "the same compression")
	}
}

// shareFrame: of many connections writing one message at once, one
// compresses it; all get the frame deflateFrame makes.
func TestSharedDeflateOnce(t *testing.T) {
	// Unique to this run: the cache outlives it.
	payload := []byte(strings.Repeat(`42["tick",{"price":1234.5,"symbol":"ACME"}]`, 200) + time.Now().String())
	want := deflateFrame(flate.DefaultCompression, byte(ws.OpText), payload)
	var calls atomic.Int32
	counting := func(level int, op byte, payload []byte) *[]byte {
		calls.Add(1)
		return deflateFrame(level, op, payload)
	}
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := shareFrame(flate.DefaultCompression, byte(ws.OpText), payload, counting)
			assert.Equal(t, *want, *p)
			putFrame(p)
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), calls.Load(), "compressed once")
	p := shareFrame(flate.BestSpeed, byte(ws.OpText), payload, counting)
	assert.Equal(t, *deflateFrame(flate.BestSpeed, byte(ws.OpText), payload), *p)
	assert.Equal(t, int32(2), calls.Load(), "another level is another compression")

	huge := bytes.Repeat([]byte("z"), maxSharedDeflate+1)
	p = sharedDeflate(flate.BestSpeed, byte(ws.OpText), huge)
	assert.Equal(t, *deflateFrame(flate.BestSpeed, byte(ws.OpText), huge), *p, "too large to share: compressed alone")
}

// BenchmarkBroadcastDeflate: a 4 KB event broadcast to 500 WebSockets
// that negotiated permessage-deflate; each op completes when every client
// has read its (compressed) frame.
func BenchmarkBroadcastDeflate(b *testing.B) {
	const n = 500
	sio := NewServer(ServerOptions{Engine: EngineOptions{PingInterval: time.Hour, PingTimeout: time.Hour,
		PerMessageDeflate: &PerMessageDeflate{}}})
	srv := httptest.NewServer(sio)
	b.Cleanup(srv.Close)
	b.Cleanup(sio.Close)
	var got atomic.Int64
	d := ws.Dialer{Extensions: []httphead.Option{deflateOffer(&PerMessageDeflate{})}}
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	for range n {
		conn, br, _, err := d.Dial(context.Background(), url)
		require.NoError(b, err)
		b.Cleanup(func() { _ = conn.Close() })
		var rd io.Reader = conn
		if br != nil {
			rd = io.MultiReader(br, conn)
		}
		_, err = ws.ReadFrame(rd) // open
		require.NoError(b, err)
		require.NoError(b, wsutil.WriteClientText(conn, []byte("40")))
		_, err = ws.ReadFrame(rd) // CONNECT reply
		require.NoError(b, err)
		go func() {
			for {
				f, err := ws.ReadFrame(rd)
				if err != nil {
					return
				}
				if f.Header.Rsv1() {
					got.Add(1)
				}
			}
		}()
	}
	for len(sio.FetchSockets()) < n {
		time.Sleep(time.Millisecond)
	}
	payload := map[string]any{"rows": strings.Repeat(`{"symbol":"ACME","price":1234.5,"volume":99},`, 90)}
	b.ReportAllocs()
	var want int64
	for b.Loop() {
		want += n
		require.NoError(b, sio.Emit("news", payload))
		for got.Load() < want {
			time.Sleep(50 * time.Microsecond)
		}
	}
}
