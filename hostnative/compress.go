package hostnative

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// HTTP compression of polling responses, as the reference's httpCompression
// option: a body of at least the threshold (1 KB by default) is sent gzip-
// or deflate-encoded when the request accepts it.

// defaultCompressionThreshold is the reference's httpCompression.threshold.
const defaultCompressionThreshold = 1024

// HTTPCompression configures the compression of polling responses.
type HTTPCompression struct {
	// Threshold is the smallest body compressed, in bytes. Default 1024.
	Threshold int
}

var (
	gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}
	zlibPool = sync.Pool{New: func() any { return zlib.NewWriter(io.Discard) }}
)

// compressBody returns body encoded as the request prefers among gzip and
// deflate, with the encoding's name, or body and "" when it is below the
// threshold or the request accepts neither.
func compressBody(r *http.Request, body []byte, threshold int) ([]byte, string) {
	if len(body) < threshold {
		return body, ""
	}
	enc := pickEncoding(r.Header.Values("Accept-Encoding"))
	if enc == "" {
		return body, ""
	}
	var buf bytes.Buffer
	buf.Grow(len(body) / 2)
	var err error
	switch enc {
	case "gzip":
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(&buf)
		_, err = zw.Write(body)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		gzipPool.Put(zw)
	default:
		zw := zlibPool.Get().(*zlib.Writer)
		zw.Reset(&buf)
		_, err = zw.Write(body)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		zlibPool.Put(zw)
	}
	if err != nil { // cannot happen writing to memory
		return body, ""
	}
	return buf.Bytes(), enc
}

// pickEncoding chooses between gzip and deflate as the reference's
// negotiation does: each is rated by the entry naming it (or by "*"), then
// the highest quality wins, an exact name before "*", then the client's
// order, then gzip.
func pickEncoding(headers []string) string {
	var entries []acceptCoding
	for _, h := range headers {
		for part := range strings.SplitSeq(h, ",") {
			name, params, _ := strings.Cut(part, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						q = f
					}
				}
			}
			entries = append(entries, acceptCoding{name, q, len(entries)})
		}
	}
	best, bestQ, bestExact, bestOrder := "", 0.0, false, 0
	for _, cand := range [...]string{"gzip", "deflate"} {
		// The acceptCoding that rates cand: its own name, else "*".
		match := findEntry(entries, func(e acceptCoding) bool { return e.name == cand })
		if match == nil {
			match = findEntry(entries, func(e acceptCoding) bool { return e.name == "*" })
		}
		if match == nil || match.q <= 0 {
			continue
		}
		exact := match.name == cand
		if best == "" || match.q > bestQ ||
			(match.q == bestQ && exact && !bestExact) ||
			(match.q == bestQ && exact == bestExact && match.order < bestOrder) {
			best, bestQ, bestExact, bestOrder = cand, match.q, exact, match.order
		}
	}
	return best
}

// acceptCoding is one coding of an Accept-Encoding header.
type acceptCoding struct {
	name  string
	q     float64
	order int
}

func findEntry(entries []acceptCoding, ok func(acceptCoding) bool) *acceptCoding {
	for i := range entries {
		if ok(entries[i]) {
			return &entries[i]
		}
	}
	return nil
}
