// Prints the bytes socket.io-client 4.8 sends with socket.io-msgpack-parser
// 3.0.2, for siohost's tests to compare its client core's packets with
// (core/sio and hostnative/client_msgpack_node_test.go).
//
// usage: node msgpack_client_wire.js
//
// It runs a socket.io 4.8 server with the msgpack parser in this process
// and connects the official client to it over WebSocket, with a parser
// that records what the client's Encoder writes. The sequence:
//   - "/" connects with auth {"token":"abc","n":1.5,"list":[1,"x",null,true]};
//   - the server emits "ask" 21 with an ack; the client answers 42, "ok";
//   - the client emits "echo" "hi", {a: {b: [1, 2.5, -3, 300, -200, 70000]}},
//     Buffer [7, 8] (no ack), then "add" 2, 3 with an ack;
//   - "/chat" connects without auth, then disconnects.
// Then it encodes, with the parser's Encoder, the CONNECT packets
// socket.io-client builds when it recovers a session: pid "P" without an
// offset, and pid "P" with offset "O", both with auth {"token":"abc"}.
//
// Prints one JSON object per packet the client wrote:
// {"name": "...", "hex": "..."}, then {"done": true}.
"use strict";

const http = require("http");
const { Server } = require("sio-server-v4");
const { io } = require("sio-client-v4");
const parser = require("socket.io-msgpack-parser");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (msg) => {
  out({ error: String(msg && msg.stack ? msg.stack : msg) });
  process.exit(1);
};
setTimeout(() => fail("timeout"), 15000).unref();

// name labels a packet the client writes.
const name = (p) => {
  const nsp = p.nsp === "/" ? "" : p.nsp;
  switch (p.type) {
    case 0:
      return "connect" + nsp;
    case 1:
      return "disconnect" + nsp;
    case 2:
      return "event:" + p.data[0] + nsp;
    case 3:
      return "ack" + nsp;
  }
  return "type" + p.type;
};

class RecordingEncoder extends parser.Encoder {
  encode(packet) {
    const enc = super.encode(packet);
    for (const b of enc) out({ name: name(packet), hex: Buffer.from(b).toString("hex") });
    return enc;
  }
}
const recording = { protocol: parser.protocol, PacketType: parser.PacketType, Encoder: RecordingEncoder, Decoder: parser.Decoder };

const httpServer = http.createServer();
const server = new Server(httpServer, { parser });
for (const nsp of ["/", "/chat"]) {
  server.of(nsp).on("connection", (socket) => {
    socket.on("add", (a, b, ack) => ack(a + b));
    socket.on("echo", () => {});
    if (nsp === "/") socket.emit("ask", 21, () => {});
  });
}

httpServer.listen(0, "127.0.0.1", () => {
  const url = `http://127.0.0.1:${httpServer.address().port}`;
  const opts = { parser: recording, transports: ["websocket"], reconnection: false };
  const root = io(url, { ...opts, auth: { token: "abc", n: 1.5, list: [1, "x", null, true] } });
  let asked = false;
  let added = false;
  const proceed = () => {
    if (!asked || !added) return;
    const chat = root.io.socket("/chat"); // connects at once (autoConnect)
    chat.on("connect", () => {
      chat.disconnect();
      setTimeout(finish, 50);
    });
  };
  root.on("ask", (n, ack) => {
    ack(n * 2, "ok");
    asked = true;
    proceed();
  });
  root.on("connect", () => {
    root.emit("echo", "hi", { a: { b: [1, 2.5, -3, 300, -200, 70000] } }, Buffer.from([7, 8]));
    root.emit("add", 2, 3, () => {
      added = true;
      proceed();
    });
  });
  root.on("connect_error", fail);
});

const finish = () => {
  const enc = new parser.Encoder();
  const hex = (p) => Buffer.from(enc.encode(p)[0]).toString("hex");
  // As socket.io-client's _sendConnectPacket builds them.
  out({ name: "recover", hex: hex({ type: 0, data: Object.assign({ pid: "P", offset: undefined }, { token: "abc" }), nsp: "/" }) });
  out({ name: "recoverOffset", hex: hex({ type: 0, data: Object.assign({ pid: "P", offset: "O" }, { token: "abc" }), nsp: "/" }) });
  out({ done: true });
  process.exit(0);
};
