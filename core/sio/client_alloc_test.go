package sio

import (
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

// joinedClient returns a Client connected to "/" (with connection state
// recovery: its events record offsets) and "/custom" (without).
func joinedClient(t testing.TB) *Client {
	c := NewClient()
	require.NoError(t, c.Connect(0, "/", nil, nil))
	require.NoError(t, c.Connect(0, "/custom", nil, nil))
	c.EngineOpen(0, 4, "e")
	c.Message(0, false, []byte(`0{"sid":"a","pid":"p"}`))
	c.Message(0, false, []byte(`0/custom,{"sid":"b"}`))
	c.Effects()
	require.True(t, c.Connected("/"))
	require.True(t, c.Connected("/custom"))
	return c
}

// Decoding a text event on a joined namespace allocates nothing: not the
// name (cached), not the effect (the list is reused), not the offset
// (copied into the namespace's buffer).
func TestClientDecodeZeroAllocs(t *testing.T) {
	c := joinedClient(t)
	cases := []struct {
		frame, nsp, name string
		id               int64
	}{
		{`2["message",1,"2",{"3":[true]}]`, "/", "message", -1},
		{`2["message","world","off-1"]`, "/", "message", -1},
		{`256["message",1]`, "/", "message", 56},
		{`2/custom,7["message",{"a":"\u00e9"}]`, "/custom", "message", 7},
		{`2["caf\u00e9",1]`, "/", "café", -1},
		{`2[42]`, "/", "42", -1},
	}
	for _, tc := range cases {
		frame := []byte(tc.frame)
		check := func() {
			c.Message(1, false, frame)
			effs := c.Effects()
			if len(effs) != 1 || effs[0].Kind != CEffEvent || effs[0].Nsp != tc.nsp || effs[0].Name != tc.name || effs[0].ID != tc.id {
				t.Fatalf("%s: unexpected effects %+v", tc.frame, effs)
			}
		}
		check()
		require.Zero(t, testing.AllocsPerRun(200, check), "%s: allocations per message", tc.frame)
	}
	require.Equal(t, "off-1", c.Recovery("/").Offset)
}

// Emitting and acking on a connected namespace allocate nothing either:
// the packets are encoded into reused scratch space.
func TestClientEncodeZeroAllocs(t *testing.T) {
	c := joinedClient(t)
	args := []byte(`[1,"2",{"3":[true]}]`)
	emit := func() {
		if _, err := c.Emit(1, "/custom", "message", args, nil, false); err != nil {
			t.Fatal(err)
		}
		if effs := c.Effects(); len(effs) != 1 || string(effs[0].Data) != `2/custom,["message",1,"2",{"3":[true]}]` {
			t.Fatalf("unexpected effects %+v", effs)
		}
	}
	emit()
	require.Zero(t, testing.AllocsPerRun(200, emit))
	ack := func() {
		if err := c.Ack(1, "/", 12, args, nil); err != nil {
			t.Fatal(err)
		}
		if effs := c.Effects(); len(effs) != 1 || string(effs[0].Data) != `312[1,"2",{"3":[true]}]` {
			t.Fatalf("unexpected effects %+v", effs)
		}
	}
	ack()
	require.Zero(t, testing.AllocsPerRun(200, ack))
}

// An emit that waits for an ack, and the ack: the pending id lives in a
// map, which settles once warm.
func TestClientAckRoundTripAllocs(t *testing.T) {
	c := joinedClient(t)
	reply := []byte(`3/custom,0["ok"]`)
	round := func() {
		id, err := c.Emit(1, "/custom", "q", nil, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		c.Effects()
		// The ack id grows with each round: rewrite the reply's id.
		b := append(reply[:0], "3/custom,"...)
		b = appendInt(b, id)
		b = append(b, `["ok"]`...)
		reply = b
		c.Message(2, false, reply)
		if effs := c.Effects(); len(effs) != 1 || effs[0].Kind != CEffAck || effs[0].ID != id {
			t.Fatalf("unexpected effects %+v", effs)
		}
	}
	for i := 0; i < 1000; i++ {
		round()
	}
	allocs := testing.AllocsPerRun(500, round)
	t.Logf("allocations per emit+ack round trip: %v", allocs)
	require.LessOrEqual(t, allocs, 0.1)
}

func appendInt(b []byte, n int64) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

func BenchmarkClientDecodeEvent(b *testing.B) {
	c := joinedClient(b)
	frame := []byte(`2/custom,["message",1,"2",{"3":[true]}]`)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		c.Message(1, false, frame)
		c.Effects()
	}
}

func BenchmarkClientEmit(b *testing.B) {
	c := joinedClient(b)
	args := []byte(`[1,"2",{"3":[true]}]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Emit(1, "/custom", "message", args, nil, false); err != nil {
			b.Fatal(err)
		}
		c.Effects()
	}
}

// The Client never panics, whatever the server sends, and every message
// leaves it in a consistent state.
func FuzzClientMessage(f *testing.F) {
	for _, s := range []string{
		`2["message",1]`, `0{"sid":"x"}`, `0/custom,{"sid":"y","pid":"z"}`, `4{"message":"no"}`, `4/custom,"no"`,
		`1`, `1/custom,`, `3/custom,0[1]`, `51-["b",{"_placeholder":true,"num":0}]`, `61-/custom,0[{"_placeholder":true,"num":0}]`,
		`2["connect"]`, `0`, `abc`, `2/custom,5["q","off"]`,
	} {
		f.Add(false, []byte(s), uint8(4))
		f.Add(false, []byte(s), uint8(3))
	}
	f.Add(true, []byte{1, 2, 3}, uint8(4))
	f.Fuzz(func(t *testing.T, binary bool, data []byte, proto uint8) {
		c := NewClient()
		_ = c.Connect(0, "/", []byte(`{"a":1}`), nil)
		_ = c.Connect(0, "/custom", nil, &RecoveryState{PID: "p", Offset: "o"})
		c.EngineOpen(0, int(proto%2)+3, "e")
		_, _ = c.Emit(0, "/custom", "q", nil, nil, true)
		c.Message(1, false, []byte(`51-["b",{"_placeholder":true,"num":0}]`))
		c.Message(1, true, []byte{9})
		c.Message(2, binary, data)
		c.Message(3, false, []byte(`0/custom,{"sid":"s"}`))
		c.Message(4, binary, data)
		for _, e := range c.Effects() {
			if e.Kind == 0 || e.Kind > CEffCloseEngine {
				t.Fatalf("bad effect %+v", e)
			}
			if e.Kind == CEffError && e.Err == nil {
				t.Fatalf("error without Err: %+v", e)
			}
		}
		c.EngineClose(5, eio.ReasonTransportClose, "")
		_ = c.Recovery("/custom")
		_, _ = c.NextDeadline()
	})
}
