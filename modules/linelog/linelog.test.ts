import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Linelog } from './linelog';
import def from './index';
import { callCtx, loadTestModule, makeRequest, testDict, type TestModule } from '../../test/support/module-call';
import { compileTemplate } from '../../core';
import { parsePairList, printPairList } from '../../core';
import { Pair } from '../../core';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'linelog-test-'));
const made: Linelog[] = [];
afterAll(async () => {
  for (const m of made) await m.detach();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A `linelog { body }` instance loaded through the loader (its `log` method gets `ctx.env`). */
async function linelog(body: string): Promise<TestModule<Linelog>> {
  const m = await loadTestModule(def, body);
  made.push(m);
  return m;
}
const req = () => makeRequest('User-Name = "bob", NAS-Port = 7, Packet-Type = Access-Request');

describe('linelog', () => {
  it('format to a file with the delimiter', async () => {
    const f = path.join(dir, 'a.log');
    const m = await linelog(`filename = ${f}\nformat = "user=%{User-Name} port=%{NAS-Port}"`);
    const r = req();
    expect(await m.log(r, callCtx(r))).toBe('ok');
    expect(await m.log(r, callCtx(r))).toBe('ok');
    expect(fs.readFileSync(f, 'utf8')).toBe('user=bob port=7\nuser=bob port=7\n');
    expect(fs.statSync(f).mode & 0o777).toBe(0o600);
  });
  it('reference into messages, default fallback, format fallback, noop', async () => {
    const f = path.join(dir, 'b.log');
    const m = await linelog(`file {\n\tfilename = ${f}\n\tpermissions = 0640\n}\ndelimiter = " | "\nreference = "messages.%{Packet-Type}"\nmessages {\n\tAccess-Request = "auth %{User-Name}"\n\tdefault = 'other %{literal}'\n}`);
    const r = req();
    expect(await m.log(r, callCtx(r))).toBe('ok');
    const r2 = makeRequest('User-Name = "x", Packet-Type = Accounting-Request');
    expect(await m.log(r2, callCtx(r2))).toBe('ok');
    expect(fs.readFileSync(f, 'utf8')).toBe('auth bob | other %{literal} | ');
    expect(fs.statSync(f).mode & 0o777).toBe(0o640);
    const m2 = await linelog(`filename = ${f}\nreference = "Accounting-Request.%{Acct-Status-Type}"\nAccounting-Request {\n\tStart = "start"\n}`);
    const r3 = makeRequest('Acct-Status-Type = Stop');
    expect(await m2.log(r3, callCtx(r3))).toBe('noop');
    const r4 = makeRequest('Acct-Status-Type = Start');
    expect(await m2.log(r4, callCtx(r4))).toBe('ok');
    expect(fs.readFileSync(f, 'utf8').endsWith('start\n')).toBe(true);
  });
  it('stdout, stderr (v3 filename names) and syslog', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const r = req();
      await (await linelog('format = "to out %{User-Name}"')).log(r, callCtx(r));
      // Not a file: no Promise, the request does not yield.
      expect((await linelog('filename = stderr\nformat = "to err"')).log(r, callCtx(r))).toBe('ok');
      expect(out).toHaveBeenCalledWith('to out bob\n');
      expect(err).toHaveBeenCalledWith('to err\n');
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const r = req();
    const sys = await linelog('destination = syslog\nformat = "sys %{User-Name}"');
    await sys.log(r, callCtx(r));
    expect(sys.$log.lines).toContain('info: linelog: sys bob');
  });
  it('filename expansion with strftime', async () => {
    const m = await linelog(`filename = ${dir}/%{User-Name}-%Y.log\nformat = "x"`);
    const r = req();
    await m.log(r, callCtx(r));
    expect(fs.existsSync(`${dir}/bob-${new Date(r.received * 1000).getFullYear()}.log`)).toBe(true);
  });
  it('located errors in message templates; without format and reference a call fails (as in v4)', async () => {
    await expect(linelog(`format = "x"\nreference = "m.%{User-Name}"\nm {\n\tx = "%{No-Such-Attr}"\n}`)).rejects.toThrow(/test\.conf\[5\]/);
    await expect(linelog('destination = file\nformat = "x"')).rejects.toThrow(/^test\.conf\[2\]: linelog \{ destination \}: destination = file needs a filename$/);
    const m = await linelog('filename = /dev/null');
    const r = req();
    expect(m.log(r, callCtx(r))).toBe('fail');
  });
  it('an unquoted attribute name is a reference to the attribute (format, reference, message items)', async () => {
    const f = path.join(dir, 'bare.log');
    const m = await linelog(`filename = ${f}\nformat = User-Name\nreference = control.Filter-Id\nmessages {\n\tattr = NAS-Port\n\tword = hello\n}`);
    const r = makeRequest('User-Name = "bob", NAS-Port = 7', { control: 'Filter-Id = "messages.attr"' });
    await m.log(r, callCtx(r));
    const r2 = makeRequest('User-Name = "bob"', { control: 'Filter-Id = "messages.word"' });
    await m.log(r2, callCtx(r2));
    const r3 = makeRequest('User-Name = "bob"', { control: 'Filter-Id = "nothing"' });
    await m.log(r3, callCtx(r3));
    expect(fs.readFileSync(f, 'utf8')).toBe('7\nhello\nbob\n');
  });
  it('a line that references an absent attribute writes nothing (noop); an empty value or expansion is a line', async () => {
    const f = path.join(dir, 'absent.log');
    const m = await linelog(`filename = ${f}\nreference = control.Filter-Id\nmessages {\n\tattr = control.User-Name\n\txlat = "%{control.User-Name}"\n}`);
    const absent = makeRequest('', { control: 'Filter-Id = "messages.attr"' });
    expect(m.log(absent, callCtx(absent))).toBe('noop');
    expect(fs.existsSync(f)).toBe(false);
    const empty = makeRequest('', { control: 'Filter-Id = "messages.attr", User-Name = ""' });
    expect(await m.log(empty, callCtx(empty))).toBe('ok');
    const quoted = makeRequest('', { control: 'Filter-Id = "messages.xlat"' });
    expect(await m.log(quoted, callCtx(quoted))).toBe('ok');
    expect(fs.readFileSync(f, 'utf8')).toBe('\n\n');
    const fmt = await linelog(`filename = ${f}\nformat = Calling-Station-Id`);
    const r = req();
    expect(fmt.log(r, callCtx(r))).toBe('noop');
  });
  it('an attribute reference is written raw; an expansion is escaped', async () => {
    const f = path.join(dir, 'raw.log');
    const m = await linelog(`filename = ${f}\nreference = control.Filter-Id\nmessages {\n\tattr = User-Name\n\txlat = "%{User-Name}"\n}`);
    for (const which of ['attr', 'xlat']) {
      const r = makeRequest('', { control: `Filter-Id = "messages.${which}"` });
      r.request.push(new Pair(testDict().resolve('User-Name')!, 'foo\\nbar'));
      await m.log(r, callCtx(r));
    }
    expect(fs.readFileSync(f, 'utf8')).toBe('foo\\nbar\nfoo\\\\nbar\n');
  });
  it('a reference may not leave the section nor name a section', async () => {
    const m = await linelog(`filename = /dev/null\nreference = "%{Filter-Id}"\nmessages {\n\tvalid = "v"\n}`);
    const r = req();
    r.request.push(...parsePairList('Filter-Id = "..messages.valid"', testDict()));
    expect(m.log(r, callCtx(r))).toBe('fail');
    expect(printPairList(r.request)).toContain('Invalid path');
    const r2 = req();
    r2.request.push(...parsePairList('Filter-Id = ".messages"', testDict()));
    expect(m.log(r2, callCtx(r2))).toBe('fail');
    expect(printPairList(r2.request)).toContain('resolves to a section');
  });
  it('%linelog(text) xlat', async () => {
    const f = path.join(dir, 'x.log');
    const m = await linelog(`filename = ${f}\nformat = "unused"`);
    const r = req();
    await compileTemplate('%linelog("hi %{User-Name}")', { dict: testDict(), xlats: m.$set.xlats }).expand(r);
    expect(fs.readFileSync(f, 'utf8')).toBe('hi bob\n');
  });
  it('expanded values are escaped (no forged lines); the literal text is not', async () => {
    const f = path.join(dir, 'esc.log');
    const m = await linelog(`filename = ${f}\nformat = "a\\tb user=%{User-Name}"`);
    const reg = m.$set.xlats;
    const r = makeRequest('User-Name = "bob\\nforged\\r\\001\\\\x"');
    expect(r.request[0].value).toBe('bob\nforged\r\x01\\x');
    await m.log(r, callCtx(r));
    await compileTemplate('%linelog("via xlat %{User-Name}")', { dict: testDict(), xlats: reg }).expand(r);
    expect(fs.readFileSync(f, 'utf8')).toBe('a\tb user=bob\\nforged\\r\\001\\\\x\nvia xlat bob\\nforged\\r\\001\\x\n');
  });
});
