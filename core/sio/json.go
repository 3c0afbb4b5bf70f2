package sio

import "github.com/siohost/siohost/core/internal/jsonscan"

// Socket.IO payloads are validated and taken apart by core/internal/jsonscan
// without decoding them, so arguments stay as the raw bytes the client sent
// (key order, number spelling and escapes included) and nothing allocates.

type jsonKind = jsonscan.Kind

const (
	kindInvalid = jsonscan.Invalid
	kindObject  = jsonscan.Object
	kindArray   = jsonscan.Array
	kindString  = jsonscan.String
	kindNumber  = jsonscan.Number
	maxDepth    = jsonscan.MaxDepth
)

// ArrayIter walks the elements of a valid JSON array (see jsonscan).
type ArrayIter = jsonscan.ArrayIter

// ValidJSON reports whether b is exactly one JSON value.
func ValidJSON(b []byte) bool { return jsonscan.Valid(b) }

// NewArrayIter starts iterating the valid JSON array b.
func NewArrayIter(b []byte) ArrayIter { return jsonscan.NewArrayIter(b) }

// Unquote decodes a valid JSON string literal.
func Unquote(raw []byte) (string, bool) { return jsonscan.Unquote(raw) }

func kindOf(b []byte) jsonKind                     { return jsonscan.KindOf(b) }
func skipSpace(b []byte, i int) int                { return jsonscan.SkipSpace(b, i) }
func scanValue(b []byte, i, depth int) (int, bool) { return jsonscan.ScanValue(b, i, depth) }
func scanString(b []byte, i int) (int, bool)       { return jsonscan.ScanString(b, i) }
func unquotedEquals(raw []byte, s string) bool     { return jsonscan.UnquotedEquals(raw, s) }

// Placeholders calls fn for every binary placeholder object in the valid
// JSON value b ({"_placeholder":true,"num":N}, keys in any order), with the
// bounds of the object and its num (-1 when num is not a non-negative
// integer). fn returns false to stop. Placeholders reports whether the walk
// completed.
func Placeholders(b []byte, fn func(start, end, num int) bool) bool {
	_, ok := walkPlaceholders(b, skipSpace(b, 0), 0, fn)
	return ok
}

func walkPlaceholders(b []byte, i, depth int, fn func(start, end, num int) bool) (int, bool) {
	if i >= len(b) || depth > maxDepth {
		return 0, false
	}
	switch b[i] {
	case '[':
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			end, ok := walkPlaceholders(b, i, depth+1, fn)
			if !ok {
				return 0, false
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			i = skipSpace(b, i+1)
		}
	case '{':
		start := i
		isPlaceholder, num := false, -1
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			kend, ok := scanString(b, i)
			if !ok {
				return 0, false
			}
			key := b[i:kend]
			i = skipSpace(b, skipSpace(b, kend)+1) // past ':'
			vstart := i
			end, ok := walkPlaceholders(b, i, depth+1, fn)
			if !ok {
				return 0, false
			}
			// Keys compare decoded, as JavaScript sees them: an escaped
			// "\u005fplaceholder" is the same key.
			switch {
			case unquotedEquals(key, "_placeholder"):
				isPlaceholder = string(b[vstart:end]) == "true"
			case unquotedEquals(key, "num"):
				num = smallInt(b[vstart:end])
			}
			i = skipSpace(b, end)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == '}' {
				if isPlaceholder && !fn(start, i+1, num) {
					return 0, false
				}
				return i + 1, true
			}
			i = skipSpace(b, i+1)
		}
	}
	return scanValue(b, i, depth)
}

// smallInt parses a non-negative JSON integer of at most seven digits in
// its canonical spelling (no sign, fraction, exponent or leading zero), or
// returns -1.
func smallInt(b []byte) int {
	if len(b) == 0 || len(b) > 7 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	if len(b) > 1 && b[0] == '0' {
		return -1
	}
	return n
}
