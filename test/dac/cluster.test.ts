/**
 * The admin API with two cluster workers (`thread { workers = 2 }`, the real daemon): the kernel
 * hands each datagram to either worker, so a session's Access-Request, Start and Interim-Updates
 * land in different processes. Sessions live in the primary (core/server/cluster-sessions.ts):
 * every admin request, whichever worker answers it, lists every session with its latest octets;
 * CoA and Disconnect reach every session (ACK recorded); /metrics and /api/stats are the workers'
 * counters merged, the same from either worker, and count every packet sent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDefaultDictionary } from '../../core';
import { NasSimulator, type SimSession } from '../../core/cli/nassim/simulator';
import { ADMIN_TOKEN, SECRET, until, writeVx } from './fixture';
import { RADIUSD } from '../daemon/harness';

let proc: ChildProcess | undefined;
let sim: NasSimulator | undefined;
let dir: string | undefined;
afterEach(async () => {
  await sim?.close();
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc!.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (proc.exitCode === null) proc.kill('SIGKILL');
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  proc = sim = dir = undefined;
});

async function get(url: string): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const r = await fetch(url, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await r.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, json, text, headers: r.headers };
}

async function post(url: string, body: unknown): Promise<any> {
  const r = await fetch(url, { method: 'POST', headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return r.json();
}

function metric(text: string, re: RegExp): number {
  const m = re.exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('admin API with two cluster workers', () => {
  it('sessions, CoA, Disconnect and metrics are cluster-wide, whichever worker answers', { timeout: 120_000 }, async () => {
    const vx = await writeVx((file, t) => (file === 'radiusd.conf' ? t.replace('workers = 1', 'workers = 2') : t));
    dir = vx.dir;
    let out = '';
    proc = spawn(process.execPath, [RADIUSD, '-d', vx.raddb, '-f'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    proc.stdout!.on('data', (b) => (out += b));
    proc.stderr!.on('data', (b) => (out += b));
    await until(() => /2 workers ready/.test(out), 60_000).catch(() => { throw new Error(`daemon did not start:\n${out}`); });
    expect(out).toMatch(/2 workers ready/);
    const base = `http://127.0.0.1:${vx.ports.admin}`;

    sim = new NasSimulator({ dict: loadDefaultDictionary(), server: '127.0.0.1', authPort: vx.ports.auth, acctPort: vx.ports.acct, secret: SECRET, coaPort: vx.ports.coa, timeout: 2, attempts: 3 });
    await sim.open();
    const N = 12;
    const sessions: SimSession[] = [];
    for (let i = 0; i < N; i++) {
      const s = await sim.login(i % 2 ? 'silver' : 'gold', i % 2 ? 'silver-pass' : 'gold-pass', `203.0.113.${40 + i}`);
      expect(s.state, out).toBe('authorized');
      expect(await sim.start(s)).toBe(true);
      expect(await sim.interim(s, 1000 * (i + 1), 500)).toBe(true);
      sessions.push(s);
    }

    // Every admin request (spread over both workers by the shared TCP socket) sees all sessions,
    // with the Accept's grant (framed address, rates) and the last Interim's octets.
    for (let k = 0; k < 6; k++) {
      const r = await get(`${base}/api/sessions`);
      expect(r.status).toBe(200);
      expect(r.json.count).toBe(N);
      for (const [i, s] of sessions.entries()) {
        const x = r.json.sessions.find((y: { id: string }) => y.id === s.id);
        expect(x).toMatchObject({ user: s.user, state: 'active', inputOctets: 1000 * (i + 1), framedIp: s.granted['Framed-IP-Address'], clientIp: `203.0.113.${40 + i}` });
        expect(x.attributes['Maximum-Data-Rate-Downstream']).toBe(s.granted['Maximum-Data-Rate-Downstream']);
      }
      expect((await get(`${base}/api/stats`)).json.sessions.active).toBe(N);
    }
    // No accounting anomaly although Start and Interim-Update went to either worker.
    const m0 = (await get(`${base}/metrics`)).text;
    expect(m0).not.toMatch(/^tsradius_accounting_anomalies_total\{[^}]*\} [1-9]/m);

    // Metrics are merged: each scrape (from either worker) counts every Access-Accept and
    // Accounting-Response the NAS received, and the active sessions.
    for (let k = 0; k < 4; k++) {
      const text = (await get(`${base}/metrics`)).text;
      expect(metric(text, /^tsradius_sessions_active (\d+)$/m)).toBe(N);
      expect(metric(text, /^tsradius_listener_replied_total\{listener="[^"]*auth[^"]*"\} (\d+)$/m), text.slice(0, 4000)).toBe(N);
      expect(metric(text, /^tsradius_listener_replied_total\{listener="[^"]*acct[^"]*"\} (\d+)$/m)).toBe(2 * N);
    }

    // CoA by user: every gold session, whichever worker sends it; ACKs recorded in the shared store.
    const coa = await post(`${base}/api/coa`, { user: 'gold', attributes: { 'Actual-Data-Rate-Downstream': 7000000 } });
    expect(coa.results).toHaveLength(N / 2);
    expect(coa.results.every((r: { result: string }) => r.result === 'ack')).toBe(true);
    for (const s of sessions.filter((x) => x.user === 'gold')) expect(s.granted['Actual-Data-Rate-Downstream']).toBe('7000000');
    for (let k = 0; k < 4; k++) {
      const gold = (await get(`${base}/api/sessions?user=gold`)).json.sessions;
      expect(gold.every((x: any) => x.attributes['Actual-Data-Rate-Downstream'] === '7000000' && x.lastDac?.result === 'ack')).toBe(true);
    }
    // A session by id, from any worker.
    const one = sessions[1]!;
    const d = await post(`${base}/api/sessions/${one.id}/disconnect`, {});
    expect(d.results[0]).toMatchObject({ session: one.id, result: 'ack' });
    await until(async () => (await get(`${base}/api/sessions/${one.id}`)).json.state === 'stopped', 10_000);
    expect((await get(`${base}/api/stats`)).json.sessions.active).toBe(N - 1);

    // The DAC counters of both workers add up in every scrape.
    for (let k = 0; k < 4; k++) {
      const text = (await get(`${base}/metrics`)).text;
      expect(metric(text, /^tsradius_dac_requests_total\{type="coa",result="ack"\} (\d+)$/m)).toBe(N / 2);
      expect(metric(text, /^tsradius_dac_requests_total\{type="disconnect",result="ack"\} (\d+)$/m)).toBe(1);
    }
  });
});
