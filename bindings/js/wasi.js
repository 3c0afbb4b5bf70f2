// The few wasi_snapshot_preview1 functions that a Go (GOOS=wasip1) reactor
// imports, for browsers. The core reads no files, arguments or environment
// and sleeps only if the Go runtime has nothing else to do, so each one is
// the least that keeps the runtime happy: random bytes come from
// crypto.getRandomValues, clocks from Date and performance, and fd_write
// (the runtime's own panic and print output) goes to the console.

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;

/** Thrown by proc_exit: the instance is finished. */
export class WASIExit extends Error {
  constructor(code) {
    super(`the module exited with code ${code}`);
    this.code = code;
  }
}

/**
 * Returns { imports, setMemory }: imports for WebAssembly.instantiate, and
 * the call that tells the shim which memory the functions work on (the
 * module's exported memory, known only after instantiation).
 */
export function wasiImports() {
  let memory = null;
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const decoder = new TextDecoder();
  const lines = ["", "", ""]; // partial lines of fd 1 and 2

  const fns = {
    args_sizes_get(argc, bufSize) {
      view().setUint32(argc, 0, true);
      view().setUint32(bufSize, 0, true);
      return ERRNO_SUCCESS;
    },
    args_get() {
      return ERRNO_SUCCESS;
    },
    environ_sizes_get(count, bufSize) {
      view().setUint32(count, 0, true);
      view().setUint32(bufSize, 0, true);
      return ERRNO_SUCCESS;
    },
    environ_get() {
      return ERRNO_SUCCESS;
    },
    clock_time_get(id, _precision, out) {
      // 0: realtime, 1: monotonic; nanoseconds as u64.
      const ms = id === 0 ? Date.now() : performance.timeOrigin + performance.now();
      view().setBigUint64(out, BigInt(Math.round(ms * 1e6)), true);
      return ERRNO_SUCCESS;
    },
    fd_write(fd, iovs, iovsLen, nwritten) {
      if (fd !== 1 && fd !== 2) return ERRNO_BADF;
      const dv = view();
      let n = 0;
      let text = "";
      for (let i = 0; i < iovsLen; i++) {
        const ptr = dv.getUint32(iovs + i * 8, true);
        const len = dv.getUint32(iovs + i * 8 + 4, true);
        text += decoder.decode(bytes().subarray(ptr, ptr + len));
        n += len;
      }
      const parts = (lines[fd] + text).split("\n");
      lines[fd] = parts.pop();
      for (const line of parts) (fd === 1 ? console.log : console.error)("siohost-core:", line);
      view().setUint32(nwritten, n, true);
      return ERRNO_SUCCESS;
    },
    random_get(buf, len) {
      // getRandomValues fills at most 65536 bytes per call.
      for (let off = 0; off < len; off += 65536) {
        crypto.getRandomValues(bytes().subarray(buf + off, buf + Math.min(len, off + 65536)));
      }
      return ERRNO_SUCCESS;
    },
    poll_oneoff(subs, events, nsubs, nevents) {
      // Nothing can block in a browser: every subscription (a clock, as the
      // Go runtime only waits on timers here) is reported as done now.
      if (nsubs === 0) return ERRNO_INVAL;
      const dv = view();
      for (let i = 0; i < nsubs; i++) {
        const s = subs + i * 48;
        const e = events + i * 32;
        dv.setBigUint64(e, dv.getBigUint64(s, true), true); // userdata
        dv.setUint16(e + 8, 0, true); // error
        dv.setUint8(e + 10, dv.getUint8(s + 8)); // type
      }
      dv.setUint32(nevents, nsubs, true);
      return ERRNO_SUCCESS;
    },
    sched_yield() {
      return ERRNO_SUCCESS;
    },
    proc_exit(code) {
      throw new WASIExit(code);
    },
  };
  return {
    imports: { wasi_snapshot_preview1: fns },
    setMemory(m) {
      memory = m;
    },
  };
}
