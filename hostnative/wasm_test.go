package hostnative

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/siohost/siohost/hostwasm"
)

// The Server and Engine tests below rerun with every shard's core in
// WebAssembly (hostwasm, the module built from source by the test), through
// the same API and transports: the hosts differ only in where the core
// runs.

// wasmFactory is the core factory of the servers that the test helpers
// start while TestWasmCore runs; nil otherwise (the native core).
var wasmFactory atomic.Pointer[CoreFactory]

// testCore returns the factory a test helper gives its server: f when the
// test chose one, else the one of TestWasmCore, if running.
func testCore(f CoreFactory) CoreFactory {
	if f != nil {
		return f
	}
	if p := wasmFactory.Load(); p != nil {
		return *p
	}
	return nil
}

var wasmBuilt struct {
	sync.Mutex
	cache wazero.CompilationCache
	mods  map[string]*hostwasm.Module // by build tags
}

// wasmModule builds the core module from source (with tags) once per test
// run and compiles it.
func wasmModule(t testing.TB, tags ...string) *hostwasm.Module {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the WebAssembly core")
	}
	wasmBuilt.Lock()
	defer wasmBuilt.Unlock()
	key := strings.Join(tags, ",")
	if m := wasmBuilt.mods[key]; m != nil {
		return m
	}
	wasm, err := hostwasm.Build(context.Background(), tags...)
	require.NoError(t, err)
	if wasmBuilt.cache == nil {
		wasmBuilt.cache = wazero.NewCompilationCache()
		wasmBuilt.mods = make(map[string]*hostwasm.Module)
	}
	m, err := hostwasm.Compile(context.Background(), wasm, hostwasm.Options{Cache: wasmBuilt.cache, MemoryLimitPages: 1024})
	require.NoError(t, err)
	wasmBuilt.mods[key] = m
	return m
}

func TestWasmCore(t *testing.T) {
	f := CoreFactory(wasmModule(t).NewCore)
	wasmFactory.Store(&f)
	defer wasmFactory.Store(nil)
	// In a group: the tests that call t.Parallel resume once the loop is
	// done, and the group waits for them, so they run before the factory
	// is reset (and before any other top-level test, TestWasmCore being
	// sequential).
	t.Run("all", func(t *testing.T) { runWasmTests(t) })
}

func runWasmTests(t *testing.T) {
	for name, fn := range map[string]func(*testing.T){
		// Official clients (socket.io-client 2, 3, 4) over polling,
		// WebSocket and upgrade.
		"NodeSIOConnect":    TestNodeSIOConnect,
		"NodeSIOEcho":       TestNodeSIOEcho, // text and binary
		"NodeSIOAcks":       TestNodeSIOAcks,
		"NodeSIONamespaces": TestNodeSIONamespaces,
		"NodeSIOMiddleware": TestNodeSIOMiddleware,
		"NodeSIOBroadcast":  TestNodeSIOBroadcast, // rooms
		"NodeSIOVolatile":   TestNodeSIOVolatile,
		"NodeSIODisconnect": TestNodeSIODisconnect, // reasons
		// Raw protocol.
		"ServerWSUpgradeThenCloseKeepsOrder":  TestServerWSUpgradeThenCloseKeepsOrder,
		"ServerPollingDisconnectCloseLater":   TestServerPollingDisconnectCloseSendsCloseLater,
		"ServerDisconnectDescription":         TestServerDisconnectDescription,
		"ServerHandshakeAuth":                 TestServerHandshakeAuth,
		"ServerInvalidNamespaceEIO3":          TestServerInvalidNamespaceEIO3,
		"ServerAckAwaitedInHandlerFails":      TestServerAckAwaitedInHandlerFailsOnDisconnect,
		"EngineWSEcho":                        TestEngineWSEcho,
		"EngineWSUpgrade":                     TestEngineWSUpgrade,
		"EngineWSHeartbeat":                   TestEngineWSHeartbeat,
		"EngineWSTooBig":                      TestEngineWSTooBig,
		"EngineHTTPHandshake":                 TestEngineHTTPHandshake,
		"EngineHTTPBinaryPOSTv4":              TestEngineHTTPBinaryPOSTv4,
		"EngineHTTPErrorCodes":                TestEngineHTTPErrorCodes,
		"EngineHTTPPollingV3":                 TestEngineHTTPPollingV3,
		"EngineHTTPJSONP":                     TestEngineHTTPJSONP,
		"EngineHTTPJSONPv3":                   TestEngineHTTPJSONPv3,
		"JSONPBrowser":                        TestJSONPBrowser, // real JSONP clients
		"EngineHTTPGETDropped":                TestEngineHTTPGETDropped,
		"EngineHTTPConcurrentSends":           TestEngineHTTPConcurrentSends,
		"EngineMessagesDoNotAlias":            TestEngineMessagesDoNotAlias,
		"ServerWSFramesBeforeCloseKeepsOrder": TestServerWSFramesBeforeCloseKeepOrder,
		"ServerCompressFlagPolling":           TestServerCompressFlagPolling, // compress(false) through the ABI
		"DeflateGoPeers":                      TestDeflateGoPeers,
		"NodeSIODeflate":                      TestNodeSIODeflate,
		"EngineGenerateIDNode":                TestEngineGenerateIDNode, // the id through the ABI
		"EngineGenerateIDRefusals":            TestEngineGenerateIDRefusals,
		"NodeMsgpack":                         TestNodeMsgpack, // the msgpack parser through the ABI
		"NodeMsgpackWrongParser":              TestNodeMsgpackWrongParser,
		"MsgpackWireMatchesNode":              TestMsgpackWireMatchesNode,
		"NodeMsgpackRecovery":                 TestNodeMsgpackRecovery,
	} {
		t.Run(name, func(t *testing.T) {
			// Checked at the end too: a test that calls t.Parallel resumes
			// later, and must still find the WebAssembly core set.
			check := func() {
				if testCore(nil) == nil {
					t.Error("not on the WebAssembly core")
				}
			}
			check()
			t.Cleanup(check)
			fn(t)
		})
	}
}

