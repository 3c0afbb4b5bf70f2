// Speaks socket.io-msgpack-parser over a raw WebSocket (Engine.IO 4) to a
// server that runs the handlers of sio_server.js, through a fixed sequence
// of packets, and prints every message the server sends, in order, as hex:
// for siohost's tests to compare a Server's bytes with the Node
// reference's (hostnative/msgpack_node_test.go).
//
// usage: node msgpack_wire.js <http://host:port>
//
// Prints {"step": name, "frames": ["<hex>", ...]} per step (text frames as
// {"text": "..."}), then {"done": true}.
"use strict";

const WebSocket = require("ws");
const notepack = require("notepack.io");

const url = process.argv[2].replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (msg) => {
  out({ error: String(msg && msg.stack ? msg.stack : msg) });
  process.exit(1);
};
setTimeout(() => fail("timeout"), 15000).unref();

const queue = [];
let waiter = null;
const ws = new WebSocket(url);
ws.on("message", (data, isBinary) => {
  const f = isBinary ? Buffer.from(data).toString("hex") : { text: data.toString() };
  if (waiter) {
    const w = waiter;
    waiter = null;
    w(f);
  } else queue.push(f);
});
ws.on("error", fail);
const next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => (waiter = r)));

// send writes one packet; Engine.IO messages go as binary frames, whole.
const send = (packet) => ws.send(notepack.encode(packet));

async function step(name, packet, n) {
  if (packet) send(packet);
  const frames = [];
  for (let i = 0; i < n; i++) frames.push(await next());
  out({ step: name, frames });
}

ws.on("open", async () => {
  try {
    await step("open", null, 1);
    await step("connect", { type: 0, nsp: "/" }, 2); // CONNECT reply, then "ask" 21 with an ack id
    send({ type: 3, data: [22], id: 0, nsp: "/" });
    await step("echo", {
      type: 2,
      data: ["echo", 1, -1, 300, -200, 70000, 4294967296, 1.5, -0.25, "héllo € 😀", "x".repeat(40), "y".repeat(300),
        null, true, false, { a: [1, { b: Buffer.from([1, 2]) }], c: {} }, [], Buffer.from([3]), Buffer.alloc(300, 4)],
      nsp: "/",
    }, 1);
    await step("ack", { type: 2, data: ["add", 2, 3], id: 1, nsp: "/" }, 1);
    await step("middleware", { type: 0, data: { token: "bad" }, nsp: "/chat" }, 1);
    await step("invalid namespace", { type: 0, nsp: "/nope" }, 1);
    await step("connect /chat", { type: 0, data: { token: "good" }, nsp: "/chat" }, 2);
    await step("echo /chat", { type: 2, data: ["echo", "c", { k: [Buffer.from([5])] }], nsp: "/chat" }, 1);
    await step("kick", { type: 2, data: ["kick"], nsp: "/chat" }, 1);
    await step("broadcast with ack", { type: 2, data: ["survey"], nsp: "/" }, 1);
    await step("broadcast", { type: 2, data: ["drop"], nsp: "/" }, 1);
    out({ done: true });
    ws.close();
    setTimeout(() => process.exit(0), 100).unref();
  } catch (err) {
    fail(err);
  }
});
