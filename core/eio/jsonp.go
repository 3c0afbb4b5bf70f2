package eio

import (
	"bytes"
	"unicode/utf8"

	"github.com/siohost/siohost/core/internal/jsonscan"
)

// JSONP polling is the variant of the polling transport that browsers
// without cross-origin XHR use (engine.io-client 3.x and 4.x with
// forceJSONP, under socket.io-client 2.x and 3.x; later clients dropped
// it). A polling handshake with a "j" query parameter makes the session a
// JSONP one, for its whole life:
//
//   - the answer to each of its GETs is a script that hands the payload plain
//     polling would send to the client's callback number j:
//     ___eio[<digits of j>]("<payload as a JavaScript string>");
//   - each of its POSTs is an HTML form submission
//     (application/x-www-form-urlencoded) whose field "d" holds the payload,
//     newlines escaped (see DecodeJSONPBody).
//
// Everything else (statuses, limits, errors, the upgrade) is polling's.

// MaxJSONPIndexLen bounds the digits of a JSONP callback index; a
// handshake with more is refused (code 3).
const MaxJSONPIndexLen = 16

// jsonpIndex returns the digits of j, the index of the client's callback,
// as the reference keeps them (any other character is dropped).
func jsonpIndex(j string) string {
	for i := 0; i < len(j); i++ {
		if j[i] < '0' || j[i] > '9' {
			b := make([]byte, 0, len(j)-1)
			for k := 0; k < len(j); k++ {
				if j[k] >= '0' && j[k] <= '9' {
					b = append(b, j[k])
				}
			}
			return string(b)
		}
	}
	return j
}

// AppendJSONP appends the script that answers a JSONP GET:
// ___eio[index]("payload"); where the payload is a JSON string that is also
// valid JavaScript (JSON.stringify's escaping, plus U+2028 and U+2029 as
// \u2028 and \u2029, which a JavaScript string literal cannot hold raw).
// Invalid UTF-8 becomes U+FFFD, as a browser decoding the plain polling
// answer would make it.
func AppendJSONP(b []byte, index string, payload []byte) []byte {
	b = append(b, "___eio["...)
	b = append(b, index...)
	b = append(b, `]("`...)
	for i := 0; i < len(payload); {
		c := payload[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = jsonscan.AppendEscape(b, c)
			i++
			continue
		}
		r, w := utf8.DecodeRune(payload[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			b = append(b, "\ufffd"...)
		case r == '\u2028':
			b = append(b, `\u2028`...)
		case r == '\u2029':
			b = append(b, `\u2029`...)
		default:
			b = append(b, payload[i:i+w]...)
		}
		i += w
	}
	return append(b, `");`...)
}

// maxFormFields is how many '&'-separated fields of a form body are read,
// as the reference's querystring parser (maxKeys 1000): a field beyond them
// does not exist.
const maxFormFields = 1000

// DecodeJSONPBody returns the payload of a JSONP POST body: the value of
// its form field "d", URL-decoded ("+" is a space, "%XX" a byte, and a "%"
// not followed by two hex digits is kept as is), then with its newlines
// restored. The client (engine.io-client 3.x/4.x) posts through a textarea,
// which would turn newlines into CRLF, so it sends a backslash-n that was
// in the payload as two backslashes and an n, and a newline as a backslash
// and an n; this undoes that the way the reference server does, so a
// backslash-n (not preceded by a backslash) becomes a newline, then two
// backslashes and an n become a backslash and an n.
//
// ok is false when the body has no field "d" among its first 1000, or has
// it more than once (the reference's parser then makes it a list): the
// reference ignores such a request and so does the server. The payload
// aliases body when nothing needed decoding; body is never modified.
func DecodeJSONPBody(body []byte) (payload []byte, ok bool) {
	vs, ve := -1, -1 // the raw value of the one field d
	start := 0
	for n := 0; n < maxFormFields; n++ {
		end := bytes.IndexByte(body[start:], '&')
		if end < 0 {
			end = len(body)
		} else {
			end += start
		}
		if seg := body[start:end]; len(seg) > 0 {
			key, v := seg, end
			if i := bytes.IndexByte(seg, '='); i >= 0 {
				key, v = seg[:i], start+i+1
			}
			if formKeyIsD(key) {
				if vs >= 0 {
					return nil, false
				}
				vs, ve = v, end
			}
		}
		if end == len(body) {
			break
		}
		start = end + 1
	}
	if vs < 0 {
		return nil, false
	}
	raw := body[vs:ve]
	if bytes.IndexByte(raw, '%') < 0 && bytes.IndexByte(raw, '+') < 0 && bytes.IndexByte(raw, '\\') < 0 {
		return raw, true
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		out = appendFormByte(out, raw, &i)
	}
	return unescapeJSONPNewlines(out), true
}

// formKeyIsD reports whether a raw form key decodes to "d".
func formKeyIsD(key []byte) bool {
	switch len(key) {
	case 1:
		return key[0] == 'd'
	case 3:
		return key[0] == '%' && key[1] == '6' && key[2] == '4'
	}
	return false
}

// appendFormByte appends the decoding of raw[*i] (with the two hex digits
// that follow a "%") and leaves *i on the last byte it read.
func appendFormByte(out, raw []byte, i *int) []byte {
	c := raw[*i]
	switch c {
	case '+':
		return append(out, ' ')
	case '%':
		if *i+2 < len(raw) {
			hi, lo := unhex(raw[*i+1]), unhex(raw[*i+2])
			if hi >= 0 && lo >= 0 {
				*i += 2
				return append(out, byte(hi<<4|lo))
			}
		}
	}
	return append(out, c)
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unescapeJSONPNewlines undoes the client's newline escaping in place, in
// the reference's two passes: first every backslash-n not preceded by a
// backslash (scanning left to right, a backslash-backslash-n being kept
// whole) becomes a newline, then every backslash-backslash-n becomes a
// backslash-n.
func unescapeJSONPNewlines(p []byte) []byte {
	w := 0
	for i := 0; i < len(p); {
		switch {
		case p[i] == '\\' && i+2 < len(p) && p[i+1] == '\\' && p[i+2] == 'n':
			w += copy(p[w:], p[i:i+3])
			i += 3
		case p[i] == '\\' && i+1 < len(p) && p[i+1] == 'n':
			p[w] = '\n'
			w++
			i += 2
		default:
			p[w] = p[i]
			w++
			i++
		}
	}
	p = p[:w]
	w = 0
	for i := 0; i < len(p); {
		if p[i] == '\\' && i+2 < len(p) && p[i+1] == '\\' && p[i+2] == 'n' {
			p[w], p[w+1] = '\\', 'n'
			w += 2
			i += 3
			continue
		}
		p[w] = p[i]
		w++
		i++
	}
	return p[:w]
}
