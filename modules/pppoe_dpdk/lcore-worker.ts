/**
 * Worker-thread entry of one lcore: attaches to the shared blocks and rings handed over in `workerData`, then
 * runs the poll loop until the lcore has drained. The loop never returns to the worker's event loop while
 * running (there is nothing to await); it spins `spinPolls` empty iterations, then sleeps on its doorbell with
 * `Atomics.wait`, the timeout doubling from 50 µs up to `maxIdleMs` and never past the next timer-driven task.
 * A response published by the control plane rings the doorbell and ends the sleep at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Lcore } from './lcore';
import { openPacket } from './native/index';
import { PppoeEngine } from './pppoe';
import type { PppoeDpdkOptions } from './options';
import { SpscRing } from './ring';
import { LcoreBlock, M_ACK, M_ARGS, M_OP, M_RESULT, M_SEQ, M_SID, MailOp, MailResult, now, W_BELL } from './shared';
import { TermCause } from './records';

/** Empty polls before a wire lcore sleeps (`spinPolls` if lower). */
const WIRE_SPIN = 4;

/** What the control plane passes to a new lcore worker. */
export interface LcoreWorkerData {
  readonly id: number;
  readonly options: PppoeDpdkOptions;
  readonly block: SharedArrayBuffer;
  readonly cpBlock: SharedArrayBuffer;
  readonly requestRing: SharedArrayBuffer;
  readonly responseRing: SharedArrayBuffer;
  /** Wire only: the control plane's eventfd that ends the lcore's poll(2) when answers are published. */
  readonly wakeFd?: number;
}

/** Runs an lcore's loop to completion (returns once it has drained). */
export function runLcore(data: LcoreWorkerData): void {
  const block = new LcoreBlock(data.block);
  const cp = { i32: new Int32Array(data.cpBlock), f64: new Float64Array(data.cpBlock) };
  const opts = data.options;
  const lc = new Lcore(data.id, opts, block, cp, SpscRing.attach(data.requestRing), SpscRing.attach(data.responseRing));
  // The wire: every lcore opens the interface (no fanout: a session's frames must reach the lcore that owns its
  // id, and discovery is split by client MAC; see README). Opening fails loudly (no addon, no interface, no
  // CAP_NET_RAW) and the worker dies with the reason, which the control plane logs.
  // 8 MB socket buffers: a burst of discovery frames (thousands of clients at once) waits there while the lcore
  // is busy, instead of being dropped by the kernel (needs CAP_NET_ADMIN past net.core.rmem_max)
  const port = opts.wire ? openPacket(opts.wire.interface, { rcvbuf: 8 << 20, sndbuf: 8 << 20 }) : undefined;
  const uplink = opts.wire?.uplink ? openPacket(opts.wire.uplink.interface, { rcvbuf: 8 << 20, sndbuf: 8 << 20 }) : undefined;
  const eng = port && opts.wire ? new PppoeEngine(lc, port, opts.wire, data.id, opts.lcores, uplink) : undefined;
  if (eng) lc.setApp(eng);
  lc.start(now());
  const bell = block.i32;
  let idle = 0;
  let sleep = 0.05;
  let mailSeq = Atomics.load(bell, M_ACK);
  for (;;) {
    const t = now();
    let work = eng ? eng.poll(t) : 0;
    const seq = Atomics.load(bell, M_SEQ);
    if (seq !== mailSeq) {
      mailSeq = seq;
      const sid = Atomics.load(bell, M_SID);
      const op = Atomics.load(bell, M_OP);
      let ok = false;
      if (eng && op === MailOp.DISCONNECT) ok = eng.disconnect(sid, TermCause.ADMIN_RESET);
      else if (eng && op === MailOp.CHANGE) {
        ok = eng.change(sid, bell[M_ARGS], bell[M_ARGS + 1], bell[M_ARGS + 2], bell[M_ARGS + 3]);
      } else if (eng && (op === MailOp.LIST || op === MailOp.DESCRIBE)) {
        // operator: the session list (at most M_ARGS[0] entries) or one session; not the fast path
        const list = op === MailOp.LIST ? eng.sessions().slice(0, Math.max(0, bell[M_ARGS])).map((s) => eng.describe(s)) : [eng.describe(sid)];
        const sessions = list.filter((x) => x !== undefined).map((x) => ({ ...x, sessionTimeoutAt: lc.sessionExpiry(x.sid) }));
        parentPort?.postMessage({ pppoeMail: seq, sessions });
        ok = sessions.length > 0 || op === MailOp.LIST;
      }
      Atomics.store(bell, M_RESULT, !eng ? MailResult.NO_WIRE : ok ? MailResult.OK : MailResult.NO_SESSION);
      Atomics.store(bell, M_ACK, seq);
      work++;
    }
    work += lc.poll(t);
    eng?.flush();
    if (lc.stopped) {
      port?.close();
      uplink?.close();
      return;
    }
    if (work > 0) {
      idle = 0;
      sleep = 0.05;
      continue;
    }
    // on the wire an empty poll is a recvmmsg system call, so spin little there: the sleep below wakes on a frame
    // (poll(2)) or on a published answer (the eventfd) at once
    if (++idle < (eng ? Math.min(opts.spinPolls, WIRE_SPIN) : opts.spinPolls)) continue;
    const ms = Math.min(sleep, opts.maxIdleMs, lc.nextDue(t) - t, eng ? eng.nextDue() - t : Infinity);
    if (ms <= 0) continue;
    if (eng) {
      // frames and published answers (the control plane writes `wakeFd` when it sees the doorbell set) wake the
      // lcore; commands and the mailbox are picked up within `ms` (≤ maxIdleMs)
      Atomics.store(bell, W_BELL, 1);
      if (!lc.hasIncoming()) eng.wait(ms, data.wakeFd);
      Atomics.store(bell, W_BELL, 0);
      lc.noteSleep(now() - t);
      if (sleep < opts.maxIdleMs) sleep *= 2;
      continue;
    }
    Atomics.store(bell, W_BELL, 1);
    if (!lc.hasIncoming()) Atomics.wait(bell, W_BELL, 1, ms);
    Atomics.store(bell, W_BELL, 0);
    lc.noteSleep(now() - t);
    if (sleep < opts.maxIdleMs) sleep *= 2;
  }
}

if (workerData && typeof workerData === 'object' && (workerData as { lcoreWorker?: unknown }).lcoreWorker === true) {
  runLcore(workerData as LcoreWorkerData);
}
