import * as fs from 'node:fs';
import * as path from 'node:path';
import { sectionLabel, type ConfItem, type ConfLoc, type ConfPair, type ConfRoot, type ConfSection, type QuoteKind } from './ast';
import { ConfError } from './errors';
import { isIgnoredConfigFile, listConfigDir, resolveCaseInsensitive } from './include';
import { Lexer, normaliseSource, type Token } from './lexer';

/** Options of {@link parseConfigFile} and {@link parseConfigString}. */
export interface ParseOptions {
  /**
   * Base variable scope for `${name}` references that are not found in the tree (absolute
   * references only). `confdir` defaults to the absolute directory of the main file.
   */
  variables?: Record<string, string>;
  /** Source of `$ENV{NAME}`; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Top-level items whose relative values are made absolute against the main file's directory
   * as they are read (so `confdir = .` means the directory of `radiusd.conf`). Default `['confdir']`.
   */
  pathVariables?: string[];
  /** Maximum `$INCLUDE` nesting (default 32). */
  maxIncludeDepth?: number;
}

type MutSection = { -readonly [K in keyof ConfSection]: ConfSection[K] };

const QUOTE_KIND: Record<string, QuoteKind> = { single: 'single', double: 'double', back: 'back' };

function newSection(name1: string, loc: ConfLoc, extra: Partial<MutSection> = {}): MutSection {
  return { kind: 'section', name1, headerText: '', children: [], loc, ...extra };
}

/** Parse a configuration file (following `$INCLUDE`s). Throws {@link ConfError}. */
export function parseConfigFile(file: string, opts: ParseOptions = {}): ConfRoot {
  const resolved = resolveCaseInsensitive(file);
  if (resolved === undefined) {
    throw new ConfError('ERR_CONF_INCLUDE', { file, line: 0 }, 'configuration file not found');
  }
  let text: string;
  try {
    text = fs.readFileSync(resolved, 'utf8');
  } catch (e) {
    throw new ConfError('ERR_CONF_INCLUDE', { file: resolved, line: 0 }, `cannot read: ${(e as Error).message}`);
  }
  const p = new Parser(resolved, opts);
  p.files.push(resolved);
  return p.run(text);
}

/** Parse configuration text; `filename` names it in locations and anchors relative includes. Throws {@link ConfError}. */
export function parseConfigString(text: string, filename: string, opts: ParseOptions = {}): ConfRoot {
  return new Parser(filename, opts).run(text);
}

class Parser {
  readonly files: string[] = [];
  private readonly vars: Record<string, string>;
  private readonly env: Record<string, string | undefined>;
  private readonly pathVars: Set<string>;
  private readonly baseDir: string;
  private readonly maxDepth: number;
  private readonly active: string[] = [];

  constructor(private readonly mainFile: string, opts: ParseOptions) {
    this.baseDir = path.resolve(path.dirname(mainFile));
    this.vars = { confdir: this.baseDir, ...(opts.variables ?? {}) };
    this.env = opts.env ?? process.env;
    this.pathVars = new Set(opts.pathVariables ?? ['confdir']);
    this.maxDepth = opts.maxIncludeDepth ?? 32;
  }

  run(text: string): ConfRoot {
    const root = newSection('', { file: this.mainFile, line: 1 }) as MutSection & { files: string[] };
    root.files = this.files;
    this.active.push(path.resolve(this.mainFile));
    this.parseInto(text, this.mainFile, [root]);
    return root;
  }

  /** Parse `text` from `file`, appending to the innermost section of `stack`. */
  private parseInto(text: string, file: string, stack: MutSection[]): void {
    const lex = new Lexer(normaliseSource(text), file);
    const base = stack.length;
    let line: Token[] = [];
    // First '}' whose indentation differs from its section's header line: a hint for unbalanced braces.
    let suspect: { close: number; sec: MutSection } | undefined;
    for (;;) {
      const t = lex.next();
      switch (t.kind) {
        case 'nl':
        case 'eof':
          this.flush(line, lex, stack);
          line = [];
          break;
        case 'lbrace':
          this.openSection(line, t, lex, stack);
          line = [];
          break;
        case 'rbrace':
          this.flush(line, lex, stack);
          line = [];
          if (stack.length === base) {
            throw new ConfError('ERR_CONF_UNBALANCED', { file, line: t.line }, "unexpected '}': no section is open");
          }
          {
            const closed = stack.pop()!;
            if (!suspect && closed.loc.file === file && closed.loc.line !== t.line
              && lex.indentOf(closed.loc.line) !== lex.indentOf(t.line)) suspect = { close: t.line, sec: closed };
            applyTemplates(closed, stack[0]);
          }
          break;
        default:
          line.push(t);
      }
      if (t.kind === 'eof') break;
    }
    if (stack.length > base) {
      const open = stack[stack.length - 1];
      const label = sectionLabel(open);
      const s = suspect?.sec;
      const hint = s && s !== open
        ? ` (the '}' on line ${suspect!.close} is indented differently from "${sectionLabel(s)}" on line ${s.loc.line}; check there)`
        : '';
      throw new ConfError('ERR_CONF_UNBALANCED', open.loc, `section "${label}" is missing its closing '}'${hint}`);
    }
  }

