/**
 * Robustness: more than 100k random and mutated packets to a running daemon, from a known
 * client (127.0.0.1) and from an unknown source (127.0.0.2). Afterwards the daemon still
 * answers correctly, and its counters (stats file, written on SIGUSR1) account for every
 * datagram: received = processed + drops + duplicates, and everything from the unknown
 * source is counted as drop_unknown_client.
 */
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonForSuite, radclient, sleep, type Daemon } from './harness';
import { mulberry32 as rng } from '../support/prng';
import { freePorts } from '../interop/freeradius';

let AUTH = 0;
let ACCT = 0;
const SECRET = 'testing123';

const conf = () => `confdir = .
thread {
	workers = 1
}
client localhost {
	ipaddr = 127.0.0.1
	secret = ${SECRET}
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
	detail {
		filename = \${confdir}/radacct/detail
		fsync = no
	}
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		type = Status-Server
		udp {
			ipaddr = 127.0.0.1
			port = ${AUTH}
			recv_buff = 4194304
		}
	}
	listen acct {
		type = Accounting-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${ACCT}
			recv_buff = 4194304
		}
	}
	recv Access-Request {
		files
		pap
	}
	authenticate pap {
		pap
	}
	recv Accounting-Request {
		detail
	}
}
`;

const attr = (type: number, value: Buffer) => Buffer.concat([Buffer.from([type, value.length + 2]), value]);

/** Valid packets to mutate: Access-Request (PAP), Accounting-Request, Status-Server with MA. */
function templates(): Buffer[] {
  const accessReq = (() => {
    const auth = crypto.randomBytes(16);
    const pw = Buffer.alloc(16);
    Buffer.from('hello').copy(pw);
    const b = crypto.createHash('md5').update(Buffer.concat([Buffer.from(SECRET), auth])).digest();
    for (let i = 0; i < 16; i++) pw[i] ^= b[i];
    const attrs = Buffer.concat([attr(1, Buffer.from('bob')), attr(2, pw), attr(4, Buffer.from([127, 0, 0, 1]))]);
    const hdr = Buffer.alloc(20);
    hdr[0] = 1; hdr[1] = 9; hdr.writeUInt16BE(20 + attrs.length, 2);
    auth.copy(hdr, 4);
    return Buffer.concat([hdr, attrs]);
  })();
  const acctReq = (() => {
    const u32 = Buffer.alloc(4); u32.writeUInt32BE(1);
    const attrs = Buffer.concat([attr(1, Buffer.from('bob')), attr(40, u32), attr(44, Buffer.from('fuzz'))]);
    const hdr = Buffer.alloc(20);
    hdr[0] = 4; hdr[1] = 3; hdr.writeUInt16BE(20 + attrs.length, 2);
    crypto.createHash('md5').update(Buffer.concat([hdr, attrs, Buffer.from(SECRET)])).digest().copy(hdr, 4);
    return Buffer.concat([hdr, attrs]);
  })();
  const status = (() => {
    const attrs = attr(80, Buffer.alloc(16));
    const hdr = Buffer.alloc(20);
    hdr[0] = 12; hdr[1] = 5; hdr.writeUInt16BE(20 + attrs.length, 2);
    crypto.randomBytes(16).copy(hdr, 4);
    const pkt = Buffer.concat([hdr, attrs]);
    crypto.createHmac('md5', SECRET).update(pkt).digest().copy(pkt, 22);
    return pkt;
  })();
  return [accessReq, acctReq, status];
}

/** One junk datagram: random bytes, or a valid packet with random damage. */
function junk(r: () => number, tpl: Buffer[]): Buffer {
  const pick = r();
  if (pick < 0.3) {
    const len = r() < 0.02 ? 4097 + Math.floor(r() * 2000) : Math.floor(r() * 120);
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
    if (len > 0 && r() < 0.5) b[0] = [1, 4, 12, 40, 43, 2, 5, 255][Math.floor(r() * 8)];
    return b;
  }
  const b = Buffer.from(tpl[Math.floor(r() * tpl.length)]);
  b[1] = Math.floor(r() * 256); // a fresh ID, so most mutants are not duplicates of each other
  const kind = r();
  if (kind < 0.5) {
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    return b;
  }
  if (kind < 0.65) return b.subarray(0, Math.floor(r() * b.length));
  if (kind < 0.8) {
    b.writeUInt16BE(Math.floor(r() * 5000), 2);
    return b;
  }
  if (kind < 0.9) {
    b[20 + Math.floor(r() * Math.max(1, b.length - 21))] = Math.floor(r() * 3); // attribute length 0..2
    return b;
  }
  return Buffer.concat([b, Buffer.from([Math.floor(r() * 256), Math.floor(r() * 6)])]);
}

