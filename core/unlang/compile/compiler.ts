/**
 * The unlang compiler: configuration sections (from `core/config`) → an
 * immutable instruction tree.
 *
 * A word in a section body is resolved in this order (as FreeRADIUS does):
 * keyword → local variable declaration → edit (`attr op value`) → rcode word →
 * `%func()` / `"string"` expansion → policy → virtual module → module. A
 * leading `-` on a module name means "skip if the module does not exist".
 *
 * Every error is a {@link CompileError} located at `file[line]`.
 */

import { DictAttr } from '../../dict/attr';
import type { Dictionary } from '../../dict/dictionary';
import type { ConfItem, ConfLoc, ConfPair, ConfSection } from '../../config/ast';
import type { ModuleHandle, SectionName } from '../../module/api';
import { A, ACTIONS_ALL_RETURN, type Actions, R, RCODE_COUNT, RCODE_NAMES, type RetryConfig, defaultActionsFor, rcodeFromName } from '../rcode';
import { type Box, type BoxType, TYPE_ALIASES, box, parseBox } from '../xlat/box';
import { type XlatRegistry, globalXlats } from '../xlat/registry';
import { registerBuiltins } from '../xlat/builtins';
import { evalExpr, listIsTrue } from '../xlat/eval';
import { Request } from '../../request/request';
import { CompileError } from './errors';
import { Normalizer } from './normalize';
import { ExprParser, asCompileError, isRetypable, typeOf, walk } from './expr-parser';
import { Scope, localAttr, resolveRef, type ResolvedRef } from './refs';
import { Idx, type AttrRef, type Block, type CompiledSection, type EditRhs, type Expr, type Instr, type PairTemplate } from './types';

/** Where the compiler finds modules, policies and virtual modules. */
export interface CompileOptions {
  /** The protocol dictionary. */
  dict: Dictionary;
  /** Expansion functions; defaults to the global registry (with the built-ins). */
  xlats?: XlatRegistry;
  /** Module instances by name (`ldap`, `pap`). */
  modules?: (name: string) => ModuleHandle | undefined;
  /** Policies: `policy { name { … } }` children, by name. */
  policies?: ReadonlyMap<string, ConfSection>;
  /** Virtual modules: `redundant name { }` etc. declared in `modules { }`, by name. */
  virtualModules?: ReadonlyMap<string, ConfSection>;
}

const EDIT_OPS = new Set([':=', '=', '+=', '-=', '*=', '/=', '|=', '&=', '^=', '<<=', '>>=', '<=', '>=', '%=']);
const KEYWORDS = new Set([
  'if', 'elsif', 'else', 'switch', 'case', 'default', 'foreach', 'group', 'redundant', 'load-balance',
  'redundant-load-balance', 'parallel', 'timeout', 'limit', 'try', 'catch', 'transaction', 'actions',
  'return', 'break', 'continue', 'policy', 'subrequest', 'call', 'detach', 'finally', 'map', 'caller',
]);
const P = (n: number) => A.PRIORITY | n;

interface Ctx {
  readonly section: SectionName;
  readonly defaults: Actions;
  readonly scope: Scope;
  /** Number of enclosing foreach loops (within the current policy). */
  readonly loops: number;
  /** Number of enclosing break points (foreach, switch). */
  readonly breaks: number;
  /** Policies being compiled (a policy calling its own name calls the module). */
  readonly policies: readonly string[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

let builtinsRegistered = false;

/** Compiles unlang sections. One compiler can compile many sections; the output is immutable. */
export class Compiler {
  readonly dict: Dictionary;
  readonly xlats: XlatRegistry;
  private readonly opts: CompileOptions;

  constructor(opts: CompileOptions) {
    this.opts = opts;
    this.dict = opts.dict;
    if (!builtinsRegistered) { registerBuiltins(globalXlats); builtinsRegistered = true; }
    this.xlats = opts.xlats ?? globalXlats;
  }

  /**
   * Compiles a processing section (`recv Access-Request { … }`). The section's
   * name picks the default action table (`authenticate` or the authorize table).
   */
  compileSection(cs: ConfSection, section?: SectionName): CompiledSection {
    const sn: SectionName = section ?? { name1: cs.name1, name2: cs.name2 };
    const defaults = defaultActionsFor(sn.name1);
    const ctx: Ctx = { section: sn, defaults, scope: new Scope(), loops: 0, breaks: 0, policies: [] };
    try {
      const { block } = this.compileBlock(cs.children, ctx, true);
      return { name1: sn.name1, name2: sn.name2, body: new Normalizer().block(block), loc: cs.loc, actions: defaults };
    } catch (e) {
      throw asCompileError(e, cs.loc);
    }
  }

  /** Compiles a list of statements as a section body (for tests and embedding). */
  compileItems(items: readonly ConfItem[], section: SectionName, loc: ConfLoc): CompiledSection {
    return this.compileSection({ kind: 'section', name1: section.name1, name2: section.name2, headerText: section.name2 ?? '', children: items as ConfItem[], loc }, section);
  }

  // ---------------------------------------------------------------- blocks

  private compileBlock(rawItems: readonly ConfItem[], outer: Ctx, allowActions: boolean): { block: Block; actions?: Actions; retry?: RetryConfig; ctx: Ctx } {
    const ctx: Ctx = { ...outer, scope: new Scope(outer.scope) };
    // `ok, ok, ok` on one line: several calls.
    const items: ConfItem[] = [];
    for (const it of rawItems) {
      if (it.kind === 'pair' && it.op === '' && /^[\w.-]+(\s*,\s*[\w.-]+)+\s*,?$/.test(it.text.trim())) {
        for (const w of it.text.split(',')) if (w.trim()) items.push({ ...it, attr: w.trim(), text: w.trim() });
      } else items.push(it);
    }
    const children: Instr[] = [];
    const locals: DictAttr[] = [];
    let actions: Actions | undefined;
    let retry: RetryConfig | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.kind === 'section' && item.name1 === 'actions') {
        if (!allowActions) throw new CompileError(item.loc, '"actions" is not allowed in this section');
        if (i !== items.length - 1) throw new CompileError(item.loc, '"actions" must be the last item in a section');
        const r = this.parseActions(item, ctx.defaults);
        actions = r.actions;
        retry = r.retry;
        continue;
      }
      if (item.kind === 'pair' && item.op === '') {
        const decl = this.localDecl(item);
        if (decl) {
          ctx.scope.declare(decl.name, decl.da, item.loc);
          locals.push(decl.da);
          continue;
        }
      }
      if (item.kind === 'section' && (item.name1 === 'elsif' || item.name1 === 'else')) {
        const prev = children[children.length - 1];
        let tail = prev && prev.k === 'if' ? (prev as Mutable<Extract<Instr, { k: 'if' }>>) : undefined;
        while (tail && tail.else && tail.else.k === 'if') tail = tail.else as Mutable<Extract<Instr, { k: 'if' }>>;
        if (!tail || tail.else) throw new CompileError(item.loc, `"${item.name1}" must follow an "if" or "elsif"`);
        if (item.name1 === 'elsif') tail.else = this.compileIf(item, ctx);
        else {
          if (item.headerText) throw new CompileError(item.loc, '"else" does not take a condition (use "elsif")');
          tail.else = this.groupInstr(item, ctx, 'else');
        }
        continue;
      }
      if (item.kind === 'section' && item.name1 === 'try') {
        const catches: ConfSection[] = [];
        while (i + 1 < items.length) {
          const n = items[i + 1];
          if (n.kind === 'section' && n.name1 === 'catch') { catches.push(n); i++; }
          else break;
        }
        children.push(this.compileTry(item, catches, ctx));
        continue;
      }
      const ins = this.compileItem(item, ctx);
      if (ins) children.push(ins);
    }
    const block: Block = locals.length ? { children, locals } : { children };
    return { block, actions, retry, ctx };
  }

