/**
 * Test-only modules the keyword harness needs, written against
 * `core/unlang/module-call.ts`: `pap` (authorize + authenticate), `test` instances,
 * `delay` instances (`delay_10s`, `reschedule`, `reschedule_notfound`), the map sources
 * `map_test` / `map_test_async`, and the `%delay_10s()` xlat.
 */

import type { Dictionary } from '../../../core/dict/dictionary';
import type { MapResult, ModuleHandle, ModuleMethod, SectionName } from '../../../core/unlang/module-call';
import type { Rcode } from '../../../core/request/rcode';
import { Pair } from '../../../core/pair/pair';
import type { Request } from '../../../core/request/request';
import { type Box, box, castBox } from '../../../core/unlang/xlat/box';
import type { XlatRegistry } from '../../../core/unlang/xlat/registry';

function handle(name: string, pick: (section: SectionName, method?: string) => ModuleMethod | undefined): ModuleHandle {
  return { name, method: pick };
}

const always = (rc: Rcode): ModuleMethod => () => rc;

/** Waits `ms` unless the call is cancelled first (then resolves with `fail`, which the interpreter ignores). */
function sleep(ms: number, signal: AbortSignal, rc: Rcode): Promise<Rcode> {
  return new Promise<Rcode>((resolve) => {
    if (signal.aborted) { resolve('fail'); return; }
    const t = setTimeout(() => resolve(rc), ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve('fail'); }, { once: true });
  });
}

/** Rows of the `map_test` module: query → field → values. */
const MAP_ROWS: Record<string, Record<string, string[]>> = {
  bob: { name: ['Bob Smith'], ip: ['192.0.2.10'], filter: ['std', 'extra'], timeout: ['3600'] },
  bad: { name: ['x'], ip: ['not-an-address'] },
};

function mapRow(query: string): MapResult {
  const row = MAP_ROWS[query];
  return row ? { fields: new Map(Object.entries(row)) } : 'notfound';
}

/** The module table of the harness, plus its xlats registered in `xlats`. */
export function harnessModules(dict: Dictionary, xlats: XlatRegistry): (name: string) => ModuleHandle | undefined {
  const authType = dict.resolve('Auth-Type')!;
  const cleartext = dict.resolve('Password.Cleartext')!;
  const userPassword = dict.resolve('User-Password')!;
  const findLeaf = (list: Pair[], path: string[]): Pair | undefined => {
    let cur: Pair[] | undefined = list;
    let found: Pair | undefined;
    for (const n of path) {
      found = cur?.find((p) => p.da.name === n);
      cur = found?.children;
    }
    return found;
  };
  const papAuthorize: ModuleMethod = (req: Request) => {
    if (!req.request.some((p) => p.da === userPassword)) return 'noop';
    if (!findLeaf(req.control, ['Password', 'Cleartext'])) return 'noop';
    if (req.control.some((p) => p.da === authType)) return 'noop';
    req.control.push(new Pair(authType, authType.values?.get('pap') ?? 1024));
    return 'updated';
  };
  const papAuthenticate: ModuleMethod = (req: Request) => {
    const pw = req.request.find((p) => p.da === userPassword)?.value;
    const known = findLeaf(req.control, ['Password', 'Cleartext'])?.value;
    if (pw === undefined || known === undefined) return 'invalid';
    return pw === known ? 'ok' : 'reject';
  };
  void cleartext;

  const delay = (ms: number, rc: Rcode): ModuleMethod => (_req, ctx) => sleep(ms, ctx.signal, rc);
  const reschedule = (rc: Rcode): ModuleMethod => (_req, ctx) => sleep(0, ctx.signal, rc);

  xlats.register('delay_10s', (ctx, args) => {
    const d: Box | undefined = args[0]?.[0];
    // No argument: just "blip" the request (yield and resume at once).
    const secs = d ? Number(castBox(d, 'time_delta').value) : 0;
    return new Promise<Box[]>((resolve) => {
      const t = setTimeout(() => resolve([box('time_delta', secs)]), secs * 1000);
      ctx.signal?.addEventListener('abort', () => { clearTimeout(t); resolve([]); }, { once: true });
    });
  }, { returnType: 'time_delta' });

  // rlm_test's failing expansion: an empty result.
  xlats.register('test.fail', () => [], {});
  xlats.register('test.passthrough', (_c, args) => args.flat(), {});

  const table: Record<string, ModuleHandle> = {
    pap: handle('pap', (s, m) => (m === 'authenticate' || s.name1 === 'authenticate' ? papAuthenticate : papAuthorize)),
    test: handle('test', () => always('ok')),
    test1: handle('test1', () => always('ok')),
    test2: handle('test2', () => always('ok')),
    at_policy: handle('at_policy', () => always('ok')),
    template_test: handle('template_test', () => always('ok')),
    delay_10s: handle('delay_10s', () => delay(10_000, 'ok')),
    reschedule: handle('reschedule', () => reschedule('ok')),
    reschedule_notfound: handle('reschedule_notfound', () => reschedule('notfound')),
    // A map source (the role of rlm_csv / rlm_sql maps): the query is a key of MAP_ROWS.
    map_test: { ...handle('map_test', () => undefined), map: (_req, _ctx, query) => mapRow(query) },
    // The same, answering after a timer (the request yields).
    map_test_async: {
      ...handle('map_test_async', () => undefined),
      map: (_req, ctx, query) => sleep(1, ctx.signal, 'ok').then(() => mapRow(query)),
    },
  };
  return (name) => table[name];
}
