package hostnative

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/internal/browsertest"
)

// TestJSONPBrowser connects the real JSONP clients, socket.io-client 2.x
// (engine.io-client 3.x, Engine.IO v3) and 3.x (engine.io-client 4.x, v4;
// 4.x has no JSONP) in headless Chromium with forceJSONP, to a Server:
// their GETs are <script> tags, their POSTs forms submitted into a hidden
// iframe. An event with an ack and an event from the server carry a
// newline, a backslash-n, quotes, U+2028/U+2029 and binary both ways. In
// Node these clients cannot use JSONP at all (it needs document).
func TestJSONPBrowser(t *testing.T) {
	chromium := browsertest.Chromium(t)
	requireNode(t) // for the client bundles, installed with the Node peers
	for _, c := range []struct {
		name, pkg string
		protocol  int
	}{
		{"socket.io-client 2.x", "sio-client-v2", 3},
		{"socket.io-client 3.x", "sio-client-v3", 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			bundle := filepath.Join(interopDir, "node_modules", c.pkg, "dist", "socket.io.js")
			if _, err := os.Stat(bundle); err != nil {
				t.Fatalf("%s bundle: %v", c.name, err)
			}
			jsonpBrowserRun(t, chromium, bundle, c.protocol)
		})
	}
}

func jsonpBrowserRun(t *testing.T, chromium, bundle string, protocol int) {
	// What travels: from the client (echoed back in the ack), and from
	// the server, with U+2028/U+2029 raw in its JSON so that only the
	// JSONP wrapper escapes them.
	clientText := "line1\nline2 \u2028 and \u2029 \"quoted\" back\\slash \\n not a newline é😀"
	clientBin := []byte{0, 1, 2, 0x0a, 0x5c, 253, 254, 255}
	serverText := "server\nsays \u2028\u2029 \"hi\" \\n\\"
	serverBin := []byte{0xff, 0x0a, 0x5c, 0x6e, 0}
	quoted, err := json.Marshal(serverText)
	require.NoError(t, err)
	helloArgs := bytes.ReplaceAll(bytes.ReplaceAll(quoted, []byte(`\u2028`), []byte("\u2028")), []byte(`\u2029`), []byte("\u2029"))
	helloArgs = append(append([]byte("["), helloArgs...), `,{"_placeholder":true,"num":0}]`...)

	type received struct {
		text      string
		bin       []byte
		protocol  int
		transport string
	}
	got := make(chan received, 1)
	// The page loads the client from the server, as with Node's
	// serveClient: <script src="/socket.io/socket.io.js">.
	opts := ServerOptions{Engine: EngineOptions{AllowEIO3: true, Core: testCore(nil)}, ClientFiles: os.DirFS(filepath.Dir(bundle))}
	io := NewServer(opts)
	io.OnConnection(func(s *Socket) {
		s.On("echo", func(e *Event) {
			var r received
			_ = e.Arg(0, &r.text)
			_ = e.Arg(1, &r.bin)
			r.protocol, r.transport = s.Conn().Protocol(), s.Conn().Transport()
			select {
			case got <- r:
			default:
			}
			_ = e.AckRaw(e.ArgsJSON(), e.Attachments())
			_ = s.EmitRaw("hello", helloArgs, [][]byte{serverBin})
		})
	})

	// Every Engine.IO request, by kind: the client must use JSONP only.
	var jsonpGETs, formPOSTs, other atomic.Int32
	reports := make(chan browsertest.Report, 64)
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		switch q := r.URL.Query(); {
		case r.URL.Path == "/socket.io/socket.io.js":
		case !q.Has("j") || q.Get("EIO") != strconv.Itoa(protocol):
			other.Add(1)
		case r.Method == http.MethodGet:
			jsonpGETs.Add(1)
		case r.Method == http.MethodPost && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded":
			formPOSTs.Add(1)
		default:
			other.Add(1)
		}
		io.ServeHTTP(w, r)
	})
	mux.HandleFunc("/report", browsertest.ReportHandler(reports))
	ints := func(b []byte) []int {
		out := make([]int, len(b))
		for i, c := range b {
			out[i] = int(c)
		}
		return out
	}
	expect, err := json.Marshal(map[string]any{"clientText": clientText, "clientBin": ints(clientBin),
		"serverText": serverText, "serverBin": ints(serverBin)})
	require.NoError(t, err)
	page := strings.Replace(jsonpPage, "EXPECT", string(expect), 1)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	srv := httptest.NewServer(mux)
	browser := browsertest.Launch(t, chromium, srv.URL+"/")
	defer func() {
		browser.Stop()
		io.Close()
		srv.Close()
	}()

	seen := browser.Collect(t, reports, 30*time.Second, nil, true)
	browsertest.RequireSteps(t, seen, "connect", "ack", "event")
	for _, name := range []string{"exception", "disconnect", "connect_error", "error"} {
		if rep, ok := seen[name]; ok {
			t.Errorf("%s: %s", name, rep.Detail)
		}
	}
	r := recv(t, got, time.Second, "the server's echo handler")
	assert.Equal(t, clientText, r.text)
	assert.Equal(t, clientBin, r.bin)
	assert.Equal(t, protocol, r.protocol)
	assert.Equal(t, "polling", r.transport)
	assert.Zero(t, other.Load(), "requests that are not JSONP")
	assert.GreaterOrEqual(t, jsonpGETs.Load(), int32(2))
	assert.GreaterOrEqual(t, formPOSTs.Load(), int32(1))
	t.Logf("JSONP GETs: %d, form POSTs: %d", jsonpGETs.Load(), formPOSTs.Load())
}

