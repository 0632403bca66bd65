/**
 * `map sql "…" { … }` (values in the query escaped by the driver's escaper) and `sql.session`
 * (Simultaneous-Use / Port-Limit against the open sessions in radacct), on SQLite files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findSection, parseConfigString, loadDefaultDictionary, MemoryLogger, createRootContainer, loadModules, type ModuleSet } from '../../core';
import { parsePairList, printPairList, Request, compileUnlang, runSection } from '../../core';
import { sqliteModuleConf } from './testing';
import sqlModule from './index';

const dict = loadDefaultDictionary();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-sqlses-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let open: ModuleSet[] = [];
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });
let n = 0;

async function fresh(extra = ''): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${sqliteModuleConf(path.join(tmp, `db-${++n}.sqlite`), extra)}\n}\n`, path.join(tmp, 'radiusd.conf'));
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const mods = await loadModules({ section: findSection(tree, 'modules'), root, registry: [sqlModule] });
  open.push(mods);
  return mods;
}

function req(text: string, code = 1): Request {
  const r = new Request({ code, dict });
  r.request.push(...parsePairList(text, dict));
  return r;
}

async function run(mods: ModuleSet, policy: string, r: Request): Promise<string> {
  const sec = compileUnlang(policy, { dict, xlats: mods.xlats, modules: mods.modules, virtualModules: mods.virtualModules, section: { name1: 'recv', name2: 'Access-Request' } });
  return runSection(sec, r);
}

async function exec(mods: ModuleSet, stmt: string): Promise<void> {
  await run(mods, `%sql.modify("${stmt.replace(/"/g, '\\"')}")`, req('User-Name = "x"'));
}

describe('map sql', () => {
  it('columns go to attributes; no row is notfound; a NULL column has no value', async () => {
    const m = await fresh();
    await exec(m, "INSERT INTO radreply (username, attribute, op, value) VALUES ('bob', 'Filter-Id', ':=', 'gold')");
    await exec(m, "INSERT INTO radreply (username, attribute, op, value) VALUES ('bob', 'Idle-Timeout', ':=', '600')");
    const policy = `map sql "SELECT value AS filter, (SELECT value FROM radreply WHERE attribute = 'Idle-Timeout' AND username = '%{User-Name}') AS idle FROM radreply WHERE username = '%{User-Name}' AND attribute = 'Filter-Id'" {
	reply.Filter-Id := 'filter'
	reply.Idle-Timeout := 'idle'
}`;
    const r = req('User-Name = "bob"');
    expect(await run(m, policy, r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Filter-Id = "gold", Idle-Timeout = 600');
    const none = req('User-Name = "alice"');
    expect(await run(m, policy, none)).toBe('notfound');
    expect(none.reply).toEqual([]);
  });

  it('values expanded into the query are escaped: a quote in User-Name cannot change the query, and matches the escaped stored name', async () => {
    const m = await fresh();
    await exec(m, "INSERT INTO radreply (username, attribute, op, value) VALUES ('bob', 'Filter-Id', ':=', 'gold')");
    // FreeRADIUS stores names with the same escaping (' becomes =27 under the default safe_characters).
    await exec(m, "INSERT INTO radreply (username, attribute, op, value) VALUES ('o=27brien', 'Filter-Id', ':=', 'irish')");
    const policy = `map sql "SELECT value AS f FROM radreply WHERE username = '%{User-Name}'" {
	reply.Filter-Id := 'f'
}`;
    const evil = req(`User-Name = "x' OR '1'='1"`);
    expect(await run(m, policy, evil)).toBe('notfound');
    const quote = req(`User-Name = "o'brien"`);
    expect(await run(m, policy, quote)).toBe('updated');
    expect(printPairList(quote.reply)).toBe('Filter-Id = "irish"');
  });

  it('a statement that is not a SELECT fails; a column the result lacks is skipped, none in the map is noop', async () => {
    const m = await fresh();
    const r = req('User-Name = "bob"');
    expect(await run(m, 'map sql "DELETE FROM radreply" {\n reply.Filter-Id := \'x\'\n}', r)).toBe('fail');
    await exec(m, "INSERT INTO radreply (username, attribute, op, value) VALUES ('bob', 'Filter-Id', ':=', 'gold')");
    expect(await run(m, 'map sql "SELECT value FROM radreply" {\n reply.Filter-Id := \'nosuch\'\n}', r)).toBe('noop');
    expect(r.reply).toEqual([]);
    expect(await run(m, 'map sql "SELECT value FROM radreply" {\n reply.Filter-Id := \'VALUE\'\n reply.Class := \'nosuch\'\n}', r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Filter-Id = "gold"');
  });

  it('every row is applied in turn with the line\'s operator (:= last row, = first, += each, ^= prepended row by row)', async () => {
    const m = await fresh();
    await exec(m, "INSERT INTO radusergroup (username, groupname, priority) VALUES ('bob', 'bar', 0)");
    await exec(m, "INSERT INTO radusergroup (username, groupname, priority) VALUES ('oof', 'rab', 1)");
    const map = (op: string) => `map sql 'SELECT username, priority FROM radusergroup ORDER BY priority' {\n reply.Filter-Id ${op} 'username'\n reply.NAS-Port ${op} 'priority'\n}`;
    for (const [op, want] of [
      [':=', 'Filter-Id = "oof", NAS-Port = 1'],
      ['=', 'Filter-Id = "bob", NAS-Port = 0'],
      ['+=', 'Filter-Id = "bob", NAS-Port = 0, Filter-Id = "oof", NAS-Port = 1'],
      ['^=', 'NAS-Port = 1, Filter-Id = "oof", NAS-Port = 0, Filter-Id = "bob"'],
    ] as const) {
      const r = req('User-Name = "x"');
      expect(await run(m, map(op), r), op).toBe('updated');
      expect(printPairList(r.reply), op).toBe(want);
    }
  });

  it('%sql.safe() and %sql.escape() mark their value safe for the driver: not escaped again in a map query, also from a local variable', async () => {
    const m = await fresh();
    await exec(m, "INSERT INTO radreply (username, attribute, op, value) VALUES ('o=27brien', 'Filter-Id', ':=', 'irish')");
    const r = req(`User-Name = "o'brien"`);
    // Escaped once, by %sql.escape(), not a second time by the map (=27 would become =3D27).
    expect(await run(m, `map sql "SELECT value FROM radreply WHERE username = '%sql.escape(%{User-Name})'" {\n reply.Filter-Id := 'value'\n}`, r)).toBe('updated');
    expect(printPairList(r.reply)).toBe('Filter-Id = "irish"');
    const local = (mark: string) => `string q\nq := ${mark}("SELECT value FROM radreply WHERE username = '%sql.escape(%{User-Name})'")\nmap sql q {\n reply.Filter-Id := 'value'\n}`;
    const safe = req(`User-Name = "o'brien"`);
    expect(await run(m, local('%sql.safe'), safe)).toBe('updated');
    expect(printPairList(safe.reply)).toBe('Filter-Id = "irish"');
    // Without the mark the whole statement is one value and is escaped: its quotes become =27, the query fails.
    const unsafe = req(`User-Name = "o'brien"`);
    expect(await run(m, local(''), unsafe)).toBe('fail');
    expect(unsafe.reply).toEqual([]);
  });
});

describe('sql.session (Simultaneous-Use)', () => {
  const open1 = (user: string, id: string, stop = 'NULL') =>
    `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime) VALUES ('${id}', '${id}', '${user}', '10.0.0.1', 1700000000, ${stop})`;

  it('no limit is noop; below the limit ok; at the limit reject with a Reply-Message; closed sessions do not count', async () => {
    const m = await fresh();
    await exec(m, "INSERT INTO radcheck (username, attribute, op, value) VALUES ('bob', 'Simultaneous-Use', ':=', '2')");
    const policy = 'sql\nsql.session';
    expect(await run(m, 'sql.session', req('User-Name = "nolimit"'))).toBe('noop');
    expect(await run(m, policy, req('User-Name = "bob"'))).toBe('ok');
    await exec(m, open1('bob', 's1'));
    await exec(m, open1('bob', 's0', '1700000100'));
    await exec(m, open1('alice', 's9'));
    expect(await run(m, policy, req('User-Name = "bob"'))).toBe('ok');
    await exec(m, open1('bob', 's2'));
    const r = req('User-Name = "bob"');
    expect(await run(m, policy, r)).toBe('reject');
    expect(printPairList(r.reply)).toBe('Reply-Message = "You are already logged in 2 times (limit 2) - access denied"');
    // A Stop (acctstoptime set) frees a slot.
    await exec(m, "UPDATE radacct SET acctstoptime = 1700000500 WHERE acctsessionid = 's2'");
    expect(await run(m, policy, req('User-Name = "bob"'))).toBe('ok');
  });

  it('Port-Limit in the reply (radreply or a group) lowers the limit', async () => {
    const m = await fresh();
    await exec(m, "INSERT INTO radusergroup (username, groupname, priority) VALUES ('carol', 'single', 1)");
    await exec(m, "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('single', 'Port-Limit', ':=', '1')");
    expect(await run(m, 'sql\nsql.session', req('User-Name = "carol"'))).toBe('updated');
    await exec(m, open1('carol', 'c1'));
    const r = req('User-Name = "carol"');
    expect(await run(m, 'sql\nsql.session', r)).toBe('reject');
    expect(printPairList(r.reply)).toMatch(/Reply-Message = "You are already logged in - access denied"/);
  });

  it('the user name is escaped in the count query', async () => {
    const m = await fresh();
    await exec(m, open1('a=27b', 'q1'));
    const r = req(`User-Name = "a'b"`);
    r.control.push(...parsePairList('Simultaneous-Use = 1', dict));
    expect(await run(m, 'sql.session', r)).toBe('reject');
  });
});
