package hostnative

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPickEncoding(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]string{
		"":                          "",
		"identity":                  "",
		"gzip":                      "gzip",
		"deflate":                   "deflate",
		"gzip, deflate, br":         "gzip",
		"deflate, gzip":             "deflate",
		"gzip;q=0.5, deflate":       "deflate",
		"*":                         "gzip",
		"gzip;q=0, *":               "deflate",
		"gzip;q=0, deflate;q=0, *":  "",
		"br, *;q=0.1":               "gzip",
		"GZIP ; q=1.0":              "gzip",
		"deflate;q=0.9, *;q=0.95":   "gzip",
		"gzip;q=bogus, deflate;q=1": "gzip",
	} {
		assert.Equal(t, want, pickEncoding([]string{header}), "%q", header)
	}
}

func TestCompressBody(t *testing.T) {
	t.Parallel()
	body := bytes.Repeat([]byte(`42["message","hello, world"]`), 100)
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	out, enc := compressBody(req, body, 1024)
	require.Equal(t, "gzip", enc)
	assert.Less(t, len(out), len(body)/4)
	zr, err := gzip.NewReader(bytes.NewReader(out))
	require.NoError(t, err)
	got, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, body, got)

	req.Header.Set("Accept-Encoding", "deflate")
	out, enc = compressBody(req, body, 1024)
	require.Equal(t, "deflate", enc)
	fr, err := zlib.NewReader(bytes.NewReader(out))
	require.NoError(t, err)
	got, err = io.ReadAll(fr)
	require.NoError(t, err)
	assert.Equal(t, body, got)

	out, enc = compressBody(req, body[:1023], 1024)
	assert.Empty(t, enc, "below the threshold")
	assert.Equal(t, body[:1023], out)
}

// TestEngineHTTPCompression: polling bodies of 1 KB and more are gzip- or
// deflate-encoded when the request accepts it, as the reference does.
func TestEngineHTTPCompression(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("a long message ", 100) // 1,500 bytes
	get := func(env *ehEnv, sid, accept string) ehResp {
		return env.do("GET", "EIO=4&transport=polling&sid="+sid, nil, http.Header{"Accept-Encoding": {accept}})
	}
	t.Run("on", func(t *testing.T) {
		t.Parallel()
		env := newEhEnv(t, EngineOptions{}, false)
		sid := env.handshake()
		require.NoError(t, env.conn(sid).Send([]byte(big), false))
		r := get(env, sid, "gzip, deflate, br")
		require.Equal(t, 200, r.status)
		require.Equal(t, "gzip", r.header.Get("Content-Encoding"))
		zr, err := gzip.NewReader(bytes.NewReader(r.body))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		assert.Equal(t, "4"+big, string(plain))

		require.NoError(t, env.conn(sid).Send([]byte(big), false))
		r = get(env, sid, "deflate")
		require.Equal(t, "deflate", r.header.Get("Content-Encoding"))
		fr, err := zlib.NewReader(bytes.NewReader(r.body))
		require.NoError(t, err)
		plain, err = io.ReadAll(fr)
		require.NoError(t, err)
		assert.Equal(t, "4"+big, string(plain))

		require.NoError(t, env.conn(sid).Send([]byte("small"), false))
		r = get(env, sid, "gzip")
		assert.Empty(t, r.header.Get("Content-Encoding"), "below the threshold")
		assert.Equal(t, "4small", string(r.body))

		require.NoError(t, env.conn(sid).Send([]byte(big), false))
		r = get(env, sid, "identity")
		assert.Empty(t, r.header.Get("Content-Encoding"))
		assert.Equal(t, "4"+big, string(r.body))
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		env := newEhEnv(t, EngineOptions{NoHTTPCompression: true}, false)
		sid := env.handshake()
		require.NoError(t, env.conn(sid).Send([]byte(big), false))
		r := get(env, sid, "gzip")
		assert.Empty(t, r.header.Get("Content-Encoding"))
		assert.Equal(t, "4"+big, string(r.body))
	})
}
