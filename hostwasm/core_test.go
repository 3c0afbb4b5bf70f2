package hostwasm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// TestCoreBackend drives the native backend and the WebAssembly one side
// by side through abi.Backend: same results, same effects, including a
// broadcast; and the data handed to the host outlives the next call,
// although the guest reuses its output arena.
func TestCoreBackend(t *testing.T) {
	cfg := abi.DefaultConfig()
	cfg.Random = abi.RandomSeeded
	native, err := abi.NewNative(cfg, nil)
	require.NoError(t, err)
	w, err := module(t).NewCore(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.(*Core).Close() })

	both := func(call func(b abi.Backend) int64) ([]eio.Effect, int64) {
		t.Helper()
		rn := call(native)
		en, err := native.Effects()
		require.NoError(t, err)
		en = ownCopy(en)
		rw := call(w)
		ew, err := w.Effects()
		require.NoError(t, err)
		require.Equal(t, rn, rw)
		require.Equal(t, en, ownCopy(ew))
		return ew, rw
	}
	var hs []eio.Handle
	for conn := uint64(1); conn <= 2; conn++ {
		_, h := both(func(b abi.Backend) int64 {
			return int64(b.Request(0, &eio.Request{Conn: conn, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true}))
		})
		hs = append(hs, eio.Handle(h))
		both(func(b abi.Backend) int64 { b.Frame(1, conn, eio.Handle(h), false, []byte("40")); return 0 })
		both(func(b abi.Backend) int64 { return b2i(b.Accept(1, eio.Handle(h), "/", "s", "")) })
	}
	sid, proto, tr := w.Session(hs[0])
	require.Equal(t, 4, proto)
	require.Equal(t, "websocket", tr)
	nsid, _, _ := native.Session(hs[0])
	require.Equal(t, nsid, sid)

	event, _ := both(func(b abi.Backend) int64 {
		b.Frame(2, 1, hs[0], false, []byte(`42["x","delivered"]`))
		return 0
	})
	require.Equal(t, sio.EffEvent, event[0].Kind)
	delivered := event[0].Data // the host's; the effect itself is not, past the next call
	effs, n := both(func(b abi.Backend) int64 {
		return int64(b.Broadcast(3, append(hs, 0x7ffff), "/", []byte(`2["news",1]`), nil, 0))
	})
	require.Equal(t, int64(2), n)
	require.Len(t, effs, 2)
	require.Equal(t, `["x","delivered"]`, string(delivered), "delivered data survives later calls")

	next, ok := w.NextDeadline()
	require.True(t, ok)
	require.Equal(t, int64(25000), next)
	require.Equal(t, 2, w.Len())
}

// ownCopy copies effects out of whatever memory they alias.
func ownCopy(effs []eio.Effect) []eio.Effect {
	out := append([]eio.Effect(nil), effs...)
	ownAll(out)
	return out
}

func b2i(v bool) int64 {
	if v {
		return 1
	}
	return 0
}
