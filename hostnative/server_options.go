package hostnative

import (
	"io/fs"
	"time"

	"github.com/siohost/siohost/core/sio"
)

// Parser is the packet encoding of a Server, the reference's parser
// option: every client must use the same.
type Parser = sio.Parser

const (
	// ParserJSON is socket.io-parser, the default: text packets with
	// JSON payloads, binary values as separate attachments.
	ParserJSON = sio.ParserJSON
	// ParserMsgpack is socket.io-msgpack-parser 3 (clients set
	// `parser: require("socket.io-msgpack-parser")`): each packet is one
	// msgpack-encoded binary message. Handlers see the same raw JSON
	// arguments and []byte attachments as with the JSON parser; see
	// sio.DecodeMsgpack and sio.AppendMsgpack for how values map between
	// msgpack and JSON, and what is refused.
	ParserMsgpack = sio.ParserMsgpack
)

// ServerOptions configures a Socket.IO Server. Zero values mean the
// defaults of the Node reference (socket.io 4).
type ServerOptions struct {
	// Engine holds the Engine.IO options; its Path defaults to "/socket.io".
	Engine EngineOptions
	// ConnectTimeout closes a connection that joined no namespace by then.
	// Default 45 s.
	ConnectTimeout time.Duration
	// CleanupEmptyChildNamespaces removes a namespace created by a dynamic
	// parent once its last socket leaves.
	CleanupEmptyChildNamespaces bool
	// Adapter creates the adapter of each namespace. Default: in memory.
	Adapter func(*Namespace) Adapter
	// ConnectionStateRecovery, when set, lets sockets that lost their
	// transport come back with their state and the broadcasts they missed
	// (see ConnectionStateRecovery). Default off, as in the reference.
	ConnectionStateRecovery *ConnectionStateRecovery
	// ClientFiles, when set, holds the official browser client, which the
	// server then serves at its path as the reference's serveClient does
	// (/socket.io/socket.io.js, .min.js, .esm.min.js, .msgpack.min.js and
	// their .map files), tagged for caching and compressed when the
	// browser accepts it. Hand it socket.io-client's dist folder, e.g.
	// os.DirFS("node_modules/socket.io-client/dist"): siohost has no copy
	// of the client. Default nil: nothing is served.
	ClientFiles fs.FS
	// Parser selects the packet encoding: ParserJSON (the default) or
	// ParserMsgpack. The reference server and its clients must agree on
	// it; a client of the other parser is disconnected at its first
	// packet (a parse error).
	Parser Parser
}

func (o ServerOptions) withDefaults() ServerOptions {
	if o.Engine.Path == "" {
		o.Engine.Path = "/socket.io"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.Adapter == nil {
		o.Adapter = NewMemoryAdapter
	}
	return o
}
