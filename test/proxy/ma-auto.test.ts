/**
 * `require_message_authenticator = auto` learns from the replies BlastRADIUS is about
 * (Access-Accept/Reject/Challenge) and never applies to Accounting-Response (nor CoA/Disconnect
 * ACK/NAK), which legitimately carry no Message-Authenticator. One instance proxies auth and
 * accounting to the same home server, with and without status checks, and every request must
 * be answered: our own daemon (radiusd from dist/) as the home server (one port for all types),
 * and a real FreeRADIUS 3.2 (it signs its Access-Accepts; accounting goes to its accounting port).
 */
import * as fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode } from '../../core/protocol/radius';
import { startDaemon, writeTempFiles, type Daemon } from '../daemon/harness';
import { freePorts, startFreeRadius, type FreeRadiusPeer } from '../interop/freeradius';
import { startFaultServer } from './fault-server';
import { instance, type Instance } from './module';

const PAP = 'User-Name = "bob", User-Password = "hello"';
const acct = (i: number, status = 'Interim-Update'): string =>
  `User-Name = "bob", Acct-Status-Type = ${status}, Acct-Session-Id = "ma-${i}", NAS-Identifier = "ma-auto"`;

/** One instance sending both types to one port; `check` selects the status check. */
function body(port: number, o: { types: string[]; check?: 'Status-Server' | 'Accounting-Request' }): string {
  return `
mode = proxy
transport = udp
${o.types.map((t) => `type = ${t}`).join('\n')}
response_window = 2s
zombie_period = 2s
revive_interval = 2s
require_message_authenticator = auto
${o.check ? `status_check {
	type = ${o.check}
	num_answers_to_alive = 2
${o.check === 'Accounting-Request' ? '\tupdate request {\n\t\tUser-Name = "status"\n\t\tAcct-Status-Type = Interim-Update\n\t}' : ''}
}` : ''}
Status-Server {
	initial_rtx_time = 200ms
	max_rtx_time = 400ms
	max_rtx_count = 5
	max_rtx_duration = 2s
}
udp {
	ipaddr = 127.0.0.1
	port = ${port}
	secret = testing123
}
pool {
	start = 1
	min = 1
	max = 2
	reconnect_delay = 100ms
}
`;
}

/** Our daemon as a home server: Access, Accounting and Status-Server on one port. */
function homeConf(port: number): string {
  return `confdir = .
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
}
modules {
	files {
		filename = \${confdir}/users
	}
	pap {
	}
}
server home {
	namespace = radius
	listen {
		type = Access-Request
		type = Accounting-Request
		type = Status-Server
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
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
		ok
	}
	recv Status-Server {
		ok
	}
}
`;
}

/**
 * Auth and accounting together (`authInst` may be `acctInst`): every request must be answered,
 * none dropped for a missing Message-Authenticator, and no connection may leave active.
 */
async function mixed(authInst: Instance | undefined, acctInst: Instance, rounds: number): Promise<void> {
  for (const i of new Set([authInst, acctInst])) if (i) await i.until((s) => s.state === 'active', 5000, 'active');
  if (authInst) expect((await authInst.call(PAP)).rc).toBe('ok'); // a signed Access-Accept: auto now requires it on Access-*
  const calls: Promise<{ rc: string }>[] = [];
  for (let i = 0; i < rounds; i++) {
    if (authInst) calls.push(authInst.call(PAP));
    calls.push(acctInst.call(acct(i), { code: PacketCode.AccountingRequest }));
  }
  const rcs = (await Promise.all(calls)).map((r) => r.rc);
  expect(rcs.filter((r) => r === 'ok').length).toBe(calls.length);
  for (const i of new Set([authInst, acctInst])) {
    if (!i) continue;
    const s = i.m.stats();
    expect(s.counters.dropped_by_reason.missing_message_authenticator ?? 0).toBe(0);
    expect(s.counters.timed_out).toBe(0);
    // No flapping: the connection never left active / full.
    expect(i.path().filter((p) => p.endsWith('->zombie') || p.endsWith('->dead'))).toEqual([]);
  }
}

