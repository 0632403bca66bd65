/**
 * Parser for unlang expressions: conditions (`if (…)`), edit right-hand sides,
 * `%{…}` expansions, function arguments and double-quoted strings.
 *
 * Precedence, loosest first (C order): `||`, `&&`, `|`, `^`, `&`,
 * `== != =~ !~`, `< <= > >=`, `<< >>`, `+ -`, `* / %`, then unary `! - ~` and
 * casts `(type)`.
 *
 * Bare words are attribute references when they resolve, literals when they
 * look like one (numbers, addresses, `0x…`, `::Enum`), and otherwise an error
 * (unless they end up typed by the other side of a comparison, e.g. an enum
 * name). Literals stay re-typeable until the compiler knows the type wanted.
 */

import { didYouMean, suggest } from '../../types/suggest';
import type { ConfLoc } from '../../config/ast';
import { RCODE_NAMES } from '../rcode';
import { type Box, type BoxType, BoxError, TYPE_ALIASES, box, boxToString, castBox, inferLiteral, parseBox } from '../xlat/box';
import type { XlatRegistry } from '../xlat/registry';
import { CompileError } from './errors';
import { runProgram, splitCommand } from '../../exec/program';
import type { AttrRef, Expr } from './types';

/** What the expression parser needs from the compiler. */
export interface ExprScope {
  /**
   * Resolves attribute-reference text. Returns undefined when the first name is
   * unknown (so the word may be a literal); throws CompileError for a malformed
   * or partly unknown reference. `at` locates errors.
   */
  resolveAttr(text: string, at: ConfLoc): { ref: AttrRef; t?: BoxType; da?: import('../../dict/attr').DictAttr } | undefined;
  readonly xlats: XlatRegistry;
  /** The closest known attribute name to a misspelt one (for did-you-mean), if any. */
  suggestAttr?(name: string): string | undefined;
  /**
   * A name that resolves to nothing here, as an expression resolved when it runs (module `env`
   * templates: a local variable of the calling policy), or undefined to leave it unknown.
   */
  unresolvedRef?(name: string, at: ConfLoc): Expr | undefined;
}

type Lit = Extract<Expr, { k: 'lit' }> & { unresolved?: number };

const PREC: Record<string, number> = {
  '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5,
  '==': 6, '!=': 6, '=~': 6, '!~': 6,
  '<': 7, '<=': 7, '>': 7, '>=': 7,
  '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
};

const TWO_CHAR_OPS = ['||', '&&', '==', '!=', '=~', '!~', '<=', '>=', '<<', '>>'];
const ONE_CHAR_OPS = '<>+-*/%&|^';

const isIdent = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Static type of an expression, when known. */
export function typeOf(e: Expr): BoxType | undefined {
  switch (e.k) {
    case 'lit': return e.box.type;
    case 'str': return 'string';
    case 'cmp': case 'regex': case 'not': case 'exists': case 'rcode': return 'bool';
    default: return e.t;
  }
}

/** True when `e` is a literal that can still be parsed as another type. */
export function isRetypable(e: Expr): boolean {
  return e.k === 'lit' && e.raw !== undefined;
}

/** Parses one expression (or condition) from source text. */
export class ExprParser {
  private pos = 0;
  private lenient = 0;

  constructor(
    private readonly src: string,
    private readonly scope: ExprScope,
    private readonly loc: ConfLoc,
  ) {}

  /** Location of the current position (line advanced by newlines seen). */
  private here(at = this.pos): ConfLoc {
    let line = this.loc.line;
    for (let i = 0; i < at && i < this.src.length; i++) if (this.src.charCodeAt(i) === 10) line++;
    return { file: this.loc.file, line };
  }

  private fail(msg: string, at = this.pos, hint?: () => string): never {
    throw new CompileError(this.here(at), msg, hint);
  }

  /** Parses the whole text as an expression; `cond` turns bare references into existence tests. */
  parse(cond: boolean): Expr {
    this.skipWs();
    if (this.pos >= this.src.length) this.fail('Expected an expression');
    let e = this.parseBinary(0);
    this.skipWs();
    if (this.pos < this.src.length) this.fail(`Unexpected text "${this.src.slice(this.pos, this.pos + 20)}" in expression`);
    if (cond) e = toCondition(e);
    this.checkResolved(e);
    return e;
  }