  private localDecl(item: ConfPair): { name: string; da: DictAttr } | undefined {
    const m = /^([a-z][a-z0-9_-]*)\s+([A-Za-z_][A-Za-z0-9_-]*)$/i.exec(item.text.trim());
    if (!m) return undefined;
    const type = TYPE_ALIASES[m[1].toLowerCase()];
    if (type === undefined) {
      if (/^(tlv|struct|vsa|vendor)$/i.test(m[1])) throw new CompileError(item.loc, `Local variables cannot be of type "${m[1]}"`);
      return undefined;
    }
    return { name: m[2], da: localAttr(m[2], type) };
  }

  private parseActions(cs: ConfSection, base: Actions): { actions: Actions; retry?: RetryConfig } {
    const actions = base.slice();
    let retry: RetryConfig | undefined;
    for (const c of cs.children) {
      if (c.kind === 'section') {
        if (c.name1 !== 'retry') throw new CompileError(c.loc, `Unknown section "${c.name1}" in actions (expected "retry")`);
        const r = { maxRtxCount: 0, maxRtxDuration: 0, initialRtxTime: 0, maxRtxTime: 0 };
        for (const p of c.children) {
          if (p.kind !== 'pair' || p.op !== '=') throw new CompileError(p.loc, 'Expected "name = value" in retry');
          const v = Number.parseFloat(p.value ?? '');
          if (!Number.isFinite(v) || v < 0) throw new CompileError(p.loc, `Invalid value for ${p.attr}`);
          switch (p.attr) {
            case 'max_rtx_count': r.maxRtxCount = v; break;
            case 'max_rtx_duration': r.maxRtxDuration = v; break;
            case 'initial_rtx_time': r.initialRtxTime = v; break;
            case 'max_rtx_time': r.maxRtxTime = v; break;
            default: throw new CompileError(p.loc, `Unknown retry setting "${p.attr}" (expected max_rtx_count, max_rtx_duration, initial_rtx_time or max_rtx_time)`);
          }
        }
        retry = r;
        continue;
      }
      this.applyActionPair(c, actions);
    }
    return { actions, retry };
  }

  private applyActionPair(p: ConfPair, actions: number[]): void {
    if (p.op !== '=') throw new CompileError(p.loc, `Expected "rcode = action", got "${p.text}"`);
    const name = p.attr;
    const r = rcodeFromName(name);
    if (r === undefined && name !== 'default') {
      throw new CompileError(p.loc, `Unknown rcode "${name}" in actions (expected one of ${RCODE_NAMES.slice(1).join(', ')}, default)`);
    }
    const v = (p.value ?? '').trim();
    let a: number;
    if (v === 'return') a = A.RETURN;
    else if (v === 'reject') a = A.REJECT;
    else if (v === 'retry') a = A.RETRY;
    else if (/^\d+$/.test(v) && +v >= 1 && +v <= 64) a = P(+v);
    else throw new CompileError(p.loc, `Invalid action "${v}" for ${name} (expected 1-64, return, reject or retry)`);
    if (r !== undefined) actions[r] = a;
    else for (let i = 1; i < RCODE_COUNT; i++) actions[i] = a;
  }

  // ---------------------------------------------------------------- items

  private compileItem(item: ConfItem, ctx: Ctx): Instr | null {
    return item.kind === 'section' ? this.compileSectionItem(item, ctx) : this.compilePair(item, ctx);
  }

