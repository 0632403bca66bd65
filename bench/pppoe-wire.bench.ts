/**
 * A synthetic PPPoE client generator over a veth, against `app pppoe_dpdk` with `wire { }` (issue 17 §6):
 *
 *   npm run build && sudo node dist/bench/pppoe-wire.bench.js [--count 20000] [--rate 2000] [--outstanding 2000]
 *        [--hold] [--lcores 1] [--json]
 *
 * Root (veth, AF_PACKET). The bench makes a veth pair, starts an in-process `Server` with a `files` + `pap` site
 * (local policy: one DEFAULT entry) and `app pppoe_dpdk` on one end, and runs the generator in a worker thread on
 * the other end with our AF_PACKET addon. Each client has its own MAC and plays, as fast as the concentrator
 * answers: PADI → PADO → PADR (AC-Cookie, Host-Uniq) → PADS → LCP (acks the AC's request, its own MRU + magic
 * acked) → PAP → IPCP (0.0.0.0, Nak → the reply's address, acks the AC's request) → up; then PADT at once, or with
 * `--hold` keeps the session (RSS is measured with every session held). New clients start at `--rate` per second
 * with at most `--outstanding` unfinished at a time (open loop up to that cap). Setup time: PADI sent → both IPCP
 * directions acked. Reported: setups per second (first PADI → last setup), p50/p99/p99.9/max of the setup time,
 * failures (no answer within 10 s, Nak, PADT), the process RSS before and after, and the load average. A
 * progress bar goes to stderr.
 *
 * Everything (the daemon's main thread, its lcore, the generator) shares this machine's cores; the load average is
 * printed with the figures.
 */
import 'reflect-metadata';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

interface GenParams { ifname: string; count: number; rate: number; outstanding: number; hold: boolean; deadlineMs: number }
interface GenResult { done: number; failed: number; firstMs: number; lastMs: number; setupMs: { p50: number; p99: number; p999: number; max: number }; cpuMs: number; rssMB: number }
interface Gen { result: GenResult; release(ratePerS: number): number }

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

/** This process's resident set (all its threads: the control plane and the lcores), MB. */
function rssMB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** CPU seconds per thread of this process (by thread name; the lcores and the control plane apart). */
function threadCpu(): Record<string, number> {
  const out: Record<string, number> = {};
  const tick = 100; // USER_HZ
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const secs = (Number(f[11]) + Number(f[12])) / tick;
      const key = tid === String(process.pid) ? 'main' : name;
      out[key] = (out[key] ?? 0) + secs;
    } catch { /* thread gone */ }
  }
  return out;
}

// ---------------------------------------------------------------- the generator (a process in the client namespace)

function generator(p: GenParams, progress: (m: { started: number; done: number; failed: number }) => void): Gen {
  const { openPacket } = require('../modules/pppoe_dpdk/native/index') as typeof import('../modules/pppoe_dpdk/native/index');
  const port = openPacket(p.ifname, { rcvbuf: 8 << 20, sndbuf: 8 << 20 });
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
  const acMac = new Uint8Array(6);
  const mine = port.mac;
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
    tx.set(src.subarray(off, off + len), q + 4);
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
    if (len) tx.set(data.subarray(off, off + len), f + 6);
    end(f, len + 6);
  };
  const scratch = new Uint8Array(64);
  const lcpReq = (c: number): void => {
    scratch.set([1, 4, 5, 0xd4, 5, 6, 0x10, (c >>> 16) & 255, (c >>> 8) & 255, c & 255]);
    ppp(c, 0xc021, 1, 1, scratch, 0, 10);
  };
  const ipcpReq = (c: number, id: number): void => {
    const ip = ipOf[c];
    ipcpId[c] = id;
    scratch.set([3, 6, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255]);
    ppp(c, 0x8021, 1, id, scratch, 0, 6);
  };
  const user = (c: number): Uint8Array => Buffer.from(`user${c}`);
  const pw = Buffer.from('secret');
  const pap = (c: number): void => {
    const u = user(c);
    scratch[0] = u.length;
    scratch.set(u, 1);
    scratch[1 + u.length] = pw.length;
    scratch.set(pw, 2 + u.length);
    ppp(c, 0xc023, 1, 1, scratch, 0, 2 + u.length + pw.length);
  };
  /** A client that heard nothing for 1 s sends its last step again, as real clients do (frames can be lost). */
  const retransmit = (c: number): void => {
    const st = state[c];
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
    if (got === 0) port.wait(1);
  }
  flush();
  const sorted = setup.subarray(0, done).sort();
  const q = (x: number): number => (done ? Math.round(sorted[Math.min(done - 1, Math.floor(x * done))]! * 100) / 100 : NaN);
  const cpu = process.cpuUsage();
  const result: GenResult = { done, failed, firstMs, lastMs, setupMs: { p50: q(0.5), p99: q(0.99), p999: q(0.999), max: q(1) },
    cpuMs: Math.round((cpu.user + cpu.system) / 1000), rssMB: Math.round(process.memoryUsage().rss / 1048576) };
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
        while (performance.now() - t0r < (sent * 1000) / ratePerS) port.recv(rx, SLOT, rxLen, B); // drain, pace
      }
    }
    flush();
    return sent;
  };
  return { result, release };
}

