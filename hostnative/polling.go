package hostnative

import (
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/siohost/siohost/core/eio"
)

var contentTypes = [...]string{
	eio.ContentText:   "text/plain; charset=UTF-8",
	eio.ContentBinary: "application/octet-stream",
	eio.ContentHTML:   "text/html",
	eio.ContentJSON:   "application/json",
}

// respond writes a polling answer; sid is the id of the session it opens,
// if it does.
func (e *Engine) respond(w http.ResponseWriter, r *http.Request, resp pollResponse, sid string) {
	h := w.Header()
	if resp.status == http.StatusOK {
		e.headers(h, r, sid)
	}
	if resp.content != eio.ContentNone {
		h.Set("Content-Type", contentTypes[resp.content])
	}
	body := resp.body
	if resp.status == http.StatusOK && !e.opts.NoHTTPCompression && !resp.noCompress &&
		(resp.content == eio.ContentText || resp.content == eio.ContentBinary) {
		var enc string
		if body, enc = compressBody(r, body, e.opts.HTTPCompression.Threshold); enc != "" {
			h.Set("Content-Encoding", enc)
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if resp.content != eio.ContentJSON && resp.content != eio.ContentNone {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(body)
}

// waitPoll holds a polling GET until the core answers it or the client goes
// away.
func (e *Engine) waitPoll(w http.ResponseWriter, r *http.Request, sh *shard, conn uint64, h eio.Handle, wait chan pollResponse) {
	select {
	case resp := <-wait:
		e.respond(w, r, resp, "")
	case <-r.Context().Done():
		b := sh.begin(0, nil)
		_, parked := sh.waiters[conn]
		delete(sh.waiters, conn)
		if parked {
			sh.core.ConnClosed(b.now, conn, h, false)
		}
		sh.end(b)
		b.done()
	}
}

// readBody reads a POST body within the core's limit and hands it over.
func (e *Engine) readBody(w http.ResponseWriter, r *http.Request, sh *shard, conn uint64, h eio.Handle, limit int64) {
	// A body that stalls is refused (408) as the reference's
	// httpRequestBodyTimeout does, rather than holding its buffer.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout))
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	status := eio.BodyOK
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		status = eio.BodyTimeout
	case err != nil:
		status = eio.BodyAborted
	case int64(len(body)) > limit:
		status = eio.BodyTooLarge
	}
	b := sh.begin(conn, r)
	sh.core.Body(b.now, conn, h, body, status)
	ec := sh.conns[h]
	sh.end(b)
	out := b.self
	b.done()
	if ec != nil {
		// Backpressure: the client's next POST waits for the handlers.
		ec.throttle()
	}
	if out.respond {
		e.respond(w, r, out.resp, "")
	}
}

// bodyTimeout bounds how long a POST body may take to arrive.
const bodyTimeout = 30 * time.Second

// serveWebSocket completes an upgrade the core accepted.
func (e *Engine) serveWebSocket(w http.ResponseWriter, r *http.Request, sh *shard, wc *wsConn, sid string) {
	up := e.upgrader
	h := make(http.Header)
	e.headers(h, r, sid) // sid: the session this upgrade opens, if it does
	if len(h) > 0 {
		up.Header = h
	}
	up.Header = wc.acceptHeader(up.Header)
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		b := sh.begin(0, nil)
		delete(sh.sockets, wc.id)
		sh.core.ConnClosed(b.now, wc.id, wc.h, true)
		sh.end(b)
		b.done()
		return
	}
	wc.attach(nc, rw.Reader)
}

// isUpgrade reports whether r asks for a WebSocket upgrade.
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// validWebSocketKey checks the version and key of a WebSocket handshake.
func validWebSocketKey(r *http.Request) bool {
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return false
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	return err == nil && len(key) == 16
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// validHeaderValue applies the reference's check for invalid characters in
// the Origin header.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// sessionCookie renders the handshake cookie holding the session id.
func sessionCookie(c *http.Cookie, sid string) string {
	ck := *c
	if ck.Name == "" {
		ck.Name = "io"
	}
	ck.Value = sid
	return ck.String()
}
