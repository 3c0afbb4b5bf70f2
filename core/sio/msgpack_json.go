package sio

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/siohost/siohost/core/internal/jsonscan"
)

// How the msgpack decoder writes the values it reads as JSON text:
// strings with JSON's escapes (and invalid UTF-8 replaced as Node does),
// numbers in JavaScript's form, dates as ISO strings.

// appendJSONText writes s as a JSON string, escaped as JSON.stringify
// escapes, each invalid UTF-8 sequence (maximal subpart) replaced by
// U+FFFD as Node's decoder replaces it.
func appendJSONText(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = jsonscan.AppendEscape(b, c)
			i++
			start = i
			continue
		}
		if r, w := utf8.DecodeRune(s[i:]); r != utf8.RuneError || w > 1 {
			i += w
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, "\ufffd"...)
		i += maximalSubpart(s[i:])
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafe tells the ASCII bytes a JSON string holds as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// maximalSubpart returns the length of the invalid UTF-8 sequence that
// starts s: its lead byte and the continuation bytes that could still
// have completed it (the WHATWG decoder's rule, which Node follows).
func maximalSubpart(s []byte) int {
	lo, hi := byte(0x80), byte(0xbf)
	var need int
	switch c := s[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c == 0xed:
		need, hi = 2, 0x9f
	case c >= 0xe1 && c <= 0xef:
		need = 2
	case c == 0xf0:
		need, lo = 3, 0x90
	case c == 0xf4:
		need, hi = 3, 0x8f
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xbf
	}
	return n
}

// appendJSNumber writes f as JavaScript's Number#toString does (and
// JSON.stringify, but for NaN and the infinities, which JSON.stringify
// writes null and a property key spells out when key is set).
func appendJSNumber(b []byte, f float64, key bool) []byte {
	switch {
	case math.IsNaN(f):
		if key {
			return append(b, "NaN"...)
		}
		return append(b, "null"...)
	case math.IsInf(f, 0):
		if !key {
			return append(b, "null"...)
		}
		if f < 0 {
			b = append(b, '-')
		}
		return append(b, "Infinity"...)
	case f == 0:
		return append(b, '0')
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		// Where JavaScript writes no exponent, Go's shortest 'f' form is
		// the same.
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	// The shortest digits that round-trip, and the decimal exponent n of
	// JavaScript's algorithm (f = 0.digits × 10^n).
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	var digits [24]byte
	k := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digits[k] = e[i]
			k++
		}
	}
	exp, neg := 0, false
	for _, c := range e[i+1:] {
		switch {
		case c == '-':
			neg = true
		case c >= '0' && c <= '9':
			exp = exp*10 + int(c-'0')
		}
	}
	if neg {
		exp = -exp
	}
	n := exp + 1
	switch {
	case k <= n && n <= 21:
		b = append(b, digits[:k]...)
		for range n - k {
			b = append(b, '0')
		}
	case 0 < n && n <= 21:
		b = append(b, digits[:n]...)
		b = append(b, '.')
		b = append(b, digits[n:k]...)
	case -6 < n && n <= 0:
		b = append(b, '0', '.')
		for range -n {
			b = append(b, '0')
		}
		b = append(b, digits[:k]...)
	default:
		b = append(b, digits[0])
		if k > 1 {
			b = append(b, '.')
			b = append(b, digits[1:k]...)
		}
		b = append(b, 'e')
		if n-1 >= 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, int64(n-1), 10)
	}
	return b
}

// maxDate is JavaScript's time value range, in ms either side of 1970.
const maxDate = 8.64e15

// appendISODate writes the JSON of a JavaScript Date at ms since 1970:
// the string of its toISOString, or null when out of range.
func appendISODate(b []byte, ms int64) []byte {
	if ms > maxDate || ms < -maxDate {
		return append(b, "null"...)
	}
	days := ms / 86400000
	rem := ms % 86400000
	if rem < 0 {
		rem += 86400000
		days--
	}
	y, m, dd := civil(days)
	b = append(b, '"')
	switch {
	case y < 0:
		b = append(b, '-')
		b = appendPadded(b, -y, 6)
	case y > 9999:
		b = append(b, '+')
		b = appendPadded(b, y, 6)
	default:
		b = appendPadded(b, y, 4)
	}
	b = append(b, '-')
	b = appendPadded(b, m, 2)
	b = append(b, '-')
	b = appendPadded(b, dd, 2)
	b = append(b, 'T')
	b = appendPadded(b, rem/3600000, 2)
	b = append(b, ':')
	b = appendPadded(b, rem/60000%60, 2)
	b = append(b, ':')
	b = appendPadded(b, rem/1000%60, 2)
	b = append(b, '.')
	b = appendPadded(b, rem%1000, 3)
	return append(b, 'Z', '"')
}

func appendPadded(b []byte, v int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], v, 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// civil returns the proleptic Gregorian date of a day number (0 is
// 1970-01-01).
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}
