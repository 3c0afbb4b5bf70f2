package eio

import (
	"bytes"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// counterRandom returns a deterministic random source: call k fills the
// buffer with the bytes of k, so every id differs.
func counterRandom() func([]byte) {
	var k uint64
	return func(b []byte) {
		k++
		for i := range b {
			b[i] = byte(k >> (8 * (i % 8)))
		}
	}
}

func testServer() *Server {
	cfg := DefaultConfig(counterRandom())
	cfg.PingInterval, cfg.PingTimeout, cfg.UpgradeTimeout = 300, 200, 1000
	return NewServer(cfg)
}

// openPolling opens a polling session and drops the handshake effects.
func openPolling(t *testing.T, s *Server, now int64, conn uint64) Handle {
	t.Helper()
	h := s.Request(now, &Request{Conn: conn, Method: "GET", EIO: "4", Transport: "polling"})
	require.NotZero(t, h)
	effects := s.Effects()
	require.Len(t, effects, 2)
	require.Equal(t, EffOpen, effects[0].Kind)
	return h
}

// openWS opens a WebSocket session and drops the handshake effects.
func openWS(t *testing.T, s *Server, now int64, conn uint64) Handle {
	t.Helper()
	h := s.Request(now, &Request{Conn: conn, Method: "GET", EIO: "4", Transport: "websocket", Upgrade: true})
	require.NotZero(t, h)
	effects := s.Effects()
	require.Len(t, effects, 3)
	require.Equal(t, EffOpen, effects[0].Kind)
	return h
}

func kinds(effects []Effect) []EffectKind {
	k := make([]EffectKind, len(effects))
	for i, e := range effects {
		k[i] = e.Kind
	}
	return k
}

func TestStaleHandleNeverReachesNextTenant(t *testing.T) {
	s := testServer()
	a := openPolling(t, s, 0, 1)
	sidA := s.SID(a)
	s.CloseAll(1, ReasonForcedClose) // frees the slot at once (an application close would linger)
	require.Equal(t, []EffectKind{EffClose}, kinds(s.Effects()))

	b := openWS(t, s, 2, 2)
	require.Equal(t, a.index(), b.index(), "the slot is reused")
	require.NotEqual(t, a, b, "with a new generation")
	sidB := s.SID(b)
	require.NotEqual(t, sidA, sidB)

	// Every input addressed to the stale handle misses session b.
	require.False(t, s.Send(3, a, false, []byte("x")))
	s.CloseSession(3, a, "stale")
	s.Frame(3, 2, a, false, []byte("1"))
	s.ConnClosed(3, 2, a, true)
	require.Empty(t, s.Effects())
	s.Body(3, 9, a, []byte("1"), BodyOK)
	require.Equal(t, []Effect{{Kind: EffRespond, Conn: 9, Status: 400}}, s.Effects(),
		"a body for a stale session is answered 400 and goes nowhere")

	require.Equal(t, "", s.SID(a))
	require.Equal(t, 0, s.Protocol(a))
	require.Equal(t, Handle(0), s.Lookup(sidA))
	require.Equal(t, b, s.Lookup(sidB))
	require.Equal(t, 4, s.Protocol(b))
	require.Equal(t, "websocket", s.TransportName(b))
	require.Equal(t, 1, s.Len())

	// Session b still works.
	require.True(t, s.Send(4, b, false, []byte("hi")))
	require.Equal(t, []EffectKind{EffWrite}, kinds(s.Effects()))

	// Handle 0 and out-of-range handles are never valid.
	for _, h := range []Handle{0, Handle(b.index() + 1), Handle(handleIndexMask), ^Handle(0)} {
		require.False(t, s.Send(5, h, false, []byte("x")), "handle %#x", uint32(h))
		require.Equal(t, "", s.SID(h))
	}
	require.Empty(t, s.Effects())
}

func TestHandleGenerationsOnOneSlot(t *testing.T) {
	// The generation tag has 32-20 = 12 bits: a slot reused over and over
	// gives 4096 distinct handles before they repeat, and never 0.
	s := testServer()
	const gens = 1 << (32 - handleIndexBits)
	seen := make(map[Handle]int, gens)
	var prev Handle
	for i := 0; i < gens+10; i++ {
		h := openPolling(t, s, int64(i), uint64(i+1))
		require.NotZero(t, h)
		require.Equal(t, uint32(1), h.index())
		require.NotEqual(t, prev, h)
		if i < gens {
			_, dup := seen[h]
			require.False(t, dup, "handle %#x repeated after %d reuses", uint32(h), i)
		}
		seen[h] = i
		s.CloseAll(int64(i), ReasonForcedClose)
		s.Effects()
		require.False(t, s.Send(int64(i), h, false, nil), "a closed handle is dead at once")
		prev = h
	}
	require.Len(t, s.sessions, 2, "one slot served every session")
}

func TestThousandSessionsLeaveNothingBehind(t *testing.T) {
	s := testServer()
	const n = 1000
	type sess struct {
		h    Handle
		conn uint64
		ws   bool
	}
	var all []sess
	conn := uint64(0)
	for round := 0; round < 2; round++ {
		all = all[:0]
		now := int64(round * 100000)
		for i := 0; i < n; i++ {
			conn++
			if i%2 == 0 {
				all = append(all, sess{openPolling(t, s, now, conn), conn, false})
			} else {
				all = append(all, sess{openWS(t, s, now, conn), conn, true})
			}
		}
		require.Equal(t, n, s.Len())
		at, ok := s.NextDeadline()
		require.True(t, ok)
		require.Equal(t, now+300, at)
		require.Len(t, s.bySID, n)

		// Close them every possible way, before any timer is due.
		now += 10
		for i, x := range all {
			switch i % 8 {
			case 0: // polling: the application closes it
				s.CloseSession(now, x.h, "")
			case 1: // WebSocket closed by the client
				s.ConnClosed(now, x.conn, x.h, false)
			case 2: // polling: an upgrade in progress, then an invalid packet
				conn++
				require.Equal(t, x.h, s.Request(now, &Request{Conn: conn, Method: "GET", EIO: "4", Transport: "websocket", SID: s.SID(x.h), Upgrade: true}))
				conn++
				require.Equal(t, x.h, s.Request(now, &Request{Conn: conn, Method: "POST", EIO: "4", Transport: "polling", SID: s.SID(x.h)}))
				s.Body(now, conn, x.h, []byte("x"), BodyOK)
			case 3: // WebSocket: invalid packet
				s.Frame(now, x.conn, x.h, false, []byte("9"))
			case 4: // polling: duplicate GET
				sid := s.SID(x.h)
				conn++
				s.Request(now, &Request{Conn: conn, Method: "GET", EIO: "4", Transport: "polling", SID: sid})
				conn++
				s.Request(now, &Request{Conn: conn, Method: "GET", EIO: "4", Transport: "polling", SID: sid})
			case 5: // WebSocket: close packet
				s.Frame(now, x.conn, x.h, false, []byte("1"))
			case 6: // polling: too large a body
				conn++
				s.Request(now, &Request{Conn: conn, Method: "POST", EIO: "4", Transport: "polling", SID: s.SID(x.h)})
				s.Body(now, conn, x.h, nil, BodyTooLarge)
			case 7: // WebSocket: left to time out
			}
			s.Effects()
		}
		require.Equal(t, n/8, s.Len(), "only the sessions left to time out are open")
		at, ok = s.NextDeadline()
		require.True(t, ok)
		// First come the polling sessions the application closed: they
		// wait pingTimeout for the GET that hears of it.
		require.Equal(t, now+200, at)
		for {
			at, ok := s.NextDeadline()
			if !ok {
				break
			}
			s.Tick(at)
			for _, e := range s.Effects() {
				if e.Kind == EffClose {
					require.Equal(t, ReasonPingTimeout, e.Text)
				}
			}
		}
		require.Equal(t, 0, s.Len())
		_, ok = s.NextDeadline()
		require.False(t, ok, "no timer pending")
		require.Empty(t, s.timers, "NextDeadline dropped every stale timer")
		require.Empty(t, s.bySID)
		require.Len(t, s.sessions, n+1, "the second round reused the slots of the first")
	}
}

func TestClientCloseLingerExpires(t *testing.T) {
	// A polling session closed by the client with no GET pending keeps its
	// id for a moment (for the GET the client had in flight); the timer of
	// that linger is the last one and then nothing is left.
	s := testServer()
	var hs []Handle
	for i := 0; i < 100; i++ {
		hs = append(hs, openPolling(t, s, 0, uint64(i+1)))
	}
	for i, h := range hs {
		conn := uint64(1000 + i)
		s.Request(10, &Request{Conn: conn, Method: "POST", EIO: "4", Transport: "polling", SID: s.SID(h)})
		s.Body(10, conn, h, []byte("1"), BodyOK)
		require.Equal(t, []EffectKind{EffReadBody, EffClose, EffRespond}, kinds(s.Effects()))
	}
	require.Equal(t, 0, s.Len())
	at, ok := s.NextDeadline()
	require.True(t, ok)
	require.Greater(t, at, int64(10))
	s.Tick(at)
	require.Empty(t, s.Effects())
	_, ok = s.NextDeadline()
	require.False(t, ok)
	require.Empty(t, s.bySID)
}

// TestDeadlineOrderAcrossSessions drives many WebSocket sessions only
// through NextDeadline and Tick, and checks every ping and timeout against a
// model: sessions opened at scattered times; even ones answer their first
// three pings at once, odd ones never do.
func TestDeadlineOrderAcrossSessions(t *testing.T) {
	s := testServer()
	const n = 300
	type event struct {
		at   int64
		sess int
		kind string // "ping" or "close"
	}
	var want []event
	handles := make([]Handle, n)
	ord := make(map[Handle]int)
	for i := 0; i < n; i++ {
		at := int64((i * 7919) % 2000) // scattered, with some ties
		want = append(want, event{at, i, "open"})
	}
	sort.SliceStable(want, func(a, b int) bool { return want[a].at < want[b].at })
	opens := want
	want = nil
	for _, o := range opens {
		handles[o.sess] = openWS(t, s, o.at, uint64(o.sess+1))
		ord[handles[o.sess]] = o.sess
		if o.sess%2 == 0 {
			for k := int64(1); k <= 4; k++ {
				want = append(want, event{o.at + 300*k, o.sess, "ping"})
			}
			want = append(want, event{o.at + 1400, o.sess, "close"})
		} else {
			want = append(want, event{o.at + 300, o.sess, "ping"}, event{o.at + 500, o.sess, "close"})
		}
	}
	less := func(ev []event) func(a, b int) bool {
		return func(a, b int) bool {
			if ev[a].at != ev[b].at {
				return ev[a].at < ev[b].at
			}
			if ev[a].sess != ev[b].sess {
				return ev[a].sess < ev[b].sess
			}
			return ev[a].kind > ev[b].kind
		}
	}
	sort.Slice(want, less(want))

	pings := make([]int, n)
	var got []event
	last := int64(-1)
	for {
		at, ok := s.NextDeadline()
		if !ok {
			break
		}
		require.Greater(t, at, last, "deadlines only move forward")
		// The next deadline is the earliest event the model still expects.
		require.Equal(t, want[len(got)].at, at)
		s.Tick(at - 1)
		require.Empty(t, s.Effects(), "nothing is due before the deadline")
		s.Tick(at)
		var pongs []Handle
		effects := s.Effects()
		require.NotEmpty(t, effects, "a deadline with nothing to do at %d", at)
		for _, e := range effects {
			i := ord[e.Session]
			switch e.Kind {
			case EffWrite:
				require.Equal(t, "2", string(e.Prefix))
				got = append(got, event{at, i, "ping"})
				pings[i]++
				if i%2 == 0 && pings[i] <= 3 {
					pongs = append(pongs, e.Session)
				}
			case EffClose:
				require.Equal(t, ReasonPingTimeout, e.Text)
				got = append(got, event{at, i, "close"})
			case EffCloseConn:
			default:
				t.Fatalf("unexpected effect %+v", e)
			}
		}
		for _, h := range pongs {
			s.Frame(at, uint64(ord[h]+1), h, false, []byte("3"))
			require.Empty(t, s.Effects())
		}
		last = at
	}
	sort.Slice(got, less(got))
	require.Equal(t, want, got)
	require.Equal(t, 0, s.Len())
}

func TestTickRunsEveryOverdueTimer(t *testing.T) {
	// A host that falls behind calls Tick once with a late now: every due
	// timer runs, across sessions, including deadlines armed by the timers
	// that ran.
	s := testServer()
	a := openWS(t, s, 0, 1)
	b := openWS(t, s, 100, 2)
	c := openWS(t, s, 1000, 3)
	s.Tick(700)
	effects := s.Effects()
	var closed []Handle
	for _, e := range effects {
		if e.Kind == EffClose {
			closed = append(closed, e.Session)
		}
	}
	require.ElementsMatch(t, []Handle{a, b}, closed)
	require.Equal(t, 1, s.Len())
	require.Equal(t, "websocket", s.TransportName(c))
	at, ok := s.NextDeadline()
	require.True(t, ok)
	require.Equal(t, int64(1300), at)
}

func TestEffectsDataValidUntilNextCall(t *testing.T) {
	s := testServer()

	// Effects of several calls accumulate until the host takes them, and
	// the data of the first stays intact.
	h1 := s.Request(0, &Request{Conn: 1, Method: "GET", EIO: "4", Transport: "polling"})
	h2 := s.Request(0, &Request{Conn: 2, Method: "GET", EIO: "4", Transport: "polling"})
	effects := s.Effects()
	require.Len(t, effects, 4)
	open1 := `0{"sid":"` + s.SID(h1) + `","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`
	open2 := `0{"sid":"` + s.SID(h2) + `","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`
	require.Equal(t, open1, string(effects[1].Data))
	require.Equal(t, open2, string(effects[3].Data))

	// Queries between calls leave the data alone.
	s.NextDeadline()
	s.SID(h1)
	s.Len()
	s.Lookup(s.SID(h2))
	require.Equal(t, open1, string(effects[1].Data))
	require.Equal(t, open2, string(effects[3].Data))
	require.Empty(t, s.Effects(), "taking the effects twice gives nothing new")
	require.Equal(t, open1, string(effects[1].Data), "nor does a second Effects call")

	// Many large packets held during an upgrade are flushed as frames: the
	// core copies them into its scratch space, which grows while it does so;
	// every frame must still hold its own data afterwards.
	sid := s.SID(h1)
	require.Equal(t, h1, s.Request(10, &Request{Conn: 10, Method: "GET", EIO: "4", Transport: "websocket", SID: sid, Upgrade: true}))
	s.Frame(11, 10, h1, false, []byte("2probe"))
	s.Effects()
	var sent [][]byte
	for i := 0; i < 40; i++ {
		msg := bytes.Repeat([]byte{byte('a' + i%26)}, 100+i*97)
		msg = append(msg, strconv.Itoa(i)...)
		sent = append(sent, msg)
		buf := append([]byte(nil), msg...)
		require.True(t, s.Send(12, h1, i%3 == 0, buf))
		for j := range buf {
			buf[j] = 'X' // the core copied what it queued
		}
	}
	require.Empty(t, s.Effects())
	s.Frame(13, 10, h1, false, []byte("5"))
	effects = s.Effects()
	require.Len(t, effects, 1+len(sent))
	require.Equal(t, EffUpgrade, effects[0].Kind)
	for i, e := range effects[1:] {
		require.Equal(t, EffWrite, e.Kind)
		require.Equal(t, i%3 == 0, e.Binary)
		require.Equal(t, sent[i], e.Data, "frame %d", i)
	}

	// The same holds for a long polling flush of session 2, taken together
	// with the effects of a second call.
	for i := 0; i < 40; i++ {
		require.True(t, s.Send(20, h2, false, sent[i]))
	}
	s.Request(21, &Request{Conn: 20, Method: "GET", EIO: "4", Transport: "polling", SID: s.SID(h2)})
	s.Request(22, &Request{Conn: 21, Method: "GET", EIO: "4", Transport: "polling"})
	effects = s.Effects()
	require.Len(t, effects, 3)
	var payload []byte
	for i, m := range sent {
		payload = AppendV4(payload, i == 0, Message, false, m)
	}
	require.Equal(t, payload, effects[0].Data)
	require.Equal(t, EffOpen, effects[1].Kind)
	require.Equal(t, EffRespond, effects[2].Kind)
	require.Contains(t, string(effects[2].Data), `"upgrades":["websocket"]`)
}

// A v3 client that pings in a tight loop moves its deadline on every ping;
// the timer heap must stay bounded and the deadline exact.
func TestPingFloodKeepsTimerHeapBounded(t *testing.T) {
	cfg := DefaultConfig(counterRandom())
	cfg.PingInterval, cfg.PingTimeout, cfg.AllowEIO3 = 300, 200, true
	s := NewServer(cfg)
	h := s.Request(0, &Request{Conn: 1, Method: "GET", EIO: "3", Transport: "websocket", Upgrade: true})
	require.NotZero(t, h)
	s.Effects()
	for i := int64(1); i <= 10000; i++ {
		s.Frame(i, 1, h, false, []byte("2"))
		require.Equal(t, []EffectKind{EffWrite}, kinds(s.Effects()))
		require.LessOrEqual(t, len(s.timers), 64+2*len(s.sessions))
	}
	d, ok := s.NextDeadline()
	require.True(t, ok)
	require.Equal(t, int64(10000+500), d)
}

// A session closed by the application with packets still queued and no GET
// pending hands them to the client's next GET, followed by a close packet;
// one closed by a timeout drops them.
func TestApplicationCloseDrainsQueue(t *testing.T) {
	s := testServer()
	h := openPolling(t, s, 0, 1)
	require.True(t, s.Send(1, h, false, []byte("bye")))
	s.CloseSession(2, h, "")
	require.Equal(t, []EffectKind{EffClose}, kinds(s.Effects()))
	require.Equal(t, 0, s.Len())
	sid := s.sessions[h.index()].id
	require.Zero(t, s.Request(3, &Request{Conn: 2, Method: "GET", EIO: "4", Transport: "polling", SID: sid}))
	effects := s.Effects()
	require.Len(t, effects, 1)
	require.Equal(t, "4bye", string(effects[0].Data))
	// The close comes on the GET after, so the client has handled "bye".
	require.Zero(t, s.Request(3, &Request{Conn: 6, Method: "GET", EIO: "4", Transport: "polling", SID: sid}))
	effects = s.Effects()
	require.Len(t, effects, 1)
	require.Equal(t, "1", string(effects[0].Data))
	_, ok := s.NextDeadline()
	require.False(t, ok, "the drained session is gone")
	require.Zero(t, s.Request(4, &Request{Conn: 3, Method: "GET", EIO: "4", Transport: "polling", SID: sid}))
	require.Equal(t, 400, s.Effects()[1].Status)

	// A timeout drops what was queued: the ping due at 300 never reaches
	// the client, whose next GET is refused.
	h = openPolling(t, s, 1000, 4)
	sid = s.sessions[h.index()].id
	s.Tick(1300)
	s.Tick(1500)
	require.Equal(t, []EffectKind{EffClose}, kinds(s.Effects()))
	require.Zero(t, s.Request(1501, &Request{Conn: 5, Method: "GET", EIO: "4", Transport: "polling", SID: sid}))
	require.Equal(t, 400, s.Effects()[1].Status)
}

// An application's close of a polling session with no GET pending and
// nothing queued is told on the next GET (a close packet), as the
// reference does, so the client sees "transport close" and not an error.
func TestApplicationCloseToldOnNextGet(t *testing.T) {
	s := testServer()
	h := openPolling(t, s, 0, 1)
	sid := s.SID(h)
	s.CloseSession(1, h, "")
	require.Equal(t, []EffectKind{EffClose}, kinds(s.Effects()))
	require.Zero(t, s.Request(2, &Request{Conn: 2, Method: "GET", EIO: "4", Transport: "polling", SID: sid}))
	effects := s.Effects()
	require.Len(t, effects, 1)
	require.Equal(t, "1", string(effects[0].Data))
	require.Zero(t, s.Request(3, &Request{Conn: 3, Method: "GET", EIO: "4", Transport: "polling", SID: sid}))
	require.Equal(t, 400, s.Effects()[1].Status)
}
