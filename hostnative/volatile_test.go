package hostnative

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServerVolatileBackedUpWebSocket: a volatile packet is dropped for a
// WebSocket that is still writing what it was given (a client that does
// not read), as the reference drops it while its transport is not
// writable; the packets that are not volatile all arrive.
func TestServerVolatileBackedUpWebSocket(t *testing.T) {
	t.Parallel()
	socks := make(chan *Socket, 1)
	io, base := stServer(t, ServerOptions{}, func(io *Server) {
		io.OnConnection(func(s *Socket) { socks <- s })
	})
	conn, rd := stDialWS(t, base+"?EIO=4&transport=websocket")
	require.True(t, strings.HasPrefix(stReadText(t, conn, rd), "0{"))
	require.NoError(t, wsutil.WriteClientText(conn, []byte("40")))
	require.True(t, strings.HasPrefix(stReadText(t, conn, rd), `40{"sid":`))
	s := stRecv(t, socks, "server socket")

	require.NoError(t, s.Volatile().Emit("vol", "while idle"), "an idle WebSocket takes volatile packets")
	// The client stops reading: big packets fill the socket buffers until
	// a write blocks (in the emitting goroutine: emits write through).
	big := strings.Repeat("x", 256<<10)
	const sent = 64 // 16 MB, more than loopback buffers hold
	emitted := make(chan error, 1)
	var progress atomic.Int32
	go func() {
		for range sent {
			if err := s.Emit("big", big); err != nil {
				emitted <- err
				return
			}
			progress.Add(1)
		}
		emitted <- s.Emit("end")
	}()
	// Backed up: writing, and no emit has got through for a while.
	require.Eventually(t, func() bool {
		n := progress.Load()
		time.Sleep(50 * time.Millisecond)
		return n < sent && progress.Load() == n && s.Conn().wsBusy()
	}, stWait, time.Millisecond, "the WebSocket never backed up")
	require.NoError(t, s.Volatile().Emit("vol", "dropped"))
	require.NoError(t, io.Of("/").Volatile().Emit("vol", "dropped broadcast"))

	var vols []string
	bigs := 0
	for {
		msg := stReadText(t, conn, rd)
		switch {
		case strings.HasPrefix(msg, `42["vol"`):
			vols = append(vols, msg)
		case strings.HasPrefix(msg, `42["big"`):
			bigs++
		case msg == `42["end"]`:
			assert.Equal(t, []string{`42["vol","while idle"]`}, vols)
			assert.Equal(t, sent, bigs, "every packet that was not volatile arrived")
			require.NoError(t, stRecv(t, emitted, "the emits"))
			return
		}
	}
}
