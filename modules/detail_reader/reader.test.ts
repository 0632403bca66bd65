/**
 * The detail reader inside an in-process Server, end to end: accounting injected into a spool site is
 * written by the `detail` module, the reader replays it through a forwarding site whose `radius` module
 * (client mode) sends it to a real UDP home server on loopback (test/proxy/fault-server.ts). Covers the
 * record splitter, forwarding and deletion, the home server down and back (nothing lost, health
 * degraded meanwhile), resuming a work file with records already marked done, and pacing.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefaultDictionary, MemoryLogger, Server, AppRegistry, parseApps, parseConfigString, type AppDefinition, type ConfSection } from '../../core';
import { BUILTIN_MODULES } from '../../test/support/builtins';
import { startFaultServer, type FaultServer } from '../../test/proxy/fault-server';
import { DetailReaderConfig, detailReaderApp, type DetailReader } from './index';
import { recordPairs, splitRecords } from './record';
import { startFreeRadius } from '../../test/interop/freeradius';
import { radclient } from '../../test/daemon/harness';

/** The spool's files, without the reader's lock file. */
const spoolFiles = (dir: string): string[] => fs.readdirSync(dir).filter((n) => !n.endsWith('.lock'));

let server: Server | undefined;
let home: FaultServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
  await home?.stop();
  home = undefined;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function waitUntil(cond: () => boolean, ms = 15000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function config(o: { spool: string; homePort: number; reader?: string }): string {
  return `confdir = .
modules {
	detail spool {
		filename = ${o.spool}/detail-%Y%m%d
	}
	radius home {
		mode = client
		type = Accounting-Request
		response_window = 1s
		zombie_period = 1s
		revive_interval = 1s
		Accounting-Request {
			initial_rtx_time = 100ms
			max_rtx_time = 200ms
			max_rtx_count = 3
			max_rtx_duration = 600ms
		}
		udp {
			ipaddr = 127.0.0.1
			port = ${o.homePort}
			secret = testing123
		}
	}
}
server acct {
	namespace = radius
	recv Accounting-Request {
		spool
	}
}
server forward {
	namespace = radius
	recv Accounting-Request {
		home
	}
}
app detail_reader {
	filename = ${o.spool}/detail-*
	site = forward
	poll_interval = 50ms
	retry_interval = 300ms
	settle = 200ms
${o.reader ?? ''}
}
`;
}

/** Starts home + server; `users` collects the User-Name of every Accounting-Request the home server answered. */
async function setup(reader = '', preset?: (spool: string) => void): Promise<{ spool: string; users: string[]; app: () => DetailReader }> {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-dreader-'));
  const spool = path.join(dir, 'spool');
  if (preset) { fs.mkdirSync(spool); preset(spool); }
  const users: string[] = [];
  home = await startFaultServer({
    plan: { replyCode: (code, user) => { if (code === 4) users.push(user ?? ''); return code === 4 ? 5 : code === 12 ? 5 : 0; } },
  });
  const file = path.join(dir, 'radiusd.conf');
  fs.writeFileSync(file, config({ spool, homePort: home.port, reader }));
  server = new Server({
    file, log: new MemoryLogger(), modules: BUILTIN_MODULES,
    apps: new AppRegistry([detailReaderApp as unknown as AppDefinition]),
  });
  await server.start();
  const app = () => (server as unknown as { apps: { spec: { kind: string }; instance: DetailReader }[] }).apps.find((a) => a.spec.kind === 'detail_reader')!.instance;
  return { spool, users, app };
}

async function account(user: string, extra = ''): Promise<void> {
  const r = await server!.inject('acct', {
    code: 'Accounting-Request',
    pairs: `User-Name = "${user}", Acct-Status-Type = Start, Acct-Session-Id = "${user}-s", NAS-IP-Address = 192.0.2.1${extra}`,
  });
  expect(r.name).toBe('Accounting-Response');
}

describe('splitRecords', () => {
  const rec = (user: string, ts = 1763695895) => `Sat Nov 21 03:31:35 2026\n\tUser-Name = "${user}"\n\tAcct-Status-Type = Start\n\tTimestamp = ${ts}\n\n`;

  it('splits complete records, leaves a partial one, and finds the mark line', () => {
    const text = rec('a') + rec('b') + 'Sat Nov 21 03:31:36 2026\n\tUser-Name = "c"\n';
    const buf = Buffer.from(text);
    const { records, used } = splitRecords(buf, 100);
    expect(records.map((r) => r.lines[0])).toEqual(['User-Name = "a"', 'User-Name = "b"']);
    expect(used).toBe(Buffer.byteLength(rec('a') + rec('b')));
    expect(records[1].offset).toBe(100 + Buffer.byteLength(rec('a')));
    expect(buf.toString('latin1', records[0].markOffset - 100, records[0].markOffset - 100 + 10)).toBe('\tTimestamp');
    // final: the unterminated record is taken too
    expect(splitRecords(buf, 0, true).records.map((r) => r.lines[0])).toEqual(['User-Name = "a"', 'User-Name = "b"', 'User-Name = "c"']);
  });

  it('recognises records marked done, CRLF line ends and stray blank lines', () => {
    const done = rec('a').replace('\tTimestamp', '\tDone');
    const crlf = rec('b').replace(/\n/g, '\r\n');
    const { records } = splitRecords(Buffer.from('\n\n' + done + '\n' + crlf), 0);
    expect(records.map((r) => [r.lines[0], r.done])).toEqual([['User-Name = "a"', true], ['User-Name = "b"', false]]);
  });
});

describe('detail_reader config', () => {
  const parse = (body: string) => {
    const root = parseConfigString(`app detail_reader spool {\n${body}\n}\n`, 'radiusd.conf');
    return parseApps(root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'app'), new AppRegistry([detailReaderApp as unknown as AppDefinition]));
  };

  it('parses, and reports located errors (what radiusd -C reports)', () => {
    expect(parse('filename = /var/spool/detail-*\nsite = fwd')[0].config).toMatchObject({ site: 'fwd', max_outstanding: 8, rate: 0 });
    expect(() => parse('filename = /var/spool/detail-*')).toThrow(/radiusd\.conf\[\d+\].*site/);
    expect(() => parse('filename = /var/*/detail\nsite = fwd')).toThrow(/radiusd\.conf\[1\]: app detail_reader spool: filename: wildcards are allowed in the last path component only/);
    expect(() => parse('filename = /x/d-*\nsite = fwd\nmax_outstandng = 2')).toThrow(/radiusd\.conf\[4\].*max_outstandng/);
  });

  it('names an existing virtual server (checked at parse time, so radiusd -C agrees with start-up)', () => {
    const root = parseConfigString('app detail_reader {\n\tfilename = /x/d-*\n\tsite = fwd\n}\n', 'radiusd.conf');
    const apps = root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'app');
    const reg = new AppRegistry([detailReaderApp as unknown as AppDefinition]);
    expect(parseApps(apps, reg, { sites: new Set(['fwd', 'acct']) })).toHaveLength(1);
    expect(() => parseApps(apps, reg, { sites: new Set(['acct']) })).toThrow(/radiusd\.conf\[1\]: app detail_reader: site: no virtual server "fwd" \(one of acct\)/);
  });

  it('README documents every item', () => {
    const text = fs.readFileSync(path.join(__dirname, 'README.md'), 'utf8');
    for (const key of Object.keys(DetailReaderConfig.fields)) expect(text).toContain(`| \`${key}\``);
  });
});

