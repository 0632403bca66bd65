/**
 * The `modules` conformance suite: runs FreeRADIUS's module tests (`src/tests/modules/<m>/<t>.unlang`)
 * the way `unit_test_module` does (see `../shared/conformance/modules/SOURCE.md`, HOWTO), over our
 * real configuration loader, module loader and server (`Server.inject`).
 *
 * Per directory:
 * 1. Skip it when it has no `all.mk`, when a module it needs is not built (`dirs.ts`), or when its
 *    `start` hook says the servers it needs are not available.
 * 2. Copy it to a scratch directory: the tests write files into `MODULE_TEST_DIR`.
 * Per test (one fresh server each, as upstream runs one process per test):
 * 3. Set `MODULE_TEST_DIR` (with a trailing `/`), `MODULE_TEST_UNLANG`, `TEST`, `OUTPUT_DIR`.
 * 4. Load `_harness/unit_test_module.conf`: its top-level items that are not settings of ours
 *    (`raddb`, `modconfdir`, the SQL prefixes) become `${…}` variables, a relative path value being
 *    relative to the repository root as upstream's are to the source root (so `${raddb}` is our
 *    raddb/); top-level sections we do not have (`request { timeout }`) are left out.
 * 5. Inject the request of `<t>.attrs` (or `_harness/default-input.attrs`) into `server default`
 *    from 127.0.0.1:18120, client `test`; put the reply code in the reply as `Packet-Type` and
 *    compare with the filter (same attributes, same count, each value matching its operator).
 * A test whose `.unlang` holds `ERROR` also passes when loading fails at that line. Each server runs on
 * its own `SteppableClock` and has the test-only `%time.advance()` (`time-advance.ts`).
 *
 * Output: `modules: <dir>: P passed, F failed, S skipped` per directory and the total
 * `modules: P passed, F failed, S skipped`. Known failures: `test/conformance/modules-expected.txt`
 * (`dir/test  reason`); an unlisted failure makes the exit code 1.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryLogger } from '../../../core/log/memory';
import { parsePairListWithOps, type PairWithOp } from '../../../core/pair/text';
import { Pair } from '../../../core/pair/pair';
import type { LogSink } from '../../../core/request/request-log';
import { Server } from '../../../core/server/server';
import { MainSchema } from '../../../core/server/settings';
import { loadDefaultDictionary } from '../../../core/dict/default';
import { BUILTIN_MODULES, MODULE_NAMESPACES } from '../../../modules';
import { NamespaceRegistry } from '../../../core/process/namespace';
import { RADIUS_NAMESPACE } from '../../../core/process/radius/namespace';
import { inertListener } from '../../support/listen';
import { splitAttrs, validate } from '../unlang/runner';
import { harnessXlats } from './time-advance';
import type { SuiteOptions } from '../suites';
import { dirSpec, type DirServers, type TestContext } from './dirs';

/** Outcome of one module test (or of a skipped directory, one result per test). */
export interface ModuleTestResult {
  /** `dir/test`. */
  name: string;
  dir: string;
  status: 'pass' | 'fail' | 'skip';
  reason?: string;
}

/** Options of {@link runModuleTests}. */
export interface ModuleRunOptions {
  /** Only these directories (names), or these tests (`dir/test`). */
  only?: string[];
  /** Print the per-request debug trace to stderr. */
  debug?: boolean;
  /** Keep the scratch directories (their path is printed). */
  keep?: boolean;
  log?: (line: string) => void;
}

/** The repository root (from dist/test/conformance/modules or test/conformance/modules). */
export function repoRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'raddb'))) return d;
    d = path.dirname(d);
  }
  return path.resolve(__dirname, '..', '..', '..');
}

/** Test names (`<t>` of `<t>.unlang`) of a directory, sorted. */
export function listModuleTests(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.unlang')).map((n) => n.slice(0, -'.unlang'.length)).sort();
}

/** Test directories of a corpus: every subdirectory not starting with `_` or `.`. */
export function listModuleDirs(corpus: string): string[] {
  return fs.readdirSync(corpus)
    .filter((n) => !n.startsWith('_') && !n.startsWith('.') && fs.statSync(path.join(corpus, n)).isDirectory())
    .sort();
}

const SETTINGS = new Set(Object.keys(MainSchema.fields).map((k) => k.toLowerCase()));

/**
 * The harness configuration as our loader reads it: the text with the top-level items we have no
 * setting for blanked (line numbers kept), and those items as variables. Relative path values are
 * resolved against `root`.
 */
