package eio

import (
	"strconv"

	"github.com/siohost/siohost/core/internal/jsonscan"
)

// A tiny JSON reader for the two objects an Engine.IO client must read: the
// handshake ({"sid":…,"upgrades":[…],"pingInterval":…,…}) and the error
// body of a refused request ({"code":N,"message":"…"}). It walks one object
// and hands out raw member values; the helpers below decode the few value
// shapes needed. It is not on any hot path (once per session, or once per
// failure), so clarity wins over speed. Values are scanned with
// core/internal/jsonscan, the scanner core/sio uses too.

// jsonObject calls fn with the key (unescaped) and the raw value of each
// member of the object that b holds, in order, and reports whether b is
// exactly one well-formed object (white space around it allowed). fn is not
// called once a syntax error is found.
func jsonObject(b []byte, fn func(key string, val []byte)) bool {
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	type member struct {
		key string
		val []byte
	}
	var members []member
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return jsonscan.SkipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return false
		}
		end, ok := jsonscan.ScanString(b, i)
		if !ok {
			return false
		}
		key, ok := jsonscan.Unquote(b[i:end])
		if !ok {
			return false
		}
		i = jsonscan.SkipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = jsonscan.SkipSpace(b, i+1)
		end, ok = jsonscan.ScanValue(b, i, 0)
		if !ok {
			return false
		}
		members = append(members, member{key, b[i:end]})
		i = jsonscan.SkipSpace(b, end)
		if i >= len(b) {
			return false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return false
		}
		i = jsonscan.SkipSpace(b, i+1)
	}
	if jsonscan.SkipSpace(b, i+1) != len(b) {
		return false
	}
	for _, m := range members {
		fn(m.key, m.val)
	}
	return true
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
	i := jsonscan.SkipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return out, true
	}
	for {
		end, ok := jsonscan.ScanValue(raw, i, 0)
		if !ok {
			return nil, false
		}
		if s, ok := jsonscan.Unquote(raw[i:end]); ok {
			out = append(out, s)
		}
		i = jsonscan.SkipSpace(raw, end)
		if i >= len(raw) {
			return nil, false
		}
		if raw[i] == ']' {
			return out, true
		}
		if raw[i] != ',' {
			return nil, false
		}
		i = jsonscan.SkipSpace(raw, i+1)
	}
}
