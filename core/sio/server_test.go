package sio

// Tests of the Socket.IO layer that the transcripts (core/testdata/
// sio_sessions, replayed by internal/transcript) do not express well:
// allocation counts, aliasing, buffer reuse, stale handles and a
// randomized robustness check.

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

// harness is a Socket.IO server over an Engine.IO server with a counter
// for session ids.
type harness struct {
	t testing.TB
	e *eio.Server
	s *Server
}

func newHarness(t testing.TB, mod func(*eio.Config), cfg Config) *harness {
	t.Helper()
	calls := 0
	ecfg := eio.DefaultConfig(func(b []byte) {
		calls++
		for i := range b {
			b[i] = byte(calls)
		}
	})
	ecfg.AllowEIO3 = true
	if mod != nil {
		mod(&ecfg)
	}
	e := eio.NewServer(ecfg)
	return &harness{t: t, e: e, s: NewServer(e, cfg)}
}

// openWS opens a session over WebSocket conn and returns its handle; the
// effects are consumed.
func (h *harness) openWS(now int64, conn uint64, eioVersion string) eio.Handle {
	h.t.Helper()
	hd := h.e.Request(now, &eio.Request{Conn: conn, Method: "GET", EIO: eioVersion, Transport: "websocket", Upgrade: true})
	require.NotZero(h.t, hd)
	h.e.Effects()
	return hd
}

// join makes session hd join nsp (v5: the client's CONNECT, then Accept).
func (h *harness) join(now int64, conn uint64, hd eio.Handle, nsp string) {
	h.t.Helper()
	pkt := "40"
	if nsp != "/" {
		pkt = "40" + nsp + ","
	}
	h.e.Frame(now, conn, hd, false, []byte(pkt))
	effs := h.e.Effects()
	require.Len(h.t, effs, 1)
	require.Equal(h.t, EffConnect, effs[0].Kind)
	require.Equal(h.t, nsp, effs[0].Nsp)
	require.True(h.t, h.s.Accept(now, hd, nsp, "sid-"+nsp, ""))
	h.e.Effects()
}

func TestEffectKinds(t *testing.T) {
	kinds := []eio.EffectKind{EffConnect, EffEvent, EffAck, EffDisconnect}
	seen := map[eio.EffectKind]bool{}
	for _, k := range kinds {
		require.GreaterOrEqual(t, k, eio.EffUpper, "upper kinds start at eio.EffUpper")
		require.False(t, seen[k])
		seen[k] = true
	}
}

// A text event on a joined namespace goes from the WebSocket frame to the
// EffEvent without a single allocation, on "/" and on a custom namespace,
// with and without an ack id; so does an ACK.
func TestDispatchZeroAllocs(t *testing.T) {
	h := newHarness(t, nil, Config{})
	const conn = 1
	hd := h.openWS(0, conn, "4")
	h.join(1, conn, hd, "/")
	h.join(2, conn, hd, "/custom")

	cases := []struct {
		frame string
		kind  eio.EffectKind
		nsp   string
		id    int64
		data  string
	}{
		{`42["message",1,"2",{"3":[true]}]`, EffEvent, "/", -1, `["message",1,"2",{"3":[true]}]`},
		{`42456["message",1,"2",{"3":[true]}]`, EffEvent, "/", 456, `["message",1,"2",{"3":[true]}]`},
		{`42/custom,7["message",{"a":"\u00e9"}]`, EffEvent, "/custom", 7, `["message",{"a":"\u00e9"}]`},
		{`43/custom,12["ok"]`, EffAck, "/custom", 12, `["ok"]`},
	}
	for _, c := range cases {
		frame := []byte(c.frame)
		check := func() {
			h.e.Frame(10, conn, hd, false, frame)
			effs := h.e.Effects()
			if len(effs) != 1 || effs[0].Kind != c.kind || effs[0].Nsp != c.nsp || effs[0].ID != c.id || string(effs[0].Data) != c.data {
				t.Fatalf("%s: unexpected effects %+v", c.frame, effs)
			}
		}
		check() // warm the effect list up
		allocs := testing.AllocsPerRun(200, check)
		require.Zero(t, allocs, "%s: allocations per frame", c.frame)

		// The Socket.IO layer alone, as the Engine.IO server calls it.
		sioOnly := testing.AllocsPerRun(200, func() {
			h.s.Message(hd, false, frame[1:])
			if effs := h.e.Effects(); len(effs) != 1 || effs[0].Kind != c.kind {
				t.Fatalf("%s: unexpected effects %+v", c.frame, effs)
			}
		})
		require.Zero(t, sioOnly, "%s: allocations in Server.Message", c.frame)
	}
}

