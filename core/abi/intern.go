package abi

// Interner turns byte strings into strings without allocating for the ones
// it has seen: namespaces, close reasons, methods and transports repeat,
// so decoding them costs nothing once warm. It keeps at most internMax short
// strings and starts over when full.
type Interner struct {
	m map[string]string
}

const (
	internMax    = 512
	internMaxLen = 64
)

// String returns b as a string.
func (t *Interner) String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := t.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= internMaxLen {
		if t.m == nil || len(t.m) >= internMax {
			t.m = make(map[string]string, 16)
		}
		t.m[s] = s
	}
	return s
}