  /** Parses a list of comma-separated expressions (function-argument style) until the end. */
  parseList(): Expr[] {
    const out: Expr[] = [];
    this.skipWs();
    while (this.pos < this.src.length) {
      out.push(this.parseBinary(0));
      this.skipWs();
      if (this.src[this.pos] === ',') { this.pos++; this.skipWs(); continue; }
      if (this.pos < this.src.length) this.fail(`Unexpected text "${this.src.slice(this.pos, this.pos + 20)}"`);
    }
    for (const e of out) this.checkResolved(e);
    return out;
  }

  /** Parses the text as the body of a double-quoted string (no surrounding quotes). */
  parseTemplateBody(): Expr {
    const e = this.parseDq(true);
    this.checkResolved(e);
    return e;
  }

  /**
   * A constant argument checked against the type the function declares (`XlatOptions.args`): an
   * unquoted word that reads as another type (`%str.rand(8h)`: the time 8 hours, not the text
   * "8h") or a constant that cannot be that type is a compile error, not an empty result at run
   * time. A constant that parses is passed already typed.
   */
  private checkArg(fn: string, i: number, t: BoxType, a: Expr, at: number): Expr {
    if (a.k !== 'lit') return a;
    const raw = a.raw;
    const n = i + 1;
    if (t === 'string') {
      if (raw !== undefined && a.box.type !== 'string' && boxToString(a.box) !== raw) {
        this.fail(`%${fn}() argument ${n}: the unquoted ${raw} reads as a ${a.box.type} (${boxToString(a.box)}), not the text the function expects; quote it: '${raw}'`, at);
      }
      return a;
    }
    if (a.box.type === t) return a;
    const text = raw ?? (a.box.type === 'string' ? String(a.box.value) : boxToString(a.box));
    try {
      return { k: 'lit', box: parseBox(t, text) };
    } catch (err) {
      this.fail(`%${fn}() argument ${n}: "${text}" is not a valid ${t} (${(err as Error).message})`, at);
    }
  }

  private hint(name: string | undefined): string {
    return name ? `; did you mean "${name}"?` : '';
  }

  private checkResolved(e: Expr): void {
    walk(e, (n) => {
      const u = (n as Lit).unresolved;
      if (n.k === 'lit' && u !== undefined) this.fail(`Unknown attribute "${n.raw}"`, u, () => this.hint(this.scope.suggestAttr?.(n.raw!)));
    });
  }

