/**
 * `date`: strftime/strptime in UTC and local time, and `%date(…)` from compiled policy through the
 * real loader (now, request, a date attribute, a string read back).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfError, compileUnlang, createRootContainer, findSection, loadDefaultDictionary, loadModules, MemoryLogger, parseConfigString, Request, runSection, type ModuleSet } from '../../core';
import { strftime, strptime } from './date';
import date from './index';

const dict = loadDefaultDictionary();
let open: ModuleSet[] = [];
afterEach(async () => { for (const m of open) await m.detachAll(); open = []; });

async function load(body: string): Promise<ModuleSet> {
  const tree = parseConfigString(`modules {\n${body}\n}\n`, '/tmp/date/radiusd.conf');
  const root = createRootContainer({ dict, log: new MemoryLogger(false) });
  const m = await loadModules({ section: findSection(tree, 'modules'), root, registry: [date] });
  open.push(m);
  return m;
}

const T = Date.UTC(2026, 11, 3, 14, 5, 9) / 1000; // Thu 2026-12-03 14:05:09 UTC

describe('date: strftime and strptime', () => {
  it('prints in UTC', () => {
    expect(strftime('%Y-%m-%dT%H:%M:%SZ', T, true)).toBe('2026-12-03T14:05:09Z');
    expect(strftime('%a %b %e %j %p %I %s %F %T %%', T, true)).toBe(`Thu Dec  3 337 PM 02 ${T} 2026-12-03 14:05:09 %`);
  });

  it('reads what it prints; a zone in the text wins; a mismatch is undefined', () => {
    expect(strptime('%Y-%m-%dT%H:%M:%SZ', '2026-12-03T14:05:09Z', true)).toBe(T);
    expect(strptime('%Y-%m-%d %H:%M:%S %z', '2026-12-03 16:05:09 +0200', false)).toBe(T);
    expect(strptime('%b %e %Y %H:%M:%S %Z', 'Dec  3 2026 14:05:09 UTC', false)).toBe(T);
    expect(strptime('%s', String(T), false)).toBe(T);
    const local = strptime('%Y-%m-%d %H:%M:%S', '2026-12-03 14:05:09', false)!;
    expect(strftime('%Y-%m-%d %H:%M:%S', local, false)).toBe('2026-12-03 14:05:09');
    expect(strptime('%Y-%m-%d', '2026-12-03x', true)).toBeUndefined();
    expect(strptime('%Y-%m-%d', 'yesterday', true)).toBeUndefined();
  });
});

describe('date: %date()', () => {
  it('a format without a conversion is refused', async () => {
    await expect(load('date {\n\tformat = "plain"\n}')).rejects.toThrow(ConfError);
  });

  it('now, request, a date attribute, a string read back', async () => {
    const m = await load('date {\n\tformat = "%Y-%m-%dT%H:%M:%SZ"\n\tutc = yes\n}');
    const r = new Request({ code: 1, dict });
    r.received = T;
    const policy = `
      uint64 back
      reply += { Reply-Message = %date('request') }
      reply += { Reply-Message = %date('now') }
      control.Event-Timestamp := ${T + 60}
      reply += { Reply-Message = %date(control.Event-Timestamp) }
      back := %date('2026-12-03T14:05:09Z')
      reply += { Reply-Message = "%{back}" }
    `;
    const rc = await runSection(compileUnlang(policy, { dict, xlats: m.xlats, modules: m.modules, virtualModules: m.virtualModules, section: { name1: 'recv', name2: 'Access-Request' } }), r);
    expect(rc).not.toBe('fail');
    const msgs = r.reply.map((p) => String(p.value));
    expect(msgs[0]).toBe('2026-12-03T14:05:09Z');
    expect(msgs[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(msgs.slice(2)).toEqual(['2026-12-03T14:06:09Z', String(T)]);
  });
});
