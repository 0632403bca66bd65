/**
 * The synthetic PPPoE clients of the benches (issue 17 §6), shared by `pppoe-wire.bench.ts` (over a veth, in a
 * process of its own) and `pppoe-sessions.bench.ts` (in-process, over an in-memory port). Not a bench itself.
 *
 * Each client has its own MAC (02:cc + a 32-bit number) and plays, as fast as the concentrator answers:
 * PADI → PADO → PADR (AC-Cookie, Host-Uniq) → PADS → LCP (acks the AC's request, its own MRU + magic acked) → PAP →
 * IPCP (0.0.0.0, Nak → the reply's address, acks the AC's request) → up; then PADT at once, or held with `hold`
 * (`release` sends the PADTs later). A session is its client MAC and the session id the AC gave (RFC 2516), so more
 * than 65534 sessions are told apart. New clients start at `rate` per second with at most `outstanding`
 * unfinished at a time. Setup time: PADI sent → both IPCP directions acked. A client retransmits after 1 s of
 * silence and fails after 10 s. All state is typed arrays (about 40 bytes per client).
 */

export interface GenParams {
  ifname: string; count: number; rate: number; outstanding: number; hold: boolean; deadlineMs: number;
  /** Seconds from the first PADI: setups started earlier are left out of `steadyMs` (0 = none left out). */
  warmupS?: number;
}
export interface Percentiles { n: number; p50: number; p99: number; p999: number; max: number }
export interface GenResult {
  done: number; failed: number; firstMs: number; lastMs: number;
  /** Steps sent again after 1 s of silence (a frame or its answer lost or late). */
  retransmits: number;
  /** Every setup of the run. */
  setupMs: Percentiles;
  /** The setups started after `warmupS` (the start-up tail left out); undefined without `warmupS`. */
  steadyMs?: Percentiles;
  /** Per second of the run (by the setup's first PADI): setups started in that second and their p99 (ms). */
  perSecond: Array<{ n: number; p99: number }>;
  cpuMs: number; rssMB: number;
}
export interface Gen { result: GenResult; release(ratePerS: number): number }
export interface Progress { started: number; done: number; failed: number }
/** The client side's port: the AF_PACKET addon, or an in-memory queue. */
export interface ClientPort {
  readonly mac: Uint8Array;
  recv(buffer: Uint8Array, slotSize: number, lengths: Uint32Array, max: number): number;
  send(buffer: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): number;
  wait(ms: number): boolean;
}

