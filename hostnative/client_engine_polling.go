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

// The polling side of an EngineClient: every request the core asks for runs
// on its own goroutine, and its answer (or failure) goes back to the core.

// startRequest launches polling request e.Conn. The caller holds c.mu.
func (c *EngineClient) startRequest(e *eio.ClientEffect) {
	ctx, cancel := context.WithCancel(c.root)
	c.reqs[e.Conn] = cancel
	var body []byte
	if e.Method == http.MethodPost {
		body = bytes.Clone(e.Data) // the core reuses its buffer
		if body == nil {
			body = []byte{}
		}
	}
	ct := ""
	switch e.Content {
	case eio.ContentText:
		ct = "text/plain;charset=UTF-8"
	case eio.ContentBinary:
		ct = "application/octet-stream"
	}
	c.wg.Add(1)
	go c.runRequest(ctx, e.Conn, e.Method, e.Query, ct, body)
}

func (c *EngineClient) runRequest(ctx context.Context, conn uint64, method, query, contentType string, body []byte) {
	defer c.wg.Done()
	if method == http.MethodGet {
		// The next poll waits for the handlers when they are far behind.
		c.throttle()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.ep.httpBase+query, rd)
	if err != nil {
		c.requestFailed(conn, err)
		return
	}
	if len(c.opts.ExtraHeaders) > 0 {
		req.Header = c.opts.ExtraHeaders.Clone()
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.requestFailed(conn, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxClientMessage+1))
	_ = resp.Body.Close()
	switch {
	case err != nil:
		c.requestFailed(conn, err)
		return
	case len(data) > maxClientMessage:
		c.requestFailed(conn, errors.New("response body over "+strconv.Itoa(maxClientMessage)+" bytes"))
		return
	}
	c.mu.Lock()
	if _, ok := c.reqs[conn]; !ok {
		c.mu.Unlock()
		return // the core dropped it
	}
	delete(c.reqs, conn)
	c.core.Response(c.now(), conn, resp.StatusCode, resp.Header.Get("Content-Type"), data)
	fl := c.applyLocked()
	c.mu.Unlock()
	fl.flush()
}

// requestFailed tells the core that request conn got no answer.
func (c *EngineClient) requestFailed(conn uint64, err error) {
	c.mu.Lock()
	if _, ok := c.reqs[conn]; !ok {
		c.mu.Unlock()
		return
	}
	delete(c.reqs, conn)
	c.cause = err
	c.core.ConnFailed(c.now(), conn, requestError(err))
	fl := c.applyLocked()
	c.cause = nil
	c.mu.Unlock()
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
