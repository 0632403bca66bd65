/**
 * Runner for FreeRADIUS RADIUS codec vector files (`src/tests/unit/protocols/radius/*.txt`).
 *
 * Command language (freeradius-v4.md §4(b)): each line is one command writing
 * a shared data buffer; `match` compares the buffer; `-` as argument means
 * "the current buffer". One result is recorded per command line. A failing
 * `match` does not stop the file (so later commands still get a result);
 * a command error (e.g. a dictionary that does not load) stops it and the
 * remaining commands count as skipped, as do those after `exit`, `eof` or
 * `need-feature`.
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Dictionary } from '../../../core/dict/dictionary';
import { Pair } from '../../../core/pair/pair';
import { parsePairList, printPairList } from '../../../core/pair/text';
import { loadExpectations, report, writeExpectations, type CommandResult } from '../report';
import type { SuiteOptions } from '../suites';
import type { CodecBinding } from './binding';
import { bind } from './bind';
import { buildRaw } from './raw';

const DEFAULT_BUFFER_SIZE = 1024;

/** Where the runner finds dictionaries. */
export interface CodecSuiteConfig {
  /** The RADIUS dictionary directory (`proto-dictionary radius`). */
  dictDir: string;
  /** The server-internal dictionary directory (Tmp-*, …), if any. */
  internalDir?: string;
  /**
   * More commands (the unit suite's `value`, `cast`, `calc` …), tried before the codec's own.
   * Returns undefined for a command it does not know.
   */
  commands?: (cmd: string, args: string, st: FileState) => CommandOutcome | undefined;
  /** Where `load-dictionary NAME` looks when NAME is not beside the test file. */
  resolveDictionary?: (name: string, testDir: string) => string | undefined;
}

/** What a command did: `ok` (its output is in `st.data`), a `mismatch`, an `error` that stops the file … */
export interface CommandOutcome {
  outcome: Outcome;
  expected?: string;
  reason?: string;
}

export type Outcome = 'ok' | 'mismatch' | 'error' | 'exit' | 'skip-file';

/** Per-file state of the command language: the data buffer, the dictionaries, counters. */
export class FileState {
  data = '';
  dict?: Dictionary;
  internal: Dictionary[] = [];
  codec?: CodecBinding;
  extras: string[] = [];
  returned = 0;
  maxBuffer = DEFAULT_BUFFER_SIZE;
  okCount = 0;
  constructor(readonly path: string) {}
}

/** Loaded dictionaries, keyed by directory and extra files (loading the full tree is slow). */
const dictCache = new Map<string, Dictionary>();

/** A dictionary directory plus extra files, cached. */
export function loadDict(dir: string, extras: readonly string[]): Dictionary {
  const key = [dir, ...extras].join('\0');
  let d = dictCache.get(key);
  if (!d) {
    d = Dictionary.load(dir);
    for (const f of extras) d.loadFile(f);
    dictCache.set(key, d);
  }
  return d;
}

/** Takes a dictionary out of the cache (a test is about to change it with `dictionary` statements). */
export function uncacheDict(d: Dictionary): void {
  for (const [k, v] of dictCache) if (v === d) dictCache.delete(k);
}

