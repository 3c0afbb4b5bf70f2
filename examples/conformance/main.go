// Command conformance serves what the official Engine.IO and Socket.IO
// conformance suites expect on localhost:3000: an Engine.IO echo server at
// /engine.io/ (every message sent back as received, text or binary), and at
// /socket.io/ a Socket.IO server with namespaces "/" and "/custom" that
// emits "auth" with the handshake auth on connection, answers "message"
// with "message-back" and acknowledges "message-with-ack", both with the
// arguments received.
//
// With -core=wasm, both servers run their core in WebAssembly (hostwasm):
// the module at -core-wasm, or one built from source when that is empty
// (run from inside the siohost module, with the go tool on PATH).
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/siohost/siohost/hostnative"
	"github.com/siohost/siohost/hostwasm"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	allowEIO3 := flag.Bool("allow-eio3", false, "accept Engine.IO v3 clients")
	coreName := flag.String("core", "native", `where the protocol core runs: "native" or "wasm"`)
	coreWasm := flag.String("core-wasm", "", "with -core=wasm: the module (default: built from source)")
	flag.Parse()

	var core hostnative.CoreFactory
	switch *coreName {
	case "native":
	case "wasm":
		mod, err := hostwasm.Open(context.Background(), *coreWasm, hostwasm.Options{})
		if err != nil {
			log.Fatal(err)
		}
		core = mod.NewCore
	default:
		log.Fatalf("-core: %q is neither native nor wasm", *coreName)
	}

	engine := hostnative.NewEngine(hostnative.EngineOptions{
		Path:              "/engine.io",
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1e6,
		AllowEIO3:         *allowEIO3,
		CORS:              &hostnative.CORSOptions{Origins: []string{"*"}},
		Core:              core,
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
			Core:              core,
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
	log.Printf("conformance server on http://%s (engine.io at /engine.io/, socket.io at %s; %s core)", *addr, io.Path(), *coreName)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