export function generator(p: GenParams, port: ClientPort, progress: (m: Progress) => void, pump?: (now: number) => void): Gen {
  const SLOT = 2048;
  const B = 32;
  const rx = new Uint8Array(B * SLOT);
  const rxLen = new Uint32Array(B);
  const tx = new Uint8Array(B * 1536);
  const txOff = new Uint32Array(B).map((_, i) => i * 1536);
  const txLen = new Uint32Array(B);
  let txN = 0;
  const n = p.count;
  const state = new Uint8Array(n); // 0 idle, 1 PADI sent, 2 PADR sent, 3 LCP, 4 PAP, 5 IPCP, 6 up, 7 failed, 8 done+PADT
  const flags = new Uint8Array(n); // 1 our LCP acked, 2 AC's LCP acked, 4 our IPCP acked, 8 AC's IPCP acked
  const t0 = new Float64Array(n);
  const last = new Float64Array(n); // last progress of the client (retransmission after 1 s without an answer)
  const ipcpId = new Uint8Array(n);
  const sidOf = new Uint16Array(n);
  const ipOf = new Uint32Array(n);
  const setup = new Float64Array(n);
  const startOf = new Float64Array(n); // first PADI of the i-th finished setup, ms from the first PADI of the run
  const acMac = new Uint8Array(6);
  let started = 0;
  let done = 0;
  let failed = 0;
  let firstMs = 0;
  let lastMs = 0;
  const flush = (): void => {
    if (txN) port.send(tx, txOff, txLen, txN);
    txN = 0;
  };
  /** Starts a frame from client `c` (its MAC) to `dst`; returns the offset of the PPPoE payload. */
  const start = (c: number, dst: Uint8Array, type: number, code: number, sid: number): number => {
    if (txN === B) flush();
    last[c] = performance.now();
    const o = txOff[txN];
    tx.set(dst, o);
    tx[o + 6] = 2; tx[o + 7] = 0xcc; tx[o + 8] = (c + 1) >>> 24; tx[o + 9] = ((c + 1) >>> 16) & 255; tx[o + 10] = ((c + 1) >>> 8) & 255; tx[o + 11] = (c + 1) & 255;
    tx[o + 12] = type >> 8; tx[o + 13] = type & 255;
    tx[o + 14] = 0x11; tx[o + 15] = code; tx[o + 16] = sid >> 8; tx[o + 17] = sid & 255;
    return o + 20;
  };
  const end = (f: number, len: number): void => {
    tx[f - 2] = len >> 8; tx[f - 1] = len & 255;
    const o = txOff[txN];
    let l = f + len - o;
    if (l < 60) { tx.fill(0, f + len, o + 60); l = 60; }
    txLen[txN++] = l;
  };
  const tag = (q: number, t: number, src: Uint8Array, off: number, len: number): number => {
    tx[q] = t >> 8; tx[q + 1] = t & 255; tx[q + 2] = len >> 8; tx[q + 3] = len & 255;
    for (let i = 0; i < len; i++) tx[q + 4 + i] = src[off + i]!; // byte loop: no view per tag
    return q + 4 + len;
  };
  const hu = new Uint8Array(4);
  const BC = Uint8Array.of(255, 255, 255, 255, 255, 255);
  const padi = (c: number): void => {
    const f = start(c, BC, 0x8863, 0x09, 0);
    hu[0] = c >>> 24; hu[1] = (c >>> 16) & 255; hu[2] = (c >>> 8) & 255; hu[3] = c & 255;
    let q = tag(f, 0x0101, hu, 0, 0);
    q = tag(q, 0x0103, hu, 0, 4);
    end(f, q - f);
    state[c] = 1;
  };
  /** A PPP packet from client c on its session. */
  const ppp = (c: number, proto: number, code: number, id: number, data: Uint8Array, off: number, len: number): void => {
    const f = start(c, acMac, 0x8864, 0, sidOf[c]);
    tx[f] = proto >> 8; tx[f + 1] = proto & 255; tx[f + 2] = code; tx[f + 3] = id; tx[f + 4] = (len + 4) >> 8; tx[f + 5] = (len + 4) & 255;
    for (let i = 0; i < len; i++) tx[f + 6 + i] = data[off + i]!;
    end(f, len + 6);
  };
  const scratch = new Uint8Array(64);
  const lcpReq = (c: number): void => {
    scratch[0] = 1; scratch[1] = 4; scratch[2] = 5; scratch[3] = 0xd4; // MRU 1492
    scratch[4] = 5; scratch[5] = 6; scratch[6] = 0x10; scratch[7] = (c >>> 16) & 255; scratch[8] = (c >>> 8) & 255; scratch[9] = c & 255; // magic
    ppp(c, 0xc021, 1, 1, scratch, 0, 10);
  };
  const ipcpReq = (c: number, id: number): void => {
    const ip = ipOf[c];
    ipcpId[c] = id;
    scratch[0] = 3; scratch[1] = 6; scratch[2] = ip >>> 24; scratch[3] = (ip >>> 16) & 255; scratch[4] = (ip >>> 8) & 255; scratch[5] = ip & 255;
    ppp(c, 0x8021, 1, id, scratch, 0, 6);
  };
  const pw = Buffer.from('secret');
  /** PAP request: User-Name `user<c>` (decimal written in place) and the password. */
  const pap = (c: number): void => {
    scratch[1] = 0x75; scratch[2] = 0x73; scratch[3] = 0x65; scratch[4] = 0x72; // "user"
    let e = 5;
    for (let d = c >= 10 ? Math.floor(Math.log10(c)) : 0, v = c; d >= 0; d--, e++) {
      scratch[5 + d] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
    scratch[0] = e - 1;
    scratch[e] = pw.length;
    for (let i = 0; i < pw.length; i++) scratch[e + 1 + i] = pw[i]!;
    ppp(c, 0xc023, 1, 1, scratch, 0, e + 1 + pw.length);
  };
  /** A client that heard nothing for 1 s sends its last step again, as real clients do (frames can be lost). */
  let retransmits = 0;
  const retransmit = (c: number): void => {
    const st = state[c];
    retransmits++;
    if (st === 1 || st === 2) padi(c);
    else if (st === 3 && !(flags[c] & 1)) lcpReq(c);
    else if (st === 4) pap(c);
    else if (st === 5 && !(flags[c] & 4)) ipcpReq(c, ipcpId[c] + 1);
    else last[c] = performance.now();
  };
  const fail = (c: number): void => {
    if (state[c] >= 7) return;
    state[c] = 7;
    failed++;
    if (sidOf[c]) end(start(c, acMac, 0x8863, 0xa7, sidOf[c]), 0); // PADT: the concentrator frees the session
  };
  const up = (c: number, now: number): void => {
    state[c] = 6;
    startOf[done] = t0[c] - firstMs;
    setup[done++] = now - t0[c];
    lastMs = now;
    if (!p.hold) {
      const f = start(c, acMac, 0x8863, 0xa7, sidOf[c]);
      end(f, 0);
      state[c] = 8;
    }
  };

  const tStart = performance.now();
  let lastProgress = tStart;
  let lastScan = tStart;
  let scanFrom = 0;
  for (;;) {
    const now = performance.now();
    const due = Math.min(n, Math.floor(((now - tStart) * p.rate) / 1000) + 1);
    while (started < due && started - done - failed < p.outstanding) {
      if (started === 0) firstMs = now;
      t0[started] = now;
      padi(started++);
    }
    const got = port.recv(rx, SLOT, rxLen, B);
    for (let i = 0; i < got; i++) {
      const o = i * SLOT;
      if (rx[o] !== 2 || rx[o + 1] !== 0xcc) continue; // not to one of our clients
      const c = ((rx[o + 2] << 24) | (rx[o + 3] << 16) | (rx[o + 4] << 8) | rx[o + 5]) - 1;
      if (c < 0 || c >= n || state[c] >= 7) continue;
      const type = (rx[o + 12] << 8) | rx[o + 13];
      const code = rx[o + 15];
      const sid = (rx[o + 16] << 8) | rx[o + 17];
      const plen = (rx[o + 18] << 8) | rx[o + 19];
      const pay = o + 20;
      if (type === 0x8863) {
        if (code === 0x07 && state[c] === 1) { // PADO: echo every tag but AC-Name into the PADR
          for (let k = 0; k < 6; k++) acMac[k] = rx[o + 6 + k];
          const f = start(c, acMac, 0x8863, 0x19, 0);
          let q = f;
          let sn = false;
          for (let t = pay; t + 4 <= pay + plen;) {
            const tt = (rx[t] << 8) | rx[t + 1];
            const tl = (rx[t + 2] << 8) | rx[t + 3];
            if ((tt === 0x0101 && !sn) || tt === 0x0103 || tt === 0x0104) q = tag(q, tt, rx, t + 4, tl);
            if (tt === 0x0101) sn = true;
            t += 4 + tl;
          }
          end(f, q - f);
          state[c] = 2;
        } else if (code === 0x65 && state[c] === 2) { // PADS
          if (sid === 0) { fail(c); continue; }
          sidOf[c] = sid;
          state[c] = 3;
          lcpReq(c);
        } else if (code === 0xa7) {
          fail(c);
        }
        continue;
      }
      if (type !== 0x8864 || sidOf[c] !== sid) continue; // a session is its client MAC and its session id
      const proto = (rx[pay] << 8) | rx[pay + 1];
      const pc = rx[pay + 2];
      const id = rx[pay + 3];
      const clen = (rx[pay + 4] << 8) | rx[pay + 5];
      if (proto === 0xc021) {
        if (pc === 1) { // the AC's request (PAP asked): ack it as it is
          ppp(c, 0xc021, 2, id, rx, pay + 6, clen - 4);
          flags[c] |= 2;
        } else if (pc === 2) flags[c] |= 1;
        else if (pc === 9) ppp(c, 0xc021, 10, id, rx, pay + 6, clen - 4);
        else if (pc === 5) { fail(c); continue; }
        if (state[c] === 3 && (flags[c] & 3) === 3) {
          pap(c);
          state[c] = 4;
        }
      } else if (proto === 0xc023 && state[c] === 4) {
        if (pc !== 2) { fail(c); continue; }
        state[c] = 5;
        ipOf[c] = 0;
        ipcpReq(c, 1);
      } else if (proto === 0x8021 && state[c] === 5) {
        if (pc === 1) {
          ppp(c, 0x8021, 2, id, rx, pay + 6, clen - 4);
          flags[c] |= 8;
        } else if (pc === 3) {
          for (let q = pay + 6; q + 6 <= pay + 2 + clen; q += Math.max(2, rx[q + 1])) {
            if (rx[q] === 3 && rx[q + 1] === 6) ipOf[c] = ((rx[q + 2] << 24) | (rx[q + 3] << 16) | (rx[q + 4] << 8) | rx[q + 5]) >>> 0;
          }
          ipcpReq(c, id + 1);
        } else if (pc === 2) flags[c] |= 4;
        else { fail(c); continue; }
        if ((flags[c] & 12) === 12) up(c, performance.now());
      }
    }
    flush();
    if (now - lastScan > 100) { // retransmissions after 1 s of silence; no setup within 10 s = failed
      lastScan = now;
      while (scanFrom < started && state[scanFrom] >= 6) scanFrom++;
      for (let c = scanFrom; c < started; c++) {
        if (state[c] >= 6) continue;
        if (now - t0[c] > 10_000) fail(c);
        else if (now - last[c] > 1000) retransmit(c);
      }
    }
    if (now - lastProgress > 250) {
      lastProgress = now;
      progress({ started, done, failed });
    }
    if (done + failed >= n || now - tStart > p.deadlineMs) break;
    if (pump) pump(performance.now());
    else if (got === 0) port.wait(1);
  }
  flush();
  const cpu = process.cpuUsage();
  // per second of the run: setups bucketed by the second of their first PADI (counting sort, one pass each way)
  const sec = (i: number): number => Math.floor(startOf[i]! / 1000);
  let secs = 0;
  for (let i = 0; i < done; i++) secs = Math.max(secs, sec(i) + 1);
  const at = new Uint32Array(secs + 1);
  for (let i = 0; i < done; i++) at[sec(i) + 1]++;
  for (let s = 0; s < secs; s++) at[s + 1] += at[s];
  const bySecond = new Float64Array(done);
  const fill = at.slice(0, secs);
  for (let i = 0; i < done; i++) bySecond[fill[sec(i)]++] = setup[i]!;
  const perSecond: Array<{ n: number; p99: number }> = [];
  for (let s = 0; s < secs; s++) {
    const x = percentiles(bySecond.subarray(at[s], at[s + 1]));
    perSecond.push({ n: x.n, p99: x.p99 });
  }
  const warm = (p.warmupS ?? 0) * 1000;
  // (before the whole run's percentiles: `percentiles` sorts its array in place, which would break the
  // index pairing of setup[i] with startOf[i])
  const steadyMs = warm > 0 ? percentiles(setup.subarray(0, done).filter((_, i) => startOf[i]! >= warm)) : undefined;
  const result: GenResult = {
    done, failed, firstMs, lastMs, retransmits, setupMs: percentiles(setup.subarray(0, done)),
    steadyMs,
    perSecond,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000), rssMB: Math.round(process.memoryUsage().rss / 1048576),
  };
  /** PADT for every held session at `ratePerS`; returns how many. */
  const release = (ratePerS: number): number => {
    const t0r = performance.now();
    let sent = 0;
    for (let c = 0; c < n; c++) {
      if (state[c] !== 6) continue;
      end(start(c, acMac, 0x8863, 0xa7, sidOf[c]), 0);
      state[c] = 8;
      sent++;
      if (txN === B) {
        flush();
        if (pump) pump(performance.now());
        while (performance.now() - t0r < (sent * 1000) / ratePerS) port.recv(rx, SLOT, rxLen, B); // drain, pace
      }
    }
    flush();
    if (pump) pump(performance.now());
    return sent;
  };
  return { result, release };
}


/** p50/p99/p99.9/max (ms, 2 decimals) of `xs`, which it sorts in place. */
/** Percentiles of `xs` (sorted in place). */
function percentiles(xs: Float64Array): Percentiles {
  const k = xs.length;
  xs.sort();
  const q = (x: number): number => (k ? Math.round(xs[Math.min(k - 1, Math.floor(x * k))]! * 100) / 100 : NaN);
  return { n: k, p50: q(0.5), p99: q(0.99), p999: q(0.999), max: q(1) };
}
