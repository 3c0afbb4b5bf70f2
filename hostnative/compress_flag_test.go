package hostnative

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pollEncoded sends a polling GET that accepts gzip and returns the
// response's Content-Encoding and its body, decoded.
func pollEncoded(t *testing.T, url string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	// Set by hand, so the transport hands the body over as sent.
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	enc := resp.Header.Get("Content-Encoding")
	if enc == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		require.NoError(t, err)
		raw, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	return enc, string(raw)
}

// TestServerCompressFlagPolling: a polling response is gzip-encoded only
// when some packet in it may be compressed, as the reference's polling
// transport decides (packets.some(p => p.options.compress)): compress(false)
// on every packet of a batch (socket, broadcast, io) leaves it plain; one
// packet without the flag compresses the whole batch.
func TestServerCompressFlagPolling(t *testing.T) {
	t.Parallel()
	socks := make(chan *Socket, 1)
	srv, base := stServer(t, ServerOptions{}, func(io *Server) {
		io.OnConnection(func(s *Socket) { socks <- s })
	})
	url := stOpenPolling(t, base)
	s := stRecv(t, socks, "server socket")
	big := strings.Repeat("compressible ", 100) // 1,300 bytes: over the threshold
	want := func(events ...string) string {
		var parts []string
		for _, e := range events {
			parts = append(parts, `42["`+e+`","`+big+`"]`)
		}
		return strings.Join(parts, "\x1e")
	}

	require.NoError(t, s.Emit("default", big))
	enc, body := pollEncoded(t, url)
	assert.Equal(t, "gzip", enc, "compress defaults to true")
	assert.Equal(t, want("default"), body)

	require.NoError(t, s.Compress(false).Emit("a", big))
	require.NoError(t, s.Compress(false).Volatile().Timeout(0).EmitRaw("b", []byte(`["`+big+`"]`), nil))
	require.NoError(t, srv.Compress(false).Emit("c", big))
	require.NoError(t, srv.Of("/").Compress(false).Except("nobody").Emit("d", big))
	enc, body = pollEncoded(t, url)
	assert.Empty(t, enc, "every packet of the batch has compress false")
	assert.Equal(t, want("a", "c", "d"), body, "the volatile one was dropped: no GET was pending")

	require.NoError(t, s.Compress(false).Emit("a", big))
	require.NoError(t, s.Compress(true).Emit("b", big))
	enc, body = pollEncoded(t, url)
	assert.Equal(t, "gzip", enc, "one packet may be compressed: the whole body is")
	assert.Equal(t, want("a", "b"), body)

	require.NoError(t, srv.Compress(false).Emit("a", big))
	require.NoError(t, srv.To("nowhere").Emit("lost", big))
	require.NoError(t, srv.To(s.ID()).Compress(false).Compress(true).Emit("b", big))
	enc, body = pollEncoded(t, url)
	assert.Equal(t, "gzip", enc, "the last Compress wins")
	assert.Equal(t, want("a", "b"), body)
}
