import { ConfError } from './errors';

/**
 * Token kinds of the configuration lexer.
 * - `word`: a bare word; may embed balanced `(…)`, `[…]`, `%{…}`, `${…}`, `$ENV{…}` and quoted strings
 *   (`reply.Filter-Id`, `Foo[*]`, `%str.split(a, ' ')`, `${confdir}/users`, `!control.X`).
 * - `single` / `double` / `back`: a quoted string; `value` is the text between the quotes.
 * - `regex`: `/…/flags`, only directly after `=~` or `!~`.
 * - `group`: a parenthesised group at token start, `( … )`, possibly spanning lines.
 * - `op`: an operator (`= := += -= ^= == != < > <= >= =~ !~ =* !*`).
 * - `lbrace` `rbrace` `comma` `semi` `nl` `eof`: structure.
 */
export type TokKind =
  | 'word' | 'single' | 'double' | 'back' | 'regex' | 'group' | 'op'
  | 'lbrace' | 'rbrace' | 'comma' | 'semi' | 'nl' | 'eof';

/** One token. `text` is the source text (backslash-newline continuations inside quotes removed). */
export interface Token {
  readonly kind: TokKind;
  readonly text: string;
  /** For quoted strings, the text between the quotes (escapes unprocessed). */
  readonly value?: string;
  /** Offsets into the normalised source. */
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

/** Operators, longest first. */
const OPS = [':=', '+=', '-=', '^=', '==', '!=', '<=', '>=', '=~', '!~', '=*', '!*', '<', '>', '='];

/** Normalise line endings: CRs directly before a newline (or at the end of the text) are dropped; a BOM is removed. */
export function normaliseSource(text: string): string {
  let t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (t.includes('\r')) t = t.replace(/\r+(?=\n)/g, '').replace(/\r+$/, '');
  return t;
}

const isWs = (c: string): boolean => c === ' ' || c === '\t' || c === '\f' || c === '\v';

function opAt(src: string, i: number): string | undefined {
  const c = src[i];
  if (c !== ':' && c !== '+' && c !== '-' && c !== '^' && c !== '=' && c !== '!' && c !== '<' && c !== '>') return undefined;
  for (const op of OPS) if (src.startsWith(op, i)) return op;
  return undefined;
}

/**
 * A lexer over one normalised source text. `next()` returns tokens until `eof`.
 * Comments (`#` at a token boundary) and whitespace, including backslash-newline
 * continuations outside quotes, are skipped.
 */
export class Lexer {
  private pos = 0;
  private lineStarts: number[] = [0];
  private prev: Token | undefined;

