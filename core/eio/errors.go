package eio

import (
	"strconv"
	"unicode/utf8"

	"github.com/siohost/siohost/core/internal/jsonscan"
)

// fail refuses request r with an Engine.IO error: the host is told the code,
// message and context (EffError), and the client gets the reference answer,
// a JSON body with status 400 (403 for Forbidden), or a raw 400 text when
// the request was a WebSocket upgrade.
func (s *Server) fail(r *Request, code int, message string, context []byte) Handle {
	s.emit(Effect{Kind: EffError, Conn: r.Conn, Status: code, Text: CodeMessage(code), Data: context})
	if message == "" {
		message = CodeMessage(code)
	}
	if r.Upgrade {
		s.emit(Effect{Kind: EffReject, Conn: r.Conn, Status: 400, Text: message})
		return 0
	}
	status := 400
	if code == CodeForbidden {
		status = 403
	}
	start := len(s.scratch)
	s.scratch = append(s.scratch, `{"code":`...)
	s.scratch = strconv.AppendInt(s.scratch, int64(code), 10)
	s.scratch = append(s.scratch, `,"message":`...)
	s.scratch = AppendJSONString(s.scratch, message)
	s.scratch = append(s.scratch, '}')
	s.emit(Effect{Kind: EffRespond, Conn: r.Conn, Status: status, Content: ContentJSON, Data: s.scratch[start:]})
	return 0
}

func (s *Server) respondEmpty(conn uint64, status int) {
	s.emit(Effect{Kind: EffRespond, Conn: conn, Status: status})
}

// Error contexts are small JSON objects, shaped as the reference passes them
// to its "connection_error" event.
func ctx1(k, v string) []byte {
	b := append([]byte{'{'}, ctxPair(nil, k, v)...)
	return append(b, '}')
}

func ctx2(k1, v1, k2, v2 string) []byte {
	b := ctxPair([]byte{'{'}, k1, v1)
	b = append(b, ',')
	b = ctxPair(b, k2, v2)
	return append(b, '}')
}

func ctx3(k1, v1, k2, v2, k3, v3 string) []byte {
	b := ctxPair([]byte{'{'}, k1, v1)
	b = append(b, ',')
	b = ctxPair(b, k2, v2)
	b = append(b, ',')
	b = ctxPair(b, k3, v3)
	return append(b, '}')
}

func ctxPair(b []byte, k, v string) []byte {
	b = AppendJSONString(b, k)
	b = append(b, ':')
	return AppendJSONString(b, v)
}

func ctxProtocol(eio string) []byte {
	if eio == "3" {
		return []byte(`{"protocol":3}`)
	}
	return ctx1("protocol", eio)
}

// buildOpenJSON precomputes the part of the handshake JSON that follows the
// upgrades list.
func (s *Server) buildOpenJSON() []byte {
	b := []byte(`,"pingInterval":`)
	b = strconv.AppendInt(b, s.cfg.PingInterval, 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, s.cfg.PingTimeout, 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, s.cfg.MaxPayload, 10)
	return append(b, '}')
}

// appendOpenJSON appends the handshake JSON of ss, with the keys in the
// reference order. Upgrades are offered only on a polling handshake.
func (s *Server) appendOpenJSON(b []byte, ss *session, polling bool) []byte {
	b = append(b, `{"sid":"`...)
	b = append(b, ss.id...)
	if polling && s.cfg.AllowUpgrades && s.cfg.Transports&TransportWebSocket != 0 {
		b = append(b, `","upgrades":["websocket"]`...)
	} else {
		b = append(b, `","upgrades":[]`...)
	}
	return append(b, s.openJSON...)
}

// AppendJSONString appends s as a JSON string the way JavaScript's
// JSON.stringify writes it: no HTML escaping, control characters as \uXXXX
// (or their short forms), and invalid UTF-8 replaced by U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, w := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+w]...)
			}
			i += w
			continue
		}
		b = jsonscan.AppendEscape(b, c)
		i++
	}
	return append(b, '"')
}