describe('require_message_authenticator = auto never drops a valid Accounting-Response', () => {
  let fr: FreeRadiusPeer;
  let home: Daemon;
  let homeDir: string;
  let homePort: number;
  let inst: Instance | undefined;
  let inst2: Instance | undefined;

  beforeAll(async () => {
    [homePort] = await freePorts(1);
    homeDir = writeTempFiles('ma-auto-home', { 'radiusd.conf': homeConf(homePort), users: 'bob\tCleartext-Password := "hello"\n' });
    [fr, home] = await Promise.all([startFreeRadius(), startDaemon(['-d', homeDir, '-f'])]);
  }, 60_000);
  afterEach(() => { inst?.detach(); inst2?.detach(); inst = inst2 = undefined; });
  afterAll(async () => {
    await Promise.all([fr?.stop(), home?.stop()]);
    if (homeDir) fs.rmSync(homeDir, { recursive: true, force: true });
  });

  const both = ['Access-Request', 'Accounting-Request'];
  // FreeRADIUS 3.2 takes accounting on its own port only (a UDP auth+acct listener drops it):
  // one instance per port, as FreeRADIUS's own home_server pairs do. Its Access-Accepts are signed.
  for (const check of [undefined, 'Status-Server'] as const) {
    it(`FreeRADIUS 3.2 home server, ${check ? 'Status-Server checks' : 'no status check'}: 20 auth + 20 accounting after a signed Access-Accept, all answered`, async () => {
      inst = instance(body(fr.authPort, { types: ['Access-Request'], check }), 'fr_auth');
      inst2 = instance(body(fr.acctPort, { types: ['Accounting-Request'], check }), 'fr_acct');
      await mixed(inst, inst2, 20);
    });
  }

  it('our daemon as home server, no status check: all answered', async () => {
    inst = instance(body(homePort, { types: both }), 'ts_noc');
    await mixed(inst, inst, 20);
  });

  it('our daemon as home server, Status-Server checks: all answered', async () => {
    inst = instance(body(homePort, { types: both, check: 'Status-Server' }), 'ts_ss');
    await mixed(inst, inst, 20);
  });

  it('our daemon as home server, accounting only with Status-Server checks: all answered', async () => {
    inst = instance(body(homePort, { types: ['Accounting-Request'], check: 'Status-Server' }), 'ts_acct_ss');
    await mixed(undefined, inst, 40);
  });

  it('our daemon as home server, accounting only with Accounting-Request checks: all answered', async () => {
    inst = instance(body(homePort, { types: ['Accounting-Request'], check: 'Accounting-Request' }), 'ts_acct_ac');
    await mixed(undefined, inst, 40);
  });

  it('once learned, an unsigned Access-Accept is dropped while unsigned Accounting-Response and CoA-ACK are answered', async () => {
    const fault = await startFaultServer({ plan: { users: { bob: 'hello' } } });
    try {
      inst = instance(body(fault.port, { types: [...both, 'CoA-Request'] }).replace('response_window = 2s', 'response_window = 300ms'), 'fault');
      await inst.until((s) => s.state === 'active', 5000, 'active');
      expect((await inst.call(PAP)).rc).toBe('ok'); // signed: learned
      fault.set({ messageAuthenticator: 'omit' });
      expect((await inst.call(acct(1), { code: PacketCode.AccountingRequest })).rc).toBe('ok');
      expect((await inst.call('User-Name = "bob", Acct-Session-Id = "x"', { code: PacketCode.CoARequest })).rc).toBe('ok');
      expect((await inst.call(PAP)).rc).toBe('fail');
      expect(inst.m.stats().counters.dropped_by_reason.missing_message_authenticator).toBe(1);
    } finally {
      inst?.detach();
      inst = undefined;
      await fault.stop();
    }
  });
});
