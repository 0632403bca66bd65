/**
 * `radiusd test`: runs policy tests against the operator's own configuration.
 *
 *   radiusd test [-d confdir] [-n name] [-X] [-v] [PATH …]
 *
 * PATH is a test file or a directory (its `*.test` files, sorted; default `${confdir}/tests`).
 * The configuration is loaded as the daemon loads it (modules instantiated, sites compiled) but
 * nothing is bound: each test runs in-process through `Server.inject`, so a daemon serving the
 * same configuration may keep running. Prints a located diff (`file[line]`) for each failure and
 * `N passed, N failed`; exit 0 when every test passed, 1 when one failed, 2 for usage, test-file
 * or configuration errors. The file format is documented in docs/policy-tests.md.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import yargs from 'yargs';
import type { Dictionary } from '../dict/dictionary';
import type { DictAttr } from '../dict/attr';
import type { Logger } from '../log/logger';
import { Pair } from '../pair/pair';
import { chapResponse } from './exchange';
import { parsePairListWithOps, printPairLines, PairParseError } from '../pair/text';
import { LineLogger } from '../server/log';
import { Server } from '../server/server';
import { compareBoxes, type Box } from '../unlang/xlat/box';
import { pairBox } from '../unlang/xlat/eval';
import type { AnyModuleDefinition } from '../module/registry';

/** Where a line of a test file is. */
export interface TestLoc {
  readonly file: string;
  readonly line: number;
}

/** One expectation on a list after the run (`reply.Reply-Message == "hi"`). */
export interface Expectation {
  readonly loc: TestLoc;
  /** The line as written (for the diff). */
  readonly text: string;
  readonly list: 'reply' | 'control' | 'request';
  readonly da: DictAttr;
  readonly op: string;
  /** The value to compare with (not for `!*`, `=~`, `!~`). */
  readonly value?: Pair;
  /** For `=~` / `!~`. */
  readonly regex?: RegExp;
}

/** One test of a test file. */
export interface PolicyTest {
  readonly name: string;
  readonly loc: TestLoc;
  server: string;
  type: string;
  from: { address: string; port: number };
  client?: string;
  readonly request: Pair[];
  readonly control: Pair[];
  expectCode?: { name: string; loc: TestLoc };
  readonly expects: Expectation[];
}

/** A located problem in a test file. */
export class TestFileError extends Error {
  constructor(readonly loc: TestLoc, message: string) {
    super(`${loc.file}[${loc.line}]: ${message}`);
    this.name = 'TestFileError';
  }
}

const EXPECT_OPS = new Set(['==', '!=', '<', '<=', '>', '>=', '=~', '!~', '!*']);
const INPUT_OPS = new Set(['=', ':=', '+=']);
const LISTS = ['request', 'control', 'reply'] as const;

/** Removes a `#` comment (outside quotes) and surrounding white space. */
function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i).trim();
  }
  return line.trim();
}

function parseEndpoint(text: string, loc: TestLoc): { address: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:\s]+)(?::(\d+))?$/.exec(text) ?? /^([0-9a-fA-F:]+)$/.exec(text);
  if (!m) throw new TestFileError(loc, `from: expected ADDRESS or ADDRESS:PORT, got "${text}"`);
  const port = m[2] === undefined ? 0 : Number(m[2]);
  if (!(port >= 0 && port < 65536)) throw new TestFileError(loc, `from: bad port "${m[2]}"`);
  return { address: m[1], port };
}

/**
 * Parses a test file. Every test starts with `test NAME`; lines before the first test may set
 * `server` for the whole file. Throws a {@link TestFileError} (`file[line]: message`).
 */
