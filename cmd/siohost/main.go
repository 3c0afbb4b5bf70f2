// Command siohost is the standalone siohost server. It serves Engine.IO at
// /engine.io/ and a small demo page at / in which every browser tab's
// messages are relayed to all connected sessions.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/siohost/siohost/hostnative"
)

//go:embed demo.html
var demoPage []byte

func main() {
	addr := flag.String("addr", "localhost:3000", "listen address")
	path := flag.String("path", "/engine.io", "Engine.IO path")
	allowEIO3 := flag.Bool("allow-eio3", false, "accept Engine.IO v3 clients (socket.io-client 2.x)")
	pingInterval := flag.Duration("ping-interval", 25*time.Second, "heartbeat interval")
	pingTimeout := flag.Duration("ping-timeout", 20*time.Second, "heartbeat timeout")
	maxBuffer := flag.Int64("max-http-buffer-size", 1e6, "largest message or POST body, in bytes")
	flag.Parse()

	engine := hostnative.NewEngine(hostnative.EngineOptions{
		Path:              *path,
		PingInterval:      *pingInterval,
		PingTimeout:       *pingTimeout,
		MaxHTTPBufferSize: *maxBuffer,
		AllowEIO3:         *allowEIO3,
	})
	relay := newRelay()
	engine.OnConnection(relay.add)
	engine.OnConnectionError(func(e *hostnative.ConnectionError) {
		slog.Info("connection refused", "code", e.Code, "message", e.Message, "context", e.Context, "remote", e.Request.RemoteAddr)
	})

	mux := http.NewServeMux()
	mux.Handle(engine.Path(), engine)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(demoPage)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	fmt.Printf("siohost listening on http://%s\n", *addr)
	fmt.Printf("  Engine.IO (v4%s) at %s (polling, websocket)\n", map[bool]string{true: " and v3", false: ""}[*allowEIO3], engine.Path())
	fmt.Printf("  demo page at http://%s/\n", *addr)

	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		engine.Close()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "siohost:", err)
		os.Exit(1)
	}
}

// relay sends every message it receives to every open session.
type relay struct {
	mu    sync.Mutex
	conns map[*hostnative.EngineConn]struct{}
}

func newRelay() *relay { return &relay{conns: make(map[*hostnative.EngineConn]struct{})} }

func (r *relay) add(c *hostnative.EngineConn) {
	r.mu.Lock()
	r.conns[c] = struct{}{}
	r.mu.Unlock()
	c.OnMessage(func(data []byte, binary bool) {
		r.mu.Lock()
		peers := make([]*hostnative.EngineConn, 0, len(r.conns))
		for p := range r.conns {
			peers = append(peers, p)
		}
		r.mu.Unlock()
		for _, p := range peers {
			_ = p.Send(data, binary)
		}
	})
	c.OnClose(func(reason, _ string) {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		slog.Info("session closed", "sid", c.ID(), "reason", reason)
	})
	slog.Info("session opened", "sid", c.ID(), "transport", c.Transport(), "protocol", c.Protocol())
}