  private skipWs(): void {
    const s = this.src;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.pos++;
      else if (c === 92 && (s[this.pos + 1] === '\n' || s[this.pos + 1] === '\r')) this.pos += 2;
      else break;
    }
  }

  private peekOp(): string | undefined {
    const s = this.src;
    const two = s.substr(this.pos, 2);
    if (TWO_CHAR_OPS.includes(two)) {
      // `<<=`, `>>=` and friends are assignment operators, not part of an expression.
      if ((two === '<<' || two === '>>') && s[this.pos + 2] === '=') return undefined;
      return two;
    }
    const c = s[this.pos];
    if (c !== undefined && ONE_CHAR_OPS.includes(c)) {
      if (s[this.pos + 1] === '=' ) return undefined;
      return c;
    }
    return undefined;
  }

  private parseBinary(minPrec: number): Expr {
    let left = this.parseUnary();
    for (;;) {
      this.skipWs();
      const op = this.peekOp();
      if (!op) break;
      const prec = PREC[op];
      if (prec < minPrec) break;
      const opAt = this.pos;
      this.pos += op.length;
      if (op === '=~' || op === '!~') {
        left = this.parseRegexRhs(left, op === '!~');
        continue;
      }
      const right = this.parseBinary(prec + 1);
      left = this.combine(op, left, right, opAt);
    }
    return left;
  }

  private combine(op: string, a: Expr, b: Expr, at: number): Expr {
    switch (op) {
      case '&&': return { k: 'and', a, b };
      case '||': return { k: 'or', a, b, t: sameType(a, b) };
      case '==': case '!=': case '<': case '<=': case '>': case '>=': {
        [a, b] = this.unify(a, b, at);
        return { k: 'cmp', op, a, b, t: 'bool' };
      }
      default: {
        const ta = typeOf(a);
        const tb = typeOf(b);
        void tb;
        const t: BoxType | undefined = (op === '+' || op === '-') && (ta === 'string' || ta === 'octets') ? ta : undefined;
        return { k: 'bin', op: op as never, a, b, t };
      }
    }
  }

  /** Types literals on one side of a comparison from the other side. */
  private unify(a: Expr, b: Expr, at: number): [Expr, Expr] {
    const strong = (e: Expr) => (e.k === 'ref' || e.k === 'cast' || e.k === 'call' ? typeOf(e) : undefined);
    const strongA = strong(a);
    const strongB = strong(b);
    if (strongA && strongA !== 'group' && isRetypable(b)) b = this.retype(b, strongA, daOf(a), at);
    else if (strongB && strongB !== 'group' && isRetypable(a)) a = this.retype(a, strongB, daOf(b), at);
    return [a, b];
  }

  /** Parses a re-typeable literal as `t` (enum names via `da`); a compile error when it does not parse. */
  retype(e: Expr, t: BoxType, da: import('../../dict/attr').DictAttr | undefined, at: number): Expr {
    if (e.k !== 'lit' || e.raw === undefined) return e;
    if (t === 'bool' && e.box.type !== 'string') return e;
    // A prefix compared with an address stays a prefix (`Framed-IP-Address < 10.0.0.0/8`).
    if ((e.box.type === 'ipv4prefix' || e.box.type === 'ipv6prefix') && (t === 'ipaddr' || t === 'ipv6addr' || t === 'combo-ip')) return e;
    try {
      const raw = e.raw;
      let b: Box;
      if (e.box.type !== 'string' && e.box.type !== t && !raw.startsWith('::') && t !== 'string') {
        // Already a typed literal (e.g. 0x… octets): cast rather than re-parse when parsing fails.
        try { b = parseBox(t, raw, da); } catch { b = castBox(e.box, t, da); }
      } else {
        b = parseBox(t, raw, da);
      }
      return { k: 'lit', box: b };
    } catch (err) {
      const u = (e as Lit).unresolved;
      if (u !== undefined) this.fail(`Unknown attribute or value "${e.raw}"`, u, () => this.hint(da?.values ? suggestEnum(da, e.raw!) : this.scope.suggestAttr?.(e.raw!)));
      this.fail(`Failed parsing "${e.raw}" as type '${t}': ${(err as Error).message}`, at);
    }
  }

  private parseUnary(): Expr {
    this.skipWs();
    const s = this.src;
    const c = s[this.pos];
    if (c === '!' && s[this.pos + 1] !== '=' && s[this.pos + 1] !== '~') {
      this.pos++;
      return { k: 'not', a: this.parseUnary() };
    }
    if (c === '-' && s[this.pos + 1] !== '=') {
      this.pos++;
      if (/[0-9]/.test(s[this.pos] ?? '')) {
        const w = this.parseWord();
        if (w.k === 'lit' && w.raw !== undefined) {
          const v = inferLiteral('-' + w.raw);
          if (v) return { k: 'lit', box: v, raw: '-' + w.raw };
        }
        return { k: 'neg', a: w };
      }
      const a = this.parseUnary();
      return { k: 'neg', a };
    }
    if (c === '~') {
      this.pos++;
      const a = this.parseUnary();
      return { k: 'inv', a, t: typeOf(a) };
    }
    if (c === '(') {
      const m = /^\(\s*([a-z][a-z0-9_-]*)\s*\)/i.exec(s.slice(this.pos, this.pos + 40));
      if (m && TYPE_ALIASES[m[1].toLowerCase()] !== undefined && !this.scope.resolveAttr(m[1], this.here())) {
        this.pos += m[0].length;
        const type = TYPE_ALIASES[m[1].toLowerCase()];
        const at = this.pos;
        const a = this.parseUnary();
        if (a.k === 'lit' && type !== 'group') {
          try {
            if (a.raw !== undefined && a.box.type === 'string') return { k: 'lit', box: parseBox(type, a.raw) };
            return { k: 'lit', box: castBox(a.box, type) };
          } catch (err) {
            this.fail(`Cannot cast to ${type}: ${(err as Error).message}`, at);
          }
        }
        return { k: 'cast', type, a, t: type };
      }
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    this.skipWs();
    const s = this.src;
    const c = s[this.pos];
    switch (c) {
      case undefined: this.fail('Expected an operand, got end of expression');
      // falls through (fail never returns)
      case '(': {
        this.pos++;
        const e = this.parseBinary(0);
        this.skipWs();
        if (s[this.pos] !== ')') this.fail('Expected ")"');
        this.pos++;
        return e;
      }
      case '"': this.pos++; return this.parseDq(false);
      case '`': return this.parseBacktick();
      case "'": return this.parseSq();
      case '%': return this.parsePercent();
      case '/': this.fail('Unexpected regular expression (only allowed after =~ or !~)');
      // falls through
      case '&':
        if (/[A-Za-z]/.test(s[this.pos + 1] ?? '')) { this.pos++; return this.parseWord(); }
        this.fail('Unexpected "&"');
      // falls through
      default:
        if (/[A-Za-z0-9_:.@]/.test(c)) return this.parseWord();
        this.fail(`Unexpected "${c}"`);
    }
  }

  /** Reads a bare word (attribute reference or literal), including `[…]` indexes. */
  private readWord(): string {
    const s = this.src;
    const start = this.pos;
    const first = s[start];
    const slashOk = /[0-9:]/.test(first);
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (/[A-Za-z0-9_:.@]/.test(c)) { this.pos++; continue; }
      if (c === '-' && this.pos > start && isIdent(s[this.pos + 1])) { this.pos++; continue; }
      if (c === '/' && slashOk && /[0-9]/.test(s[this.pos + 1] ?? '')) { this.pos++; continue; }
      if (c === '[') {
        let depth = 0;
        while (this.pos < s.length) {
          const d = s[this.pos];
          if (d === '[') depth++;
          else if (d === ']') { depth--; if (depth === 0) { this.pos++; break; } }
          else if (d === '"' || d === "'") { this.skipQuoted(d); continue; }
          this.pos++;
        }
        if (depth !== 0) this.fail('Missing "]" in attribute index', start);
        continue;
      }
      break;
    }
    return s.slice(start, this.pos);
  }

  private skipQuoted(q: string): void {
    const s = this.src;
    this.pos++;
    while (this.pos < s.length && s[this.pos] !== q) this.pos += s[this.pos] === '\\' ? 2 : 1;
    this.pos++;
  }

  private parseWord(): Expr {
    const at = this.pos;
    const text = this.readWord();
    if (text === '') this.fail('Expected a word');
    const lit = inferLiteral(text);
    if (lit) return { k: 'lit', box: lit, raw: text };
    if (text.startsWith('::')) return { k: 'lit', box: box('string', text.slice(2)), raw: text };
    const lower = text.toLowerCase();
    const r = this.scope.resolveAttr(text, this.here(at));
    if (r) {
      return { k: 'ref', ref: r.ref, t: r.t, da: r.da };
    }
    if (RCODE_NAMES.includes(lower) && lower !== '') return { k: 'rcode', r: RCODE_NAMES.indexOf(lower), t: 'bool' };
    const late = this.lenient ? undefined : this.scope.unresolvedRef?.(text, this.here(at));
    if (late) return late;
    const l: Lit = { k: 'lit', box: box('string', text), raw: text };
    if (!this.lenient) l.unresolved = at;
    return l;
  }

  private parseSq(): Expr {
    const s = this.src;
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= s.length) this.fail('Unterminated single-quoted string', start);
      const c = s[this.pos];
      if (c === "'") { this.pos++; break; }
      if (c === '\\') {
        const n = s[this.pos + 1];
        if (n === "'" || n === '\\') { out += n; this.pos += 2; continue; }
        if (n === '\n') { this.pos += 2; continue; }
        if (n === '\r' && s[this.pos + 2] === '\n') { this.pos += 3; continue; }
      }
      out += c;
      this.pos++;
    }
    return { k: 'lit', box: box('string', out), raw: out };
  }

  /**
   * Parses a back-quoted string: a program run when the expression is evaluated, its standard output
   * (trailing newlines removed) the value, as in FreeRADIUS. The text is split into words first and
   * each word is expanded on its own, so an expanded value with blanks stays one argument and no
   * shell ever sees it. A program that cannot run, runs over 10 s or exits non-zero fails the expansion.
   */
  private parseBacktick(): Expr {
    const at = this.pos;
    this.pos++;
    this.parseDq(false, '`');
    const text = this.src.slice(at + 1, this.pos - 1);
    let words: string[];
    try {
      words = splitCommand(text);
    } catch (e) {
      this.fail(`Invalid command \`${text}\`: ${(e as Error).message}`, at);
    }
    if (words.length === 0) this.fail('Empty command in back-quoted string', at);
    const args = words.map((w) => new ExprParser(w, this.scope, this.here(at)).parseTemplateBody());
    return { k: 'call', name: 'exec', fn: runBackticks, args, t: 'string' };
  }

  /** Parses a double-quoted string (opening quote consumed unless `body`). */
  private parseDq(body: boolean, quote = '"'): Expr {
    const s = this.src;
    const start = this.pos;
    const parts: (string | Expr)[] = [];
    let buf = '';
    for (;;) {
      if (this.pos >= s.length) {
        if (body) break;
        this.fail('Unterminated double-quoted string', start);
      }
      const c = s[this.pos];
      if (!body && c === quote) { this.pos++; break; }
      if (c === '\\') {
        const n = s[this.pos + 1];
        this.pos += 2;
        switch (n) {
          case 'n': buf += '\n'; break;
          case 'r': buf += '\r'; break;
          case 't': buf += '\t'; break;
          case '\n': break;
          case 'x': {
            const h = /^[0-9a-f]{2}/i.exec(s.slice(this.pos));
            if (h) { buf += String.fromCharCode(parseInt(h[0], 16)); this.pos += 2; } else buf += 'x';
            break;
          }
          default:
            if (n !== undefined && /[0-7]/.test(n) && /^[0-7]{2}/.test(s.slice(this.pos))) {
              buf += String.fromCharCode(parseInt(n + s.slice(this.pos, this.pos + 2), 8));
              this.pos += 2;
            } else if (n !== undefined) {
              buf += n;
            }
        }
        continue;
      }
      if (c === '%') {
        const n = s[this.pos + 1];
        if (n === '%') { buf += '%'; this.pos += 2; continue; }
        if (n === '{' || (n !== undefined && /[A-Za-z]/.test(n))) {
          if (buf) { parts.push(buf); buf = ''; }
          parts.push(this.parsePercent());
          continue;
        }
      }
      buf += c;
      this.pos++;
    }
    if (buf || parts.length === 0) parts.push(buf);
    if (parts.length === 1 && typeof parts[0] === 'string') {
      return { k: 'lit', box: box('string', parts[0]), raw: parts[0] };
    }
    return { k: 'str', parts, t: 'string', raw: s.slice(start, body ? this.pos : this.pos - 1) };
  }

  /** Parses `%{…}`, `%name(…)` or a one-letter `%x` expansion. */
  private parsePercent(): Expr {
    const s = this.src;
    const start = this.pos;
    if (s[this.pos + 1] === '{') {
      this.pos += 2;
      const cap = /^\s*(\d+)\s*\}/.exec(s.slice(this.pos, this.pos + 12));
      if (cap) {
        this.pos += cap[0].length;
        return { k: 'capture', n: Number(cap[1]), t: 'string' };
      }
      this.skipWs();
      if (s[this.pos] === '}') this.fail('Empty expansion %{}', start);
      const e = this.parseBinary(0);
      this.skipWs();
      if (s[this.pos] !== '}') {
        if (s.startsWith(':-', this.pos)) this.fail('Unexpected ":-": the alternation syntax %{a:-b} was removed, use %{a || b}');
        this.fail('Expected "}" to close the expansion');
      }
      this.pos++;
      return e;
    }
    const m = /^%([A-Za-z][A-Za-z0-9_.-]*)\(/.exec(s.slice(this.pos, this.pos + 80));
    if (m) {
      const name = m[1];
      const def = this.scope.xlats.get(name);
      if (!def) this.fail(`Unknown expansion function %${name}()${didYouMean(name, this.scope.xlats.names())}`);
      this.pos += m[0].length;
      const args: Expr[] = [];
      const argAt: number[] = [];
      this.lenient++;
      try {
        this.skipWs();
        if (s[this.pos] === ')') this.pos++;
        else {
          for (;;) {
            this.skipWs();
            argAt.push(this.pos);
            const word = def.wordArgs ? /^([A-Za-z][A-Za-z0-9_.-]*)\s*(?=[,)])/.exec(s.slice(this.pos, this.pos + 200)) : null;
            if (word) {
              args.push({ k: 'lit', box: { type: 'string', value: word[1] } });
              this.pos += word[0].length;
            } else args.push(this.parseBinary(0));
            this.skipWs();
            const c = s[this.pos];
            if (c === ',') { this.pos++; continue; }
            if (c === ')') { this.pos++; break; }
            this.fail(`Expected "," or ")" in arguments of %${name}()`);
          }
        }
      } finally {
        this.lenient--;
      }
      if (def.minArgs !== undefined && args.length < def.minArgs) this.fail(`%${name}() needs at least ${def.minArgs} argument(s)`, start);
      if (def.maxArgs !== undefined && args.length > def.maxArgs) this.fail(`%${name}() takes at most ${def.maxArgs} argument(s)`, start);
      if (def.args) for (let i = 0; i < args.length && i < def.args.length; i++) args[i] = this.checkArg(name, i, def.args[i]!, args[i]!, argAt[i]!);
      return { k: 'call', name: def.name, fn: def.fn, args, t: def.returnType };
    }
    const one = /^%([A-Za-z])(?![A-Za-z0-9_(])/.exec(s.slice(this.pos, this.pos + 3));
    if (one) {
      const def = this.scope.xlats.get(one[1]);
      if (!def) this.fail(`Unknown expansion %${one[1]}`);
      this.pos += 2;
      return { k: 'call', name: def.name, fn: def.fn, args: [], t: def.returnType };
    }
    this.fail('Expected "%{" or "%func(" after "%"');
  }

  private parseRegexRhs(subject: Expr, neg: boolean): Expr {
    this.skipWs();
    const s = this.src;
    if (s[this.pos] !== '/') {
      const e = this.parseUnary();
      return { k: 'regex', neg, a: subject, parts: [e], flags: '', t: 'bool' };
    }
    const start = this.pos;
    this.pos++;
    const parts: (string | Expr)[] = [];
    let buf = '';
    for (;;) {
      if (this.pos >= s.length) this.fail('Unterminated regular expression', start);
      const c = s[this.pos];
      if (c === '/') { this.pos++; break; }
      if (c === '\\') {
        const n = s[this.pos + 1];
        buf += n === '/' ? '/' : c + (n ?? '');
        this.pos += 2;
        continue;
      }
      if (c === '%' && (s[this.pos + 1] === '{' || /[A-Za-z]/.test(s[this.pos + 1] ?? '')) && !(s[this.pos + 1] === '{' && /^\{\d+(,\d*)?\}/.test(s.slice(this.pos + 1)))) {
        if (buf) { parts.push(buf); buf = ''; }
        parts.push(this.parsePercent());
        continue;
      }
      buf += c;
      this.pos++;
    }
    if (buf) parts.push(buf);
    const fm = /^[imsux]*/.exec(s.slice(this.pos))![0];
    this.pos += fm.length;
    if (parts.every((p) => typeof p === 'string')) {
      const text = parts.join('');
      try {
        return { k: 'regex', neg, a: subject, re: makeRegex(text, fm), flags: fm, t: 'bool' };
      } catch (err) {
        this.fail(`Invalid regular expression /${text}/: ${(err as Error).message}`, start);
      }
    }
    return { k: 'regex', neg, a: subject, parts, flags: fm, t: 'bool' };
  }
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: '\\s',
  xdigit: '0-9A-Fa-f', punct: '!-\\/:-@\\[-`{-~', blank: ' \\t', word: '\\w', cntrl: '\\x00-\\x1f',
};

