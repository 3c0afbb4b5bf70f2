package eio

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// A tiny JSON reader for the two objects an Engine.IO client must read: the
// handshake ({"sid":…,"upgrades":[…],"pingInterval":…,…}) and the error
// body of a refused request ({"code":N,"message":"…"}). It walks one object
// and hands out raw member values; the helpers below decode the few value
// shapes needed. It is not on any hot path (once per session, or once per
// failure), so clarity wins over speed. core/sio has a fuller scanner, but
// core/eio must not import core/sio.

// jsonMaxDepth bounds the nesting of skipped values.
const jsonMaxDepth = 64

// jsonObject calls fn with the key (unescaped) and the raw value of each
// member of the object that b holds, in order, and reports whether b is
// exactly one well-formed object (white space around it allowed). fn is not
// called once a syntax error is found.
func jsonObject(b []byte, fn func(key string, val []byte)) bool {
	i := jsonSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	type member struct {
		key string
		val []byte
	}
	var members []member
	i = jsonSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return jsonSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end, ok := jsonScanString(b, i)
		if !ok {
			return false
		}
		key, ok := jsonUnquote(b[i:end])
		if !ok {
			return false
		}
		i = jsonSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = jsonSpace(b, i+1)
		end, ok = jsonScanValue(b, i, 0)
		if !ok {
			return false
		}
		members = append(members, member{key, b[i:end]})
		i = jsonSpace(b, end)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return false
		}
		i = jsonSpace(b, i+1)
	}
	if jsonSpace(b, i+1) != len(b) {
		return false
	}
	for _, m := range members {
		fn(m.key, m.val)
	}
	return true
}

func jsonSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonScanValue returns the end of the value that starts at b[i].
func jsonScanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > jsonMaxDepth {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return jsonScanString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = jsonSpace(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			if c == '{' {
				end, ok := jsonScanString(b, i)
				if !ok {
					return 0, false
				}
				i = jsonSpace(b, end)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = jsonSpace(b, i+1)
			}
			end, ok := jsonScanValue(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = jsonSpace(b, end)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == closer {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = jsonSpace(b, i+1)
		}
	case c == 't':
		return jsonLiteral(b, i, "true")
	case c == 'f':
		return jsonLiteral(b, i, "false")
	case c == 'n':
		return jsonLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		j := i
		for j < len(b) && (b[j] == '-' || b[j] == '+' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || (b[j] >= '0' && b[j] <= '9')) {
			j++
		}
		if _, err := strconv.ParseFloat(string(b[i:j]), 64); err != nil {
			return 0, false
		}
		return j, true
	}
	return 0, false
}

func jsonLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// jsonScanString returns the end (after the closing quote) of the string
// that starts at b[i].
func jsonScanString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, true
		case c == '\\':
			i++
			if i >= len(b) {
				return 0, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !isHex4Bytes(b[i+1:i+5]) {
					return 0, false
				}
				i += 4
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

func isHex4Bytes(b []byte) bool {
	for _, c := range b[:4] {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
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

// jsonUnquote decodes a raw JSON string value (quotes included).
func jsonUnquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	plain := true
	for _, c := range s {
		if c == '\\' || c == '"' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		return string(s), true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if c == '"' || c < 0x20 {
				return "", false
			}
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, ok := jsonRune(s[i+1:])
			if !ok {
				return "", false
			}
			out = utf8.AppendRune(out, r)
			i += n
		default:
			return "", false
		}
	}
	return string(out), true
}

// jsonRune decodes the hex digits after a \u escape, and a low surrogate
// escape that follows a high one. n is the number of bytes consumed.
func jsonRune(s []byte) (r rune, n int, ok bool) {
	if len(s) < 4 || !isHex4Bytes(s) {
		return 0, 0, false
	}
	r = hex4Rune(s)
	if utf16.IsSurrogate(r) && len(s) >= 10 && s[4] == '\\' && s[5] == 'u' && isHex4Bytes(s[6:]) {
		if d := utf16.DecodeRune(r, hex4Rune(s[6:])); d != utf8.RuneError {
			return d, 10, true
		}
	}
	if utf16.IsSurrogate(r) {
		r = utf8.RuneError
	}
	return r, 4, true
}

func hex4Rune(s []byte) rune {
	return rune(hexVal(s[0])<<12 | hexVal(s[1])<<8 | hexVal(s[2])<<4 | hexVal(s[3]))
}

// jsonInt decodes a JSON number as an integer (a fraction is truncated).
func jsonInt(raw []byte) (int64, bool) {
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f > 1<<62 || f < -(1<<62) {
		return 0, false
	}
	return int64(f), true
}

// jsonStrings decodes an array of strings; other elements are skipped.
func jsonStrings(raw []byte) ([]string, bool) {
	if len(raw) < 2 || raw[0] != '[' {
		return nil, false
	}
	out := []string{}
	i := jsonSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return out, true
	}
	for {
		end, ok := jsonScanValue(raw, i, 0)
		if !ok {
			return nil, false
		}
		if s, ok := jsonUnquote(raw[i:end]); ok {
			out = append(out, s)
		}
		i = jsonSpace(raw, end)
		if i >= len(raw) {
			return nil, false
		}
		if raw[i] == ']' {
			return out, true
		}
		if raw[i] != ',' {
			return nil, false
		}
		i = jsonSpace(raw, i+1)
	}
}
