// Command bench is the Socket.IO server that load generators measure:
// at /socket.io/ (pingInterval 25 s, pingTimeout 20 s, Node's defaults),
// every socket joins room "bench", and
//
//	"echo"      is emitted back to the sender with the same arguments;
//	"ack"       is acknowledged with the same arguments;
//	"broadcast" is emitted to room "bench", the sender excepted, with the
//	            same arguments.
//
// Arguments are relayed raw, binary attachments included: never decoded,
// never re-encoded. The process is the server (build it, then run it):
//
//	go build ./examples/bench && ./bench -addr 127.0.0.1:3000
//
// It prints "bench listening on ADDR" once it accepts connections, and
// exits with status 0 after SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/siohost/siohost/hostnative"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	maxBuffer := flag.Int64("max-http-buffer-size", 1e6, "largest message or POST body, in bytes")
	flag.Parse()
	if err := run(*addr, *maxBuffer); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(addr string, maxBuffer int64) error {
	io := hostnative.NewServer(hostnative.ServerOptions{
		Engine: hostnative.EngineOptions{
			Path:              "/socket.io",
			PingInterval:      25 * time.Second,
			PingTimeout:       20 * time.Second,
			MaxHTTPBufferSize: maxBuffer,
		},
	})
	io.OnConnection(func(s *hostnative.Socket) {
		s.Join("bench")
		s.On("echo", func(ev *hostnative.Event) {
			_ = s.EmitRaw("echo", ev.ArgsJSON(), ev.Attachments())
		})
		s.On("ack", func(ev *hostnative.Event) {
			_ = ev.AckRaw(ev.ArgsJSON(), ev.Attachments())
		})
		s.On("broadcast", func(ev *hostnative.Event) {
			_ = s.To("bench").EmitRaw("broadcast", ev.ArgsJSON(), ev.Attachments())
		})
	})

	mux := http.NewServeMux()
	mux.Handle(io.Path(), io)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("bench listening on %s (Socket.IO at %s)\n", ln.Addr(), io.Path())

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = io.Shutdown(shutdown)
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close() // connections still busy after 5 s
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