  constructor(readonly src: string, readonly file: string) {
    for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** The 1-based line of an offset. */
  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** The leading whitespace of a 1-based line. */
  indentOf(line: number): string {
    const start = this.lineStarts[line - 1] ?? 0;
    let i = start;
    while (i < this.src.length && isWs(this.src[i])) i++;
    return this.src.slice(start, i);
  }

  /** Source text between two offsets with continuations turned into spaces (for header/value gaps). */
  gap(from: number, to: number): string {
    return this.src.slice(from, to).replace(/\\\n/g, ' ');
  }

  private fail(offset: number, msg: string): never {
    throw new ConfError('ERR_CONF_SYNTAX', { file: this.file, line: this.lineOf(offset) }, msg);
  }

  private tok(kind: TokKind, start: number, end: number, text?: string, value?: string): Token {
    const t: Token = { kind, text: text ?? this.src.slice(start, end), value, start, end, line: this.lineOf(start) };
    this.pos = end;
    if (kind !== 'nl') this.prev = t;
    else this.prev = undefined;
    return t;
  }

  /** Next token. */
  next(): Token {
    const src = this.src;
    let i = this.pos;
    for (;;) {
      while (i < src.length && isWs(src[i])) i++;
      if (src[i] === '\\' && src[i + 1] === '\n') { i += 2; continue; }
      if (src[i] === '#') {
        while (i < src.length && src[i] !== '\n') i++;
        continue;
      }
      break;
    }
    if (i >= src.length) return this.tok('eof', src.length, src.length, '');
    const c = src[i];
    switch (c) {
      case '\n': return this.tok('nl', i, i + 1);
      case '{': return this.tok('lbrace', i, i + 1);
      case '}': return this.tok('rbrace', i, i + 1);
      case ',': return this.tok('comma', i, i + 1);
      case ';': return this.tok('semi', i, i + 1);
      case '"': case "'": case '`': {
        const q = this.scanQuoted(i);
        return this.tok(c === '"' ? 'double' : c === "'" ? 'single' : 'back', i, q.end, c + q.inner + c, q.inner);
      }
      case '(': {
        const g = this.scanNested(i);
        return this.tok('group', i, g.end, g.text);
      }
    }
    if (c === '/' && this.prev?.kind === 'op' && (this.prev.text === '=~' || this.prev.text === '!~')) {
      const end = this.scanRegex(i);
      return this.tok('regex', i, end);
    }
    const op = opAt(src, i);
    if (op) return this.tok('op', i, i + op.length);
    return this.scanWord(i);
  }

  /** A quoted string starting at `start`, as its end offset and its text with the quotes. */
  private scanRequoted(start: number): { end: number; text: string } {
    const q = this.scanQuoted(start);
    const c = this.src[start];
    return { end: q.end, text: c + q.inner + c };
  }

  /** A quoted string starting at `start`; returns the end offset and the inner text. */
  private scanQuoted(start: number): { end: number; inner: string } {
    const src = this.src;
    const q = src[start];
    // A triple-quoted string ("""…""" or '''…'''): quotes inside need no escape. The inner text is
    // returned with those quotes backslash-escaped, so it reads as an ordinary quoted string.
    if ((q === '"' || q === "'") && src[start + 1] === q && src[start + 2] === q) {
      const close = q + q + q;
      let j = start + 3;
      while (j < src.length && src[j] !== '\n') {
        if (src[j] === '\\') { j += 2; continue; }
        if (src.startsWith(close, j)) {
          // The closing run may be longer than three: the extra quotes belong to the content.
          let e = j + 3;
          while (src[e] === q) e++;
          const body = src.slice(start + 3, e - 3);
          return { end: e, inner: body.replace(/\\[\s\S]|['"]/g, (m) => (m === q ? '\\' + q : m)) };
        }
        j++;
      }
      return this.fail(start, `unterminated string, expected a closing ${close}`);
    }
    let inner = '';
    let i = start + 1;
    let from = i;
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') {
        if (src[i + 1] === '\n') {
          inner += src.slice(from, i);
          i += 2;
          from = i;
          continue;
        }
        i += 2;
        continue;
      }
      if (c === q) return { end: i + 1, inner: inner + src.slice(from, i) };
      if (c === '\n') break;
      i++;
    }
    return this.fail(start, `unterminated string, expected a closing ${q}`);
  }

  /** A regex `/…/flags` starting at `start`; returns the end offset. */
  private scanRegex(start: number): number {
    const src = this.src;
    let i = start + 1;
    while (i < src.length && src[i] !== '\n') {
      if (src[i] === '\\') { i += 2; continue; }
      if (src[i] === '/') {
        i++;
        while (i < src.length && /[a-zA-Z]/.test(src[i])) i++;
        return i;
      }
      i++;
    }
    return this.fail(start, 'unterminated regular expression, expected a closing /');
  }

  /**
   * A balanced group starting at the opener at `start` (`(`, `[` or `{`), respecting quotes, regexes
   * and nested brackets. Newlines are allowed; comments (`#` after whitespace, outside `[]`) and
   * continuations are removed from the returned text.
   */
  private scanNested(start: number): { end: number; text: string } {
    const src = this.src;
    const closers: string[] = [];
    const opener = src[start];
    closers.push(opener === '(' ? ')' : opener === '[' ? ']' : '}');
    let text = opener;
    let i = start + 1;
    let from = i;
    let lastOp: string | undefined;
    // The first '{' that ends its line inside the group: where a missing ')' or ']' belongs
    // (`if (User-Name == "bob" {`), rather than the far-away '}' that finally mismatches.
    let lineBrace: number | undefined;
    // Offsets of the open brackets, innermost last (parallel to `closers`).
    const opens: number[] = [start];
    const outer = closers[0];
    const missing = (at: number, open: number, msg: string): never => {
      if (lineBrace !== undefined && opener !== '{') {
        const openLine = this.lineOf(start);
        const braceLine = this.lineOf(lineBrace);
        return this.fail(lineBrace, `missing '${outer}' before '{'${openLine === braceLine ? '' : ` (the '${opener}' on line ${openLine} is not closed)`}`);
      }
      // Otherwise the bracket left open is where the fix goes, not where the scan gave up.
      const openLine = this.lineOf(open);
      const atLine = this.lineOf(at);
      if (openLine !== atLine && src[open] !== '{') {
        return this.fail(open, `'${src[open]}' is not closed (${msg} on line ${atLine})`);
      }
      return this.fail(at, msg);
    };
    while (i < src.length) {
      const c = src[i];
      if (c === '"' || c === "'" || c === '`') {
        const q = this.scanRequoted(i);
        text += src.slice(from, i) + q.text;
        i = q.end;
        from = i;
        lastOp = undefined;
        continue;
      }
      if (c === '\\') {
        if (src[i + 1] === '\n') {
          text += src.slice(from, i) + ' ';
          i += 2;
          from = i;
          continue;
        }
        i += 2;
        continue;
      }
      if (c === '#' && closers[closers.length - 1] !== ']' && (i === start + 1 || isWs(src[i - 1]) || src[i - 1] === '\n')) {
        text += src.slice(from, i);
        while (i < src.length && src[i] !== '\n') i++;
        from = i;
        continue;
      }
      if (c === '/' && (lastOp === '=~' || lastOp === '!~')) {
        const end = this.scanRegex(i);
        i = end;
        lastOp = undefined;
        continue;
      }
      if (c === '(' || c === '[' || c === '{') {
        if (c === '{' && lineBrace === undefined && src[i - 1] !== '%' && /^[ \t]*(#[^\n]*)?(\n|$)/.test(src.slice(i + 1, i + 200))) lineBrace = i;
        closers.push(c === '(' ? ')' : c === '[' ? ']' : '}');
        opens.push(i);
        lastOp = undefined;
        i++;
        continue;
      }
      if (c === ')' || c === ']' || c === '}') {
        const want = closers.pop();
        const open = opens.pop()!;
        if (c !== want) {
          return missing(i, open, `unbalanced '${c}': expected '${want}'`);
        }
        i++;
        if (closers.length === 0) return { end: i, text: text + src.slice(from, i) };
        lastOp = undefined;
        continue;
      }
      if (isWs(c) || c === '\n') { i++; continue; }
      const op = opAt(src, i);
      if (op) { lastOp = op; i += op.length; continue; }
      lastOp = undefined;
      i++;
    }
    return missing(start, opens[opens.length - 1] ?? start, `unbalanced '${opener}': no closing '${outer}'`);
  }

  /** A bare word starting at `start`. */
  private scanWord(start: number): Token {
    const src = this.src;
    let i = start;
    let text = '';
    let from = i;
    while (i < src.length) {
      const c = src[i];
      if (isWs(c) || c === '\n' || c === '}' || c === ',' || c === ';') break;
      if (c === '\\' && src[i + 1] === '\n') break;
      let g: { end: number; text: string } | undefined;
      if (c === '{') {
        // Only `%{…}`, `${…}` and `$ENV{…}` continue a word; any other brace ends it.
        const p = src[i - 1];
        if (!(i > start && (p === '%' || p === '$' || src.slice(Math.max(start, i - 4), i) === '$ENV'))) break;
        g = this.scanNested(i);
      } else if (c === '(' || c === '[') {
        g = this.scanNested(i);
      } else if (c === '"' || c === "'" || c === '`') {
        g = this.scanRequoted(i);
      }
      if (g) {
        text += src.slice(from, i) + g.text;
        i = g.end;
        from = i;
        continue;
      }
      if (i > start && opAt(src, i)) break;
      i++;
    }
    text += src.slice(from, i);
    if (i === start) {
      // Defensive: never stall. A lone character that starts nothing else becomes a word.
      return this.tok('word', start, start + 1);
    }
    return this.tok('word', start, i, text);
  }
}
