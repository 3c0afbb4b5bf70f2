package abi

import (
	"strings"
	"testing"

	"github.com/siohost/siohost/core/eio"
	"github.com/stretchr/testify/require"
)

// clientHarness runs client input records through a ClientCore and
// decodes what comes out, as the JavaScript host does.
type clientHarness struct {
	t   *testing.T
	cc  *ClientCore
	enc ClientEncoder
	out Output
	now int64
	buf []byte
}

func newClientHarness(t *testing.T) *clientHarness {
	n := byte(0)
	return &clientHarness{t: t, now: 1000, cc: NewClientCore(func(b []byte) {
		for i := range b {
			n++
			b[i] = n
		}
	})}
}

// run processes what the encoder holds and returns the effects.
func (h *clientHarness) run() []eio.Effect {
	h.t.Helper()
	var err error
	h.buf, err = h.cc.Process(h.buf, h.now, h.enc.Bytes(), h.enc.Len())
	require.NoError(h.t, err)
	h.enc.Reset()
	require.NoError(h.t, h.out.Decode(h.buf))
	return h.out.Effects
}

func find(effs []eio.Effect, kind eio.EffectKind) *eio.Effect {
	for i := range effs {
		if effs[i].Kind == kind {
			return &effs[i]
		}
	}
	return nil
}

// must returns a copy of the first effect of kind: the decoded list is
// reused by the next run.
func must(t *testing.T, effs []eio.Effect, kind eio.EffectKind) eio.Effect {
	t.Helper()
	e := find(effs, kind)
	require.NotNil(t, e, "no effect of kind %d in %+v", kind, effs)
	return *e
}

const testHandshake = `0{"sid":"S","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`

func TestClientCodecRoundTrip(t *testing.T) {
	var enc ClientEncoder
	enc.Create(ClientOptions{Transports: 3, Timeout: 5, Attempts: 2, Delay: 10, DelayMax: 20, JitterMillionths: 5, JitterGiven: true, NoUpgrade: true, Parser: ParserMsgpack})
	enc.Response(1, 2, 200, "text/plain", []byte("x"))
	enc.Failed(1, 3, "boom")
	enc.WSMessage(1, 4, true, nil)
	enc.Emit(1, "/a", "ev", []byte("[1]"), [][]byte{{1}}, EmitAck, 50)
	enc.Ack(1, "/", 7, []byte("[]"), nil)
	var ins ClientInputs
	require.NoError(t, ins.Decode(enc.Bytes(), enc.Len()))
	require.Len(t, ins.List, 6)
	require.Equal(t, ClientOptions{Transports: 3, Timeout: 5, Attempts: 2, Delay: 10, DelayMax: 20, JitterMillionths: 5, JitterGiven: true, NoUpgrade: true, Parser: ParserMsgpack}, ins.List[0].Options)
	require.Equal(t, uint32(200), ins.List[1].Num)
	require.Equal(t, "boom", string(ins.List[2].Text))
	require.True(t, ins.List[3].Binary())
	require.Nil(t, ins.List[3].Data)
	require.Equal(t, [][]byte{{1}}, ins.List[4].Attachments)
	require.Equal(t, uint32(50), ins.List[4].Num)
	require.Equal(t, uint32(7), ins.List[5].Num)

	// A truncated batch decodes to nothing.
	b := enc.Bytes()
	require.Error(t, ins.Decode(b[:len(b)-1], enc.Len()))
	bad := append([]byte(nil), b...)
	bad[36+1] = 0x80 // an unknown flag of response (create is 36 bytes)
	require.ErrorIs(t, ins.Decode(bad, enc.Len()), ErrBadInput)

	// An unknown parser, and msgpack with Engine.IO 3, are refused.
	for _, o := range []ClientOptions{{Parser: 2}, {Parser: ParserMsgpack, Protocol3: true}} {
		var e ClientEncoder
		e.Create(o)
		require.ErrorIs(t, ins.Decode(e.Bytes(), e.Len()), ErrBadInput)
	}
}

