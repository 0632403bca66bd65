/**
 * Sandstorm against our daemon (bounded counts, loopback): the counts in its
 * JSON report must match what was sent — accepts for good passwords, rejects
 * for wrong ones, Accounting-Responses, CoA-ACKs, Status-Server answers — over
 * UDP and TCP, across two servers, closed and open loop; and replies that fail
 * verification (wrong secret) are counted, not accepted.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonForSuite, tempDir } from '../../../test/daemon/harness';
import { freePorts } from '../../../test/interop/freeradius';
import { loadDefaultDictionary } from '../../dict/default';
import { parsePairList } from '../../pair/text';
import { PacketCode, encodePacket } from '../../protocol/radius';
import { sandstormMain } from './main';
import type { Report } from './report';

const USERS = 20;
const REPLY = ['Framed-IP-Address', 'Session-Timeout', 'Idle-Timeout', 'Actual-Data-Rate-Upstream', 'Actual-Data-Rate-Downstream'];
let ports: { a: number; b: number; acct: number; coa: number };

function config(): Record<string, string> {
  const users: string[] = [];
  for (let i = 1; i <= USERS; i++) {
    const d = String(i).padStart(4, '0');
    users.push(`user${d}\tCleartext-Password := "pass${d}"`, `\tFramed-IP-Address = 10.0.0.${i},`, '\tSession-Timeout = 3600,',
      '\tIdle-Timeout = 600,', '\tActual-Data-Rate-Upstream = 1024000,', '\tActual-Data-Rate-Downstream = 16384000', '');
  }
  const udp = (name: string, type: string[], port: number, transport = 'udp') => `
	listen ${name} {
${type.map((t) => `		type = ${t}`).join('\n')}
		transport = ${transport}
		${transport} {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}`;
  return {
    users: users.join('\n'),
    'radiusd.conf': `
confdir = .
localstatedir = \${confdir}/var
logdir = \${localstatedir}/log
run_dir = \${localstatedir}/run
name = radiusd
log {
	destination = files
	file = \${logdir}/radius.log
}
security {
	reject_delay = 0
	status_server = yes
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
	chap {
	}
}
server load {
	namespace = radius
${udp('auth_a', ['Access-Request', 'Status-Server'], ports.a)}
${udp('auth_b', ['Access-Request', 'Status-Server'], ports.b)}
${udp('auth_tcp', ['Access-Request', 'Status-Server'], ports.a, 'tcp')}
${udp('acct', ['Accounting-Request'], ports.acct)}
${udp('coa', ['CoA-Request'], ports.coa)}
	recv Access-Request {
		chap
		files
		pap
	}
	authenticate pap {
		pap
	}
	authenticate chap {
		chap
	}
	recv Status-Server {
		ok
	}
	recv Accounting-Request {
		ok
	}
	recv CoA-Request {
		ok
	}
}
`,
  };
}

/** Runs sandstorm in this process; returns the exit status, the JSON report and stderr. */
async function sandstorm(args: string[]): Promise<{ code: number; report: Report; err: string }> {
  let out = '';
  let err = '';
  const code = await sandstormMain([...args, '-u', String(USERS), '--json', '-'], {
    out: (t) => { out += t; }, err: (t) => { err += t; }, tty: false,
  });
  if (!out) throw new Error(`sandstorm ${args.join(' ')} exited ${code} without a report:\n${err}`);
  return { code, report: JSON.parse(out) as Report, err };
}