// TestWasmCoreCrash: a guest that panics, then one that traps (exits),
// takes down only the sessions of its shard, which close with "transport
// error"; the shard gets a new core and serves on, and the other shards
// never notice.
func TestWasmCoreCrash(t *testing.T) {
	f := CoreFactory(wasmModule(t, "siohost_fault").NewCore)
	for _, marker := range []string{"siohost:fault:panic", "siohost:fault:exit"} {
		t.Run(marker, func(t *testing.T) {
			reasons := make(chan string, 8)
			srv, url := stServer(t, ServerOptions{Engine: EngineOptions{Core: f}}, func(io *Server) {
				io.OnConnection(func(s *Socket) {
					s.OnDisconnect(func(reason, _ string) { reasons <- s.Conn().ID()[:1] + " " + reason })
					s.On("echo", func(ev *Event) { _ = s.EmitRaw("echo", ev.ArgsJSON(), nil) })
				})
			})
			// Two clients on two shards (new sessions go round robin).
			type client struct {
				conn  io.ReadWriter
				shard string
			}
			dial := func() client {
				conn, rd := stDialWS(t, url+"?EIO=4&transport=websocket")
				_ = conn.SetDeadline(time.Now().Add(stWait))
				open := stReadText(t, conn, rd)
				require.NoError(t, wsutil.WriteClientText(conn, []byte("40")))
				require.True(t, strings.HasPrefix(stReadText(t, conn, rd), "40"))
				return client{conn: struct {
					io.Reader
					io.Writer
				}{rd, conn}, shard: open[len(`0{"sid":"`):][:1]}
			}
			var cs []client
			for len(cs) < 2 {
				c := dial()
				if len(cs) == 0 || cs[0].shard != c.shard {
					cs = append(cs, c)
				}
			}
			echo := func(c client) string {
				require.NoError(t, wsutil.WriteClientText(c.conn, []byte(`42["echo","hi"]`)))
				msg, op, err := wsutil.ReadServerData(c.conn)
				require.NoError(t, err)
				if op == ws.OpClose {
					return "close"
				}
				return string(msg)
			}
			require.Equal(t, `42["echo","hi"]`, echo(cs[0]))
			require.Equal(t, `42["echo","hi"]`, echo(cs[1]))
			// A polling client on the same shard, with a GET parked.
			var poll string
			for poll == "" {
				u := stOpenPolling(t, url)
				if sid := u[strings.Index(u, "sid=")+4:]; sid[:1] == cs[0].shard {
					poll = u
				}
			}
			parked := make(chan string, 1)
			go func() {
				status, body := stPoll(t, http.MethodGet, poll, "")
				parked <- strconv.Itoa(status) + " " + body
			}()
			sh := srv.engine.shardFor(cs[0].shard)
			require.Eventually(t, func() bool {
				sh.mu.Lock()
				defer sh.mu.Unlock()
				return len(sh.waiters) == 1
			}, stWait, time.Millisecond, "the GET is parked")

			// The marker kills the core of the first client's shard.
			require.NoError(t, wsutil.WriteClientText(cs[0].conn, []byte(`42["echo","`+marker+`"]`)))
			code := readCloseCode(t, cs[0].conn)
			require.Equal(t, ws.StatusInternalServerError, code)
			require.Equal(t, "500 Internal Server Error", stRecv(t, parked, "the parked GET"))
			require.Equal(t, []string{cs[0].shard + " transport error", cs[0].shard + " transport error"},
				[]string{stRecv(t, reasons, "disconnect"), stRecv(t, reasons, "disconnect")})
			// The new core knows nothing of the old sessions.
			status, body := stPoll(t, http.MethodGet, poll, "")
			require.Equal(t, http.StatusBadRequest, status)
			require.Contains(t, body, "Session ID unknown")

			// The other shard goes on, and so does the first with a new core.
			require.Equal(t, `42["echo","hi"]`, echo(cs[1]))
			for {
				if c := dial(); c.shard == cs[0].shard {
					require.Equal(t, `42["echo","hi"]`, echo(c))
					break
				}
			}
			select {
			case r := <-reasons:
				t.Fatalf("unexpected disconnect: %s", r)
			case <-time.After(50 * time.Millisecond):
			}
		})
	}
}

// readCloseCode reads frames until a close frame and returns its code.
func readCloseCode(t *testing.T, conn io.Reader) ws.StatusCode {
	t.Helper()
	for {
		f, err := ws.ReadFrame(conn)
		require.NoError(t, err)
		if f.Header.OpCode == ws.OpClose {
			code, _ := ws.ParseCloseFrameData(f.Payload)
			return code
		}
	}
}
