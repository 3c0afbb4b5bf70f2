// Encodes and decodes Socket.IO packets with socket.io-msgpack-parser
// (notepack.io), the reference's msgpack parser, for siohost's tests to
// compare its transcoder with (hostnative/msgpack_node_test.go).
//
// usage: node msgpack_codec.js  (requests on stdin, one JSON per line)
//
// Each request gets one JSON line back, in order:
//   {"encode": {"keys": ["type","data","nsp","id"], "type": 2, "data": "<JSON text>",
//               "nsp": "/", "id": 1, "atts": ["<hex>", ...]}}
//     builds the packet object with the keys in the given order (the data
//     parsed by JSON.parse, its placeholders replaced by Buffers of atts,
//     as socket.io-parser reconstructs them) and answers
//     {"hex": "<notepack.encode of it>"}; "undefined": ["key", ...] sets
//     those keys to undefined.
//   {"decode": "<hex>"}
//     runs the parser's Decoder on those bytes and answers
//     {"error": "<message>"} or {"type", "nsp", "id", "data": "<JSON text>",
//     "atts": ["<hex>", ...]}, where data is JSON.stringify of the decoded
//     data with each binary value (Buffer, ArrayBuffer) replaced by a
//     placeholder, in the order of a depth-first walk, as socket.io-parser
//     deconstructs a packet ("data" absent when the packet has none).
"use strict";

const readline = require("readline");
const notepack = require("notepack.io");
const parser = require("socket.io-msgpack-parser");

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

function reconstruct(v, atts) {
  if (Array.isArray(v)) return v.map((x) => reconstruct(x, atts));
  if (v && typeof v === "object") {
    if (v._placeholder === true && typeof v.num === "number" && v.num >= 0 && v.num < atts.length) {
      return Buffer.from(atts[v.num], "hex");
    }
    const o = {};
    for (const k of Object.keys(v)) o[k] = reconstruct(v[k], atts);
    return o;
  }
  return v;
}

function deconstruct(v, atts) {
  if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const b = Buffer.isBuffer(v) ? v : ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v);
    atts.push(b.toString("hex"));
    return { _placeholder: true, num: atts.length - 1 };
  }
  if (Array.isArray(v)) return v.map((x) => deconstruct(x, atts));
  if (v && typeof v === "object" && !(v instanceof Date)) {
    const o = {};
    for (const k of Object.keys(v)) o[k] = deconstruct(v[k], atts);
    return o;
  }
  return v;
}

function encode(req) {
  const atts = req.atts || [];
  const packet = {};
  for (const k of req.keys) {
    if (k === "data") packet.data = reconstruct(JSON.parse(req.data), atts);
    else packet[k] = req[k];
  }
  for (const k of req.undefined || []) packet[k] = undefined;
  return { hex: notepack.encode(packet).toString("hex") };
}

function decode(hex) {
  const decoder = new parser.Decoder();
  let packet;
  decoder.on("decoded", (p) => (packet = p));
  try {
    decoder.add(Buffer.from(hex, "hex"));
  } catch (err) {
    return { error: err.message };
  }
  const atts = [];
  const res = { type: packet.type, nsp: packet.nsp, atts };
  if (packet.id !== undefined) res.id = packet.id;
  if (packet.data !== undefined) res.data = JSON.stringify(deconstruct(packet.data, atts));
  return res;
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  let req;
  try {
    req = JSON.parse(line);
    out(req.encode ? encode(req.encode) : decode(req.decode));
  } catch (err) {
    out({ error: "bad request: " + err.message });
  }
});
