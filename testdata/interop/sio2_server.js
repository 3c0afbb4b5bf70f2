// Runs the official socket.io 2.5 server (Engine.IO protocol 3, Socket.IO
// protocol 4) for the Go Socket.IO client's EIO3 mode.
//
// usage: node sio2_server.js
//
// It listens on an ephemeral port of 127.0.0.1 and prints {"port":N}, then
// {"connect":id,"nsp":…,"query":{…}} and {"disconnect":id,"nsp":…,"reason":…}.
// In "/" and "/chat": "echo" is emitted back, "add" (a, b, ack) acks a+b,
// "kick" disconnects the socket, and each new socket is emitted "ask" 21
// with an ack ({"ackFrom":id,"args":[…]}). "/private" refuses everyone
// with the error "not authorized". It exits when its stdin closes.
"use strict";

const http = require("http");
const ioServer = require("sio-server-v2");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const httpServer = http.createServer();
const io = ioServer(httpServer);

const setup = (nsp) => {
  nsp.on("connection", (socket) => {
    out({ connect: socket.id, nsp: nsp.name, query: socket.handshake.query });
    socket.on("echo", (...args) => socket.emit("echo", ...args));
    socket.on("add", (a, b, ack) => ack(a + b));
    socket.on("kick", () => socket.disconnect());
    socket.on("disconnect", (reason) => out({ disconnect: socket.id, nsp: nsp.name, reason }));
    socket.emit("ask", 21, (...args) => out({ ackFrom: socket.id, args }));
  });
};
setup(io.of("/"));
setup(io.of("/chat"));
io.of("/private").use((socket, next) => next(new Error("not authorized")));

httpServer.listen(0, "127.0.0.1", () => out({ port: httpServer.address().port }));

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