export function parsePolicyTests(text: string, file: string, dict: Dictionary): PolicyTest[] {
  const tests: PolicyTest[] = [];
  let fileServer = 'default';
  let cur: PolicyTest | undefined;
  const finish = () => {
    if (cur && !cur.expectCode) throw new TestFileError(cur.loc, `test "${cur.name}": no "expect" line (expect Access-Accept, …, or Do-Not-Respond)`);
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const loc = { file, line: i + 1 };
    const line = stripComment(lines[i]);
    if (line === '') continue;
    const kw = /^(test|server|request|expect|from|client)(?:\s+(.*))?$/.exec(line);
    if (kw) {
      const [, word, arg = ''] = kw;
      if (word === 'test') {
        finish();
        const name = arg.replace(/^"(.*)"$/, '$1').trim() || `line ${loc.line}`;
        cur = { name, loc, server: fileServer, type: 'Access-Request', from: { address: '127.0.0.1', port: 0 }, request: [], control: [], expects: [] };
        tests.push(cur);
        continue;
      }
      if (!arg) throw new TestFileError(loc, `${word}: expected a value`);
      if (word === 'server' && !cur) {
        fileServer = arg;
        continue;
      }
      if (!cur) throw new TestFileError(loc, `"${word}" outside a test (start one with "test NAME")`);
      if (word === 'server') cur.server = arg;
      else if (word === 'request') {
        if (cur.expectCode) throw new TestFileError(loc, 'request: give the request before "expect"');
        cur.type = arg;
      } else if (word === 'from') cur.from = parseEndpoint(arg, loc);
      else if (word === 'client') cur.client = arg;
      else {
        if (cur.expectCode) throw new TestFileError(loc, `expect: already given at ${file}[${cur.expectCode.loc.line}]`);
        cur.expectCode = { name: arg, loc };
      }
      continue;
    }
    if (!cur) throw new TestFileError(loc, 'attributes outside a test (start one with "test NAME")');
    const expecting = cur.expectCode !== undefined;
    const q = /^(request|control|reply)\.(.*)$/.exec(line);
    const list = (q?.[1] ?? (expecting ? 'reply' : 'request')) as (typeof LISTS)[number];
    const body = q ? q[2] : line;
    let items;
    // `Attr =~ /regex/`: the regex is not pair-list syntax; resolve the attribute alone.
    const re = expecting ? /^(\S+?)\s*(=~|!~)\s*(\/.*\/[imsu]*)$/s.exec(body) : null;
    try {
      items = re ? parsePairListWithOps(`${re[1]} !* ANY`, dict).map((it) => ({ ...it, op: re[2] as never, re: re[3] }))
        : parsePairListWithOps(body, dict);
    } catch (e) {
      const msg = e instanceof PairParseError || e instanceof Error ? e.message : String(e);
      throw new TestFileError(loc, msg);
    }
    if (items.length === 0) throw new TestFileError(loc, `expected an attribute: "${line}"`);
    for (const it of items) {
      if (!expecting) {
        if (!INPUT_OPS.has(it.op)) throw new TestFileError(loc, `"${it.op}" in the request part; use "=" (comparisons go after "expect")`);
        if (list === 'reply') throw new TestFileError(loc, 'the input is the request and control lists; reply pairs are expected after "expect"');
        (list === 'control' ? cur.control : cur.request).push(it.pair);
        continue;
      }
      const op = it.op === '=' || it.op === ':=' ? '==' : it.op;
      if (!EXPECT_OPS.has(op)) throw new TestFileError(loc, `"${it.op}" cannot be an expectation; use one of ${[...EXPECT_OPS].join(' ')}`);
      let regex: RegExp | undefined;
      if (op === '=~' || op === '!~') {
        const m = /^\/(.*)\/([imsu]*)$/s.exec((it as { re?: string }).re ?? String(it.leaf.value ?? ''));
        if (!m) throw new TestFileError(loc, `${op}: expected /regex/`);
        try {
          regex = new RegExp(m[1], m[2]);
        } catch (e) {
          throw new TestFileError(loc, `${op}: ${(e as Error).message}`);
        }
      }
      cur.expects.push({ loc, text: line, list, da: it.leaf.da, op, value: op === '!*' || regex ? undefined : it.leaf, regex });
    }
  }
  finish();
  return tests;
}

/** Value text of a pair as the pair-list format prints it (`"Hello"`, `192.0.2.1`, `PAP`). */
function valueText(p: Pair): string {
  const s = printPairLines([p], { indent: '' });
  const i = s.indexOf(' = ');
  return i >= 0 ? s.slice(i + 3) : s;
}

/** Passwords and hidden attributes are never printed (a test's context lines included). */
function isSecret(da: DictAttr): boolean {
  for (let a: DictAttr | null = da; a; a = a.parent) {
    if (a.flags.secret || a.flags.encrypt || /password|secret/i.test(a.name)) return true;
  }
  return false;
}

function leaves(list: readonly Pair[], out: Pair[] = []): Pair[] {
  for (const p of list) {
    if (p.children) leaves(p.children, out);
    out.push(p);
  }
  return out;
}

