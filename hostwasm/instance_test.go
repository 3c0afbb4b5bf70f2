package hostwasm

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

func newInstance(t testing.TB, socketIO bool) *Instance {
	t.Helper()
	cfg := abi.DefaultConfig()
	cfg.SocketIO = socketIO
	in, err := module(t).NewInstance(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = in.Close() })
	return in
}

// wsSession opens a WebSocket session on conn and returns its handle.
func wsSession(t testing.TB, in *Instance, conn uint64) eio.Handle {
	h, effs, err := in.Request(0, &eio.Request{Conn: conn, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
	require.NoError(t, err)
	require.NotZero(t, h)
	require.Equal(t, eio.EffOpen, effs[0].Kind)
	return h
}

func TestInstanceSocketIO(t *testing.T) {
	in := newInstance(t, true)
	h := wsSession(t, in, 1)
	effs, err := in.Frame(1, 1, h, false, []byte(`40{"token":"x"}`))
	require.NoError(t, err)
	require.Len(t, effs, 1)
	require.Equal(t, sio.EffConnect, effs[0].Kind)
	require.Equal(t, `{"token":"x"}`, string(effs[0].Data))
	ok, effs, err := in.Accept(2, h, "/", "sock1", "")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, eio.EffWrite, effs[0].Kind)
	require.Equal(t, `4|0{"sid":"sock1"}`, string(effs[0].Prefix)+"|"+string(effs[0].Data))
	info, err := in.Info(h)
	require.NoError(t, err)
	require.Equal(t, Info{Protocol: 4, SID: info.SID, Transport: "websocket", Namespaces: []string{"/"}}, info)
	require.Len(t, info.SID, 20)
	at, ok, err := in.NextDeadline()
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(25000), at)
	effs, err = in.Tick(25000)
	require.NoError(t, err)
	require.Equal(t, "2", string(effs[0].Prefix))
	n, err := in.Len()
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

// TestInstanceGrowsArenas: inputs and outputs larger than the arenas grow
// them (and move them) transparently.
func TestInstanceGrowsArenas(t *testing.T) {
	in := newInstance(t, false)
	h, _, err := in.Request(0, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling"})
	require.NoError(t, err)
	big := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640 KB
	_, effs, err := in.Request(1, &eio.Request{Conn: 2, Method: "POST", EIO: "4", Transport: "polling", SID: mustSID(t, in, h)})
	require.NoError(t, err)
	require.Equal(t, eio.EffReadBody, effs[0].Kind)
	effs, err = in.Body(1, 2, h, append([]byte("4"), big...), eio.BodyOK)
	require.NoError(t, err)
	require.Equal(t, eio.EffMessage, effs[0].Kind)
	require.True(t, bytes.Equal(big, effs[0].Data))

	ok, _, err := in.Send(2, h, false, big)
	require.NoError(t, err)
	require.True(t, ok)
	_, effs, err = in.Request(3, &eio.Request{Conn: 3, Method: "GET", EIO: "4", Transport: "polling", SID: mustSID(t, in, h)})
	require.NoError(t, err)
	require.Equal(t, eio.EffRespond, effs[0].Kind)
	require.True(t, bytes.Equal(append([]byte("4"), big...), effs[0].Data))

	// Small calls still work once the arenas have moved.
	ok, effs, err = in.Send(4, h, false, []byte("x"))
	require.NoError(t, err)
	require.True(t, ok)
	require.Empty(t, effs)
}

func mustSID(t testing.TB, in *Instance, h eio.Handle) string {
	info, err := in.Info(h)
	require.NoError(t, err)
	return info.SID
}

// TestInstanceBatch: many inputs in one call, one result each.
func TestInstanceBatch(t *testing.T) {
	in := newInstance(t, false)
	var batch abi.Encoder
	for c := uint64(1); c <= 50; c++ {
		batch.Request(&eio.Request{Conn: c, Method: "GET", EIO: "4", Transport: "polling"})
	}
	batch.OpenCount()
	out, err := in.Process(0, &batch)
	require.NoError(t, err)
	require.Len(t, out.Results, 51)
	require.Equal(t, int64(50), out.Results[50].Value)
	require.Len(t, out.Effects, 100)
	require.True(t, out.HasDeadline)
}

// TestInstanceRefusals: a bad configuration or a time out of range is an
// error that leaves the instance usable.
func TestInstanceRefusals(t *testing.T) {
	in := newInstance(t, false)
	bad := abi.DefaultConfig()
	bad.PingInterval = 0
	err := in.Configure(bad)
	require.ErrorIs(t, err, abi.ErrBadConfig)
	_, _, err = in.Request(1<<62, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling"})
	require.ErrorIs(t, err, abi.ErrBadInput)
	require.NoError(t, in.Err())
	h, _, err := in.Request(0, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling"})
	require.NoError(t, err)
	require.NotZero(t, h)
	_, err = module(t).NewInstance(context.Background(), bad)
	require.ErrorIs(t, err, abi.ErrBadConfig)
}

// TestInstanceTrap: a guest that runs out of memory traps; the instance is
// discarded and says so, and the module makes new instances.
func TestInstanceTrap(t *testing.T) {
	moduleWasm(t)
	small, err := Compile(context.Background(), built.wasm, Options{MemoryLimitPages: 512, Cache: built.cache})
	require.NoError(t, err)
	defer small.Close(context.Background())
	in, err := small.NewInstance(context.Background(), abi.DefaultConfig())
	require.NoError(t, err)
	h, _, err := in.Request(0, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
	require.NoError(t, err)

	huge := make([]byte, 40<<20) // more than the 32 MiB the guest may have
	_, err = in.Frame(1, 1, h, true, huge)
	require.Error(t, err)
	require.Contains(t, err.Error(), "discarded")
	t.Log(err)
	require.Equal(t, err, in.Err())
	_, err2 := in.Len()
	require.Equal(t, err, err2, "every later call reports the same error")

	again, err := small.NewInstance(context.Background(), abi.DefaultConfig())
	require.NoError(t, err)
	n, err := again.Len()
	require.NoError(t, err)
	require.Zero(t, n)
	require.NoError(t, again.Close())
	_, err = again.Len()
	require.ErrorIs(t, err, errClosed)
}

// TestInstanceConcurrent: goroutines sharing an instance are serialized.
func TestInstanceConcurrent(t *testing.T) {
	in := newInstance(t, false)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			conn := uint64(g + 1)
			h, _, err := in.Request(0, &eio.Request{Conn: conn, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < 200; i++ {
				if _, err := in.Frame(1, conn, h, false, []byte("4msg")); err != nil {
					errs <- err
					return
				}
				if _, _, err := in.Send(1, h, false, []byte("reply")); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	n, err := in.Len()
	require.NoError(t, err)
	require.Equal(t, 8, n)
}

func TestCompileRefusesOtherModules(t *testing.T) {
	// The smallest valid module: no exports.
	empty := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	_, err := Compile(context.Background(), empty, Options{})
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "lacks the export"), err.Error())
	_, err = Compile(context.Background(), []byte("not wasm"), Options{})
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrVersion))
}

// TestModuleCloseFencesInstances: closing the module under instances still
// in use (a Manager winding down, say) makes their later calls fail with
// an error instead of touching freed memory, server and client alike; no
// instance is made after.
func TestModuleCloseFencesInstances(t *testing.T) {
	moduleWasm(t)
	m, err := Compile(context.Background(), built.wasm, Options{Cache: built.cache})
	require.NoError(t, err)
	in, err := m.NewInstance(context.Background(), abi.DefaultConfig())
	require.NoError(t, err)
	cc, err := m.NewClientCore()
	require.NoError(t, err)
	h := cc.Create(0, abi.ClientOptions{Transports: abi.ClientPolling})
	require.NotZero(t, h)

	require.NoError(t, m.Close(context.Background()))
	_, _, err = in.Request(1, &eio.Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling"})
	require.ErrorIs(t, err, errModuleClosed)
	_, err = in.Frame(1, 1, 1, false, []byte("4hi"))
	require.ErrorIs(t, err, errModuleClosed)
	cc.Tick(2) // its error is reported by Effects, not a crash
	_, err = cc.Effects()
	require.Error(t, err)
	require.NoError(t, cc.Close())
	require.NoError(t, in.Close())
	_, err = m.NewInstance(context.Background(), abi.DefaultConfig())
	require.Error(t, err)
}
