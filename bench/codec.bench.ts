/**
 * Codec micro-benchmark: our `core/protocol/radius` against the npm `radius`
 * package (1.1.4) in the same process, cases interleaved within every run.
 *
 *   npm run build && node dist/bench/codec.bench.js [--runs 9] [--ms 300] [--json]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/codec.bench.js --profile 'lazy: Access-Accept' --ms 3000
 *
 * Fixtures follow `../shared/reference/deps.md` §2: a 138-byte Access-Request
 * (User-Name, User-Password, NAS-IP-Address, NAS-Port, Framed-Route,
 * Calling-Station-Id, Message-Authenticator) and an Access-Accept (Service-Type,
 * Framed-Protocol, Framed-IP-Address, Framed-IP-Netmask, Session-Timeout,
 * Idle-Timeout, Acct-Interim-Interval, Class, Reply-Message, two DSL Forum VSAs,
 * Message-Authenticator). Each pair of cases is like for like:
 *
 * | pair | ours | radius |
 * |---|---|---|
 * | decode-lazy (request) | `decodePacket(verify: false)`: framing + lazy pairs | `decode_without_secret` |
 * | decode-lazy (accept) | `decodePacket(verify: false)` | `decode` (verifies nothing for responses) |
 * | decode-full (accept) | lazy decode, then read every value | `decode` |
 * | verify+decrypt (request) | `decodePacket` (MA verify) + read User-Password | `decode` with secret (MA + password) |
 * | encode (request) | `encodePacket` + MA | `encode` + MA |
 * | encode (accept) | `encodePacket` + MA + Response Authenticator | `encode_response` (+MA) |
 *
 * Reported: median ops/s per case over the runs, and the median of the
 * per-run ratios ours/radius. Within a run the two sides of a pair alternate
 * in 10 slices each, so both see the same machine load and the ratios hold up
 * on a busy machine even when the absolute numbers do not.
 */
import * as os from 'node:os';
import radius from 'radius';
import { loadDefaultDictionary } from '../core/dict/default';
import type { Pair } from '../core/pair/pair';
import { parsePairList } from '../core/pair/text';
import { decodePacket, encodePacket, PacketCode } from '../core/protocol/radius';
import { ACCEPT_TEXT, acceptLib, REQUEST_TEXT, requestLib } from './fixtures';

const SECRET = 'testing123';
const secret = Buffer.from(SECRET);
const dict = loadDefaultDictionary();

const REQUEST_LIB = requestLib;
const ACCEPT_LIB = acceptLib;

const requestPairs: Pair[] = parsePairList(REQUEST_TEXT, dict);
const acceptPairs: Pair[] = parsePairList(ACCEPT_TEXT, dict);
const REQUEST = encodePacket({ code: PacketCode.AccessRequest, id: 1, authenticator: Buffer.alloc(0), pairs: requestPairs },
  { dict, secret, messageAuthenticator: true });
const REQ_AUTH = Buffer.from(REQUEST.subarray(4, 20));
const ACCEPT = encodePacket({ code: PacketCode.AccessAccept, id: 1, authenticator: Buffer.alloc(0), pairs: acceptPairs },
  { dict, secret, requestAuthenticator: REQ_AUTH, messageAuthenticator: true });
const LIB_REQUEST = radius.decode({ packet: REQUEST, secret: SECRET });

let sink = 0;

/** Reads every value of a pair tree (forces the lazy decode). */
function touchAll(pairs: readonly Pair[]): void {
  for (const p of pairs) {
    if (p.children) touchAll(p.children);
    else if (p.value !== undefined) sink++;
  }
}

interface Case { name: string; fn: () => void }
interface Pairing { label: string; ours: Case; lib: Case; target?: number }