describe('sandstorm against radiusd', () => {
  const suite = daemonForSuite('sandstorm', async () => {
    const [a, b, acct, coa] = await freePorts(4);
    ports = { a, b, acct, coa };
    return config();
  });
  const server = (p: number) => `127.0.0.1:${p},${ports.acct},${ports.coa}`;

  it('PAP: every good password is accepted, every wrong one rejected, replies verified and complete', async () => {
    const { code, report, err } = await sandstorm([server(ports.a), '-n', '400', '-w', '16', '-b', '30', '--expect-attrs', REPLY.join(',')]);
    expect(err).toMatch(/UDP I\/O: (native addon|node:dgram fallback)/);
    const c = report.counts;
    expect(c.sent).toBe(400);
    expect(c.responses).toBe(400);
    expect(c.accept + c.reject).toBe(400);
    expect(c.reject).toBeGreaterThan(0); // 30 % wrong passwords: some are rejected…
    expect(c.accept).toBeGreaterThan(0);
    expect(c.unexpected_accept + c.unexpected_reject + c.missing_attrs).toBe(0); // …exactly those
    expect(c.timeouts + c.bad_auth + c.bad_ma + c.malformed + c.stale).toBe(0);
    expect(report.errors).toBe(0);
    expect(code).toBe(0);
    expect(report.latency_us.n).toBe(400);
    expect(report.latency_us.p50).toBeGreaterThan(0);
    expect(report.latency_us.p50).toBeLessThanOrEqual(report.latency_us.p99);
    expect(report.latency_us.p99).toBeLessThanOrEqual(report.latency_us.max);
    expect(report.histogram_us.reduce((s, [, , n]) => s + n, 0)).toBe(400);
    expect(suite.d.proc.exitCode).toBeNull();
  });

  it('an attribute the server does not send counts as missing and fails the run', async () => {
    const { code, report } = await sandstorm([server(ports.a), '-n', '50', '-w', '8', '--expect-attrs', 'Framed-IP-Address,Reply-Message']);
    expect(report.counts.accept).toBe(50);
    expect(report.counts.missing_attrs).toBe(50);
    expect(code).toBe(1);
  });

  it('a mix over two servers: PAP, CHAP, accounting sessions, Status-Server and CoA, each answered as it should', async () => {
    const { code, report } = await sandstorm([server(ports.a), server(ports.b), '-t', 'pap=1,chap=1,acct=2,status=1,coa=1', '-n', '600', '-w', '24', '--interims', '2']);
    const c = report.counts;
    expect(report.per_kind).toEqual({
      pap: { sent: 100, responses: 100 }, chap: { sent: 100, responses: 100 }, acct: { sent: 200, responses: 200 },
      status: { sent: 100, responses: 100 }, coa: { sent: 100, responses: 100 },
    });
    expect(c.accept).toBe(300); // PAP + CHAP + Status-Server on the auth ports
    expect(c.acct_ok).toBe(200);
    expect(c.coa_ack).toBe(100);
    expect(c.reject + c.other_code + c.timeouts + c.bad_auth + c.bad_ma + c.malformed).toBe(0);
    expect(code).toBe(0);
    expect(report.io.channels).toBeGreaterThanOrEqual(4); // per target: both auth ports, acct, coa
  });

  it('TCP (RFC 6613): the same requests over a stream', async () => {
    const { code, report, err } = await sandstorm([server(ports.a), '-P', 'tcp', '-t', 'pap=3,status=1', '-n', '200', '-w', '16']);
    expect(err).toContain('TCP I/O');
    expect(report.io.transport).toBe('tcp');
    expect(report.counts.accept).toBe(200);
    expect(report.errors).toBe(0);
    expect(code).toBe(0);
  });

  it('open loop: a fixed rate for a fixed time, all answered, with a timeline and an HTML page', async () => {
    const dir = tempDir('sandstorm');
    const html = path.join(dir, 'r.html');
    const { code, report } = await sandstorm([server(ports.a), '-r', '200', '-d', '1', '--interval', '250', '--html', html]);
    // The pacer issues floor(rate × elapsed) requests whatever the timer jitter.
    expect(report.counts.sent).toBeGreaterThanOrEqual(180);
    expect(report.counts.sent).toBeLessThanOrEqual(201);
    expect(report.counts.accept).toBe(report.counts.sent);
    expect(report.counts.late).toBe(0);
    expect(code).toBe(0);
    expect(report.timeline.length).toBeGreaterThanOrEqual(3);
    const page = fs.readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page.match(/<svg /g)?.length).toBe(3);
    expect(page).not.toMatch(/\s(src|href)=/); // self-contained: no external assets
    const embedded = JSON.parse(/<script type="application\/json" id="report">(.*)<\/script>/s.exec(page)![1]) as Report;
    expect(embedded.counts).toEqual(report.counts);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a wrong secret: the server drops the requests and they time out', async () => {
    const { code, report } = await sandstorm([server(ports.a), '-s', 'not-the-secret', '-n', '10', '-w', '10', '-T', '300', '-R', '1']);
    expect(report.counts.timeouts).toBe(10);
    expect(report.counts.retransmits).toBe(10);
    expect(report.counts.accept).toBe(0);
    expect(code).toBe(1);
  });
});

describe('sandstorm reply verification', () => {
  it('counts replies with a bad Response Authenticator or Message-Authenticator and never accepts them', async () => {
    const dict = loadDefaultDictionary();
    const sock = dgram.createSocket('udp4');
    let n = 0;
    sock.on('message', (req, rinfo) => {
      // Alternate: signed with another secret with a Message-Authenticator (bad MA), then without one (bad authenticator).
      const ma = n++ % 2 === 0;
      const reply = encodePacket({ code: PacketCode.AccessAccept, id: req[1], authenticator: Buffer.alloc(16), pairs: parsePairList('Session-Timeout = 10', dict) }, {
        dict, secret: Buffer.from('forger'), requestAuthenticator: req.subarray(4, 20), messageAuthenticator: ma,
      });
      sock.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const { code, report } = await sandstorm([`127.0.0.1:${sock.address().port}`, '-n', '6', '-w', '6', '-T', '300']);
      expect(report.counts.bad_ma).toBe(3);
      expect(report.counts.bad_auth).toBe(3);
      expect(report.counts.accept).toBe(0);
      expect(report.counts.timeouts).toBe(6);
      expect(code).toBe(1);
    } finally {
      sock.close();
    }
  });
});
