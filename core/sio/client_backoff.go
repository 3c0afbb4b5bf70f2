package sio

import (
	"math"

	"github.com/siohost/siohost/core/eio"
)

// Reconnection defaults of socket.io-client's Manager, in milliseconds.
const (
	DefaultReconnectionDelay    = 1000
	DefaultReconnectionDelayMax = 5000
	DefaultRandomizationFactor  = 0.5
	DefaultBackoffFactor        = 2
)

// Backoff is socket.io-client's reconnection delay (its contrib/backo2):
// attempt n (from 0) waits Min·Factor^n ms, moved by a random deviation of
// up to Jitter of it, and capped at Max:
//
//	rand = Random()
//	deviation = floor(rand * Jitter * ms)
//	ms = (floor(rand*10) & 1) == 0 ? ms - deviation : ms + deviation
//	return min(ms, Max)
//
// Randomness is injected: Random returns a number in [0, 1), as
// Math.random. NewBackoff gives the Manager's defaults.
type Backoff struct {
	// Min is the first delay (reconnectionDelay); 0 means 1000, as the
	// Manager's `reconnectionDelay || 1000`.
	Min int64
	// Max caps the delays (reconnectionDelayMax); 0 means 5000.
	Max int64
	// Factor multiplies the delay at each attempt; 0 means 2.
	Factor float64
	// Jitter is the randomization factor (randomizationFactor); a value
	// outside (0, 1] means none, as in backo2.
	Jitter float64
	// Random returns a number in [0, 1). nil: no jitter.
	Random func() float64

	attempts int
}

// NewBackoff returns the Manager's default backoff: 1000 ms doubling up to
// 5000 ms, with a randomization factor of 0.5.
func NewBackoff(random func() float64) Backoff {
	return Backoff{
		Min:    DefaultReconnectionDelay,
		Max:    DefaultReconnectionDelayMax,
		Factor: DefaultBackoffFactor,
		Jitter: DefaultRandomizationFactor,
		Random: random,
	}
}

// Duration returns the delay before attempt (counted from 0), in
// milliseconds. It draws one random number when there is jitter.
//
// One deliberate difference: once Min·Factor^attempt overflows (after
// about a thousand attempts with the defaults), backo2 computes
// Infinity-Infinity for half of the draws and waits 0 ms; Duration waits
// Max.
func (b *Backoff) Duration(attempt int) int64 {
	lo, hi, factor := b.Min, b.Max, b.Factor
	if lo <= 0 {
		lo = DefaultReconnectionDelay
	}
	if hi <= 0 {
		hi = DefaultReconnectionDelayMax
	}
	if factor <= 0 || math.IsNaN(factor) {
		factor = DefaultBackoffFactor
	}
	ms := float64(lo) * math.Pow(factor, float64(attempt))
	if j := b.Jitter; j > 0 && j <= 1 && b.Random != nil {
		r := b.Random()
		deviation := math.Floor(r * j * ms)
		if int64(math.Floor(r*10))&1 == 0 {
			ms -= deviation
		} else {
			ms += deviation
		}
	}
	if math.IsNaN(ms) || ms > float64(hi) {
		return hi
	}
	if ms < 0 {
		return 0
	}
	return int64(ms)
}

// Next returns the delay of the next attempt and counts it (backo2's
// duration()).
func (b *Backoff) Next() int64 {
	d := b.Duration(b.attempts)
	b.attempts++
	return d
}

// Attempts returns how many delays Next has given since the last Reset.
func (b *Backoff) Attempts() int { return b.attempts }

// Reset starts the attempts over.
func (b *Backoff) Reset() { b.attempts = 0 }

