/**
 * Test helpers for module unit tests: parse a module config from text, build requests
 * from pair text, and make a call context. Not used at run time.
 */

import { parseConfigString } from '../../core/config/parser';
import { parseSection, type Fields, type Infer, type SectionSchema } from '../../core/config/schema';
import type { ConfSection } from '../../core/config/ast';
import { loadDefaultDictionary } from '../../core/dict/default';
import type { Dictionary } from '../../core/dict/dictionary';
import type { Logger } from '../../core/log/logger';
import type { CallContext, CallSignal, SectionName } from '../../core/module/api';
import { parsePairList } from '../../core/pair/text';
import { Request } from '../../core/request/request';

let dict: Dictionary | undefined;

/** The default RADIUS dictionary, loaded once per test file. */
export function testDict(): Dictionary {
  return (dict ??= loadDefaultDictionary());
}

/** Parses `body` as the inside of `name { … }` against `schema`. */
export function parseModuleConfig<F extends Fields>(schema: SectionSchema<F>, body: string, name = 'mod', file = 'test.conf'): Infer<SectionSchema<F>> {
  const root = parseConfigString(`${name} {\n${body}\n}\n`, file);
  const cs = root.children[0] as ConfSection;
  return parseSection(schema, cs);
}

/** A logger that keeps its lines in `lines`. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const make = (prefix: string): Logger & { lines: string[] } => ({
    lines,
    debugEnabled: false,
    debug: (m) => lines.push(`debug: ${prefix}${m}`),
    info: (m) => lines.push(`info: ${prefix}${m}`),
    warn: (m) => lines.push(`warn: ${prefix}${m}`),
    error: (m) => lines.push(`error: ${prefix}${m}`),
    child: (p) => make(`${prefix}${p}: `),
  });
  return make('');
}

/** A request with `request` pairs parsed from text (and optionally control pairs). */
export function makeRequest(requestText: string, opts: { control?: string; code?: number; reply?: string } = {}): Request {
  const d = testDict();
  const r = new Request({ code: opts.code ?? 1, dict: d });
  if (requestText) r.request.push(...parsePairList(requestText, d));
  if (opts.control) r.control.push(...parsePairList(opts.control, d));
  if (opts.reply) r.reply.push(...parsePairList(opts.reply, d));
  return r;
}

/** A call context for `section`; `signals` receives registered handlers. */
export function callCtx<Env = undefined>(
  request: Request,
  section: SectionName = { name1: 'recv', name2: 'Access-Request' },
  opts: { signal?: AbortSignal; env?: Env; instance?: string } = {},
): CallContext<Env> & { fire(s: CallSignal): void } {
  const handlers: ((s: CallSignal) => void)[] = [];
  return {
    instance: opts.instance ?? 'mod',
    section,
    env: opts.env as Env,
    signal: opts.signal ?? new AbortController().signal,
    log: request.log.child(opts.instance ?? 'mod'),
    onSignal: (fn) => { handlers.push(fn); },
    fire: (s) => { for (const h of handlers) h(s); },
  };
}