export function harnessConfig(text: string, root: string): { text: string; variables: Record<string, string> } {
  const lines = text.split('\n');
  const variables: Record<string, string> = {};
  let depth = 0;
  let dropping = -1; // depth at which an unknown section started
  const expand = (v: string) => v.replace(/\$\{([^}]+)\}/g, (m, n: string) => variables[n] ?? m);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const t = line.replace(/#.*$/, '').trim();
    const opens = (t.match(/\{/g) ?? []).length - (t.match(/\$\{|\$ENV\{/g) ?? []).length;
    const closes = (t.match(/\}/g) ?? []).length - (t.match(/\$\{[^}]*\}|\$ENV\{[^}]*\}/g) ?? []).length;
    if (depth === 0 && dropping < 0 && t && !t.startsWith('$')) {
      const pair = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(t);
      const sec = /^([A-Za-z0-9_.-]+)\s*(?:[A-Za-z0-9_.-]+\s*)?\{/.exec(t);
      if (pair && !SETTINGS.has(pair[1].toLowerCase())) {
        let v = pair[2].trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
        v = expand(v);
        if (/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(v) && !v.includes(' ') && fs.existsSync(path.join(root, v))) v = path.join(root, v);
        variables[pair[1]] = v;
        lines[i] = '';
        continue;
      }
      if (sec && !SETTINGS.has(sec[1].toLowerCase())) dropping = 0;
    }
    depth += opens - closes;
    if (dropping >= 0) {
      lines[i] = '';
      if (depth <= 0) dropping = -1;
    }
  }
  return { text: lines.join('\n'), variables };
}

/** A listener that never opens a socket (the harness site has none, but a module.conf could add one). */
interface ErrorWithLoc extends Error { file?: string; line?: number; loc?: { file: string; line: number } }

function errorLine(text: string): number {
  return text.split('\n').findIndex((l) => /\bERROR\b/.test(l)) + 1;
}

/** Runs one test in a prepared (writable) directory. */
async function runOne(ctx: TestContext, harness: string, hdir: string, opts: ModuleRunOptions): Promise<ModuleTestResult> {
  const name = `${ctx.name}/${ctx.test}`;
  const unlang = path.join(ctx.dir, `${ctx.test}.unlang`);
  const attrsFile = fs.existsSync(path.join(ctx.dir, `${ctx.test}.attrs`)) ? path.join(ctx.dir, `${ctx.test}.attrs`) : path.join(hdir, 'default-input.attrs');
  const marker = errorLine(fs.readFileSync(unlang, 'utf8'));
  const { text, variables } = harnessConfig(harness, ctx.root);
  fs.mkdirSync(ctx.outputDir, { recursive: true });
  const conf = path.join(ctx.outputDir, 'unit_test_module.conf');
  fs.writeFileSync(conf, text);

  const dict = loadDefaultDictionary();
  const { input, filter } = splitAttrs(fs.readFileSync(attrsFile, 'utf8'));
  let inputPairs: PairWithOp[];
  let filterPairs: PairWithOp[];
  try {
    inputPairs = parsePairListWithOps(input, dict);
    filterPairs = parsePairListWithOps(filter, dict);
  } catch (e) {
    return { name, dir: ctx.name, status: 'fail', reason: `bad .attrs: ${(e as Error).message}` };
  }
  const packetType = dict.resolve('Packet-Type')!;
  const ptPair = inputPairs.find((p) => p.pair.da === packetType)?.pair;
  if (!ptPair) return { name, dir: ctx.name, status: 'fail', reason: 'the .attrs input has no Packet-Type' };
  const code = Number(ptPair.value);
  const pairs = inputPairs.filter((p) => p.pair.da !== packetType).map((p) => p.pair);

  const log = new MemoryLogger(false);
  const sink: LogSink | undefined = opts.debug ? (_l, line) => process.stderr.write(line + '\n') : undefined;
  const { clock, xlats } = harnessXlats();
  const server = new Server({ file: conf, log, triggers: false, variables, createListener: inertListener, debug: opts.debug, requestLogSink: sink, modules: BUILTIN_MODULES,
    namespaces: new NamespaceRegistry([RADIUS_NAMESPACE, ...MODULE_NAMESPACES]), services: { clock }, xlats });
  try {
    await server.start();
  } catch (e) {
    const err = e as ErrorWithLoc;
    const file = err.file ?? err.loc?.file;
    const line = err.line ?? err.loc?.line;
    if (marker > 0 && file && path.resolve(file) === path.resolve(unlang) && line === marker) return { name, dir: ctx.name, status: 'pass' };
    return { name, dir: ctx.name, status: 'fail', reason: `load: ${err.message.split('\n')[0]}` };
  }
  try {
    const r = await server.inject('default', { code, pairs, src: { address: '127.0.0.1', port: 18120 }, client: 'test', via: 'unit_test_module' });
    const reply = r.pairs.slice();
    // FreeRADIUS's RADIUS process copies the request's Proxy-State into the reply list; ours echoes it
    // when encoding (core/process/radius/process.ts), which an in-process request skips: add it here
    // as the packet would carry it.
    if (r.code) {
      const proxyState = dict.resolve('Proxy-State');
      const echoed = r.request.request.filter((p) => p.da === proxyState);
      if (echoed.length) {
        for (let i = reply.length - 1; i >= 0; i--) if (reply[i].da === proxyState) reply.splice(i, 1);
        reply.push(...echoed);
      }
    }
    const typeValue = packetType.values?.get(r.name.toLowerCase()) ?? r.code ?? 0;
    reply.push(new Pair(packetType, typeValue));
    const why = validate(reply, filterPairs);
    if (!why) return { name, dir: ctx.name, status: 'pass' };
    const errors = r.request.log.errors;
    if (marker > 0) {
      const hit = errors.find((l) => l.includes(`${ctx.test}.unlang[`));
      const m = hit ? /\.unlang\[(\d+)\]/.exec(hit) : null;
      if (m && Number(m[1]) === marker) return { name, dir: ctx.name, status: 'pass' };
    }
    const errs = errors.length ? `; errors: ${errors.slice(0, 3).join(' | ')}` : '';
    return { name, dir: ctx.name, status: 'fail', reason: why + errs };
  } catch (e) {
    return { name, dir: ctx.name, status: 'fail', reason: `inject: ${(e as Error).message}` };
  } finally {
    await server.stop();
  }
}

