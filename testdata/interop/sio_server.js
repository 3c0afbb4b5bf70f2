// Runs the official socket.io server (socket.io 4.8) for the Go Socket.IO
// client tests (hostnative.Manager).
//
// usage: node sio_server.js
//
// It listens on an ephemeral port of 127.0.0.1 and prints {"port":N}, then
// one JSON object per event: {"connect":id,"nsp":…,"auth":…},
// {"ackFrom":id,"args":[…]}, {"disconnect":id,"nsp":…,"reason":…}.
// In every namespace: "echo" is emitted back with its arguments, "add"
// (a, b, ack) acks a+b, "kick" disconnects the socket from the server, and
// each new socket is emitted "ask" 21 with an ack. An auth of
// {"token":"bad"} is refused with the message "not authorized" and data
// {"code":401}. It exits when its stdin closes.
"use strict";

const http = require("http");
const { Server } = require("sio-server-v4");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

const httpServer = http.createServer();
const io = new Server(httpServer);

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
    out({ connect: socket.id, nsp: nsp.name, auth: socket.handshake.auth });
    socket.on("echo", (...args) => socket.emit("echo", ...args));
    socket.on("add", (a, b, ack) => ack(a + b));
    socket.on("kick", () => socket.disconnect());
    socket.on("disconnect", (reason) => out({ disconnect: socket.id, nsp: nsp.name, reason }));
    socket.emit("ask", 21, (...args) => out({ ackFrom: socket.id, args }));
  });
};
setup(io.of("/"));
setup(io.of("/chat"));

httpServer.listen(0, "127.0.0.1", () => out({ port: httpServer.address().port }));

process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
