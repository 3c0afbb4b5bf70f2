// Command siohost is the standalone siohost server: a Socket.IO v4 server at
// /socket.io/ and, at /, a chat demo that uses the official browser client
// (socket.io-client 4), which it serves at /socket.io/socket.io.min.js from
// node_modules, as Node's socket.io serves its own client bundle.
//
//	make run                  # installs the npm peers if missing, then runs this
//	go run ./cmd/siohost -h   # the flags
//
// "siohost connect URL" is a command-line client instead (see connect.go).
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/siohost/siohost/examples/chat/chat"
	"github.com/siohost/siohost/hostnative"
	"github.com/siohost/siohost/hostwasm"
)

// config is what the flags set.
type config struct {
	addr              string
	pingInterval      time.Duration
	pingTimeout       time.Duration
	maxHTTPBufferSize int64
	allowEIO3         bool
	perMessageDeflate bool
	corsOrigins       []string
	transports        []string      // nil: polling and websocket
	noUpgrades        bool          // polling sessions stay on polling
	recovery          time.Duration // connection state recovery window; 0: off
	tlsCert, tlsKey   string        // both set: serve HTTPS
	clientJS          string
	core              string                 // "native" or "wasm"
	coreWasm          string                 // the module for "wasm"; "": built from source
	newCore           hostnative.CoreFactory // set by run for "wasm"
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "connect" {
		os.Exit(runConnect(os.Args[2:], os.Stdout, os.Stderr))
	}
	var cfg config
	var cors, transports string
	flag.StringVar(&cfg.addr, "addr", "localhost:3000", "listen address")
	flag.DurationVar(&cfg.pingInterval, "ping-interval", 25*time.Second, "Engine.IO heartbeat interval")
	flag.DurationVar(&cfg.pingTimeout, "ping-timeout", 20*time.Second, "Engine.IO heartbeat timeout")
	flag.Int64Var(&cfg.maxHTTPBufferSize, "max-http-buffer-size", 1e6, "largest message or POST body, in bytes")
	flag.BoolVar(&cfg.allowEIO3, "allow-eio3", false, "also accept Engine.IO v3 clients (socket.io-client 2.x)")
	flag.BoolVar(&cfg.perMessageDeflate, "per-message-deflate", false, "accept the WebSocket permessage-deflate extension (messages of 1 KB and more go compressed)")
	flag.StringVar(&cors, "cors-origin", "", `origins allowed to poll cross-origin, comma-separated, or "*" (default: none)`)
	flag.StringVar(&transports, "transports", "polling,websocket", "transports accepted, comma-separated")
	flag.BoolVar(&cfg.noUpgrades, "no-upgrades", false, "keep polling sessions on polling (no upgrade to WebSocket)")
	flag.DurationVar(&cfg.recovery, "recovery", 0, "connection state recovery: how long a disconnected socket's state and missed broadcasts are kept, e.g. 2m (default: off)")
	flag.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate file: serve HTTPS (with --tls-key)")
	flag.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key file of --tls-cert")
	flag.StringVar(&cfg.core, "core", "native", `where the protocol core runs: "native" (in Go) or "wasm" (the WebAssembly module, in wazero)`)
	flag.StringVar(&cfg.coreWasm, "core-wasm", "", "with --core=wasm: path of the module (default: build it from source, which needs the go tool and the siohost source)")
	flag.StringVar(&cfg.clientJS, "client-js", chat.DefaultClientJS, "path of the browser client socket.io.min.js (socket.io-client 4), served at "+chat.ClientJSPath)
	flag.Parse()
	cfg.corsOrigins = splitList(cors)
	cfg.transports = splitList(transports)
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "siohost:", err)
		os.Exit(1)
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// check refuses flag values the server would misread.
func (cfg config) check() error {
	for _, t := range cfg.transports {
		if t != "polling" && t != "websocket" {
			return fmt.Errorf("--transports: %q is neither polling nor websocket", t)
		}
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	return nil
}

// openCore reads --core: nil for the native core, or the WebAssembly
// module (at path, or built from source when path is empty), which the
// caller closes once its Server or Manager is closed.
func openCore(kind, path string) (*hostwasm.Module, error) {
	switch kind {
	case "native":
		return nil, nil
	case "wasm":
		return hostwasm.Open(context.Background(), path, hostwasm.Options{})
	}
	return nil, fmt.Errorf("--core: %q is neither native nor wasm", kind)
}

func run(cfg config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	mod, err := openCore(cfg.core, cfg.coreWasm)
	if err != nil {
		return err
	}
	if mod != nil {
		defer mod.Close(context.Background())
		cfg.newCore = mod.NewCore
	}
	io, handler := newServer(cfg)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		// HTTP/1.1 only: a WebSocket upgrade takes over its connection,
		// which HTTP/2 streams cannot hand over.
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	// Signals are caught before anything is announced, so a SIGTERM that
	// follows the banner always shuts down cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	printBanner(cfg, io, ln.Addr().String())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		slog.Info("shutting down", "sessions", io.Engine().Len())
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Every client is told the server is going away, and the disconnect
		// handlers finish, before the HTTP server stops.
		_ = io.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	<-stopped
	return nil
}

// newServer builds the Socket.IO server with the chat and the HTTP handler
// that serves it, the page and the client bundle.
func newServer(cfg config) (*hostnative.Server, http.Handler) {
	opts := hostnative.EngineOptions{
		PingInterval:      cfg.pingInterval,
		PingTimeout:       cfg.pingTimeout,
		MaxHTTPBufferSize: cfg.maxHTTPBufferSize,
		AllowEIO3:         cfg.allowEIO3,
		Transports:        cfg.transports,
		DisallowUpgrades:  cfg.noUpgrades,
		Core:              cfg.newCore,
	}
	if len(cfg.corsOrigins) > 0 {
		opts.CORS = &hostnative.CORSOptions{Origins: cfg.corsOrigins}
	}
	if cfg.perMessageDeflate {
		opts.PerMessageDeflate = &hostnative.PerMessageDeflate{}
	}
	sopts := hostnative.ServerOptions{Engine: opts, ClientFiles: chat.ClientFiles(cfg.clientJS)}
	if cfg.recovery > 0 {
		sopts.ConnectionStateRecovery = &hostnative.ConnectionStateRecovery{MaxDisconnectionDuration: cfg.recovery}
	}
	io := hostnative.NewServer(sopts)
	io.Engine().OnConnectionError(func(e *hostnative.ConnectionError) {
		slog.Info("connection refused", "code", e.Code, "message", e.Message, "context", e.Context,
			"remote", e.Request.RemoteAddr, "url", e.Request.URL.RequestURI())
	})
	// Connection logging as a middleware: the chat owns the connection
	// handler, and a namespace has only one.
	io.Use(func(s *hostnative.Socket) error {
		slog.Info("socket connected", "id", s.ID(), "transport", s.Conn().Transport(),
			"protocol", s.Conn().Protocol(), "remote", s.Handshake().Address)
		s.OnDisconnect(func(reason, _ string) { slog.Info("socket disconnected", "id", s.ID(), "reason", reason) })
		return nil
	})
	chat.Register(io)

	mux := http.NewServeMux()
	mux.Handle(io.Path(), io)
	chat.Mount(mux)
	return io, mux
}

func printBanner(cfg config, io *hostnative.Server, addr string) {
	host, port, _ := net.SplitHostPort(addr)
	if h, _, _ := net.SplitHostPort(cfg.addr); h != "" {
		host = h // keep the name asked for, e.g. localhost
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	scheme := "http://"
	if cfg.tlsCert != "" {
		scheme = "https://"
	}
	base := scheme + net.JoinHostPort(host, port)

	protocols := "Engine.IO v4 (socket.io-client 3 and 4)"
	if cfg.allowEIO3 {
		protocols = "Engine.IO v4 and v3 (socket.io-client 2, 3 and 4)"
	}
	cors := "same origin only"
	if len(cfg.corsOrigins) > 0 {
		cors = strings.Join(cfg.corsOrigins, ", ")
	}
	fmt.Printf("siohost listening on %s\n", base)
	transports := "polling and websocket"
	switch {
	case len(cfg.transports) == 1:
		transports = cfg.transports[0] + " only"
	case cfg.noUpgrades:
		transports += ", no upgrades"
	}
	fmt.Printf("  Socket.IO    %s%s  %s, %s\n", base, io.Path(), protocols, transports)
	deflate := ""
	if cfg.perMessageDeflate {
		deflate = "; per-message deflate"
	}
	fmt.Printf("               ping every %s, timeout %s; messages up to %d bytes%s; CORS: %s\n",
		cfg.pingInterval, cfg.pingTimeout, cfg.maxHTTPBufferSize, deflate, cors)
	if cfg.recovery > 0 {
		fmt.Printf("               connection state recovery for %s\n", cfg.recovery)
	}
	core := "native (Go)"
	if cfg.core == "wasm" {
		core = "WebAssembly (wazero), module " + cfg.coreWasm
		if cfg.coreWasm == "" {
			core += "built from source"
		}
	}
	fmt.Printf("  core         %s\n", core)
	fmt.Printf("  client       %s%s  from %s\n", base, chat.ClientJSPath, cfg.clientJS)
	fmt.Printf("  chat demo    %s/\n", base)
	if err := chat.CheckClientJS(cfg.clientJS); err != nil {
		fmt.Printf("\nWARNING: %v.\nThe Socket.IO server works, but the chat page cannot load its client until then.\n\n", err)
	}
}
