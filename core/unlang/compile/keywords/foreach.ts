/** `foreach [type] [keytype key,] var (ref | %xlat()) { }`: the loop variables are locals of the body. */

import type { DictAttr } from '../../../dict/attr';
import { type BoxType, TYPE_ALIASES } from '../../xlat/box';
import type { Ctx } from '../context';
import { CompileError } from '../errors';
import { typeOf } from '../expr-parser';
import { Scope, localAttr } from '../refs';
import { Idx, type AttrRef } from '../types';
import type { Keyword } from './keyword';

export const foreachKeyword: Keyword = {
  names: ['foreach'],
  section(cs, ctx, c) {
    const header = cs.headerText.trim();
    const m = /^([^(]*)\((.*)\)\s*$/s.exec(header);
    if (!m) throw new CompileError(cs.loc, '"foreach" expects "foreach [type] name (reference) { … }"');
    const decls = m[1].split(',').map((s) => s.trim());
    if (decls.length > 2 || decls.some((d) => d === '')) throw new CompileError(cs.loc, `Invalid foreach variable declaration "${m[1].trim()}"`);
    const source = c.parseExpr(m[2], cs.loc, ctx, false);
    // The source is an attribute reference or a function call, nothing else (`(1 + 2)` is not a target).
    if (source.k !== 'ref' && source.k !== 'call') {
      throw new CompileError(cs.loc, `Invalid foreach target "${m[2].trim()}": expected an attribute reference or a function call such as %func(…)`);
    }
    const valueDecl = decls[decls.length - 1].split(/\s+/);
    if (source.k === 'call' && valueDecl.length < 2 && source.t === undefined) {
      throw new CompileError(cs.loc, `foreach over a function call needs a data type for "${valueDecl[0]}" (e.g. "foreach string ${valueDecl[0]} (…)")`);
    }
    const scope = new Scope(ctx.scope);
    const parseDecl = (d: string, dflt: BoxType): DictAttr => {
      const w = d.split(/\s+/);
      let type = dflt;
      let name: string;
      if (w.length === 2) {
        const t = TYPE_ALIASES[w[0].toLowerCase()];
        if (t === undefined) throw new CompileError(cs.loc, `Unknown data type "${w[0]}" in foreach`);
        type = t;
        name = w[1];
      } else if (w.length === 1) name = w[0];
      else throw new CompileError(cs.loc, `Invalid foreach variable "${d}"`);
      if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new CompileError(cs.loc, `Invalid foreach variable name "${name}"`);
      if (c.dict.resolve(name)) throw new CompileError(cs.loc, `Invalid foreach variable name "${name}": it is the name of an attribute`);
      const da = localAttr(name, type);
      scope.declare(name, da, cs.loc);
      return da;
    };
    const srcType = typeOf(source);
    const srcDa = source.k === 'ref' ? source.ref.segs[source.ref.segs.length - 1]?.da : undefined;
    const valueType: BoxType = srcDa?.isStructural ? 'group' : srcType && srcType !== 'bool' ? srcType : 'string';
    let keyDa: DictAttr | undefined;
    if (decls.length === 2) keyDa = parseDecl(decls[0], 'string');
    const varDa = parseDecl(decls[decls.length - 1], valueType);
    // Looping over a structural attribute (tlv, vsa, struct …): the variable is a group that knows the
    // attribute's children by name, so `v.Child` resolves in the body.
    if (srcDa && srcDa.isStructural && srcDa.type !== 'group' && decls[decls.length - 1].split(/\s+/).length === 1) {
      for (const [k, v] of srcDa.byName) varDa.byName.set(k, v);
      for (const [k, v] of srcDa.children) varDa.children.set(k, v);
    }
    let ref: AttrRef | undefined;
    if (source.k === 'ref') {
      const r = source.ref;
      // A reference without an index loops over every instance.
      if (r.segs.length && r.listIdx === undefined) {
        const segs = r.segs.slice();
        const last = segs[segs.length - 1];
        if (last.idx === Idx.NONE) segs[segs.length - 1] = { da: last.da, idx: Idx.ALL };
        ref = { ...r, segs };
      } else ref = r.listIdx === undefined ? { ...r, listIdx: Idx.ALL } : r;
      if (r.segs.length && r.listIdx !== undefined) ref = r;
    }
    const inner: Ctx = { ...ctx, scope, loops: ctx.loops + 1, breaks: ctx.breaks + 1 };
    const { block } = c.compileBlock(cs.children, inner, false);
    const locals = [varDa, ...(keyDa ? [keyDa] : []), ...(block.locals ?? [])];
    return {
      k: 'foreach', source: ref ? { k: 'ref', ref, t: srcType } : source, ref, varDa, keyDa,
      body: { children: block.children, locals }, name: `foreach ${header}`, loc: cs.loc, actions: ctx.defaults,
    };
  },
};
