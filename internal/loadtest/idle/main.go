// Command idle measures what an idle connection costs a siohost server: it
// starts the server as a child process, reads the child's heap and stack in
// use, opens N WebSocket connections (Engine.IO, or Socket.IO with -sio),
// reads them again, and prints the cost per connection.
//
//	go run ./internal/loadtest/idle -n 10000 [-sio]
//
// Only loopback addresses are used; the run ends by itself.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"

	"github.com/siohost/siohost/hostnative"
)

type memReport struct {
	HeapInuse  uint64 `json:"heapInuse"`
	StackInuse uint64 `json:"stackInuse"`
	Goroutines int    `json:"goroutines"`
	Sessions   int    `json:"sessions"`
}

func main() {
	serve := flag.String("serve", "", "run as the measured server on this address (internal)")
	n := flag.Int("n", 10000, "connections to open")
	useSIO := flag.Bool("sio", false, "also join the Socket.IO namespace / on each connection")
	warm := flag.Bool("warm", false, "exchange one message on each connection before measuring")
	flag.Parse()
	if *serve != "" {
		runServer(*serve, *useSIO)
		return
	}
	runClient(*n, *useSIO, *warm)
}

func runServer(addr string, useSIO bool) {
	mux := http.NewServeMux()
	var sessions func() int
	opts := hostnative.EngineOptions{PingInterval: time.Hour, PingTimeout: time.Hour}
	if useSIO {
		io := hostnative.NewServer(hostnative.ServerOptions{Engine: opts})
		io.OnConnection(func(s *hostnative.Socket) {
			s.On("echo", func(ev *hostnative.Event) { _ = s.EmitRaw("echo", ev.ArgsJSON(), nil) })
		})
		mux.Handle(io.Path(), io)
		sessions = io.Engine().Len
	} else {
		e := hostnative.NewEngine(opts)
		e.OnConnection(func(c *hostnative.EngineConn) {
			c.OnMessage(func(data []byte, binary bool) { _ = c.Send(data, binary) })
		})
		mux.Handle(e.Path(), e)
		sessions = e.Len
	}
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		// Each collection halves the stacks that use little of theirs: a few
		// rounds let idle goroutines settle at their smallest.
		for range 4 {
			runtime.GC()
		}
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(memReport{ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine(), sessions()})
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

func runClient(n int, useSIO, warm bool) {
	cmd := exec.Command(os.Args[0], "-serve", "127.0.0.1:0", fmt.Sprintf("-sio=%v", useSIO))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatal(err)
	}
	addr := strings.TrimSpace(strings.TrimPrefix(line, "ready "))
	path := "/engine.io/"
	if useSIO {
		path = "/socket.io/"
	}
	before := mem(addr)
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		c, err := dial(addr, path, useSIO, warm)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	time.Sleep(time.Second)
	after := mem(addr)
	total := (after.HeapInuse + after.StackInuse) - (before.HeapInuse + before.StackInuse)
	fmt.Printf("connections: %d (server sessions %d, goroutines %d -> %d)\n", n, after.Sessions, before.Goroutines, after.Goroutines)
	fmt.Printf("heap: %.0f B/conn, stack: %.0f B/conn, total: %.0f B/conn\n",
		float64(after.HeapInuse-before.HeapInuse)/float64(n),
		float64(after.StackInuse-before.StackInuse)/float64(n),
		float64(total)/float64(n))
	for _, c := range conns {
		_ = c.Close()
	}
}

func mem(addr string) memReport {
	resp, err := http.Get("http://" + addr + "/mem")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var r memReport
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		log.Fatal(err)
	}
	return r
}

// dial opens a WebSocket session and, for Socket.IO, joins "/".
func dial(addr, path string, useSIO, warm bool) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dial(ctx, "ws://"+addr+path+"?EIO=4&transport=websocket")
	if err != nil {
		return nil, err
	}
	var rd io.Reader = conn
	if br != nil {
		rd = io.MultiReader(br, conn)
	}
	rw := struct {
		io.Reader
		io.Writer
	}{rd, conn}
	if _, err := wsutil.ReadServerText(rw); err != nil { // open packet
		return nil, err
	}
	if useSIO {
		if err := wsutil.WriteClientText(conn, []byte("40")); err != nil {
			return nil, err
		}
		if _, err := wsutil.ReadServerText(rw); err != nil { // 40{"sid":…}
			return nil, err
		}
	}
	if warm {
		msg := []byte("4hello")
		if useSIO {
			msg = []byte(`42["echo","hello"]`)
		}
		if err := wsutil.WriteClientText(conn, msg); err != nil {
			return nil, err
		}
		if _, err := wsutil.ReadServerText(rw); err != nil {
			return nil, err
		}
	}
	return conn, nil
}