// Event data and attachments are the bytes the host passed in, not copies.
func TestEventAliasesInput(t *testing.T) {
	h := newHarness(t, nil, Config{})
	hd := h.openWS(0, 1, "4")
	h.join(1, 1, hd, "/")

	text := []byte(`42["x"]`)
	h.e.Frame(2, 1, hd, false, text)
	effs := h.e.Effects()
	require.Len(t, effs, 1)
	require.Same(t, &text[2], &effs[0].Data[0])

	h.e.Frame(3, 1, hd, false, []byte(`451-["bin",{"_placeholder":true,"num":0}]`))
	require.Empty(t, h.e.Effects())
	bin := []byte{1, 2, 3}
	h.e.Frame(4, 1, hd, true, bin)
	effs = h.e.Effects()
	require.Len(t, effs, 1)
	require.Len(t, effs[0].Attachments, 1)
	require.Same(t, &bin[0], &effs[0].Attachments[0][0])
}

// Replies encoded by Accept, Refuse and Leave stay intact until the host
// takes the effects, however many are produced in a row.
func TestRepliesSurviveUntilTaken(t *testing.T) {
	h := newHarness(t, nil, Config{})
	const conns = 3
	var hds [conns]eio.Handle
	for i := range hds {
		hds[i] = h.openWS(0, uint64(i+1), "4")
		h.e.Frame(1, uint64(i+1), hds[i], false, []byte("40/a,"))
		h.e.Frame(1, uint64(i+1), hds[i], false, []byte("40/b,"))
		h.e.Frame(1, uint64(i+1), hds[i], false, []byte("40/c,"))
	}
	h.e.Effects()

	var want []string
	for i, hd := range hds {
		sid := string(rune('A' + i))
		require.True(t, h.s.Accept(2, hd, "/a", sid, ""))
		want = append(want, `0/a,{"sid":"`+sid+`"}`)
		h.s.Refuse(2, hd, "/b", "no", []byte(`{"n":1}`))
		want = append(want, `4/b,{"message":"no","data":{"n":1}}`)
		require.True(t, h.s.Send(2, hd, "/a", []byte(`2/a,["hello"]`), nil, 0))
		want = append(want, `2/a,["hello"]`)
		require.True(t, h.s.Leave(2, hd, "/a"))
		want = append(want, `1/a,`)
		require.False(t, h.s.Leave(2, hd, "/c"), "a pending namespace is forgotten silently")
	}
	var got []string
	for _, e := range h.e.Effects() {
		require.Equal(t, eio.EffWrite, e.Kind)
		require.Equal(t, "4", string(e.Prefix))
		got = append(got, string(e.Data))
	}
	require.Equal(t, want, got)

	// Once the effects are taken, the space is reused: a new reply is
	// still right.
	h.e.Frame(3, 1, hds[0], false, []byte("40/b,"))
	h.e.Effects()
	require.True(t, h.s.Accept(3, hds[0], "/b", "again", ""))
	effs := h.e.Effects()
	require.Len(t, effs, 1)
	require.Equal(t, `0/b,{"sid":"again"}`, string(effs[0].Data))
}

// Socket ids and messages are JSON-escaped.
func TestRepliesEscapeStrings(t *testing.T) {
	h := newHarness(t, nil, Config{})
	hd := h.openWS(0, 1, "4")
	h.e.Frame(1, 1, hd, false, []byte("40"))
	h.e.Frame(1, 1, hd, false, []byte("40/x,"))
	h.e.Effects()

	sid, pid := "a\"b\\c\u00e9\n", "</script>\u2028"
	require.True(t, h.s.Accept(2, hd, "/", sid, pid))
	msg := "bad \"token\"\t\u0001"
	h.s.Refuse(2, hd, "/x", msg, nil)
	effs := h.e.Effects()
	require.Len(t, effs, 2)

	var reply struct{ SID, PID string }
	require.Equal(t, byte('0'), effs[0].Data[0])
	require.NoError(t, json.Unmarshal(effs[0].Data[1:], &reply))
	require.Equal(t, sid, reply.SID)
	require.Equal(t, pid, reply.PID)

	prefix := "4/x,"
	require.Equal(t, prefix, string(effs[1].Data[:len(prefix)]))
	var refusal struct {
		Message string
		Data    json.RawMessage
	}
	require.NoError(t, json.Unmarshal(effs[1].Data[len(prefix):], &refusal))
	require.Equal(t, msg, refusal.Message)
	require.Nil(t, refusal.Data, "no data key when data is nil")
}

// Handles of closed sessions, and of a session that reuses a closed one's
// slot, never reach the wrong connection.
func TestStaleHandles(t *testing.T) {
	h := newHarness(t, nil, Config{})
	old := h.openWS(0, 1, "4")
	h.join(1, 1, old, "/")
	h.e.CloseSession(2, old, "")
	h.e.Effects()

	check := func(hd eio.Handle) {
		t.Helper()
		require.False(t, h.s.Accept(3, hd, "/", "x", ""))
		h.s.Refuse(3, hd, "/", "x", nil)
		require.False(t, h.s.Send(3, hd, "/", []byte(`2["x"]`), nil, 0))
		require.False(t, h.s.Leave(3, hd, "/"))
		require.Nil(t, h.s.Namespaces(hd))
		h.s.Message(hd, false, []byte(`2["x"]`))
		h.s.Timer(hd, 3)
		h.s.Close(hd, "transport close", "")
		require.Empty(t, h.e.Effects())
	}
	check(0)
	check(old)
	check(eio.Handle(12345))

	// The next session takes the freed slot with a new generation.
	fresh := h.openWS(4, 2, "4")
	require.NotEqual(t, old, fresh)
	require.Equal(t, uint32(old)&(1<<20-1), uint32(fresh)&(1<<20-1), "the slot is reused")
	require.Empty(t, h.s.Namespaces(fresh), "nothing inherited from the slot's previous tenant")
	check(old)
	h.join(5, 2, fresh, "/")
	require.Equal(t, []string{"/"}, h.s.Namespaces(fresh))
}

