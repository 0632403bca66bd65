/**
 * Templates for module config values: compile a `%{…}` string once, expand it per request.
 *
 * The unlang compiler has no public "compile one string" entry point, so this is a thin
 * layer over its expression parser (`ExprParser.parseTemplateBody`), reference resolver
 * (`resolveRef`) and evaluator (`evalExpr`). It adds what module configs need:
 *
 * - v3 alternation `%{%{Stripped-User-Name}:-%{User-Name}}` and `%{Foo:-bar}` are rewritten
 *   to the v4 form `%{Stripped-User-Name || User-Name}` before parsing;
 * - strftime-style one-letter expansions for file names and headers (`%Y %m %d %H %M %S %y %e
 *   %j %I %p %a %b`, and `%t` = ctime text `Sat Nov 21 03:31:35 2026`), taken from the request's
 *   receive time in local time, as v3 `detail` and `linelog` do;
 * - an optional `escape` applied to every expanded value (not to the literal text), e.g. to
 *   keep `/` out of path components;
 * - a synchronous fast path: `expand` returns a string unless an xlat function yields.
 */

import type { ConfLoc } from '../config/ast';
import type { DictAttr } from '../dict/attr';
import type { Dictionary } from '../dict/dictionary';
import type { Request } from '../request/request';
import { Compiler } from './compile/compiler';
import { CompileError } from './compile/errors';
import { ExprParser, type ExprScope } from './compile/expr-parser';
import { Scope, resolveRef } from './compile/refs';
import { Idx, type AttrRef, type Expr } from './compile/types';
import { box, escapeBoxes, type ValueEscape } from './xlat/box';
import { type EvalContext, XlatYield, evalExpr, listToString, pairBox, refExists, traceExpansion } from './xlat/eval';
import { type XlatFunc, type XlatRegistry, globalXlats } from './xlat/registry';

/** A compiled template. */
export interface Template {
  /** The source text (double-quoted-string syntax, without the quotes). */
  readonly text: string;
  /** The result when the template has no expansions (no per-request work). */
  readonly constant?: string;
  /** True when the template has no expansions: `expand` returns {@link constant}. */
  readonly isConstant: boolean;
  /**
   * False when `expand` always returns a string synchronously (attribute references, literals,
   * strftime letters, functions registered `pure`); true when it calls a function that may
   * yield. Callers pass an AbortSignal only when this is true (building one costs an
   * AbortController per call).
   */
  readonly canYield: boolean;
  /** Expands against a request: a string, or a Promise when an xlat function yields. */
  expand(request: Request, signal?: AbortSignal): string | Promise<string>;
  /**
   * Set only when the whole template is one attribute reference (`%{control.Filter-Id}`): true
   * when the reference selects at least one attribute of the request. Lets a caller tell an
   * absent attribute from one whose value is empty.
   */
  exists?(request: Request): boolean;
}

/** Options of {@link compileTemplate}. */
export interface TemplateOptions {
  readonly dict: Dictionary;
  /** Expansion functions; default: the global registry with the built-ins. */
  readonly xlats?: XlatRegistry;
  /** Where the text came from, for located errors. */
  readonly loc?: ConfLoc;
  /** Enable `%Y %m %d %H %M %S %y %e %j %I %p %a %b %t` (request time, local time zone). */
  readonly strftime?: boolean;
  /**
   * Applied to each expanded value (not to literal text); a value whose safe-for mark is the
   * escape's own passes unchanged (the escape decides, {@link ValueEscape}).
   */
  readonly escape?: ValueEscape;
  /**
   * Lets `%{name}` name no attribute when `name` is written as a local variable is
   * (`lower_case_words`) and no attribute is close to it: FreeRADIUS leaves such a reference
   * unresolved at load; here it is looked up among the request's local variables each time the
   * template is expanded (an error then when there is none). Called once per such name (to warn).
   */
  readonly unresolved?: (name: string) => void;
}

const p2 = (n: number): string => String(n).padStart(2, '0');
const NOWHERE: ConfLoc = { file: '<template>', line: 1 };
let builtinsReady = false;
const strftimeRegs = new WeakMap<XlatRegistry, XlatRegistry>();

