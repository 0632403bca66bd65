import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttrFilter } from './attr_filter';
import def from './index';
import { callCtx, loadTestModule, makeRequest } from '../../test/support/module-call';
import { printPairList } from '../../core';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'attr-filter-test-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** An `attr_filter` instance for `rules`, loaded through the loader (validate reads the file; methods get `ctx.env`). */
async function filter(rules: string, extra = ''): Promise<AttrFilter> {
  const f = path.join(dir, `rules-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(f, rules);
  return loadTestModule(def, `filename = ${f}\n${extra}`);
}
const SEND = { name1: 'send', name2: 'Access-Accept' };

describe('attr_filter', () => {
  let m!: AttrFilter;
  beforeAll(async () => { m = await filter(`# v3-style post-proxy rules
example.com
	Framed-IP-Address == 192.0.2.10,
	Session-Timeout <= 28800,
	Reply-Message =* ANY,
	Class := "filtered"

DEFAULT
	Framed-IP-Address =~ "^10\\\\.",
	Session-Timeout <= 3600,
	Idle-Timeout < 1000,
	Cisco-AVPair =~ "^ip:",
	Filter-Id !* ANY,
	Fall-Through = yes

DEFAULT
	Reply-Message =* ANY
`); });
  it('DEFAULT entries: keeps allowed values, removes the rest (including unnamed attributes)', () => {
    const r = makeRequest('User-Name = "bob"', {
      reply: 'Framed-IP-Address = 10.1.1.1, Session-Timeout = 7200, Idle-Timeout = 600, Reply-Message = "hi", Filter-Id = "x", Port-Limit = 2, Cisco-AVPair = "ip:a=b", Cisco-AVPair = "shell:priv=15"',
    });
    expect(m.filterReply(r, callCtx(r, SEND))).toBe('updated');
    expect(printPairList(r.reply)).toBe('Framed-IP-Address = 10.1.1.1, Idle-Timeout = 600, Reply-Message = "hi", Vendor-Specific = { Cisco = { AVPair = "ip:a=b" } }');
  });
  it('keyed entry (Realm) without fall-through; := adds', () => {
    const r = makeRequest('User-Name = "bob", Realm = "example.com"', {
      reply: 'Framed-IP-Address = 192.0.2.10, Session-Timeout = 7200, Idle-Timeout = 600, Class = 0x01',
    });
    expect(m.filterReply(r, callCtx(r, SEND))).toBe('updated');
    expect(printPairList(r.reply)).toBe('Framed-IP-Address = 192.0.2.10, Session-Timeout = 7200, Class = 0x66696c7465726564');
  });
  it('filters the request list in recv, keeping internal attributes', () => {
    const r = makeRequest('User-Name = "bob", NAS-Port = 1, Reply-Message = "x", Packet-Src-IP-Address = 127.0.0.1');
    expect(m.filterRequest(r, callCtx(r))).toBe('updated');
    expect(printPairList(r.request)).toBe('Reply-Message = "x", Packet-Src-IP-Address = 127.0.0.1');
  });
  it('Relax-Filter and relaxed keep unnamed attributes', async () => {
    const m2 = await filter('DEFAULT\n\tSession-Timeout <= 10,\n\tRelax-Filter = yes\n');
    const r = makeRequest('', { reply: 'Session-Timeout = 20, Idle-Timeout = 5' });
    m2.filterReply(r, callCtx(r, SEND));
    expect(printPairList(r.reply)).toBe('Idle-Timeout = 5');
    const m3 = await filter('DEFAULT\n\tSession-Timeout <= 10\n', 'relaxed = yes');
    const r3 = makeRequest('', { reply: 'Session-Timeout = 5, Idle-Timeout = 5' });
    m3.filterReply(r3, callCtx(r3, SEND));
    expect(printPairList(r3.reply)).toBe('Session-Timeout = 5, Idle-Timeout = 5');
  });
  it('noop without a matching entry; located errors', async () => {
    const m4 = await filter('only.example\n\tReply-Message =* ANY\n');
    const r = makeRequest('', { reply: 'Idle-Timeout = 5' });
    expect(m4.filterReply(r, callCtx(r, SEND))).toBe('noop');
    await expect(filter('DEFAULT\n\tNo-Such <= 1\n')).rejects.toThrow(/rules-\w+\[2\]: No-Such <= 1: Unknown attribute/);
  });
});
