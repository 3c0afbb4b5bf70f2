package hostnative

import "time"

// deadlineTimer calls its function at a core's next deadline
// (milliseconds on the host's clock). Each core has one, guarded by the
// lock that serializes the core's calls.
type deadlineTimer struct {
	t     *time.Timer
	armed int64 // the deadline it is set for, 0 when stopped
}

func newDeadlineTimer(fn func()) deadlineTimer {
	t := time.AfterFunc(time.Hour, fn)
	t.Stop()
	return deadlineTimer{t: t}
}

// set points the timer at deadline d, or stops it when there is none (ok
// false); now is the host's clock.
func (dt *deadlineTimer) set(d int64, ok bool, now int64) {
	if !ok {
		dt.stop()
		return
	}
	if d == dt.armed {
		return
	}
	dt.armed = d
	dt.t.Reset(time.Duration(max(d-now, 0)) * time.Millisecond)
}

// stop stops the timer.
func (dt *deadlineTimer) stop() {
	if dt.armed != 0 {
		dt.t.Stop()
		dt.armed = 0
	}
}

// fired records that the timer went off, so the next set arms it again.
func (dt *deadlineTimer) fired() { dt.armed = 0 }