// jsonpPage drives socket.io-client 2.x or 3.x; EXPECT is replaced by the values
// both sides check.
const jsonpPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>siohost JSONP</title></head>
<body>
<script src="/socket.io/socket.io.js"></script>
<script>
"use strict";
const X = EXPECT;
const report = (o) => fetch("/report", {method: "POST", body: JSON.stringify(o)});
window.addEventListener("error", (e) => report({step: "exception", ok: false, detail: String(e.message)}));
const bytes = (b) => Array.from(b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
const pending = new Set(["ack", "event"]);
const step = (name, ok, detail) => {
  report({step: name, ok, detail}).then(() => {
    pending.delete(name);
    if (pending.size === 0) report({done: true});
  });
};
try {
  const socket = io(location.origin, {transports: ["polling"], forceJSONP: true, forceNew: true, reconnection: false});
  socket.on("connect", () => {
    const tr = socket.io.engine.transport;
    // engine.io-client's JSONP transport: a callback index in ___eio.
    const jsonp = typeof tr.index === "number" && Array.isArray(window.___eio) && tr.query.j === tr.index;
    report({step: "connect", ok: tr.name === "polling" && jsonp, detail: {transport: tr.name, j: tr.query.j, b64: tr.query.b64}});
    // An ArrayBuffer: socket.io-client 2.x does not see typed arrays as binary.
    socket.emit("echo", X.clientText, new Uint8Array(X.clientBin).buffer, (text, bin) => {
      const b = bytes(bin);
      step("ack", text === X.clientText && same(b, X.clientBin), {text, bin: b});
    });
  });
  socket.on("hello", (text, bin) => {
    const b = bytes(bin);
    step("event", text === X.serverText && same(b, X.serverBin), {text, bin: b});
  });
  socket.on("disconnect", (reason) => report({step: "disconnect", ok: false, detail: reason}));
  socket.on("connect_error", (e) => report({step: "connect_error", ok: false, detail: String(e)}));
  socket.on("error", (e) => report({step: "error", ok: false, detail: String(e)}));
} catch (e) {
  report({step: "exception", ok: false, detail: String(e && e.stack || e)});
}
</script>
</body></html>
`
