package eio

import (
	"testing"
)

// checkClientEffects checks the invariants of one batch of effects: a close
// is the last effect and comes once; after it the Client is closed.
func checkClientEffects(t *testing.T, c *Client, effects []ClientEffect, closed *bool) {
	for i, e := range effects {
		if *closed {
			t.Fatalf("effect %v after the close", e.Kind)
		}
		switch e.Kind {
		case CEffClose:
			if i != len(effects)-1 {
				t.Fatalf("close is not the last effect: %v", effectKinds(effects))
			}
			*closed = true
		case CEffError, CEffUpgradeError:
			if e.Err == nil || e.Err.Error() == "" {
				t.Fatal("an error effect without an error")
			}
		case CEffOpen:
			if e.Handshake == nil || e.Handshake.SID == "" {
				t.Fatal("open without a handshake")
			}
		case CEffRequest, CEffDial, CEffWrite, CEffCloseConn:
			if e.Conn == 0 {
				t.Fatalf("%v on conn 0", e.Kind)
			}
		}
	}
	if *closed != c.Closed() {
		t.Fatalf("closed effect %v, Closed() %v", *closed, c.Closed())
	}
}

func FuzzClientPolling(f *testing.F) {
	f.Add(byte(4), []byte(v4Open), []byte("4hello\x1ebAQID\x1e2\x1e6"), false, 200)
	f.Add(byte(4), []byte(v4Open), []byte("1"), false, 200)
	f.Add(byte(3), []byte(`97:0{"sid":"s1","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}2:40`), []byte("6:b4AQID2:3"), false, 200)
	f.Add(byte(3), []byte(`97:0{"sid":"s1","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000}`), []byte("\x00\x05\xff451-[\x01\x04\xff\x04\x01\x02\x03"), true, 200)
	f.Add(byte(4), []byte(`{"code":1,"message":"Session ID unknown"}`), []byte(nil), false, 400)
	f.Add(byte(4), []byte(`96:0{"sid":"x"}`), []byte(nil), false, 200)
	f.Fuzz(func(t *testing.T, proto byte, handshake, poll []byte, binary bool, status int) {
		c := NewClient(ClientConfig{Protocol: 3 + int(proto&1), Upgrade: true, B64: proto&2 != 0, ConnectTimeout: 1000})
		closed := false
		c.Open(0)
		effects := c.Effects()
		checkClientEffects(t, c, effects, &closed)
		get := effects[0].Conn
		ct := "text/plain; charset=UTF-8"
		if binary {
			ct = "application/octet-stream"
		}
		c.Response(1, get, 200, ct, handshake)
		effects = c.Effects()
		checkClientEffects(t, c, effects, &closed)
		for _, e := range effects {
			if e.Kind == CEffRequest && e.Method == "GET" {
				get = e.Conn
			}
		}
		c.Response(2, get, status, ct, poll)
		checkClientEffects(t, c, c.Effects(), &closed)
		c.Send(3, true, []byte{1, 2, 3})
		checkClientEffects(t, c, c.Effects(), &closed)
		for now := int64(4); now < 5000; now += 250 {
			c.Tick(now)
			checkClientEffects(t, c, c.Effects(), &closed)
		}
	})
}

func FuzzClientWebSocket(f *testing.F) {
	f.Add(byte(4), []byte(`0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200}`), false, []byte("2"), false)
	f.Add(byte(3), []byte(`0{"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200}`), false, []byte("\x04\x01"), true)
	f.Add(byte(4), []byte("hello"), false, []byte(nil), false)
	f.Add(byte(4), []byte{1, 2}, true, []byte(nil), false)
	f.Fuzz(func(t *testing.T, proto byte, first []byte, firstBinary bool, second []byte, secondBinary bool) {
		c := NewClient(ClientConfig{Protocol: 3 + int(proto&1), Transports: TransportWebSocket, B64: proto&2 != 0})
		closed := false
		c.Open(0)
		conn := c.Effects()[0].Conn
		c.WSOpened(1, conn)
		c.Frame(2, conn, firstBinary, first)
		checkClientEffects(t, c, c.Effects(), &closed)
		c.Frame(3, conn, secondBinary, second)
		checkClientEffects(t, c, c.Effects(), &closed)
		c.Send(4, false, []byte("x"))
		checkClientEffects(t, c, c.Effects(), &closed)
		c.Close(5)
		checkClientEffects(t, c, c.Effects(), &closed)
		if !closed {
			t.Fatal("Close over an open WebSocket closes at once")
		}
	})
}
