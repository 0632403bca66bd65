/**
 * Gives every compiled node one hidden class.
 *
 * The compiler builds instructions and expressions as plain objects of many
 * shapes; the interpreter's `switch (node.k)` and field reads then see
 * megamorphic property accesses. Copying every node into an instance of one
 * class that declares all fields (in a fixed order) makes those accesses
 * monomorphic. This runs once per compiled section; the result is frozen.
 */

import type { Block, Expr, Instr, PairTemplate, EditRhs, AttrRef, Index } from './types';

/** Every field any instruction has. */
class InstrNode {
  k: unknown = undefined; name: unknown = undefined; loc: unknown = undefined; actions: unknown = undefined; retry: unknown = undefined;
  r: unknown = undefined; fn: unknown = undefined; instance: unknown = undefined; method: unknown = undefined;
  cond: unknown = undefined; then: unknown = undefined; else: unknown = undefined;
  subject: unknown = undefined; type: unknown = undefined; cases: unknown = undefined; caseList: unknown = undefined; def: unknown = undefined;
  source: unknown = undefined; ref: unknown = undefined; varDa: unknown = undefined; keyDa: unknown = undefined; body: unknown = undefined;
  children: unknown = undefined; locals: unknown = undefined; key: unknown = undefined; redundant: unknown = undefined; mode: unknown = undefined;
  dur: unknown = undefined; max: unknown = undefined; state: unknown = undefined; catches: unknown = undefined; catchAll: unknown = undefined;
  lhs: unknown = undefined; lhsList: unknown = undefined; lhsType: unknown = undefined; op: unknown = undefined; rhs: unknown = undefined;
  e: unknown = undefined; returnPoint: unknown = undefined; policy: unknown = undefined;
  code: unknown = undefined; server: unknown = undefined; servers: unknown = undefined; protocol: unknown = undefined;
  map: unknown = undefined; query: unknown = undefined; entries: unknown = undefined;
}

/** Every field any expression has. */
class ExprNode {
  k: unknown = undefined; t: unknown = undefined; box: unknown = undefined; raw: unknown = undefined; list: unknown = undefined;
  parts: unknown = undefined; ref: unknown = undefined; da: unknown = undefined; name: unknown = undefined; fn: unknown = undefined;
  args: unknown = undefined; a: unknown = undefined; b: unknown = undefined; op: unknown = undefined; type: unknown = undefined;
  r: unknown = undefined; neg: unknown = undefined; re: unknown = undefined; flags: unknown = undefined; n: unknown = undefined;
}

type AnyRec = Record<string, unknown>;

export class Normalizer {
  private readonly instrs = new Map<Instr, Instr>();
  private readonly exprs = new Map<Expr, Expr>();
  private readonly blocks = new Map<Block, Block>();

  block(b: Block): Block {
    const hit = this.blocks.get(b);
    if (hit) return hit;
    const out: Block = Object.freeze({ children: Object.freeze(b.children.map((c) => this.instr(c))), locals: b.locals });
    this.blocks.set(b, out);
    return out;
  }

  instr(i: Instr): Instr {
    const hit = this.instrs.get(i);
    if (hit) return hit;
    const n = new InstrNode() as unknown as AnyRec;
    const src = i as unknown as AnyRec;
    for (const key of Object.keys(src)) n[key] = src[key];
    switch (i.k) {
      case 'if': n.cond = this.expr(i.cond); n.then = this.block(i.then); if (i.else) n.else = this.instr(i.else); break;
      case 'group': n.body = this.block(i.body); break;
      case 'switch': {
        n.subject = this.expr(i.subject);
        const cases = new Map<string | number, Block>();
        for (const [k, v] of i.cases) cases.set(k, this.block(v));
        n.cases = cases;
        n.caseList = i.caseList.map((c) => ({ box: c.box, body: this.block(c.body) }));
        if (i.def) n.def = this.block(i.def);
        break;
      }
      case 'foreach': n.source = this.expr(i.source); if (i.ref) n.ref = this.ref(i.ref); n.body = this.block(i.body); break;
      case 'redundant': case 'parallel': n.children = Object.freeze(i.children.map((c) => this.instr(c))); break;
      case 'load-balance': n.children = Object.freeze(i.children.map((c) => this.instr(c))); if (i.key) n.key = this.expr(i.key); break;
      case 'timeout': n.dur = this.expr(i.dur); n.body = this.block(i.body); break;
      case 'limit': n.max = this.expr(i.max); n.body = this.block(i.body); break;
      case 'try': n.body = this.block(i.body); n.catches = i.catches.map((c) => (c ? this.block(c) : undefined)); if (i.catchAll) n.catchAll = this.block(i.catchAll); break;
      case 'transaction': case 'subrequest': case 'call': case 'caller': n.body = this.block(i.body); break;
      case 'map':
        if (i.query) n.query = this.expr(i.query);
        n.entries = Object.freeze(i.entries.map((m) => Object.freeze({ ...m, lhs: this.ref(m.lhs), field: this.expr(m.field) })));
        break;
      case 'edit': n.lhs = this.ref(i.lhs); n.rhs = this.rhs(i.rhs); break;
      case 'xlat': n.e = this.expr(i.e); break;
      default: break;
    }
    const out = (i.k === 'limit' ? n : Object.freeze(n)) as unknown as Instr;
    this.instrs.set(i, out);
    return out;
  }

  private rhs(r: EditRhs): EditRhs {
    switch (r.k) {
      case 'expr': case 'text': return { k: r.k, e: this.expr(r.e) };
      case 'values': return { k: 'values', items: r.items.map((e) => this.expr(e)) };
      case 'pairs': return { k: 'pairs', items: r.items.map((t) => this.template(t)) };
      default: return r;
    }
  }

  private template(t: PairTemplate): PairTemplate {
    return { ...t, rhs: this.rhs(t.rhs) };
  }

  private idx(i: Index): Index {
    return typeof i === 'number' ? i : this.expr(i);
  }

  private ref(r: AttrRef): AttrRef {
    return {
      ...r,
      segs: r.segs.map((s) => ({ da: s.da, idx: this.idx(s.idx) })),
      ...(r.listIdx !== undefined ? { listIdx: this.idx(r.listIdx) } : {}),
    };
  }

  expr(e: Expr): Expr {
    const hit = this.exprs.get(e);
    if (hit) return hit;
    const n = new ExprNode() as unknown as AnyRec;
    const src = e as unknown as AnyRec;
    for (const key of Object.keys(src)) n[key] = src[key];
    switch (e.k) {
      case 'lit': n.list = Object.freeze([e.box]); break;
      case 'str': n.parts = e.parts.map((p) => (typeof p === 'string' ? p : this.expr(p))); break;
      case 'ref': case 'exists': n.ref = this.ref(e.ref); break;
      case 'call': n.args = e.args.map((a) => this.expr(a)); break;
      case 'not': case 'neg': case 'inv': case 'cast': n.a = this.expr(e.a); break;
      case 'bin': case 'cmp': case 'and': case 'or': n.a = this.expr(e.a); n.b = this.expr(e.b); break;
      case 'regex': n.a = this.expr(e.a); if (e.parts) n.parts = e.parts.map((p) => (typeof p === 'string' ? p : this.expr(p))); break;
      default: break;
    }
    // Not frozen: the evaluator caches per-node lists on literals.
    const out = n as unknown as Expr;
    this.exprs.set(e, out);
    return out;
  }
}
