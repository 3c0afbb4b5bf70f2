package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHandler: the page, the client and the module are served, the module
// as application/wasm (instantiateStreaming refuses anything else). The
// browser itself is tested in bindings/js.
func TestHandler(t *testing.T) {
	wasm := filepath.Join(t.TempDir(), "siohost-core.wasm")
	require.NoError(t, os.WriteFile(wasm, []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	sio := newServer()
	defer sio.Close()
	h, err := newHandler(sio, wasm, filepath.Join("..", "..", "bindings", "js"))
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, ctype := range map[string]string{
		"/":                  "text/html; charset=utf-8",
		"/app.js":            "text/javascript; charset=utf-8",
		"/js/siohost.js":     "text/javascript; charset=utf-8",
		"/js/wasi.js":        "text/javascript; charset=utf-8",
		"/siohost-core.wasm": "application/wasm",
	} {
		res, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		require.Equal(t, ctype, res.Header.Get("Content-Type"), path)
	}
}
