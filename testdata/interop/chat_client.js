// Drives the chat of examples/chat/chat with the official socket.io-client
// 4 and prints one JSON object per observed step, for the Go test to assert.
//
// usage: [SIO_CA=ca.pem] node chat_client.js <url> <transports,comma,separated>
//
// alice and bob join room "go", carol room "elsewhere". bob types (alice
// sees it), alice sends a message and an image (bob gets both, alice gets
// her acks), bob leaves (alice sees him go), carol, alone elsewhere, sees
// none of it, and a message outside any room is refused. bob rejoins and
// disconnects: alice sees him go.
"use strict";

const { io } = require("sio-client-v4");

const [, , url, transportsArg] = process.argv;
const transports = (transportsArg || "polling,websocket").split(",");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (msg) => {
  out({ error: String(msg && msg.stack ? msg.stack : msg) });
  process.exit(1);
};
setTimeout(() => fail("timeout"), 15000).unref();

// SIO_CA: a PEM file of the certificate authority to trust for https.
const ca = process.env.SIO_CA ? require("fs").readFileSync(process.env.SIO_CA) : undefined;

function client(nick, room) {
  const s = io(url, { auth: { nick, room }, transports, forceNew: true, reconnection: false, ca });
  s.on("connect_error", (err) => fail(nick + ": connect_error " + err.message));
  return s;
}

// next resolves with the arguments of the next event that pred accepts.
function next(socket, event, pred = () => true) {
  return new Promise((resolve) => {
    const fn = (...args) => {
      if (pred(...args)) {
        socket.off(event, fn);
        resolve(args);
      }
    };
    socket.on(event, fn);
  });
}

const emitAck = (socket, ...args) =>
  new Promise((resolve, reject) =>
    socket.timeout(5000).emit(...args, (err, res) => (err ? reject(err) : resolve(res))));

async function main() {
  const alice = client("alice", "go");
  const aliceWelcome = next(alice, "welcome");
  const bothThere = next(alice, "presence", (p) => p.members.includes("bob"));
  const carol = client("carol", "elsewhere");
  const carolWelcome = next(carol, "welcome");
  const carolSaw = [];
  for (const ev of ["message", "image", "typing"]) carol.on(ev, () => carolSaw.push(ev));
  out({ welcome: (await aliceWelcome)[0] });
  await carolWelcome;

  const bob = client("bob", "go");
  out({ welcome: (await next(bob, "welcome"))[0] });
  out({ presence: (await bothThere)[0] });

  // Typing is volatile: bob keeps saying so, as the page does, until alice
  // has seen it.
  const typing = next(alice, "typing");
  const ticker = setInterval(() => bob.volatile.emit("typing", true), 100);
  bob.volatile.emit("typing", true);
  out({ typing: (await typing)[0] });
  clearInterval(ticker);

  const message = next(bob, "message");
  out({ ack: "message", res: await emitAck(alice, "message", "hello bob") });
  out({ message: (await message)[0] });

  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 1, 2, 255]);
  const image = next(bob, "image");
  out({ ack: "image", res: await emitAck(alice, "image", { name: "dot.png", type: "image/png" }, png) });
  const [meta, data] = await image;
  out({ image: meta, binary: Buffer.isBuffer(data), data: Buffer.from(data).toString("hex") });

  const bobGone = next(alice, "presence", (p) => !p.members.includes("bob"));
  out({ ack: "leave", res: await emitAck(bob, "leave") });
  out({ presence: (await bobGone)[0] });
  out({ ack: "message-outside", res: await emitAck(bob, "message", "anyone?") });

  out({ carolSaw });

  // bob comes back, then goes away for good: alice sees him go.
  out({ ack: "rejoin", res: await emitAck(bob, "join", "go") });
  const bobClosed = next(alice, "presence", (p) => !p.members.includes("bob"));
  bob.disconnect();
  out({ closed: (await bobClosed)[0] });
  for (const s of [alice, carol]) s.disconnect();
}

main().catch(fail);
