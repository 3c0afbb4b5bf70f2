package hostnative

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/siohost/siohost/core/eio"
)

// The polling side of a clientIO: every request the core asks for runs on
// its own goroutine, and its answer (or failure) goes back to the sink.

// request launches polling request conn with the Engine.IO query. The
// caller holds t.mu.
func (t *clientIO) request(conn uint64, method, query string, content eio.Content, data []byte) {
	ctx, cancel := context.WithCancel(t.root)
	t.reqs[conn] = cancel
	var body []byte
	if method == http.MethodPost {
		body = bytes.Clone(data) // the core reuses its buffer
		if body == nil {
			body = []byte{}
		}
	}
	ct := ""
	switch content {
	case eio.ContentText:
		ct = "text/plain;charset=UTF-8"
	case eio.ContentBinary:
		ct = "application/octet-stream"
	}
	t.wg.Add(1)
	go t.runRequest(ctx, conn, method, query, ct, body)
}

func (t *clientIO) runRequest(ctx context.Context, conn uint64, method, query, contentType string, body []byte) {
	defer t.wg.Done()
	if method == http.MethodGet {
		// The next poll waits for the handlers when they are far behind.
		t.sink.ioThrottle()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.ep.httpBase+query, rd)
	if err != nil {
		t.requestFailed(conn, err)
		return
	}
	if len(t.headers) > 0 {
		req.Header = t.headers.Clone()
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		t.requestFailed(conn, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxClientMessage+1))
	_ = resp.Body.Close()
	switch {
	case err != nil:
		t.requestFailed(conn, err)
		return
	case len(data) > maxClientMessage:
		t.requestFailed(conn, errors.New("response body over "+strconv.Itoa(maxClientMessage)+" bytes"))
		return
	}
	t.mu.Lock()
	if _, ok := t.reqs[conn]; !ok {
		t.mu.Unlock()
		return // the core dropped it
	}
	delete(t.reqs, conn)
	fl := t.sink.ioResponse(conn, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	t.mu.Unlock()
	fl.flush()
}

// requestFailed tells the sink that request conn got no answer.
func (t *clientIO) requestFailed(conn uint64, err error) {
	t.mu.Lock()
	if _, ok := t.reqs[conn]; !ok {
		t.mu.Unlock()
		return
	}
	delete(t.reqs, conn)
	fl := t.sink.ioFailed(conn, requestError(err), err)
	t.mu.Unlock()
	fl.flush()
}

// requestError describes a failed request without repeating its URL.
func requestError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
