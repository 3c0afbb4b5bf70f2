package transcript

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/siohost/siohost/core/abi"
	"github.com/siohost/siohost/core/eio"
)

// Transcript is one file's content (see the package doc).
type Transcript struct {
	Description string `json:"description"`
	Config      Config `json:"config"`
	Steps       []Step `json:"steps"`
	Notes       any    `json:"notes"`
}

// Config is a transcript's core configuration.
type Config struct {
	PingInterval   int64    `json:"pingInterval"`
	PingTimeout    int64    `json:"pingTimeout"`
	UpgradeTimeout int64    `json:"upgradeTimeout"`
	MaxPayload     int64    `json:"maxPayload"`
	AllowEIO3      bool     `json:"allowEIO3"`
	AllowUpgrades  *bool    `json:"allowUpgrades"`
	Transports     []string `json:"transports"`
	Random         []string `json:"random"`
	IDPrefix       string   `json:"idPrefix"`
	ConnectTimeout int64    `json:"connectTimeout"`
}

// Step is one input, and what it must produce.
type Step struct {
	Now      int64               `json:"now"`
	Comment  string              `json:"comment"`
	Request  *Request            `json:"request"`
	Body     *Body               `json:"body"`
	Frame    *Frame              `json:"frame"`
	Closed   *Closed             `json:"closed"`
	Close    *Close              `json:"close"`
	CloseAll *Close              `json:"closeAll"`
	Tick     *struct{}           `json:"tick"`
	Send     *Send               `json:"send"`
	Accept   *Accept             `json:"accept"`
	Refuse   *Refuse             `json:"refuse"`
	Leave    *Leave              `json:"leave"`
	Result   json.RawMessage     `json:"result"`
	Expect   []Effect            `json:"expect"`
	Deadline json.RawMessage     `json:"deadline"`
	Open     *int                `json:"open"`
	Joined   map[string][]string `json:"joined"`
}

type Request struct {
	Conn           uint64 `json:"conn"`
	Method         string `json:"method"`
	EIO            string `json:"eio"`
	Transport      string `json:"transport"`
	SID            string `json:"sid"`
	B64            bool   `json:"b64"`
	Upgrade        bool   `json:"upgrade"`
	Binary         bool   `json:"binary"`
	Origin         string `json:"origin"`
	BadOrigin      bool   `json:"badOrigin"`
	Refused        bool   `json:"refused"`
	RefusedMessage string `json:"refusedMessage"`
	JSONP          bool   `json:"jsonp"`
	J              string `json:"j"`
}