/** Checks one expectation; returns what is wrong, or undefined. */
export function checkExpectation(e: Expectation, list: readonly Pair[]): string | undefined {
  const got = leaves(list).filter((p) => p.da === e.da);
  const shown = () => got.map((p) => (isSecret(p.da) ? '<hidden>' : valueText(p))).join(', ');
  if (e.op === '!*') return got.length ? `present: ${shown()}` : undefined;
  const matches = (p: Pair): boolean => {
    if (e.regex) return e.regex.test(valueText(p).replace(/^"(.*)"$/s, '$1'));
    try {
      const op = e.op === '!=' ? '==' : e.op;
      return compareBoxes(pairBox(p), op as never, pairBox(e.value!) as Box);
    } catch {
      return false;
    }
  };
  if (e.op === '!=' || e.op === '!~') return got.some(matches) ? `got ${shown()}` : undefined;
  if (got.some(matches)) return undefined;
  return got.length ? `got ${shown()}` : 'absent';
}

/** Outcome of one test. */
export interface TestOutcome {
  readonly test: PolicyTest;
  /** Located lines describing what differed (empty = passed). */
  readonly diffs: string[];
  /** The reply and control lists (for context when it failed). */
  readonly context: string[];
}

/** Runs one test through `server.inject`. */
export async function runPolicyTest(server: Server, t: PolicyTest, where: (l: TestLoc) => string): Promise<TestOutcome> {
  const diffs: string[] = [];
  let reply;
  try {
    reply = await server.inject(t.server, {
      code: t.type, pairs: chapFromCleartext(t.request, server.generation?.dict), control: [...t.control],
      src: t.from, client: t.client, via: `test ${t.name}`,
    });
  } catch (e) {
    return { test: t, diffs: [`${where(t.loc)}: ${(e as Error).message}`], context: [] };
  }
  const want = t.expectCode!;
  if (reply.name.toLowerCase() !== want.name.toLowerCase() && String(reply.code) !== want.name) {
    diffs.push(`${where(want.loc)}: expect ${want.name}: got ${reply.name}`);
  }
  for (const e of t.expects) {
    const list = e.list === 'reply' ? reply.pairs : e.list === 'control' ? reply.request.control : reply.request.request;
    const why = checkExpectation(e, list);
    if (why) diffs.push(`${where(e.loc)}: ${e.list}.${e.text.replace(/^(reply|control|request)\./, '')}: ${why}`);
  }
  const show = (name: string, list: readonly Pair[]) => {
    const items = leaves(list).filter((p) => !p.children && (name === 'control' || !p.da.flags.internal))
      .map((p) => `${p.da.fullName} = ${isSecret(p.da) ? '<hidden>' : valueText(p)}`);
    return `${name}: ${items.length ? items.join(', ') : '(empty)'}`;
  };
  return { test: t, diffs, context: diffs.length ? [show('reply', reply.pairs), show('control', reply.request.control)] : [] };
}

/**
 * A `CHAP-Password` given as its cleartext (anything but the 17 bytes of a CHAP response) is
 * turned into a response as radclient does, with a random `CHAP-Challenge` (added when the test
 * gives none: an in-process request has no Request Authenticator to serve as the challenge).
 */
function chapFromCleartext(pairs: readonly Pair[], dict: Dictionary | undefined): Pair[] {
  const out = [...pairs];
  const i = out.findIndex((p) => p.da.name === 'CHAP-Password');
  if (i < 0) return out;
  const v = out[i].value;
  const password = Buffer.isBuffer(v) ? v : Buffer.from(String(v ?? ''), 'utf8');
  if (password.length === 17 && Buffer.isBuffer(v)) return out;
  let challenge = out.find((p) => p.da.name === 'CHAP-Challenge')?.value;
  if (!Buffer.isBuffer(challenge)) {
    const da = dict?.resolve('CHAP-Challenge');
    challenge = crypto.randomBytes(16);
    if (da) out.push(new Pair(da, challenge));
  }
  out[i] = new Pair(out[i].da, chapResponse(crypto.randomInt(256), password, challenge as Buffer));
  return out;
}

/** Test files named by `paths` (directories: their `*.test` files, sorted). */
export function findTestFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(p).sort()) if (n.endsWith('.test') && fs.statSync(path.join(p, n)).isFile()) out.push(path.join(p, n));
    } else out.push(p);
  }
  return out;
}

/** Output streams. */
export interface TestIo {
  out(line: string): void;
  err(line: string): void;
}

