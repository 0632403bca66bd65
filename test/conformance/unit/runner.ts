/**
 * Runner for FreeRADIUS's unit value tests (`src/tests/unit/*.txt`, in ../shared/conformance/unit):
 * the codec's command language (`codec/runner.ts`) plus the value commands of `unit_test_attribute`:
 *
 * - `value TYPE TEXT`: parse TEXT as TYPE and print it back (unquoted);
 * - `cast TYPE TEXT -> TYPE`: parse, cast, print;
 * - `calc TYPE A OP TYPE B [-> TYPE]`: a binary operation on typed values (arithmetic,
 *   comparison, the assignment operators `:=`, `+=` …), the result cast to the output type;
 * - `calc_nary OP TYPE VALUE … -> TYPE`: one operator across several values;
 * - `dictionary LINE`: one dictionary statement added to the loaded dictionary (`ok` or the error);
 * - `pair-compare LIST`: a pair list with comparison operators;
 * - `tmpl-rules …`: accepted, no effect here.
 *
 * Errors print as `ERROR: message` with FreeRADIUS's wording (core produces it). The values come
 * from core: `core/value` (parse, print, cast), `core/unlang/xlat/box.ts` (the operators unlang
 * uses), `core/pair/text.ts` (pair lists), `core/dict` (dictionary statements, attribute references).
 */

import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Dictionary } from '../../../core/dict/dictionary';
import { parseAttrRef, printAttrRef } from '../../../core/pair/ref';
import type { Pair } from '../../../core/pair/pair';
import { parsePairList, printPairList, PairParseError, type PairOperator } from '../../../core/pair/text';
import type { LeafType } from '../../../core/types/data-types';
import { calcBinary, calcNary, type CalcOp } from '../../../core/unlang/xlat/calc';
import { castBox, parseBox, TYPE_ALIASES, type Box, type BoxType } from '../../../core/unlang/xlat/box';
import { printValueUnquoted } from '../../../core/value/print';
import { unescapeString } from '../../../core/value/text';
import { loadExpectations, report, writeExpectations, type CommandResult } from '../report';
import type { SuiteOptions } from '../suites';
import { codecConfig, runVectorFile, uncacheDict, vectorFiles, type CodecSuiteConfig, type CommandOutcome, type FileState } from '../codec/runner';

/** Our own dictionaries for `load-dictionary` files the corpus names but does not ship (see README). */
const OWN_DICTS = [resolve(__dirname, 'dict'), resolve(__dirname, '..', '..', '..', '..', 'test', 'conformance', 'unit', 'dict')];

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Reads one value argument: a quoted string (unescaped) or a bare word up to whitespace. */
function takeValue(s: string): [string, string] {
  s = s.trimStart();
  const q = s[0];
  if (q === '"' || q === "'" || q === '`') {
    let i = 1;
    while (i < s.length && s[i] !== q) i += s[i] === '\\' ? 2 : 1;
    const body = s.slice(1, i);
    return [q === "'" ? body : unescapeString(body, q), s.slice(i + 1)];
  }
  const m = /^(\S*)(.*)$/s.exec(s)!;
  return [m[1], m[2]];
}

function takeWord(s: string): [string, string] {
  const m = /^\s*(\S*)(.*)$/s.exec(s)!;
  return [m[1], m[2]];
}

/** A data type name of the tests (`ipv4addr`, `combo-ip`, `null` …). */
function typeOf(name: string): BoxType | 'attribute' | 'null' | undefined {
  if (name === 'attribute' || name === 'null') return name;
  return TYPE_ALIASES[name];
}

