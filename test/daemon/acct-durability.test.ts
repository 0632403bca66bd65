/**
 * Accounting durability with real stores (issue 12 §6): the daemon is killed with SIGKILL in the middle
 * of an accounting load, and every record it acknowledged (Accounting-Response received by the test NAS)
 * must be in the store afterwards: a detail file, SQLite (the `sql` module on a temporary file) and
 * PostgreSQL (a private cluster made with initdb on a free port).
 *
 * Then the fallback: `redundant { sql; detail }` with PostgreSQL stopped. Accounting is still
 * acknowledged (spooled to detail); a `detail_reader` replays the spool into the database through a
 * second site once PostgreSQL is back, and every acknowledged record ends up in `radacct`.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresModuleConf, sqliteModuleConf, SQL_CONFIG_DIR } from '../../modules/sql/testing';
import { freePorts } from '../interop/freeradius';
import { TestNas } from '../proxy/nas';
import { startPostgres, type PgServer } from '../support/postgres';
import { sleep, startDaemon, tempDir, type Daemon } from './harness';

/** The spool's files, without the reader's lock file. */
const spoolFiles = (dir: string): string[] => fs.readdirSync(dir).filter((n) => !n.endsWith('.lock'));

const ACCT = 4;
const ACCT_RESPONSE = 5;

function conf(o: { port: number; modules: string; policy: string; extra?: string }): string {
  return `confdir = .
run_dir = \${confdir}/run
radacctdir = \${confdir}/radacct
thread {
	workers = 1
}
client localhost {
	ipaddr = 127.0.0.1
	secret = testing123
}
modules {
${o.modules}
}
server default {
	namespace = radius
	listen acct {
		type = Accounting-Request
		udp {
			ipaddr = 127.0.0.1
			port = ${o.port}
		}
	}
	recv Accounting-Request {
	}
	accounting Start {
${o.policy}
	}
}
${o.extra ?? ''}
`;
}

/** Sends Start records `${prefix}-0…` `window` at a time until `stop()`; resolves with the acknowledged Acct-Session-Ids. */
async function load(nas: TestNas, prefix: string, count: number, stop: () => boolean, window = 32, acked: string[] = []): Promise<string[]> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && !stop()) {
      const id = `${prefix}-${next++}`;
      const r = await nas.request(ACCT, `User-Name = "bob", Acct-Status-Type = Start, Acct-Session-Id = "${id}", NAS-IP-Address = 192.0.2.1, NAS-Port = 7, Framed-IP-Address = 10.1.2.3`, 2000);
      if (r?.code === ACCT_RESPONSE) acked.push(id);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  return acked;
}

async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Starts the daemon on `dir` with `text`, loads it, kills it with SIGKILL once `killAfter` records were
 * acknowledged, and resolves with the acknowledged ids (the records sent after the kill get no answer).
 */
async function killUnderLoad(dir: string, port: number, prefix: string, killAfter = 150): Promise<string[]> {
  const d: Daemon = await startDaemon(['-d', dir, '-f']);
  const nas = await TestNas.open(port);
  let killed = false;
  const acked: string[] = [];
  const sending = load(nas, prefix, 5000, () => killed, 32, acked);
  const t0 = Date.now();
  while (acked.length < killAfter && Date.now() - t0 < 30_000) await sleep(10);
  d.signal('SIGKILL');
  killed = true;
  await d.stop();
  await sending;
  await nas.close();
  expect(acked.length).toBeGreaterThanOrEqual(killAfter);
  return acked;
}

describe('acknowledged accounting survives kill -9', () => {
  let port: number;
  let dir: string;

  beforeAll(async () => {
    [port] = await freePorts(1);
  });

  it('detail: every acknowledged record is in the file', async () => {
    dir = tempDir('dur-detail');
    const file = path.join(dir, 'acct', 'detail');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf({ port, modules: `\tdetail {\n\t\tfilename = ${file}\n\t}`, policy: '\t\tdetail' }));
    const acked = await killUnderLoad(dir, port, 'det');
    const inFile = new Set([...fs.readFileSync(file, 'utf8').matchAll(/^\tAcct-Session-Id = "([^"]+)"$/gm)].map((m) => m[1]));
    expect(acked.filter((id) => !inFile.has(id))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('SQLite: every acknowledged Start is a radacct row', async () => {
    dir = tempDir('dur-sqlite');
    const db = path.join(dir, 'radius.sqlite');
    fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf({ port, modules: sqliteModuleConf(db), policy: '\t\tsql' }));
    const acked = await killUnderLoad(dir, port, 'lite');
    const h = new Database(db);
    const rows = new Set((h.prepare('SELECT acctsessionid FROM radacct').all() as { acctsessionid: string }[]).map((r) => r.acctsessionid));
    h.close();
    expect(acked.filter((id) => !rows.has(id))).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  describe('PostgreSQL', () => {
    let pg: PgServer;
    beforeAll(async () => {
      pg = await startPostgres();
      await pg.createDatabase('radius', [path.join(SQL_CONFIG_DIR, 'main', 'postgresql', 'schema.sql')]);
    }, 120_000);
    afterAll(async () => {
      await pg?.stop();
    });

    const rows = async (): Promise<Set<string>> =>
      new Set((await pg.psql('SELECT acctsessionid FROM radacct;', 'radius')).split('\n').map((s) => s.trim()).filter(Boolean));

    it('every acknowledged Start is a radacct row', async () => {
      dir = tempDir('dur-pg');
      fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf({ port, modules: postgresModuleConf([pg], 'radius', pg.user), policy: '\t\tsql' }));
      const acked = await killUnderLoad(dir, port, 'pg');
      const have = await rows();
      expect(acked.filter((id) => !have.has(id))).toEqual([]);
      fs.rmSync(dir, { recursive: true, force: true });
    }, 120_000);

    it('redundant { sql; detail }: with PostgreSQL down accounting is spooled, and replayed into it when it is back', async () => {
      dir = tempDir('dur-fallback');
      const spool = path.join(dir, 'spool');
      fs.writeFileSync(path.join(dir, 'radiusd.conf'), conf({
        port,
        modules: postgresModuleConf([pg], 'radius', pg.user) + `\tdetail spool {\n\t\tfilename = ${spool}/detail-%Y%m%d\n\t}`,
        policy: '\t\tredundant {\n\t\t\tsql\n\t\t\tspool\n\t\t}',
        extra: `server replay {
	namespace = radius
	recv Accounting-Request {
	}
	accounting Start {
		sql
	}
}
app detail_reader replay {
	filename = ${spool}/detail-*
	site = replay
	poll_interval = 100ms
	retry_interval = 500ms
	settle = 300ms
}
`,
      }));
      const d = await startDaemon(['-d', dir, '-f']);
      const nas = await TestNas.open(port);
      try {
        const up = await load(nas, 'fb-up', 50, () => false);
        expect(up.length).toBe(50);
        await pg.halt();
        const down = await load(nas, 'fb-down', 200, () => false, 16);
        expect(down.length).toBe(200);                           // acknowledged from the spool
        expect(spoolFiles(spool).length).toBeGreaterThan(0);
        await pg.restart();
        const after = await load(nas, 'fb-after', 50, () => false);
        await waitUntil(async () => { const h = await rows(); return [...up, ...down, ...after].every((id) => h.has(id)); }, 60_000, 'spool replayed');
        await waitUntil(() => spoolFiles(spool).length === 0, 15_000, 'spool emptied');
      } finally {
        await nas.close();
        await d.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }, 180_000);
  });
});
