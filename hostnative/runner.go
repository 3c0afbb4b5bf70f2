package hostnative

import (
	"sync"
	"time"
)

// runner runs the mailboxes' drains on goroutines that wait a moment for
// more work once done, so a connection that keeps getting events reuses
// one (its stack already grown) instead of starting a goroutine for each
// burst. An idle worker ends after runnerIdle: nothing lingers.
type runner struct {
	mu    sync.Mutex
	idle  []chan func() // parked workers, most recent last
	spawn bool          // no parking: one goroutine per run (benchmarks)
}

const (
	runnerIdle    = 50 * time.Millisecond
	runnerMaxIdle = 64
)

// run runs fn on a worker.
func (r *runner) run(fn func()) {
	r.mu.Lock()
	if n := len(r.idle); n > 0 {
		ch := r.idle[n-1]
		r.idle[n-1] = nil
		r.idle = r.idle[:n-1]
		r.mu.Unlock()
		ch <- fn
		return
	}
	spawn := r.spawn
	r.mu.Unlock()
	if spawn {
		go fn()
		return
	}
	go r.work(fn)
}

func (r *runner) work(fn func()) {
	ch := make(chan func(), 1)
	var t *time.Timer
	for {
		fn()
		r.mu.Lock()
		if len(r.idle) >= runnerMaxIdle {
			r.mu.Unlock()
			return
		}
		r.idle = append(r.idle, ch)
		r.mu.Unlock()
		if t == nil {
			t = time.NewTimer(runnerIdle)
		} else {
			t.Reset(runnerIdle)
		}
		select {
		case fn = <-ch:
			t.Stop()
		case <-t.C:
			if !r.unpark(ch) {
				fn = <-ch // taken just now: its work is on the way
				continue
			}
			return
		}
	}
}

// unpark takes ch off the idle list; false when run took it first.
func (r *runner) unpark(ch chan func()) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, c := range r.idle {
		if c == ch {
			r.idle = append(r.idle[:i], r.idle[i+1:]...)
			return true
		}
	}
	return false
}