/** Whole-text value after the type (`value date Jan  1 1970 …`): quoted or the rest of the line. */
function wholeValue(s: string): string {
  const t = s.trim();
  if (/^["'`]/.test(t)) return takeValue(t)[0];
  return t;
}

function printBox(b: Box): string {
  return printValueUnquoted(b.da ?? (b.type as LeafType), b.value);
}

function needDict(st: FileState): Dictionary {
  if (!st.dict) throw new Error('no protocol dictionary loaded (proto-dictionary missing)');
  return st.dict;
}

function valueCmd(args: string, st: FileState): void {
  const [tname, rest] = takeWord(args);
  const t = typeOf(tname);
  if (!t || t === 'null') throw new Error(`Unknown data type '${tname}'`);
  const text = wholeValue(rest);
  if (t === 'attribute') {
    st.data = printAttrRef(parseAttrRef(needDict(st), text));
    return;
  }
  st.data = printBox(parseBox(t, text));
}

function castCmd(args: string, st: FileState): void {
  const [tname, rest] = takeWord(args);
  const from = typeOf(tname);
  if (!from || from === 'null') throw new Error(`Unknown data type '${tname}'`);
  const arrow = rest.lastIndexOf('->');
  const text = wholeValue(arrow >= 0 ? rest.slice(0, arrow) : rest);
  const toName = arrow >= 0 ? rest.slice(arrow + 2).trim() : tname;
  const to = typeOf(toName);
  if (!to) throw new Error(`Unknown data type '${toName}'`);
  if (from === 'attribute' || to === 'attribute') {
    if (from !== 'attribute' && from !== 'string' || to !== 'attribute') throw new Error(`Invalid cast from ${from} to ${to}`);
    const ref = parseAttrRef(needDict(st), text);
    st.data = printAttrRef(ref);
    return;
  }
  const v = parseBox(from, text);
  st.data = printBox(to === 'null' ? v : castBox(v, to));
}

function calcCmd(args: string, st: FileState): void {
  let rest = args;
  let ta: string, tb: string, a: string, b: string, op: string;
  [ta, rest] = takeWord(rest);
  [a, rest] = takeValue(rest);
  [op, rest] = takeWord(rest);
  [tb, rest] = takeWord(rest);
  [b, rest] = takeValue(rest);
  let out: string | undefined;
  const m = /^\s*->\s*(\S+)\s*$/.exec(rest);
  if (m) out = m[1];
  else if (rest.trim()) throw new Error(`Unexpected text after value: "${rest.trim()}"`);
  const typeA = typeOf(ta);
  const typeB = typeOf(tb);
  if (!typeA || typeA === 'null' || typeA === 'attribute') throw new Error(`Unknown data type '${ta}'`);
  if (!typeB || typeB === 'null' || typeB === 'attribute') throw new Error(`Unknown data type '${tb}'`);
  const outType = out === undefined ? undefined : typeOf(out);
  if (out !== undefined && (!outType || outType === 'attribute')) throw new Error(`Unknown data type '${out}'`);
  const r = calcBinary(parseBox(typeA, a), op as CalcOp, parseBox(typeB, b), outType === 'null' ? undefined : outType as BoxType | undefined);
  st.data = printBox(r);
}

/** `calc_nary OP TYPE VALUE [TYPE VALUE …] -> TYPE`. */
function calcNaryCmd(args: string, st: FileState): void {
  const arrow = args.lastIndexOf('->');
  if (arrow < 0) throw new Error('calc_nary needs an output type (-> TYPE)');
  const out = typeOf(args.slice(arrow + 2).trim());
  if (!out || out === 'null' || out === 'attribute') throw new Error(`Unknown data type '${args.slice(arrow + 2).trim()}'`);
  let [op, rest] = takeWord(args.slice(0, arrow));
  const values: Box[] = [];
  while (rest.trim()) {
    let tname: string, text: string;
    [tname, rest] = takeWord(rest);
    [text, rest] = takeValue(rest);
    const t = typeOf(tname);
    if (!t || t === 'null' || t === 'attribute') throw new Error(`Unknown data type '${tname}'`);
    values.push(parseBox(t, text));
  }
  st.data = printBox(calcNary(op as CalcOp, values, out));
}

function dictionaryCmd(args: string, st: FileState): void {
  const dict = needDict(st);
  uncacheDict(dict);
  try {
    dict.loadText(args, '<test>');
    st.data = 'ok';
  } catch (e) {
    // Dictionary errors are located (`file[line]: message`); the tests compare the message.
    st.data = 'ERROR: ' + errText(e).replace(/^<test>\[\d+\]: /, '');
  }
}

function pairCompareCmd(args: string, st: FileState): void {
  const dict = needDict(st);
  const ops = new Map<Pair, PairOperator>();
  const pairs = parsePairList(args, dict, { fallback: st.internal, compare: ops });
  st.data = printPairList(pairs, { ops });
}

/** The value commands; undefined for a command the codec runner handles. */
function unitCommand(cmd: string, args: string, st: FileState): CommandOutcome | undefined {
  const run = (fn: () => void): CommandOutcome => {
    try {
      fn();
    } catch (e) {
      st.data = 'ERROR: ' + (e instanceof PairParseError ? e.message : errText(e));
    }
    return { outcome: 'ok' };
  };
  switch (cmd) {
    case 'value': return run(() => valueCmd(args, st));
    case 'cast': return run(() => castCmd(args, st));
    case 'calc': return run(() => calcCmd(args, st));
    case 'calc_nary': return run(() => calcNaryCmd(args, st));
    case 'dictionary': return run(() => dictionaryCmd(args, st));
    case 'pair-compare': return run(() => pairCompareCmd(args, st));
    case 'tmpl-rules':
      st.data = '';
      return { outcome: 'ok' };
    default: return undefined;
  }
}

/** `load-dictionary` fallbacks: the codec corpus for `protocols/radius/…`, then our own `unit/dict/`. */
function resolveDictionary(name: string, testDir: string): string | undefined {
  const m = /^protocols\/radius\/(.+)$/.exec(name);
  if (m) {
    const f = join(testDir, '..', 'radius-vectors', m[1]);
    if (existsSync(f)) return f;
  }
  for (const d of OWN_DICTS) {
    const f = join(d, basename(name));
    if (existsSync(f)) return f;
  }
  return undefined;
}

/** The suite's configuration for a directory of unit test files. */
export function unitConfig(dir: string, dict?: string): CodecSuiteConfig {
  return { ...codecConfig(dir, dict), commands: unitCommand, resolveDictionary };
}

/** Runs every unit test file of `dir` (or the single file). */
export function runUnitTests(dir: string, dict?: string): CommandResult[] {
  const cfg = unitConfig(dir, dict);
  const out: CommandResult[] = [];
  for (const f of vectorFiles(dir)) out.push(...runVectorFile(f, cfg));
  return out;
}

/** Default expectations file: `test/conformance/unit-expected.txt` in the source tree. */
export function defaultUnitExpectations(): string {
  const candidates = [
    resolve(__dirname, '..', 'unit-expected.txt'),
    resolve(__dirname, '..', '..', '..', '..', 'test', 'conformance', 'unit-expected.txt'),
    resolve(process.cwd(), 'test', 'conformance', 'unit-expected.txt'),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** Suite entry point (see `suites.ts`). */
export async function run(opts: SuiteOptions): Promise<number> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  if (!existsSync(opts.dir)) {
    log(`unit: test directory ${opts.dir} not found`);
    log('unit: 0 passed, 1 failed, 0 skipped');
    return 1;
  }
  const results = runUnitTests(opts.dir, opts.dict);
  const expectations = loadExpectations(opts.expect ?? defaultUnitExpectations());
  const w = opts.extra.indexOf('--write-expect');
  if (w >= 0 && opts.extra[w + 1]) {
    const n = writeExpectations(opts.extra[w + 1], 'unit', results, expectations);
    log(`wrote ${n} expected failure(s) to ${opts.extra[w + 1]}`);
  }
  return report('unit', results, expectations, opts.verbose, log);
}
