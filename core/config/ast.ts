/**
 * The configuration tree produced by `core/config/parser.ts`.
 *
 * The same tree carries plain configuration (`modules { ldap corp { server = "x" } }`) and
 * unlang policy bodies (`recv Access-Request { if (User-Name == "bob") { reject } }`). The
 * parser does not interpret unlang: it keeps the raw text of every statement, with its
 * location, so the unlang compiler can re-tokenise it.
 *
 * ## Node shapes
 *
 * Every node has `loc: { file, line }`: the file it was read from (the path as the parser
 * opened it, after `$INCLUDE` resolution) and the 1-based line where the node starts.
 *
 * ### `ConfSection`: anything followed by `{ … }`
 *
 * The header is the text from the start of the statement up to the opening `{`.
 * - `name1`: the first token of the header (`server`, `if`, `recv`, `reply`, `@policy`, `load-balance`).
 * - `headerText`: the raw header text after `name1`, trimmed, comments removed, `''` when there is
 *   none. It is source text (quotes, parentheses, regexes unprocessed), except that a backslash-newline
 *   continuation becomes a space. Examples:
 *   | source | name1 | headerText | name2 | op |
 *   |---|---|---|---|---|
 *   | `server default {` | `server` | `default` | `default` | |
 *   | `recv Access-Request {` | `recv` | `Access-Request` | `Access-Request` | |
 *   | `case "foo" {` | `case` | `"foo"` | `foo` (`name2Quote: 'double'`) | |
 *   | `if (User-Name == "bob") {` | `if` | `(User-Name == "bob")` | | |
 *   | `if !(a == b) {` | `if` | `!(a == b)` | | |
 *   | `foreach string x (%str.split(a, ' ')) {` | `foreach` | `string x (%str.split(a, ' '))` | `string` | |
 *   | `load-balance keyed Calling-Station-Id {` | `load-balance` | `keyed Calling-Station-Id` | `keyed` | |
 *   | `reply += {` | `reply` | `+=` | | `+=` |
 *   | `control.Tmp-Group-0 := {` | `control.Tmp-Group-0` | `:=` | | `:=` |
 *   | `else {` | `else` | `` | | |
 * - `name2` / `name2Quote`: the second header token when it is a bare word (not starting with `(` or `!`)
 *   or a quoted string; for quoted strings `name2` is the text between the quotes (escapes unprocessed).
 *   Conditions (`if (…)`) therefore have no `name2`.
 * - `op`: set only for edit blocks, whose header is `<name1> <op> {` (`reply += { … }`, `foo := {}`).
 * - `children`: the statements of the body, in source order (including items pulled in by `$INCLUDE`).
 *
 * ### `ConfPair`: every other statement
 *
 * Statements end at a newline, or at a `;` outside quotes and brackets. Inside edit blocks
 * (sections with an `op`) a `,` also ends a statement, so `foo := { User-Name = "a", User-Password = "b" }`
 * and `NAS-Port := { 1, 3 }` give two statements each; elsewhere a comma is part of the value
 * (`fields = a,,c`) except a trailing one. A trailing `,` or `;` is dropped. `text` is always the raw
 * statement text.
 * - `name op value` (the second token is an operator) → `attr` = the first token (raw, e.g.
 *   `reply.Filter-Id`, `Foo[*]`, `control.Auth-Type`), `op` (`=`, `:=`, `+=`, `-=`, `^=`, `==`, `!=`,
 *   `<`, `>`, `<=`, `>=`, `=~`, `!~`, `=*`, `!*`), and:
 *   - the value is exactly one quoted string → `value` is the text between the quotes, escapes
 *     unprocessed (except that backslash-newline continuations are removed), `quote` is its kind;
 *   - otherwise → `value` is the raw text of everything after the operator (`%str.concat(%{x}, ', ')`,
 *     `::Accept`, `/^a.*$/i`, `1 + 2`), `quote: 'bare'`.
 *   `${…}` and `$ENV{…}` references in the value have been expanded at parse time (not inside
 *   single- or back-quoted strings, nor in regexes).
 * - no operator (a bare statement: `ldap`, `ok`, `policy_name`, `uint32 foo`, `%func(…)`,
 *   `"%{x}"`, `return`) → `attr` is the whole raw statement text, `op` is `''`, `value` is
 *   `undefined`, `quote: 'none'`.
 * - `$TEMPLATE name`: when a top-level `templates { name { … } }` exists, the enclosing section inherits
 *   the template's items it lacks and the directive disappears; otherwise it is kept as a pair
 *   `attr: '$TEMPLATE'`, `op: ''`, `value: 'name'`, `quote: 'bare'`.
 *
 * `$INCLUDE` / `$-INCLUDE` never appear in the tree: their contents replace them.
 *
 * The root returned by the parser is a `ConfRoot`: a section with `name1: ''`, plus the list of files read.
 */

