/**
 * Our daemon (radiusd from dist/, `-X`) as a proxy, with Debian's radclient as the NAS:
 *
 * - to a real FreeRADIUS 3.2 home server (test/interop/freeradius.ts): PAP Accept and
 *   Reject proxied with the home server's reply attributes, accounting proxied (it lands in
 *   FreeRADIUS's detail file), Status-Server answered by our daemon;
 * - to the fault server: a NAS retransmission while the request is in flight causes exactly
 *   one upstream retransmission (radclient's own retry, and a hand-driven NAS);
 * - `redundant { home_a home_b }`: home_a silent → the first request waits one
 *   response_window and falls over to home_b, later ones fall over at once while home_a is
 *   zombie/dead; Status-Server pings reach home_a during its silence; home_a comes back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode } from '../../core/protocol/radius';
import { radclient, sleep, startDaemon, tempDir, type Daemon } from '../daemon/harness';
import { freePorts, startFreeRadius, type FreeRadiusPeer } from '../interop/freeradius';
import { startFaultServer, type FaultServer } from './fault-server';
import { pairValue, TestNas } from './nas';

/** A proxy-mode `radius` instance. */
function inst(name: string, o: { type: string[]; port: number; rw: string; statusCheck?: boolean; extra?: string }): string {
  return `	radius ${name} {
		mode = proxy
		transport = udp
${o.type.map((t) => `		type = ${t}`).join('\n')}
		response_window = ${o.rw}
		zombie_period = 2s
		revive_interval = 2s
${o.statusCheck === false ? '' : `		status_check {
			type = Status-Server
			num_answers_to_alive = 2
		}
		Status-Server {
			initial_rtx_time = 200ms
			max_rtx_time = 400ms
			max_rtx_count = 10
			max_rtx_duration = 1500ms
		}`}
		udp {
			ipaddr = 127.0.0.1
			port = ${o.port}
			secret = testing123
		}
		pool {
			start = 1
			min = 1
			max = 2
			reconnect_delay = 200ms
		}
${o.extra ?? ''}
	}
`;
}

function listen(name: string, types: string[], port: number): string {
  return `	listen ${name} {
${types.map((t) => `		type = ${t}`).join('\n')}
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
`;
}

