package hostnative

import (
	"bytes"
	"sync"
)

// A broadcast sends the same message to many WebSocket connections; with
// permessage-deflate, each would compress it on its own, although the
// server keeps no context, so the result is the same for all (at one
// level). The first connection to write it compresses it, the others wait
// for that and copy the frame.

// sharedMark, in the opcode byte of a message queued for compression,
// marks one that other connections are sent too. It is a bit no opcode
// uses, and the frame made of the message does not carry it.
const sharedMark = 0x10

// maxSharedDeflate bounds the messages whose compression is shared (and
// kept a while): a larger one is compressed by each connection. The
// cache holds at most 8 of them, so it keeps at most about 4 MB alive.
const maxSharedDeflate = 256 << 10

// sharedFrames holds the last few shared compressions.
var sharedFrames struct {
	mu      sync.Mutex
	entries [8]*sharedFrame
	next    int
}

// sharedFrame is one message compressed for all: frame is set before ready
// is closed.
type sharedFrame struct {
	level   int
	op      byte
	payload []byte
	ready   chan struct{} // closed once frame is set
	frame   []byte
}

// sharedDeflate returns the frame of payload sent as op, compressed at
// level (or as is when compressing does not make it smaller), compressing
// it only if no other connection did or does.
func sharedDeflate(level int, op byte, payload []byte) *[]byte {
	if len(payload) > maxSharedDeflate {
		return deflateFrame(level, op, payload)
	}
	return shareFrame(level, op, payload, deflateFrame)
}

// shareFrame returns build's frame for (level, op, payload), calling build
// only if no other caller did or does for the same message.
func shareFrame(level int, op byte, payload []byte, build func(level int, op byte, payload []byte) *[]byte) *[]byte {
	sf, owner := lookupShared(level, op, payload)
	if owner {
		p := build(level, op, payload)
		sf.frame = append([]byte(nil), *p...)
		close(sf.ready)
		return p
	}
	<-sf.ready
	p := getFrame(len(sf.frame))
	*p = append(*p, sf.frame...)
	return p
}

// lookupShared finds the entry of payload, or makes one that the caller
// owns: it then compresses and closes ready.
func lookupShared(level int, op byte, payload []byte) (*sharedFrame, bool) {
	s := &sharedFrames
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.entries {
		if e != nil && e.level == level && e.op == op && bytes.Equal(e.payload, payload) {
			return e, false
		}
	}
	e := &sharedFrame{level: level, op: op, payload: append([]byte(nil), payload...), ready: make(chan struct{})}
	s.entries[s.next] = e
	s.next = (s.next + 1) % len(s.entries)
	return e, true
}