  private base(name: string, loc: ConfLoc, ctx: Ctx, actions?: Actions): { name: string; loc: ConfLoc; actions: Actions } {
    return { name, loc, actions: actions ?? ctx.defaults };
  }

  private compileSectionItem(cs: ConfSection, ctx: Ctx): Instr | null {
    if (cs.op !== undefined) return this.compileEditBlock(cs, ctx);
    switch (cs.name1) {
      case 'if': return this.compileIf(cs, ctx);
      case 'elsif': case 'else': throw new CompileError(cs.loc, `"${cs.name1}" must follow an "if" or "elsif"`);
      case 'group': return this.groupInstr(cs, ctx, 'group');
      case 'switch': return this.compileSwitch(cs, ctx);
      case 'case': case 'default': throw new CompileError(cs.loc, `"${cs.name1}" is only allowed inside "switch"`);
      case 'foreach': return this.compileForeach(cs, ctx);
      case 'redundant': case 'load-balance': case 'redundant-load-balance':
        return this.compileBalance(cs, ctx, cs.name1, cs.headerText, cs.name1);
      case 'parallel': return this.compileParallel(cs, ctx);
      case 'timeout': case 'limit': return this.compileTimeoutLimit(cs, ctx);
      case 'try': return this.compileTry(cs, [], ctx);
      case 'catch': throw new CompileError(cs.loc, '"catch" must follow "try" or another "catch"');
      case 'transaction': return this.compileTransaction(cs, ctx);
      case 'return': case 'break': case 'continue':
        throw new CompileError(cs.loc, `"${cs.name1}" cannot have a section body`);
      case 'update': return this.compileUpdate(cs, ctx);
      case 'subrequest': case 'call': case 'detach': case 'finally': case 'map': case 'caller':
        throw new CompileError(cs.loc, `"${cs.name1}" is not supported`);
      default:
        break;
    }
    // `module { rcode = action … }`: a call with per-call action overrides.
    const call = this.compileCall(cs.name1, cs.loc, ctx, cs.headerText);
    if (!call) return null;
    // Same syntax as an `actions { }` block (rcode = action, optional retry { }).
    const { actions, retry } = this.parseActions(cs, call.actions);
    return retry ? { ...call, actions, retry } : { ...call, actions };
  }