// TestClientSession walks one client through polling, the upgrade, emits
// and acks both ways, binary, and the server's disconnect.
func TestClientSession(t *testing.T) {
	h := newClientHarness(t)
	h.enc.Create(ClientOptions{})
	h.run()
	c := uint32(h.out.Results[0].Value)
	require.Equal(t, uint32(1), c)

	h.enc.Connect(c, "/", []byte(`{"token":"t"}`), 0)
	get := must(t, h.run(), CEffRequest)
	require.Equal(t, "GET", get.Text)
	require.True(t, strings.HasPrefix(get.Desc, "EIO=4&transport=polling&t="), get.Desc)

	h.enc.Response(c, uint32(get.Conn), 200, "text/plain; charset=UTF-8", []byte(testHandshake))
	effs := h.run()
	open := must(t, effs, CEffEngineOpen)
	require.Equal(t, "polling", open.Text)
	require.Equal(t, "S", open.Desc)
	var post, poll, dial eio.Effect
	for _, e := range effs {
		switch {
		case e.Kind == CEffRequest && e.Text == "POST":
			post = e
		case e.Kind == CEffRequest:
			poll = e
		case e.Kind == CEffWSOpen:
			dial = e
		}
	}
	require.Equal(t, `40{"token":"t"}`, string(post.Data))
	require.Equal(t, "GET", poll.Text)
	require.Equal(t, "EIO=4&transport=websocket&sid=S", dial.Desc)
	require.True(t, h.out.HasDeadline)

	h.enc.Response(c, uint32(post.Conn), 200, "text/html", []byte("ok"))
	h.enc.Response(c, uint32(poll.Conn), 200, "text/plain", []byte(`40{"sid":"X"}`))
	effs = h.run()
	conn := must(t, effs, CEffConnected)
	require.Equal(t, "X", conn.Text)
	poll = must(t, effs, CEffRequest)

	ws := uint32(dial.Conn)
	h.enc.WSOpened(c, ws)
	send := must(t, h.run(), CEffWSSend)
	require.Equal(t, "2probe", string(send.Prefix)+string(send.Data))
	h.enc.WSMessage(c, ws, false, []byte("3probe"))
	h.enc.Response(c, uint32(poll.Conn), 200, "text/plain", []byte("6"))
	effs = h.run()
	require.Equal(t, "websocket", must(t, effs, CEffUpgrade).Text)
	require.Equal(t, "5", string(must(t, effs, CEffWSSend).Prefix))

	// Client → server ack, with an attachment.
	h.enc.Emit(c, "/", "hello", []byte(`[1,{"_placeholder":true,"num":0}]`), [][]byte{{9, 8}}, EmitAck, 0)
	effs = h.run()
	require.Equal(t, int64(0), h.out.Results[0].Value)
	require.Len(t, effs, 2, "%+v", effs)
	require.Equal(t, `451-0["hello",1,{"_placeholder":true,"num":0}]`, string(effs[0].Prefix)+string(effs[0].Data))
	require.True(t, effs[1].Binary)
	require.Equal(t, []byte{9, 8}, effs[1].Data)
	h.enc.WSMessage(c, ws, false, []byte(`430[2]`))
	ack := must(t, h.run(), CEffAck)
	require.Equal(t, int64(0), ack.ID)
	require.Equal(t, `[2]`, string(ack.Data))

	// Server → client event with an ack id and a binary attachment.
	h.enc.WSMessage(c, ws, false, []byte(`451-7["srv",{"_placeholder":true,"num":0}]`))
	h.enc.WSMessage(c, ws, true, []byte{1, 2, 3})
	ev := must(t, h.run(), CEffEvent)
	require.Equal(t, "srv", ev.Text)
	require.Equal(t, int64(7), ev.ID)
	require.Equal(t, [][]byte{{1, 2, 3}}, ev.Attachments)
	h.enc.Ack(c, "/", 7, []byte(`["ok"]`), nil)
	require.Equal(t, `437["ok"]`, string(must(t, h.run(), CEffWSSend).Prefix)+string(must(t, h.out.Effects, CEffWSSend).Data))

	// An ack that never comes fails at its timeout.
	h.enc.Emit(c, "/", "slow", nil, nil, EmitAck, 500)
	h.run()
	require.Equal(t, int64(1), h.out.Results[0].Value)
	h.now += 500
	h.enc.Tick()
	failed := must(t, h.run(), CEffAckFailed)
	require.Equal(t, int64(1), failed.ID)
	require.Equal(t, "operation has timed out", failed.Text)

	// Reserved names are refused with an error effect.
	h.enc.Emit(c, "/", "connect", nil, nil, 0, 0)
	must(t, h.run(), CEffError)
	require.Equal(t, int64(EmitRefused), h.out.Results[0].Value)

	// The server disconnects the socket: no reconnection.
	h.enc.WSMessage(c, ws, false, []byte(`41`))
	effs = h.run()
	require.Equal(t, "io server disconnect", must(t, effs, CEffDisconnect).Text)
	require.Equal(t, uint64(ws), must(t, effs, CEffConnClose).Conn)
	require.False(t, h.out.HasDeadline)

	h.enc.Destroy(c)
	h.run()
	require.Zero(t, h.cc.Len())
}

