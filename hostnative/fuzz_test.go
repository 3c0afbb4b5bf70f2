package hostnative

import (
	"bytes"
	"compress/flate"
	"net/http"
	"testing"
)

// The host's own decoders of untrusted input: an inbound compressed
// WebSocket message, the client's permessage-deflate offer, and
// Accept-Encoding. None may panic, and inflating stays within its limit.

func FuzzInflate(f *testing.F) {
	f.Add(appendDeflated(nil, flate.DefaultCompression, []byte(`4{"hello":"world"}`)), false)
	f.Add(appendDeflated(nil, flate.BestSpeed, bytes.Repeat([]byte("a"), 5000)), true)
	f.Add([]byte{0xff, 0xff, 0xff}, false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, msg []byte, takeover bool) {
		const limit = 4096
		d := &wsDeflate{takeover: takeover}
		for range 2 { // twice: the second with the first's window
			out, err := d.inflate(msg, limit)
			if err != nil {
				if out != nil {
					t.Fatal("output with an error")
				}
				return
			}
			if len(out) > limit {
				t.Fatalf("inflated %d bytes, limit %d", len(out), limit)
			}
		}
	})
}

func FuzzAcceptDeflate(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits")
	f.Add("permessage-deflate; server_max_window_bits=10, permessage-deflate")
	f.Add("permessage-deflate; client_no_context_takeover; server_no_context_takeover")
	f.Add("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=8")
	f.Add(`permessage-deflate; "`)
	f.Fuzz(func(t *testing.T, offer string) {
		d, resp := acceptDeflate(&PerMessageDeflate{}, http.Header{extensionsHeader: {offer}})
		if (d == nil) != (resp == "") {
			t.Fatalf("state %v and answer %q disagree", d, resp)
		}
	})
}

func FuzzPickEncoding(f *testing.F) {
	f.Add("gzip, deflate, br")
	f.Add("deflate;q=0.5, gzip;q=0.4")
	f.Add("*;q=0, identity")
	f.Add("gzip;q=abc, ;;, deflate;q=1.0001")
	f.Fuzz(func(t *testing.T, header string) {
		switch enc := pickEncoding([]string{header}); enc {
		case "", "gzip", "deflate":
		default:
			t.Fatalf("picked %q", enc)
		}
	})
}
