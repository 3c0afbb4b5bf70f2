// Command conformance serves what the official Engine.IO and Socket.IO
// conformance suites expect on localhost:3000: an Engine.IO echo server at
// /engine.io/ (every message sent back as received, text or binary), and at
// /socket.io/ a Socket.IO server with namespaces "/" and "/custom" that
// emits "auth" with the handshake auth on connection, answers "message"
// with "message-back" and acknowledges "message-with-ack", both with the
// arguments received.
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/siohost/siohost/hostnative"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	allowEIO3 := flag.Bool("allow-eio3", false, "accept Engine.IO v3 clients")
	flag.Parse()

	engine := hostnative.NewEngine(hostnative.EngineOptions{
		Path:              "/engine.io",
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		AllowEIO3:         *allowEIO3,
		CORS:              &hostnative.CORSOptions{Origins: []string{"*"}},
	})
	engine.OnConnection(func(c *hostnative.EngineConn) {
		c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
	})

	io := hostnative.NewServer(hostnative.ServerOptions{
		Engine: hostnative.EngineOptions{
			PingInterval:      300 * time.Millisecond,
			PingTimeout:       200 * time.Millisecond,
			MaxHTTPBufferSize: 1e6,
			AllowEIO3:         *allowEIO3,
			CORS:              &hostnative.CORSOptions{Origins: []string{"*"}},
		},
		ConnectTimeout: time.Second,
	})
	onConnection := func(s *hostnative.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(ev *hostnative.Event) {
			_ = s.EmitRaw("message-back", ev.ArgsJSON(), ev.Attachments())
		})
		s.On("message-with-ack", func(ev *hostnative.Event) {
			_ = ev.AckRaw(ev.ArgsJSON(), ev.Attachments())
		})
	}
	io.OnConnection(onConnection)
	io.Of("/custom").OnConnection(onConnection)

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", engine)
	mux.Handle(io.Path(), io)
	log.Printf("conformance server on http://%s (engine.io at /engine.io/, socket.io at %s)", *addr, io.Path())
	log.Fatal(http.ListenAndServe(*addr, mux))
}
