// Command conformance serves what the official Engine.IO and Socket.IO
// conformance suites expect on localhost:3000: an Engine.IO echo server at
// /engine.io/ (every message sent back as received, text or binary).
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

	mux := http.NewServeMux()
	mux.Handle("/engine.io/", engine)
	log.Printf("conformance server on http://%s (engine.io at /engine.io/)", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