/** Builds a JS RegExp from FreeRADIUS (PCRE/POSIX) source and `imsux` flags. */
export function makeRegex(source: string, flags: string): RegExp {
  let src = source.replace(/\[:([a-z]+):\]/g, (m, n: string) => POSIX_CLASSES[n] ?? m);
  if (flags.includes('x')) src = src.replace(/\\#/g, '\u0000').replace(/#.*$/gm, '').replace(/(\\\s)|\s+/g, (m, esc) => esc ?? '').replace(/\u0000/g, '\\#');
  let f = '';
  for (const c of 'ims') if (flags.includes(c)) f += c;
  return new RegExp(src, f);
}

function daOf(e: Expr): import('../../dict/attr').DictAttr | undefined {
  return e.k === 'ref' ? e.da : undefined;
}

function sameType(a: Expr, b: Expr): BoxType | undefined {
  const ta = typeOf(a);
  return ta !== undefined && ta === typeOf(b) ? ta : undefined;
}

/** Bare references directly under `!`, `&&`, `||` (or alone) become existence tests. */
export function toCondition(e: Expr): Expr {
  switch (e.k) {
    case 'ref': return { k: 'exists', ref: e.ref, t: 'bool' };
    case 'not': return { k: 'not', a: toCondition(e.a), t: 'bool' };
    case 'and': case 'or': return { k: e.k, a: toCondition(e.a), b: toCondition(e.b), t: 'bool' };
    default: return e;
  }
}

/** Visits every node of an expression. */
export function walk(e: Expr, fn: (n: Expr) => void): void {
  fn(e);
  switch (e.k) {
    case 'str': for (const p of e.parts) if (typeof p !== 'string') walk(p, fn); break;
    case 'call': for (const a of e.args) walk(a, fn); break;
    case 'not': case 'neg': case 'inv': case 'cast': walk(e.a, fn); break;
    case 'bin': case 'cmp': case 'and': case 'or': walk(e.a, fn); walk(e.b, fn); break;
    case 'regex': walk(e.a, fn); if (e.parts) for (const p of e.parts) if (typeof p !== 'string') walk(p, fn); break;
    case 'ref': case 'exists': {
      const idxs = [e.ref.listIdx, ...e.ref.segs.map((s) => s.idx)];
      for (const i of idxs) if (i !== undefined && typeof i !== 'number') walk(i, fn);
      break;
    }
    default: break;
  }
}

/** Rethrows a value error as a compile error at `loc`. */
export function asCompileError(err: unknown, loc: ConfLoc): CompileError {
  if (err instanceof CompileError) return err;
  if (err instanceof BoxError || (err instanceof Error && /^(ValueError|DictError|ConfError)$/.test(err.name))) return new CompileError(loc, err.message);
  // Anything else is a bug in the compiler: let it surface.
  throw err;
}

/** The closest enumeration name of `da` to a misspelt value (case as the dictionary spells it). */
function suggestEnum(da: import('../../dict/attr').DictAttr, name: string): string | undefined {
  if (!da.values) return undefined;
  const hit = suggest(name.toLowerCase(), da.values.keys());
  return hit === undefined ? undefined : da.nameOfValue(da.values.get(hit)!) ?? hit;
}

/** Runs the words of a back-quoted string as a program (see `ExprParser.parseBacktick`). */
async function runBackticks(ctx: { readonly signal?: AbortSignal }, args: Box[][]): Promise<Box[]> {
  const argv = args.map((a) => a.map(boxToString).join(''));
  const r = await runProgram(argv, { env: {}, timeout: 10, maxOutput: 65536, signal: ctx.signal, wait: true });
  if (r.error) throw new BoxError(`\`${argv.join(' ')}\`: ${r.error}`);
  if (r.status !== 0) throw new BoxError(`\`${argv.join(' ')}\`: program returned code (${r.status})`);
  return [box('string', r.stdout.replace(/[\r\n]+$/, ''))];
}