type Body struct {
	Conn    uint64  `json:"conn"`
	Session *int    `json:"session"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
	Status  string  `json:"status"`
}

type Frame struct {
	Conn    uint64  `json:"conn"`
	Session *int    `json:"session"`
	Binary  bool    `json:"binary"`
	Data    *string `json:"data"`
	Hex     *string `json:"hex"`
}

type Closed struct {
	Conn    uint64 `json:"conn"`
	Session *int   `json:"session"`
	Errored bool   `json:"errored"`
}

type Close struct {
	Session *int   `json:"session"`
	Reason  string `json:"reason"`
}

// Send is an Engine.IO message (Binary, Data|Hex) or, in a Socket.IO
// transcript, an encoded packet (Nsp, Text, Attachments, Volatile,
// NoCompress).
type Send struct {
	Session     *int     `json:"session"`
	Binary      bool     `json:"binary"`
	Data        *string  `json:"data"`
	Hex         *string  `json:"hex"`
	Nsp         string   `json:"nsp"`
	Text        string   `json:"text"`
	Attachments []string `json:"attachments"`
	Volatile    bool     `json:"volatile"`
	NoCompress  bool     `json:"noCompress"`
}

type Accept struct {
	Session *int   `json:"session"`
	Nsp     string `json:"nsp"`
	SID     string `json:"sid"`
	PID     string `json:"pid"`
}

type Refuse struct {
	Session *int    `json:"session"`
	Nsp     string  `json:"nsp"`
	Message string  `json:"message"`
	Data    *string `json:"data"`
}

type Leave struct {
	Session *int   `json:"session"`
	Nsp     string `json:"nsp"`
}

// Effect is an expected effect, as written in a transcript.
type Effect struct {
	Kind        string   `json:"kind"`
	Conn        uint64   `json:"conn"`
	Session     int      `json:"session"`
	Status      int      `json:"status"`
	Content     string   `json:"content"`
	Binary      bool     `json:"binary"`
	NoCompress  bool     `json:"noCompress"`
	Prefix      *string  `json:"prefix"`
	PrefixHex   *string  `json:"prefixHex"`
	Data        *string  `json:"data"`
	Hex         *string  `json:"hex"`
	Text        string   `json:"text"`
	Desc        string   `json:"desc"`
	Nsp         string   `json:"nsp"`
	ID          *int64   `json:"id"`
	Attachments []string `json:"attachments"`
}

// File is one transcript file.
type File struct {
	Name     string // the file name without .json
	SocketIO bool   // from sio_sessions: the core runs the Socket.IO layer
	Transcript
}

// Load reads every transcript under dir (core/testdata): sessions/*.json
// and sio_sessions/*.json. Unknown fields are errors.
func Load(t testing.TB, dir string) []*File {
	t.Helper()
	var files []*File
	for _, sub := range []string{"sessions", "sio_sessions"} {
		paths, err := filepath.Glob(filepath.Join(dir, sub, "*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, paths, "no transcript in %s", sub)
		for _, p := range paths {
			raw, err := os.ReadFile(p)
			require.NoError(t, err)
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			f := &File{Name: strings.TrimSuffix(filepath.Base(p), ".json"), SocketIO: sub == "sio_sessions"}
			require.NoError(t, dec.Decode(&f.Transcript), "decoding %s", p)
			require.NotEmpty(t, f.Description, "%s: a transcript says what it proves", p)
			files = append(files, f)
		}
	}
	return files
}

// CoreConfig is the configuration of f's core, its random bytes included.
func (f *File) CoreConfig(t testing.TB) abi.Config {
	t.Helper()
	c := f.Config
	var pool []byte
	if c.Random != nil {
		for _, h := range c.Random {
			v, err := hex.DecodeString(h)
			require.NoError(t, err)
			pool = append(pool, v...)
		}
	} else {
		for k := 1; k <= 255; k++ {
			pool = append(pool, bytes.Repeat([]byte{byte(k)}, 15)...)
		}
	}
	e := eio.DefaultConfig(nil)
	if c.PingInterval != 0 {
		e.PingInterval = c.PingInterval
	}
	if c.PingTimeout != 0 {
		e.PingTimeout = c.PingTimeout
	}
	if c.UpgradeTimeout != 0 {
		e.UpgradeTimeout = c.UpgradeTimeout
	}
	if c.MaxPayload != 0 {
		e.MaxPayload = c.MaxPayload
	}
	e.AllowEIO3 = c.AllowEIO3
	if c.AllowUpgrades != nil {
		e.AllowUpgrades = *c.AllowUpgrades
	}
	if c.Transports != nil {
		e.Transports = 0
		for _, name := range c.Transports {
			switch name {
			case "polling":
				e.Transports |= eio.TransportPolling
			case "websocket":
				e.Transports |= eio.TransportWebSocket
			default:
				t.Fatalf("unknown transport %q in config", name)
			}
		}
	}
	if c.IDPrefix != "" {
		require.Len(t, c.IDPrefix, 1)
		e.IDPrefix = c.IDPrefix[0]
	}
	var a abi.Config
	a.SetEngine(e)
	a.SocketIO = f.SocketIO
	a.ConnectTimeout = c.ConnectTimeout
	a.Entropy = pool
	a.Random = abi.RandomSeeded // never reached: the pool lasts
	return a
}
