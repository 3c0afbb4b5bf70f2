package eio

import "testing"

func benchOpenWS(b *testing.B) (*Client, uint64) {
	c := NewClient(ClientConfig{Transports: TransportWebSocket})
	c.Open(0)
	conn := c.Effects()[0].Conn
	c.WSOpened(0, conn)
	c.Frame(0, conn, false, []byte(`0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`))
	c.Effects()
	return c, conn
}

// A text message received on the WebSocket: no allocation.
func BenchmarkClientFrameText(b *testing.B) {
	c, conn := benchOpenWS(b)
	frame := []byte(`442["message","hello world"]`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Frame(1, conn, false, frame)
		if len(c.Effects()) != 1 {
			b.Fatal("no message")
		}
	}
}

// A text message sent on the WebSocket: no allocation.
func BenchmarkClientSendWS(b *testing.B) {
	c, _ := benchOpenWS(b)
	msg := []byte(`2["message","hello world"]`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Send(1, false, msg)
		if len(c.Effects()) != 1 {
			b.Fatal("no write")
		}
	}
}

// A polling payload of 8 text messages, and the next GET it causes.
func BenchmarkClientPollPayload(b *testing.B) {
	c := NewClient(ClientConfig{Transports: TransportPolling})
	c.Open(0)
	c.Response(0, c.Effects()[0].Conn, 200, "text/plain", []byte(`0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`))
	get := c.Effects()[1].Conn
	var body []byte
	for i := 0; i < 8; i++ {
		body = AppendV4(body, i == 0, Message, false, []byte(`2["message","hello world"]`))
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		c.Response(1, get, 200, "text/plain", body)
		effects := c.Effects()
		get = effects[len(effects)-1].Conn
	}
}
