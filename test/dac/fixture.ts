/**
 * The VX example (examples/vx/raddb + sites/vx) on free loopback ports, run in-process with the
 * built-in modules and apps, plus a NAS simulator whose CoA port is the client's coa_server.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Server, MemoryLogger, loadDefaultDictionary, type Dictionary } from '../../core';
import { NasSimulator } from '../../core/cli/nassim/simulator';
import { BUILTIN_MODULES, MODULE_APPS } from '../support/builtins';
import { freePorts } from '../interop/freeradius';
import { AppRegistry, BUILTIN_APPS } from '../../core';

const ROOT = path.resolve(__dirname, '..', '..');
export const ADMIN_TOKEN = 'test-admin-token-1234';
export const SECRET = 'testing123';

export interface VxFixture {
  dir: string;
  server: Server;
  log: MemoryLogger;
  dict: Dictionary;
  ports: { auth: number; acct: number; admin: number; coa: number };
  sim: NasSimulator;
  adminUrl: string;
  stop(): Promise<void>;
}

/** Starts the VX example; `edit` may change the copied files (path → text). */
export async function startVx(edit: (file: string, text: string) => string = (_f, t) => t): Promise<VxFixture> {
  const [auth, acct, admin, coa] = await freePorts(4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-vx-'));
  const raddb = path.join(dir, 'raddb');
  fs.cpSync(path.join(ROOT, 'examples', 'vx', 'raddb'), raddb, { recursive: true });
  const site = fs.readFileSync(path.join(ROOT, 'sites', 'vx'), 'utf8').replace('port = 1812', `port = ${auth}`).replace('port = 1813', `port = ${acct}`);
  fs.writeFileSync(path.join(dir, 'vx.site'), edit('sites/vx', site));
  fs.writeFileSync(path.join(raddb, 'sites-enabled', 'vx'), `$INCLUDE ${path.join(dir, 'vx.site')}\n`);
  const rewrite = (rel: string, f: (t: string) => string) => {
    const p = path.join(raddb, rel);
    fs.writeFileSync(p, edit(rel, f(fs.readFileSync(p, 'utf8'))));
  };
  rewrite('radiusd.conf', (t) => t.replace('port = 9813', `port = ${admin}`).replace('change-me-admin-token', ADMIN_TOKEN));
  rewrite('clients.conf', (t) => t.replace('port = 3799', `port = ${coa}`));
  rewrite('mods-enabled/dac', (t) => t.replace('attributes = control', 'attributes = control\n\tretry {\n\t\tinitial_rtx_time = 1\n\t\tmax_rtx_count = 3\n\t\tmax_rtx_duration = 6\n\t}'));
  const log = new MemoryLogger(false);
  const server = new Server({
    modules: BUILTIN_MODULES, apps: new AppRegistry([...BUILTIN_APPS, ...MODULE_APPS]),
    file: path.join(raddb, 'radiusd.conf'), log, triggers: false,
  });
  await server.start();
  const dict = loadDefaultDictionary();
  const sim = new NasSimulator({ dict, server: '127.0.0.1', authPort: auth, acctPort: acct, secret: SECRET, coaPort: coa, timeout: 2, attempts: 2 });
  await sim.open();
  return {
    dir, server, log, dict, ports: { auth, acct, admin, coa }, sim, adminUrl: `http://127.0.0.1:${admin}`,
    async stop() {
      await sim.close();
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls the admin API. */
export async function api(f: VxFixture, method: string, p: string, body?: unknown, token = ADMIN_TOKEN): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(f.adminUrl + p, {
    method, headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text };
}

/** Waits until `fn` returns true (polling), at most `ms`. */
export async function until(fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}
