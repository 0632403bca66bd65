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

import type { DictAttr } from '../../dict/attr';
import type { Dictionary } from '../../dict/dictionary';
import type { ConfItem, ConfLoc, ConfPair, ConfSection } from '../../config/ast';
import type { ModuleHandle, SectionName } from '../module-call';
import { A, type Actions, RCODE_COUNT, RCODE_NAMES, type RetryConfig, defaultActionsFor, rcodeFromName } from '../rcode';
import { type Box, type BoxType, TYPE_ALIASES, box } from '../xlat/box';
import { type XlatRegistry, globalXlats } from '../xlat/registry';
import { registerBuiltins } from '../xlat/builtins';
import { evalExpr, listIsTrue } from '../xlat/eval';
import { Request } from '../../request/request';
import { type Ctx, priority } from './context';
import { EDIT_OPS, compileEdit, compileEditBlock } from './edits';
import { CompileError } from './errors';
import { Normalizer } from './normalize';
import { ExprParser, asCompileError, walk } from './expr-parser';
import { KEYWORDS, type BlockCursor } from './keywords';
import { didYouMean } from '../../types/suggest';
import { compileBalance } from './keywords/balance';
import { Scope, localAttr, resolveRef, type ResolvedRef } from './refs';
import type { Block, CompiledSection, Expr, Instr } from './types';
import type { VirtualServers } from '../servers';

/** Where the compiler finds modules, policies and virtual modules. */
export interface CompileOptions {
  /** The protocol dictionary. */
  dict: Dictionary;
  /** Expansion functions; defaults to the global registry (with the built-ins). */
  xlats?: XlatRegistry;
  /** Module instances by name (`ldap`, `pap`). */
  modules?: (name: string) => ModuleHandle | undefined;
  /** Every module instance name (for did-you-mean suggestions). */
  moduleNames?: () => Iterable<string>;
  /** Policies: `policy { name { … } }` children, by name. */
  policies?: ReadonlyMap<string, ConfSection>;
  /** Virtual modules: `redundant name { }` etc. declared in `modules { }`, by name. */
  virtualModules?: ReadonlyMap<string, ConfSection>;
  /** Virtual servers, for `call <server> { }` (absent: `call` is a compile error). */
  servers?: VirtualServers;
}

export type { Ctx } from './context';

let builtinsRegistered = false;

/** Compiles unlang sections. One compiler can compile many sections; the output is immutable. */
export class Compiler {
  readonly dict: Dictionary;
  readonly xlats: XlatRegistry;
  private readonly opts: CompileOptions;

  /** The compile options (module, policy and server lookups) for keyword compilers. */
  get options(): Readonly<CompileOptions> {
    return this.opts;
  }

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

