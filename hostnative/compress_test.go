package hostnative

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http/httptest"
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