/** Sets environment variables; returns a function that restores the old values. */
function withEnv(vars: Readonly<Record<string, string>>): () => void {
  const old: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    old[k] = process.env[k];
    process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/**
 * The client unit_test_module uses when the test directory has no clients.conf (SOURCE.md): secret
 * `supersecret`, nas_type and shortname `test`, here for the address the requests come from.
 */
const DEFAULT_CLIENT = "client test {\n\tipaddr = 127.0.0.1\n\tsecret = 'supersecret'\n\tnas_type = 'test'\n\tshortname = 'test'\n}\n";

/** Runs the module tests of a corpus (`../shared/conformance/modules`). */
export async function runModuleTests(corpus: string, opts: ModuleRunOptions = {}): Promise<ModuleTestResult[]> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const root = repoRoot();
  const hdir = path.join(corpus, '_harness');
  const harness = fs.readFileSync(path.join(hdir, 'unit_test_module.conf'), 'utf8');
  const built = new Set(BUILTIN_MODULES.map((m) => m.name));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tsradius-modules-'));
  const results: ModuleTestResult[] = [];
  const wanted = (dir: string, test?: string) =>
    !opts.only?.length || opts.only.includes(dir) || (test !== undefined && opts.only.includes(`${dir}/${test}`));
  try {
    for (const dir of listModuleDirs(corpus)) {
      const src = path.join(corpus, dir);
      const tests = listModuleTests(src).filter((t) => wanted(dir, t));
      if (!tests.length) continue;
      const skipAll = (reason: string) => { for (const t of tests) results.push({ name: `${dir}/${t}`, dir, status: 'skip', reason }); };
      const spec = dirSpec(dir);
      if (!fs.existsSync(path.join(src, 'all.mk'))) { skipAll('no all.mk (upstream never runs this directory)'); continue; }
      const missing = (spec.modules ?? [dir]).filter((m) => !built.has(m));
      if (missing.length) { skipAll(`module not built (${missing.join(', ')})`); continue; }
      const copy = path.join(scratch, 'tests', dir);
      fs.cpSync(src, copy, { recursive: true });
      for (const f of fs.readdirSync(copy)) {
        // The corpus is read-only; its copy must not be. Executables (helper scripts) stay executable.
        try {
          const st = fs.statSync(path.join(copy, f));
          fs.chmodSync(path.join(copy, f), st.isDirectory() || (st.mode & 0o111) !== 0 ? 0o755 : 0o644);
        } catch { /* best effort */ }
      }
      fs.chmodSync(copy, 0o755);
      // Without a clients.conf of the directory, unit_test_module runs the request from a built-in client.
      if (!fs.existsSync(path.join(copy, 'clients.conf'))) fs.writeFileSync(path.join(copy, 'clients.conf'), DEFAULT_CLIENT);
      const dctx = { name: dir, dir: copy, workDir: path.join(scratch, 'work', dir), root, log };
      fs.mkdirSync(dctx.workDir, { recursive: true });
      let servers: DirServers = {};
      if (spec.start) {
        const s = await spec.start(dctx);
        if (typeof s === 'string') { skipAll(s); continue; }
        servers = s;
      }
      const cwd = process.cwd();
      if (servers.cwd) process.chdir(servers.cwd);
      try {
        for (const test of tests) {
          const tctx: TestContext = { ...dctx, test, outputDir: path.join(scratch, 'out', dir, test) };
          const env: Record<string, string> = {
            ...(servers.env ?? {}),
            MODULE_TEST_DIR: copy + '/',
            MODULE_TEST_UNLANG: path.join(copy, `${test}.unlang`),
            TEST: `${dir} ${test}`,
            OUTPUT_DIR: tctx.outputDir + '/',
          };
          const restore = withEnv(env);
          try {
            const more = await servers.beforeTest?.(tctx);
            const restore2 = more ? withEnv(more) : () => undefined;
            try {
              results.push(await runOne(tctx, harness, hdir, opts));
            } finally {
              restore2();
            }
          } catch (e) {
            results.push({ name: `${dir}/${test}`, dir, status: 'fail', reason: `crash: ${(e as Error).stack ?? String(e)}` });
          } finally {
            restore();
          }
        }
      } finally {
        process.chdir(cwd);
        await servers.stop?.();
      }
    }
  } finally {
    if (opts.keep) log(`scratch kept in ${scratch}`);
    else fs.rmSync(scratch, { recursive: true, force: true });
  }
  return results;
}

