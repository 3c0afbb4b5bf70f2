package hostnative

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ServerOptions.ClientFiles serves socket.io-client's dist folder as the
// reference's serveClient does. (TestJSONPBrowser loads its client this
// way in a real browser.)
func TestServeClient(t *testing.T) {
	requireNode(t) // for the client's files
	dist := filepath.Join(interopDir, "node_modules", "sio-client-v4", "dist")
	sio := NewServer(ServerOptions{ClientFiles: os.DirFS(dist)})
	t.Cleanup(sio.Close)
	srv := httptest.NewServer(sio)
	t.Cleanup(srv.Close)
	// No transparent decompression: the test looks at the encoding.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(method, path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res, b
	}
	for _, name := range []string{"socket.io.js", "socket.io.min.js", "socket.io.esm.min.js", "socket.io.msgpack.min.js", "socket.io.min.js.map"} {
		want, err := os.ReadFile(filepath.Join(dist, name))
		require.NoError(t, err)
		res, body := get("GET", "/socket.io/"+name)
		require.Equal(t, http.StatusOK, res.StatusCode, name)
		assert.Equal(t, want, body, name)
		assert.Equal(t, "public, max-age=0", res.Header.Get("Cache-Control"))
		if filepath.Ext(name) == ".map" {
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		} else {
			assert.Equal(t, "application/javascript; charset=utf-8", res.Header.Get("Content-Type"))
		}
		etag := res.Header.Get("ETag")
		require.NotEmpty(t, etag)
		res, body = get("GET", "/socket.io/"+name, "If-None-Match", etag)
		assert.Equal(t, http.StatusNotModified, res.StatusCode, name)
		assert.Empty(t, body)
	}

	// Compressed when accepted; HEAD has the headers alone.
	want, err := os.ReadFile(filepath.Join(dist, "socket.io.min.js"))
	require.NoError(t, err)
	res, body := get("GET", "/socket.io/socket.io.min.js", "Accept-Encoding", "gzip, deflate, br")
	require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	zr, err := gzip.NewReader(bytes.NewReader(body))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, want, plain)
	assert.Less(t, len(body), len(want)/2)
	res, body = get("HEAD", "/socket.io/socket.io.js")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Empty(t, body)

	// Other names are the engine's (a request without a transport: 400),
	// and so is everything when ClientFiles is nil.
	for _, path := range []string{"/socket.io/socket.io.slim.js", "/socket.io/other.js", "/socket.io/socket.io.js.gz"} {
		res, _ := get("GET", path)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, path)
	}
	plainIO := NewServer(ServerOptions{})
	t.Cleanup(plainIO.Close)
	rec := httptest.NewRecorder()
	plainIO.ServeHTTP(rec, httptest.NewRequest("GET", "/socket.io/socket.io.js", nil))
	assert.Equal(t, http.StatusBadRequest, rec.Code)
}
