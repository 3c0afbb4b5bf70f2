// Drives an official socket.io-client (2.x, 3.x or 4.x) against a server
// under test through one scenario and prints one JSON object per observed
// fact, for the Go tests to assert on (hostnative/server_node_test.go).
//
// usage: node sio_client.js <2|3|4> <url> <transports,comma,separated> <upgrade:true|false> <scenario>
//
// Every client is created with {forceNew: true, reconnection: false}. The
// v2 client passes its auth as `query` (socket.io-client 2.x has no `auth`)
// and reports namespace errors through its `error` event.
//
// Binary values are printed as {"hex": "..."} so that the Go side can tell
// them from strings. The last line of a successful run is {"done": true}.
//
// With SIO_PARSER=msgpack in the environment, the 3.x and 4.x clients use
// socket.io-msgpack-parser (parser option) instead of the default parser.
"use strict";

const [, , version, url, transportsArg, upgradeArg, scenario] = process.argv;
const transports = transportsArg.split(",");
const upgrade = upgradeArg === "true";
const lib = require("sio-client-v" + version);
const lookup = lib.connect || lib;
const v2 = version === "2";
const parser = process.env.SIO_PARSER === "msgpack" ? require("socket.io-msgpack-parser") : undefined;

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
let finished = false;
const fail = (msg) => {
  out({ error: String(msg && msg.stack ? msg.stack : msg) });
  process.exit(1);
};
setTimeout(() => fail("timeout in scenario " + scenario), 20000).unref();
process.on("exit", (code) => {
  if (!finished && code === 0) {
    out({ error: "exited before the scenario finished" });
    process.exitCode = 1;
  }
});

// connect opens a new client (its own manager and engine) to nsp.
function connect(nsp, auth) {
  const opts = { forceNew: true, reconnection: false, transports, upgrade };
  if (parser) opts.parser = parser;
  if (auth) {
    if (v2) opts.query = auth;
    else opts.auth = auth;
  }
  return lookup(url + (nsp === "/" ? "" : nsp), opts);
}

// connected resolves on connect and rejects on any connection error.
function connected(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + describeError(err))));
    if (v2) socket.once("error", (err) => reject(new Error("error: " + describeError(err))));
  });
}

// refused resolves with the error a refused namespace connection reports:
// connect_error for 3.x/4.x, error for 2.x.
function refused(socket) {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => reject(new Error("unexpected connect to " + socket.nsp)));
    if (v2) {
      socket.once("error", (err) => resolve({ raw: norm(err) }));
      socket.once("connect_error", (err) => reject(new Error("engine connect_error: " + describeError(err))));
    } else {
      socket.once("connect_error", (err) => resolve({ message: err.message, data: norm(err.data) }));
    }
  });
}

function describeError(err) {
  if (err && err.message) return err.message;
  return JSON.stringify(err);
}

const once = (emitter, event) => new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));

// emitAck emits and resolves with the acknowledgement's arguments.
const emitAck = (socket, event, ...args) =>
  new Promise((resolve) => socket.emit(event, ...args, (...reply) => resolve(reply)));

const transportOf = (socket) => socket.io.engine.transport.name;

// upgraded resolves once the engine runs over WebSocket.
function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === "websocket") return Promise.resolve("websocket");
  return new Promise((resolve) => engine.once("upgrade", (t) => resolve(t.name)));
}

// closed resolves when the socket's engine is closed (so the process can
// exit on its own once the last request is done).
function engineClosed(socket) {
  const engine = socket.io.engine;
  if (!engine || engine.readyState === "closed") return Promise.resolve();
  return new Promise((resolve) => engine.once("close", () => resolve()));
}

async function close(...sockets) {
  const waits = sockets.map(engineClosed);
  for (const s of sockets) s.disconnect();
  await Promise.all(waits);
}

