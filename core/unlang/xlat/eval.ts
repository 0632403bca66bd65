/**
 * Expression evaluation: compiled {@link Expr} nodes → lists of value boxes.
 *
 * Evaluation is synchronous. When an xlat function returns a Promise, the
 * evaluator throws a {@link XlatYield}; the interpreter parks the request,
 * waits for the Promise, stores the result in the evaluation memo and runs the
 * instruction again. On the replay the memo answers that call, so nothing
 * before it is waited for twice. No Promise exists unless a function yields.
 */

import type { Pair } from '../../pair/pair';
import { failureMessage as addFailureMessage } from '../../pair/values';
import type { Request } from '../../request/request';
import { Idx, type AttrRef, type Expr, type Index } from '../compile/types';
import { makeRegex } from '../compile/expr-parser';
import { RCODE_NAMES } from '../rcode';
import { type Box, BoxError, arith, box, boxToString, castBox, compareBoxes, isTruthy, unary } from './box';
import type { XlatContext } from './registry';
import { maskAddress } from './calc';
import { REDACTED, isSecretAttr } from '../../pair/redact';

/** Thrown (not an error) when an xlat function yields; carries the Promise and the call node. */
export class XlatFailed extends BoxError {
  constructor(readonly fn: string, readonly reason: unknown) {
    super(`%${fn}() failed: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

export class XlatYield {
  constructor(readonly promise: Promise<Box[]>, readonly node: Expr) {}
}

/** Evaluation context: the xlat context plus the replay memo. */
export interface EvalContext extends XlatContext {
  /** Results of calls that yielded earlier in this instruction (replay). */
  memo?: Map<Expr, Box[] | XlatFailed>;
}

/** True when a list counts as true in a condition: at least one truthy value. */
export function listIsTrue(l: readonly Box[]): boolean {
  for (let i = 0; i < l.length; i++) if (isTruthy(l[i])) return true;
  return false;
}

const TRUE: Box[] = [box('bool', true)];
const FALSE: Box[] = [box('bool', false)];
const boolList = (b: boolean): Box[] => (b ? TRUE : FALSE);

/** The list a reference starts in, or undefined (no such parent). */
export function refRoot(ref: AttrRef, request: Request): Pair[] | undefined {
  let r: Request | undefined = request;
  for (let i = 0; i < ref.up; i++) {
    r = r.parent;
    if (!r) return undefined;
  }
  return r.list(ref.list);
}

/** Evaluates an index to a number (or an Idx constant). */
function indexValue(i: Index, ctx: EvalContext): number {
  if (typeof i === 'number') return i;
  const v = evalExpr(i, ctx);
  if (v.length === 0) return -100;
  const n = Number(castBox(v[0], 'int64').value);
  return n < 0 ? -100 : n;
}

function pick(cands: Pair[], idx: number, out: Pair[]): void {
  if (idx === Idx.NONE) { if (cands.length) out.push(cands[0]); }
  else if (idx === Idx.ALL || idx === Idx.COUNT) { for (const p of cands) out.push(p); }
  else if (idx === Idx.LAST) { if (cands.length) out.push(cands[cands.length - 1]); }
  else if (idx >= 0 && idx < cands.length) out.push(cands[idx]);
}

/**
 * The pairs a reference selects (for the last step: one, the indexed one, or
 * all with `[*]`/`[#]`). For a list reference without index, returns the list's
 * children when `listChildren` is set, else an empty array with `list` filled.
 */
export function resolvePairs(ref: AttrRef, ctx: EvalContext): Pair[] {
  const root = refRoot(ref, ctx.request);
  if (!root) return [];
  if (ref.segs.length === 0) {
    const out: Pair[] = [];
    pick(root, ref.listIdx === undefined ? Idx.ALL : indexValue(ref.listIdx, ctx), out);
    return out;
  }
  let containers: Pair[][] = [root];
  const last = ref.segs.length - 1;
  for (let s = 0; s < last; s++) {
    const seg = ref.segs[s];
    const idx = indexValue(seg.idx, ctx);
    const next: Pair[][] = [];
    const cands: Pair[] = [];
    for (const c of containers) for (const p of c) if (p.da === seg.da) cands.push(p);
    const chosen: Pair[] = [];
    pick(cands, idx === Idx.NONE ? Idx.ALL : idx, chosen);
    for (const p of chosen) if (p.children) next.push(p.children);
    if (next.length === 0) return [];
    containers = next;
  }
  const seg = ref.segs[last];
  const cands: Pair[] = [];
  for (const c of containers) for (const p of c) if (p.da === seg.da) cands.push(p);
  const out: Pair[] = [];
  pick(cands, indexValue(seg.idx, ctx), out);
  if (ref.listIdx === undefined) return out;
  // `X.[idx]`: the children of the selected structural pairs.
  const kids: Pair[] = [];
  for (const p of out) if (p.children) for (const c of p.children) kids.push(c);
  const sel: Pair[] = [];
  pick(kids, indexValue(ref.listIdx, ctx), sel);
  return sel;
}

/** A pair as a box (structural pairs become `group` boxes). */
export function pairBox(p: Pair): Box {
  if (p.children || p.da.isStructural) return { type: 'group', value: '', da: p.da, pair: p };
  const b: Box = { type: p.da.type as Box['type'], value: p.value!, da: p.da, pair: p };
  if (p.safeFor !== undefined) b.safeFor = p.safeFor;
  return b;
}

const NONE_LIST: Box[] = [];

/** First instance of a one-step reference (`User-Name`, `reply.Filter-Id`), the common case; undefined when absent. */
function firstSimple(ref: AttrRef, ctx: EvalContext): Pair | undefined {
  const list = ref.up === 0 ? ctx.request.list(ref.list) : refRoot(ref, ctx.request);
  if (!list) return undefined;
  const da = ref.segs[0].da;
  for (let i = 0; i < list.length; i++) if (list[i].da === da) return list[i];
  return undefined;
}

/** Evaluates a reference to values (`[#]` gives the count). */
export function evalRef(ref: AttrRef, ctx: EvalContext): Box[] {
  if (ref.segs.length === 1 && ref.segs[0].idx === Idx.NONE && ref.listIdx === undefined) {
    const p = firstSimple(ref, ctx);
    return p ? [pairBox(p)] : NONE_LIST;
  }
  const last = ref.listIdx ?? (ref.segs.length ? ref.segs[ref.segs.length - 1].idx : undefined);
  const pairs = resolvePairs(ref, ctx);
  if (last === Idx.COUNT) return [box('uint32', pairs.length)];
  if (ref.segs.length === 0 && ref.listIdx === undefined) {
    // A bare list as a value: the list itself, as a group.
    return refRoot(ref, ctx.request) ? [{ type: 'group', value: '', pair: undefined }] : [];
  }
  const out: Box[] = new Array(pairs.length);
  for (let i = 0; i < pairs.length; i++) out[i] = pairBox(pairs[i]);
  return out;
}

/** True when the reference selects anything (a list: when it is not empty). */
export function refExists(ref: AttrRef, ctx: EvalContext): boolean {
  if (ref.segs.length === 1 && ref.segs[0].idx === Idx.NONE && ref.listIdx === undefined) return firstSimple(ref, ctx) !== undefined;
  if (ref.segs.length === 0 && ref.listIdx === undefined) {
    const root = refRoot(ref, ctx.request);
    return !!root && root.length > 0;
  }
  return resolvePairs(ref, ctx).length > 0;
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Concatenates the string forms of a list (string expansion). */
export function listToString(l: readonly Box[]): string {
  if (l.length === 1) return boxToString(l[0]);
  let s = '';
  for (const b of l) s += boxToString(b);
  return s;
}

/**
 * Evaluates an expression. Throws {@link XlatYield} when a function yields and
 * {@link BoxError} on a value error (the interpreter turns it into `fail`).
 */
export function evalExpr(e: Expr, ctx: EvalContext): Box[] {
  switch (e.k) {
    case 'lit':
      // One shared, frozen list per literal node.
      return ((e as { list?: Box[] }).list ??= Object.freeze([e.box]) as Box[]);
    case 'str': {
      if (e.parts.length === 1 && typeof e.parts[0] !== 'string') {
        // A string that is one expansion of octets keeps the bytes (`"%chap.password(…)"` assigned
        // to an octets attribute): printing them as 0x… text would change the value.
        const only = evalExpr(e.parts[0], ctx);
        if (only.length === 1 && only[0].type === 'octets') {
          if (ctx.request.log.debugEnabled) traceExpansion(ctx.request, e.raw, e, boxToString(only[0]));
          return only;
        }
        const s = listToString(only);
        if (ctx.request.log.debugEnabled) traceExpansion(ctx.request, e.raw, e, s);
        const b = box('string', s);
        // `"%{sqlcmd}"` is the value itself: its safe-for mark stays.
        if (only.length === 1 && only[0].safeFor !== undefined) b.safeFor = only[0].safeFor;
        return [b];
      }
      let s = '';
      for (const p of e.parts) s += typeof p === 'string' ? p : listToString(evalExpr(p, ctx));
      if (ctx.request.log.debugEnabled) traceExpansion(ctx.request, e.raw, e, s);
      return [box('string', s)];
    }
    case 'ref':
      return evalRef(e.ref, ctx);
    case 'exists':
      return boolList(refExists(e.ref, ctx));
    case 'call': {
      const memo = ctx.memo;
      if (memo) {
        const hit = memo.get(e);
        if (hit) {
          if (hit instanceof XlatFailed) throw hit;
          return hit;
        }
      }
      const args: Box[][] = new Array(e.args.length);
      for (let i = 0; i < e.args.length; i++) args[i] = evalExpr(e.args[i], ctx);
      let r: Box[] | Promise<Box[]>;
      try {
        r = e.fn(ctx, args, e.args);
      } catch (err) {
        // A failing function fails the whole expansion, and with it the statement (edit,
        // condition, module call) that asked for it, as in FreeRADIUS; the reason goes to
        // Module-Failure-Message too.
        failureMessage(ctx, err);
        throw new XlatFailed(e.name, err);
      }
      if (r instanceof Promise) throw new XlatYield(r, e);
      return r;
    }
    case 'not':
      return boolList(!listIsTrue(evalExpr(e.a, ctx)));
    case 'neg': case 'inv': {
      const v = evalExpr(e.a, ctx);
      return v.map((b) => unary(e.k === 'neg' ? '-' : '~', b));
    }
    case 'bin': {
      const a = evalExpr(e.a, ctx);
      const b = evalExpr(e.b, ctx);
      if (a.length === 0) return b.length && (e.op === '+' || e.op === '|') ? b : [];
      if (b.length === 0) return a;
      if (e.op === '&') {
        // An address and a netmask give the network prefix (192.0.2.1 & 255.255.255.0 = 192.0.2.0/24).
        const m = maskAddress(a[0], b[0], undefined);
        if (m) return [m];
      }
      return [arith(a[0], e.op, b[0])];
    }
    case 'cmp': {
      // Fast path: `Attr op literal` on plain values of the same type.
      const ea = e.a;
      const eb = e.b;
      if (ea.k === 'ref' && eb.k === 'lit' && ea.ref.segs.length === 1 && ea.ref.segs[0].idx === Idx.NONE && ea.ref.listIdx === undefined) {
        const p = firstSimple(ea.ref, ctx);
        if (!p) return e.op === '!=' ? TRUE : FALSE;
        const v = p.value;
        const w = eb.box.value;
        if (p.da.type === eb.box.type && typeof v === typeof w && (typeof v === 'number' || typeof v === 'string') && (typeof v === 'number' || e.op === '==' || e.op === '!=')) {
          switch (e.op) {
            case '==': return v === w ? TRUE : FALSE;
            case '!=': return v !== w ? TRUE : FALSE;
            case '<': return v < w ? TRUE : FALSE;
            case '<=': return v <= w ? TRUE : FALSE;
            case '>': return v > w ? TRUE : FALSE;
            case '>=': return v >= w ? TRUE : FALSE;
          }
        }
      }
      const a = evalExpr(e.a, ctx);
      const b = evalExpr(e.b, ctx);
      if (a.length === 0 && b.length === 0) {
        // Two empty lists are equal.
        return e.op === '==' || e.op === '<=' || e.op === '>=' ? TRUE : FALSE;
      }
      if (e.op === '!=') {
        if (a.length === 0 || b.length === 0) return boolList(a.length !== b.length);
        for (const x of a) for (const y of b) if (compareBoxes(x, '==', y)) return FALSE;
        return TRUE;
      }
      for (const x of a) for (const y of b) if (compareBoxes(x, e.op, y)) return TRUE;
      return FALSE;
    }
    case 'and':
      if (!listIsTrue(evalExpr(e.a, ctx))) return FALSE;
      return boolList(listIsTrue(evalExpr(e.b, ctx)));
    case 'or': {
      // A calculation that fails (overflow, division by zero, a bad operand) is null: `||` replaces it.
      let a: Box[];
      try {
        a = evalExpr(e.a, ctx);
      } catch (err) {
        if (!(err instanceof BoxError)) throw err;
        a = [];
      }
      if (listIsTrue(a)) return a;
      const b = evalExpr(e.b, ctx);
      return b.length ? b : a;
    }
    case 'cast': {
      const v = evalExpr(e.a, ctx);
      if (e.type === 'string' && v.length > 1) return [box('string', listToString(v))];
      return v.map((b) => {
        const r = castBox(b, e.type);
        return r.da ? { type: r.type, value: r.value } : r;
      });
    }
    case 'rcode':
      return boolList(ctx.request.rcode === RCODE_NAMES[e.r]);
    case 'capture': {
      const c = ctx.request.captures?.[e.n];
      return c === undefined ? [] : [box('string', c)];
    }
    case 'regex': {
      let re = e.re;
      if (!re) {
        let src = '';
        for (const p of e.parts!) {
          if (typeof p === 'string') src += p;
          else src += e.parts!.length === 1 ? listToString(evalExpr(p, ctx)) : escapeRegex(listToString(evalExpr(p, ctx)));
        }
        try {
          re = makeRegex(src, e.flags);
        } catch (err) {
          throw new BoxError(`Invalid regular expression /${src}/: ${(err as Error).message}`);
        }
      }
      const subj = evalExpr(e.a, ctx);
      for (const b of subj) {
        const m = re.exec(boxToString(b));
        if (m) {
          const caps: string[] = new Array(m.length);
          for (let i = 0; i < m.length; i++) caps[i] = m[i] ?? '';
          ctx.request.captures = caps;
          ctx.request.namedCaptures = m.groups ? Object.fromEntries(Object.entries(m.groups).map(([k, v]) => [k, v ?? ''])) : undefined;
          return boolList(!e.neg);
        }
      }
      return boolList(e.neg);
    }
  }
}

/** Records a failed expansion on the request (`request.Module-Failure-Message`) and in its log. */
export function failureMessage(ctx: EvalContext, err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  const req = ctx.request;
  if (req.log.debugEnabled) req.log.debug(`expansion failed: ${msg}`);
  if (req.request) addFailureMessage(req, ctx.dict, msg);
}

/** Evaluates a condition to a boolean. */
export function evalCond(e: Expr, ctx: EvalContext): boolean {
  const l = evalExpr(e, ctx);
  if (l === TRUE) return true;
  if (l === FALSE) return false;
  return listIsTrue(l);
}

/** True when `e` reads an attribute whose value must never be logged (passwords, secrets). */
export function readsSecret(e: Expr): boolean {
  switch (e.k) {
    case 'ref': case 'exists': return e.ref.segs.some((g) => isSecretAttr(g.da));
    case 'str': return e.parts.some((p) => typeof p !== 'string' && readsSecret(p));
    case 'call': return e.args.some(readsSecret);
    case 'not': case 'neg': case 'inv': case 'cast': return readsSecret(e.a);
    case 'bin': case 'cmp': case 'and': case 'or': return readsSecret(e.a) || readsSecret(e.b);
    case 'regex': return readsSecret(e.a) || (e.parts ?? []).some((p) => typeof p !== 'string' && readsSecret(p));
    default: return false;
  }
}

/**
 * The `-X` trace of a string expansion, as FreeRADIUS prints it: `EXPAND <source>` then
 * `--> <result>` (the result of an expansion that reads a secret attribute is not shown).
 */
export function traceExpansion(request: Request, raw: string | undefined, e: Expr, result: string): void {
  const log = request.log;
  log.debug(`EXPAND ${raw ?? '(expansion)'}`);
  log.debug(`--> ${readsSecret(e) ? REDACTED : result}`);
}
