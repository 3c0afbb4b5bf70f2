package abi

import (
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// How a client reacts to its engine's session events and to its Socket.IO
// layer's effects, and the contexts of the failures it reports.

// onEngineEvent handles a session event of engine e; those of a session the
// client no longer follows concern it no more.
func (c *clientConn) onEngineEvent(e *engine, ef *eio.ClientEffect) {
	if e.retired || e != c.eng {
		if ef.Kind == eio.CEffClose && c.old == e {
			c.old = nil
		}
		return
	}
	switch ef.Kind {
	case eio.CEffOpen:
		e.opened = true
		c.lastErr = nil
		if n := c.rec.Opened(); n > 0 {
			c.effect(eio.Effect{Kind: CEffReconnect, Status: n})
		}
		c.effect(eio.Effect{Kind: CEffEngineOpen, Text: ef.Text, Desc: e.ec.SID()})
		if c.askAuth() {
			return
		}
		c.sio.EngineOpen(c.now, e.ec.Protocol(), e.ec.SID())
		c.applySio()
	case eio.CEffMessage:
		c.sio.Message(c.now, ef.Binary, ef.Data)
		c.applySio()
	case eio.CEffUpgrade:
		c.effect(eio.Effect{Kind: CEffUpgrade, Text: ef.Text})
	case eio.CEffUpgradeError:
		c.effect(eio.Effect{Kind: CEffUpgradeError, Text: shortMessage(ef.Err), Desc: ef.Err.Error()})
	case eio.CEffError:
		c.lastErr = ef.Err
	case eio.CEffClose:
		c.eng = nil
		if e.opened {
			out := eio.Effect{Kind: CEffEngineClose, Text: ef.Text, Desc: ef.Desc}
			if c.lastErr != nil {
				out.Data = errorContext(c.lastErr)
			}
			c.effect(out)
			c.sio.EngineClose(c.now, ef.Text, ef.Desc)
			c.applySio()
			if c.anyActive() {
				c.rec.Closed(c.now, ef.Text)
			}
			c.lastErr = nil
			return
		}
		// The session never opened: every namespace waiting for it hears
		// why, and the next attempt is scheduled.
		msg, desc := "", ef.Text
		if c.lastErr != nil {
			msg, desc = shortMessage(c.lastErr), c.lastErr.Error()
		} else {
			msg = ef.Text
		}
		fail := eio.Effect{Kind: CEffEngineError, Text: msg, Desc: desc}
		if c.lastErr != nil {
			fail.Data = errorContext(c.lastErr)
		}
		c.effect(fail)
		if c.rec.Backoff.Attempts() > 0 {
			c.effect(eio.Effect{Kind: CEffReconnectError, Text: msg, Desc: desc})
		}
		c.sio.EngineError(c.now, msg)
		c.applySio()
		c.lastErr = nil
		if _, ok := c.rec.Failed(c.now); !ok && c.rec.Exhausted() {
			c.effect(eio.Effect{Kind: CEffReconnectFailed})
		}
	}
}

// shortMessage is the message engine.io-client would give the failure.
func shortMessage(e *eio.ClientError) string {
	switch {
	case e == nil:
		return "transport error"
	case e.Kind == eio.ClientErrTimeout:
		return "timeout"
	case e.Kind == eio.ClientErrProbe:
		return "probe error"
	case e.Transport == "websocket":
		return "websocket error"
	case e.Op == "post":
		return "xhr post error"
	}
	return "xhr poll error"
}

// errorContext is the JSON context of an Engine.IO failure: the fields of
// its ClientError.
func errorContext(e *eio.ClientError) []byte {
	b := []byte(`{"kind":`)
	b = eio.AppendJSONString(b, e.Kind.String())
	b = eio.AppendJSONString(append(b, `,"op":`...), e.Op)
	b = eio.AppendJSONString(append(b, `,"transport":`...), e.Transport)
	b = appendJSONInt(append(b, `,"status":`...), int64(e.Status))
	b = appendJSONInt(append(b, `,"code":`...), int64(e.Code))
	b = eio.AppendJSONString(append(b, `,"message":`...), e.Message)
	b = eio.AppendJSONString(append(b, `,"contentType":`...), e.ContentType)
	b = eio.AppendJSONString(append(b, `,"body":`...), e.Body)
	b = appendJSONInt(append(b, `,"serverProtocol":`...), int64(e.ServerProtocol))
	b = eio.AppendJSONString(append(b, `,"hint":`...), e.Hint)
	return append(b, '}')
}

// sioErrorContext is the JSON context of a Socket.IO protocol failure: the
// fields of its sio.ClientError.
func sioErrorContext(e *sio.ClientError) []byte {
	b := []byte(`{"kind":`)
	b = eio.AppendJSONString(b, e.Kind.String())
	b = eio.AppendJSONString(append(b, `,"nsp":`...), e.Nsp)
	b = eio.AppendJSONString(append(b, `,"message":`...), e.Message)
	b = eio.AppendJSONString(append(b, `,"packet":`...), e.Packet)
	b = eio.AppendJSONString(append(b, `,"hint":`...), e.Hint)
	return append(b, '}')
}

func appendJSONInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// applySio carries out the Socket.IO layer's effects: sends and closes go
// to the engine, the rest to the host.
func (c *clientConn) applySio() {
	refused := false
	defer func() {
		if refused {
			c.idle()
		}
	}()
	for _, e := range c.sio.Effects() {
		switch e.Kind {
		case sio.CEffSend:
			if c.eng != nil {
				c.eng.ec.Send(c.now, e.Binary, e.Data)
				c.drain(c.eng)
			}
		case sio.CEffCloseEngine:
			c.retire()
			if e.Text == eio.ReasonParseError {
				c.rec.Closed(c.now, e.Text)
			} else {
				c.rec.Stop()
			}
		case sio.CEffConnected:
			c.effect(eio.Effect{Kind: CEffConnected, Nsp: e.Nsp, Text: e.Text, Desc: e.PID, Binary: e.Recovered})
		case sio.CEffConnectError:
			out := eio.Effect{Kind: CEffConnectError, Nsp: e.Nsp, Text: e.Text, Data: e.Data}
			switch {
			case c.lastErr != nil:
				out.Status, out.Desc, out.Data = ConnectErrTransport, c.lastErr.Error(), errorContext(c.lastErr)
			case e.Err != nil:
				out.Status, out.Desc, out.Data = ConnectErrProtocol, e.Err.Error(), sioErrorContext(e.Err)
			}
			refused = refused || out.Status != ConnectErrTransport
			c.effect(out)
		case sio.CEffEvent:
			c.effect(eio.Effect{Kind: CEffEvent, Nsp: e.Nsp, Text: e.Name, Data: e.Data, ID: e.ID, Attachments: e.Attachments})
		case sio.CEffAck:
			c.effect(eio.Effect{Kind: CEffAck, Nsp: e.Nsp, ID: e.ID, Data: e.Data, Attachments: e.Attachments})
		case sio.CEffAckFailed:
			c.effect(eio.Effect{Kind: CEffAckFailed, Nsp: e.Nsp, ID: e.ID, Text: e.Text})
		case sio.CEffDisconnect:
			c.effect(eio.Effect{Kind: CEffDisconnect, Nsp: e.Nsp, Text: e.Text, Desc: e.Desc})
		case sio.CEffError:
			c.errorEffect(e.Nsp, e.Err.Error())
		}
	}
}