// The default connect timeout is 45 s, counted from the open.
func TestConnectTimeoutDefault(t *testing.T) {
	h := newHarness(t, func(c *eio.Config) { c.PingInterval, c.PingTimeout = 100000, 100000 }, Config{})
	hd := h.openWS(1000, 1, "4")
	at, ok := h.e.NextDeadline()
	require.True(t, ok)
	require.Equal(t, int64(46000), at)
	h.e.Tick(45999)
	require.Empty(t, h.e.Effects())
	h.e.Tick(46000)
	effs := h.e.Effects()
	require.Len(t, effs, 2)
	require.Equal(t, eio.EffCloseConn, effs[0].Kind)
	require.Equal(t, eio.EffClose, effs[1].Kind)
	require.Equal(t, ReasonForcedServer, effs[1].Text)
	require.Equal(t, hd, effs[1].Session)
	require.Zero(t, h.e.Len())
}

// Random streams of packets (mostly valid for the connection's state, a
// few invalid) and host commands never panic, and keep the layer's
// invariants: events and acks only for joined namespaces, nothing after the
// engine close, no namespace left on a closed session.
func TestRandomTraffic(t *testing.T) {
	invalid := []string{`44{"message":"x"}`, `42{}`, `4abc`, `4`, `42["connect"]`, `4511-["b"]`,
		`451-["b",{"_placeholder":true,"num":3}]`, `42/nowhere,["e"]`}
	nsps := []string{"/", "/a", "/b"}
	prefix := func(nsp string) string {
		if nsp == "/" {
			return ""
		}
		return nsp + ","
	}
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[eio.EffectKind]int{}
	for round := range 300 {
		h := newHarness(t, nil, Config{ConnectTimeout: 100})
		version := "4"
		if round%3 == 0 {
			version = "3"
		}
		const conn = 7
		hd := h.openWS(0, conn, version)
		var joined []string
		pendingBin := 0
		var now int64
		for step := 0; step < 60; step++ {
			now += int64(rng.IntN(4))
			var text string
			switch r := rng.IntN(100); {
			case pendingBin > 0 && r < 90:
				bin := []byte{byte(step)}
				if version == "3" {
					bin = []byte{4, byte(step)}
				}
				h.e.Frame(now, conn, hd, true, bin)
				pendingBin--
			case r < 3:
				text = invalid[rng.IntN(len(invalid))]
			case r < 5:
				h.e.Frame(now, conn, hd, true, []byte{4, 1})
			case r < 25:
				text = "40" + prefix(nsps[rng.IntN(len(nsps))])
			case r < 60 && len(joined) > 0:
				p := prefix(joined[rng.IntN(len(joined))])
				switch rng.IntN(5) {
				case 0:
					text = `42` + p + `["e",1]`
				case 1:
					text = `42` + p + `17["e"]`
				case 2:
					text = `43` + p + `3[]`
				case 3:
					text = `452-` + p + `["b",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`
					pendingBin = 2
				default:
					text = `461-` + p + `9[{"_placeholder":true,"num":0}]`
					pendingBin = 1
				}
			case r < 65 && len(joined) > 0:
				text = "41" + prefix(joined[rng.IntN(len(joined))])
			case r < 85:
				h.s.Accept(now, hd, nsps[rng.IntN(len(nsps))], "sid", "")
			case r < 92:
				h.s.Leave(now, hd, nsps[rng.IntN(len(nsps))])
			default:
				h.e.Tick(now)
			}
			if text != "" {
				h.e.Frame(now, conn, hd, false, []byte(text))
			}
			closed := false
			for _, e := range h.e.Effects() {
				counts[e.Kind]++
				require.False(t, closed, "round %d: an effect after the engine close: %+v", round, e)
				switch e.Kind {
				case EffEvent, EffAck:
					require.Contains(t, joined, e.Nsp, "round %d: an effect on a namespace not joined", round)
				case EffDisconnect:
					require.NotEmpty(t, e.Text)
				case eio.EffClose:
					closed = true
				}
			}
			if closed {
				require.Nil(t, h.s.Namespaces(hd))
				require.Zero(t, h.e.Len())
				break
			}
			joined = h.s.Namespaces(hd)
		}
	}
	// The streams reach every kind of effect.
	for _, k := range []eio.EffectKind{EffConnect, EffEvent, EffAck, EffDisconnect, eio.EffClose} {
		require.NotZero(t, counts[k], "effect kind %d never produced", k)
	}
}