  private compilePair(p: ConfPair, ctx: Ctx): Instr | null {
    if (p.op === '' || !EDIT_OPS.has(p.op)) {
      // Operators the config lexer does not split (`*=`, `/=`, `<<=` …).
      const m = /^([^\s"'%=<>!]+?)\s*(<<=|>>=|\*=|\/=|%=|\|=|&=|\^=)\s*(.*)$/s.exec(p.text.trim());
      if (m) {
        let value = m[3];
        let quote: ConfPair['quote'] = 'bare';
        if (/^'.*'$/s.test(value)) { quote = 'single'; value = value.slice(1, -1); }
        else if (/^".*"$/s.test(value)) { quote = 'double'; value = value.slice(1, -1); }
        return this.compileEdit({ ...p, attr: m[1], op: m[2], value, quote }, ctx);
      }
      if (p.op === '') return this.compileWord(p, ctx);
    }
    if (EDIT_OPS.has(p.op)) return this.compileEdit(p, ctx);
    throw new CompileError(p.loc, `Invalid operator "${p.op}" in "${p.text}" (expected an assignment operator such as := or +=)`);
  }

  private compileWord(p: ConfPair, ctx: Ctx): Instr | null {
    const text = p.text.trim();
    if (text === '$TEMPLATE' || p.attr === '$TEMPLATE') return null;
    const c0 = text[0];
    if (c0 === '%' || c0 === '"' || c0 === "'" || c0 === '`' || c0 === '(') {
      const e = this.parseExpr(text, p.loc, ctx, false);
      return { k: 'xlat', e, ...this.base(text, p.loc, ctx) };
    }
    if (/\s/.test(text)) throw new CompileError(p.loc, `Unexpected text "${text}" (expected a keyword, module, policy or "attribute op value")`);
    switch (text) {
      case 'return': return { k: 'return', ...this.base('return', p.loc, ctx) };
      case 'break':
        if (ctx.breaks === 0) throw new CompileError(p.loc, '"break" can only be used inside "foreach" or "switch"');
        return { k: 'break', ...this.base('break', p.loc, ctx) };
      case 'continue':
        if (ctx.loops === 0) throw new CompileError(p.loc, '"continue" can only be used inside "foreach"');
        return { k: 'continue', ...this.base('continue', p.loc, ctx) };
      default:
        break;
    }
    if (KEYWORDS.has(text)) throw new CompileError(p.loc, `"${text}" needs a section body { … }`);
    return this.compileCall(text, p.loc, ctx, '');
  }

  /** A module, policy, virtual module or rcode word. Returns null for a missing `-optional` module. */
  private compileCall(word: string, loc: ConfLoc, ctx: Ctx, header: string): Instr | null {
    let name = word;
    const optional = name.startsWith('-');
    if (optional) name = name.slice(1);
    if (header) throw new CompileError(loc, `Unexpected text "${header}" after "${word}"`);
    const r = rcodeFromName(name);
    if (r !== undefined) return { k: 'rcode', r, ...this.base(name, loc, ctx) };
    // Policies: the full name first (`with.dots`), then the part before a method suffix.
    const policies = this.opts.policies;
    const dot = name.indexOf('.');
    for (const cand of dot > 0 ? [name, name.slice(0, dot)] : [name]) {
      const pol = policies?.get(cand);
      if (pol && !ctx.policies.includes(cand)) return this.compilePolicy(cand, pol, loc, ctx);
    }
    for (const cand of dot > 0 ? [name, name.slice(0, dot)] : [name]) {
      const vm = this.opts.virtualModules?.get(cand);
      if (vm && !ctx.policies.includes('@vm:' + cand)) {
        const inner: Ctx = { ...ctx, policies: [...ctx.policies, '@vm:' + cand], loops: 0, breaks: 0, scope: new Scope() };
        const kw = vm.name1;
        const key = vm.headerText.slice((vm.name2 ?? '').length).trim();
        if (kw === 'group' || kw === 'policy') return { ...this.groupInstr(vm, inner, cand), loc };
        return { ...this.compileBalance(vm, inner, kw, key, cand), loc } as Instr;
      }
    }
    const modName = dot > 0 ? name.slice(0, dot) : name;
    const method = dot > 0 ? name.slice(dot + 1) : undefined;
    const handle = this.opts.modules?.(modName);
    if (handle) {
      const fn = handle.method(ctx.section, method);
      if (!fn) throw new CompileError(loc, `Module "${modName}" has no method ${method ? `"${method}"` : `for section "${ctx.section.name1}${ctx.section.name2 ? ' ' + ctx.section.name2 : ''}"`}`);
      return { k: 'module', instance: modName, method, fn, ...this.base(name, loc, ctx) };
    }
    if (optional) return null;
    if (this.dict.resolve(name) || ctx.scope.lookup(name)) {
      throw new CompileError(loc, `Attribute "${name}" used as a statement (expected "${name} op value", a module or a policy)`);
    }
    throw new CompileError(loc, `Unknown module, policy or keyword "${name}"`);
  }

  private compilePolicy(name: string, pol: ConfSection, loc: ConfLoc, ctx: Ctx): Instr {
    const inner: Ctx = { section: ctx.section, defaults: ctx.defaults, scope: new Scope(), loops: 0, breaks: 0, policies: [...ctx.policies, name] };
    const { block, actions, retry } = this.compileBlock(pol.children, inner, true);
    return { k: 'group', body: block, returnPoint: true, policy: true, name, loc, actions: actions ?? ctx.defaults, retry };
  }

  private groupInstr(cs: ConfSection, ctx: Ctx, name: string): Extract<Instr, { k: 'group' }> {
    if (cs.name1 === 'group' && cs.headerText && name === 'group') throw new CompileError(cs.loc, `Unexpected text "${cs.headerText}" after "group"`);
    const { block, actions, retry } = this.compileBlock(cs.children, ctx, true);
    return { k: 'group', body: block, name, loc: cs.loc, actions: actions ?? ctx.defaults, retry };
  }

  // ---------------------------------------------------------------- keywords

  private compileIf(cs: ConfSection, ctx: Ctx): Instr {
    const header = cs.headerText.trim();
    if (!header) throw new CompileError(cs.loc, `"${cs.name1}" needs a condition`);
    let cond = this.parseExpr(header, cs.loc, ctx, true);
    cond = this.fold(cond);
    const { block, actions, retry } = this.compileBlock(cs.children, ctx, true);
    return { k: 'if', cond, then: block, name: `${cs.name1} ${header}`, loc: cs.loc, actions: actions ?? ctx.defaults, retry };
  }

  private compileSwitch(cs: ConfSection, ctx: Ctx): Instr {
    const header = cs.headerText.trim();
    if (!header) throw new CompileError(cs.loc, '"switch" needs a value to switch on');
    const subject = this.parseExpr(header, cs.loc, ctx, false);
    let type = typeOf(subject);
    if (type === 'group' || type === 'bool' && subject.k !== 'ref') type = undefined;
    const subjectDa = subject.k === 'ref' ? subject.da : undefined;
    const inner: Ctx = { ...ctx, breaks: ctx.breaks + 1 };
    const cases = new Map<string | number, Block>();
    const caseList: { box: Box; body: Block }[] = [];
    let def: Block | undefined;
    for (const c of cs.children) {
      if (c.kind !== 'section' || (c.name1 !== 'case' && c.name1 !== 'default')) {
        throw new CompileError(c.loc, `Only "case" and "default" are allowed inside "switch", got "${c.kind === 'section' ? c.name1 : c.text}"`);
      }
      const { block } = this.compileBlock(c.children, inner, false);
      const vtext = c.headerText.trim();
      if (c.name1 === 'default' || vtext === '') {
        if (def) throw new CompileError(c.loc, 'Duplicate default "case" in "switch"');
        def = block;
        continue;
      }
      let e: Expr;
      try {
        e = this.parseExpr(vtext, c.loc, { ...ctx }, false);
      } catch (err) {
        // A bare enum name (`case Login-User`) is typed by the subject below.
        if (!(err instanceof CompileError) || !/Unknown attribute "/.test(err.detail) || !subjectDa?.values || !/^[^\s"'%()]+$/.test(vtext)) throw err;
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
          throw new CompileError(c.loc, `Invalid case value "${vtext}" for ${subjectDa ? `attribute ${subjectDa.name}` : `type ${t}`}: ${(err as Error).message}`);
        }
      }
      if (e.k !== 'lit') throw new CompileError(c.loc, `"case" value must be a constant, got "${vtext}"`);
      const isPrefixCase = (type === 'ipaddr' || type === 'ipv6addr') && (e.box.type === 'ipv4prefix' || e.box.type === 'ipv6prefix');
      const b = type && e.box.type !== type && !isPrefixCase ? this.castConst(e.box, type, c.loc) : e.box;
      const key = caseKey(b);
      if (cases.has(key)) throw new CompileError(c.loc, `Duplicate "case ${vtext}" in "switch"`);
      cases.set(key, block);
      caseList.push({ box: b, body: block });
    }
    return { k: 'switch', subject, type, cases, caseList, def, name: `switch ${header}`, loc: cs.loc, actions: ctx.defaults };
  }

  private castConst(b: Box, t: BoxType, loc: ConfLoc): Box {
    try {
      return evalExpr({ k: 'cast', type: t, a: { k: 'lit', box: b } }, { request: new Request() })[0];
    } catch (e) {
      throw asCompileError(e, loc);
    }
  }

  private compileForeach(cs: ConfSection, ctx: Ctx): Instr {
    const header = cs.headerText.trim();
    const m = /^([^(]*)\((.*)\)\s*$/s.exec(header);
    if (!m) throw new CompileError(cs.loc, '"foreach" expects "foreach [type] name (reference) { … }"');
    const decls = m[1].split(',').map((s) => s.trim());
    if (decls.length > 2 || decls.some((d) => d === '')) throw new CompileError(cs.loc, `Invalid foreach variable declaration "${m[1].trim()}"`);
    const source = this.parseExpr(m[2], cs.loc, ctx, false);
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
      const da = localAttr(name, type);
      scope.declare(name, da, cs.loc);
      return da;
    };
    const srcType = typeOf(source);
    const valueType: BoxType = srcType && srcType !== 'bool' ? srcType : 'string';
    let keyDa: DictAttr | undefined;
    if (decls.length === 2) keyDa = parseDecl(decls[0], 'string');
    const varDa = parseDecl(decls[decls.length - 1], valueType);
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
    const { block } = this.compileBlock(cs.children, inner, false);
    const locals = [varDa, ...(keyDa ? [keyDa] : []), ...(block.locals ?? [])];
    return {
      k: 'foreach', source: ref ? { k: 'ref', ref, t: srcType } : source, ref, varDa, keyDa,
      body: { children: block.children, locals }, name: `foreach ${header}`, loc: cs.loc, actions: ctx.defaults,
    };
  }

  private compileBalance(cs: ConfSection, ctx: Ctx, kw: string, keyText: string, name: string): Instr {
    const { block, actions } = this.compileBlock(cs.children, ctx, false);
    void actions;
    if (kw === 'redundant') {
      if (keyText.trim() && keyText.trim() !== name) throw new CompileError(cs.loc, `Unexpected text "${keyText}" after "redundant"`);
      return { k: 'redundant', children: block.children, locals: block.locals, name, loc: cs.loc, actions: ctx.defaults };
    }
    const key = keyText.trim() ? this.parseExpr(keyText.trim(), cs.loc, ctx, false) : undefined;
    return { k: 'load-balance', key, children: block.children, redundant: kw === 'redundant-load-balance', name: kw === name ? kw + (keyText ? ' ' + keyText : '') : name, loc: cs.loc, actions: ctx.defaults };
  }

  private compileParallel(cs: ConfSection, ctx: Ctx): Instr {
    const h = cs.headerText.trim();
    let mode: 'clone' | 'empty' | 'detach' = 'clone';
    if (h === 'empty' || h === 'detach' || h === 'clone') mode = h;
    else if (h) throw new CompileError(cs.loc, `Unexpected text "${h}" after "parallel" (expected empty, detach or clone)`);
    const { block } = this.compileBlock(cs.children, ctx, false);
    return { k: 'parallel', children: block.children, mode, name: 'parallel' + (h ? ' ' + h : ''), loc: cs.loc, actions: ctx.defaults };
  }

  private compileTimeoutLimit(cs: ConfSection, ctx: Ctx): Instr {
    const h = cs.headerText.trim();
    if (!h) throw new CompileError(cs.loc, `"${cs.name1}" needs a value`);
    let e = this.parseExpr(h, cs.loc, ctx, false);
    const t: BoxType = cs.name1 === 'timeout' ? 'time_delta' : 'uint32';
    if (isRetypable(e)) {
      try {
        e = { k: 'lit', box: parseBox(t, (e as Extract<Expr, { k: 'lit' }>).raw!) };
      } catch (err) {
        throw new CompileError(cs.loc, `Invalid ${cs.name1} value "${h}": ${(err as Error).message}`);
      }
    }
    const { block, actions, retry } = this.compileBlock(cs.children, ctx, true);
    const b = { name: `${cs.name1} ${h}`, loc: cs.loc, actions: actions ?? ctx.defaults, retry };
    if (cs.name1 === 'timeout') return { k: 'timeout', dur: e, body: block, ...b };
    return { k: 'limit', max: e, body: block, state: { active: 0 }, ...b };
  }

  private compileTry(cs: ConfSection, catches: ConfSection[], ctx: Ctx): Instr {
    if (cs.headerText.trim()) throw new CompileError(cs.loc, `Unexpected text "${cs.headerText}" after "try"`);
    if (catches.length === 0) throw new CompileError(cs.loc, '"try" must be followed by at least one "catch"');
    const inner: Ctx = { ...ctx, defaults: tryBodyActions(ctx.defaults) };
    const { block } = this.compileBlock(cs.children, inner, false);
    const table: (Block | undefined)[] = new Array(RCODE_COUNT).fill(undefined);
    let catchAll: Block | undefined;
    for (const c of catches) {
      const { block: cb } = this.compileBlock(c.children, ctx, false);
      const names = c.headerText.trim() ? c.headerText.trim().split(/[\s,]+/) : [];
      if (names.length === 0) {
        if (catchAll) throw new CompileError(c.loc, 'Only one catch-all "catch" is allowed');
        catchAll = cb;
        continue;
      }
      for (const n of names) {
        const r = rcodeFromName(n);
        if (r === undefined) throw new CompileError(c.loc, `Unknown rcode "${n}" in "catch" (expected ${RCODE_NAMES.slice(1).join(', ')})`);
        if (table[r]) throw new CompileError(c.loc, `rcode "${n}" is already caught`);
        table[r] = cb;
      }
    }
    return { k: 'try', body: block, catches: table, catchAll, name: 'try', loc: cs.loc, actions: ctx.defaults };
  }

  private compileTransaction(cs: ConfSection, ctx: Ctx): Instr {
    if (cs.headerText.trim()) throw new CompileError(cs.loc, `Unexpected text "${cs.headerText}" after "transaction"`);
    const innerDefaults = ctx.defaults.slice();
    innerDefaults[R.FAIL] = A.RETURN;
    innerDefaults[R.INVALID] = A.RETURN;
    innerDefaults[R.DISALLOW] = A.RETURN;
    innerDefaults[R.REJECT] = A.RETURN;
    const { block } = this.compileBlock(cs.children, { ...ctx, defaults: innerDefaults }, false);
    const own = ctx.defaults.slice();
    own[R.FAIL] = P(1);
    own[R.INVALID] = P(1);
    own[R.DISALLOW] = P(1);
    return { k: 'transaction', body: block, name: 'transaction', loc: cs.loc, actions: own };
  }

  // ---------------------------------------------------------------- edits

  /** v3 `update [list] { attr op value … }`: a group of edits (`!* ANY` deletes). */
  private compileUpdate(cs: ConfSection, ctx: Ctx): Instr {
    const list = cs.headerText.trim().replace(/:$/, '');
    if (list && !/^(request|reply|control|config|session-state|outer\.\w+|parent\.\w+)$/.test(list)) {
      throw new CompileError(cs.loc, `Unknown list "${list}" in "update" (expected request, reply, control or session-state)`);
    }
    const children: Instr[] = [];
    for (const c of cs.children) {
      if (c.kind !== 'pair') throw new CompileError(c.loc, `Unexpected section "${c.name1}" in "update"`);
      let attr = c.attr.trim().replace(/^&/, '').replace(/^(request|reply|control|config|session-state):/i, '$1.');
      if (list && !/^(request|reply|control|config|session-state|parent|outer)\./i.test(attr)) attr = `${list}.${attr}`;
      if (c.op === '!*') {
        const lhs = this.lhsRef(attr, c.loc, ctx);
        children.push({ k: 'edit', lhs: lhs.ref, lhsList: false, lhsType: lhs.t, op: ':=', rhs: { k: 'empty' }, name: c.text, loc: c.loc, actions: ctx.defaults });
        continue;
      }
      if (c.op === '+=') {
        // v3: `+=` adds another instance (v4 `+=` on a leaf would append to its value).
        const lhs = this.lhsRef(attr, c.loc, ctx);
        const seg = lhs.ref.segs[lhs.ref.segs.length - 1];
        if (!seg) throw new CompileError(c.loc, `Expected an attribute in "${c.text}"`);
        const parentRef: AttrRef = { ...lhs.ref, segs: lhs.ref.segs.slice(0, -1) };
        const e = this.typeFor(this.parseValueFor(quoteValue(c), c.loc, ctx, seg.da), lhs, c.loc, '=');
        const tmpl: PairTemplate = { da: seg.da, path: [], op: '=', rhs: { k: 'expr', e }, loc: c.loc };
        children.push({ k: 'edit', lhs: parentRef, lhsList: true, lhsType: 'group', op: '+=', rhs: { k: 'pairs', items: [tmpl] }, name: c.text, loc: c.loc, actions: ctx.defaults });
        continue;
      }
      if (c.op === '-=' || c.op === '==') {
        // Remove (or, for ==, keep only) the instances with this value.
        const lhs = this.lhsRef(attr, c.loc, ctx);
        const seg = lhs.ref.segs[lhs.ref.segs.length - 1];
        if (!seg) throw new CompileError(c.loc, `Expected an attribute in "${c.text}"`);
        const parentRef: AttrRef = { ...lhs.ref, segs: lhs.ref.segs.slice(0, -1) };
        const e = this.typeFor(this.parseExpr(quoteValue(c), c.loc, ctx, false), lhs, c.loc, '==');
        const tmpl: PairTemplate = { da: seg.da, path: [], op: c.op === '-=' ? '==' : '!=', rhs: { k: 'expr', e }, loc: c.loc };
        children.push({ k: 'edit', lhs: parentRef, lhsList: true, lhsType: 'group', op: '-=', rhs: { k: 'pairs', items: [tmpl] }, name: c.text, loc: c.loc, actions: ctx.defaults });
        continue;
      }
      if (!EDIT_OPS.has(c.op)) throw new CompileError(c.loc, `Invalid operator "${c.op}" in "update"`);
      const ins = this.compileEdit({ ...c, attr }, ctx);
      children.push(ins);
    }
    return { k: 'group', body: { children }, name: `update${list ? ' ' + list : ''}`, loc: cs.loc, actions: ctx.defaults };
  }

  private lhsRef(text: string, loc: ConfLoc, ctx: Ctx): ResolvedRef {
    const r = this.resolve(text.trim(), loc, ctx);
    if (!r) throw new CompileError(loc, `Unknown attribute "${text.trim()}" (expected an attribute, list or local variable on the left of an edit)`);
    const last = r.ref.listIdx ?? (r.ref.segs.length ? r.ref.segs[r.ref.segs.length - 1].idx : undefined);
    if (last === Idx.ALL || last === Idx.COUNT) throw new CompileError(loc, `Cannot assign to "${text.trim()}": [*] and [#] are not allowed on the left of an edit`);
    return r;
  }

  private compileEdit(p: ConfPair, ctx: Ctx): Instr {
    const lhs = this.lhsRef(p.attr, p.loc, ctx);
    const lhsList = lhs.ref.segs.length === 0 || lhs.t === 'group';
    const vtext = quoteValue(p);
    let rhs: EditRhs;
    if (lhsList) {
      if (p.quote === 'double' && /%/.test(p.value ?? '')) {
        // A dynamic string: parsed as a pair list when the edit runs.
        rhs = { k: 'text', e: this.parseExpr(vtext, p.loc, ctx, false) };
      } else if (p.quote === 'double' || p.quote === 'single') rhs = { k: 'pairs', items: this.pairsFromText(p.value ?? '', p.loc, lhs, ctx) };
      else {
        const e = this.parseExpr(vtext, p.loc, ctx, false);
        if (e.k === 'lit') throw new CompileError(p.loc, `Expected an attribute, list or { … } on the right of "${p.op}" for a list, got "${vtext}"`);
        rhs = { k: 'expr', e };
      }
    } else {
      let e = this.parseValueFor(vtext, p.loc, ctx, lhs.da);
      if (e.k === 'ref' && e.ref.segs.length && e.ref.segs[e.ref.segs.length - 1].idx === Idx.COUNT) {
        throw new CompileError(p.loc, `"${vtext}": [#] cannot be used as a value here (use %{${vtext}})`);
      }
      e = this.typeFor(e, lhs, p.loc, p.op);
      rhs = { k: 'expr', e };
    }
    return { k: 'edit', lhs: lhs.ref, lhsList, lhsType: lhs.t, op: p.op, rhs, name: p.text, loc: p.loc, actions: ctx.defaults };
  }

  /** Parses an edit value; a bare word that is not an attribute may still be an enum name of `da`. */
  private parseValueFor(text: string, loc: ConfLoc, ctx: Ctx, da: DictAttr | undefined): Expr {
    try {
      return this.parseExpr(text, loc, ctx, false);
    } catch (err) {
      if (err instanceof CompileError && /Unknown attribute "/.test(err.detail) && da?.values && /^[^\s"'%()]+$/.test(text)) {
        return { k: 'lit', box: box('string', text), raw: text };
      }
      throw err;
    }
  }

  /** Types a literal right-hand side by the left-hand side (a compile error when it cannot parse). */
  private typeFor(e: Expr, lhs: ResolvedRef, loc: ConfLoc, op: string): Expr {
    if (!isRetypable(e) || !lhs.t || lhs.t === 'group') return e;
    const lit = e as Extract<Expr, { k: 'lit' }>;
    // String edits with a string literal keep the text as is.
    if (lhs.t === 'string') return { k: 'lit', box: box('string', lit.raw!) };
    if ((op === '<<=' || op === '>>=' || op === '*=' || op === '/=' || op === '%=') && lit.box.type !== 'string') return e;
    try {
      return { k: 'lit', box: parseBox(lhs.t, lit.raw!, lhs.da) };
    } catch (err) {
      if (lit.box.type !== 'string') {
        try {
          return { k: 'lit', box: this.castConst(lit.box, lhs.t, loc) };
        } catch { /* report the parse error below */ }
      }
      throw new CompileError(loc, `Failed parsing "${lit.raw}" as type '${lhs.t}': ${(err as Error).message}`);
    }
  }

  private compileEditBlock(cs: ConfSection, ctx: Ctx): Instr {
    const op = cs.op!;
    if (!EDIT_OPS.has(op)) throw new CompileError(cs.loc, `Invalid operator "${op}" before "{"`);
    const lhs = this.lhsRef(cs.name1, cs.loc, ctx);
    const lhsList = lhs.ref.segs.length === 0 || lhs.t === 'group';
    let rhs: EditRhs;
    if (cs.children.length === 0) {
      if (!lhsList && op !== ':=' && op !== '=') throw new CompileError(cs.loc, `"${cs.name1} ${op} {}" is not allowed: an empty list can only be assigned with := (delete) or =`);
      rhs = { k: 'empty' };
    }
    else if (lhsList) {
      const items = this.pairTemplates(cs.children, lhs, ctx);
      if (op === '-=') {
        for (const t of items) {
          if (t.path.length) throw new CompileError(t.loc, `Removing nested attributes ("${t.path.map((d) => d.name).join('.')}.${t.da.name}") from a list is not supported; edit the parent attribute instead`);
        }
      }
      rhs = { k: 'pairs', items };
    }
    else {
      const items: Expr[] = [];
      for (const c of cs.children) {
        if (c.kind !== 'pair' || c.op !== '') throw new CompileError(c.loc, `Expected a value in the list for "${cs.name1}", got "${c.kind === 'pair' ? c.text : c.name1}"`);
        items.push(this.typeFor(this.parseValueFor(c.text, c.loc, ctx, lhs.da), lhs, c.loc, op));
      }
      rhs = { k: 'values', items };
    }
    return { k: 'edit', lhs: lhs.ref, lhsList, lhsType: lhs.t, op, rhs, name: `${cs.name1} ${op} { … }`, loc: cs.loc, actions: ctx.defaults };
  }

  /** Children of a list edit block: `Attr op value` lines and nested `Attr op { … }` blocks. */
  private pairTemplates(items: readonly ConfItem[], parent: ResolvedRef, ctx: Ctx): PairTemplate[] {
    const out: PairTemplate[] = [];
    const base = parent.da && parent.da.type !== 'group' ? parent.da : undefined;
    for (const c of items) {
      const name = c.kind === 'section' ? c.name1 : c.attr;
      const op = c.kind === 'section' ? c.op : c.op;
      if (!op) throw new CompileError(c.loc, `Expected "attribute op value" in an edit list, got "${c.kind === 'pair' ? c.text : c.name1}"`);
      const { da, path } = this.templateAttr(name, base, c.loc);
      let rhs: EditRhs;
      if (c.kind === 'section') {
        if (!da.isStructural) {
          const items2: Expr[] = [];
          for (const v of c.children) {
            if (v.kind !== 'pair' || v.op !== '') throw new CompileError(v.loc, 'Expected a value');
            items2.push(this.typeFor(this.parseValueFor(v.text, v.loc, ctx, da), { ref: parent.ref, t: da.type as BoxType, da }, v.loc, op));
          }
          rhs = { k: 'values', items: items2 };
        } else {
          rhs = c.children.length ? { k: 'pairs', items: this.pairTemplates(c.children, { ref: parent.ref, t: 'group', da }, ctx) } : { k: 'empty' };
        }
      } else {
        const e = this.parseValueFor(quoteValue(c), c.loc, ctx, da);
        rhs = { k: 'expr', e: da.isStructural ? e : this.typeFor(e, { ref: parent.ref, t: da.type as BoxType, da }, c.loc, op) };
      }
      out.push({ da, path, op, rhs, loc: c.loc });
    }
    return out;
  }

  private templateAttr(name: string, base: DictAttr | undefined, loc: ConfLoc): { da: DictAttr; path: DictAttr[] } {
    let n = name.trim();
    if (n.startsWith('&')) n = n.slice(1);
    for (const l of ['request.', 'reply.', 'control.', 'session-state.', 'parent.', 'outer.']) {
      if (n.toLowerCase().startsWith(l)) throw new CompileError(loc, `"${name}": a list qualifier is not allowed inside an edit list (names are relative to the list being edited)`);
    }
    const da = (base ? base.childByName(n) ?? this.dict.resolve(n, base) : undefined) ?? this.dict.resolve(n);
    if (!da) throw new CompileError(loc, `Unknown attribute "${name}"`);
    const path: DictAttr[] = [];
    for (let a: DictAttr | null = da.parent; a && a !== base && a.type !== 'root'; a = a.parent) path.unshift(a);
    return { da, path };
  }

  /** `request -= "Filter-Id == 'foo'"`: a constant string holding a pair list. */
  private pairsFromText(text: string, loc: ConfLoc, parent: ResolvedRef, ctx: Ctx): PairTemplate[] {
    const items: ConfPair[] = [];
    for (const part of text.split(/[,\n]/)) {
      const s = part.trim();
      if (!s) continue;
      const m = /^([A-Za-z0-9_.\-[\]#*]+?)\s*(==|!=|:=|\+=|-=|<=|>=|=|<|>)\s*(.*)$/.exec(s);
      if (!m) throw new CompileError(loc, `Invalid pair "${s}" in string`);
      let value = m[3];
      let quote: ConfPair['quote'] = 'bare';
      if (/^'.*'$/.test(value)) { quote = 'single'; value = value.slice(1, -1); }
      else if (/^".*"$/.test(value)) { quote = 'double'; value = value.slice(1, -1); }
      items.push({ kind: 'pair', attr: m[1], op: m[2], value, quote, text: s, loc });
    }
    return this.pairTemplates(items, parent, ctx);
  }

  // ---------------------------------------------------------------- expressions

  private resolve(text: string, loc: ConfLoc, ctx: Ctx): ResolvedRef | undefined {
    return resolveRef(text, this.dict, ctx.scope, loc, (src) => this.parseExpr(src, loc, ctx, false));
  }

  private parseExpr(text: string, loc: ConfLoc, ctx: Ctx, cond: boolean, lenient = false): Expr {
    const scope = {
      resolveAttr: (t: string, at: ConfLoc) => this.resolve(t, at, ctx),
      xlats: this.xlats,
    };
    const p = new ExprParser(text, scope, loc);
    if (lenient) {
      try {
        return p.parse(cond);
      } catch (e) {
        if (e instanceof CompileError && /Unknown attribute "/.test(e.detail) && /^[^\s"'%()]+$/.test(text)) {
          return { k: 'lit', box: box('string', text), raw: text };
        }
        throw e;
      }
    }
    return p.parse(cond);
  }

  /** Folds a condition that depends on nothing at run time into a constant. */
  private fold(e: Expr): Expr {
    let constant = true;
    walk(e, (n) => {
      if (n.k === 'ref' || n.k === 'exists' || n.k === 'rcode' || n.k === 'capture' || n.k === 'regex') constant = false;
      if (n.k === 'call' && !this.xlats.get(n.name)?.pure) constant = false;
    });
    if (!constant) return e;
    try {
      const v = evalExpr(e, { request: new Request() });
      return { k: 'lit', box: box('bool', listIsTrue(v)) };
    } catch {
      return e;
    }
  }
}

function quoteValue(p: ConfPair): string {
  const v = p.value ?? '';
  switch (p.quote) {
    case 'single': return `'${v}'`;
    case 'double': return `"${v}"`;
    case 'back': return '`' + v + '`';
    default: return v;
  }
}

function tryBodyActions(base: Actions): Actions {
  const a = base.slice();
  for (const r of [R.REJECT, R.FAIL, R.INVALID, R.DISALLOW, R.TIMEOUT]) a[r] = A.RETURN;
  return a;
}

/** Key of a case value in the switch table. */
export function caseKey(b: Box): string | number {
  const v = b.value;
  if (typeof v === 'number') return v;
  if (Buffer.isBuffer(v)) return 'x' + v.toString('hex');
  return typeof v + ':' + String(v);
}

export { ACTIONS_ALL_RETURN };
