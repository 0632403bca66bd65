import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Files } from './files';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';
import { printPairList } from '../../core';
import type { Request } from '../../core';
import { VERBATIM_USERS } from '../../test/fixtures/verbatim';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'files-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A `files` instance for `users`, loaded through the loader (validate reads the file; methods get `ctx.env`). */
async function files(users: string, extra = ''): Promise<Files> {
  const f = path.join(dir, `users-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(f, users);
  return loadTestModule(def, `filename = ${f}\n${extra}`);
}
const run = (m: Files, r: Request) => m.authorize(r, callCtx(r));

describe('files: the issue 4 users file', () => {
  let m!: Files;
  beforeAll(async () => { m = await files(VERBATIM_USERS); });
  it('bob: control password and reply items', () => {
    const r = makeRequest('User-Name = "bob", User-Password = "hello"');
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.control)).toBe('Password = { Cleartext = "hello" }');
    expect(printPairList(r.reply)).toBe('Framed-IP-Address = 192.0.2.10, Session-Timeout = 3600');
  });
  it('alice: v3 name', () => {
    const r = makeRequest('User-Name = "alice"');
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.control)).toBe('Password = { Cleartext = "wonderland" }');
    expect(r.reply.length).toBe(0);
  });
  it('unknown users and case: noop', () => {
    expect(run(m, makeRequest('User-Name = "carol"'))).toBe('noop');
    expect(run(m, makeRequest('User-Name = "Bob"'))).toBe('noop');
    expect(run(m, makeRequest('NAS-Port = 1'))).toBe('noop');
  });
  it('Stripped-User-Name wins over User-Name', () => {
    const r = makeRequest('User-Name = "bob@example.com", Stripped-User-Name = "bob"');
    expect(run(m, r)).toBe('ok');
  });
});

describe('files: DEFAULT, Fall-Through and check items', () => {
  let m!: Files;
  beforeAll(async () => { m = await files(`# comment
DEFAULT	NAS-Port == 1
	Reply-Message := "port one",
	Fall-Through = yes

bob	Password.Cleartext := "hello", NAS-IP-Address == 192.0.2.1
	Session-Timeout = 10,
	Fall-Through = Yes

bob	Password.Cleartext := "other"
	Session-Timeout = 20,
	Idle-Timeout = 5

DEFAULT	Auth-Type := Reject
	Reply-Message += "rejected"
`); });
  it('DEFAULT then named entry in file order, Fall-Through continues', () => {
    const r = makeRequest('User-Name = "bob", NAS-Port = 1, NAS-IP-Address = 192.0.2.1');
    expect(run(m, r)).toBe('ok');
    // second bob entry: := replaces the password, = does not replace Session-Timeout.
    expect(printPairList(r.control)).toBe('Password = { Cleartext = "other" }');
    expect(printPairList(r.reply)).toBe('Reply-Message = "port one", Session-Timeout = 10, Idle-Timeout = 5');
  });
  it('a failing check skips the entry', () => {
    const r = makeRequest('User-Name = "bob", NAS-Port = 2, NAS-IP-Address = 192.0.2.9');
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toBe('Session-Timeout = 20, Idle-Timeout = 5');
  });
  it('only DEFAULT entries for other users', () => {
    const r = makeRequest('User-Name = "zed", NAS-Port = 1');
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.control)).toBe('Auth-Type = ::Reject');
    expect(printPairList(r.reply)).toBe('Reply-Message = "port one", Reply-Message = "rejected"');
  });
});

describe('files: operators', () => {
  let m!: Files;
  beforeAll(async () => { m = await files(`a	User-Name =~ "^a", NAS-Port > 10, NAS-Port <= 20, Calling-Station-Id !* ANY
	Reply-Message = "regex %{1} %{User-Name}"
b	NAS-Port != 5, Service-Type == Framed-User
	Class := 0x0102
c	Framed-IP-Address < 10.0.0.0/8, control.Auth-Type =* ANY
	reply.Filter-Id := "in-net",
	control.Tmp-String-0 := "x"
d	User-Name =~ /^D$/i
	Filter-Id := "d"
`); });
  it('regex, ranges, absence; xlat in reply with captures', () => {
    const r = makeRequest('User-Name = "a", NAS-Port = 15');
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toBe('Reply-Message = "regex  a"');
    expect(run(m, makeRequest('User-Name = "a", NAS-Port = 25'))).toBe('noop');
    expect(run(m, makeRequest('User-Name = "a", NAS-Port = 15, Calling-Station-Id = "x"'))).toBe('noop');
  });
  it('!= and enum ==', () => {
    const r = makeRequest('User-Name = "b", NAS-Port = 6, Service-Type = Framed-User');
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toBe('Class = 0x0102');
    expect(run(m, makeRequest('User-Name = "b", NAS-Port = 5, Service-Type = Framed-User'))).toBe('noop');
    expect(run(m, makeRequest('User-Name = "b", Service-Type = Framed-User'))).toBe('noop');
  });
  it('prefix comparison and list qualifiers', () => {
    const r = makeRequest('User-Name = "c", Framed-IP-Address = 10.1.2.3', { control: 'Auth-Type := PAP' });
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.reply)).toBe('Filter-Id = "in-net"');
    expect(printPairList(r.control)).toContain('Tmp-String-0 = "x"');
    expect(run(m, makeRequest('User-Name = "c", Framed-IP-Address = 10.1.2.3'))).toBe('noop');
  });
  it('/regex/i', () => {
    expect(run(m, makeRequest('User-Name = "d"'))).toBe('ok');
  });
});

describe('files: errors are located', () => {
  const bad = (text: string) => expect(files(text)).rejects;
  it('unknown attribute', async () => {
    await bad('bob\tNo-Such-Attr := 1\n').toThrow(/users-\w+\[1\]: No-Such-Attr := 1: Unknown attribute "No-Such-Attr"/);
  });
  it('missing comma', async () => {
    await bad('bob\tCleartext-Password := "x"\n\tSession-Timeout = 1\n\tIdle-Timeout = 2\n').toThrow(/\[3\]: unexpected reply item: the previous line does not end with ","/);
  });
  it('bad value', async () => {
    await bad('bob\n\tSession-Timeout = abc\n').toThrow(/\[2\]: Session-Timeout = abc:/);
  });
  it('reply item before any entry; compare operator in reply', async () => {
    await bad('\tSession-Timeout = 1\n').toThrow(/\[1\]: reply items without an entry/);
    await bad('bob\n\tSession-Timeout == 1\n').toThrow(/\[2\]: Session-Timeout == 1: reply items must use an assignment operator/);
  });
  it('syntax', async () => {
    await bad('bob\tCleartext-Password "x"\n').toThrow(/\[1\]: Expected an operator/);
    await bad('bob\tCleartext-Password := "x\n').toThrow(/\[1\]: Unterminated string/);
  });
  it('missing include', async () => {
    await bad('$INCLUDE nope\n').toThrow(/\[1\]: cannot read .*nope: ENOENT/);
  });
});

describe('files: $INCLUDE and v3 config names', () => {
  it('includes relative to the file; usersfile and v3 key', async () => {
    fs.writeFileSync(path.join(dir, 'included'), 'inc\tCleartext-Password := "i"\n');
    const f = path.join(dir, 'main-users');
    fs.writeFileSync(f, 'first\tCleartext-Password := "f"\n$INCLUDE included\n');
    const m = await loadTestModule(def, `usersfile = ${f}\nkey = "%{%{Stripped-User-Name}:-%{User-Name}}"`);
    expect(run(m, makeRequest('User-Name = "inc"'))).toBe('ok');
    expect(run(m, makeRequest('User-Name = "first"'))).toBe('ok');
  });
});

describe('files: 1000-user benchmark file', () => {
  let text = '# generated\n';
  for (let i = 1; i <= 1000; i++) {
    const n = String(i).padStart(4, '0');
    text += `user${n}\tCleartext-Password := "pass${n}"\n\tFramed-IP-Address = 10.0.${i >> 8}.${i & 255},\n\tSession-Timeout = 3600,\n\tIdle-Timeout = 600,\n\tActual-Data-Rate-Upstream = 1024000,\n\tActual-Data-Rate-Downstream = 16384000\n\n`;
  }
  let m!: Files;
  beforeAll(async () => { m = await files(text); });
  it('matches every user with its reply items', () => {
    const r = makeRequest('User-Name = "user0777"');
    expect(run(m, r)).toBe('ok');
    expect(printPairList(r.control)).toBe('Password = { Cleartext = "pass0777" }');
    expect(printPairList(r.reply)).toContain('Framed-IP-Address = 10.0.3.9, Session-Timeout = 3600, Idle-Timeout = 600');
    expect(printPairList(r.reply)).toContain('Actual-Data-Rate-Upstream = 1024000');
  });
});

describe('files: prefix keys (v4)', () => {
  const users = [
    '0.0.0.0/0', '\tReply-Message += "default"', '',
    '10.1.0.0/16', '\tReply-Message := "10.1/16",', '\tFall-Through = yes', '',
    '10.0.0.0/8', '\tReply-Message += "10/8"', '',
    '10.1.0.0/16', '\tReply-Message += "2nd 10.1/16",', '\tNext-Shortest-Prefix = yes', '',
  ].join('\n');
  let m!: Files;
  beforeAll(async () => { m = await files(users, 'key = FreeRADIUS-Client-IP-Prefix\nmatch_attr = control.FreeRADIUS-Client-IP-Prefix'); });
  const msgs = (r: Request) => r.reply.map((p) => p.value);
  it('the longest prefix wins; Fall-Through stays in it; Next-Shortest-Prefix goes on with the next shorter one', () => {
    const r = makeRequest('FreeRADIUS-Client-IP-Prefix = 10.1.2.3/32');
    expect(run(m, r)).toBe('ok');
    expect(msgs(r)).toEqual(['10.1/16', '2nd 10.1/16', '10/8']);
    expect(printPairList(r.control)).toContain('Client-IP-Prefix = 10.0.0.0/8');
  });
  it('a wider key matches only prefixes containing it', () => {
    const r = makeRequest('FreeRADIUS-Client-IP-Prefix = 10.2.0.0/15');
    expect(run(m, r)).toBe('ok');
    expect(msgs(r)).toEqual(['10/8']);
    const r2 = makeRequest('FreeRADIUS-Client-IP-Prefix = 192.168.1.1/32');
    expect(run(m, r2)).toBe('ok');
    expect(msgs(r2)).toEqual(['default']);
  });
  it('lookup_type = trie: the longest string prefix', async () => {
    const t = await files('00:11:22\n\tReply-Message := "v1"\n\n00:11\n\tReply-Message := "v2"\n', 'key = Calling-Station-Id\nlookup_type = trie');
    const r = makeRequest('Calling-Station-Id = "00:11:23:33"');
    expect(run(t, r)).toBe('ok');
    expect(msgs(r)).toEqual(['v2']);
    const r2 = makeRequest('Calling-Station-Id = "00:11:22:33"');
    run(t, r2);
    expect(msgs(r2)).toEqual(['v1']);
  });
  it('match_attr that is not an attribute: a located config error (validate, so radiusd -C reports it too)', async () => {
    await expect(files('x\n', 'match_attr = control.No-Such-Attr')).rejects.toThrow(/test\.conf\[\d+\]: files \{ match_attr \}: "control\.No-Such-Attr" is not an attribute/);
  });
  it('a quoted attribute name is a literal key, not a reference (v4)', async () => {
    const q = await files('Calling-Station-Id\n\tReply-Message := "literal"\n', 'key = "Calling-Station-Id"');
    const r = makeRequest('Calling-Station-Id = "00:11"');
    expect(run(q, r)).toBe('ok');
    expect(msgs(r)).toEqual(['literal']);
  });
  it('reply items with >= bound the existing values', async () => {
    const b = await files('bob\n\tReply-Message := "eee",\n\tReply-Message += "aaa",\n\tFall-Through = yes\n\nbob\n\tReply-Message >= "ddd"\n');
    const r = makeRequest('User-Name = "bob"');
    run(b, r);
    expect(msgs(r)).toEqual(['eee', 'ddd']);
  });
});
