package hostwasm

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
)

// TestClientCore drives a native abi.ClientCore and the module's
// client_process side by side through abi.ClientBackend: same results and
// effects, but for the random cache busters of polling queries; and the
// data handed to the host outlives the next call.
func TestClientCore(t *testing.T) {
	native := abi.NewClientCore(func(b []byte) { _, _ = rand.Read(b) })
	w, err := module(t).NewClientCore()
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close() })

	both := func(call func(b abi.ClientBackend) int64) ([]eio.Effect, int64) {
		t.Helper()
		rn := call(native)
		en, err := native.Effects()
		require.NoError(t, err)
		en = ownCopy(en)
		rw := call(w)
		ew, err := w.Effects()
		require.NoError(t, err)
		ew = ownCopy(ew)
		require.Equal(t, rn, rw)
		require.Equal(t, len(en), len(ew), "%+v\n%+v", en, ew)
		for i := range en {
			if en[i].Kind == abi.CEffRequest {
				en[i].Desc, ew[i].Desc = "", "" // the t= cache buster
			}
			require.Equal(t, en[i], ew[i])
		}
		dn, okn := native.NextDeadline()
		dw, okw := w.NextDeadline()
		require.Equal(t, okn, okw)
		require.Equal(t, dn, dw)
		return ew, rw
	}
	conn := func(effs []eio.Effect, kind eio.EffectKind, text string) uint32 {
		t.Helper()
		for _, e := range effs {
			if e.Kind == kind && (text == "" || e.Text == text) {
				return uint32(e.Conn)
			}
		}
		t.Fatalf("no effect %d %q in %+v", kind, text, effs)
		return 0
	}
	const hs = `0{"sid":"S","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	_, c := both(func(b abi.ClientBackend) int64 {
		return int64(b.Create(1, abi.ClientOptions{Transports: abi.ClientPolling}))
	})
	h := uint32(c)
	effs, _ := both(func(b abi.ClientBackend) int64 { return b.Connect(1, h, "/", []byte(`{"a":1}`), 0) })
	get := conn(effs, abi.CEffRequest, "GET")
	effs, _ = both(func(b abi.ClientBackend) int64 { b.Response(2, h, get, 200, "text/plain", []byte(hs)); return 0 })
	post, poll := conn(effs, abi.CEffRequest, "POST"), conn(effs, abi.CEffRequest, "GET")
	both(func(b abi.ClientBackend) int64 { b.Response(3, h, post, 200, "text/html", []byte("ok")); return 0 })
	effs, _ = both(func(b abi.ClientBackend) int64 {
		b.Response(3, h, poll, 200, "text/plain", []byte("40{\"sid\":\"X\"}\x1e451-3[\"ev\",{\"_placeholder\":true,\"num\":0}]\x1ebAQI="))
		return 0
	})
	var ev eio.Effect
	for _, e := range effs {
		if e.Kind == abi.CEffEvent {
			ev = e
		}
	}
	require.Equal(t, [][]byte{{1, 2}}, ev.Attachments)
	both(func(b abi.ClientBackend) int64 { return b.Emit(4, h, "/", "x", []byte(`[1]`), nil, abi.EmitAck, 100) })
	both(func(b abi.ClientBackend) int64 { return b.Ack(4, h, "/", 3, []byte(`[]`), nil) })
	both(func(b abi.ClientBackend) int64 { b.Tick(200); return 0 })
	both(func(b abi.ClientBackend) int64 { b.Disconnect(201, h, "/"); return 0 })
	both(func(b abi.ClientBackend) int64 { b.Destroy(202, h); return 0 })
	require.Equal(t, [][]byte{{1, 2}}, ev.Attachments) // still there after more calls

	require.NoError(t, w.Close())
	_, err = w.Effects()
	require.Error(t, err)
}
