/**
 * BlastRADIUS `require_message_authenticator = auto` with 2 cluster workers (issue 8 item 4):
 * once the client has sent a Message-Authenticator (Debian's radtest does), every later
 * Access-Request without one is dropped by both workers, after a reload and after a restart
 * with the same run_dir; the line is logged once; a damaged state file is a located warning.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCode as C } from '../../core/protocol/radius/packet';
import { buildRequest } from '../support/listen';
import { freePorts } from '../interop/freeradius';
import { run, sleep, startDaemon, tempDir, udpExchange, type Daemon } from './harness';

const LEARNED = /client localhost \(127\.0\.0\.1\) sent a Message-Authenticator: requiring it/g;

describe('require_message_authenticator = auto with 2 workers', () => {
  let dir: string;
  let port: number;
  let d: Daemon | undefined;

  const start = async (): Promise<Daemon> => (d = await startDaemon(['-d', dir, '-f'], { readyMs: 40000 }));
  const stop = async (): Promise<void> => {
    if (d) expect(await d.stop()).toBe(0);
    d = undefined;
  };
  /** Sends 100 Access-Requests without Message-Authenticator; resolves with the number of replies. */
  const withoutMa = async (): Promise<number> => {
    const pkts = Array.from({ length: 100 }, (_, i) => buildRequest(C.AccessRequest, `User-Name = "plain${i}"`, { id: i, ma: false }));
    return (await udpExchange({ host: '127.0.0.1', port }, pkts, { waitMs: 1500 })).length;
  };
  const radtest = () => run('/usr/bin/radtest', ['-x', 'bob', 'hello', `127.0.0.1:${port}`, '0', 'testing123']);

  beforeAll(async () => {
    [port] = await freePorts(1);
    dir = tempDir('ma-auto');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), `confdir = .
run_dir = \${confdir}/run
log {
	destination = stdout
}
security {
	reject_delay = 0
}
thread {
	workers = 2
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
	require_message_authenticator = auto
}
server default {
	namespace = radius
	listen {
		type = Access-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${port}
		}
	}
	recv Access-Request {
		control.Auth-Type := ::Accept
	}
}
`);
    await start();
  }, 60000);

  afterAll(async () => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('drops every request without Message-Authenticator once radtest has sent one', async () => {
    // auto starts permissive: a request without Message-Authenticator is answered.
    expect(await withoutMa()).toBe(100);
    const r = await radtest();
    // Debian's radtest (freeradius-utils 3.2.1) asks radclient for a Message-Authenticator.
    expect(r.stdout).toMatch(/Sent Access-Request[\s\S]*Message-Authenticator = 0x00/);
    expect(r.stdout).toMatch(/Received Access-Accept/);
    await d!.waitFor(LEARNED);
    expect(await withoutMa()).toBe(0);
    // Another radtest is answered (it carries one) and learns nothing new: logged once.
    expect((await radtest()).stdout).toMatch(/Received Access-Accept/);
    await sleep(200);
    expect(d!.output().match(LEARNED)?.length).toBe(1);
    const state = fs.readFileSync(path.join(dir, 'run', 'radiusd.ma-seen'), 'utf8');
    expect(state).toMatch(/^seen 127\.0\.0\.1 localhost$/m);
  }, 60000);

  it('still drops them after a reload', async () => {
    const from = d!.output().length;
    d!.signal('SIGHUP');
    await d!.waitFor(/generation 2 is serving[\s\S]*generation 2 is serving/, 30000, from);
    expect(await withoutMa()).toBe(0);
  }, 60000);

  it('still drops them after a restart with the same run_dir, without logging the line again', async () => {
    await stop();
    await start();
    expect(d!.output()).toMatch(/1 client\(s\) known to send Message-Authenticator/);
    expect(await withoutMa()).toBe(0);
    expect(d!.output().match(LEARNED)).toBeNull();
  }, 90000);

  it('a damaged state file is a located warning, not a crash; valid lines still count', async () => {
    await stop();
    const file = path.join(dir, 'run', 'radiusd.ma-seen');
    fs.appendFileSync(file, 'garbage line\nseen not-an-address x\n');
    await start();
    expect(d!.output()).toMatch(/radiusd\.ma-seen\[4\]: ignoring a bad line/);
    expect(d!.output()).toMatch(/radiusd\.ma-seen\[5\]: ignoring a bad line/);
    expect(await withoutMa()).toBe(0);
  }, 90000);
});