/** A logger that shows warnings and errors only (and debug/info with -X). */
function quietLogger(inner: Logger, verbose: boolean): Logger {
  return {
    get debugEnabled() { return verbose && inner.debugEnabled; },
    debug: (m) => { if (verbose) inner.debug(m); },
    info: (m) => { if (verbose) inner.info(m); },
    warn: (m) => inner.warn(m),
    error: (m) => inner.error(m),
    child: (prefix) => quietLogger(inner.child(prefix), verbose),
  };
}

/** `radiusd test …` (argv without `test`). Resolves with the exit status. */
export async function policyTestMain(
  argv: readonly string[], io: TestIo, defaultConfdir: string, parts: { readonly modules: readonly AnyModuleDefinition[] },
): Promise<number> {
  let usage: string | undefined;
  const a = yargs([...argv])
    .scriptName('radiusd test')
    .usage('Usage: $0 [-d confdir] [-n name] [-X] [-v] [PATH …]   (PATH: test files or directories; default ${confdir}/tests)')
    .option('d', { type: 'string', description: 'Configuration directory (default: the embedded raddb/)' })
    .option('n', { type: 'string', default: 'radiusd', description: 'Read ${confdir}/<name>.conf' })
    .option('X', { type: 'boolean', default: false, description: 'Print the debug trace of every request' })
    .option('v', { type: 'boolean', default: false, description: 'Also list the tests that pass' })
    .strictOptions()
    .exitProcess(false)
    .fail((msg, e) => { usage = msg || e?.message || 'bad arguments'; })
    .parseSync();
  if (usage) {
    io.err(`radiusd test: ${usage}`);
    return 2;
  }
  const confdir = path.resolve(a.d ?? defaultConfdir);
  const paths = (a._ as (string | number)[]).map(String);
  const files = (() => {
    try {
      return findTestFiles(paths.length ? paths : [path.join(confdir, 'tests')]);
    } catch (e) {
      io.err(`radiusd test: ${(e as Error).message}`);
      return undefined;
    }
  })();
  if (!files) return 2;
  const rel = (f: string) => {
    const r = path.relative(process.cwd(), f);
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : f;
  };
  const where = (l: TestLoc) => `${rel(l.file)}[${l.line}]`;

  const lines = new LineLogger({ write: (l) => io.out(l) }, a.X, '', false);
  const log = quietLogger(new LineLogger({ write: (l) => io.err(l) }, a.X, '', false), a.X);
  // Warnings and errors of the request being run are shown under its FAIL line (all of it with -X).
  let requestLines: string[] = [];
  const trace = lines.requestSink();
  const server = new Server({
    file: path.join(confdir, `${a.n}.conf`), log, offline: true, debug: a.X, modules: parts.modules,
    requestLogSink: (level, line) => {
      if (a.X) trace(level, line);
      else if (level === 'warn' || level === 'error') requestLines.push(line);
    },
  });
  try {
    await server.start();
  } catch (e) {
    io.err(e instanceof Error ? e.message : String(e));
    io.err('radiusd test: the configuration cannot be loaded');
    return 2;
  }
  try {
    const dict = server.generation!.dict;
    const tests: PolicyTest[] = [];
    let broken = 0;
    for (const f of files) {
      try {
        tests.push(...parsePolicyTests(fs.readFileSync(f, 'utf8'), f, dict));
      } catch (e) {
        broken++;
        io.err(e instanceof TestFileError ? `${where(e.loc)}: ${e.message.slice(e.message.indexOf(']: ') + 3)}` : `${rel(f)}: ${(e as Error).message}`);
      }
    }
    if (broken) {
      io.err(`radiusd test: ${broken} test file(s) cannot be read`);
      return 2;
    }
    if (tests.length === 0) {
      io.err(`radiusd test: no tests found in ${(paths.length ? paths : [path.join(confdir, 'tests')]).join(', ')}`);
      return 2;
    }
    let passed = 0;
    let failed = 0;
    for (const t of tests) {
      requestLines = [];
      const r = await runPolicyTest(server, t, where);
      if (r.diffs.length === 0) {
        passed++;
        if (a.v) io.out(`ok   ${where(t.loc)} ${t.name}`);
        continue;
      }
      failed++;
      io.out(`FAIL ${where(t.loc)} ${t.name}`);
      for (const d of r.diffs) io.out(`  ${d}`);
      for (const c of r.context) io.out(`    ${c}`);
      for (const l of requestLines) io.out(`    ${l}`);
    }
    io.out(`${passed} passed, ${failed} failed`);
    return failed ? 1 : 0;
  } finally {
    await server.stop();
  }
}
