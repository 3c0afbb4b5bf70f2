package hostnative

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"sync"
	"time"
)

// clientIO runs the connections that a client core asks for: polling
// requests and WebSockets, each on a goroutine of its own, which report
// back to the owner (clientSink) under the owner's lock. It is the one
// transport layer of the client side: an EngineClient drives it for its
// eio.Client, a Manager for its abi.ClientBackend, whichever runs where.
type clientIO struct {
	mu      *sync.Mutex // the owner's: orders calls into its core and the frames queued
	sink    clientSink
	headers http.Header
	tls     *tls.Config
	ep      engineEndpoint
	hc      *http.Client
	owned   *http.Transport // the HTTP transport of our own, closed in release
	jar     http.CookieJar
	dialTO  time.Duration      // bounds a WebSocket dial (0: none)
	deflate *PerMessageDeflate // what WebSockets offer, with defaults; nil: no offer

	root context.Context // every request and dial
	stop context.CancelFunc
	wg   sync.WaitGroup // request and WebSocket goroutines

	// Guarded by mu.
	reqs  map[uint64]context.CancelFunc // polling requests in flight
	socks map[uint64]*clientWS          // WebSockets dialing or open
}

// clientSink receives what the connections of a clientIO report; each
// method runs with the owner's lock held, and the frames its core queued
// are flushed by the caller once unlocked.
type clientSink interface {
	ioResponse(conn uint64, status int, contentType string, body []byte) clientFlush
	// ioFailed: a request or WebSocket failed without an answer; msg is
	// what to tell the core, err the Go error.
	ioFailed(conn uint64, msg string, err error) clientFlush
	ioWSOpened(conn uint64) clientFlush
	ioWSMessage(conn uint64, binary bool, data []byte) clientFlush
	ioWSClosed(conn uint64, code int) clientFlush
	// ioThrottle holds a reader while the owner's handlers are far behind.
	ioThrottle()
}

func newClientIO(mu *sync.Mutex, sink clientSink, ep engineEndpoint, hc *http.Client, tlsConf *tls.Config, headers http.Header, dialTO time.Duration) *clientIO {
	t := &clientIO{mu: mu, sink: sink, ep: ep, tls: tlsConf, headers: headers, dialTO: dialTO,
		reqs: make(map[uint64]context.CancelFunc), socks: make(map[uint64]*clientWS)}
	switch {
	case hc == nil:
		var tr *http.Transport
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			tr = dt.Clone()
		} else {
			tr = &http.Transport{Proxy: http.ProxyFromEnvironment}
		}
		if tlsConf != nil {
			tr.TLSClientConfig = tlsConf.Clone()
		}
		jar, _ := cookiejar.New(nil)
		hc = &http.Client{Transport: tr, Jar: jar}
		t.owned = tr
	case hc.Jar == nil:
		cp := *hc
		cp.Jar, _ = cookiejar.New(nil)
		hc = &cp
	}
	t.hc, t.jar = hc, hc.Jar
	t.root, t.stop = context.WithCancel(context.Background())
	return t
}

// write queues a frame on WebSocket conn, to be flushed with fl. The
// caller holds mu.
func (t *clientIO) write(conn uint64, binary bool, prefix, data []byte, fl *clientFlush) {
	if w := t.socks[conn]; w != nil && !w.forgotten {
		w.enqueue(binary, prefix, data, t.deflate)
		fl.add(w)
	}
}

// closeConn aborts request conn, or closes WebSocket conn (after its
// queued frames). The caller holds mu.
func (t *clientIO) closeConn(conn uint64, fl *clientFlush) {
	if cancel, ok := t.reqs[conn]; ok {
		delete(t.reqs, conn)
		cancel()
	}
	if w := t.socks[conn]; w != nil && !w.forgotten {
		w.forgotten = true
		w.cancel() // a dial in progress
		w.enqueueClose(1000)
		fl.add(w)
	}
}

// idle reports whether no connection is in flight. The caller holds mu.
func (t *clientIO) idle() bool { return len(t.reqs) == 0 && len(t.socks) == 0 }

// abort drops what is still in flight: requests, dials and WebSockets.
// The caller does not hold mu.
func (t *clientIO) abort() {
	t.stop()
	t.mu.Lock()
	socks := make([]*clientWS, 0, len(t.socks))
	for _, w := range t.socks {
		socks = append(socks, w)
	}
	t.mu.Unlock()
	for _, w := range socks {
		w.abort()
	}
}

// release waits for the connections' goroutines to end, then frees the
// HTTP transport's idle connections.
func (t *clientIO) release() {
	t.wg.Wait()
	t.stop()
	if t.owned != nil {
		t.owned.CloseIdleConnections()
	}
}

// clientFlush lists the WebSockets to write once unlocked.
type clientFlush struct {
	a [4]*clientWS
	n int
}

func (f *clientFlush) add(w *clientWS) {
	for _, x := range f.a[:f.n] {
		if x == w {
			return
		}
	}
	if f.n == len(f.a) {
		go w.flush() // not expected: the core writes on two sockets at most
		return
	}
	f.a[f.n] = w
	f.n++
}

func (f *clientFlush) flush() {
	for _, w := range f.a[:f.n] {
		w.flush()
	}
}

// merge adds the sockets of g to f.
func (f *clientFlush) merge(g clientFlush) {
	for _, w := range g.a[:g.n] {
		f.add(w)
	}
}
