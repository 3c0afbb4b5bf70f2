// Package testvec reads the language-neutral golden vector files of
// core/testdata (codec/*.json for Engine.IO, sio/*.json for Socket.IO):
// each file has a format, a description and a list of vectors, whose
// shape each codec's tests define. It imports nothing of core, so the
// core's own tests can use it.
package testvec

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// Bytes is a byte string of a vector: exactly one of Text (UTF-8) or Hex
// (lower case).
type Bytes struct {
	Text *string `json:"text,omitempty"`
	Hex  *string `json:"hex,omitempty"`
}

// Get returns the bytes, failing t on a malformed byte string.
func (b *Bytes) Get(t testing.TB) []byte {
	t.Helper()
	require.NotNil(t, b, "missing byte string")
	require.True(t, (b.Text == nil) != (b.Hex == nil), "a byte string needs exactly one of text or hex")
	if b.Text != nil {
		require.True(t, utf8.ValidString(*b.Text))
		return []byte(*b.Text)
	}
	require.Equal(t, strings.ToLower(*b.Hex), *b.Hex, "hex must be lower-case")
	out, err := hex.DecodeString(*b.Hex)
	require.NoError(t, err)
	return out
}

// File is one vector file, with vectors of type V.
type File[V any] struct {
	Name        string `json:"-"` // the file's base name
	Format      string `json:"format"`
	Description string `json:"description"`
	Vectors     []V    `json:"vectors"`
}

// Load reads the files matching glob, in name order; an unknown field, an
// empty format or an empty vector list fails t, and so do fewer than min
// files.
func Load[V any](t testing.TB, glob string, min int) []File[V] {
	t.Helper()
	paths, err := filepath.Glob(glob)
	require.NoError(t, err)
	sort.Strings(paths)
	var out []File[V]
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		require.NoError(t, err)
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var f File[V]
		require.NoError(t, dec.Decode(&f), p)
		require.NotEmpty(t, f.Format, p)
		require.NotEmpty(t, f.Vectors, p)
		f.Name = filepath.Base(p)
		out = append(out, f)
	}
	require.GreaterOrEqual(t, len(out), min, "vector files missing from %s", glob)
	return out
}