// norm turns binary values into {hex} recursively, for printing.
function norm(v) {
  if (v === undefined) return null;
  if (Buffer.isBuffer(v)) return { hex: v.toString("hex") };
  if (v instanceof ArrayBuffer) return { hex: Buffer.from(v).toString("hex") };
  if (ArrayBuffer.isView(v)) return { hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") };
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = norm(v[k]);
    return o;
  }
  return v;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const scenarios = {
  // 1. Connect to "/" with auth; the server acknowledges "whoami" with what
  // it saw (socket id, auth, query token, transport).
  async connect() {
    const s = connect("/", { token: "abc" });
    await connected(s);
    out({ connect: s.id, transport: transportOf(s) });
    if (upgrade) out({ upgraded: await upgraded(s) });
    const [who] = await emitAck(s, "whoami");
    out({ whoami: who, transport: transportOf(s) });
    await close(s);
  },

  // 2. Echo of text and binary arguments, raw (echo), typed (echo2) and
  // generic (echo3).
  async echo() {
    const s = connect("/");
    await connected(s);
    const text = ["plain", 42, 1.5, true, null, { k: "<&>", nested: [1, "x"] }, "héllo € 😀"];
    let got = once(s, "echo");
    s.emit("echo", ...text);
    out({ sent: "text", echo: norm(await got) });

    const mixed = ["héllo € 😀", Buffer.from([1, 2, 3]), { a: [1, "x", null], b: Buffer.from([4, 5]) }];
    got = once(s, "echo");
    s.emit("echo", ...mixed);
    out({ sent: "mixed", echo: norm(await got) });

    got = once(s, "echo2");
    s.emit("echotyped", "typé", Buffer.from([0, 255, 10, 13]));
    out({ echo2: norm(await got) });

    got = once(s, "echo3");
    s.emit("echoargs", ...mixed);
    out({ echo3: norm(await got) });

    out({ sent: "empty-buffer", echo: norm(await (() => {
      const p = once(s, "echo");
      s.emit("echo", Buffer.alloc(0));
      return p;
    })()) });
    await close(s);
  },

  // 3. Acks both ways.
  async ack() {
    const s = connect("/");
    s.on("ask", (n, cb) => cb(n + 1, Buffer.from([4, 5, 6])));
    s.on("ignore", (n) => out({ ignored: n }));
    await connected(s);
    out({ ack: norm(await emitAck(s, "withack", "q", Buffer.from([7, 8]))) });
    out({ ackEmpty: norm(await emitAck(s, "noargs")) });
    const asked = once(s, "asked");
    s.emit("askme");
    out({ asked: norm(await asked) });
    await close(s);
  },

  // 3b. The server awaits an ack inside its event handler.
  async ackinline() {
    const s = connect("/");
    s.on("ask", (n, cb) => cb(n + 1));
    await connected(s);
    const asked = once(s, "asked");
    s.emit("askinline");
    out({ asked: norm(await asked) });
    await close(s);
  },

  // 4. A custom namespace with auth, and an unknown one.
  async namespaces() {
    const c = connect("/custom", { token: "abc" });
    await connected(c);
    const [who] = await emitAck(c, "whoami");
    out({ custom: c.id, whoami: who });
    const r = connect("/random");
    out({ random: await refused(r) });
    await close(c, r);
  },

  // 5. Middleware refusals, with and without data.
  async middleware() {
    const a = connect("/forbidden", { token: "abc" });
    out({ forbidden: await refused(a) });
    const b = connect("/forbidden-plain");
    out({ plain: await refused(b) });
    await close(a, b);
  },

  // 6. Rooms and broadcasts to many clients: all join "r", odd ones also
  // "r2"; client 0 shouts to "r" (itself excluded) and the server sends
  // "notr2" to everyone except "r2".
  async broadcast() {
    const n = Number(process.env.SIO_CLIENTS || 100);
    const clients = [];
    for (let i = 0; i < n; i++) clients.push(connect("/"));
    const counts = clients.map(() => ({ shouted: 0, notr2: 0 }));
    const expected = clients.map((_, i) => ({ shouted: i === 0 ? 0 : 1, notr2: i % 2 === 0 ? 1 : 0 }));
    let pending = expected.reduce((a, e) => a + e.shouted + e.notr2, 0);
    let allIn;
    const allReceived = new Promise((r) => (allIn = r));
    clients.forEach((c, i) => {
      for (const ev of ["shouted", "notr2"]) {
        c.on(ev, () => {
          counts[i][ev]++;
          if (counts[i][ev] <= expected[i][ev] && --pending === 0) allIn();
        });
      }
    });
    await Promise.all(clients.map(connected));
    const ids = await Promise.all(
      clients.map((c, i) => emitAck(c, "join", i % 2 === 1 ? ["r", "r2"] : ["r"]).then(([id]) => id)),
    );
    out({ joined: ids.length, idsMatch: ids.every((id, i) => id === clients[i].id) });
    const [info] = await emitAck(clients[0], "shout", "hi");
    out({ shout: info });
    await allReceived;
    await sleep(100); // let duplicates, if any, arrive
    out({ counts: counts.map((c) => [c.shouted, c.notr2]) });
    await close(...clients);
  },

  // 7. Volatile events.
  async volatile() {
    const s = connect("/");
    const got = [];
    s.on("vol", (x) => got.push(x));
    await connected(s);
    if (upgrade) await upgraded(s);
    const done = once(s, "vol-done");
    s.emit("vol");
    const [err] = await done;
    out({ volatile: got, err, transport: transportOf(s) });
    await close(s);
  },

  // 8. Disconnections, each way.
  async "client-disconnect"() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    const reason = once(s, "disconnect");
    const closed = engineClosed(s);
    s.disconnect();
    out({ reason: (await reason)[0] });
    await closed;
  },
  async "server-disconnect"() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    const reason = once(s, "disconnect");
    s.emit("bye");
    out({ reason: (await reason)[0], connected: s.connected });
    await engineClosed(s);
  },
  async "server-disconnect-close"() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    const reason = once(s, "disconnect");
    s.emit("bye-close");
    out({ reason: (await reason)[0] });
    await engineClosed(s);
  },
  async "server-close"() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    const reason = once(s, "disconnect");
    s.emit("shutdown");
    out({ reason: (await reason)[0] });
    await engineClosed(s);
  },
  async "engine-close"() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    const reason = once(s, "disconnect");
    s.io.engine.close();
    out({ reason: (await reason)[0] });
  },
  async kill() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    await emitAck(s, "whoami");
    await sleep(100); // a polling client has its next GET parked by then
    out({ killing: s.id, transport: transportOf(s) });
    finished = true;
    process.kill(process.pid, "SIGKILL");
  },

  // 9. A message larger than the server's maxHttpBufferSize.
  async maxbuffer() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    const reason = once(s, "disconnect");
    s.emit("big", "x".repeat(5000));
    out({ reason: (await reason)[0], transport: transportOf(s) });
  },

  // 10. An event sent right after connect, while the server's connection
  // handler is still blocked.
  async early() {
    const s = connect("/");
    const acked = new Promise((resolve) =>
      s.once("connect", () => s.emit("early", "now", (...a) => resolve(a))),
    );
    await connected(s);
    out({ early: norm(await acked) });
    await close(s);
  },

  // 11. Connection state recovery (socket.io-client 4): "prepare" has the
  // server join a room, keep data and broadcast "seed" (an offset); "drop"
  // has it close the transport and, once the socket is gone, broadcast
  // "missed" 1, 2, 3 to the room. The client connects again by hand.
  async recovery() {
    const s = connect("/");
    await connected(s);
    const first = s.id;
    out({ connect: first, recovered: s.recovered });
    const seeded = once(s, "seed");
    s.emit("prepare");
    await seeded;
    const gone = once(s, "disconnect");
    s.emit("drop");
    out({ disconnect: (await gone)[0] });
    await sleep(200);
    const missed = [];
    s.on("missed", (n) => missed.push(n));
    s.connect();
    await connected(s);
    out({ reconnect: s.id, recovered: s.recovered, same: s.id === first });
    const [who] = await emitAck(s, "whoami");
    await sleep(100);
    out({ missed, whoami: norm(who) });
    await close(s);
  },

  // 12. Per-message deflate, against a server that enables it: prints the
  // extensions ws negotiated; "send3" has the server emit "big" (over the
  // 1024-byte threshold), "small" and "plain" (as big, with
  // compress(false)); then "up" with a big string, twice (the second one
  // compresses against the first when ws keeps its context), and a tiny
  // one, each acked with the string's length.
  async deflate() {
    const s = connect("/");
    await connected(s);
    if (upgrade) await upgraded(s);
    const ws = s.io.engine.transport.ws;
    out({ extensions: ws ? ws.extensions : null, transport: transportOf(s) });
    const got = ["big", "small", "plain"].map((ev) => once(s, ev));
    s.emit("send3");
    out({ received: (await Promise.all(got)).map(([v]) => v.length) });
    const big = "upward and onward ".repeat(200);
    const acked = [];
    for (const v of [big, big, "tiny"]) acked.push((await emitAck(s, "up", v))[0]);
    out({ acked });
    await close(s);
  },
};

