/**
 * The operator surface on the VX example: the admin API's token and loopback rules, radmin's
 * tables and commands, /metrics parsed as Prometheus text, and Debian's radclient playing the
 * NAS for authentication and accounting (its CoA port is the simulator's, which does not know
 * that session: the NAK's Error-Cause is recorded).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseApps, parseConfigString, AppRegistry, BUILTIN_APPS, type ConfSection } from '../../core';
import { isLoopback } from '../../core/server/apps/admin/admin';
import { radminMain } from '../../core/cli/radmin';
import { ADMIN_TOKEN, SECRET, api, startVx, until, type VxFixture } from './fixture';

let f: VxFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

async function radmin(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await radminMain(['--url', f!.adminUrl, '--token', ADMIN_TOKEN, ...args], { out: (l) => out.push(l), err: (l) => err.push(l), stdin: async () => '' });
  return { code, out, err };
}

describe('admin app', () => {
  it('needs the token (constant-time compare) for everything but the dashboard page', async () => {
    f = await startVx();
    expect((await api(f, 'GET', '/api/sessions', undefined, '')).status).toBe(401);
    expect((await api(f, 'GET', '/api/sessions', undefined, 'wrong-token-xxxx')).status).toBe(401);
    expect((await api(f, 'GET', '/metrics', undefined, '')).status).toBe(401);
    expect((await api(f, 'POST', '/api/disconnect', { user: 'gold' }, '')).status).toBe(401);
    const page = await api(f, 'GET', '/', undefined, '');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>tsradius admin</title>');
    expect((await api(f, 'GET', '/api/nothing')).status).toBe(404);
    expect((await api(f, 'POST', '/api/sessions')).status).toBe(405);
    expect((await api(f, 'POST', '/api/coa', { user: 'gold' })).status).toBe(400); // no attributes
    expect(f.log.lines.some((l) => l.msg.includes(ADMIN_TOKEN))).toBe(false);
  });

  it('is loopback-only by default: a non-loopback bind needs allow_remote, and peers are checked', () => {
    const reg = new AppRegistry(BUILTIN_APPS);
    const sections = (text: string) => parseConfigString(text, 'radiusd.conf').children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'app');
    expect(() => parseApps(sections('app admin {\n ipaddr = 0.0.0.0\n token = "0123456789"\n}\n'), reg))
      .toThrow(/radiusd\.conf\[1\]: app admin: ipaddr 0\.0\.0\.0 is not a loopback address: set allow_remote = yes/);
    expect(() => parseApps(sections('app admin {\n ipaddr = 0.0.0.0\n token = "0123456789"\n allow_remote = yes\n}\n'), reg)).not.toThrow();
    expect(() => parseApps(sections('app admin {\n}\n'), reg)).toThrow(/token/);
    expect(() => parseApps(sections('app admin {\n token = "short"\n}\n'), reg)).toThrow(/at least 8 characters/);
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a)).toBe(true);
    for (const a of ['192.0.2.1', '::ffff:192.0.2.1', '2001:db8::1', '0.0.0.0', undefined]) expect(isLoopback(a)).toBe(false);
  });

  it('radmin lists sessions, changes rates and disconnects; /metrics parses as Prometheus text', async () => {
    f = await startVx();
    const a = await f.sim.login('gold', 'gold-pass');
    const b = await f.sim.login('silver', 'silver-pass');
    await f.sim.start(a);
    await f.sim.start(b);
    await f.sim.interim(a, 5 << 20 >> 2, 1000);

    const list = await radmin(['sessions']);
    expect(list.code).toBe(0);
    expect(list.out[0]).toMatch(/^SESSION\s+USER\s+NAS\s+ADDRESS\s+STATE\s+IN\s+OUT\s+DOWN\/UP\s+LAST DAC$/);
    expect(list.out.find((l) => l.startsWith(a.id))).toMatch(/gold\s+127\.0\.0\.1\s+100\.64\.0\.10\s+active\s+1\.3 MiB\s+1000 B\s+100000000\/20000000/);
    expect(list.out.at(-1)).toBe('2 session(s)');

    const coa = await radmin(['coa', '--user', 'silver', 'Maximum-Data-Rate-Downstream=20000000', 'Maximum-Data-Rate-Upstream=4000000']);
    expect(coa.code).toBe(0);
    expect(coa.out[2]).toMatch(new RegExp(`^${b.id}\\s+silver\\s+127\\.0\\.0\\.1\\s+ACK\\s+\\s*[0-9.]+\\s+1$`));
    expect(b.granted['Maximum-Data-Rate-Downstream']).toBe('20000000');

    const bad = await radmin(['coa', a.id, 'No-Such-Attribute=1']);
    expect(bad.code).toBe(1);
    expect(bad.err.join('\n')).toMatch(/HTTP 400/);

    const gone = new Promise((r) => f!.sim.once('disconnect', r));
    const disc = await radmin(['disconnect', a.id]);
    expect(disc.code).toBe(0);
    expect(disc.out[2]).toMatch(/ACK/);
    await gone;
    await until(async () => (await f!.server.services.dac.sessions.get(a.id))?.state === 'stopped');
    expect((await radmin(['sessions'])).out.at(-1)).toBe('1 session(s)');
    expect((await radmin(['sessions', '--all'])).out.at(-1)).toBe('2 session(s)');

    const cl = await radmin(['clients']);
    expect(cl.code).toBe(0);
    expect(cl.out[0]).toMatch(/^SERVER\s+NAME\s+NETWORK\s+NAS TYPE\s+COA\/DISCONNECT TO$/);
    expect(cl.out[2]).toMatch(new RegExp(`^\\*\\s+vx-nas\\s+127\\.0\\.0\\.1\\s+other\\s+\\(NAS address\\):${f.ports.coa}$`));
    expect(JSON.stringify((await api(f, 'GET', '/api/clients')).json)).not.toContain('testing123');

    const stats = await radmin(['stats']);
    expect(stats.code).toBe(0);
    expect(stats.out[0]).toMatch(/active sessions 1/);
    const health = await radmin(['health']);
    expect(health.out[0]).toMatch(/^status ok, generation 1/);
    expect(health.out.some((l) => /^dac_detached\s+dac\s+/.test(l))).toBe(true);
    expect(health.out.some((l) => /^admin\s+app admin\s+ok$/.test(l))).toBe(true);

    expect((await radmin(['--token', 'nope-nope-nope', 'sessions'])).code).toBe(1);

    // Prometheus text: HELP and TYPE per family, valid names, counters end in _total, no per-user labels.
    const m = await radmin(['metrics']);
    expect(m.code).toBe(0);
    const typed = new Map<string, string>();
    for (const line of m.out.join('\n').split('\n')) {
      if (line === '') continue;
      const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (t) { typed.set(t[1], t[2]); continue; }
      if (line.startsWith('# HELP ')) continue;
      const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
      expect(s, line).not.toBeNull();
      const base = s![1].replace(/_(bucket|sum|count)$/, '');
      expect(typed.has(s![1]) || typed.get(base) === 'histogram', line).toBe(true);
      expect(line).not.toMatch(/user="/);
    }
    for (const [name, type] of typed) if (type === 'counter') expect(name).toMatch(/_total$/);
    expect(typed.get('tsradius_sessions_active')).toBe('gauge');
    expect(m.out.join('\n')).toMatch(/^tsradius_sessions_active 1$/m);
    expect(typed.get('tsradius_dac_rtt_seconds')).toBe('histogram');
    expect(typed.get('tsradius_request_duration_seconds')).toBe('histogram');
    expect(m.out.join('\n')).toMatch(/^tsradius_request_duration_seconds_bucket\{server="vx",le="\+Inf"\} [1-9][0-9]*$/m);
    const st = await api(f, 'GET', '/api/stats');
    expect(st.json.latency.vx.count).toBeGreaterThanOrEqual(5);
    expect(st.json.latency.vx.p50).toBeGreaterThan(0);
  });

  it('Debian radclient as the NAS: VX Access-Request and Start; a CoA its NAS does not know is NAKed (Error-Cause recorded)', async () => {
    f = await startVx();
    // Asynchronous: the server runs in this process.
    const rc = (port: number, kind: string, input: string) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawn('radclient', ['-x', '-r', '1', '-t', '3', `127.0.0.1:${port}`, kind, SECRET]);
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('close', (status) => resolve({ status, stdout, stderr }));
      p.stdin.end(input);
    });
    const auth = await rc(f.ports.auth, 'auth', 'User-Name = "gold"\nUser-Password = "gold-pass"\nNAS-IP-Address = 127.0.0.1\nNAS-Port = 7\nFramed-Route = "192.0.2.77/32 0.0.0.0"\nMessage-Authenticator = 0x00\n');
    expect(auth.status, auth.stdout + auth.stderr).toBe(0);
    expect(auth.stdout).toMatch(/Received Access-Accept/);
    const id = /Acct-Session-Id = "([0-9a-f-]{36})"/.exec(auth.stdout)?.[1];
    expect(id).toBeDefined();
    expect(auth.stdout).toMatch(/Actual-Data-Rate-Downstream = 100000000/);
    const start = await rc(f.ports.acct, 'acct', `Acct-Status-Type = Start\nAcct-Session-Id = "${id}"\nUser-Name = "gold"\nNAS-IP-Address = 127.0.0.1\nNAS-Port = 7\n`);
    expect(start.status, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/Received Accounting-Response/);
    const s = await api(f, 'GET', `/api/sessions/${id}`);
    expect(s.json).toMatchObject({ user: 'gold', clientIp: '192.0.2.77', state: 'active' });
    const coa = await api(f, 'POST', '/api/coa', { session: id, attributes: { 'Idle-Timeout': 60 } });
    expect(coa.json.results[0]).toMatchObject({ result: 'nak', errorCause: 503, errorCauseName: 'Session-Context-Not-Found' });
    const after = await api(f, 'GET', `/api/sessions/${id}`);
    expect(after.json.lastDac).toMatchObject({ kind: 'coa', result: 'nak', errorCause: 503 });
    expect(after.json.attributes['Idle-Timeout']).toBe('600');
  });
});

describe('admin app over TLS, and the nassim command line', () => {
  it('serves HTTPS with the configured certificate; radmin verifies it with --ca', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-admin-tls-'));
    try {
      const cert = path.join(dir, 'cert.pem');
      const key = path.join(dir, 'key.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
      f = await startVx((file, text) => (file === 'radiusd.conf'
        ? text.replace(/token = "([^"]+)"/, `token = "$1"\n\ttls {\n\t\tcertificate_file = ${cert}\n\t\tprivate_key_file = ${key}\n\t}`) : text));
      const url = f.adminUrl.replace('http:', 'https:');
      const out: string[] = [];
      const err: string[] = [];
      const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), stdin: async () => '' };
      expect(await radminMain(['--url', url, '--token', ADMIN_TOKEN, '--ca', cert, 'health'], io)).toBe(0);
      expect(out[0]).toMatch(/^status ok/);
      // Without the CA the certificate is not trusted.
      expect(await radminMain(['--url', url, '--token', ADMIN_TOKEN, 'health'], io)).toBe(1);
      expect(err.join('\n')).toMatch(/self[- ]signed|certificate/i);
      // Plain HTTP on the TLS port gets nothing useful.
      await expect(fetch(`${f.adminUrl}/api/health`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).rejects.toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bin/nassim.js runs sessions through the whole flow and reports per packet type', async () => {
    f = await startVx();
    const root = path.resolve(__dirname, '..', '..');
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [path.join(root, 'bin', 'nassim.js'), '--auth-port', String(f!.ports.auth), '--acct-port', String(f!.ports.acct),
        '--coa-port', '0', '--user', 'gold:gold-pass', '--user', 'silver:silver-pass', '--sessions', '20', '--interims', '2', '--json', '127.0.0.1', SECRET]);
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { out += d; });
      p.on('close', (code) => resolve({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    const rep = JSON.parse(r.out);
    expect(rep).toMatchObject({ sessions: 20, accepted: 20, completed: 20, rejected: 0 });
    expect(rep.latency.auth.count).toBe(20);
    expect(rep.latency.interim.count).toBe(40);
    expect(rep.latency.stop.failed).toBe(0);
    // Every session was started and stopped on the server.
    const all = await f.server.services.dac.sessions.find({ all: true });
    expect(all.filter((s) => s.state === 'stopped')).toHaveLength(20);
  });
});
