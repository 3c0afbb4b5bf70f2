// Package hostnative serves siohost's protocol core over real sockets: HTTP
// long-polling through net/http, WebSocket through github.com/gobwas/ws, and
// real timers driving the core's deadlines. It is the public Go API that
// applications embed.
//
// Server is a Socket.IO server and Engine a bare Engine.IO server (both
// http.Handlers); Manager and its ClientSockets are the Socket.IO client
// (Dial is socket.io-client's io()), over EngineClient, the Engine.IO
// client. Every exported method
// of every type in this package is safe for concurrent use. Handlers that an
// application registers run one at a time per connection, in the order the
// events happened; a panicking handler is recovered and logged with log/slog.
//
// The polling transport includes JSONP polling, which socket.io-client 2.x
// and 3.x use in browsers with forceJSONP: a handshake with a "j" query
// parameter makes the session's GET answers scripts (___eio[j]("payload");)
// and its POSTs forms (field d), with the limits, errors and upgrade of
// plain polling (see EngineOptions.Transports).
//
// The protocol core (core/eio and core/sio) runs natively by default.
// EngineOptions.Core chooses where it runs instead: with a hostwasm Module
// m, Core: m.NewCore runs each shard's core in WebAssembly, behind the same
// API and transports (see core/abi.Backend and docs/runtime.md). A
// WebAssembly core that traps or panics is replaced: the sessions it held
// close with "transport error", and the others are not affected.
package hostnative