describe('detail_reader app', () => {
  it('replays every spooled record through the site, marks it, and removes the finished file', async () => {
    const { spool, users, app } = await setup();
    for (let i = 0; i < 20; i++) await account(`u${i}`, ', Acct-Delay-Time = 3');
    // The reader may take the day's file while the writer still appends: then the writer starts a new one.
    await waitUntil(() => app().stats.acked === 20 && app().stats.files >= 1 && spoolFiles(spool).length === 0, 15000, 'files finished');
    expect(users.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `u${i}`).sort());
    expect(app().stats).toMatchObject({ acked: 20, failed: 0, malformed: 0 });
    expect(app().health().status).toBe('ok');
    // Metrics are registered in the server's registry.
    const names = server!.services.metrics.snapshot().families.map((f) => f.name);
    expect(names).toContain('tsradius_detail_reader_acked_total');
  });

  it('keeps records while the home server is down and delivers all of them when it is back', async () => {
    const { spool, users, app } = await setup();
    home!.silence();
    for (let i = 0; i < 10; i++) await account(`d${i}`);
    await waitUntil(() => app().stats.failed > 0, 10000, 'a failed attempt');
    expect(app().health().status).toBe('degraded');
    expect(users).toEqual([]);
    expect(fs.existsSync(path.join(spool, 'detail.work'))).toBe(true);
    home!.comeBack();
    await waitUntil(() => app().stats.acked === 10 && spoolFiles(spool).length === 0, 20000, 'all delivered');
    expect(new Set(users)).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `d${i}`)));
  });

  it('resumes a work file: records marked done are skipped, and the oldest spool file is read first', async () => {
    const rec = (user: string, done = false) =>
      `Sat Nov 21 03:31:35 2026\n\tUser-Name = "${user}"\n\tAcct-Status-Type = Stop\n\tAcct-Session-Id = "x"\n\t${done ? 'Done' : 'Time'}stamp = ${Math.floor(Date.now() / 1000)}\n\n`;
    const { users, app } = await setup('\tmax_outstanding = 1', (spool) => {
      fs.writeFileSync(path.join(spool, 'detail.work'), rec('w1', true) + rec('w2') + rec('w3', true) + rec('w4'));
      fs.writeFileSync(path.join(spool, 'detail-2'), rec('n2'));
      fs.utimesSync(path.join(spool, 'detail-2'), new Date(), new Date(Date.now() - 5000));
      fs.writeFileSync(path.join(spool, 'detail-1'), rec('n1'));
      fs.utimesSync(path.join(spool, 'detail-1'), new Date(), new Date(Date.now() - 10000));
    });
    await waitUntil(() => app().stats.files === 3, 15000, 'three files');
    expect(users).toEqual(['w2', 'w4', 'n1', 'n2']);
    expect(app().stats.skippedDone).toBe(2);
  });

  it('one reader per spool: waits while another live process holds the lock, takes over when it is gone', async () => {
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const { spool, users, app } = await setup('', (dir) => fs.writeFileSync(path.join(dir, 'detail.work.lock'), `${other.pid}\n`));
      for (let i = 0; i < 3; i++) await account(`l${i}`);
      await new Promise((r) => setTimeout(r, 500));
      expect(users).toEqual([]);
      expect(app().health().detail).toMatchObject({ standby: true, lockHolder: other.pid });
      other.kill('SIGKILL');
      await waitUntil(() => app().stats.acked === 3, 15000, 'taken over');
      expect(fs.readFileSync(path.join(spool, 'detail.work.lock'), 'utf8').trim()).toBe(String(process.pid));
      await server!.stop();
      server = undefined;
      expect(fs.existsSync(path.join(spool, 'detail.work.lock'))).toBe(false);     // released on stop
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('reads the detail files FreeRADIUS 3.2 writes (every line parses; records forwarded)', async () => {
    const fr = await startFreeRadius();
    try {
      for (const u of ['fr1', 'fr2', 'fr3']) {
        const r = await radclient(`127.0.0.1:${fr.acctPort}`, 'acct', 'testing123',
          `User-Name = "${u}", Acct-Status-Type = Stop, Acct-Session-Id = "${u}-s", NAS-IP-Address = 10.0.0.1, Framed-IP-Address = 10.1.1.1, ` +
          'Acct-Input-Octets = 100, Event-Timestamp = 1764743000, Acct-Terminate-Cause = User-Request, Class = 0x01020304, ' +
          'Actual-Data-Rate-Upstream = 1000, Calling-Station-Id = "a\\"b", Acct-Delay-Time = 2\n');
        expect(r.stdout).toMatch(/Received Accounting-Response/);
      }
      const frFile = path.join(fr.detailDir, '127.0.0.1', fs.readdirSync(path.join(fr.detailDir, '127.0.0.1'))[0]);
      const text = fs.readFileSync(frFile);
      const { records } = splitRecords(text, 0);
      expect(records).toHaveLength(3);
      const parsed = recordPairs(records[0], loadDefaultDictionary(), Date.now() / 1000 + 10);
      expect(parsed.skipped).toEqual([]);
      expect(parsed.meta.timestamp).toBeGreaterThan(0);
      const byName = new Map(parsed.pairs.map((p) => [p.da.name, p.value]));
      expect(byName.get('Calling-Station-Id')).toBe('a"b');
      expect(Number(byName.get('Acct-Delay-Time'))).toBeGreaterThanOrEqual(12);   // 2 + the 10 s it "waited"
      const { users, app } = await setup('', (spool) => fs.copyFileSync(frFile, path.join(spool, 'detail-20261203')));
      await waitUntil(() => app().stats.acked === 3 && app().stats.files === 1, 15000, 'FreeRADIUS file replayed');
      expect(users).toEqual(['fr1', 'fr2', 'fr3']);
    } finally {
      await fr.stop();
    }
  }, 60_000);

  it('a reload keeps the reader when its config is unchanged, and replaces it (lock handed over) when it changed', async () => {
    const { spool, users, app } = await setup();
    const first = app();
    const file = path.join(dir!, 'radiusd.conf');
    await server!.reload();
    expect(app()).toBe(first);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('retry_interval = 300ms', 'retry_interval = 400ms'));
    await server!.reload();
    expect(app()).not.toBe(first);
    for (let i = 0; i < 5; i++) await account(`r${i}`);
    await waitUntil(() => app().stats.acked === 5 && spoolFiles(spool).length === 0, 15000, 'delivered after reload');
    expect(users.sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('paces itself: rate spaces the records it starts', async () => {
    const { app } = await setup('\tmax_outstanding = 64\n\trate = 20');
    for (let i = 0; i < 8; i++) await account(`q${i}`);
    await waitUntil(() => app().stats.acked === 8, 15000, 'acked');
    const times = home!.events().filter((e) => e.code === 4 && !e.duplicate).map((e) => e.t);
    expect(times).toHaveLength(8);
    // 20 per second: starts ~50 ms apart (a busy machine only spreads them more). The home server sees them
    // with delivery jitter, so one gap may look shorter; the seven gaps together cannot be.
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(20);
    expect(times[times.length - 1] - times[0]).toBeGreaterThanOrEqual(7 * 50 - 20);
  });

  it('paces itself: max_outstanding bounds the records in flight', async () => {
    const { app } = await setup('\tmax_outstanding = 2');
    home!.set({ delayMs: 50 });
    let peak = 0;
    const t = setInterval(() => { peak = Math.max(peak, app().health().detail!.inFlight as number); }, 5);
    for (let i = 0; i < 12; i++) await account(`p${i}`);
    await waitUntil(() => app().stats.acked === 12, 15000, 'acked');
    clearInterval(t);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
  });
});
