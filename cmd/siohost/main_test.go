package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siohost/siohost/internal/nodetest"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/examples/chat/chat"
	"github.com/siohost/siohost/hostnative"
	"github.com/siohost/siohost/hostwasm"
)

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestHandler(t *testing.T) { testHandler(t, nil) }

// TestHandlerWasmCore: the same with --core=wasm (the module built from
// source).
func TestHandlerWasmCore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the WebAssembly core")
	}
	mod, err := hostwasm.Open(context.Background(), "", hostwasm.Options{MemoryLimitPages: 1024})
	require.NoError(t, err)
	defer mod.Close(context.Background())
	testHandler(t, mod.NewCore)
}

func testHandler(t *testing.T, core hostnative.CoreFactory) {
	js := filepath.Join(t.TempDir(), "socket.io.min.js")
	require.NoError(t, os.WriteFile(js, []byte("/* client */"), 0o644))
	srv, h := newServer(config{
		pingInterval:      300 * time.Millisecond,
		pingTimeout:       200 * time.Millisecond,
		maxHTTPBufferSize: 5000,
		corsOrigins:       []string{"http://example.com"},
		perMessageDeflate: true,
		clientJS:          js,
		newCore:           core,
	})
	ts := httptest.NewServer(h)
	defer ts.Close()
	defer srv.Close()

	res, body := get(t, ts.URL+"/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "siohost chat")

	res, body = get(t, ts.URL+chat.ClientJSPath)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "/* client */", body)

	res, body = get(t, ts.URL+"/socket.io/?EIO=4&transport=polling", "Origin", "http://example.com")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "http://example.com", res.Header.Get("Access-Control-Allow-Origin"))
	require.True(t, strings.HasPrefix(body, "0"), body)
	var hs struct {
		PingInterval, PingTimeout, MaxPayload int
	}
	require.NoError(t, json.Unmarshal([]byte(body[1:]), &hs))
	require.Equal(t, 300, hs.PingInterval)
	require.Equal(t, 200, hs.PingTimeout)
	require.Equal(t, 5000, hs.MaxPayload)

	// Refused (and logged by the connection-error hook): EIO=3 is off.
	res, _ = get(t, ts.URL+"/socket.io/?EIO=3&transport=polling")
	require.Equal(t, http.StatusBadRequest, res.StatusCode)

	// --per-message-deflate: a WebSocket that offers the extension gets it.
	d := ws.Dialer{Extensions: []httphead.Option{{Name: []byte("permessage-deflate")}}}
	conn, _, whs, err := d.Dial(context.Background(), "ws"+strings.TrimPrefix(ts.URL, "http")+"/socket.io/?EIO=4&transport=websocket")
	require.NoError(t, err)
	_ = conn.Close()
	require.Len(t, whs.Extensions, 1)
	require.Equal(t, "permessage-deflate", string(whs.Extensions[0].Name))
}

// TestProcess runs the command: it prints what it serves, warns when the
// browser client is missing, serves the page, and exits 0 on SIGTERM.
func TestProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "siohost")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	cmd := exec.Command(bin, "-addr", addr, "-client-js", filepath.Join(t.TempDir(), "missing.js"))
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	var waitErr error
	exited := make(chan struct{})
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	go func() { waitErr = cmd.Wait(); close(exited) }()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var banner []string
	timeout := time.After(10 * time.Second)
read:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break read
			}
			banner = append(banner, l)
			if strings.HasPrefix(l, "The Socket.IO server works") {
				break read
			}
		case <-timeout:
			t.Fatalf("no warning in %q; stderr: %s", banner, stderr.String())
		}
	}
	text := strings.Join(banner, "\n")
	require.Contains(t, text, "siohost listening on http://"+addr)
	require.Contains(t, text, "http://"+addr+"/socket.io/")
	require.Contains(t, text, "chat demo    http://"+addr+"/")
	require.Contains(t, text, "npm ci")

	res, body := get(t, "http://"+addr+"/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "siohost chat")
	res, body = get(t, "http://"+addr+chat.ClientJSPath)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Contains(t, body, "make run")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-exited:
		require.NoError(t, waitErr, "stderr: %s", stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("siohost did not exit after SIGTERM")
	}
}

// Node peers are run through internal/nodetest.
type lockedBuffer = nodetest.Buffer
