// The siohost core module in a browser: loading it, writing the client
// input records and reading the effect records of the ABI's client section
// (bindings/ABI.md). siohost.js builds the socket.io-like API on top.

import { wasiImports } from "./wasi.js";

// Client input kinds.
export const IN = {
  create: 1, destroy: 2, response: 3, failed: 4, wsOpened: 5, wsMessage: 6,
  wsClosed: 7, tick: 8, connect: 9, disconnect: 10, emit: 11, ack: 12,
};

// Client effect kinds.
export const EFF = {
  request: 1, wsOpen: 2, wsSend: 3, connClose: 4, engineOpen: 5, upgrade: 6,
  upgradeError: 7, engineClose: 8,
  connected: 32, connectError: 33, event: 34, ack: 35, ackFailed: 36,
  disconnect: 37, error: 38, reconnectAttempt: 39, reconnect: 40,
  reconnectError: 41, reconnectFailed: 42,
  result: 0xf0, deadline: 0xf1,
};

export const CLIENT_ABI_VERSION = 3;
const NIL = 0xffffffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Writes input records into a growing buffer. */
export class RecordWriter {
  constructor() {
    this.buf = new Uint8Array(4096);
    this.dv = new DataView(this.buf.buffer);
    this.len = 0;
    this.count = 0;
    this.start = 0;
  }
  reset() {
    this.len = 0;
    this.count = 0;
  }
  ensure(n) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }
  begin(kind, flags = 0) {
    this.ensure(8);
    this.start = this.len;
    this.buf[this.len] = kind;
    this.buf[this.len + 1] = flags;
    this.dv.setUint16(this.len + 2, 0, true);
    this.len += 8;
    return this;
  }
  end() {
    this.dv.setUint32(this.start + 4, this.len - this.start, true);
    this.count++;
  }
  u32(v) {
    this.ensure(4);
    this.dv.setUint32(this.len, v >>> 0, true);
    this.len += 4;
    return this;
  }
  /** A byte string: Uint8Array, or null/undefined for nil. */
  bytes(b) {
    if (b == null) return this.u32(NIL);
    this.u32(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  str(s) {
    // A string is at most 3 bytes per UTF-16 unit in UTF-8.
    this.ensure(4 + s.length * 3);
    const { written } = encoder.encodeInto(s, this.buf.subarray(this.len + 4));
    this.dv.setUint32(this.len, written, true);
    this.len += 4 + written;
    return this;
  }
  list(items) {
    if (items == null) return this.u32(NIL);
    this.u32(items.length);
    for (const b of items) this.bytes(b);
    return this;
  }
}

/**
 * Reads an output list into plain objects whose byte fields are copies,
 * so that handlers may call back into the module while they run.
 */
export function readOutput(mem, ptr, len) {
  const dv = new DataView(mem.buffer, ptr, len);
  const u8 = new Uint8Array(mem.buffer, ptr, len);
  const out = { effects: [], results: [], deadline: -1 };
  let off = 0;
  while (off < len) {
    const kind = u8[off];
    const content = u8[off + 1];
    const mask = dv.getUint16(off + 2, true);
    const size = dv.getUint32(off + 4, true);
    const e = { kind, content, client: dv.getUint32(off + 8, true), binary: (mask & 1) !== 0,
      conn: 0, status: 0, id: 0, prefix: null, data: null, text: "", desc: "", nsp: "", attachments: null };
    let p = off + 12;
    const i64 = () => {
      const v = dv.getUint32(p, true) + dv.getInt32(p + 4, true) * 4294967296;
      p += 8;
      return v;
    };
    const bytes = () => {
      const n = dv.getUint32(p, true);
      p += 4;
      if (n === NIL) return null;
      const b = u8.slice(p, p + n);
      p += n;
      return b;
    };
    const str = () => {
      const n = dv.getUint32(p, true);
      const s = decoder.decode(u8.subarray(p + 4, p + 4 + n));
      p += 4 + n;
      return s;
    };
    if (mask & 2) e.conn = i64();
    if (mask & 4) e.status = i64();
    if (mask & 8) e.id = i64();
    if (mask & 16) e.prefix = bytes();
    if (mask & 32) e.data = bytes();
    if (mask & 64) e.text = str();
    if (mask & 128) e.desc = str();
    if (mask & 256) e.nsp = str();
    if (mask & 512) {
      const n = dv.getUint32(p, true);
      p += 4;
      e.attachments = [];
      for (let i = 0; i < n; i++) e.attachments.push(bytes());
    }
    off += size;
    if (kind === EFF.result) out.results.push({ value: e.status, end: out.effects.length });
    else if (kind === EFF.deadline) out.deadline = e.binary ? e.status : -1;
    else out.effects.push(e);
  }
  return out;
}

/**
 * One instance of the core module: it runs every client of the page.
 * Inputs are queued and run as one batch per turn of the event loop.
 */
export class Core {
  constructor(instance) {
    this.x = instance.exports;
    this.mem = this.x.memory;
    if (this.x.client_abi_version() !== CLIENT_ABI_VERSION) {
      throw new Error(`siohost: the module speaks client ABI ${this.x.client_abi_version()}, this script ${CLIENT_ABI_VERSION}`);
    }
    this.w = new RecordWriter();
    this.onResult = []; // per queued record: a function taking its result, or null
    this.clients = new Map(); // handle → object with apply(effect)
    this.scheduled = false;
    this.timer = null;
    this.timerAt = -1;
    this.dead = null;
    this.stats = { calls: 0, records: 0, ms: 0 }; // core calls, records run, ms spent in them
  }

  now() {
    return Math.floor(performance.now()) + 1;
  }

  /** Starts a record; the caller writes its fields and calls end(). */
  record(kind, flags, onResult = null) {
    if (this.dead) throw this.dead;
    this.onResult.push(onResult);
    this.schedule();
    return this.w.begin(kind, flags);
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  /** Runs what is queued now, and carries out the effects. */
  flush() {
    this.scheduled = false;
    if (this.w.count === 0 || this.dead) return;
    const n = this.w.count;
    const size = this.w.len;
    const callbacks = this.onResult;
    this.onResult = [];
    let ptr = this.x.input_ptr();
    if (size > this.x.input_cap()) ptr = this.x.input_reserve(size);
    new Uint8Array(this.mem.buffer, ptr, size).set(this.w.buf.subarray(0, size));
    this.w.reset();
    let len;
    const t0 = performance.now();
    try {
      len = this.x.client_process(this.now(), n);
    } catch (err) {
      this.die(err);
      return;
    }
    this.stats.ms += performance.now() - t0;
    this.stats.calls++;
    this.stats.records += n;
    if (len < 0) {
      const msg = decoder.decode(new Uint8Array(this.mem.buffer, this.x.output_ptr(), this.x.last_error()));
      const err = new Error(`siohost core: status ${len}: ${msg}`);
      if (len === -1) this.die(err);
      else console.error(err);
      return;
    }
    const out = readOutput(this.mem, this.x.output_ptr(), len);
    this.arm(out.deadline);
    let start = 0;
    out.results.forEach((r, i) => {
      for (let j = start; j < r.end; j++) {
        const e = out.effects[j];
        const c = this.clients.get(e.client);
        // An application callback that throws must not lose the effects
        // that follow it.
        if (c) guarded(() => c.apply(e));
      }
      start = r.end;
      if (callbacks[i]) guarded(() => callbacks[i](r.value));
    });
  }

  /** Runs a record at once (creating a client needs its handle now). */
  runNow(kind, flags, write) {
    let value = 0;
    write(this.record(kind, flags, (v) => { value = v; }));
    this.flush();
    return value;
  }

  arm(at) {
    if (at < 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = -1;
      return;
    }
    if (this.timer && this.timerAt === at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = -1;
      this.record(IN.tick, 0).end();
    }, Math.max(0, at - this.now()));
  }

  die(err) {
    // A panic or a trap leaves the core's state unknown: nothing more runs.
    this.dead = err instanceof Error ? err : new Error(String(err));
    console.error("siohost core stopped:", this.dead);
    if (this.timer) clearTimeout(this.timer);
    for (const c of this.clients.values()) c.coreDied?.(this.dead);
  }
}

function guarded(fn) {
  try {
    fn();
  } catch (err) {
    console.error("siohost: a callback threw", err);
  }
}

const loads = new Map();

/** Loads the module at url once per page and returns its Core. */
export function loadCore(url) {
  let p = loads.get(url);
  if (!p) {
    p = (async () => {
      const wasi = wasiImports();
      const res = fetch(url);
      let instance;
      if (WebAssembly.instantiateStreaming) {
        ({ instance } = await WebAssembly.instantiateStreaming(res, wasi.imports));
      } else {
        const buf = await (await res).arrayBuffer();
        ({ instance } = await WebAssembly.instantiate(buf, wasi.imports));
      }
      wasi.setMemory(instance.exports.memory);
      instance.exports._initialize();
      return new Core(instance);
    })();
    loads.set(url, p);
  }
  return p;
}