/** The generator process (in the client namespace): runs, reports, then waits for `release` or `exit`. */
if (process.argv[2] === '--gen') {
  const params = JSON.parse(process.argv[3]!) as GenParams;
  const gen = generator(params, (m) => process.send!({ progress: m }));
  process.send!({ result: gen.result });
  process.on('message', (m: { release?: number }) => {
    if (m.release) {
      const n = gen.release(m.release);
      process.send!({ released: n }, () => process.exit(0));
    } else process.exit(0);
  });
}

// ---------------------------------------------------------------- the bench (main thread)

async function main(): Promise<void> {
  const COUNT = Number(arg('count', '20000'));
  const RATE = Number(arg('rate', '2000'));
  const OUTSTANDING = Number(arg('outstanding', '2000'));
  const LCORES = Number(arg('lcores', '1'));
  const HOLD = process.argv.includes('--hold');
  const JSON_OUT = process.argv.includes('--json');
  const { MemoryLogger } = require('../core/log/memory') as typeof import('../core/log/memory');
  const { AppRegistry } = require('../core/server/app') as typeof import('../core/server/app');
  const { BUILTIN_APPS } = require('../core/server/apps') as typeof import('../core/server/apps');
  const { Server } = require('../core/server/server') as typeof import('../core/server/server');
  const { pppoeDpdkApp } = require('../modules/pppoe_dpdk/app') as typeof import('../modules/pppoe_dpdk/app');
  const { BUILTIN_MODULES } = require('../modules/index') as typeof import('../modules/index');
  const ROUNDS = Number(arg('rounds', '1'));
  const RELEASE_RATE = Number(arg('release-rate', '50000'));
  const tag = `${process.pid % 100000}`;
  const acIf = `tbga${tag}`;
  const cliIf = `tbgc${tag}`;
  const ns = `tbgn${tag}`;
  const sh = (...a: string[]) => execFileSync('ip', a, { stdio: 'ignore' });
  sh('netns', 'add', ns);
  sh('link', 'add', acIf, 'type', 'veth', 'peer', 'name', cliIf);
  sh('link', 'set', cliIf, 'netns', ns);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-pppoe-wire-bench-'));
  let server: InstanceType<typeof Server> | undefined;
  try {
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${acIf}/disable_ipv6`, '1');
    sh('link', 'set', acIf, 'up');
    sh('-n', ns, 'link', 'set', cliIf, 'up');
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1'], { stdio: 'ignore' });
    const maxSessions = Math.ceil(Math.max(1024, HOLD ? COUNT * 1.05 + 64 : OUTSTANDING * 2) / LCORES);
    fs.writeFileSync(path.join(dir, 'users'), 'DEFAULT\tCleartext-Password := "secret"\n');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), `confdir = ${dir}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
}
server pppoe {
	namespace = radius
	recv Access-Request {
		files
		pap
	}
	authenticate pap {
		pap
	}
	recv Accounting-Request {
		ok
	}
}
app pppoe_dpdk bench {
	site = pppoe
	lcores = ${LCORES}
	max_sessions = ${maxSessions}
	ring_size = 4096
	timeout = 10s
	wire {
		interface = ${acIf}
		cookie_secret = "bench-cookie-secret-0123456789"
		local_address = 10.0.0.1
		pool_base = 100.64.0.0
		auth = pap
		echo_interval = 0
		discovery_burst = 100
	}
}
`);
    server = new Server({
      file: path.join(dir, 'radiusd.conf'), log: new MemoryLogger(), triggers: false,
      apps: new AppRegistry([...BUILTIN_APPS, pppoeDpdkApp as never]), modules: BUILTIN_MODULES,
    });
    await server.start();
    const rssBefore = rssMB();
    const cpuBefore = threadCpu();
    const rounds: Array<Record<string, unknown>> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const params: GenParams = { ifname: cliIf, count: COUNT, rate: RATE, outstanding: OUTSTANDING, hold: HOLD, deadlineMs: 30_000 + (COUNT / RATE) * 3000 };
      const gen = spawn('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, __filename, '--gen', JSON.stringify(params)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const exited = new Promise<void>((r) => gen.on('exit', () => r()));
      const result = await new Promise<GenResult>((resolve, reject) => {
        gen.on('message', (m: { progress?: { started: number; done: number; failed: number }; result?: GenResult }) => {
          if (m.progress && !JSON_OUT) {
            const { done, failed } = m.progress;
            const f = (done + failed) / COUNT;
            process.stderr.write(`\r${ROUNDS > 1 ? `round ${round}/${ROUNDS} ` : ''}[${'#'.repeat(Math.round(f * 30)).padEnd(30)}] ${(f * 100).toFixed(0).padStart(3)}% up ${done} failed ${failed}  `);
          }
          if (m.result) resolve(m.result);
        });
        gen.on('error', reject);
        gen.on('exit', (code) => reject(new Error(`generator exited with ${code}`)));
      });
      if (!JSON_OUT) process.stderr.write('\n');
      await new Promise((r) => setTimeout(r, 500));
      const cpuAfter = threadCpu();
      const health = server.health().apps.find((a) => a.name === 'bench')?.health.detail as { total: Record<string, number> } | undefined;
      const held = { rssMB: rssMB(), sessionsActive: health?.total.sessions_active };
      let released: { rssMB: number; sessionsActive: number | undefined } | undefined;
      if (HOLD && ROUNDS > 1) {
        gen.send({ release: RELEASE_RATE });
        await exited;
        for (let k = 0; k < 100; k++) { // until the concentrator has closed them all
          await new Promise((r) => setTimeout(r, 200));
          const a = (server.health().apps.find((x) => x.name === 'bench')?.health.detail as { total: Record<string, number> } | undefined)?.total.sessions_active;
          if (a === 0) break;
        }
        await new Promise((r) => setTimeout(r, 500));
        released = { rssMB: rssMB(), sessionsActive: (server.health().apps.find((x) => x.name === 'bench')?.health.detail as { total: Record<string, number> }).total.sessions_active };
      } else {
        gen.send({ exit: true });
        await exited;
      }
      const secs = (result.lastMs - result.firstMs) / 1000;
      const cpu = Object.fromEntries(Object.entries(cpuAfter).map(([k, v]) => [k, Math.round((v - (cpuBefore[k] ?? 0)) * 10) / 10]));
      const summary = {
        round, count: COUNT, rate: RATE, outstanding: OUTSTANDING, lcores: LCORES, hold: HOLD, up: result.done, failed: result.failed,
        setupsPerSecond: Math.round(result.done / secs), setupMs: result.setupMs, held, released,
        cpuSeconds: { ...cpu, generator: Math.round(result.cpuMs / 100) / 10 }, generatorRssMB: result.rssMB, seconds: Math.round(secs * 10) / 10,
        concentrator: Object.fromEntries(['wire_padi', 'wire_pads', 'wire_ipcp_up', 'wire_discovery_limited', 'wire_auth_failed', 'ring_full_drops', 'pending_full_drops',
          'mac_cap_drops', 'stalled_drops', 'timeout', 'wire_tx_drops', 'wire_rx_errors', 'wire_ac_system_errors'].map((k) => [k, health?.total[k]])),
        loadavg: os.loadavg().map((x) => x.toFixed(2)),
      };
      Object.assign(cpuBefore, cpuAfter);
      rounds.push(summary);
      if (!JSON_OUT) {
        console.log(`${ROUNDS > 1 ? `round ${round}: ` : ''}${summary.up} up, ${summary.failed} failed, ${summary.setupsPerSecond} setups/s; setup ms p50 ${summary.setupMs.p50} p99 ${summary.setupMs.p99} `
          + `p99.9 ${summary.setupMs.p999} max ${summary.setupMs.max}; sessions held ${held.sessionsActive}; concentrator RSS ${rssBefore} → ${held.rssMB} MB`
          + `${released ? ` → ${released.rssMB} MB after releasing (${released.sessionsActive} left)` : ''}; generator RSS ${result.rssMB} MB `
          + `(rate ${RATE}/s, outstanding ${OUTSTANDING}, lcores ${LCORES}, load ${summary.loadavg.join(' ')})`);
        console.log(`  CPU s: ${Object.entries(summary.cpuSeconds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
        console.log(`  concentrator: ${Object.entries(summary.concentrator).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
    }
    if (JSON_OUT) console.log(JSON.stringify({ rssBeforeMB: rssBefore, rounds }, null, 2));
  } finally {
    if (server) await server.stop();
    try { sh('link', 'del', acIf); } catch { /* gone */ }
    try { sh('netns', 'del', ns); } catch { /* not made */ }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] !== '--gen') {
  main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
  });
}
