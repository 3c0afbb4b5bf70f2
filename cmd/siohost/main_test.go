package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
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

// siohostProcess is the built command, running.
type siohostProcess struct {
	addr   string
	cmd    *exec.Cmd
	lines  chan string // stdout, line by line
	stderr *lockedBuffer
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// startProcess builds the command and runs it on a free port with args.
func startProcess(t *testing.T, args ...string) *siohostProcess {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "siohost")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &siohostProcess{addr: ln.Addr().String(), lines: make(chan string, 100), stderr: &lockedBuffer{}, exited: make(chan struct{})}
	require.NoError(t, ln.Close())

	p.cmd = exec.Command(bin, append([]string{"-addr", p.addr}, args...)...)
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	return p
}

// banner reads stdout up to the line that starts with last.
func (p *siohostProcess) banner(t *testing.T, last string) string {
	t.Helper()
	var banner []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("no %q in %q; stderr: %s", last, banner, p.stderr.String())
			}
			banner = append(banner, l)
			if strings.HasPrefix(strings.TrimSpace(l), last) {
				return strings.Join(banner, "\n")
			}
		case <-timeout:
			t.Fatalf("no %q in %q; stderr: %s", last, banner, p.stderr.String())
		}
	}
}

// stop sends SIGTERM and expects a clean exit.
func (p *siohostProcess) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.exited:
		require.NoError(t, p.err, "stderr: %s", p.stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("siohost did not exit after SIGTERM")
	}
}

// TestProcess runs the command: it prints what it serves, warns when the
// browser client is missing, serves the page, and exits 0 on SIGTERM.
func TestProcess(t *testing.T) {
	p := startProcess(t, "-client-js", filepath.Join(t.TempDir(), "missing.js"))
	addr := p.addr
	text := p.banner(t, "The Socket.IO server works")
	require.Contains(t, text, "siohost listening on http://"+addr)
	require.Contains(t, text, "http://"+addr+"/socket.io/")
	require.Contains(t, text, "chat demo    http://"+addr+"/")
	require.Contains(t, text, "npm ci")

	res, body := get(t, "http://"+addr+"/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "siohost chat")
	res, body = get(t, "http://"+addr+chat.ClientJSPath)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.Contains(t, body, "ClientFiles")
	p.stop(t)
}

// TestProcessTLS: with --tls-cert/--tls-key the command serves HTTPS, and
// the official socket.io-client 4 plays the chat over wss; --transports
// and --recovery reach the server.
func TestProcessTLS(t *testing.T) {
	nodetest.Require(t)
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	clientJS := filepath.Join(nodetest.Dir(), "node_modules", "sio-client-v4", "dist", "socket.io.min.js")
	p := startProcess(t, "-tls-cert", certFile, "-tls-key", keyFile, "-transports", "websocket",
		"-recovery", "1m", "-client-js", clientJS)
	text := p.banner(t, "chat demo")
	base := "https://" + p.addr
	require.Contains(t, text, "siohost listening on "+base)
	require.Contains(t, text, "websocket only")
	require.Contains(t, text, "connection state recovery for 1m0s")

	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := insecure.Get(base + "/socket.io/?EIO=4&transport=polling")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "polling is off: %s", body)
	require.Contains(t, string(body), "Transport unknown")

	// The Node client trusts the self-signed certificate as its CA.
	t.Setenv("SIO_CA", certFile)
	lines := nodetest.Run(t, "chat_client.js", base, "websocket")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		require.NotContains(t, l, "error", "%v", lines)
	}
	p.stop(t)
}

// TestFlagsRefused: flag values the server would misread stop it with a
// message.
func TestFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		cfg  config
		want string
	}{
		{config{transports: []string{"websocket", "xhr"}}, `--transports: "xhr"`},
		{config{tlsCert: "cert.pem"}, "--tls-cert and --tls-key go together"},
		{config{tlsCert: "missing.pem", tlsKey: "missing.key", addr: "127.0.0.1:0", core: "native"}, "--tls-cert/--tls-key"},
	} {
		err := run(tc.cfg)
		require.Error(t, err)
		require.Contains(t, err.Error(), tc.want)
	}
}

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "siohost test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		IsCA:                  true,
		BasicConstraintsValid: true,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile
}

// Node peers are run through internal/nodetest.
type lockedBuffer = nodetest.Buffer

// TestHandlerRecovery: --recovery turns on connection state recovery, so
// the CONNECT reply carries a private session id.
func TestHandlerRecovery(t *testing.T) {
	for _, recovery := range []time.Duration{0, time.Minute} {
		srv, h := newServer(config{pingInterval: time.Second, pingTimeout: time.Second, maxHTTPBufferSize: 1e6, recovery: recovery})
		ts := httptest.NewServer(h)
		_, body := get(t, ts.URL+"/socket.io/?EIO=4&transport=polling")
		var hs struct{ SID string }
		require.NoError(t, json.Unmarshal([]byte(body[1:]), &hs))
		url := ts.URL + "/socket.io/?EIO=4&transport=polling&sid=" + hs.SID
		res, err := http.Post(url, "text/plain", strings.NewReader(`40{"nick":"ann"}`))
		require.NoError(t, err)
		res.Body.Close()
		_, body = get(t, url)
		require.True(t, strings.HasPrefix(body, `40{"sid":`), body)
		require.Equal(t, recovery > 0, strings.Contains(body, `"pid":`), body)
		srv.Close()
		ts.Close()
	}
}