// Reconnection is socket.io-client's Manager reconnection policy, as a
// sans-IO timer: the host reports how sessions end and attempts fail, and
// opens a new Engine.IO session when Due says so. The Client is carried
// over: its active namespaces connect again on the new session.
//
//	session closed     → Closed(now, reason): first attempt scheduled (the backoff starts over)
//	open failed        → Failed(now): next attempt scheduled, or Exhausted ("reconnect_failed")
//	at NextDeadline    → Due(now): open a new session now; the attempt number is for "reconnect_attempt"
//	session opened     → Opened(): the attempts it took (> 0: "reconnect")
type Reconnection struct {
	Backoff Backoff
	// Attempts bounds the attempts in a row (reconnectionAttempts); 0
	// means unlimited, the default (Infinity).
	Attempts int
	// Disabled turns reconnection off (reconnection: false).
	Disabled bool

	at        int64
	exhausted bool
}

// NewReconnection returns the Manager's default policy: unlimited attempts
// with NewBackoff's delays.
func NewReconnection(random func() float64) *Reconnection {
	return &Reconnection{Backoff: NewBackoff(random)}
}

// ReconnectAfter reports whether a session that closed with reason is
// worth reconnecting, as the Manager decides: not after a forced close
// (the application closed it, or its last namespace left:
// CEffCloseEngine "forced close"), nor for the namespace-level reasons "io
// server disconnect" and "io client disconnect".
func ReconnectAfter(reason string) bool {
	switch reason {
	case eio.ReasonForcedClose, ReasonIOServerDisconnect, ReasonIOClientDisconnect:
		return false
	}
	return true
}

// Closed reports that an open session ended with reason. Unless
// reconnection is disabled or the reason rules it out (ReconnectAfter),
// the backoff starts over and the first attempt is scheduled: its
// deadline is returned.
func (r *Reconnection) Closed(now int64, reason string) (int64, bool) {
	r.Backoff.Reset()
	if r.Disabled || !ReconnectAfter(reason) {
		r.at = 0
		return 0, false
	}
	return r.schedule(now)
}

// Failed reports that opening a session failed (the first one, or an
// attempt): the next attempt is scheduled and its deadline returned, or,
// once Attempts attempts have failed in a row, reconnection gives up:
// false, and Exhausted reports it ("reconnect_failed").
func (r *Reconnection) Failed(now int64) (int64, bool) {
	if r.Disabled {
		return 0, false
	}
	return r.schedule(now)
}

func (r *Reconnection) schedule(now int64) (int64, bool) {
	r.exhausted = false
	if r.Attempts > 0 && r.Backoff.Attempts() >= r.Attempts {
		r.Backoff.Reset()
		r.at, r.exhausted = 0, true
		return 0, false
	}
	r.at = now + r.Backoff.Next()
	if r.at == 0 {
		r.at = 1
	}
	return r.at, true
}

// Exhausted reports whether the last Failed gave up.
func (r *Reconnection) Exhausted() bool { return r.exhausted }

// NextDeadline returns when the scheduled attempt is due.
func (r *Reconnection) NextDeadline() (int64, bool) { return r.at, r.at != 0 }

// Due reports whether the scheduled attempt is due at now: the host then
// opens a new session. The attempt's number (from 1) is what the Manager
// reports with "reconnect_attempt".
func (r *Reconnection) Due(now int64) (int, bool) {
	if r.at == 0 || now < r.at {
		return 0, false
	}
	r.at = 0
	return r.Backoff.Attempts(), true
}

// Opened reports that a session opened: it returns how many attempts it
// took (0 for a first connection; otherwise the Manager emits "reconnect"
// with it) and starts the backoff over.
func (r *Reconnection) Opened() int {
	n := r.Backoff.Attempts()
	r.Backoff.Reset()
	r.at, r.exhausted = 0, false
	return n
}

// Stop cancels the scheduled attempt (the Manager's skipReconnect).
func (r *Reconnection) Stop() {
	r.at = 0
	r.Backoff.Reset()
}

// Scheduled reports whether an attempt is scheduled.
func (r *Reconnection) Scheduled() bool { return r.at != 0 }