/** Reads `dir/test  reason` lines (`#` comments, blank lines ignored). */
export function loadModuleExpectations(file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync(file)) return out;
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = raw.trim();
    if (!t || t.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(t);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/** Default expectations file. */
export function defaultModuleExpectations(): string {
  return path.join(repoRoot(), 'test', 'conformance', 'modules-expected.txt');
}

/** Per-directory and total counts, and the failures not in the expectations. */
export function tally(results: readonly ModuleTestResult[], expect: Map<string, string>) {
  const perDir = new Map<string, { passed: number; failed: number; skipped: number }>();
  const total = { passed: 0, failed: 0, skipped: 0 };
  const unexpected: ModuleTestResult[] = [];
  const expectedFailures: ModuleTestResult[] = [];
  const fixed: string[] = [];
  for (const r of results) {
    const d = perDir.get(r.dir) ?? { passed: 0, failed: 0, skipped: 0 };
    perDir.set(r.dir, d);
    const k = r.status === 'pass' ? 'passed' : r.status === 'fail' ? 'failed' : 'skipped';
    d[k]++;
    total[k]++;
    if (r.status === 'pass' && expect.has(r.name)) fixed.push(r.name);
    if (r.status === 'fail') (expect.has(r.name) ? expectedFailures : unexpected).push(r);
  }
  return { perDir, total, unexpected, expectedFailures, fixed };
}

/** Suite entry point: `conformance modules DIR [dir|dir/test …] [-v] [-X] [--keep] [--expect FILE]`. */
export async function run(opts: SuiteOptions): Promise<number> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const only = opts.extra.filter((e) => !e.startsWith('-'));
  const debug = opts.extra.includes('-X') || opts.extra.includes('--debug');
  const keep = opts.extra.includes('--keep');
  const results = await runModuleTests(opts.dir, { only, debug, keep, log });
  const expect = loadModuleExpectations(opts.expect ?? defaultModuleExpectations());
  const t = tally(results, expect);
  for (const r of results) {
    if (r.status === 'pass' && opts.verbose) log(`pass ${r.name}`);
    if (r.status === 'skip' && opts.verbose) log(`skip ${r.name}: ${r.reason}`);
  }
  for (const r of t.expectedFailures) log(`expected failure ${r.name}: ${expect.get(r.name)}${opts.verbose ? ` (${r.reason})` : ''}`);
  for (const n of t.fixed) log(`fixed ${n} (remove it from the expectations file)`);
  for (const r of t.unexpected) log(`FAIL ${r.name}: ${r.reason ?? ''}`);
  const skippedDirs = new Map<string, string>();
  for (const r of results) if (r.status === 'skip' && r.reason) skippedDirs.set(r.dir, r.reason);
  for (const [dir, c] of t.perDir) {
    const why = c.skipped && skippedDirs.has(dir) ? ` (${skippedDirs.get(dir)})` : '';
    log(`modules: ${dir}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped${why}`);
  }
  if (t.unexpected.length) log(`${t.unexpected.length} unexpected failure(s)`);
  else if (t.expectedFailures.length) log(`every failure is a listed one (${t.expectedFailures.length} in ${path.basename(opts.expect ?? defaultModuleExpectations())})`);
  log(`modules: ${t.total.passed} passed, ${t.total.failed} failed, ${t.total.skipped} skipped`);
  return t.unexpected.length ? 1 : 0;
}