function hexOut(b: Buffer): string {
  return b.toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

function parseHex(text: string): Buffer {
  const h = text.replace(/\s+/g, '');
  if (h.length % 2 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error(`Invalid hex string "${text.slice(0, 40)}"`);
  return Buffer.from(h, 'hex');
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs `fn`; when it throws, the command's output becomes `ERROR: message` and the result is undefined. */
function orError<T>(st: FileState, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    st.data = 'ERROR: ' + errText(e);
    return undefined;
  }
}

/** Encoded bytes as the command's output: hex, and their length as `returned`. */
function bytesOut(st: FileState, b: Buffer): void {
  st.data = hexOut(b);
  st.returned = b.length;
}

/** A failed codec call as the command's output: `ERROR: …`, and the offset it reports as `returned` (-1 when none). */
function failed(st: FileState, r: { error: string; returned?: number }): void {
  st.data = 'ERROR: ' + r.error;
  st.returned = r.returned ?? -1;
}

/** Splits `cmd args` at the first whitespace; leading whitespace of args is dropped. */
function splitCommand(line: string): [string, string] {
  const m = /^(\S+)(?:\s+|$)(.*)$/s.exec(line);
  return m ? [m[1], m[2]] : [line, ''];
}

function argOrData(args: string, st: FileState): string {
  return args === '-' || args.startsWith('- ') || args.startsWith('-\t') ? st.data : args;
}

/** Runs one command; returns its outcome, and for mismatches the expected text. */
function runCommand(cmd: string, args: string, st: FileState, cfg: CodecSuiteConfig): CommandOutcome {
  const extra = cfg.commands?.(cmd, args, st);
  if (extra) return extra;
  const needDict = (): CodecBinding => {
    if (!st.dict || !st.codec) throw new Error('no protocol dictionary loaded (proto-dictionary missing)');
    return st.codec;
  };
  const parsePairs = (text: string): Pair[] =>
    parsePairList(text, st.dict!, { fallback: st.internal });

  switch (cmd) {
    case 'proto':
      if (args.trim().toLowerCase() !== 'radius') return { outcome: 'error', reason: `unsupported protocol "${args}"` };
      st.data = '';
      return { outcome: 'ok' };
    case 'proto-dictionary': {
      const [name, dir] = args.trim().split(/\s+/);
      if (name.toLowerCase() !== 'radius') return { outcome: 'error', reason: `unsupported protocol dictionary "${name}"` };
      const base = dir ? resolve(dirname(cfg.dictDir), dir) : cfg.dictDir;
      st.extras = [];
      st.dict = loadDict(base, st.extras);
      st.internal = cfg.internalDir ? [loadDict(cfg.internalDir, [])] : [];
      st.codec = bind(st.dict);
      st.data = '';
      return { outcome: 'ok' };
    }
    case 'load-dictionary': {
      if (!st.dict) return { outcome: 'error', reason: 'load-dictionary before proto-dictionary' };
      const [name, dir] = args.trim().split(/\s+/);
      const testDir = dir ? resolve(dirname(st.path), dir) : dirname(st.path);
      let file = resolve(testDir, name);
      if (!existsSync(file)) file = cfg.resolveDictionary?.(name, testDir) ?? file;
      st.extras = [...st.extras, file];
      st.dict = loadDict(cfg.dictDir, st.extras);
      st.codec = bind(st.dict);
      st.data = '';
      return { outcome: 'ok' };
    }
    case 'fuzzer-out':
      st.data = '';
      return { outcome: 'ok' };
    case 'max-buffer-size': {
      const n = args.trim() ? Number(args.trim()) : DEFAULT_BUFFER_SIZE;
      if (!Number.isInteger(n) || n < 0) return { outcome: 'error', reason: `invalid buffer size "${args}"` };
      st.maxBuffer = n;
      st.data = String(n);
      return { outcome: 'ok' };
    }
    case 'returned':
      st.data = String(st.returned);
      return { outcome: 'ok' };
    case 'count':
      st.data = String(st.okCount);
      return { outcome: 'ok' };
    case 'match':
      return st.data === args ? { outcome: 'ok' } : { outcome: 'mismatch', expected: args };
    case 'match-regex':
      return new RegExp(args).test(st.data) ? { outcome: 'ok' } : { outcome: 'mismatch', expected: `/${args}/` };
    case 'pair': {
      needDict();
      const text = orError(st, () => printPairList(parsePairs(argOrData(args, st))));
      if (text !== undefined) st.data = text;
      return { outcome: 'ok' };
    }
    case 'encode-pair': {
      const codec = needDict();
      let text = argOrData(args, st);
      let truncate = false;
      const t = /^truncate(?:\s+|$)(.*)$/s.exec(text);
      if (t) {
        truncate = true;
        text = argOrData(t[1], st);
      }
      const pairs = orError(st, () => parsePairs(text));
      if (!pairs) return { outcome: 'ok' };
      let r = codec.encodePairs(pairs, st.maxBuffer);
      if (truncate) {
        for (let n = 0; n <= st.maxBuffer; n++) {
          r = codec.encodePairs(pairs, n);
          if (r.ok) break;
        }
      }
      if (r.ok) bytesOut(st, r.value);
      else failed(st, r);
      return { outcome: 'ok' };
    }
    case 'decode-pair': {
      const codec = needDict();
      const data = orError(st, () => parseHex(argOrData(args, st)));
      if (!data) return { outcome: 'ok' };
      const r = codec.decodePairs(data);
      if (r.ok) {
        st.data = printPairList(r.value);
        st.returned = data.length;
      } else {
        failed(st, r);
      }
      return { outcome: 'ok' };
    }
    case 'decode-proto': {
      const codec = needDict();
      const data = orError(st, () => parseHex(argOrData(args, st)));
      if (!data) return { outcome: 'ok' };
      const r = codec.decodePacket(data);
      if (!r.ok) {
        failed(st, r);
        return { outcome: 'ok' };
      }
      const head: Pair[] = [];
      const pt = st.dict!.resolve('Packet-Type');
      const pav = st.dict!.resolve('Packet-Authentication-Vector');
      if (pt) head.push(new Pair(pt, r.value.code));
      if (pav) head.push(new Pair(pav, r.value.authenticator));
      st.data = printPairList([...head, ...r.value.pairs]);
      st.returned = data.length;
      return { outcome: 'ok' };
    }
    case 'encode-proto': {
      const codec = needDict();
      const pairs = orError(st, () => parsePairs(argOrData(args, st)));
      if (!pairs) return { outcome: 'ok' };
      let code = 1;
      let auth: Buffer | undefined;
      const rest: Pair[] = [];
      for (const p of pairs) {
        if (p.da.name === 'Packet-Type' && p.da.parent?.type === 'root' && typeof p.value === 'number') code = p.value;
        else if (p.da.name === 'Packet-Authentication-Vector' && Buffer.isBuffer(p.value)) auth = p.value;
        else rest.push(p);
      }
      const r = codec.encodePacket(code, rest, auth);
      if (r.ok) bytesOut(st, r.value);
      else failed(st, r);
      return { outcome: 'ok' };
    }
    case 'raw': {
      const b = orError(st, () => buildRaw(args));
      if (b) bytesOut(st, b);
      return { outcome: 'ok' };
    }
    case 'exit':
      return { outcome: 'exit' };
    case 'eof':
      return { outcome: 'exit' };
    case 'need-feature':
      return { outcome: 'skip-file', reason: `feature "${args.trim()}" not available` };
    default:
      return { outcome: 'error', reason: `unknown command "${cmd}"` };
  }
}

/** Runs one vector file and returns one result per command line. */
export function runVectorFile(path: string, cfg: CodecSuiteConfig): CommandResult[] {
  const file = basename(path);
  const lines = readFileSync(path, 'utf8').split('\n');
  const st = new FileState(path);
  const results: CommandResult[] = [];
  let abort: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const trimmed = line.trimStart();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const lineNo = i + 1;
    if (abort !== undefined) {
      results.push({ file, line: lineNo, command: trimmed, status: 'skip', reason: abort });
      continue;
    }
    let [cmd, args] = splitCommand(trimmed);
    let invert = false;
    if (cmd === 'no') {
      invert = true;
      [cmd, args] = splitCommand(args);
    }
    let res: CommandOutcome;
    try {
      res = runCommand(cmd, args, st, cfg);
    } catch (e) {
      res = { outcome: 'error', reason: errText(e) };
    }
    if (invert && res.outcome === 'mismatch') res = { outcome: 'ok' };
    else if (invert && res.outcome === 'ok' && (cmd === 'match' || cmd === 'match-regex')) res = { outcome: 'mismatch', expected: `not ${args}` };
    switch (res.outcome) {
      case 'ok':
        results.push({ file, line: lineNo, command: trimmed, status: 'pass' });
        if (cmd !== 'count') st.okCount++;
        break;
      case 'mismatch':
        results.push({ file, line: lineNo, command: trimmed, status: 'fail', expected: res.expected, got: st.data });
        break;
      case 'error':
        results.push({ file, line: lineNo, command: trimmed, status: 'fail', reason: res.reason });
        abort = `file aborted at line ${lineNo}: ${res.reason}`;
        break;
      case 'exit':
        results.push({ file, line: lineNo, command: trimmed, status: 'pass' });
        abort = `after ${cmd} at line ${lineNo}`;
        break;
      case 'skip-file':
        results.push({ file, line: lineNo, command: trimmed, status: 'skip', reason: res.reason });
        abort = res.reason;
        break;
    }
  }
  return results;
}

/** The vector files of a directory (sorted), or the single file given. */
export function vectorFiles(dirOrFile: string): string[] {
  if (statSync(dirOrFile).isFile()) return [dirOrFile];
  return readdirSync(dirOrFile)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => join(dirOrFile, f));
}

