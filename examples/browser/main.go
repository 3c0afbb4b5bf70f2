// Command browser serves a demo page that talks to siohost with siohost's
// own browser client (bindings/js): the Socket.IO protocol runs in the core
// WebAssembly module, inside the page.
//
//	go run ./examples/browser               # from the repository root; builds the module at startup
//	go run ./examples/browser -wasm bindings/wasm/siohost-core.wasm   # after make wasm
//
// then open http://localhost:3001/.
package main

import (
	"bytes"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/siohost/siohost/hostnative"
)

//go:embed static
var static embed.FS

func main() {
	addr := flag.String("addr", "localhost:3001", "listen address")
	wasm := flag.String("wasm", "", "the core module (make wasm writes bindings/wasm/siohost-core.wasm); empty: build it from source at startup")
	jsDir := flag.String("js", "bindings/js", "directory of the browser client (siohost.js, core.js, wasi.js)")
	flag.Parse()
	if err := run(*addr, *wasm, *jsDir); err != nil {
		fmt.Fprintln(os.Stderr, "browser:", err)
		os.Exit(1)
	}
}

func run(addr, wasm, jsDir string) error {
	if _, err := os.Stat(filepath.Join(jsDir, "siohost.js")); err != nil {
		return fmt.Errorf("no siohost.js in %s: run from the repository root or pass -js", jsDir)
	}
	if wasm == "" {
		dir, err := os.MkdirTemp("", "siohost-browser-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		fmt.Println("building the core module…")
		if wasm, err = buildModule(dir); err != nil {
			return err
		}
	}
	io := newServer()
	defer io.Close()
	h, err := newHandler(io, wasm, jsDir)
	if err != nil {
		return err
	}
	fmt.Printf("open http://%s/\n", addr)
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// buildModule builds bindings/wasm into dir (the module is never
// committed, see bindings/ABI.md).
func buildModule(dir string) (string, error) {
	out := filepath.Join(dir, "siohost-core.wasm")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	cmd := exec.Command(goTool, "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-o", out, "./bindings/wasm")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", errors.New("building the module (run from the repository root, or pass -wasm): " + err.Error() + "\n" + stderr.String())
	}
	return out, nil
}

// newServer is the demo's Socket.IO side: a chat room, an echo with an ack
// (the page measures its round trip) and binary echo.
func newServer() *hostnative.Server {
	io := hostnative.NewServer(hostnative.ServerOptions{})
	io.OnConnection(func(s *hostnative.Socket) {
		slog.Info("connected", "id", s.ID(), "transport", s.Conn().Transport())
		_ = io.Emit("chat", "server", s.ID()+" joined")
		s.On("chat", func(e *hostnative.Event) {
			var text string
			if e.Arg(0, &text) == nil && text != "" {
				_ = io.Emit("chat", s.ID(), text)
			}
		})
		s.On("echo", func(e *hostnative.Event) { _ = e.AckRaw(e.ArgsJSON(), e.Attachments()) })
		s.OnDisconnect(func(reason, _ string) {
			slog.Info("disconnected", "id", s.ID(), "reason", reason)
			_ = io.Emit("chat", "server", s.ID()+" left ("+reason+")")
		})
	})
	return io
}

// newHandler serves the page, the client, the module and Socket.IO.
func newHandler(io *hostnative.Server, wasm, jsDir string) (http.Handler, error) {
	page, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(io.Path(), io)
	mux.Handle("/", http.FileServer(http.FS(page)))
	mux.Handle("/js/", http.StripPrefix("/js/", http.FileServer(http.Dir(jsDir))))
	mux.HandleFunc("/siohost-core.wasm", func(w http.ResponseWriter, r *http.Request) {
		// ServeFile names it application/wasm, which instantiateStreaming needs.
		http.ServeFile(w, r, wasm)
	})
	return mux, nil
}
