// Package jsonscan is the small JSON scanner of siohost's core: it
// validates JSON and takes it apart without decoding it, so payloads stay as
// the raw bytes a peer sent, and nothing allocates. core/eio and core/sio
// share it.
package jsonscan

import (
	"unicode/utf8"
)

// Kind is the kind of a JSON value, from its first byte.
type Kind uint8

const (
	Invalid Kind = iota
	Object
	Array
	String
	Number
	Bool
	Null
)

func KindOf(b []byte) Kind {
	if len(b) == 0 {
		return Invalid
	}
	switch b[0] {
	case '{':
		return Object
	case '[':
		return Array
	case '"':
		return String
	case 't', 'f':
		return Bool
	case 'n':
		return Null
	}
	if b[0] == '-' || (b[0] >= '0' && b[0] <= '9') {
		return Number
	}
	return Invalid
}

// MaxDepth bounds nesting so hostile input cannot exhaust the stack.
const MaxDepth = 512

// Valid reports whether b is exactly one JSON value, with optional white
// space around it.
func Valid(b []byte) bool {
	i := SkipSpace(b, 0)
	end, ok := ScanValue(b, i, 0)
	if !ok {
		return false
	}
	return SkipSpace(b, end) == len(b)
}

func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// ScanValue returns the end of the value starting at b[i].
func ScanValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '"':
		return ScanString(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	}
	return 0, false
}

func scanLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

func scanNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	return i, true
}

func ScanString(b []byte, i int) (int, bool) {
	i++ // opening quote
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return 0, false
				}
				i += 6
			default:
				return 0, false
			}
		case c < 0x20:
			return 0, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, w := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && w == 1 {
				return 0, false
			}
			i += w
		}
	}
	return 0, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !isHex(c) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func scanArray(b []byte, i, depth int) (int, bool) {
	if depth > MaxDepth {
		return 0, false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		end, ok := ScanValue(b, i, depth)
		if !ok {
			return 0, false
		}
		i = SkipSpace(b, end)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

func scanObject(b []byte, i, depth int) (int, bool) {
	if depth > MaxDepth {
		return 0, false
	}
	i = SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false
		}
		end, ok := ScanString(b, i)
		if !ok {
			return 0, false
		}
		i = SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		end, ok = ScanValue(b, SkipSpace(b, i+1), depth)
		if !ok {
			return 0, false
		}
		i = SkipSpace(b, end)
		if i >= len(b) {
			return 0, false
		}
		switch b[i] {
		case ',':
			i = SkipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return 0, false
		}
	}
}

// ArrayIter walks the elements of a JSON array that is already known to be
// valid (see Valid), returning each one as raw bytes.
type ArrayIter struct {
	b []byte
	i int
}

// NewArrayIter starts iterating the valid JSON array b.
func NewArrayIter(b []byte) ArrayIter {
	i := SkipSpace(b, 0)
	if i < len(b) && b[i] == '[' {
		i = SkipSpace(b, i+1)
	}
	return ArrayIter{b: b, i: i}
}

// Next returns the next element, or false at the end of the array.
func (it *ArrayIter) Next() ([]byte, bool) {
	if it.i >= len(it.b) || it.b[it.i] == ']' {
		return nil, false
	}
	start := it.i
	end, ok := ScanValue(it.b, start, 0)
	if !ok {
		it.i = len(it.b)
		return nil, false
	}
	it.i = SkipSpace(it.b, end)
	if it.i < len(it.b) && it.b[it.i] == ',' {
		it.i = SkipSpace(it.b, it.i+1)
	}
	return it.b[start:end], true
}

// Rest returns what follows the elements returned so far, up to the end of
// the array: "[" + Rest() is a valid array of the remaining elements.
func (it *ArrayIter) Rest() []byte { return it.b[it.i:] }

// Unquote decodes a valid JSON string literal into a new string (one
// allocation, two when the literal holds escapes). A \u escape of a
// surrogate that is not half of a high+low pair becomes U+FFFD, as in
// encoding/json.
func Unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	esc := false
	for _, c := range s {
		if c == '\\' {
			esc = true
			break
		}
	}
	if !esc {
		return string(s), true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] != '\\' {
			out = append(out, s[i])
			i++
			continue
		}
		r, n := unescape(s[i:])
		if n == 0 {
			return "", false
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return string(out), true
}

// UnquotedEquals reports whether the valid JSON string literal raw decodes
// to s (as Unquote would), without allocating.
func UnquotedEquals(raw []byte, s string) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	raw = raw[1 : len(raw)-1]
	var buf [utf8.UTFMax]byte
	for len(raw) > 0 {
		if raw[0] != '\\' {
			if len(s) == 0 || s[0] != raw[0] {
				return false
			}
			raw, s = raw[1:], s[1:]
			continue
		}
		r, n := unescape(raw)
		if n == 0 {
			return false
		}
		w := utf8.EncodeRune(buf[:], r)
		if len(s) < w || s[:w] != string(buf[:w]) {
			return false
		}
		raw, s = raw[n:], s[w:]
	}
	return len(s) == 0
}

// unescape decodes the escape sequence that starts s (s[0] is a backslash):
// its rune and length, or a length of 0 when it is invalid. A high
// surrogate escape directly followed by a low surrogate escape is one rune
// (12 bytes); any other surrogate is U+FFFD.
func unescape(s []byte) (rune, int) {
	if len(s) < 2 {
		return 0, 0
	}
	switch s[1] {
	case '"', '\\', '/':
		return rune(s[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		if len(s) < 6 || !isHex4(s[2:6]) {
			return 0, 0
		}
		r := rune(hex4(s[2:6]))
		if r < 0xD800 || r >= 0xE000 {
			return r, 6
		}
		if r < 0xDC00 && len(s) >= 12 && s[6] == '\\' && s[7] == 'u' && isHex4(s[8:12]) {
			if r2 := rune(hex4(s[8:12])); r2 >= 0xDC00 && r2 < 0xE000 {
				return (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000, 12
			}
		}
		return utf8.RuneError, 6
	}
	return 0, 0
}

func hex4(b []byte) int {
	n := 0
	for _, c := range b {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= int(c - '0')
		case c >= 'a' && c <= 'f':
			n |= int(c-'a') + 10
		default:
			n |= int(c-'A') + 10
		}
	}
	return n
}

// Unescape decodes the escape sequence that starts s (s[0] is a
// backslash): its rune and length, or a length of 0 when it is invalid. A
// surrogate that is not half of a \u pair is U+FFFD.
func Unescape(s []byte) (rune, int) { return unescape(s) }

// AppendEscape appends the JSON escape of c, an ASCII quote, backslash or
// control character, as JSON.stringify writes it.
func AppendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
}
