package abi

import (
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

func countingRandom() func([]byte) {
	n := byte(0)
	return func(b []byte) {
		for i := range b {
			n++
			b[i] = n
		}
	}
}

// backendScript drives a ClientBackend through a polling session, the
// upgrade, acks both ways with binary, an ack timeout and the server's
// disconnect, and returns every effect (copied) and result.
func backendScript(t *testing.T, b ClientBackend) ([]eio.Effect, []int64) {
	var all []eio.Effect
	var results []int64
	now := int64(1000)
	take := func() []eio.Effect {
		effs, err := b.Effects()
		require.NoError(t, err)
		start := len(all)
		all = append(all, effs...)
		ownEffects(all[start:])
		return all[start:]
	}
	conn := func(effs []eio.Effect, kind eio.EffectKind, text string) uint32 {
		for _, e := range effs {
			if e.Kind == kind && (text == "" || e.Text == text) {
				return uint32(e.Conn)
			}
		}
		t.Fatalf("no effect %d %q in %+v", kind, text, effs)
		return 0
	}
	c := b.Create(now, ClientOptions{})
	results = append(results, int64(c))
	results = append(results, b.Connect(now, c, "/", []byte(`{"token":"t"}`), 0))
	get := conn(take(), CEffRequest, "GET")
	b.Response(now, c, get, 200, "text/plain", []byte(testHandshake))
	effs := take()
	post, poll, dial := conn(effs, CEffRequest, "POST"), conn(effs, CEffRequest, "GET"), conn(effs, CEffWSOpen, "")
	b.Response(now, c, post, 200, "text/html", []byte("ok"))
	take()
	b.Response(now, c, poll, 200, "text/plain", []byte(`40{"sid":"X"}`))
	poll = conn(take(), CEffRequest, "GET")
	b.WSOpened(now, c, dial)
	take()
	b.WSMessage(now, c, dial, false, []byte("3probe"))
	take()
	b.Response(now, c, poll, 200, "text/plain", []byte("6"))
	take()
	results = append(results, b.Emit(now, c, "/", "hello", []byte(`[1,{"_placeholder":true,"num":0}]`), [][]byte{{9, 8}}, EmitAck, 0))
	b.WSMessage(now, c, dial, false, []byte(`430[2]`))
	b.WSMessage(now, c, dial, false, []byte(`451-7["srv",{"_placeholder":true,"num":0}]`))
	b.WSMessage(now, c, dial, true, []byte{1, 2, 3}) // several calls before Effects
	take()
	results = append(results, b.Ack(now, c, "/", 7, []byte(`["ok"]`), nil))
	results = append(results, b.Emit(now, c, "/", "slow", nil, nil, EmitAck, 500))
	results = append(results, b.Emit(now, c, "/", "connect", nil, nil, 0, 0))
	take()
	dl, ok := b.NextDeadline()
	require.True(t, ok)
	b.Tick(dl)
	take()
	b.WSMessage(now, c, dial, false, []byte(`41`))
	take()
	b.Destroy(now, c)
	take()
	return all, results
}

// TestClientBackendsAgree: the direct calls of ClientCore and the records
// of ClientRecords (what hostwasm sends the module) give the same effects
// and results.
func TestClientBackendsAgree(t *testing.T) {
	direct, dres := backendScript(t, NewClientCore(countingRandom()))
	rc := NewClientCore(countingRandom())
	var buf []byte
	records := &ClientRecords{Process: func(now int64, in []byte, n int) ([]byte, error) {
		var err error
		buf, err = rc.Process(buf, now, in, n)
		return buf, err
	}}
	viaRecords, rres := backendScript(t, records)
	require.Equal(t, rres, dres)
	require.Equal(t, len(viaRecords), len(direct))
	for i := range direct {
		require.Equal(t, viaRecords[i], direct[i], "effect %d", i)
	}
	kinds := map[eio.EffectKind]bool{}
	for _, e := range direct {
		kinds[e.Kind] = true
	}
	for _, k := range []eio.EffectKind{CEffEngineOpen, CEffConnected, CEffUpgrade, CEffAck, CEffEvent, CEffAckFailed, CEffError, CEffDisconnect, CEffWSSend} {
		require.True(t, kinds[k], "kind %d", k)
	}
	require.Equal(t, int64(0), dres[2])
	require.Equal(t, int64(EmitRefused), dres[5])
	require.NoError(t, records.Close())
	_, err := records.Effects()
	require.Error(t, err)
}

// TestClientAuthFromHost: a namespace whose auth the host computes gets
// an auth effect at each session's open, and its CONNECT (with the
// answer) waits for it, as do the session's next events; a failed open is
// reported once with its context.
func TestClientAuthFromHost(t *testing.T) {
	cc := NewClientCore(countingRandom())
	kinds := func() ([]eio.Effect, map[eio.EffectKind]int) {
		effs, err := cc.Effects()
		require.NoError(t, err)
		m := map[eio.EffectKind]int{}
		for _, e := range effs {
			m[e.Kind]++
		}
		return effs, m
	}
	c := cc.Create(1, ClientOptions{Transports: ClientPolling, NoReconnection: true})
	require.Equal(t, int64(0), cc.Connect(1, c, "/", []byte(`{"a":1}`), ConnectAuthHost))
	effs, _ := kinds()
	get := uint32(effs[0].Conn)
	// The handshake and a message in the same answer: the message waits.
	cc.Response(2, c, get, 200, "text/plain", []byte(testHandshake+"\x1e4hello"))
	effs, m := kinds()
	require.Equal(t, 1, m[CEffEngineOpen])
	require.Equal(t, 1, m[CEffAuth], "%+v", effs)
	for _, e := range effs {
		require.False(t, e.Kind == CEffRequest && e.Text == "POST", "no CONNECT before the answer")
	}
	cc.Connect(3, c, "/", []byte(`{"a":2}`), ConnectAuthHost)
	effs, _ = kinds()
	var post string
	for _, e := range effs {
		if e.Kind == CEffRequest && e.Text == "POST" {
			post = string(e.Data)
		}
	}
	require.Equal(t, `40{"a":2}`, post)
	cc.Destroy(4, c)
	kinds()

	// A failed open: one engineError with the diagnostic as context.
	c = cc.Create(5, ClientOptions{Transports: ClientPolling, NoReconnection: true})
	cc.Connect(5, c, "/", nil, 0)
	effs, _ = kinds()
	cc.Response(6, c, uint32(effs[0].Conn), 404, "text/html", []byte("Not Found"))
	effs, m = kinds()
	require.Equal(t, 1, m[CEffEngineError])
	require.Equal(t, 1, m[CEffConnectError])
	for _, e := range effs {
		if e.Kind == CEffEngineError {
			require.Equal(t, "xhr poll error", e.Text)
			require.Contains(t, string(e.Data), `"status":404`)
			require.Contains(t, string(e.Data), `"serverProtocol":0`)
		}
	}
}
