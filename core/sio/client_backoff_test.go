package sio

import (
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

// seq returns a random source that yields vals in turn.
func seq(t *testing.T, vals ...float64) func() float64 {
	return func() float64 {
		require.NotEmpty(t, vals, "more random numbers drawn than expected")
		v := vals[0]
		vals = vals[1:]
		return v
	}
}

// Delays computed by hand with backo2's formula (min 1000, factor 2, jitter
// 0.5, max 5000); the random numbers are exact binary fractions so that
// the float arithmetic is exact.
func TestBackoffDuration(t *testing.T) {
	cases := []struct {
		attempt int
		rand    float64
		want    int64
		why     string
	}{
		{0, 0.25, 875, "1000, deviation floor(0.25*0.5*1000)=125, floor(2.5)=2 even: minus"},
		{1, 0.75, 2750, "2000, deviation 750, floor(7.5)=7 odd: plus"},
		{1, 0.4375, 1563, "2000, deviation floor(437.5)=437, floor(4.375)=4 even: minus"},
		{2, 0.125, 4250, "4000, deviation 250, floor(1.25)=1 odd: plus"},
		{2, 0.375, 4750, "4000, deviation 750, floor(3.75)=3 odd: plus"},
		{2, 0.9375, 5000, "4000 + 1875 = 5875, capped"},
		{2, 0, 4000, "no deviation"},
		{3, 0.0625, 5000, "8000 - 250, capped"},
		{3, 0.5, 5000, "8000 + 2000, capped"},
		{2000, 0.25, 5000, "overflow: backo2 would compute Infinity-Infinity and wait 0"},
		{2000, 0.75, 5000, "overflow, odd branch"},
	}
	for _, tc := range cases {
		b := NewBackoff(seq(t, tc.rand))
		require.Equal(t, tc.want, b.Duration(tc.attempt), "attempt %d, rand %v: %s", tc.attempt, tc.rand, tc.why)
	}

	// Without jitter: the plain doubling, capped.
	b := Backoff{Min: 1000, Max: 5000, Factor: 2}
	var got []int64
	for i := 0; i < 5; i++ {
		got = append(got, b.Next())
	}
	require.Equal(t, []int64{1000, 2000, 4000, 5000, 5000}, got)
	require.Equal(t, 5, b.Attempts())
	b.Reset()
	require.Equal(t, int64(1000), b.Next())

	// Zero values are the Manager's defaults (reconnectionDelay || 1000…);
	// a jitter outside (0, 1] is none, as in backo2.
	z := Backoff{Jitter: 1.5, Random: seq(t)}
	require.Equal(t, int64(1000), z.Duration(0))
	require.Equal(t, int64(5000), z.Duration(10))

	// Other settings: min 500, max 20000, factor 3, jitter 1.
	o := Backoff{Min: 500, Max: 20000, Factor: 3, Jitter: 1, Random: seq(t, 0.5, 0.25)}
	require.Equal(t, int64(1500+750), o.Duration(1), "1500 + floor(0.5*1*1500)=750 (floor(5) odd)")
	require.Equal(t, int64(4500-1125), o.Duration(2), "4500 - floor(0.25*4500)=1125 (floor(2.5) even)")
}

// The sequence of a stateful Backoff, as the Manager draws it.
func TestBackoffNext(t *testing.T) {
	b := NewBackoff(seq(t, 0.25, 0.75, 0.125, 0.5))
	require.Equal(t, []int64{875, 2750, 4250, 5000}, []int64{b.Next(), b.Next(), b.Next(), b.Next()})
}

func TestReconnection(t *testing.T) {
	r := NewReconnection(seq(t, 0.25, 0.75, 0.125))
	r.Attempts = 3
	_, ok := r.NextDeadline()
	require.False(t, ok)

	at, ok := r.Closed(100, eio.ReasonTransportClose)
	require.True(t, ok)
	require.Equal(t, int64(975), at)
	d, _ := r.NextDeadline()
	require.Equal(t, at, d)
	_, ok = r.Due(974)
	require.False(t, ok)
	n, ok := r.Due(975)
	require.True(t, ok)
	require.Equal(t, 1, n, "reconnect_attempt 1")
	_, ok = r.Due(975)
	require.False(t, ok, "once")

	at, ok = r.Failed(1000)
	require.True(t, ok)
	require.Equal(t, int64(3750), at)
	n, _ = r.Due(at)
	require.Equal(t, 2, n)
	at, ok = r.Failed(4000)
	require.True(t, ok)
	require.Equal(t, int64(8250), at)
	n, _ = r.Due(at)
	require.Equal(t, 3, n)
	_, ok = r.Failed(9000)
	require.False(t, ok)
	require.True(t, r.Exhausted(), "reconnect_failed after 3 attempts")
	require.False(t, r.Scheduled())

	// A success reports the attempts it took and starts over.
	r = NewReconnection(seq(t, 0.25, 0.25))
	at, _ = r.Closed(0, eio.ReasonPingTimeout)
	r.Due(at)
	require.Equal(t, 1, r.Opened())
	at, _ = r.Closed(5000, eio.ReasonTransportError)
	require.Equal(t, int64(5875), at, "the backoff started over")

	// No reconnection after a forced close, or when disabled; Stop cancels.
	r = NewReconnection(seq(t, 0.25))
	_, ok = r.Closed(0, eio.ReasonForcedClose)
	require.False(t, ok)
	require.False(t, r.Exhausted())
	r.Disabled = true
	_, ok = r.Closed(0, eio.ReasonTransportClose)
	require.False(t, ok)
	_, ok = r.Failed(0)
	require.False(t, ok)
	r.Disabled = false
	_, ok = r.Closed(0, eio.ReasonParseError)
	require.True(t, ok)
	r.Stop()
	require.False(t, r.Scheduled())

	for reason, want := range map[string]bool{
		eio.ReasonTransportClose: true, eio.ReasonTransportError: true, eio.ReasonPingTimeout: true, eio.ReasonParseError: true,
		eio.ReasonForcedClose: false, ReasonIOServerDisconnect: false, ReasonIOClientDisconnect: false,
	} {
		require.Equal(t, want, ReconnectAfter(reason), reason)
	}
}
