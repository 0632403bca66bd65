/** v3 `update [list] { attr op value … }`: a group of edits (`!* ANY` deletes, `+=` adds an instance). */

import { quoteValue } from '../context';
import { EDIT_OPS, compileEdit, lhsRef, parseValueFor, typeFor } from '../edits';
import { CompileError } from '../errors';
import type { AttrRef, Instr, PairTemplate } from '../types';
import type { Keyword } from './keyword';

export const updateKeyword: Keyword = {
  names: ['update'],
  section(cs, ctx, c) {
    const list = cs.headerText.trim().replace(/:$/, '');
    if (list && !/^(request|reply|control|config|session-state|outer\.\w+|parent\.\w+)$/.test(list)) {
      throw new CompileError(cs.loc, `Unknown list "${list}" in "update" (expected request, reply, control or session-state)`);
    }
    const children: Instr[] = [];
    for (const it of cs.children) {
      if (it.kind !== 'pair') throw new CompileError(it.loc, `Unexpected section "${it.name1}" in "update"`);
      let attr = it.attr.trim().replace(/^&/, '').replace(/^(request|reply|control|config|session-state):/i, '$1.');
      if (list && !/^(request|reply|control|config|session-state|parent|outer)\./i.test(attr)) attr = `${list}.${attr}`;
      if (it.op === '!*') {
        const lhs = lhsRef(c, attr, it.loc, ctx);
        children.push({ k: 'edit', lhs: lhs.ref, lhsList: false, lhsType: lhs.t, op: ':=', rhs: { k: 'empty' }, name: it.text, loc: it.loc, actions: ctx.defaults });
        continue;
      }
      if (it.op === '+=') {
        // v3: `+=` adds another instance (v4 `+=` on a leaf would append to its value).
        const lhs = lhsRef(c, attr, it.loc, ctx);
        const seg = lhs.ref.segs[lhs.ref.segs.length - 1];
        if (!seg) throw new CompileError(it.loc, `Expected an attribute in "${it.text}"`);
        const parentRef: AttrRef = { ...lhs.ref, segs: lhs.ref.segs.slice(0, -1) };
        const e = typeFor(c, parseValueFor(c, quoteValue(it), it.loc, ctx, seg.da), lhs, it.loc, '=');
        const tmpl: PairTemplate = { da: seg.da, path: [], op: '=', rhs: { k: 'expr', e }, loc: it.loc };
        children.push({ k: 'edit', lhs: parentRef, lhsList: true, lhsType: 'group', op: '+=', rhs: { k: 'pairs', items: [tmpl] }, name: it.text, loc: it.loc, actions: ctx.defaults });
        continue;
      }
      if (it.op === '-=' || it.op === '==') {
        // Remove (or, for ==, keep only) the instances with this value.
        const lhs = lhsRef(c, attr, it.loc, ctx);
        const seg = lhs.ref.segs[lhs.ref.segs.length - 1];
        if (!seg) throw new CompileError(it.loc, `Expected an attribute in "${it.text}"`);
        const parentRef: AttrRef = { ...lhs.ref, segs: lhs.ref.segs.slice(0, -1) };
        const e = typeFor(c, c.parseExpr(quoteValue(it), it.loc, ctx, false), lhs, it.loc, '==');
        const tmpl: PairTemplate = { da: seg.da, path: [], op: it.op === '-=' ? '==' : '!=', rhs: { k: 'expr', e }, loc: it.loc };
        children.push({ k: 'edit', lhs: parentRef, lhsList: true, lhsType: 'group', op: '-=', rhs: { k: 'pairs', items: [tmpl] }, name: it.text, loc: it.loc, actions: ctx.defaults });
        continue;
      }
      if (!EDIT_OPS.has(it.op)) throw new CompileError(it.loc, `Invalid operator "${it.op}" in "update"`);
      children.push(compileEdit(c, { ...it, attr }, ctx));
    }
    return { k: 'group', body: { children }, name: `update${list ? ' ' + list : ''}`, loc: cs.loc, actions: ctx.defaults };
  },
};
