// The browser side of bindings/js's Go test: it runs the client through
// its cases against the test's siohost server and reports each step (and
// the end) to /report, where the Go test reads them.

import { load } from "/js/siohost.js";

const logEl = document.getElementById("log");
const report = (obj) => fetch("/report", { method: "POST", body: JSON.stringify(obj) }).catch(() => {});
const results = {};

function step(name, ok, detail) {
  results[name] = { ok: !!ok, detail };
  logEl.textContent += `${ok ? "ok  " : "FAIL"} ${name} ${JSON.stringify(detail)}\n`;
  return report({ step: name, ok: !!ok, detail });
}

/** Resolves with the arguments of the next ev on target, or rejects after ms. */
function next(target, ev, ms = 15000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { target.off(ev, fn); reject(new Error(`no ${ev} within ${ms} ms`)); }, ms);
    const fn = (...args) => { clearTimeout(t); target.off(ev, fn); resolve(args); };
    target.on(ev, fn);
  });
}

const bytes = (buf) => Array.from(new Uint8Array(buf));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function run() {
  const io = await load("/siohost-core.wasm");
  const socket = io(location.origin, { auth: { token: "secret" } });
  const upgraded = next(socket, "upgrade");
  const opened = next(socket.io, "open").then(() => socket.transport);
  const trace = (what) => (...args) => report({ log: `${what} ${args.map((a) => (a instanceof Error ? `${a.message} ${a.description || ""}` : JSON.stringify(a))).join(" ")}` });
  socket.on("connect_error", trace("connect_error"));
  socket.on("disconnect", trace("disconnect"));
  for (const ev of ["open", "close", "error", "upgradeError", "reconnect_attempt", "reconnect_error"]) socket.io.on(ev, trace(ev));
  socket.on("ask", (x, bin, cb) => cb(x * 2, bin, new Uint8Array([7])));

  await next(socket, "connect");
  const first = await opened;
  await step("connect", socket.connected && socket.id && first === "polling", { id: socket.id, openedOn: first, transport: socket.transport });
  if (socket.transport !== "websocket") await upgraded;
  await step("upgrade", socket.transport === "websocket", { transport: socket.transport });

  const [a, b] = await new Promise((resolve) => socket.emit("echo", "héllo ☃", { n: 1 }, (...r) => resolve(r)));
  await step("text ack", a === "héllo ☃" && b.n === 1, { a, b });

  const bin = await socket.emitWithAck("echo", new Uint8Array([1, 2, 3, 255]), { nested: new Uint8Array([4]).buffer });
  await step("binary ack", bin instanceof ArrayBuffer && bytes(bin).join() === "1,2,3,255", { got: bin instanceof ArrayBuffer ? bytes(bin) : String(bin) });

  const asked = next(socket, "asked");
  socket.emit("ask-me", 21);
  const [res] = await asked;
  await step("server ack", res.ok === true, res);

  let timeoutErr = null;
  try {
    await socket.timeout(200).emitWithAck("never");
  } catch (err) {
    timeoutErr = err.message;
  }
  await step("ack timeout", timeoutErr === "operation has timed out", { error: timeoutErr });

  const priv = io(location.origin + "/private", { reconnection: false });
  const [perr] = await next(priv, "connect_error");
  await step("connect_error server", perr.message === "forbidden" && perr.data && perr.data.code === 42, { message: perr.message, data: perr.data });
  priv.disconnect();

  const nowhere = io("http://127.0.0.1:1", { reconnection: false, transports: ["polling"] });
  const [terr] = await next(nowhere, "connect_error");
  await step("connect_error transport", terr.message === "xhr poll error" && terr.description && terr.context && terr.context.op === "handshake",
    { message: terr.message, description: terr.description, context: terr.context });
  nowhere.disconnect();

  // The cost of a message: one at a time (a round trip each) and batched
  // (all in one turn of the event loop: one core call, one WebSocket
  // frame each).
  const N = 2000;
  let t0 = performance.now();
  for (let i = 0; i < 200; i++) await socket.emitWithAck("count", i);
  const serial = (performance.now() - t0) / 200;
  const calls0 = io.core.stats.calls;
  t0 = performance.now();
  const all = [];
  for (let i = 0; i < N; i++) all.push(socket.emitWithAck("count", i));
  await Promise.all(all);
  const batched = (performance.now() - t0) / N;
  const batchCalls = io.core.stats.calls - calls0;
  t0 = performance.now();
  const coreMs0 = io.core.stats.ms;
  for (let i = 0; i < N; i++) socket.emit("count", i);
  io.core.flush();
  const coreEmitMs = (io.core.stats.ms - coreMs0) / N;
  await socket.emitWithAck("count", -1);
  const fireForget = (performance.now() - t0) / N;
  await step("perf", true, { roundTripMs: serial, batchedAckMs: batched, noAckMs: fireForget, coreEmitMs, n: N, coreCallsForBatch: batchCalls });

  socket.emit("kick");
  const [reason] = await next(socket, "disconnect");
  await sleep(300);
  await step("io server disconnect", reason === "io server disconnect" && !socket.connected, { reason, connected: socket.connected });
  const reupgraded = next(socket, "upgrade");
  socket.connect();
  await next(socket, "connect");
  await step("connect again", socket.connected, { id: socket.id });
  // The server goes away once the session is on WebSocket: halfway
  // through the upgrade, the client would see the new server refuse its
  // old session id ("transport error") instead.
  if (socket.transport !== "websocket") await reupgraded;

  const attempts = [];
  socket.io.on("reconnect_attempt", (n) => attempts.push(n));
  const gone = next(socket, "disconnect", 20000);
  await report({ restart: true });
  const [why] = await gone;
  await step("transport close", why === "transport close", { reason: why });
  await next(socket, "connect", 30000);
  const back = await socket.emitWithAck("echo", "back");
  await step("reconnect", back === "back", { attempts, transport: socket.transport });

  socket.disconnect();
}

window.addEventListener("error", (e) => report({ log: `window error: ${e.message}` }));
run().catch((err) => step("exception", false, { error: String(err && err.stack || err) }))
  .finally(() => report({ done: true, results }));
