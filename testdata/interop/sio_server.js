// Runs the official socket.io server (socket.io 4.8) for the Go Socket.IO
// client tests (hostnative.Manager).
//
// usage: node sio_server.js [OPTIONS_JSON]
//
// OPTIONS_JSON may set port (default: an ephemeral one), pingInterval and
// pingTimeout (ms), recovery (true: connectionStateRecovery on) and parser
// ("msgpack": socket.io-msgpack-parser).
// It listens on 127.0.0.1 and prints {"port":N}, then one JSON object per
// event: {"connect":id,"nsp":…,"auth":…,"engine":…,"recovered":…},
// {"ackFrom":id,"args":[…]}, {"disconnect":id,"nsp":…,"reason":…}.
// In every namespace: "echo" is emitted back with its arguments, "add"
// (a, b, ack) acks a+b, "noack" takes an ack it never calls, "kick"
// disconnects the socket from the server, "drop" broadcasts "before" to
// the socket, closes its transport, and once the socket is disconnected
// broadcasts "missed" 1, 2, 3 (what connection state recovery restores),
// "survey" broadcasts "survey" 1 to the socket with an ack (1 s timeout),
// and each new socket is emitted "ask" 21 with an ack. An auth of
// {"token":"bad"} is refused with the message "not authorized" and data
// {"code":401}. It exits when its stdin closes.
"use strict";

const http = require("http");
const { Server } = require("sio-server-v4");

const opts = JSON.parse(process.argv[2] || "{}");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const httpServer = http.createServer();
const serverOpts = {};
if (opts.pingInterval) serverOpts.pingInterval = opts.pingInterval;
if (opts.pingTimeout) serverOpts.pingTimeout = opts.pingTimeout;
if (opts.recovery) serverOpts.connectionStateRecovery = { maxDisconnectionDuration: 60000 };
if (opts.parser === "msgpack") serverOpts.parser = require("socket.io-msgpack-parser");
const io = new Server(httpServer, serverOpts);

const setup = (nsp) => {
  nsp.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === "bad") {
      const err = new Error("not authorized");
      err.data = { code: 401 };
      return next(err);
    }
    next();
  });
  nsp.on("connection", (socket) => {
    out({ connect: socket.id, nsp: nsp.name, auth: socket.handshake.auth, engine: socket.conn.id, recovered: socket.recovered });
    socket.on("echo", (...args) => socket.emit("echo", ...args));
    socket.on("add", (a, b, ack) => ack(a + b));
    socket.on("noack", () => {});
    socket.on("kick", () => socket.disconnect());
    socket.on("survey", () => nsp.to(socket.id).timeout(1000).emit("survey", 1, () => {}));
    socket.on("drop", () => {
      nsp.to(socket.id).emit("before", 0);
      socket.on("disconnect", () => {
        for (let i = 1; i <= 3; i++) nsp.emit("missed", i);
      });
      setTimeout(() => socket.conn.close(), 50);
    });
    socket.on("disconnect", (reason) => out({ disconnect: socket.id, nsp: nsp.name, reason }));
    if (!socket.recovered) socket.emit("ask", 21, (...args) => out({ ackFrom: socket.id, args }));
  });
};
setup(io.of("/"));
setup(io.of("/chat"));

httpServer.listen(opts.port || 0, "127.0.0.1", () => out({ port: httpServer.address().port }));

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
