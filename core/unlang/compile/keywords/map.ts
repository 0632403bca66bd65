/**
 * `map <module> ["query"] { attr op 'field' … }`: the module's map method runs the query and
 * returns fields; each line assigns a field's values to an attribute, with the edit
 * operators (`map list <expression>` maps the values by position). Values expanded into the query are escaped by the module (`mapEscape`: SQL
 * quoting …); the literal text is not. A missing field makes the map `fail` and change nothing.
 */

import { quoteValue } from '../context';
import { EDIT_OPS, lhsRef } from '../edits';
import { CompileError } from '../errors';
import { didYouMean } from '../../../types/suggest';
import type { Expr, MapEntry } from '../types';
import type { Keyword } from './keyword';

/**
 * FreeRADIUS's built-in `list` map (when no module is called `list`): the expression's values in
 * order, field `N` being the N-th (from 0). A field with no value (past the end, or an empty value
 * such as a nil element of a Redis array) leaves its attribute alone. The interpreter evaluates it
 * (`list` on the instruction); this method is never called.
 */
const LIST_MAP = { map: () => 'noop' as const, mapEscape: undefined };

export const mapKeyword: Keyword = {
  names: ['map'],
  section(cs, ctx, c) {
    const m = /^(\S+)\s*(.*)$/s.exec(cs.headerText.trim());
    if (!m) throw new CompileError(cs.loc, '"map" needs a module name ("map <module> \\"query\\" { … }")');
    const instance = m[1];
    const handle = c.options.modules?.(instance) ?? (instance === 'list' ? LIST_MAP : undefined);
    if (!handle) throw new CompileError(cs.loc, `map: unknown module "${instance}"${didYouMean(instance, c.options.moduleNames?.() ?? [])}`);
    if (!handle.map) throw new CompileError(cs.loc, `map: module "${instance}" has no map method`);
    const query: Expr | undefined = m[2].trim() ? c.parseExpr(m[2].trim(), cs.loc, ctx, false) : undefined;
    const entries: MapEntry[] = [];
    for (const it of cs.children) {
      if (it.kind !== 'pair' || !EDIT_OPS.has(it.op)) {
        throw new CompileError(it.loc, `map: expected "attribute op 'field'", got "${it.kind === 'pair' ? it.text : it.name1}"`);
      }
      const lhs = lhsRef(c, it.attr, it.loc, ctx);
      if (lhs.ref.segs.length === 0 || lhs.t === 'group') throw new CompileError(it.loc, `map: "${it.attr}" must be a leaf attribute`);
      const field = c.parseExpr(quoteValue(it), it.loc, ctx, false);
      entries.push({ lhs: lhs.ref, lhsType: lhs.t, op: it.op, field, name: it.text, loc: it.loc });
    }
    const list = handle === LIST_MAP;
    if (list && !query) throw new CompileError(cs.loc, 'map list: needs an expression ("map list %func(…) { attr := 0 … }")');
    return { k: 'map', instance, map: handle.map, escape: handle.mapEscape, query, entries, name: `map ${instance}`, loc: cs.loc, actions: ctx.defaults, list };
  },
};
