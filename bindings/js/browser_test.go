package js_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/hostnative"
	"github.com/siohost/siohost/internal/browsertest"
)

// TestBrowser runs bindings/js in headless Chromium against a siohost
// server: testdata/test.js drives the client through its cases and posts
// each step to /report. No WebDriver: the page reports by itself.

// buildModule builds the core module from source into dir, with the flags
// of bindings/wasm's go:generate line.
func buildModule(t *testing.T, dir string) string {
	out := filepath.Join(dir, "siohost-core.wasm")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if p, err := exec.LookPath("go"); err == nil {
		goTool = p
	}
	cmd := exec.Command(goTool, "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-o", out,
		"github.com/siohost/siohost/bindings/wasm")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "building the core module: %s", stderr.String())
	return out
}

// newIOServer is the Socket.IO side of the cases in testdata/test.js.
func newIOServer(t *testing.T) *hostnative.Server {
	io := hostnative.NewServer(hostnative.ServerOptions{})
	io.Of("/private").Use(func(*hostnative.Socket) error {
		return &hostnative.ConnectError{Message: "forbidden", Data: map[string]int{"code": 42}}
	})
	io.OnConnection(func(s *hostnative.Socket) {
		s.On("echo", func(e *hostnative.Event) { _ = e.AckRaw(e.ArgsJSON(), e.Attachments()) })
		s.On("count", func(e *hostnative.Event) {
			if e.HasAck() {
				_ = e.AckRaw(e.ArgsJSON(), nil)
			}
		})
		s.On("kick", func(*hostnative.Event) { s.Disconnect(false) })
		s.On("ask-me", func(e *hostnative.Event) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "ask", 21, []byte{5, 6})
			result := map[string]any{"ok": false}
			if err != nil {
				result["error"] = err.Error()
			} else {
				var n int
				var b1, b2 []byte
				_ = res.Arg(0, &n)
				_ = res.Arg(1, &b1)
				_ = res.Arg(2, &b2)
				result["ok"] = n == 42 && bytes.Equal(b1, []byte{5, 6}) && bytes.Equal(b2, []byte{7})
				result["n"], result["b1"], result["b2"] = n, b1, b2
			}
			_ = s.Emit("asked", result)
		})
	})
	return io
}

func TestBrowser(t *testing.T) {
	chromium := browsertest.Chromium(t)
	baseGoroutines := runtime.NumGoroutine()
	tmp := t.TempDir()
	wasm := buildModule(t, tmp)

	var current atomic.Pointer[hostnative.Server]
	current.Store(newIOServer(t))
	reports := make(chan browsertest.Report, 64)
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) { current.Load().ServeHTTP(w, r) })
	mux.Handle("/js/", http.StripPrefix("/js/", http.FileServer(http.Dir("."))))
	mux.Handle("/test/", http.StripPrefix("/test/", http.FileServer(http.Dir("testdata"))))
	mux.HandleFunc("/siohost-core.wasm", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, wasm) })
	mux.HandleFunc("/report", browsertest.ReportHandler(reports))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	var srvMu sync.Mutex
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	stopServer := func() {
		srvMu.Lock()
		defer srvMu.Unlock()
		current.Load().Close()
		_ = srv.Close()
	}

	browser := browsertest.Launch(t, chromium, "http://"+addr+"/test/index.html")
	defer func() {
		browser.Stop()
		stopServer()
		browsertest.WaitGoroutines(t, baseGoroutines)
	}()

	// On request, the server goes away and comes back on the same port.
	restart := func() {
		stopServer()
		current.Store(newIOServer(t))
		ln2, err := net.Listen("tcp", addr)
		require.NoError(t, err)
		srvMu.Lock()
		srv = &http.Server{Handler: mux}
		s := srv
		srvMu.Unlock()
		go func() { _ = s.Serve(ln2) }()
	}
	seen := browser.Collect(t, reports, 120*time.Second, restart, false)
	browsertest.RequireSteps(t, seen, "connect", "upgrade", "text ack", "binary ack", "server ack", "ack timeout",
		"connect_error server", "connect_error transport", "perf", "io server disconnect", "connect again",
		"transport close", "reconnect")
	if rep, ok := seen["exception"]; ok {
		t.Errorf("the page threw: %s", rep.Detail)
	}
	if perf, ok := seen["perf"]; ok {
		var p struct {
			RoundTripMs, BatchedAckMs, NoAckMs, CoreEmitMs float64
			N, CoreCallsForBatch                           int
		}
		_ = json.Unmarshal(perf.Detail, &p)
		t.Logf("per message in the browser: %.1f µs round trip one by one; batched in one turn: %.1f µs with acks (%d core calls for %d emits and their acks), %.1f µs without (of which %.2f µs in the core's client_process)",
			p.RoundTripMs*1000, p.BatchedAckMs*1000, p.CoreCallsForBatch, p.N, p.NoAckMs*1000, p.CoreEmitMs*1000)
	}
}
