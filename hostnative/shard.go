package hostnative

import (
	"net/http"
	"sync"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// A shard owns one core (an abi.Backend: native, or a WebAssembly instance)
// and serializes calls into it. Sessions are spread over several shards so
// that unrelated connections rarely contend; a session id's first character
// names its shard.
type shard struct {
	e       *Engine
	mu      sync.Mutex
	core    abi.Backend                  // a stubCore until a request needs one, and after Engine.Close
	cfg     abi.Config                   // to make it
	timer   deadlineTimer                // at the core's next deadline
	waiters map[uint64]chan pollResponse // parked polling GETs
	sockets map[uint64]*wsConn           // WebSockets by conn id
	conns   map[eio.Handle]*EngineConn   // sessions
}

type pollResponse struct {
	status     int
	content    eio.Content
	body       []byte
	noCompress bool // every packet of the body was sent with compress: false
}

// batch collects, while the shard is locked, what must happen once it is
// unlocked: socket flushes, handler events, and the answer for the request
// that made the call.
type batch struct {
	sh        *shard
	now       int64
	conn      uint64        // the calling request, if any
	req       *http.Request // its HTTP request
	request   eio.Request   // what the core is told of it
	self      outcome
	opened    []*EngineConn // sessions opened by the call, described once applied
	selfOpen  *EngineConn   // the one the calling request opened
	flush     []*wsConn
	evs       []event // run after unlocking: acks and connection errors
	idErr     error   // GenerateID's error, for the connection error
	broadcast bool    // the call sends one packet to several sessions
	starts    []*EngineConn
	queues    []*queue
}

// outcome is what the effects asked of the calling request.
type outcome struct {
	answered bool   // the core answered or took over the request
	sid      string // the session the request opened, if it did
	respond  bool
	resp     pollResponse
	readBody bool
	limit    int64
	ws       *wsConn
	reject   string
	rejected bool
	cerr     *ConnectionError
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

func newShard(e *Engine, cfg abi.Config) *shard {
	sh := &shard{
		e:       e,
		cfg:     cfg,
		core:    stubCore{},
		waiters: make(map[uint64]chan pollResponse),
		sockets: make(map[uint64]*wsConn),
		conns:   make(map[eio.Handle]*EngineConn),
	}
	sh.timer = newDeadlineTimer(sh.onTimer)
	return sh
}

// begin locks the shard for a call into the core on behalf of request conn
// (0 when none).
func (sh *shard) begin(conn uint64, r *http.Request) *batch {
	b := batchPool.Get().(*batch)
	b.sh, b.conn, b.req = sh, conn, r
	sh.mu.Lock()
	b.now = sh.e.now()
	return b
}

// end applies the core's effects, re-arms the timer, unlocks, and then does
// the I/O and runs the handlers. The caller reads b.self, then calls done.
func (sh *shard) end(b *batch) {
	sh.applyEffects(b)
	sh.release(b)
}

// applyEffects carries out, under the lock, what the core asked for.
func (sh *shard) applyEffects(b *batch) {
	effs, err := sh.core.Effects()
	if err != nil {
		sh.crash(b, err)
		return
	}
	for i := range effs {
		sh.apply(b, &effs[i])
	}
	if len(b.opened) > 0 {
		// Asked only now: a query is a call, and the effects above may
		// live in memory that a call reuses.
		for _, c := range b.opened {
			sid, protocol, transport := sh.core.Session(c.h)
			c.id, c.protocol = sid, protocol
			c.onWS.Store(transport == "websocket")
			if c == b.selfOpen {
				b.self.sid = sid
			}
		}
		if _, err := sh.core.Effects(); err != nil {
			sh.crash(b, err)
		}
	}
}

// release re-arms the timer, unlocks, then starts the queues that got
// events, runs acks, and writes. Events were queued under the lock, so those
// of one connection keep the order the core produced them in, whatever the
// goroutines that produced them.
func (sh *shard) release(b *batch) {
	sh.rearm(b.now)
	for _, wc := range b.flush {
		wc.listed = false
	}
	sh.mu.Unlock()
	for i, c := range b.starts {
		c.start(sh.e, b.queues[i])
	}
	for i := range b.evs {
		b.evs[i].dispatch(sh.e)
	}
	switch len(b.flush) {
	case 0:
	case 1:
		b.flush[0].flush()
	default:
		// Several sockets (a broadcast): one slow client must not hold up
		// the others, so each is written by its own short-lived goroutine.
		for _, wc := range b.flush {
			go wc.flush()
		}
	}
}

func (b *batch) done() {
	clear(b.flush)
	clear(b.evs)
	clear(b.starts)
	clear(b.queues)
	clear(b.opened)
	*b = batch{flush: b.flush[:0], evs: b.evs[:0], starts: b.starts[:0], queues: b.queues[:0], opened: b.opened[:0]}
	batchPool.Put(b)
}

// queueEvent adds an event to its connection's mailbox under the shard
// lock; the queue is started after unlocking.
func (b *batch) queueEvent(ev event) {
	ev.failAcksEarly()
	if ev.c.push(&ev.c.mailbox, ev) {
		b.starts = append(b.starts, ev.c)
		b.queues = append(b.queues, &ev.c.mailbox)
	}
}

func (sh *shard) apply(b *batch, eff *eio.Effect) {
	switch eff.Kind {
	case eio.EffRespond:
		resp := pollResponse{status: eff.Status, content: eff.Content, body: clone(eff.Data), noCompress: eff.NoCompress}
		if eff.Conn == b.conn {
			b.self.answered, b.self.respond, b.self.resp = true, true, resp
		} else if ch, ok := sh.waiters[eff.Conn]; ok {
			delete(sh.waiters, eff.Conn)
			ch <- resp
		}
	case eio.EffReadBody:
		b.self.answered, b.self.readBody, b.self.limit = true, true, int64(eff.Status)
	case eio.EffAccept:
		wc := &wsConn{id: eff.Conn, h: eff.Session, sh: sh}
		if o := sh.e.opts.PerMessageDeflate; o != nil && eff.Conn == b.conn && b.req != nil {
			// Negotiated now, before the first frame is queued.
			wc.pmd, wc.pmdAccept = acceptDeflate(o, b.req.Header)
		}
		sh.sockets[eff.Conn] = wc
		if c := sh.conns[eff.Session]; c != nil && !c.onWS.Load() {
			c.ws.Store(wc) // the session's, once it opens or upgrades on it
		}
		if eff.Conn == b.conn {
			b.self.answered, b.self.ws = true, wc
		}
	case eio.EffReject:
		b.self.answered, b.self.rejected, b.self.reject = true, true, eff.Text
	case eio.EffWrite:
		if wc := sh.sockets[eff.Conn]; wc != nil {
			wc.enqueue(eff.Binary, eff.NoCompress, b.broadcast, eff.Prefix, eff.Data)
			b.addFlush(wc)
		}
	case eio.EffCloseConn:
		if wc := sh.sockets[eff.Conn]; wc != nil {
			delete(sh.sockets, eff.Conn)
			wc.enqueueClose(eff.Status)
			b.addFlush(wc)
		}
	case eio.EffOpen:
		c := newEngineConn(sh, eff.Session, b.req)
		sh.conns[eff.Session] = c
		b.opened = append(b.opened, c)
		if w := sh.sockets[eff.Conn]; w != nil {
			c.ws.Store(w) // opened on a WebSocket
		}
		if eff.Conn == b.conn {
			b.selfOpen = c
		}
		b.queueEvent(event{kind: evOpen, c: c})
	case eio.EffMessage:
		if c := sh.conns[eff.Session]; c != nil {
			// Clipped, so a handler appending to its message cannot
			// overwrite the next one in the same payload.
			b.queueEvent(event{kind: evMessage, c: c, binary: eff.Binary, data: eff.Data[:len(eff.Data):len(eff.Data)]})
		}
	case eio.EffUpgrade:
		if c := sh.conns[eff.Session]; c != nil {
			if w := sh.sockets[eff.Conn]; w != nil {
				c.ws.Store(w)
			}
			c.onWS.Store(true)
			b.queueEvent(event{kind: evUpgrade, c: c})
		}
	case eio.EffClose:
		if c := sh.conns[eff.Session]; c != nil {
			delete(sh.conns, eff.Session)
			c.closed.Store(true)
			b.queueEvent(event{kind: evClose, c: c, reason: eff.Text, desc: eff.Desc})
		}
	case sio.EffConnect, sio.EffEvent, sio.EffAck, sio.EffDisconnect:
		if c := sh.conns[eff.Session]; c != nil {
			atts := eff.Attachments
			for i, a := range atts {
				atts[i] = a[:len(a):len(a)]
			}
			ev := event{kind: sioKinds[eff.Kind-sio.EffConnect], c: c, nsp: eff.Nsp,
				data: eff.Data[:len(eff.Data):len(eff.Data)], attachments: atts, id: eff.ID, reason: eff.Text, desc: eff.Desc}
			if ev.kind == evAck {
				// Straight to the emitter waiting for it, which may be a
				// handler of this very connection.
				b.evs = append(b.evs, ev)
			} else {
				b.queueEvent(ev)
			}
		}
	case eio.EffError:
		if sh.e.onConnError.Load() == nil {
			return
		}
		// Decoded after unlocking (see event.dispatch).
		ce := &ConnectionError{Request: b.req, Code: eff.Status, Message: eff.Text, Err: b.idErr}
		b.evs = append(b.evs, event{kind: evConnError, cerr: ce, data: clone(eff.Data)})
	}
}

// addFlush notes a socket to flush once unlocked; its flag (guarded by the
// shard lock) keeps it from being listed twice in a broadcast.
func (b *batch) addFlush(wc *wsConn) {
	if wc.listed {
		return
	}
	wc.listed = true
	b.flush = append(b.flush, wc)
}

// rearm points the shard's timer at the core's next deadline.
func (sh *shard) rearm(now int64) {
	d, ok := sh.core.NextDeadline()
	sh.timer.set(d, ok, now)
}

func (sh *shard) onTimer() {
	b := sh.begin(0, nil)
	sh.timer.fired()
	sh.core.Tick(b.now)
	sh.end(b)
	b.done()
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

var sioKinds = [...]eventKind{evConnect, evEvent, evAck, evDisconnect}
