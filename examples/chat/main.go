// Command chat embeds a Socket.IO server in a plain net/http application:
// the chat of package chat at http://localhost:3000/, its Socket.IO server
// at /socket.io/, and the official browser client at
// /socket.io/socket.io.min.js, read from node_modules at run time.
//
// From the repository root, after `cd testdata/interop && npm ci`:
//
//	go run ./examples/chat
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/siohost/siohost/examples/chat/chat"
	"github.com/siohost/siohost/hostnative"
)

func main() {
	addr := flag.String("addr", "localhost:3000", "listen address")
	clientJS := flag.String("client-js", chat.DefaultClientJS, "path of socket.io.min.js (socket.io-client 4)")
	flag.Parse()

	// Node's defaults, at /socket.io/, serving the browser client there too.
	io := hostnative.NewServer(hostnative.ServerOptions{ClientFiles: chat.ClientFiles(*clientJS)})
	chat.Register(io)

	mux := http.NewServeMux()
	mux.Handle(io.Path(), io)
	chat.Mount(mux)

	if err := chat.CheckClientJS(*clientJS); err != nil {
		log.Print("warning: ", err)
	}
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// Signals are caught before anything is announced, so a SIGTERM that
	// follows the banner always shuts down cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Every client is told the server is going away, and the disconnect
		// handlers finish, before the HTTP server stops.
		_ = io.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("chat on http://%s/ (Socket.IO at %s)", *addr, io.Path())
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	<-stopped
}