// 13. Values of every kind, both ways: "echo" (raw), "echoargs" (decoded
// into Go values, then emitted) and "withack"-style acks ("values" acks
// its arguments back); each comparison is printed as {check, ok, got}.
scenarios.values = async function values() {
  const s = connect("/");
  await connected(s);
  if (upgrade) await upgraded(s);
  const sent = [
    0, 1, -1, 127, 128, -32, -33, 255, 65536, -65537, 4294967296, -4294967297, 9007199254740991, -9007199254740991,
    // Integral numbers stay below 2^64: notepack wraps larger ones around.
    1.5, -0.25, 0.1, 1e19, 5e-324, 1.5e-300, 123456.789,
    "", "héllo € 😀", "x".repeat(300), "quote\"back\\slash\nnewline\u0000",
    null, true, false,
    { nested: { deeper: [1, [2, [3, { k: "v" }]]], empty: {}, list: [] }, "key with spaces": 1 },
    [[], [[]], [null, false]],
    Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.alloc(70000, 7),
    { bin: Buffer.from([255, 0]), arr: [Buffer.from([9])] },
  ];
  // Compared with object keys sorted: Go maps have no order.
  const canon = (v) => JSON.stringify(norm(v), (k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x);
  const short = (v) => canon(v).slice(0, 120);
  const expect = (got, check) => {
    const diffs = [];
    for (let i = 0; i < Math.max(got.length, sent.length); i++) {
      if (canon(got[i]) !== canon(sent[i])) diffs.push({ i, got: short(got[i]), want: short(sent[i]) });
    }
    out({ check, ok: diffs.length === 0, diffs });
  };
  let got = once(s, "echo");
  s.emit("echo", ...sent);
  expect(await got, "raw echo");
  got = once(s, "echo3");
  s.emit("echoargs", ...sent);
  expect(await got, "decoded echo");
  expect(await emitAck(s, "values", ...sent), "ack");
  // Typed arrays and ArrayBuffers are sent as ext 0 and come back as
  // Buffers with the same bytes; Dates as their ISO string.
  got = once(s, "echo");
  const date = new Date(Date.UTC(2024, 1, 29, 12, 30, 45, 678));
  s.emit("echo", new Uint8Array([4, 5]), new Uint16Array([1]).buffer, date);
  out({ typed: norm(await got) });
  // The server asks with values of every kind; the client acks them back.
  s.on("ask-values", (...args) => args.pop()(...args));
  const asked = once(s, "asked-values");
  s.emit("ask-values");
  const [res] = await asked;
  out({ asked: res });
  await close(s);
};

const run = scenarios[scenario];
if (!run) fail("unknown scenario " + scenario);
run().then(
  () => {
    finished = true;
    out({ done: true });
    // Exit on our own once every request is finished; force it if a
    // client keeps a handle open.
    setTimeout(() => process.exit(0), 3000).unref();
  },
  (err) => fail(err),
);
