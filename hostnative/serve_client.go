package hostnative

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The browser client, served at the server's path as the reference's
// serveClient does, from the files the application hands over
// (ServerOptions.ClientFiles): siohost has no copy of socket.io-client.

// clientFile matches the names the reference serves: socket.io.js, with
// .msgpack or .esm, .min, and .map variants.
var clientFile = regexp.MustCompile(`^socket\.io(\.msgpack|\.esm)?(\.min)?\.js(\.map)?$`)

// serveClient answers a GET or HEAD for one of the client's files, and
// reports whether it did.
func (s *Server) serveClient(w http.ResponseWriter, r *http.Request) bool {
	files := s.opts.ClientFiles
	if files == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	name, ok := strings.CutPrefix(r.URL.Path, s.engine.opts.Path)
	if !ok || !clientFile.MatchString(name) {
		return false
	}
	body, err := fs.ReadFile(files, name)
	if err != nil {
		http.Error(w, "siohost: "+name+" is not among ServerOptions.ClientFiles", http.StatusNotFound)
		return true
	}
	// The reference tags the files with the client's version; a digest of
	// the file tells as much, whatever folder they come from.
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=0")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	if strings.HasSuffix(name, ".map") {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "application/javascript; charset=utf-8")
		var enc string
		if body, enc = compressBody(r, body, 0); enc != "" {
			h.Set("Content-Encoding", enc)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
	return true
}