describe('radiusd as a proxy (Debian radclient as the NAS)', () => {
  let fr: FreeRadiusPeer;
  let slow: FaultServer;
  let homeA: FaultServer;
  let homeB: FaultServer;
  let d: Daemon;
  let dir: string;
  let ports: number[];
  const addr = (i: number): string => `127.0.0.1:${ports[i]}`;

  beforeAll(async () => {
    [fr, slow, homeA, homeB] = await Promise.all([
      startFreeRadius(),
      startFaultServer({ plan: { delayMs: 1500 } }),
      startFaultServer({ plan: { replyAttrs: 'Reply-Message = "from home_a"' } }),
      startFaultServer({ plan: { replyAttrs: 'Reply-Message = "from home_b"' } }),
    ]);
    ports = await freePorts(5);
    dir = tempDir('proxy-daemon');
    const conf = `confdir = .
max_request_time = 30
log {
	destination = stdout
}
security {
	reject_delay = 0
	status_server = yes
}
thread {
	workers = 1
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = no
	limit_proxy_state = no
}
modules {
${inst('fr_auth', { type: ['Access-Request'], port: fr.authPort, rw: '5s' })}
${inst('fr_acct', { type: ['Accounting-Request'], port: fr.acctPort, rw: '5s' })}
${inst('slow', { type: ['Access-Request'], port: slow.port, rw: '5s', statusCheck: false })}
${inst('home_a', { type: ['Access-Request'], port: homeA.port, rw: '1s' })}
${inst('home_b', { type: ['Access-Request'], port: homeB.port, rw: '1s' })}
${inst('lb_a', { type: ['Access-Request'], port: homeA.port, rw: '1s' })}
${inst('lb_b', { type: ['Access-Request'], port: homeB.port, rw: '1s' })}
}
server to_freeradius {
	namespace = radius
${listen('auth', ['Access-Request', 'Status-Server'], ports[0])}
${listen('acct', ['Accounting-Request'], ports[1])}
	recv Access-Request {
		fr_auth
	}
	recv Accounting-Request {
		fr_acct
	}
	recv Status-Server {
		reply.Reply-Message := "fr_auth is %fr_auth.stats('state')"
		ok
	}
}
server to_slow {
	namespace = radius
${listen('slow', ['Access-Request'], ports[2])}
	recv Access-Request {
		slow
	}
}
server failover {
	namespace = radius
${listen('failover', ['Access-Request', 'Status-Server'], ports[3])}
	recv Access-Request {
		redundant {
			home_a
			home_b
		}
	}
	recv Status-Server {
		reply.Reply-Message := "home_a is %home_a.stats('state')"
		ok
	}
}
server balance {
	namespace = radius
${listen('balance', ['Access-Request'], ports[4])}
	recv Access-Request {
		redundant-load-balance {
			lb_a
			lb_b
		}
	}
}
`;
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf);
    d = await startDaemon(['-X', '-d', dir]);
    // Wait until the instances with status checks are active (2 answers each).
    await d.waitFor(/home_b: connection \d+ .*opening -> active/, 10_000);
    await d.waitFor(/fr_auth: connection \d+ .*opening -> active/, 10_000);
    await d.waitFor(/lb_a: connection \d+ .*opening -> active/, 10_000);
    await d.waitFor(/lb_b: connection \d+ .*opening -> active/, 10_000);
  }, 60_000);

  afterAll(async () => {
    if (d) await d.stop();
    await Promise.all([fr?.stop(), slow?.stop(), homeA?.stop(), homeB?.stop()]);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('PAP proxied to FreeRADIUS: Access-Accept with the home server\'s reply attributes', async () => {
    const r = await radclient(addr(0), 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n');
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "Hello, bob"/);
    expect(r.stdout).toMatch(/Framed-IP-Address = 192\.0\.2\.10/);
    expect(r.stdout).toMatch(/Actual-Data-Rate-Downstream = 16384000/);
    // FreeRADIUS saw the request from our proxy (with our Proxy-State), not from radclient.
    expect(fr.output()).toMatch(/Proxy-State = 0x/);
  });

  it('PAP with a wrong password: FreeRADIUS rejects, our daemon answers Access-Reject', async () => {
    const r = await radclient(addr(0), 'auth', 'testing123', 'User-Name = "bob", User-Password = "wrong"\n');
    expect(r.stdout).toMatch(/Received Access-Reject/);
    expect(r.stdout).not.toMatch(/Framed-IP-Address/);
  });

  it('accounting proxied: Accounting-Response, and the record is in FreeRADIUS\'s detail file', async () => {
    const sid = `proxy-${Date.now()}`;
    const r = await radclient(addr(1), 'acct', 'testing123',
      `User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "${sid}", NAS-IP-Address = 127.0.0.1\n`);
    expect(r.stdout).toMatch(/Received Accounting-Response/);
    const dirs = fs.readdirSync(fr.detailDir);
    const text = dirs.flatMap((x) => fs.readdirSync(path.join(fr.detailDir, x)).map((f) => fs.readFileSync(path.join(fr.detailDir, x, f), 'utf8'))).join('\n');
    expect(text).toContain(`Acct-Session-Id = "${sid}"`);
  });

  it('Status-Server is answered by our daemon (never proxied); the instance state is visible through %fr_auth.stats()', async () => {
    const r = await radclient(addr(0), 'status', 'testing123', 'Message-Authenticator = 0x00\n');
    expect(r.stdout).toMatch(/Received Access-Accept/);
    expect(r.stdout).toMatch(/Reply-Message = "fr_auth is active"/);
  });

  it('a NAS retransmission (radclient retry) causes exactly one upstream retransmission', async () => {
    slow.reset();
    // Home answers after 1.5 s; radclient retries after 1 s, and gets the answer before its next retry (at 2 s):
    // half a second of margin on each side, so a loaded machine does not add a second retry.
    const r = await radclient(addr(2), 'auth', 'testing123', 'User-Name = "bob", User-Password = "hello"\n', ['-t', '1', '-r', '3']);
    expect(r.stdout).toMatch(/Received Access-Accept/);
    await sleep(1200);
    expect(slow.stats.byCode[PacketCode.AccessRequest]).toBe(2);
    expect(slow.stats.duplicates).toBe(1);
  });

  it('NAS retransmissions (hand-driven): one upstream retransmission per NAS retransmission, none without', async () => {
    const nas = await TestNas.open(ports[2]);
    try {
      slow.reset();
      const q = nas.send(PacketCode.AccessRequest, 'User-Name = "bob", User-Password = "hello"', { timeoutMs: 4000 });
      await sleep(250);
      q.retransmit();
      await sleep(250);
      q.retransmit();
      const rep = await q.reply;
      expect(rep?.code).toBe(PacketCode.AccessAccept);
      await sleep(100);
      expect(slow.stats.byCode[PacketCode.AccessRequest]).toBe(3);
      expect(slow.stats.duplicates).toBe(2);
      // After the reply, a retransmission is answered from the daemon's duplicate cache: nothing goes upstream.
      slow.reset();
      q.retransmit();
      await sleep(200);
      expect(slow.stats.received).toBe(0);
    } finally {
      await nas.close();
    }
  });

  it('redundant { home_a home_b }: fail-over within response_window, then at once while home_a is zombie/dead; pings during silence; home_a returns', async () => {
    const nas = await TestNas.open(ports[3]);
    try {
      const pap = 'User-Name = "bob", User-Password = "hello"';
      const first = await nas.request(PacketCode.AccessRequest, pap);
      expect(pairValue(first!.pairs, 'Reply-Message')).toBe('from home_a');

      homeA.reset();
      homeA.silence();
      const from = d.output().length;
      // In flight when home_a goes silent: waits one response_window (1 s), then home_b.
      const slowOne = await nas.request(PacketCode.AccessRequest, pap);
      expect(slowOne?.code).toBe(PacketCode.AccessAccept);
      expect(pairValue(slowOne!.pairs, 'Reply-Message')).toBe('from home_b');
      expect(slowOne!.ms).toBeGreaterThanOrEqual(900);
      expect(slowOne!.ms).toBeLessThan(1800);
      await d.waitFor(/home_a: connection \d+ .*active -> zombie/, 2000, from);
      // home_a is a zombie: no waiting any more.
      for (let i = 0; i < 5; i++) {
        const fast = await nas.request(PacketCode.AccessRequest, pap);
        expect(pairValue(fast!.pairs, 'Reply-Message')).toBe('from home_b');
      }
      // Status-Server MRD 1.5 s unanswered → dead (in the -X trace), still failing over at once.
      await d.waitFor(/home_a: connection \d+ .*zombie -> dead/, 4000, from);
      const stillFast = await nas.request(PacketCode.AccessRequest, pap);
      expect(pairValue(stillFast!.pairs, 'Reply-Message')).toBe('from home_b');
      // No waiting once home_a is a zombie or dead: during its silence it saw the lost request, then
      // Status-Server pings only (every later request failed over at once, without being sent there).
      expect(homeA.stats.whileSilent[PacketCode.StatusServer]).toBeGreaterThanOrEqual(3);
      expect(homeA.stats.whileSilent[PacketCode.AccessRequest]).toBe(1);
      const st = await radclient(addr(3), 'status', 'testing123', 'Message-Authenticator = 0x00\n');
      expect(st.stdout).toMatch(/Reply-Message = "home_a is (dead|opening|zombie)"/);

      homeA.comeBack();
      await d.waitFor(/home_a: connection \d+ .*opening -> active/, 4000, from);
      const back = await nas.request(PacketCode.AccessRequest, pap);
      expect(pairValue(back!.pairs, 'Reply-Message')).toBe('from home_a');
    } finally {
      await nas.close();
    }
  });

  it('redundant-load-balance { lb_a lb_b }: requests spread over both; with lb_a silent all are answered by lb_b, at once after the first timeout', async () => {
    const nas = await TestNas.open(ports[4]);
    try {
      const pap = 'User-Name = "bob", User-Password = "hello"';
      const spread = await Promise.all(Array.from({ length: 40 }, () => nas.request(PacketCode.AccessRequest, pap)));
      const by = (x: string): number => spread.filter((r) => r && pairValue(r.pairs, 'Reply-Message') === x).length;
      expect(by('from home_a') + by('from home_b')).toBe(40);
      expect(by('from home_a')).toBeGreaterThan(5);
      expect(by('from home_b')).toBeGreaterThan(5);

      homeA.silence();
      const from = d.output().length;
      const during = await Promise.all(Array.from({ length: 20 }, () => nas.request(PacketCode.AccessRequest, pap)));
      expect(during.every((r) => r && pairValue(r.pairs, 'Reply-Message') === 'from home_b')).toBe(true);
      // Those that went to lb_a first waited one response_window (1 s); none waited longer.
      expect(Math.max(...during.map((r) => r!.ms))).toBeLessThan(1800);
      await d.waitFor(/lb_a: connection \d+ .*active -> zombie/, 2000, from);
      const sentToA = homeA.stats.whileSilent[PacketCode.AccessRequest] ?? 0;
      const after = await Promise.all(Array.from({ length: 20 }, () => nas.request(PacketCode.AccessRequest, pap)));
      expect(after.every((r) => r && pairValue(r.pairs, 'Reply-Message') === 'from home_b')).toBe(true);
      // lb_a is a zombie: none of these went to it (each failed over at once instead of waiting).
      expect(homeA.stats.whileSilent[PacketCode.AccessRequest] ?? 0).toBe(sentToA);
    } finally {
      homeA.comeBack();
      await nas.close();
    }
  });
});