  /**
   * Split a token run into statements at top-level `;`, and at `,` inside edit blocks (sections
   * with an operator, where `{ "a", "b" }` and `{ A = 1, B = 2 }` are lists). Elsewhere a comma
   * stays part of the value (`fields = a,,c`) except a trailing one, which is dropped.
   */
  private split(tokens: Token[], commas: boolean): Token[][] {
    const out: Token[][] = [];
    let cur: Token[] = [];
    const end = (): void => {
      if (!commas) while (cur.length && cur[cur.length - 1].kind === 'comma') cur.pop();
      if (cur.length) out.push(cur);
      cur = [];
    };
    for (const t of tokens) {
      if (t.kind === 'semi' || (commas && t.kind === 'comma')) end();
      else if (cur.length || t.kind !== 'comma' || commas) cur.push(t);
    }
    end();
    return out;
  }

  private flush(tokens: Token[], lex: Lexer, stack: MutSection[]): void {
    if (tokens.length === 0) return;
    const commas = stack[stack.length - 1].op !== undefined;
    for (const seg of this.split(tokens, commas)) this.statement(seg, lex, stack);
  }

  /** Raw text of a token run, with the original spacing. */
  private join(toks: Token[], lex: Lexer, map?: (t: Token) => string): string {
    let out = '';
    for (let i = 0; i < toks.length; i++) {
      if (i > 0) out += lex.gap(toks[i - 1].end, toks[i].start);
      out += map ? map(toks[i]) : toks[i].text;
    }
    return out;
  }