/** Default dictionary locations: `--dict`, else `<vectors>/../dictionaries/radius-full`; internal beside it. */
export function codecConfig(dir: string, dict?: string): CodecSuiteConfig {
  const vecDir = statSync(dir).isFile() ? dirname(dir) : dir;
  const dictDir = resolve(dict ?? join(vecDir, '..', 'dictionaries', 'radius-full'));
  const internal = resolve(dictDir, '..', 'freeradius-internal');
  return { dictDir, internalDir: existsSync(join(internal, 'dictionary')) ? internal : undefined };
}

/** Default expectations file: `test/conformance/codec-expected.txt` in the source tree. */
export function defaultExpectations(): string {
  // Compiled to dist/test/conformance/codec/runner.js; sources are in test/conformance/.
  const candidates = [
    resolve(__dirname, '..', 'codec-expected.txt'),
    resolve(__dirname, '..', '..', '..', '..', 'test', 'conformance', 'codec-expected.txt'),
    resolve(process.cwd(), 'test', 'conformance', 'codec-expected.txt'),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** Runs every vector file and returns all results. */
export function runCodecVectors(dir: string, dict?: string): CommandResult[] {
  const cfg = codecConfig(dir, dict);
  const out: CommandResult[] = [];
  for (const f of vectorFiles(dir)) out.push(...runVectorFile(f, cfg));
  return out;
}

/** Suite entry point (see `suites.ts`). */
export async function run(opts: SuiteOptions): Promise<number> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  if (!existsSync(opts.dir)) {
    log(`codec: vector directory ${opts.dir} not found`);
    log('codec: 0 passed, 1 failed, 0 skipped');
    return 1;
  }
  const results = runCodecVectors(opts.dir, opts.dict);
  const expectations = loadExpectations(opts.expect ?? defaultExpectations());
  const w = opts.extra.indexOf('--write-expect');
  if (w >= 0 && opts.extra[w + 1]) {
    const n = writeExpectations(opts.extra[w + 1], 'codec', results, expectations);
    log(`wrote ${n} expected failure(s) to ${opts.extra[w + 1]}`);
  }
  return report('codec', results, expectations, opts.verbose, log);
}
