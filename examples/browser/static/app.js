// The demo page: a chat over siohost's browser client.
import { load } from "/js/siohost.js";

const $ = (id) => document.getElementById(id);
const log = (line) => {
  $("log").textContent += line + "\n";
  $("log").scrollTop = $("log").scrollHeight;
};

const io = await load("/siohost-core.wasm");
const socket = io(location.origin);
const show = () => {
  $("status").textContent = socket.connected ? `connected as ${socket.id}` : "disconnected";
  $("transport").textContent = socket.transport || "-";
};

socket.on("connect", show);
socket.on("upgrade", (name) => { show(); log(`(upgraded to ${name})`); });
socket.on("disconnect", (reason, details) => { show(); log(`(disconnected: ${reason}${details ? ", " + details.description : ""})`); });
socket.on("connect_error", (err) => log(`(connect error: ${err.message}${err.description ? " — " + err.description : ""})`));
socket.io.on("reconnect_attempt", (n) => log(`(reconnection attempt ${n})`));
socket.on("chat", (from, text) => log(`${from}: ${text}`));

$("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  if ($("text").value) socket.emit("chat", $("text").value);
  $("text").value = "";
});
$("ping").addEventListener("click", async () => {
  const t0 = performance.now();
  await socket.timeout(5000).emitWithAck("echo", "ping");
  log(`(ack in ${(performance.now() - t0).toFixed(1)} ms)`);
});
$("bin").addEventListener("click", async () => {
  const back = await socket.timeout(5000).emitWithAck("echo", new Uint8Array([1, 2, 3, 4]));
  log(`(binary echo: ${Array.from(new Uint8Array(back)).join(",")})`);
});