  private openSection(tokens: Token[], brace: Token, lex: Lexer, stack: MutSection[]): void {
    const file = lex.file;
    let header = tokens;
    if (tokens.some((t) => t.kind === 'comma' || t.kind === 'semi')) {
      const segs = this.split(tokens, stack[stack.length - 1].op !== undefined);
      if (segs.length > 1 && segs[0].length > 1 && segs[0][1].kind === 'op') {
        for (const s of segs.slice(0, -1)) this.statement(s, lex, stack);
        header = segs[segs.length - 1];
      }
    }
    if (header.length === 0 || header[0].kind === 'comma' || header[0].kind === 'semi') {
      throw new ConfError('ERR_CONF_SYNTAX', { file, line: brace.line }, "expected a section name before '{'");
    }
    const t0 = header[0];
    const loc = { file, line: t0.line };
    if (t0.kind === 'op') {
      throw new ConfError('ERR_CONF_SYNTAX', loc, `unexpected operator "${t0.text}" before '{'`);
    }
    if (t0.kind === 'word' && t0.text.startsWith('$') && !t0.text.startsWith('${') && !t0.text.startsWith('$ENV{')) {
      throw new ConfError('ERR_CONF_SYNTAX', loc, `unexpected '{' after ${t0.text}`);
    }
    let name1 = t0.kind === 'word' || t0.kind === 'group' ? t0.text : t0.value ?? t0.text;
    // `${…}` and `$ENV{…}` are expanded in section headers too (`if ("${feature.tls}" == no) {`).
    let headerText = this.joinExpanded(header.slice(1), lex, loc, stack);
    const rest = header.slice(1);
    // `if(a == b) {` without a space: split the keyword from the group.
    const m = t0.kind === 'word' ? /^([A-Za-z][\w-]*)(\(.*)$/s.exec(t0.text) : null;
    if (m) {
      name1 = m[1];
      headerText = rest.length ? `${m[2]}${lex.gap(t0.end, rest[0].start)}${headerText}` : m[2];
    }
    const sec = newSection(name1, loc, { headerText: headerText.trim() });
    if (!m && rest.length > 0) {
      const t1 = rest[0];
      if (t1.kind === 'op') {
        if (rest.length > 1) {
          throw new ConfError('ERR_CONF_SYNTAX', { file, line: rest[1].line },
            `unexpected "${rest[1].text}" between "${t1.text}" and '{'`);
        }
        sec.op = t1.text;
      } else if (t1.kind === 'word' && (t1.text === '|' || t1.text === '&') && rest.length === 2
        && rest[1].kind === 'op' && rest[1].text === '=' && rest[1].start === t1.end) {
        // The list union and intersection edits (`reply |= { … }`, `reply &= { … }`): the lexer
        // gives `|`/`&` then `=`, as no configuration operator starts with those characters.
        sec.op = `${t1.text}=`;
      } else if (t1.kind === 'word' && !t1.text.startsWith('(') && !t1.text.startsWith('!')) {
        sec.name2 = t1.text;
        sec.name2Quote = 'bare';
      } else if (t1.kind === 'single' || t1.kind === 'double' || t1.kind === 'back') {
        sec.name2 = t1.value;
        sec.name2Quote = QUOTE_KIND[t1.kind];
      }
    }
    stack[stack.length - 1].children.push(sec);
    stack.push(sec);
  }

  private statement(seg: Token[], lex: Lexer, stack: MutSection[]): void {
    const file = lex.file;
    const t0 = seg[0];
    const loc: ConfLoc = { file, line: t0.line };
    const text = this.join(seg, lex);
    if (t0.kind === 'word' && t0.text.startsWith('$') && !t0.text.startsWith('${') && !t0.text.startsWith('$ENV{')) {
      this.directive(t0.text, seg.slice(1), loc, lex, stack);
      return;
    }
    if (t0.kind === 'op') {
      throw new ConfError('ERR_CONF_SYNTAX', loc, `unexpected operator "${t0.text}" at the start of a statement`);
    }
    const cur = stack[stack.length - 1];
    if (seg.length >= 2 && seg[1].kind === 'op') {
      const op = seg[1].text;
      const vt = seg.slice(2);
      if (vt.length === 0) {
        throw new ConfError('ERR_CONF_SYNTAX', loc, `expected a value after "${t0.text} ${op}"`);
      }
      // `name = ${a.b.section}`: FreeRADIUS copies the referenced section in under this name
      // (`redis = ${modules.redis_ippool.redis}`).
      const whole = vt.length === 1 && vt[0].kind === 'word' && op === '=' ? /^\$\{([^{}$]+)\}$/.exec(vt[0].text) : null;
      const ref = whole ? this.sectionRef(whole[1], stack) : undefined;
      if (ref) {
        cur.children.push({ ...ref, name1: t0.text, name2: undefined, headerText: '', children: [...ref.children], loc });
        return;
      }
      let value: string;
      let quote: QuoteKind;
      if (vt.length === 1 && (vt[0].kind === 'single' || vt[0].kind === 'double' || vt[0].kind === 'back')) {
        quote = QUOTE_KIND[vt[0].kind];
        // Back-quoted text has `${…}` and `$ENV{…}` expanded as double-quoted text has (FreeRADIUS).
        value = quote === 'double' || quote === 'back' ? this.expand(vt[0].value!, loc, stack, true) : vt[0].value!;
      } else {
        quote = 'bare';
        value = this.join(vt, lex, (t) => {
          if (t.kind === 'word' || t.kind === 'group') return this.expand(t.text, loc, stack, false);
          if (t.kind === 'double') return `"${this.expand(t.value!, loc, stack, true)}"`;
          if (t.kind === 'back') return `\`${this.expand(t.value!, loc, stack, true)}\``;
          return t.text;
        });
      }
      if (stack.length === 1 && this.pathVars.has(t0.text) && quote !== 'back' && value !== '' && !path.isAbsolute(value)) {
        value = path.resolve(this.baseDir, value);
      }
      const pair: ConfPair = { kind: 'pair', attr: t0.text, op, value, quote, text, loc };
      cur.children.push(pair);
      return;
    }
    // A bare statement (`%file.rm("$ENV{DIR}/x")`, a module call): references expanded as in values.
    const attr = text.includes('$') ? this.joinExpanded(seg, lex, loc, stack) : text;
    cur.children.push({ kind: 'pair', attr, op: '', value: undefined, quote: 'none', text: attr, loc });
  }

  /** Tokens joined with `${…}` and `$ENV{…}` expanded in words, groups and double-quoted strings. */
  private joinExpanded(toks: Token[], lex: Lexer, loc: ConfLoc, stack: MutSection[]): string {
    return this.join(toks, lex, (t) => {
      if (!t.text.includes('$')) return t.text;
      // Inside a condition or a function call, `$ENV{X}` is a value: it becomes a quoted string.
      if (t.kind === 'word' || t.kind === 'group') return this.expand(t.text, loc, stack, false, t.kind === 'group' || t.text.includes('('));
      if (t.kind === 'double') return `"${this.expand(t.value!, loc, stack, true)}"`;
      if (t.kind === 'back') return `\`${this.expand(t.value!, loc, stack, true)}\``;
      return t.text;
    });
  }

  private directive(name: string, args: Token[], loc: ConfLoc, lex: Lexer, stack: MutSection[]): void {
    const upper = name.toUpperCase();
    if (upper === '$TEMPLATE') {
      if (args.length !== 1) throw new ConfError('ERR_CONF_SYNTAX', loc, '$TEMPLATE expects one name');
      stack[stack.length - 1].children.push({
        kind: 'pair', attr: '$TEMPLATE', op: '', value: args[0].value ?? args[0].text, quote: 'bare',
        text: `${name} ${args[0].text}`, loc,
      });
      return;
    }
    const optional = upper === '$-INCLUDE' || upper === '$INCLUDE-';
    if (upper !== '$INCLUDE' && !optional) {
      throw new ConfError('ERR_CONF_SYNTAX', loc, `unknown directive "${name}"`);
    }
    if (args.length === 0) throw new ConfError('ERR_CONF_SYNTAX', loc, `${name} expects a file or directory name`);
    let target: string;
    if (args.length === 1 && (args[0].kind === 'single' || args[0].kind === 'double')) {
      target = args[0].kind === 'double' ? this.expand(args[0].value!, loc, stack, true) : args[0].value!;
    } else {
      target = this.expand(this.join(args, lex), loc, stack, false);
    }
    this.include(target, optional, loc, stack);
  }

  private include(target: string, optional: boolean, loc: ConfLoc, stack: MutSection[]): void {
    if (this.active.length > this.maxDepth) {
      throw new ConfError('ERR_CONF_INCLUDE', loc, `includes nested more than ${this.maxDepth} deep`);
    }
    const full = path.isAbsolute(target) ? target : path.join(path.dirname(loc.file), target);
    const found = resolveCaseInsensitive(full);
    if (found === undefined) {
      if (optional) return;
      throw new ConfError('ERR_CONF_INCLUDE', loc, `cannot include "${target}": no such file or directory`);
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(found);
    } catch (e) {
      throw new ConfError('ERR_CONF_INCLUDE', loc, `cannot include "${target}": ${(e as Error).message}`);
    }
    if (st.isDirectory()) {
      this.includeDir(found, loc, stack);
      return;
    }
    this.includeFile(found, loc, stack);
  }

  private includeFile(file: string, loc: ConfLoc, stack: MutSection[]): void {
    const abs = path.resolve(file);
    if (this.active.includes(abs)) {
      throw new ConfError('ERR_CONF_INCLUDE', loc, `include loop: "${file}" is already being read`);
    }
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfError('ERR_CONF_INCLUDE', loc, `cannot read "${file}": ${(e as Error).message}`);
    }
    this.files.push(file);
    this.active.push(abs);
    try {
      this.parseInto(text, file, stack);
    } finally {
      this.active.pop();
    }
  }

