package hostnative

import (
	"net"
	"sync"
	"time"
)

// frameQueue is the outbound side of a WebSocket, the server's and the
// client's alike: frames are queued in order under mu (by whoever holds the
// lock that orders them), written by one flusher at a time, and then,
// when asked, a close frame ends the writing.
//
// A queued buffer is a whole frame, whose first byte has FIN set (every
// frame queued is final), or else a message to compress: its opcode (FIN
// clear) then its payload, which the flusher makes into a frame with its
// finish function, outside any lock but its own.
type frameQueue struct {
	mu      sync.Mutex // guards the fields below
	nc      net.Conn   // nil until the connection exists
	out     []*[]byte  // frames waiting to be written
	closing bool       // a close frame is to be sent after out
	code    int        // its close code, 0 for none
	done    bool       // the close frame was sent or the conn failed
	writing bool       // frames taken from out are being written

	wmu sync.Mutex // one writer at a time
}

// push queues a pooled frame, or returns it to the pool when the
// connection is closing.
func (q *frameQueue) push(p *[]byte) {
	q.mu.Lock()
	if q.closing || q.done {
		q.mu.Unlock()
		putFrame(p)
		return
	}
	q.out = append(q.out, p)
	q.mu.Unlock()
}

// pushClose schedules a close frame with code after the queued frames.
func (q *frameQueue) pushClose(code int) {
	q.mu.Lock()
	if !q.closing {
		q.closing, q.code = true, code
	}
	q.mu.Unlock()
}

// busy reports whether frames wait or are being written: the reference's
// WebSocket transport is not "writable" then, and volatile packets are
// dropped.
func (q *frameQueue) busy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.out) > 0 || q.writing
}

// drain marks the queue done and releases its frames; it returns the
// connection, for the caller to close.
func (q *frameQueue) drain() net.Conn {
	q.done = true
	for _, f := range q.out {
		putFrame(f)
	}
	q.out = nil
	return q.nc
}

// finishFunc makes the frame of a message queued for compression: its
// opcode and payload (see frameQueue).
type finishFunc func(op byte, payload []byte) *[]byte

// pushMessage queues the payload of a message (prefix then data) that the
// flusher compresses when it writes it.
func (q *frameQueue) pushMessage(op byte, prefix, data []byte) {
	p := getFrame(1 + len(prefix) + len(data))
	*p = append(*p, op)
	*p = append(*p, prefix...)
	*p = append(*p, data...)
	q.push(p)
}

// flush writes every queued frame, each write within timeout, then calls
// writeClose if a close is due. It returns the first write error.
func (q *frameQueue) flush(timeout time.Duration, finish finishFunc, writeClose func(nc net.Conn, code int)) error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	for {
		q.mu.Lock()
		if q.nc == nil || q.done {
			q.mu.Unlock()
			return nil
		}
		frames := q.out
		q.out = nil
		closing := q.closing && len(frames) == 0
		if closing {
			q.done = true
		}
		nc, code := q.nc, q.code
		q.mu.Unlock()
		if closing {
			writeClose(nc, code)
			return nil
		}
		if len(frames) == 0 {
			return nil
		}
		q.mu.Lock()
		q.writing = true
		q.mu.Unlock()
		for i, f := range frames {
			if (*f)[0]&0x80 == 0 {
				frames[i] = finish((*f)[0], (*f)[1:])
				putFrame(f)
			}
		}
		err := writeFrames(nc, frames, timeout)
		q.mu.Lock()
		q.writing = false
		q.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// writeFrames writes pooled frames in one system call where it can, within
// timeout, and returns them to the pool.
func writeFrames(nc net.Conn, frames []*[]byte, timeout time.Duration) error {
	_ = nc.SetWriteDeadline(time.Now().Add(timeout))
	var err error
	if len(frames) == 1 {
		_, err = nc.Write(*frames[0])
	} else {
		bufs := make(net.Buffers, len(frames))
		for i, f := range frames {
			bufs[i] = *f
		}
		_, err = bufs.WriteTo(nc)
	}
	for _, f := range frames {
		putFrame(f)
	}
	return err
}