/** How a value was written: `bare` word/expression, `'single'`, `"double"`, `` `back` ``, or `none` (no value). */
export type QuoteKind = 'bare' | 'single' | 'double' | 'back' | 'none';

/** Where a node starts: the file as opened by the parser and the 1-based line. */
export interface ConfLoc {
  readonly file: string;
  readonly line: number;
}

/** A section: `name1 [header…] { children }`. See the module comment for the header fields. */
export interface ConfSection {
  readonly kind: 'section';
  readonly name1: string;
  readonly name2?: string;
  readonly name2Quote?: QuoteKind;
  /** Edit-block operator (`reply += { … }`); undefined for ordinary sections. */
  readonly op?: string;
  /** Raw header text after `name1` (trimmed), `''` when absent. */
  readonly headerText: string;
  readonly children: ConfItem[];
  readonly loc: ConfLoc;
}

/** A statement that is not a section: `attr op value`, or a bare statement (`op === ''`). */
export interface ConfPair {
  readonly kind: 'pair';
  /** Left-hand side (raw); for bare statements, the whole statement text. */
  readonly attr: string;
  /** Operator, or `''` for a bare statement. */
  readonly op: string;
  /** Value (quotes removed for a single quoted string, escapes unprocessed); undefined for bare statements. */
  readonly value?: string;
  /** How the value was written; `'none'` when there is no value. */
  readonly quote: QuoteKind;
  /** The raw statement text (comments and trailing `,`/`;` removed, references unexpanded). */
  readonly text: string;
  readonly loc: ConfLoc;
}

/** Any node of the tree. */
export type ConfItem = ConfSection | ConfPair;

/** The top of a parsed tree: an unnamed section plus every file that was read (for reload watching). */
export interface ConfRoot extends ConfSection {
  readonly files: string[];
}

/** Render a location as FreeRADIUS does: `file[line]`. */
export function formatLoc(loc: ConfLoc): string {
  return `${loc.file}[${loc.line}]`;
}

/** A section's display name for messages: `ldap corp`, `recv Access-Request`, `if (…)`. */
export function sectionLabel(cs: ConfSection): string {
  if (cs.name1 === '') return 'main';
  return cs.headerText ? `${cs.name1} ${cs.headerText}` : cs.name1;
}

/** Child sections, optionally filtered by `name1` and `name2` (exact match). */
export function findSections(cs: ConfSection, name1?: string, name2?: string): ConfSection[] {
  const out: ConfSection[] = [];
  for (const c of cs.children) {
    if (c.kind !== 'section') continue;
    if (name1 !== undefined && c.name1 !== name1) continue;
    if (name2 !== undefined && c.name2 !== name2) continue;
    out.push(c);
  }
  return out;
}

/** The first child section with this `name1` (and `name2`, when given). */
export function findSection(cs: ConfSection, name1: string, name2?: string): ConfSection | undefined {
  return findSections(cs, name1, name2)[0];
}

/** Child pairs whose `attr` is `attr` (exact match), in order. */
export function findPairs(cs: ConfSection, attr: string): ConfPair[] {
  const out: ConfPair[] = [];
  for (const c of cs.children) if (c.kind === 'pair' && c.attr === attr) out.push(c);
  return out;
}

/** The first child pair whose `attr` is `attr`. */
export function findPair(cs: ConfSection, attr: string): ConfPair | undefined {
  for (const c of cs.children) if (c.kind === 'pair' && c.attr === attr) return c;
  return undefined;
}

/**
 * Process the escapes of a quoted value, FreeRADIUS style: in double quotes `\n \r \t \\ \"`
 * and `\xNN` / octal `\NNN`; any other `\c` gives `c`. In single and back quotes only `\'`/`` \` `` and
 * `\\` are escapes. Bare values are returned unchanged.
 */
export function unescapeValue(value: string, quote: QuoteKind): string {
  if (quote === 'bare' || quote === 'none' || !value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== '\\' || i + 1 >= value.length) {
      out += c;
      continue;
    }
    const n = value[++i];
    if (quote !== 'double') {
      if (n === '\\' || (quote === 'single' && n === "'") || (quote === 'back' && n === '`')) out += n;
      else out += '\\' + n;
      continue;
    }
    switch (n) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(value.slice(i + 1));
        if (hex) { out += String.fromCharCode(parseInt(hex[0], 16)); i += 2; } else out += 'x';
        break;
      }
      default:
        if (/[0-7]/.test(n) && /^[0-7]{3}/.test(value.slice(i))) {
          out += String.fromCharCode(parseInt(value.slice(i, i + 3), 8));
          i += 2;
        } else out += n;
    }
  }
  return out;
}
