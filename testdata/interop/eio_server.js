// Runs the official engine.io server (engine.io 6.6) for the Go client tests.
//
// usage: node eio_server.js ['<JSON options for engine.io>']  (default: engine.io's)
//
// It listens on an ephemeral port of 127.0.0.1 and prints {"port":N}, then
// one JSON object per session event: {"open":sid,"transport":…,"protocol":…},
// {"upgrade":sid,"transport":…}, {"close":sid,"reason":…,"description":…}.
// Every message is echoed as is (text stays text, binary stays binary). It
// exits when its stdin closes.
"use strict";

const http = require("http");
const engine = require("eio-server-v6");

const opts = JSON.parse(process.argv[2] || "{}");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const httpServer = http.createServer();
const server = engine.attach(httpServer, opts);

server.on("connection", (socket) => {
  out({ open: socket.id, transport: socket.transport.name, protocol: socket.protocol });
  socket.on("message", (data) => socket.send(data));
  socket.on("upgrade", (t) => out({ upgrade: socket.id, transport: t.name }));
  socket.on("close", (reason, desc) =>
    out({ close: socket.id, reason, ...(desc ? { description: String((desc && desc.message) || desc) } : {}) }));
});

httpServer.listen(0, "127.0.0.1", () => out({ port: httpServer.address().port }));

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