function ensureBuiltins(): void {
  // Constructing a compiler registers the built-in library in the global registry once.
  if (!builtinsReady) {
    new Compiler({ dict: undefined as unknown as Dictionary });
    builtinsReady = true;
  }
}


const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) text of a date in local time: `Sat Nov 21 03:31:35 2026`. */
export function ctime(d: Date): string {
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

const STRFTIME: Record<string, (d: Date) => string> = {
  t: ctime,
  a: (d) => DAYS[d.getDay()],
  b: (d) => MONTHS[d.getMonth()],
  Y: (d) => String(d.getFullYear()),
  y: (d) => p2(d.getFullYear() % 100),
  m: (d) => p2(d.getMonth() + 1),
  d: (d) => p2(d.getDate()),
  e: (d) => String(d.getDate()).padStart(2, ' '),
  H: (d) => p2(d.getHours()),
  I: (d) => p2(((d.getHours() + 11) % 12) + 1),
  p: (d) => (d.getHours() < 12 ? 'AM' : 'PM'),
  M: (d) => p2(d.getMinutes()),
  S: (d) => p2(d.getSeconds()),
  j: (d) => String(Math.floor((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 86400000) + 1).padStart(3, '0'),
};

/** A registry that adds `%strftime('<letter>')` to `base` (cached per base). */
function withStrftime(base: XlatRegistry): XlatRegistry {
  let reg = strftimeRegs.get(base);
  if (reg) return reg;
  reg = base.child();
  reg.register('strftime', (c, args) => {
    const d = new Date(c.request.received * 1000);
    let out = '';
    for (const b of args[0] ?? []) {
      for (const ch of String(b.value)) out += STRFTIME[ch]?.(d) ?? ch;
    }
    return [box('string', out)];
  }, { returnType: 'string', minArgs: 1, maxArgs: 1 });
  strftimeRegs.set(base, reg);
  return reg;
}

/**
 * Rewrites one-letter strftime escapes (`%Y`, `%m` …; the registry is case-insensitive, so
 * they cannot be registered as one-letter functions) into `%strftime('Y')`. `%%` is kept.
 */
export function rewriteStrftime(text: string): string {
  return text.replace(/%(%|[YymdeHIpMSjtab](?![A-Za-z0-9_(]|\.[A-Za-z_][\w.-]*\())/g, (m, c: string) => (c === '%' ? m : `%strftime('${c}')`));
}

/** Index of the `}` closing the `%{` whose `{` is at `open`, or -1. Quotes are skipped. */
function closeBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') { i++; continue; }
    if (c === '"' || c === "'") {
      for (i++; i < s.length && s[i] !== c; i++) if (s[i] === '\\') i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

/** The top-level `:-` in an expansion body, or -1. */
function topAlternation(body: string): number {
  let depth = 0;
  for (let i = 0; i < body.length - 1; i++) {
    const c = body[i];
    if (c === '\\') { i++; continue; }
    if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
    else if (c === ':' && body[i + 1] === '-' && depth === 0) return i;
  }
  return -1;
}

/** One side of a v3 alternation as a v4 operand. */
function operand(side: string): string {
  const t = side.trim();
  const m = /^%\{(.*)\}$/s.exec(t);
  if (m && closeBrace(t, 1) === t.length - 1) return convertBody(m[1]);
  if (t.startsWith('"') || t.startsWith("'")) return t;
  if (t.includes('%')) return `"${t}"`;
  return `"${t.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function convertBody(body: string): string {
  const i = topAlternation(body);
  if (i < 0) return rewriteV3(body);
  const left = body.slice(0, i);
  const right = body.slice(i + 2);
  const l = /^%\{.*\}$/s.test(left.trim()) ? operand(left) : left.trim();
  return `${l} || ${operand(right)}`;
}

/**
 * Rewrites v3 alternations to v4: `%{%{A}:-%{B}}` → `%{A || B}`, `%{A:-text}` → `%{A || "text"}`.
 * Text without `:-` is returned unchanged.
 */
export function rewriteV3(text: string): string {
  if (!text.includes(':-')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const j = text.indexOf('%{', i);
    if (j < 0) break;
    const end = closeBrace(text, j + 1);
    if (end < 0) break;
    out += text.slice(i, j) + '%{' + convertBody(text.slice(j + 2, end)) + '}';
    i = end + 1;
  }
  return out + text.slice(i);
}

function scopeFor(dict: Dictionary, xlats: XlatRegistry, unresolved?: (name: string) => void): ExprScope {
  const vars = new Scope();
  const scope: ExprScope = {
    xlats,
    resolveAttr: (t: string, at: ConfLoc) =>
      resolveRef(t, dict, vars, at, (src) => new ExprParser(src, scope, at).parse(false)),
  };
  if (unresolved) {
    scope.unresolvedRef = (name: string) => {
      if (!/^[a-z][a-z0-9_]*$/.test(name) || dict.suggestName(name)) return undefined;
      unresolved(name);
      return { k: 'call', name: 'local', fn: localValues, args: [{ k: 'lit', box: box('string', name) }] };
    };
  }
  return scope;
}

/** The values of the request's local variable named by the argument (a reference left unresolved at load). */
const localValues: XlatFunc = (ctx, args) => {
  const name = String(args[0]?.[0]?.value ?? '');
  for (let r: Request | undefined = ctx.request; r; r = r.parent) {
    const hits = r.local.filter((p) => p.da.name === name);
    if (hits.length) return hits.map(pairBox);
  }
  throw new Error(`%{${name}}: no attribute or local variable "${name}"`);
};

/**
 * Compiles `text` (double-quoted-string syntax without the quotes, escapes unprocessed, as
 * `conf.tmpl` returns it). Throws {@link CompileError} (located at `opts.loc`) on a syntax
 * error or an unknown attribute or function.
 */
export function compileTemplate(text: string, opts: TemplateOptions): Template {
  ensureBuiltins();
  let xlats = opts.xlats ?? globalXlats;
  if (opts.strftime) xlats = withStrftime(xlats);
  const loc = opts.loc ?? NOWHERE;
  const src = opts.strftime ? rewriteStrftime(rewriteV3(text)) : rewriteV3(text);
  let expr: Expr;
  try {
    expr = new ExprParser(src, scopeFor(opts.dict, xlats, opts.unresolved), loc).parseTemplateBody();
  } catch (e) {
    if (e instanceof CompileError) throw e;
    throw new CompileError(loc, (e as Error).message);
  }
  if (expr.k === 'lit') {
    const s = listToString([expr.box]);
    return { text, constant: s, isConstant: true, canYield: false, expand: () => s };
  }
  const canYield = mayYield(expr, xlats);
  const dict = opts.dict;
  const escape = opts.escape;
  const evalOnce = (ctx: EvalContext): string => {
    if (expr.k === 'str') {
      let s = '';
      for (const p of expr.parts) {
        if (typeof p === 'string') s += p;
        else {
          const l = evalExpr(p, ctx);
          s += escape ? escapeBoxes(l, escape) : listToString(l);
        }
      }
      return s;
    }
    const l = evalExpr(expr, ctx);
    return escape ? escapeBoxes(l, escape) : listToString(l);
  };
  const refs = stringRefChain(expr);
  const only = expr.k === 'str' && expr.parts.length === 1 && typeof expr.parts[0] !== 'string' ? expr.parts[0] : expr;
  const ref = only.k === 'ref' ? only.ref : undefined;
  return {
    text,
    isConstant: false,
    canYield,
    ...(ref && { exists: (request: Request) => refExists(ref, { request, dict }) }),
    expand(request: Request, signal?: AbortSignal): string | Promise<string> {
      if (refs !== undefined && !request.log.debugEnabled) {
        const s = firstString(refs, request);
        if (s !== undefined) return escape ? escape(s) : s;
      }
      const ctx: EvalContext = { request, dict, signal };
      const trace = request.log.debugEnabled ? (s: string) => { traceExpansion(request, text, expr, s); return s; } : undefined;
      try {
        const s = evalOnce(ctx);
        return trace ? trace(s) : s;
      } catch (e) {
        if (!(e instanceof XlatYield)) throw e;
        const p = replay(ctx, e, evalOnce);
        return trace ? p.then(trace) : p;
      }
    },
  };
}

/**
 * The references of a template that is one string attribute or a `||` chain of them
 * (`%{Stripped-User-Name || User-Name}`, the default key of `files` and others), each the first
 * instance of a top-level attribute of the current request; undefined for any other template.
 */
function stringRefChain(e: Expr): AttrRef[] | undefined {
  if (e.k === 'str') return e.parts.length === 1 && typeof e.parts[0] !== 'string' ? stringRefChain(e.parts[0]) : undefined;
  if (e.k === 'or') {
    const a = stringRefChain(e.a);
    const b = a && stringRefChain(e.b);
    return b && [...a, ...b];
  }
  if (e.k !== 'ref') return undefined;
  const r = e.ref;
  if (r.up !== 0 || r.listIdx !== undefined || r.segs.length !== 1) return undefined;
  const seg = r.segs[0];
  return seg.idx === Idx.NONE && seg.da.type === 'string' && !seg.da.isStructural ? [r] : undefined;
}

/**
 * What {@link stringRefChain}'s template expands to without building value boxes: the first
 * non-empty value, else '' (an empty value or no attribute at all, as `||` gives). Undefined when
 * a pair holds something other than a string or a value with a safe-for mark: the general evaluation
 * decides then.
 */
function firstString(refs: readonly AttrRef[], request: Request): string | undefined {
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i];
    const da = r.segs[0].da;
    const list = request.list(r.list);
    for (let j = 0; j < list.length; j++) {
      const p = list[j];
      if (p.da !== da) continue;
      const v = p.value;
      if (typeof v !== 'string' || p.safeFor !== undefined) return undefined;
      if (v.length > 0) return v;
      break;
    }
  }
  return '';
}

/** Names of functions known to return synchronously although not `pure` (they read the request). */
const SYNC_CALLS = new Set(['strftime']);

/** True when evaluating `e` may call a function that yields (any call that is not `pure`). */
export function mayYield(e: Expr | string, xlats: XlatRegistry): boolean {
  if (typeof e === 'string') return false;
  const idx = (i: unknown): boolean => typeof i === 'object' && i !== null && mayYield(i as Expr, xlats);
  const ref = (r: AttrRef | undefined): boolean => !!r && (r.segs.some((s) => idx(s.idx)) || idx(r.listIdx));
  switch (e.k) {
    case 'call':
      if (!SYNC_CALLS.has(e.name.toLowerCase()) && !xlats.get(e.name)?.pure) return true;
      return e.args.some((a) => mayYield(a, xlats));
    case 'str': return e.parts.some((p) => mayYield(p, xlats));
    case 'regex': return mayYield(e.a, xlats) || (e.parts ?? []).some((p) => mayYield(p, xlats));
    case 'ref': case 'exists': return ref(e.ref);
    case 'not': case 'neg': case 'inv': case 'cast': return mayYield(e.a, xlats);
    case 'bin': case 'cmp': case 'and': case 'or': return mayYield(e.a, xlats) || mayYield(e.b, xlats);
    default: return false;
  }
}

/** Waits for yielded calls and evaluates again with their results memoised. */
async function replay(ctx: EvalContext, first: XlatYield, evalOnce: (c: EvalContext) => string): Promise<string> {
  const memo = new Map<Expr, import('./xlat/box').Box[]>();
  const c: EvalContext = { ...ctx, memo };
  let y: XlatYield = first;
  for (;;) {
    memo.set(y.node, await y.promise);
    try {
      return evalOnce(c);
    } catch (e) {
      if (!(e instanceof XlatYield)) throw e;
      y = e;
    }
  }
}

const BARE_REF = /^(?:(?:request|reply|control|session-state|local)\.)?([A-Za-z][\w-]*(?:\.[A-Za-z0-9][\w-]*)*)(?:\[(?:\*|\d+|n)\])?$/;

/** The attribute an unquoted config value names (`NAS-Port-Type`, `control.Filter-Id`), or undefined. */
export function bareAttrRef(text: string, dict: Dictionary): DictAttr | undefined {
  const m = BARE_REF.exec(text);
  return m ? dict.resolve(m[1]) : undefined;
}

/**
 * v4 reads an unquoted config value that names an attribute as a reference to it (`format = User-Name`,
 * `reference = control.Filter-Id`): returns the template `%{…}` for such text, else the text unchanged.
 */
export function bareAttrTemplate(text: string, dict: Dictionary): string {
  return bareAttrRef(text, dict) ? `%{${text}}` : text;
}
