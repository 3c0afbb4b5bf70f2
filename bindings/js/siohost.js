// siohost's browser client: a socket.io-client-like API whose protocol
// (Engine.IO polling, WebSocket, upgrade, heartbeats, Socket.IO packets,
// acks, binary, reconnection) runs in the siohost core module; this file
// only moves bytes (fetch, WebSocket), keeps timers and calls handlers.
//
//   import { load } from "./siohost.js";
//   const io = await load("/siohost-core.wasm");
//   const socket = io("http://localhost:3000", { auth: { token: "abc" } });
//   socket.on("connect", () => socket.emit("hello", "world", (answer) => {}));

import { EFF, IN, loadCore } from "./core.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Events a socket emits itself: an application cannot emit them.
const RESERVED = new Set(["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]);

/** A minimal event emitter. */
class Emitter {
  constructor() {
    this._handlers = new Map();
  }
  on(ev, fn) {
    if (!this._handlers.has(ev)) this._handlers.set(ev, []);
    this._handlers.get(ev).push(fn);
    return this;
  }
  once(ev, fn) {
    const wrap = (...args) => {
      this.off(ev, wrap);
      fn.apply(this, args);
    };
    wrap.fn = fn;
    return this.on(ev, wrap);
  }
  off(ev, fn) {
    if (ev === undefined) this._handlers.clear();
    else if (fn === undefined) this._handlers.delete(ev);
    else {
      const list = this._handlers.get(ev) || [];
      const i = list.findIndex((h) => h === fn || h.fn === fn);
      if (i >= 0) list.splice(i, 1);
    }
    return this;
  }
  listeners(ev) {
    return (this._handlers.get(ev) || []).slice();
  }
  emitReserved(ev, ...args) {
    for (const fn of this.listeners(ev)) {
      try {
        fn.apply(this, args);
      } catch (err) {
        console.error(`siohost: "${ev}" handler threw`, err);
      }
    }
  }
}

function isBinary(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function toBytes(v) {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** JSON of args with every binary value replaced by a placeholder. */
function deconstruct(args) {
  const attachments = [];
  const walk = (v) => {
    if (isBinary(v)) {
      attachments.push(toBytes(v));
      return { _placeholder: true, num: attachments.length - 1 };
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && !(v instanceof Date) && typeof v.toJSON !== "function") {
      const o = {};
      for (const k of Object.keys(v)) o[k] = walk(v[k]);
      return o;
    }
    return v;
  };
  const json = JSON.stringify(args.map(walk));
  return { json: encoder.encode(json), attachments };
}

/** The values of a raw JSON array, placeholders replaced by ArrayBuffers. */
function reconstruct(data, attachments) {
  const arr = JSON.parse(decoder.decode(data));
  if (!attachments || attachments.length === 0) return arr;
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") {
      if (v._placeholder === true && typeof v.num === "number") {
        const b = attachments[v.num];
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      }
      for (const k of Object.keys(v)) v[k] = walk(v[k]);
    }
    return v;
  };
  return walk(arr);
}

function concat(a, b) {
  if (!a || a.length === 0) return b || new Uint8Array(0);
  if (!b || b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Manager: one connection to a server (one Engine.IO session at a time),
 * shared by the sockets of its namespaces; socket.io-client's Manager.
 */
export class Manager extends Emitter {
  constructor(core, uri, opts = {}) {
    super();
    this.core = core;
    this.opts = opts;
    const u = new URL(uri, location.href);
    let path = opts.path || "/socket.io";
    if (!path.endsWith("/")) path += "/";
    const query = new URLSearchParams(u.search);
    for (const [k, v] of Object.entries(opts.query || {})) query.set(k, v);
    this.httpBase = `${u.protocol}//${u.host}${path}`;
    this.wsBase = `${u.protocol === "https:" ? "wss:" : "ws:"}//${u.host}${path}`;
    this.userQuery = query.toString();
    this.conns = new Map(); // conn → { ws } or { abort }
    this.nsps = new Map(); // nsp → Socket
    this.engine = { transport: { name: "" }, id: "" };
    const transports = opts.transports || ["polling", "websocket"];
    const tbits = (transports.includes("polling") ? 1 : 0) | (transports.includes("websocket") ? 2 : 0);
    const jitter = opts.randomizationFactor;
    const flags = (opts.reconnection === false ? 1 : 0) | (opts.upgrade === false ? 2 : 0) | (jitter !== undefined ? 4 : 0);
    this.handle = core.runNow(IN.create, flags, (w) => {
      w.u32(tbits).u32(opts.timeout ?? 20000).u32(Number.isFinite(opts.reconnectionAttempts) ? opts.reconnectionAttempts : 0)
        .u32(opts.reconnectionDelay ?? 1000).u32(opts.reconnectionDelayMax ?? 5000)
        .u32(jitter !== undefined ? Math.round(Math.min(1, Math.max(0, jitter)) * 1e6) : 0)
        .u32(0) // parser: socket.io-parser (client ABI version 3)
        .end();
    });
    core.clients.set(this.handle, this);
  }

  /** The Socket of namespace nsp. */
  socket(nsp = "/", opts = {}) {
    let s = this.nsps.get(nsp);
    if (!s) {
      s = new Socket(this, nsp, opts);
      this.nsps.set(nsp, s);
    }
    return s;
  }

  url(base, query) {
    return base + "?" + (this.userQuery ? this.userQuery + "&" : "") + query;
  }

  /** Carries out one effect of the core. */
  apply(e) {
    const s = this.nsps.get(e.nsp || "/");
    switch (e.kind) {
      case EFF.request: return this.request(e);
      case EFF.wsOpen: return this.dial(e);
      case EFF.wsSend: {
        const c = this.conns.get(e.conn);
        if (!c || !c.ws) return;
        const frame = concat(e.prefix, e.data);
        c.ws.send(e.binary ? frame : decoder.decode(frame));
        return;
      }
      case EFF.connClose: {
        const c = this.conns.get(e.conn);
        this.conns.delete(e.conn);
        if (c && c.ws) c.ws.close();
        if (c && c.abort) c.abort.abort();
        return;
      }
      case EFF.engineOpen:
        this.engine = { transport: { name: e.text }, id: e.desc };
        return this.emitReserved("open");
      case EFF.upgrade:
        this.engine.transport = { name: e.text };
        this.emitReserved("upgrade", e.text);
        for (const sock of this.nsps.values()) sock.emitReserved("upgrade", e.text);
        return;
      case EFF.upgradeError:
        return this.emitReserved("upgradeError", Object.assign(new Error(e.text), { description: e.desc }));
      case EFF.engineClose:
        this.engine.transport = { name: "" };
        return this.emitReserved("close", e.text, e.desc ? { description: e.desc } : undefined);
      case EFF.reconnectAttempt: return this.emitReserved("reconnect_attempt", e.status);
      case EFF.reconnect: return this.emitReserved("reconnect", e.status);
      case EFF.reconnectError:
        return this.emitReserved("reconnect_error", Object.assign(new Error(e.text), { description: e.desc }));
      case EFF.reconnectFailed: return this.emitReserved("reconnect_failed");
      case EFF.error:
        if (s && e.nsp) s.emitReserved("error", new Error(e.text));
        return this.emitReserved("error", new Error(e.text));
      default:
        if (s) s.onEffect(e);
    }
  }

  request(e) {
    const abort = new AbortController();
    this.conns.set(e.conn, { abort });
    const init = { method: e.text, cache: "no-store", signal: abort.signal, credentials: this.opts.withCredentials ? "include" : "same-origin" };
    if (e.text === "POST") {
      init.body = e.data || new Uint8Array(0);
      init.headers = { "Content-Type": e.content === 2 ? "application/octet-stream" : "text/plain;charset=UTF-8" };
    }
    const client = this.handle;
    fetch(this.url(this.httpBase, e.desc), init).then(async (res) => {
      const body = new Uint8Array(await res.arrayBuffer());
      if (!this.conns.delete(e.conn)) return;
      this.core.record(IN.response, 0).u32(client).u32(e.conn).u32(res.status)
        .str(res.headers.get("Content-Type") || "").bytes(body).end();
    }, (err) => {
      if (!this.conns.delete(e.conn)) return;
      this.core.record(IN.failed, 0).u32(client).u32(e.conn).str(String(err && err.message || err)).end();
    });
  }

  dial(e) {
    let ws;
    const client = this.handle;
    try {
      ws = new WebSocket(this.url(this.wsBase, e.desc));
    } catch (err) {
      queueMicrotask(() => this.core.record(IN.failed, 0).u32(client).u32(e.conn).str(String(err.message || err)).end());
      return;
    }
    ws.binaryType = "arraybuffer";
    const c = { ws, opened: false };
    this.conns.set(e.conn, c);
    const live = () => this.conns.get(e.conn) === c;
    ws.onopen = () => {
      c.opened = true;
      if (live()) this.core.record(IN.wsOpened, 0).u32(client).u32(e.conn).end();
    };
    ws.onmessage = (m) => {
      if (!live()) return;
      const binary = typeof m.data !== "string";
      const data = binary ? new Uint8Array(m.data) : encoder.encode(m.data);
      this.core.record(IN.wsMessage, binary ? 1 : 0).u32(client).u32(e.conn).bytes(data).end();
    };
    ws.onerror = () => {
      // A WebSocket that never opened failed (browsers say no more than
      // that); one that did reports its close code next.
      if (c.opened || !live()) return;
      this.conns.delete(e.conn);
      this.core.record(IN.failed, 0).u32(client).u32(e.conn).str("websocket error").end();
    };
    ws.onclose = (ev) => {
      if (!live()) return;
      this.conns.delete(e.conn);
      this.core.record(IN.wsClosed, 0).u32(client).u32(e.conn).u32(ev.code).end();
    };
  }

  coreDied(err) {
    for (const s of this.nsps.values()) {
      if (s.connected) s.onEffect({ kind: EFF.disconnect, text: "transport error", desc: err.message });
    }
  }

  /** Ends the client: every namespace leaves and the session closes. */
  close() {
    for (const s of this.nsps.values()) s.disconnect();
  }
}

/**
 * Loads the core module (once per URL) and returns io(uri, opts), which
 * makes a Manager per call and returns the Socket of the URL's namespace.
 */
export async function load(wasmURL = new URL("./siohost-core.wasm", import.meta.url).href) {
  const core = await loadCore(wasmURL);
  const io = (uri = location.href, opts = {}) => {
    const u = new URL(uri, location.href);
    const nsp = u.pathname && u.pathname !== "/" ? u.pathname : "/";
    const m = new Manager(core, u.origin + u.search, opts);
    const s = m.socket(nsp, opts);
    if (opts.autoConnect !== false) s.connect();
    return s;
  };
  io.core = core;
  io.Manager = (uri, opts) => new Manager(core, uri, opts);
  return io;
}

/** A namespace's socket (socket.io-client's Socket). */
export class Socket extends Emitter {
  constructor(manager, nsp, opts) {
    super();
    this.io = manager;
    this.nsp = nsp;
    this.auth = opts.auth;
    this.id = undefined;
    this.connected = false;
    this.active = false;
    this.acks = new Map(); // ack id → { fn, withError }
    this.flags = {};
  }

  get disconnected() {
    return !this.connected;
  }

  /** The current transport's name: "polling" or "websocket" ("" when none). */
  get transport() {
    return this.io.engine.transport.name;
  }

  connect() {
    if (this.connected) return this;
    this.active = true;
    const send = (auth) => {
      const json = auth == null ? null : encoder.encode(JSON.stringify(auth));
      this.io.core.record(IN.connect, 0).u32(this.io.handle).str(this.nsp).bytes(json).end();
    };
    if (typeof this.auth === "function") this.auth(send);
    else send(this.auth);
    return this;
  }

  open() {
    return this.connect();
  }

  disconnect() {
    this.active = false;
    this.io.core.record(IN.disconnect, 0).u32(this.io.handle).str(this.nsp).end();
    return this;
  }

  close() {
    return this.disconnect();
  }

  /** The next emit fails its ack after ms milliseconds. */
  timeout(ms) {
    return this.with({ timeout: ms });
  }

  /** The next emit is dropped unless the transport can take it now. */
  get volatile() {
    return this.with({ volatile: true });
  }

  with(flags) {
    const s = Object.create(this);
    s.flags = { ...this.flags, ...flags };
    return s;
  }

  emit(ev, ...args) {
    if (RESERVED.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const flags = this.flags;
    let ack = null;
    if (args.length && typeof args[args.length - 1] === "function") {
      ack = { fn: args.pop(), withError: flags.timeout !== undefined };
    }
    this.send(ev, args, ack, flags);
    return this;
  }

  /** Emits and resolves with the ack's first argument (rejects on timeout
   * or disconnection), as socket.io-client does. */
  emitWithAck(ev, ...args) {
    const flags = this.flags;
    return new Promise((resolve, reject) => {
      this.send(ev, args, {
        withError: true,
        fn: (err, res) => (err ? reject(err) : resolve(res)),
      }, flags);
    });
  }

  send(ev, args, ack, flags) {
    const { json, attachments } = deconstruct(args);
    const bits = (ack ? 1 : 0) | (flags.volatile ? 2 : 0);
    const onResult = (id) => {
      if (id >= 0 && ack) this.acks.set(id, ack);
      else if (id === -3 && ack && ack.withError) ack.fn(new Error("emit refused"));
    };
    this.io.core.record(IN.emit, bits, onResult).u32(this.io.handle)
      .u32(ack && flags.timeout !== undefined ? Math.max(1, flags.timeout) : 0)
      .str(this.nsp).str(ev).bytes(json.subarray(1, json.length - 1).length ? json : null)
      .list(attachments).end();
  }

  onEffect(e) {
    switch (e.kind) {
      case EFF.connected:
        this.id = e.text;
        this.pid = e.desc;
        this.recovered = e.binary;
        this.connected = true;
        return this.emitReserved("connect");
      case EFF.connectError: {
        const err = new Error(e.text);
        if (e.status === 1) {
          err.type = "TransportError";
          err.description = e.desc;
          err.context = e.data ? JSON.parse(decoder.decode(e.data)) : undefined;
        } else {
          err.description = e.desc || undefined;
          err.data = e.data ? JSON.parse(decoder.decode(e.data)) : undefined;
        }
        if (e.status === 0) this.active = false;
        return this.emitReserved("connect_error", err);
      }
      case EFF.event: {
        const values = reconstruct(e.data, e.attachments);
        const name = values.shift();
        if (e.id >= 0) {
          let sent = false;
          values.push((...res) => {
            if (sent) return;
            sent = true;
            const { json, attachments } = deconstruct(res);
            this.io.core.record(IN.ack, 0).u32(this.io.handle).u32(e.id).str(this.nsp).bytes(json).list(attachments).end();
          });
        }
        for (const fn of this.listeners("*any")) fn(name, ...values);
        return this.emitReserved(name, ...values);
      }
      case EFF.ack: {
        const a = this.acks.get(e.id);
        if (!a) return;
        this.acks.delete(e.id);
        const values = reconstruct(e.data, e.attachments);
        return a.withError ? a.fn(null, ...values) : a.fn(...values);
      }
      case EFF.ackFailed: {
        const a = this.acks.get(e.id);
        this.acks.delete(e.id);
        if (a && a.withError) a.fn(new Error(e.text));
        return;
      }
      case EFF.disconnect: {
        this.connected = false;
        this.id = undefined;
        if (e.text === "io server disconnect" || e.text === "io client disconnect") this.active = false;
        return this.emitReserved("disconnect", e.text, e.desc ? { description: e.desc } : undefined);
      }
    }
  }

  /** Calls fn(event, ...args) for every event received. */
  onAny(fn) {
    return this.on("*any", fn);
  }
}
