import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Detail } from './detail';
import { DetailConfig } from './config';
import { callCtx, loadTestModule, makeRequest, parseModuleConfig } from '../../test/support/module-call';
import def from './index';
import { ctime } from '../../core';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detail-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const instances: Detail[] = [];
afterAll(async () => { for (const d of instances) await d.detach(); });

/** A `detail { body }` instance loaded through the loader (its methods get `ctx.env`). */
async function detail(body: string): Promise<Detail> {
  const d = await loadTestModule(def, body);
  instances.push(d);
  return d;
}
const acct = (extra = '') => makeRequest(
  `Acct-Status-Type = Start, User-Name = "bob", User-Password = "secret", Acct-Session-Id = "0001", NAS-IP-Address = 127.0.0.1, Packet-Src-IP-Address = 127.0.0.1${extra}`,
  { code: 4 },
);
const ACCT = { name1: 'recv', name2: 'Accounting-Request' };

describe('detail', () => {
  it('writes a FreeRADIUS-format record; the file is complete when the call resolves', async () => {
    const file = path.join(dir, 'radacct', 'detail');
    const d = await detail(`filename = ${file}`);
    const r = acct();
    expect(await d.logRequest(r, callCtx(r, ACCT))).toBe('ok');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toBe(
      `${ctime(new Date(r.received * 1000))}\n` +
      '\tAcct-Status-Type = Start\n\tUser-Name = "bob"\n\tAcct-Session-Id = "0001"\n\tNAS-IP-Address = 127.0.0.1\n' +
      `\tTimestamp = ${Math.floor(r.received)}\n\n`,
    );
    expect(text).not.toContain('secret');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(/^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/.test(text)).toBe(true);
  });

  it('expands the filename per request (strftime, attributes), keeps "/" out of values', async () => {
    const d = await detail(`filename = ${dir}/acct/%{Packet-Src-IP-Address}/detail-%Y%m%d\npermissions = 0640`);
    const r = acct();
    await d.logRequest(r, callCtx(r, ACCT));
    const t = new Date(r.received * 1000);
    const day = `${t.getFullYear()}${String(t.getMonth() + 1).padStart(2, '0')}${String(t.getDate()).padStart(2, '0')}`;
    const f = path.join(dir, 'acct', '127.0.0.1', `detail-${day}`);
    expect(fs.existsSync(f)).toBe(true);
    expect(fs.statSync(f).mode & 0o777).toBe(0o640);
    const d2 = await detail(`filename = ${dir}/u/%{User-Name}`);
    const r2 = makeRequest('User-Name = "../../etc/x"', { code: 4 });
    await d2.logRequest(r2, callCtx(r2, ACCT));
    expect(fs.readdirSync(path.join(dir, 'u'))).toEqual(['______etc_x']);
    const d3 = await detail(`filename = ${dir}/e/%{User-Name}\nescape_filenames = yes`);
    await d3.logRequest(r2, callCtx(r2, ACCT));
    expect(fs.readdirSync(path.join(dir, 'e'))).toEqual(['-2e-2e-2f-2e-2e-2fetc-2fx']);
  });

  it('suppress, log_packet_header, header and the reply list', async () => {
    const file = path.join(dir, 'd3');
    const d = await detail(`filename = ${file}\nheader = "rec %{User-Name}"\nlog_packet_header = yes\nsuppress {\n\tAcct-Session-Id\n}`);
    const r = acct();
    r.reply.push(...makeRequest('Reply-Message = "hi"').request);
    await d.logRequest(r, callCtx(r, ACCT));
    await d.logReply(r, callCtx(r, { name1: 'send', name2: 'Accounting-Response' }));
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^rec bob\n\tPacket-Type = Accounting-Request\n\tPacket-Src-IP-Address = 127.0.0.1\n\tAcct-Status-Type = Start\n/);
    expect(text).not.toContain('Acct-Session-Id');
    expect(text).toContain('rec bob\n\tPacket-Type = Accounting-Request\n\tPacket-Src-IP-Address = 127.0.0.1\n\tReply-Message = "hi"\n');
  });

  it('rejects unknown suppress attributes with a location', async () => {
    await expect(detail(`filename = ${dir}/x\nsuppress {\n\tNo-Such\n}`)).rejects.toThrow(/test\.conf\[4\]: detail \{ suppress \{ No-Such \} \}: unknown attribute/);
    expect(() => parseModuleConfig(DetailConfig, `filename = x\npermissions = 0999`)).toThrow(/octal/);
  });

  it('group commit: concurrent records share writes and syncs; every record is on disk when its call resolves', async () => {
    const file = path.join(dir, 'group');
    const d = await detail(`filename = ${file}\nfsync = yes`);
    const reqs = Array.from({ length: 200 }, (_, i) => acct(`, Acct-Session-Id = "s${i}"`));
    const results = await Promise.all(reqs.map(async (r, i) => {
      const rc = await d.logRequest(r, callCtx(r, ACCT));
      // Durable before the reply: the record is already in the file.
      return rc === 'ok' && fs.readFileSync(file, 'utf8').includes(`"s${i}"`);
    }));
    expect(results.every(Boolean)).toBe(true);
    const st = d.stats!;
    expect(st.records).toBe(200);
    expect(st.batches).toBeLessThan(200);
    expect(st.syncs).toBe(st.batches);
    expect(fs.readFileSync(file, 'utf8').split('\n\n').filter(Boolean).length).toBe(200);
  });

  it('reopens after rotation by rename and after deletion', async () => {
    const file = path.join(dir, 'rot');
    const d = await detail(`filename = ${file}`);
    const r = acct();
    await d.logRequest(r, callCtx(r, ACCT));
    fs.renameSync(file, file + '.1');
    await d.logRequest(r, callCtx(r, ACCT));
    expect(fs.readFileSync(file + '.1', 'utf8').split('Timestamp').length - 1).toBe(1);
    expect(fs.readFileSync(file, 'utf8').split('Timestamp').length - 1).toBe(1);
    fs.unlinkSync(file);
    await d.logRequest(r, callCtx(r, ACCT));
    expect(fs.existsSync(file)).toBe(true);
    expect(d.stats!.reopens).toBe(2);
  });

  it('closes idle handles', async () => {
    const d = await detail(`filename = ${dir}/idle\nidle_timeout = 1s`);
    const r = acct();
    await d.logRequest(r, callCtx(r, ACCT));
    expect(d.appendWriter!.openCount).toBe(1);
    await d.appendWriter!.closeIdle(Date.now() + 5000);
    expect(d.appendWriter!.openCount).toBe(0);
    await d.logRequest(r, callCtx(r, ACCT));
    expect(fs.readFileSync(`${dir}/idle`, 'utf8').split('Timestamp').length - 1).toBe(2);
  });

  it('fails (does not throw) when the file cannot be written', async () => {
    fs.writeFileSync(path.join(dir, 'notadir'), '');
    const d = await detail(`filename = ${dir}/notadir/detail`);
    const r = acct();
    expect(await d.logRequest(r, callCtx(r, ACCT))).toBe('fail');
  });

  it('cost of durability (informational)', async () => {
    for (const fsync of ['yes', 'no']) {
      const d = await detail(`filename = ${dir}/cost-${fsync}\nfsync = ${fsync}`);
      const r = acct();
      let t0 = performance.now();
      for (let i = 0; i < 50; i++) await d.logRequest(r, callCtx(r, ACCT));
      const seq = (performance.now() - t0) / 50;
      t0 = performance.now();
      await Promise.all(Array.from({ length: 1000 }, () => d.logRequest(r, callCtx(r, ACCT))));
      const par = (performance.now() - t0) / 1000;
      console.log(`detail fsync=${fsync}: sequential ${seq.toFixed(3)} ms/record, 1000 concurrent ${par.toFixed(4)} ms/record, batches ${d.stats!.batches}`);
    }
  });
});