const pairings: Pairing[] = [
  {
    label: 'decode, lazy: Access-Request', target: 5,
    ours: { name: 'ours decodePacket(verify:false)', fn: () => { const r = decodePacket(REQUEST, { dict, secret, verify: false }); if (r.ok) sink += r.packet.pairs.length; } },
    lib: { name: 'radius.decode_without_secret', fn: () => { sink += radius.decode_without_secret({ packet: REQUEST }).length; } },
  },
  {
    label: 'decode, lazy: Access-Accept', target: 5,
    ours: { name: 'ours decodePacket(verify:false)', fn: () => { const r = decodePacket(ACCEPT, { dict, secret, verify: false }); if (r.ok) sink += r.packet.pairs.length; } },
    lib: { name: 'radius.decode', fn: () => { sink += radius.decode({ packet: ACCEPT, secret: SECRET }).length; } },
  },
  {
    label: 'decode + read every value: Access-Accept',
    ours: { name: 'ours decodePacket + values', fn: () => { const r = decodePacket(ACCEPT, { dict, secret, verify: false }); if (r.ok) touchAll(r.packet.pairs); } },
    lib: { name: 'radius.decode', fn: () => { sink += radius.decode({ packet: ACCEPT, secret: SECRET }).length; } },
  },
  {
    label: 'decode + verify MA + decrypt password: Access-Request', target: 2.5,
    ours: {
      name: 'ours decodePacket + User-Password',
      fn: () => {
        const r = decodePacket(REQUEST, { dict, secret, requireMessageAuthenticator: true });
        if (!r.ok) throw new Error(r.error.message);
        for (const p of r.packet.pairs) if (p.da.attr === 2 && p.value !== undefined) sink++;
      },
    },
    lib: { name: 'radius.decode (secret)', fn: () => { sink += radius.decode({ packet: REQUEST, secret: SECRET }).attributes['User-Password'].length; } },
  },
  {
    label: 'encode + MA: Access-Request', target: 1.5,
    ours: { name: 'ours encodePacket', fn: () => { sink += encodePacket({ code: 1, id: 1, authenticator: Buffer.alloc(0), pairs: requestPairs }, { dict, secret, messageAuthenticator: true }).length; } },
    lib: { name: 'radius.encode', fn: () => { sink += radius.encode({ code: 'Access-Request', identifier: 1, secret: SECRET, attributes: REQUEST_LIB(), add_message_authenticator: true }).length; } },
  },
  {
    label: 'encode + MA + Response Authenticator: Access-Accept', target: 1.5,
    ours: { name: 'ours encodePacket', fn: () => { sink += encodePacket({ code: 2, id: 1, authenticator: Buffer.alloc(0), pairs: acceptPairs }, { dict, secret, requestAuthenticator: REQ_AUTH, messageAuthenticator: true }).length; } },
    lib: { name: 'radius.encode_response', fn: () => { sink += radius.encode_response({ packet: LIB_REQUEST, code: 'Access-Accept', secret: SECRET, attributes: ACCEPT_LIB() }).length; } },
  },
];

/** Iterations and nanoseconds of running `fn` for about `ms` milliseconds. */
function slice(fn: () => void, ms: number): [number, number] {
  let n = 0;
  let batch = 16;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(ms * 1e6));
  for (;;) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
    const el = process.hrtime.bigint() - start;
    if (el >= budget) return [n, Number(el)];
    if (batch < 65536) batch *= 2;
  }
}

/** ops/s of `fn` over about `ms` milliseconds. */
function measure(fn: () => void, ms: number): number {
  const [n, ns] = slice(fn, ms);
  return (n * 1e9) / ns;
}

/**
 * ops/s of `a` and of `b`, each run for about `ms` milliseconds in total, in
 * alternating slices of `ms / slices` so that both see the same machine load.
 */