  /**
   * Directory include: regular files in sorted order, skipping ignored names. A file named
   * `default` (any case) is read first and not added itself; it supplies defaults to the
   * top-level sections of every sibling file (see {@link applyDefaults}).
   */
  private includeDir(dir: string, loc: ConfLoc, stack: MutSection[]): void {
    let names: string[];
    try {
      names = listConfigDir(dir);
    } catch (e) {
      throw new ConfError('ERR_CONF_INCLUDE', loc, `cannot read directory "${dir}": ${(e as Error).message}`);
    }
    const defName = names.find((n) => n.toLowerCase() === 'default');
    let defaults: ConfItem[] | undefined;
    if (defName !== undefined) {
      const holder = newSection('', loc);
      this.includeFile(path.join(dir, defName), loc, [...stack, holder]);
      defaults = holder.children;
    }
    const cur = stack[stack.length - 1];
    for (const name of names) {
      if (name === defName || isIgnoredConfigFile(name)) continue;
      const before = cur.children.length;
      this.includeFile(path.join(dir, name), loc, stack);
      if (!defaults) continue;
      for (const item of cur.children.slice(before)) {
        if (item.kind === 'section') applyDefaults(item as MutSection, defaults);
      }
    }
  }

  /** Expand `${…}` and `$ENV{…}` in `text`; outside double quotes, single-quoted parts are left alone. */
  private expand(text: string, loc: ConfLoc, stack: MutSection[], inDouble: boolean, envQuote = false): string {
    if (!text.includes('$')) return text;
    let out = '';
    let i = 0;
    let quote: string | undefined;
    while (i < text.length) {
      const c = text[i];
      if (c === '\\') {
        out += text.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (!inDouble && (c === "'" || c === '"' || c === '`')) {
        if (quote === undefined) quote = c;
        else if (quote === c) quote = undefined;
      }
      // Inside a condition or a function call (`envQuote`), FreeRADIUS expands `$ENV{X}` in a
      // single-quoted argument too (`%exec('tool', '$ENV{SERVER}:30001')`): the value, escaped for the quotes.
      if (c === '$' && envQuote && quote === "'" && text.startsWith('ENV{', i + 1)) {
        const end = text.indexOf('}', i + 5);
        if (end > 0) {
          out += (this.env[text.slice(i + 5, end)] ?? '').replace(/[\\']/g, '\\$&');
          i = end + 1;
          continue;
        }
      }
      if (c === '$' && quote !== "'" && quote !== '`') {
        if (text[i + 1] === '{') {
          const end = text.indexOf('}', i + 2);
          if (end < 0) throw new ConfError('ERR_CONF_REF', loc, `unterminated reference "${text.slice(i)}"`);
          out += this.resolveRef(text.slice(i + 2, end), loc, stack);
          i = end + 1;
          continue;
        }
        if (text.startsWith('ENV{', i + 1)) {
          const end = text.indexOf('}', i + 5);
          if (end < 0) throw new ConfError('ERR_CONF_REF', loc, `unterminated reference "${text.slice(i)}"`);
          const name = text.slice(i + 5, end);
          const v = this.env[name];
          // In a double-quoted string a missing variable is the empty string; bare, it is an error.
          if (v === undefined && !(inDouble || quote === '"')) throw new ConfError('ERR_CONF_REF', loc, `environment variable "${name}" is not set`);
          out += envQuote && quote === undefined ? `'${(v ?? '').replace(/[\\']/g, '\\$&')}'` : v ?? '';
          i = end + 1;
          continue;
        }
      }
      out += c;
      i++;
    }
    return out;
  }

  /** The section a whole-value `${ref}` names (absolute, or relative with leading dots), if it names one. */
  private sectionRef(ref: string, stack: MutSection[]): ConfSection | undefined {
    let from: ConfSection = stack[0];
    let rest = ref;
    if (ref.startsWith('.')) {
      let dots = 0;
      while (rest.startsWith('.')) { dots++; rest = rest.slice(1); }
      if (stack.length - dots < 0) return undefined;
      from = stack[stack.length - dots];
    }
    if (!rest) return undefined;
    const found = lookup(from, rest);
    return found?.kind === 'section' ? found : undefined;
  }

  /** Resolve one `${ref}` (without the `${ }`). */
  private resolveRef(ref: string, loc: ConfLoc, stack: MutSection[]): string {
    const bad = (why: string): never => {
      throw new ConfError('ERR_CONF_REF', loc, `reference "\${${ref}}" ${why}`);
    };
    if (ref === '') return bad('is empty');
    // `${.:name}` / `${..:name}`: the name of this section (or of the one above), `:instance` its second name.
    const meta = /^(\.+):(name|instance)$/.exec(ref);
    if (meta) {
      const sec = stack[stack.length - meta[1].length];
      if (!sec || stack.length - meta[1].length < 1) return bad('goes above the top of the configuration');
      return meta[2] === 'name' ? sec.name1 : sec.name2 ?? sec.name1;
    }
    let from: ConfSection;
    let rest = ref;
    if (ref.startsWith('.')) {
      let dots = 0;
      while (rest.startsWith('.')) { dots++; rest = rest.slice(1); }
      const idx = stack.length - dots;
      if (idx < 0) return bad('goes above the top of the configuration');
      from = stack[idx];
    } else {
      // A plain name is looked up in the current section first (`${dialect}` beside `dialect = …`), then from the top.
      const here = stack.length > 1 ? lookup(stack[stack.length - 1], rest) : undefined;
      if (here !== undefined && here.kind === 'pair' && here.value !== undefined) return here.value;
      from = stack[0];
    }
    const found = lookup(from, rest);
    if (found !== undefined) {
      if (found.kind === 'section') return bad('names a section, not a value');
      if (found.value === undefined) return bad('names an item without a value');
      return found.value;
    }
    if (!ref.startsWith('.') && Object.prototype.hasOwnProperty.call(this.vars, ref)) return this.vars[ref];
    // The server's built-in `feature` section, as FreeRADIUS provides it (`${feature.tls}`).
    if (ref.startsWith('feature.') && Object.prototype.hasOwnProperty.call(FEATURES, ref.slice(8))) return FEATURES[ref.slice(8)];
    return bad('is not defined (references must name an item defined earlier)');
  }
}

/** What `${feature.<name>}` gives when the configuration does not define it: what this server has. */
const FEATURES: Readonly<Record<string, string>> = { tls: 'yes' };

/** Find `a.b[name2].c` below `cs`: sections by name1 (and name2), the last part a pair. Dotted pair names also match. */
function lookup(cs: ConfSection, ref: string): ConfItem | undefined {
  if (ref === '') return cs;
  const whole = cs.children.find((c) => c.kind === 'pair' && c.op !== '' && c.attr === ref);
  if (whole) return whole;
  const m = /^([^.[]+)(?:\[([^\]]*)\])?(?:\.(.*))?$/s.exec(ref);
  if (!m) return undefined;
  const [, name1, name2, tail] = m;
  if (tail === undefined && name2 === undefined) {
    return cs.children.find((c) => c.kind === 'section' && c.name1 === name1);
  }
  const secs = cs.children.filter(
    (c): c is ConfSection => c.kind === 'section' && c.name1 === name1 && (name2 === undefined || c.name2 === name2),
  );
  for (const s of secs) {
    const hit = lookup(s, tail ?? '');
    if (hit) return hit;
  }
  return undefined;
}

/**
 * `default` file inheritance. A sibling's top-level section inherits each default item it does
 * not have itself (pairs compared by `attr`, sections by `name1`+`name2`):
 * - top-level sections of the default file are templates: a sibling section inherits the children
 *   of the template with the same `name1` (`client default { secret = x }` for `client foo { … }`);
 *   templates of other names are not applied;
 * - top-level pairs of the default file are inherited by every sibling section.
 * Inherited items keep their own location (the default file) and come first, in default-file order.
 */
/**
 * `$TEMPLATE name` in a section: when the top level has `templates { name { … } }`, the section
 * inherits the template's items it does not have itself (as for `default` files) and the
 * `$TEMPLATE` pair is dropped. Without such a template the pair stays in the tree.
 */
function applyTemplates(sec: MutSection, root: ConfSection): void {
  if (!sec.children.some((c) => c.kind === 'pair' && c.attr === '$TEMPLATE')) return;
  const templates = root.children.find((c): c is ConfSection => c.kind === 'section' && c.name1 === 'templates');
  if (!templates) return;
  const kept: ConfItem[] = [];
  const used: ConfSection[] = [];
  for (const c of sec.children) {
    if (c.kind === 'pair' && c.attr === '$TEMPLATE') {
      const t = templates.children.find((x): x is ConfSection => x.kind === 'section' && x.name1 === c.value);
      if (t) { used.push(t); continue; }
    }
    kept.push(c);
  }
  sec.children = kept;
  for (const t of used) applyDefaults(sec, t.children);
}

function applyDefaults(sec: MutSection, defaults: ConfItem[]): void {
  const inherited: ConfItem[] = [];
  const has = (d: ConfItem): boolean =>
    sec.children.some((c) =>
      d.kind === 'pair'
        ? c.kind === 'pair' && c.attr === d.attr
        : c.kind === 'section' && c.name1 === d.name1 && c.name2 === d.name2);
  const add = (d: ConfItem): void => {
    if (!has(d) && !inherited.some((i) => i.kind === d.kind && (i.kind === 'pair' ? i.attr === (d as ConfPair).attr
      : i.name1 === (d as ConfSection).name1 && i.name2 === (d as ConfSection).name2))) inherited.push(d);
  };
  for (const d of defaults) {
    if (d.kind === 'section') {
      if (d.name1 === sec.name1) for (const dc of d.children) add(dc);
    } else add(d);
  }
  if (inherited.length) sec.children.unshift(...inherited);
}