  /** Compiles a sibling list (a block body). `allowActions`: an `actions { }` block may end it. */
  compileBlock(rawItems: readonly ConfItem[], outer: Ctx, allowActions: boolean): { block: Block; actions?: Actions; retry?: RetryConfig; ctx: Ctx } {
    // A block nested inside a child of `redundant` uses the section's defaults again (see Ctx.redundant).
    const ctx: Ctx = outer.redundant && outer.redundant.block !== rawItems
      ? { ...outer, defaults: outer.redundant.defaults, redundant: undefined, scope: new Scope(outer.scope) }
      : { ...outer, scope: new Scope(outer.scope) };
    // `ok, ok, ok` on one line: several calls.
    const items: ConfItem[] = [];
    for (const it of rawItems) {
      if (it.kind === 'pair' && it.op === '' && /^[\w.-]+(\s*,\s*[\w.-]+)+\s*,?$/.test(it.text.trim())) {
        for (const w of it.text.split(',')) if (w.trim()) items.push({ ...it, attr: w.trim(), text: w.trim() });
      } else items.push(it);
    }
    const children: Instr[] = [];
    const locals: DictAttr[] = [];
    const cursor: BlockCursor = { items, index: 0, children };
    let actions: Actions | undefined;
    let retry: RetryConfig | undefined;
    for (; cursor.index < items.length; cursor.index++) {
      const item = items[cursor.index];
      if (item.kind === 'section' && item.name1 === 'actions') {
        if (!allowActions) throw new CompileError(item.loc, '"actions" is not allowed in this section');
        if (cursor.index !== items.length - 1) throw new CompileError(item.loc, '"actions" must be the last item in a section');
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
      const ins = item.kind === 'section' ? this.compileSectionItem(item, ctx, cursor) : this.compilePair(item, ctx);
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

  /** `actions { rcode = action … retry { … } }` (also the body of `module { … }`). */
  parseActions(cs: ConfSection, base: Actions): { actions: Actions; retry?: RetryConfig } {
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
    else if (/^\d+$/.test(v) && +v >= 1 && +v <= 64) a = priority(+v);
    else throw new CompileError(p.loc, `Invalid action "${v}" for ${name} (expected 1-64, return, reject or retry)`);
    if (r !== undefined) actions[r] = a;
    else for (let i = 1; i < RCODE_COUNT; i++) actions[i] = a;
  }

  // ---------------------------------------------------------------- items

  /** The common fields of an instruction: trace name, location and the enclosing default actions. */
  base(name: string, loc: ConfLoc, ctx: Ctx, actions?: Actions): { name: string; loc: ConfLoc; actions: Actions } {
    return { name, loc, actions: actions ?? ctx.defaults };
  }

  private compileSectionItem(cs: ConfSection, ctx: Ctx, cursor: BlockCursor): Instr | null {
    if (cs.op !== undefined) return compileEditBlock(this, cs, ctx);
    const kw = KEYWORDS.get(cs.name1);
    if (kw?.section) return kw.section(cs, ctx, this, cursor);
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
        return compileEdit(this, { ...p, attr: m[1], op: m[2], value, quote }, ctx);
      }
      if (p.op === '') return this.compileWord(p, ctx);
    }
    if (EDIT_OPS.has(p.op)) return compileEdit(this, p, ctx);
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
    const kw = KEYWORDS.get(text);
    if (kw) {
      if (kw.word) return kw.word(p, ctx, this);
      throw new CompileError(p.loc, `"${text}" needs a section body { … }`);
    }
    return this.compileCall(text, p.loc, ctx, '');
  }

  /** A module, policy, virtual module or rcode word. Returns null for a missing `-optional` module. */
  private compileCall(word: string, loc: ConfLoc, ctx: Ctx, header: string): Instr | null {
    let name = word;
    const optional = name.startsWith('-');
    if (optional) name = name.slice(1);
    if (header) {
      // `swich User-Name { }`: a misspelt keyword reads better as such than as stray text.
      const known = rcodeFromName(name) !== undefined || this.opts.policies?.has(name) || this.opts.virtualModules?.has(name)
        || this.opts.modules?.(name.split('.')[0]!) !== undefined;
      if (!known && !KEYWORDS.has(name)) this.unknownWord(name, loc, ctx);
      throw new CompileError(loc, `Unexpected text "${header}" after "${word}"`);
    }
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
        return { ...compileBalance(vm, inner, this, kw, key, cand), loc } as Instr;
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
    this.unknownWord(name, loc, ctx);
  }

  /** `Unknown module, policy or keyword "papp"; did you mean "pap"?` */
  private unknownWord(name: string, loc: ConfLoc, ctx: Ctx): never {
    const candidates = new Set<string>([...KEYWORDS.keys(), ...RCODE_NAMES.filter((n) => n !== '')]);
    for (const n of this.opts.moduleNames?.() ?? []) candidates.add(n);
    for (const n of this.opts.policies?.keys() ?? []) if (!ctx.policies.includes(n)) candidates.add(n);
    for (const n of this.opts.virtualModules?.keys() ?? []) candidates.add(n);
    throw new CompileError(loc, `Unknown module, policy or keyword "${name}"${didYouMean(name, candidates)}`);
  }

  private compilePolicy(name: string, pol: ConfSection, loc: ConfLoc, ctx: Ctx): Instr {
    const inner: Ctx = { section: ctx.section, defaults: ctx.defaults, scope: new Scope(), loops: 0, breaks: 0, policies: [...ctx.policies, name] };
    const { block, actions, retry } = this.compileBlock(pol.children, inner, true);
    return { k: 'group', body: block, returnPoint: true, policy: true, name, loc, actions: actions ?? ctx.defaults, retry };
  }

  /** A `group`-like instruction: a block with its own action table. */
  groupInstr(cs: ConfSection, ctx: Ctx, name: string): Extract<Instr, { k: 'group' }> {
    if (cs.name1 === 'group' && cs.headerText && name === 'group') throw new CompileError(cs.loc, `Unexpected text "${cs.headerText}" after "group"`);
    const { block, actions, retry } = this.compileBlock(cs.children, ctx, true);
    return { k: 'group', body: block, name, loc: cs.loc, actions: actions ?? ctx.defaults, retry };
  }

  // ---------------------------------------------------------------- expressions

  /** An attribute reference or local variable, or undefined. */
  resolve(text: string, loc: ConfLoc, ctx: Ctx): ResolvedRef | undefined {
    return resolveRef(text, this.dict, ctx.scope, loc, (src) => this.parseExpr(src, loc, ctx, false));
  }

  /** A condition (`cond`) or value expression. `lenient`: an unknown bare word is a string. */
  parseExpr(text: string, loc: ConfLoc, ctx: Ctx, cond: boolean, lenient = false): Expr {
    const scope = {
      resolveAttr: (t: string, at: ConfLoc) => this.resolve(t, at, ctx),
      suggestAttr: (n: string) => this.dict.suggestName(n.replace(/^(request|reply|control|session-state)\./i, '')),
      xlats: this.xlats,
    };
    const p = new ExprParser(text, scope, loc);
    if (lenient) {
      try {
        return p.parse(cond);
      } catch (e) {
        if (e instanceof CompileError && /Unknown attribute "/.test(e.base) && /^[^\s"'%()]+$/.test(text)) {
          return { k: 'lit', box: box('string', text), raw: text };
        }
        throw e;
      }
    }
    return p.parse(cond);
  }

  /** Folds a condition that depends on nothing at run time into a constant. */
  fold(e: Expr): Expr {
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

  /** Casts a constant at compile time (a located error when it cannot be cast). */
  castConst(b: Box, t: BoxType, loc: ConfLoc): Box {
    try {
      return evalExpr({ k: 'cast', type: t, a: { k: 'lit', box: b } }, { request: new Request() })[0];
    } catch (e) {
      throw asCompileError(e, loc);
    }
  }

}