function measurePair(a: () => void, b: () => void, ms: number, slices = 10): [number, number] {
  let na = 0, ta = 0, nb = 0, tb = 0;
  for (let i = 0; i < slices; i++) {
    const first = i % 2 === 0;
    const [n1, t1] = slice(first ? a : b, ms / slices);
    const [n2, t2] = slice(first ? b : a, ms / slices);
    if (first) { na += n1; ta += t1; nb += n2; tb += t2; } else { nb += n1; tb += t1; na += n2; ta += t2; }
  }
  return [(na * 1e9) / ta, (nb * 1e9) / tb];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** Checks that both libraries agree on the fixtures before timing anything. */
function sanity(): void {
  const lib = radius.decode({ packet: ACCEPT, secret: SECRET });
  if (lib.attributes['Vendor-Specific']?.['Actual-Data-Rate-Downstream'] !== 16384000) throw new Error('radius cannot read our Accept');
  if (!radius.verify_response({ request: REQUEST, response: ACCEPT, secret: SECRET })) throw new Error('radius cannot verify our Accept');
  const libAccept = radius.encode_response({ packet: LIB_REQUEST, code: 'Access-Accept', secret: SECRET, attributes: ACCEPT_LIB() });
  if (!decodePacket(libAccept, { dict, secret, requestAuthenticator: REQ_AUTH }).ok) throw new Error('we cannot verify the radius Accept');
  for (const p of pairings) { p.ours.fn(); p.lib.fn(); }
}

/** `--profile <case substring> [--ms N]`: run only our side of one case (for `node --cpu-prof`). */
function profileOnly(what: string, ms: number): void {
  const p = pairings.find((x) => x.label.includes(what));
  if (!p) throw new Error(`no case matches '${what}'`);
  process.stdout.write(`${p.label}: ${Math.round(measure(p.ours.fn, ms))} ops/s\n`);
}

function main(): void {
  const runs = arg('--runs', 9);
  const ms = arg('--ms', 300);
  sanity();
  const prof = process.argv.indexOf('--profile');
  if (prof >= 0) { profileOnly(process.argv[prof + 1], arg('--ms', 3000)); return; }
  // Warm-up: let the JIT settle on every case.
  for (const p of pairings) { measure(p.ours.fn, 200); measure(p.lib.fn, 200); }
  const ours: number[][] = pairings.map(() => []);
  const lib: number[][] = pairings.map(() => []);
  const ratios: number[][] = pairings.map(() => []);
  for (let r = 0; r < runs; r++) {
    pairings.forEach((p, i) => {
      const [a, b] = measurePair(p.ours.fn, p.lib.fn, ms);
      ours[i].push(a);
      lib[i].push(b);
      ratios[i].push(a / b);
    });
    process.stderr.write(`run ${r + 1}/${runs} done\n`);
  }
  const rows = pairings.map((p, i) => ({
    case: p.label,
    ours: Math.round(median(ours[i])),
    oursMin: Math.round(Math.min(...ours[i])),
    oursMax: Math.round(Math.max(...ours[i])),
    radius: Math.round(median(lib[i])),
    ratio: Number(median(ratios[i]).toFixed(2)),
    ratioMin: Number(Math.min(...ratios[i]).toFixed(2)),
    ratioMax: Number(Math.max(...ratios[i]).toFixed(2)),
    target: p.target,
  }));
  const machine = {
    node: process.version,
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    loadavg: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    requestBytes: REQUEST.length,
    acceptBytes: ACCEPT.length,
    runs,
    msPerCase: ms,
  };
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify({ machine, rows }, null, 2) + '\n');
  } else {
    const fmt = (n: number): string => n.toLocaleString('en-US');
    process.stdout.write(`Node ${machine.node}, ${machine.cpus} × ${machine.cpu}, load ${machine.loadavg}; ${runs} runs × ${ms} ms per case; request ${machine.requestBytes} B, accept ${machine.acceptBytes} B\n\n`);
    process.stdout.write('| case | ours ops/s (median, min–max) | radius ops/s (median) | ratio (median of runs, min–max) | target |\n|---|---:|---:|---:|---:|\n');
    for (const r of rows) {
      const verdict = r.target === undefined ? '–' : `≥ ${r.target}× ${r.ratio >= r.target ? '✅' : '❌'}`;
      process.stdout.write(`| ${r.case} | ${fmt(r.ours)} (${fmt(r.oursMin)}–${fmt(r.oursMax)}) | ${fmt(r.radius)} | ${r.ratio}× (${r.ratioMin}–${r.ratioMax}) | ${verdict} |\n`);
    }
  }
  if (sink === 42) process.stderr.write('\n');
}

main();
