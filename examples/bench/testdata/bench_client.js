// Drives examples/bench with the official socket.io-client 4 and prints one
// JSON object per observed step, for the Go test to assert. Run it from
// testdata/interop, where the client is installed.
//
// usage: node bench_client.js <url> <transports,comma,separated> <close|hold>
//
// Two clients connect; "a" checks "echo" and "ack" (text, numbers, objects
// and binary arguments come back as sent), then "broadcast": "b" gets it,
// "a" does not. With "hold" both then stay connected, print {ready:true},
// and exit once the server has disconnected them both.
"use strict";

const { io } = require(require.resolve("sio-client-v4", { paths: [process.cwd()] }));

const [, , url, transportsArg, mode] = process.argv;
const transports = transportsArg.split(",");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (msg) => {
  out({ error: String(msg && msg.stack ? msg.stack : msg) });
  process.exit(1);
};
setTimeout(() => fail("timeout"), 20000).unref();

// plain turns buffers into {hex} so arguments print as JSON.
const plain = (v) => {
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer) return { hex: Buffer.from(v).toString("hex") };
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
};

const connect = (name) =>
  new Promise((resolve) => {
    const s = io(url, { transports, forceNew: true, reconnection: false });
    s.on("connect_error", (err) => fail(name + ": connect_error " + err.message));
    s.once("connect", () => resolve(s));
  });
const once = (s, ev) => new Promise((resolve) => s.once(ev, (...args) => resolve(args)));

async function main() {
  const a = await connect("a");
  const b = await connect("b");
  let selfBroadcasts = 0;
  a.on("broadcast", () => selfBroadcasts++);

  const args = ["héllo", 42, { n: 1, nested: [true, null, "x"] }, Buffer.from([1, 2, 3])];
  let got = once(a, "echo");
  a.emit("echo", ...args);
  out({ echo: plain(await got) });

  const acked = await new Promise((resolve) => a.emit("ack", "x", Buffer.from([4, 5]), { k: "v" }, (...r) => resolve(r)));
  out({ ack: plain(acked) });

  got = once(b, "broadcast");
  a.emit("broadcast", "to the room", Buffer.from([6]));
  out({ broadcast: plain(await got) });
  // One more echo round trip: a broadcast to "a" would have come first.
  got = once(a, "echo");
  a.emit("echo", "flush");
  await got;
  out({ selfBroadcasts, transport: a.io.engine.transport.name });

  if (mode !== "hold") {
    a.disconnect();
    b.disconnect();
    return;
  }
  const gone = Promise.all([once(a, "disconnect"), once(b, "disconnect")]);
  out({ ready: true });
  const reasons = await gone;
  out({ disconnected: reasons.map((r) => r[0]) });
}

main().catch(fail);
