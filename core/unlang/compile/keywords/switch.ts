/**
 * `switch X { case V { } default { } }`: case values are typed by X and must be
 * constants; duplicates are rejected. Run time: a hash lookup on {@link caseKey}
 * (IP values: the longest matching prefix case).
 */

import type { Box, BoxType } from '../../xlat/box';
import { box, parseBox } from '../../xlat/box';
import type { Ctx } from '../context';
import { CompileError } from '../errors';
import { isRetypable, typeOf } from '../expr-parser';
import type { Block, Expr } from '../types';
import type { Keyword } from './keyword';

/** Key of a case value in the switch table. */
export function caseKey(b: Box): string | number {
  const v = b.value;
  if (typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) return 'x' + v.toString('hex');
  return typeof v + ':' + String(v);
}

export const switchKeyword: Keyword = {
  names: ['switch', 'case', 'default'],
  section(cs, ctx, c) {
    if (cs.name1 !== 'switch') throw new CompileError(cs.loc, `"${cs.name1}" is only allowed inside "switch"`);
    const header = cs.headerText.trim();
    if (!header) throw new CompileError(cs.loc, '"switch" needs a value to switch on');
    const subject = c.parseExpr(header, cs.loc, ctx, false);
    let type = typeOf(subject);
    if (type === 'group' || type === 'bool' && subject.k !== 'ref') type = undefined;
    const subjectDa = subject.k === 'ref' ? subject.da : undefined;
    const inner: Ctx = { ...ctx, breaks: ctx.breaks + 1 };
    const cases = new Map<string | number, Block>();
    const caseList: { box: Box; body: Block }[] = [];
    let def: Block | undefined;
    for (const it of cs.children) {
      if (it.kind !== 'section' || (it.name1 !== 'case' && it.name1 !== 'default')) {
        throw new CompileError(it.loc, `Only "case" and "default" are allowed inside "switch", got "${it.kind === 'section' ? it.name1 : it.text}"`);
      }
      const { block } = c.compileBlock(it.children, inner, false);
      const vtext = it.headerText.trim();
      if (it.name1 === 'default' || vtext === '') {
        if (def) throw new CompileError(it.loc, 'Duplicate default "case" in "switch"');
        def = block;
        continue;
      }
      let e: Expr;
      try {
        e = c.parseExpr(vtext, it.loc, { ...ctx }, false);
      } catch (err) {
        // A bare enum name (`case Login-User`) is typed by the subject below.
        if (!(err instanceof CompileError) || !/Unknown attribute "/.test(err.base) || !subjectDa?.values || !/^[^\s"'%()]+$/.test(vtext)) throw err;
        e = { k: 'lit', box: box('string', vtext), raw: vtext };
      }
      if (isRetypable(e)) {
        let t: BoxType = type ?? 'string';
        try {
          const raw = (e as Extract<Expr, { k: 'lit' }>).raw!;
          // An address switch may have prefix cases (longest match wins at run time).
          if ((t === 'ipaddr' || t === 'ipv6addr') && raw.includes('/')) t = t === 'ipaddr' ? 'ipv4prefix' : 'ipv6prefix';
          e = { k: 'lit', box: parseBox(t, raw, subjectDa) };
        } catch (err) {
          throw new CompileError(it.loc, `Invalid case value "${vtext}" for ${subjectDa ? `attribute ${subjectDa.name}` : `type ${t}`}: ${(err as Error).message}`);
        }
      }
      if (e.k !== 'lit') throw new CompileError(it.loc, `"case" value must be a constant, got "${vtext}"`);
      const isPrefixCase = (type === 'ipaddr' || type === 'ipv6addr') && (e.box.type === 'ipv4prefix' || e.box.type === 'ipv6prefix');
      const b = type && e.box.type !== type && !isPrefixCase ? c.castConst(e.box, type, it.loc) : e.box;
      const key = caseKey(b);
      if (cases.has(key)) throw new CompileError(it.loc, `Duplicate "case ${vtext}" in "switch"`);
      cases.set(key, block);
      caseList.push({ box: b, body: block });
    }
    return { k: 'switch', subject, type, cases, caseList, def, name: `switch ${header}`, loc: cs.loc, actions: ctx.defaults };
  },
};