// TestClientReconnects: a lost session reconnects with the backoff, and
// a failed attempt reports reconnect_error and connect_error.
func TestClientReconnects(t *testing.T) {
	h := newClientHarness(t)
	h.enc.Create(ClientOptions{Transports: ClientPolling, JitterGiven: true})
	h.run()
	c := uint32(h.out.Results[0].Value)
	h.enc.Connect(c, "/", nil, 0)
	get := must(t, h.run(), CEffRequest)
	h.enc.Response(c, uint32(get.Conn), 200, "text/plain", []byte(testHandshake))
	effs := h.run()
	require.Nil(t, find(effs, CEffWSOpen))
	var post, poll eio.Effect
	for _, e := range effs {
		if e.Kind == CEffRequest && e.Text == "POST" {
			post = e
		} else if e.Kind == CEffRequest {
			poll = e
		}
	}
	require.Equal(t, `40`, string(post.Data))
	h.enc.Response(c, uint32(post.Conn), 200, "text/html", []byte("ok"))
	h.enc.Response(c, uint32(poll.Conn), 200, "text/plain", []byte(`40{"sid":"X"}`))
	poll = must(t, h.run(), CEffRequest)

	h.enc.Failed(c, uint32(poll.Conn), "connection refused")
	effs = h.run()
	d := must(t, effs, CEffDisconnect)
	require.Equal(t, "transport error", d.Text)
	require.Equal(t, "transport error", must(t, effs, CEffEngineClose).Text)
	require.True(t, h.out.HasDeadline)
	require.Equal(t, h.now+1000, h.out.Deadline, "no jitter: the first delay is reconnectionDelay")

	h.now = h.out.Deadline
	h.enc.Tick()
	effs = h.run()
	require.Equal(t, 1, must(t, effs, CEffReconnectAttempt).Status)
	get = must(t, effs, CEffRequest)
	require.Greater(t, get.Conn, poll.Conn, "connections are never renumbered")

	h.enc.Failed(c, uint32(get.Conn), "connection refused")
	effs = h.run()
	ce := must(t, effs, CEffConnectError)
	require.Equal(t, "xhr poll error", ce.Text)
	require.Equal(t, ConnectErrTransport, ce.Status)
	require.Contains(t, ce.Desc, "connection refused")
	require.Contains(t, string(ce.Data), `"op":"handshake"`)
	must(t, effs, CEffReconnectError)
	require.Equal(t, h.now+2000, h.out.Deadline)

	h.now = h.out.Deadline
	h.enc.Tick()
	get = must(t, h.run(), CEffRequest)
	h.enc.Response(c, uint32(get.Conn), 200, "text/plain", []byte(testHandshake))
	effs = h.run()
	require.Equal(t, 2, must(t, effs, CEffReconnect).Status)

	// A server-side refusal is a connect error from the server with data.
	for _, e := range effs {
		if e.Kind == CEffRequest && e.Text == "GET" {
			h.enc.Response(c, uint32(e.Conn), 200, "text/plain", []byte(`44{"message":"nope","data":{"a":1}}`))
		}
	}
	ce = must(t, h.run(), CEffConnectError)
	require.Equal(t, ConnectErrServer, ce.Status)
	require.Equal(t, "nope", ce.Text)
	require.Equal(t, `{"a":1}`, string(ce.Data))
}

// FuzzClientProcess: whatever the host writes, the client core answers
// with a status or an output list that decodes, and never panics.
func FuzzClientProcess(f *testing.F) {
	var enc ClientEncoder
	enc.Create(ClientOptions{})
	enc.Connect(1, "/", []byte(`{"a":1}`), 0)
	enc.Response(1, 1, 200, "text/plain", []byte(testHandshake))
	enc.Response(1, 3, 200, "text/plain", []byte(`40{"sid":"X"}`+"\x1e"+`42["e",1]`))
	enc.WSOpened(1, 2)
	enc.WSMessage(1, 2, false, []byte("3probe"))
	enc.Emit(1, "/", "ev", []byte(`[1]`), nil, EmitAck, 10)
	enc.Tick()
	f.Add(enc.Bytes(), uint8(enc.Len()), int64(5))
	// The msgpack parser over WebSocket (client ABI version 3).
	enc = ClientEncoder{}
	enc.Create(ClientOptions{Transports: ClientWebSocket, Parser: ParserMsgpack})
	enc.Connect(1, "/", []byte(`{"a":[1,2.5,"x"]}`), 0)
	enc.WSOpened(1, 1)
	enc.WSMessage(1, 1, false, []byte(testHandshake))
	enc.WSMessage(1, 1, true, []byte("\x83\xa4type\x00\xa4data\x81\xa3sid\xa1X\xa3nsp\xa1/"))
	enc.WSMessage(1, 1, true, []byte("\x84\xa4type\x02\xa4data\x92\xa1e\xc4\x01\x07\xa2id\x03\xa3nsp\xa1/"))
	enc.Ack(1, "/", 3, []byte(`[{"_placeholder":true,"num":0}]`), [][]byte{{9}})
	enc.Emit(1, "/", "ev", []byte(`[1]`), nil, EmitAck, 10)
	enc.WSMessage(1, 1, false, []byte(`42["text"]`))
	f.Add(enc.Bytes(), uint8(enc.Len()), int64(5))
	f.Fuzz(func(t *testing.T, in []byte, n uint8, step int64) {
		cc := NewClientCore(func(b []byte) {
			for i := range b {
				b[i] = byte(i)
			}
		})
		var out []byte
		var dec Output
		now := int64(1)
		for range 3 {
			var err error
			out, err = cc.Process(out, now, in, int(n))
			if err != nil {
				return
			}
			if err := dec.Decode(out); err != nil {
				t.Fatalf("undecodable output: %v", err)
			}
			now += step & 0xFFFFF
		}
	})
}