async function flood(from: string, count: number, seed: number): Promise<number> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((res) => sock.bind({ address: from, port: 0 }, () => res()));
  const r = rng(seed);
  const tpl = templates();
  let sent = 0;
  const BATCH = 250;
  for (let i = 0; i < count; i += BATCH) {
    const n = Math.min(BATCH, count - i);
    await Promise.all(Array.from({ length: n }, () => {
      const pkt = junk(r, tpl);
      const port = r() < 0.5 ? AUTH : ACCT;
      return new Promise<void>((res) => sock.send(pkt, port, '127.0.0.1', (err) => { if (!err) sent++; res(); }));
    }));
    await sleep(4);
  }
  sock.close();
  return sent;
}

/** Datagrams the kernel dropped on the daemon's sockets (receive buffer full), from /proc/net/udp. */
function kernelDrops(ports: number[]): number {
  try {
    let n = 0;
    for (const line of fs.readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 13) continue;
      const port = parseInt(f[1].split(':')[1], 16);
      if (ports.includes(port)) n += Number(f[f.length - 1]) || 0;
    }
    return n;
  } catch {
    return 0;
  }
}

async function readStats(d: Daemon, file: string): Promise<{ total: Record<string, number> }> {
  const before = fs.existsSync(file) ? fs.statSync(file).mtimeMs : 0;
  d.signal('SIGUSR1');
  for (let i = 0; i < 100; i++) {
    if (fs.existsSync(file) && fs.statSync(file).mtimeMs !== before) break;
    await sleep(50);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe('robustness: 100k+ random and mutated packets', () => {
  const s = daemonForSuite('fuzz', async () => {
    [AUTH, ACCT] = await freePorts(2);
    return { 'radiusd.conf': conf(), users: 'bob\tCleartext-Password := "hello"\n\tReply-Message := "still here"\n' };
  });

  it('survives the flood, still answers, and the counters account for the junk', async () => {
    const [known, unknown] = await Promise.all([flood('127.0.0.1', 60_000, 1), flood('127.0.0.2', 45_000, 2)]);
    expect(known + unknown).toBeGreaterThanOrEqual(100_000);
    // Let in-flight requests (reject_delay) finish.
    await sleep(2500);

    const ok = await radclient(`127.0.0.1:${AUTH}`, 'auth', SECRET, 'User-Name = "bob", User-Password = "hello"\n');
    expect(ok.stdout).toMatch(/Received Access-Accept/);
    expect(ok.stdout).toMatch(/Reply-Message = "still here"/);
    const bad = await radclient(`127.0.0.1:${AUTH}`, 'auth', SECRET, 'User-Name = "bob", User-Password = "nope"\n');
    expect(bad.stdout).toMatch(/Received Access-Reject/);
    const acct = await radclient(`127.0.0.1:${ACCT}`, 'acct', SECRET, 'User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "after-fuzz"\n');
    expect(acct.stdout).toMatch(/Received Accounting-Response/);
    const status = await radclient(`127.0.0.1:${AUTH}`, 'status', SECRET, 'Message-Authenticator = 0x00\n');
    expect(status.stdout).toMatch(/Received Access-Accept/);

    const { total } = await readStats(s.d, path.join(s.dir, 'radiusd.stats.json'));
    console.log(`flood: sent ${known} known + ${unknown} unknown; counters ${JSON.stringify(total)}`);
    // Loopback loses nothing except when the daemon's receive buffer overflows (a busy
    // machine); the kernel counts those per socket. Everything else reached the daemon.
    const lost = kernelDrops([AUTH, ACCT]);
    console.log(`kernel receive-buffer drops: ${lost}`);
    expect(total.received + lost).toBeGreaterThanOrEqual(known + unknown);
    expect(total.drop_unknown_client).toBeGreaterThanOrEqual(unknown - lost);
    expect(total.drop_unknown_client).toBeLessThanOrEqual(unknown);
    // Every datagram is either processed, dropped (by reason) or a duplicate.
    expect(total.received).toBe(total.processed + total.drop_total + total.dup_cached + total.dup_in_progress + total.dup_no_reply);
    // The junk from the known client is mostly dropped, by specific reasons.
    expect(total.drop_malformed).toBeGreaterThan(0.2 * (known - lost));
    expect(total.drop_bad_authenticator).toBeGreaterThan(0);
    expect(total.drop_too_large).toBeGreaterThan(0);
    expect(total.drop_internal).toBe(0);
    expect(s.d.output()).not.toMatch(/internal error|Unhandled|TypeError|RangeError/);
  }, 180_000);
});
