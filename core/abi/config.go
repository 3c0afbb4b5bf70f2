package abi

import (
	"github.com/siohost/siohost/core/eio"
	"github.com/siohost/siohost/core/sio"
)

// RandomMode selects where a core's random bytes (session ids) come from
// once Config.Entropy is used up.
type RandomMode uint8

const (
	// RandomSystem: the platform's secure source (crypto/rand natively,
	// WASI random_get in the module).
	RandomSystem RandomMode = iota
	// RandomSeeded: ChaCha8 seeded with Config.Seed, for reproducible
	// runs.
	RandomSeeded
)

// Config is the configuration of a Core: the Engine.IO settings, whether
// the Socket.IO layer runs on top, and the random source. Times are in
// milliseconds.
type Config struct {
	PingInterval   int64
	PingTimeout    int64
	UpgradeTimeout int64
	MaxPayload     int64
	Transports     eio.Transports
	AllowUpgrades  bool
	AllowEIO3      bool
	IDPrefix       byte

	// SocketIO runs a sio.Server over the eio.Server, with ConnectTimeout
	// (0: the default) and Parser.
	SocketIO       bool
	ConnectTimeout int64
	Parser         sio.Parser

	// Entropy is handed out first, in order, to the core's requests for
	// random bytes; then Random takes over.
	Entropy []byte
	Random  RandomMode
	Seed    [32]byte
}

// DefaultConfig returns the reference server's settings with the Socket.IO
// layer on and the system's random source.
func DefaultConfig() Config {
	var c Config
	c.SetEngine(eio.DefaultConfig(nil))
	c.SocketIO = true
	return c
}

// SetEngine copies the Engine.IO settings of e (but its Random).
func (c *Config) SetEngine(e eio.Config) {
	c.PingInterval, c.PingTimeout, c.UpgradeTimeout, c.MaxPayload = e.PingInterval, e.PingTimeout, e.UpgradeTimeout, e.MaxPayload
	c.Transports, c.AllowUpgrades, c.AllowEIO3, c.IDPrefix = e.Transports, e.AllowUpgrades, e.AllowEIO3, e.IDPrefix
}

// Engine returns the Engine.IO configuration, with random as its source.
func (c *Config) Engine(random func([]byte)) eio.Config {
	return eio.Config{
		PingInterval: c.PingInterval, PingTimeout: c.PingTimeout, UpgradeTimeout: c.UpgradeTimeout,
		MaxPayload: c.MaxPayload, Transports: c.Transports, AllowUpgrades: c.AllowUpgrades,
		AllowEIO3: c.AllowEIO3, IDPrefix: c.IDPrefix, Random: random,
	}
}

// The configuration record: u32 version, u32 flags, five i64 (ping
// interval, ping timeout, upgrade timeout, max payload, connect timeout),
// u8 id prefix, u8 random mode, u16 reserved (0), 32 bytes of seed, then
// the entropy as a byte string.
const configFixed = 4 + 4 + 5*8 + 4 + 32

// Flags of the configuration record.
const (
	CfgAllowUpgrades = 1 << 0
	CfgAllowEIO3     = 1 << 1
	CfgSocketIO      = 1 << 2
	CfgPolling       = 1 << 3
	CfgWebSocket     = 1 << 4
	CfgMsgpack       = 1 << 5 // sio.ParserMsgpack
	cfgAll           = 1<<6 - 1
)

// AppendConfig appends the configuration record of c.
func AppendConfig(b []byte, c *Config) []byte {
	flags := uint32(b2u(c.AllowUpgrades))*CfgAllowUpgrades | uint32(b2u(c.AllowEIO3))*CfgAllowEIO3 |
		uint32(b2u(c.SocketIO))*CfgSocketIO
	if c.Transports&eio.TransportPolling != 0 {
		flags |= CfgPolling
	}
	if c.Transports&eio.TransportWebSocket != 0 {
		flags |= CfgWebSocket
	}
	if c.Parser == sio.ParserMsgpack {
		flags |= CfgMsgpack
	}
	b = appendU32(b, Version)
	b = appendU32(b, flags)
	for _, v := range [...]int64{c.PingInterval, c.PingTimeout, c.UpgradeTimeout, c.MaxPayload, c.ConnectTimeout} {
		b = appendU64(b, uint64(v))
	}
	b = append(b, c.IDPrefix, byte(c.Random), 0, 0)
	b = append(b, c.Seed[:]...)
	return appendBytes(b, c.Entropy)
}

// DecodeConfig decodes and checks a configuration record. Entropy aliases
// b.
func DecodeConfig(b []byte) (Config, error) {
	var c Config
	if len(b) < 4 {
		return c, ErrBadConfig
	}
	if getU32(b) != Version {
		return c, ErrVersion
	}
	if len(b) < configFixed+4 {
		return c, ErrBadConfig
	}
	flags := getU32(b[4:])
	c.AllowUpgrades = flags&CfgAllowUpgrades != 0
	c.AllowEIO3 = flags&CfgAllowEIO3 != 0
	c.SocketIO = flags&CfgSocketIO != 0
	if flags&CfgPolling != 0 {
		c.Transports |= eio.TransportPolling
	}
	if flags&CfgWebSocket != 0 {
		c.Transports |= eio.TransportWebSocket
	}
	if flags&CfgMsgpack != 0 {
		c.Parser = sio.ParserMsgpack
	}
	p := b[8:]
	c.PingInterval, c.PingTimeout = int64(getU64(p)), int64(getU64(p[8:]))
	c.UpgradeTimeout, c.MaxPayload = int64(getU64(p[16:])), int64(getU64(p[24:]))
	c.ConnectTimeout = int64(getU64(p[32:]))
	p = p[40:]
	c.IDPrefix, c.Random = p[0], RandomMode(p[1])
	if flags&^cfgAll != 0 || getU16(p[2:]) != 0 {
		return c, ErrBadConfig
	}
	copy(c.Seed[:], p[4:36])
	r := reader{b: p[36:]}
	c.Entropy = r.bytes()
	if r.err != nil || len(r.b) != 0 {
		return c, ErrBadConfig
	}
	return c, c.Check()
}

// Check reports whether c is a configuration the core can run.
func (c *Config) Check() error {
	switch {
	case c.PingInterval <= 0, c.PingTimeout <= 0, c.UpgradeTimeout <= 0, c.MaxPayload <= 0,
		c.ConnectTimeout < 0, c.Random > RandomSeeded, c.Parser > sio.ParserMsgpack:
		return ErrBadConfig
	case c.IDPrefix != 0 && !base64URL(c.IDPrefix):
		return ErrBadConfig
	}
	return nil
}

func base64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
