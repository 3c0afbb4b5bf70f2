// Drives an official engine.io-client against a server under test and prints
// one JSON object per observed event, for the Go tests to assert on.
//
// usage: [EIO_CREDENTIALS=1] node eio_client.js <3|6> <url> <transports,comma,separated> <upgrade:true|false> <holdMs> [bigBytes]
//
// The client opens a session, sends a text and a binary message and waits
// for both to come back (the server echoes), then, if an upgrade is expected,
// waits for it and echoes both once more over the new transport. With
// bigBytes, it then echoes a compressible text and a binary message of that
// size, twice each, and a small text (for per-message deflate), and prints
// whether each came back intact. It then stays connected holdMs (so
// heartbeats run) and closes.
"use strict";

const [, , version, url, transportsArg, upgradeArg, holdArg] = process.argv;
const transports = transportsArg.split(",");
const upgrade = upgradeArg === "true";
const holdMs = Number(holdArg || 0);
const bigBytes = Number(process.argv[7] || 0);

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (msg) => {
  out({ error: String(msg) });
  process.exit(1);
};
setTimeout(() => fail("timeout"), 15000).unref();

let socket;
if (version === "3") {
  const eio = require("eio-client-v3");
  socket = eio(url, { transports, upgrade, path: "/engine.io" });
} else {
  const { Socket } = require("eio-client-v6");
  // EIO_CREDENTIALS=1: keep the cookies the server sets and send them back
  // (withCredentials; engine.io-client 6 has its own cookie jar in Node).
  socket = new Socket(url, { transports, upgrade, path: "/engine.io", withCredentials: process.env.EIO_CREDENTIALS === "1" });
}

let waiting = null; // resolves on the next message
socket.on("message", (data) => {
  const msg = typeof data === "string"
    ? { text: data }
    : { binary: Buffer.from(data).toString("hex") };
  if (waiting) {
    const w = waiting;
    waiting = null;
    w(msg);
  }
});
const next = () => new Promise((resolve) => (waiting = resolve));

let pings = 0;
socket.on("ping", () => pings++);
socket.on("pong", () => pings++);
socket.on("close", (reason, desc) => out({ close: reason }));
socket.on("error", (err) => fail(err && err.message ? err.message : err));

const upgraded = new Promise((resolve) => socket.on("upgrade", (t) => resolve(t.name)));

async function echo(label) {
  let got = next();
  socket.send("héllo " + label);
  out({ echo: label, transport: socket.transport.name, ...(await got) });
  got = next();
  socket.send(Buffer.from([1, 2, 3, label.length]));
  out({ echo: label, transport: socket.transport.name, ...(await got) });
}

socket.on("open", async () => {
  try {
    out({ open: socket.id, transport: socket.transport.name });
    await echo("first");
    if (upgrade) {
      out({ upgrade: await upgraded });
      await echo("upgraded");
    }
    if (bigBytes > 0) {
      const text = "compress me please ".repeat(Math.ceil(bigBytes / 19)).slice(0, bigBytes);
      const bin = Buffer.alloc(bigBytes, 7);
      for (const [label, msg] of [["text", text], ["binary", bin], ["text", text], ["binary", bin], ["small", "tiny"]]) {
        const got = next();
        socket.send(msg);
        const back = await got;
        const same = typeof msg === "string" ? back.text === msg : back.binary === msg.toString("hex");
        out({ big: label, same, transport: socket.transport.name });
      }
    }
    if (holdMs > 0) {
      await new Promise((r) => setTimeout(r, holdMs));
      out({ held: holdMs, pings, state: socket.readyState });
    }
    socket.close();
  } catch (e) {
    fail(e);
  }
});
