package sio

// JSON objects as the Client reads them (CONNECT replies, CONNECT_ERROR
// payloads, auth), on top of the scanner of json.go.

// forEachMember calls fn with the raw key and value of every member of the
// valid JSON object obj, in order, until fn returns false.
func forEachMember(obj []byte, fn func(key, val []byte) bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		kend, ok := scanString(obj, i)
		if !ok {
			return
		}
		key := obj[i:kend]
		i = skipSpace(obj, kend)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = skipSpace(obj, i+1)
		vend, ok := scanValue(obj, i, 0)
		if !ok || !fn(key, obj[i:vend]) {
			return
		}
		i = skipSpace(obj, vend)
		if i >= len(obj) || obj[i] != ',' {
			return
		}
		i = skipSpace(obj, i+1)
	}
}

// member returns the raw value of the member name of the valid JSON object
// obj (the last one, as JSON.parse keeps), or nil. Keys compare decoded.
func member(obj []byte, name string) []byte {
	var v []byte
	forEachMember(obj, func(key, val []byte) bool {
		if unquotedEquals(key, name) {
			v = val
		}
		return true
	})
	return v
}

// appendQuery appends the members of the valid JSON object obj as a query
// string, as socket.io-client 2.x encodes its query option (parseqs):
// key=value pairs joined by '&', each side through encodeURIComponent. A
// string value is its text; other values are their JSON (JavaScript would
// write numbers its own way and objects as "[object Object]").
func appendQuery(b, obj []byte) []byte {
	first := true
	forEachMember(obj, func(key, val []byte) bool {
		if !first {
			b = append(b, '&')
		}
		first = false
		k, _ := Unquote(key)
		b = appendURIComponent(b, k)
		b = append(b, '=')
		if kindOf(val) == kindString {
			v, _ := Unquote(val)
			b = appendURIComponent(b, v)
		} else {
			b = appendURIComponent(b, string(val))
		}
		return true
	})
	return b
}

// appendURIComponent appends s escaped as JavaScript's encodeURIComponent
// does: every byte of its UTF-8 but A-Z a-z 0-9 - _ . ! ~ * ' ( ) as %XX.
func appendURIComponent(b []byte, s string) []byte {
	const upperHex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b = append(b, c)
		case c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' || c == '(' || c == ')':
			b = append(b, c)
		default:
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return b
}
