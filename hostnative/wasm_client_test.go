package hostnative

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
)

// The Manager tests below rerun with the client core in WebAssembly
// (hostwasm's Module.NewClientCore, the module built from source once per
// run), through the same API and transports: the hosts differ only in
// where the core runs.

// wasmClientFactory is the client core of the Managers that mtManager
// makes while TestWasmClientCore runs; nil otherwise (the native core).
var wasmClientFactory atomic.Pointer[ClientCoreFactory]

// testClientCore returns the factory a test's Manager gets: f when the
// test chose one, else TestWasmClientCore's, if running.
func testClientCore(f ClientCoreFactory) ClientCoreFactory {
	if f != nil {
		return f
	}
	if p := wasmClientFactory.Load(); p != nil {
		return *p
	}
	return nil
}

func TestWasmClientCore(t *testing.T) {
	f := ClientCoreFactory(wasmModule(t).NewClientCore)
	wasmClientFactory.Store(&f)
	defer wasmClientFactory.Store(nil)
	m := mtManager(t, "http://127.0.0.1:1", ManagerOptions{})
	_, inWasm := m.core.(*abi.ClientRecords)
	require.True(t, inWasm, "the Managers of the tests run the WebAssembly core")
	// The tests are parallel: the group returns once they all have.
	t.Run("group", func(t *testing.T) {
		for name, fn := range map[string]func(*testing.T){
			"ConnectEmitAck":     TestManagerConnectEmitAck, // text and binary, acks both ways
			"EmitWithAckContext": TestManagerEmitWithAckContext,
			"CustomNamespace":    TestManagerCustomNamespace,
			"ConnectRefused":     TestManagerConnectRefused,
			"ServerDisconnect":   TestManagerServerDisconnect,
			"ClientDisconnect":   TestManagerClientDisconnect,
			"Reconnect":          TestManagerReconnect,
			"EmitBufferedBefore": TestManagerEmitBufferedBeforeConnect,
			"Volatile":           TestClientVolatile,
			"AckTimeouts":        TestClientAckTimeouts,
			"Auth":               TestClientAuth, // AuthFunc at each CONNECT
			"ManagerEvents":      TestClientManagerEvents,
			"Diagnostics":        TestManagerDiagnostics,
			"NodeSocketIO48":     TestManagerNode,
			"NodePingTimeout":    TestManagerNodePingTimeout,
			"NodeDiagnosticsV2":  TestManagerDiagnosticsNodeV2,
			"MsgpackNode":        TestManagerMsgpackNode, // socket.io-msgpack-parser
			"MsgpackServer":      TestManagerMsgpackServer,
			"MsgpackWrongParser": TestManagerMsgpackWrongParser,
		} {
			t.Run(name, fn)
		}
	})
}

// TestWasmClientCoreCrash: a client core whose guest panics, then one that
// traps, takes down its Manager alone: the socket hears "transport error",
// what waits fails, and the Manager's goroutines and instance are
// released; another Manager of the same module goes on.
func TestWasmClientCoreCrash(t *testing.T) {
	f := ClientCoreFactory(wasmModule(t, "siohost_fault").NewClientCore)
	_, srv := mtServer(t, echoSetup(nil, nil))
	other := mtManager(t, srv.URL, ManagerOptions{Core: f})
	alive := other.Socket("/")
	require.NoError(t, alive.Connect(mtCtx(t)))
	for _, marker := range []string{"siohost:fault:panic", "siohost:fault:exit"} {
		t.Run(marker, func(t *testing.T) {
			m := mtManager(t, srv.URL, ManagerOptions{Core: f, Transports: []string{"websocket"}})
			s := m.Socket("/")
			reasons := make(chan string, 1)
			s.OnDisconnect(func(reason string, _ *DisconnectDetails) { reasons <- reason })
			require.NoError(t, s.Connect(mtCtx(t)))
			_ = s.Emit("echo", marker)
			assert.Equal(t, "transport error", mtRecv(t, reasons, "disconnect"))
			assert.False(t, s.Connected())
			require.ErrorIs(t, s.Emit("echo", "after"), ErrManagerClosed)
		})
	}
	got := make(chan string, 1)
	alive.On("echo", func(ev *ClientEvent) {
		var v string
		_ = ev.Arg(0, &v)
		got <- v
	})
	require.NoError(t, alive.Emit("echo", "still here"))
	assert.Equal(t, "still here", mtRecv(t, got, "echo"))
}

// BenchmarkClientSocketEchoCores compares one Socket.IO event round trip
// (and an EmitWithAck) through a ClientSocket whose core runs natively
// and in WebAssembly.
func BenchmarkClientSocketEchoCores(b *testing.B) {
	b.Run("native", func(b *testing.B) { benchClientSocketEcho(b, nil) })
	b.Run("wasm", func(b *testing.B) { benchClientSocketEcho(b, wasmModule(b).NewClientCore) })
}
