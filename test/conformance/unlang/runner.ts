/**
 * The `unlang` conformance suite: runs FreeRADIUS keyword tests
 * (`src/tests/keywords/`) the way the upstream harness does.
 *
 * For each test file:
 * 1. Build the harness server: `policy { policy.conf + policy_return + accept }`,
 *    the virtual modules, and `recv Access-Request { control.Password.Cleartext := "hello";
 *    group { <test> }; if (control.Password.Cleartext) { pap } else { accept } }`
 *    plus `authenticate pap { pap }`.
 * 2. Compile. A test whose text contains `ERROR` passes only when compilation
 *    fails at the line carrying `ERROR`.
 * 3. Run the input (`<test>.attrs` or `_harness/default-input.attrs`) through
 *    recv, then the authenticate step chosen by `control.Auth-Type`.
 * 4. Add `Packet-Type` (Access-Accept / Access-Reject) to the reply; the reply must
 *    equal the filter exactly (same attributes, same count, values match).
 *
 * Last output line: `unlang: P passed, F failed`. Known failures are listed in
 * `test/conformance/unlang-expected.txt` as `test-name  reason`.
 */

import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { findSection, type ConfItem, type ConfSection } from '../../../core/config/ast';
import { parseConfigString } from '../../../core/config/parser';
import { loadDefaultDictionary } from '../../../core/dict/default';
import type { Dictionary } from '../../../core/dict/dictionary';
import { Pair } from '../../../core/pair/pair';
import { parsePairListWithOps, type PairWithOp } from '../../../core/pair/text';
import { Request } from '../../../core/request/request';
import { stderrSink } from '../../../core/request/request-log';
import { Compiler } from '../../../core/unlang/compile/compiler';
import type { CompiledSection } from '../../../core/unlang/compile/types';
import type { VirtualServers } from '../../../core/unlang/servers';
import type { Rcode } from '../../../core/request/rcode';
import { runSection } from '../../../core/unlang/interpret/interpreter';
import { type Box, compareBoxes } from '../../../core/unlang/xlat/box';
import { globalXlats } from '../../../core/unlang/xlat/registry';
import { pairBox } from '../../../core/unlang/xlat/eval';
import { harnessModules } from './modules';
import type { SuiteOptions } from '../suites';

/** Outcome of one keyword test. */
export interface KeywordResult {
  name: string;
  pass: boolean;
  reason?: string;
}

/** Options for {@link runKeywordTest}. */
export interface KeywordOptions {
  /** Turn on the interpreter's debug trace (printed to stderr). */
  debug?: boolean;
  /** The harness folder (policy.conf, default-input.attrs); default `<tests>/_harness`. */
  harness?: string;
}

const SKIP_EXT = /\.(attrs|ignore|conf|md|servers|mk)$/;

/** Test names in a directory (every file that is not an .attrs/.conf/... companion). */
export function listTests(dir: string): string[] {
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir)
    .filter((n) => !n.startsWith('_') && !n.startsWith('.') && !SKIP_EXT.test(n) && n !== 'SOURCE.md')
    .filter((n) => statSync(join(dir, n)).isFile())
    .sort()
    .map((n) => join(dir, n));
}

function harnessDir(testsDir: string): string {
  return join(testsDir, '_harness');
}

/** Splits an .attrs file into the input text and the reply-filter text. */
export function splitAttrs(text: string): { input: string; filter: string } {
  const input: string[] = [];
  const filter: string[] = [];
  let inFilter = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const t = line.trim();
    if (t.startsWith('#')) continue;
    if (t === '') {
      if (input.length) inFilter = true;
      continue;
    }
    (inFilter ? filter : input).push(line);
  }
  return { input: input.join('\n'), filter: filter.join('\n') };
}

function harnessConfig(hdir: string, testFile: string): string {
  return `
policy {
$INCLUDE ${join(hdir, 'policy.conf')}
	policy_return {
		if ("bar" == "bar") {
			return
		}
		test_fail
	}
	accept {
		control.Auth-Type := ::Accept
	}
}
modules {
	load-balance aaa {
		ok
		fail
	}
	load-balance virtual_instantiate {
		ok
		updated
	}
	load-balance keyed-virtual Calling-Station-Id {
		group {
			control.Filter-Id := 1
		}
		group {
			control.Filter-Id := 2
		}
	}
	redundant redundant_test {
		test1
		test2
	}
	@policy at_policy {
		at_policy
		control.Tmp-String-0 := "at_policy"
	}
}
server default {
	recv Access-Request {
		control.Password.Cleartext := "hello"
		group {
$INCLUDE ${testFile}
		}
		if (control.Password.Cleartext) {
			pap
		}
		else {
			accept
		}
	}
	authenticate pap {
		pap
	}
}
server second {
	recv Access-Request {
		reply.Reply-Message := "call second"
		accept
	}
}
$-INCLUDE ${testFile}.servers
`;
}

interface HarnessServer {
  recv: CompiledSection;
  authenticate: Map<string, CompiledSection>;
}

interface Harness extends HarnessServer {
  servers: Map<string, HarnessServer>;
}

/**
 * Runs a request through a harness server: `recv Access-Request`, then the `authenticate`
 * section chosen by `control.Auth-Type`. Gives the reply code and the last section's rcode.
 */
async function runServer(server: HarnessServer, req: Request): Promise<{ code: string; rcode: Rcode }> {
  let code = 'Access-Reject';
  let rc = runSection(server.recv, req);
  if (rc instanceof Promise) rc = await rc;
  let last: Rcode = rc;
  if (rc === 'handled') code = 'Do-Not-Respond';
  else if (rc === 'ok' || rc === 'updated' || rc === 'noop' || rc === 'notfound') {
    const authType = req.control.find((p) => p.da.name === 'Auth-Type');
    const at = authType ? authType.da.nameOfValue(authType.value!) ?? String(authType.value) : undefined;
    if (at && at.toLowerCase() === 'accept') code = 'Access-Accept';
    else if (at && at.toLowerCase() !== 'reject') {
      const sec = server.authenticate.get(at.toLowerCase());
      if (sec) {
        let ar = runSection(sec, req);
        if (ar instanceof Promise) ar = await ar;
        last = ar;
        if (ar === 'ok' || ar === 'updated') code = 'Access-Accept';
      }
    }
  }
  return { code, rcode: last };
}

function compileHarness(dict: Dictionary, hdir: string, testFile: string): Harness {
  const root = parseConfigString(harnessConfig(hdir, testFile), join(hdir, 'unit_test_module.conf'));
  const policies = new Map<string, ConfSection>();
  const virtualModules = new Map<string, ConfSection>();
  const policySec = findSection(root, 'policy');
  for (const c of policySec?.children ?? []) if (c.kind === 'section') policies.set(c.name1, c);
  const mods = findSection(root, 'modules');
  for (const c of mods?.children ?? []) {
    if (c.kind !== 'section' || !c.name2) continue;
    if (c.name1 === '@policy') policies.set(c.name2, c);
    else if (['redundant', 'load-balance', 'redundant-load-balance', 'group'].includes(c.name1)) virtualModules.set(c.name2, c);
  }
  const xlats = globalXlats.child();
  const servers = new Map<string, HarnessServer>();
  const serverSections = root.children.filter((c): c is ConfSection => c.kind === 'section' && c.name1 === 'server' && !!c.name2);
  const names = new Set(serverSections.map((c) => c.name2!));
  const virtualServers: VirtualServers = {
    has: (name) => names.has(name),
    run: (name, req) => runServer(servers.get(name)!, req).then((r) => r.rcode),
  };
  const compiler = new Compiler({ dict, xlats, modules: harnessModules(dict, xlats), policies, virtualModules, servers: virtualServers });
  for (const server of serverSections) {
    const recvCs = findSection(server, 'recv', 'Access-Request')!;
    const recv = compiler.compileSection(recvCs, { name1: 'recv', name2: 'Access-Request' });
    const authenticate = new Map<string, CompiledSection>();
    for (const c of server.children as ConfItem[]) {
      if (c.kind === 'section' && c.name1 === 'authenticate' && c.name2) {
        authenticate.set(c.name2.toLowerCase(), compiler.compileSection(c, { name1: 'authenticate', name2: c.name2 }));
      }
    }
    servers.set(server.name2!, { recv, authenticate });
  }
  return { ...servers.get('default')!, servers };
}

function leaves(list: readonly Pair[], out: Pair[] = []): Pair[] {
  for (const p of list) {
    if (p.children) leaves(p.children, out);
    else out.push(p);
  }
  return out;
}

function sortKey(p: Pair): string {
  return p.da.oid.split('.').map((n) => n.padStart(10, '0')).join('.') + ':' + p.da.name;
}

function printPair(p: Pair): string {
  if (p.children) return `${p.da.name} = { … }`;
  let v: string;
  try { v = JSON.stringify(pairBox(p).value, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)); } catch { v = String(p.value); }
  return `${p.da.fullName} = ${v}`;
}

/** Compares the reply with the filter like `fr_pair_validate()`. Returns a reason on mismatch. */
export function validate(reply: Pair[], filter: PairWithOp[]): string | undefined {
  const got = leaves(reply).slice();
  // A structural filter item (`Digest-Attributes == { Nonce == "…", … }`) compares its leaves.
  const want: PairWithOp[] = [];
  const expand = (w: PairWithOp): void => {
    if (!w.leaf.children || w.leaf.children.length === 0) { want.push(w); return; }
    for (const c of w.leaf.children) expand({ pair: c, leaf: c, op: w.op });
  };
  for (const w of filter) expand(w);
  const gs = got.map((p, i) => ({ p, i })).sort((a, b) => (sortKey(a.p) < sortKey(b.p) ? -1 : sortKey(a.p) > sortKey(b.p) ? 1 : a.i - b.i)).map((x) => x.p);
  const ws = want.map((w, i) => ({ w, i })).sort((a, b) => (sortKey(a.w.leaf) < sortKey(b.w.leaf) ? -1 : sortKey(a.w.leaf) > sortKey(b.w.leaf) ? 1 : a.i - b.i)).map((x) => x.w);
  const describe = () => `reply: ${got.map(printPair).join(', ')}`;
  if (gs.length !== ws.length) return `reply has ${gs.length} attributes, filter wants ${ws.length}; ${describe()}`;
  for (let i = 0; i < gs.length; i++) {
    const g = gs[i];
    const w = ws[i];
    if (g.da !== w.leaf.da) return `attribute mismatch: ${g.da.fullName} vs ${w.leaf.da.fullName}; ${describe()}`;
    const op = w.op === '=' || w.op === ':=' ? '==' : w.op;
    let ok = false;
    try {
      const gb: Box = pairBox(g);
      const wb: Box = pairBox(w.leaf);
      if (op === '=~' || op === '!~') ok = new RegExp(String(w.leaf.value)).test(String(g.value)) === (op === '=~');
      else ok = compareBoxes(gb, op as never, wb);
    } catch {
      ok = false;
    }
    if (!ok) return `value mismatch for ${g.da.fullName}: got ${printPair(g)}, filter ${w.op} ${printPair(w.leaf)}; ${describe()}`;
  }
  return undefined;
}

/** Runs one keyword test. */
export async function runKeywordTest(testFile: string, dict: Dictionary, opts: KeywordOptions = {}): Promise<KeywordResult> {
  const name = basename(testFile);
  const dir = resolve(testFile, '..');
  const hdir = opts.harness ?? harnessDir(dir);
  const text = readFileSync(testFile, 'utf8');
  const lines = text.split('\n');
  const errorLine = lines.findIndex((l) => /\bERROR\b/.test(l)) + 1;
  let harness: Harness;
  try {
    harness = compileHarness(dict, hdir, resolve(testFile));
  } catch (e) {
    const err = e as Error & { file?: string; line?: number };
    if (err.file === undefined || err.line === undefined) return { name, pass: false, reason: `crash: ${err.stack ?? err.message}` };
    if (errorLine > 0 && resolve(err.file) === resolve(testFile) && err.line === errorLine) return { name, pass: true };
    return { name, pass: false, reason: `compile error: ${err.message}` };
  }

  const attrsFile = existsSync(testFile + '.attrs') ? testFile + '.attrs' : join(hdir, 'default-input.attrs');
  const { input, filter } = splitAttrs(readFileSync(attrsFile, 'utf8'));
  let inputPairs: PairWithOp[];
  let filterPairs: PairWithOp[];
  try {
    inputPairs = parsePairListWithOps(input, dict);
    filterPairs = parsePairListWithOps(filter, dict);
  } catch (e) {
    return { name, pass: false, reason: `bad .attrs: ${(e as Error).message}` };
  }
  const packetType = dict.resolve('Packet-Type')!;
  const req = new Request({ code: 1, dict, debug: opts.debug, sink: opts.debug ? stderrSink : undefined });
  let pt: Pair | undefined;
  for (const { pair } of inputPairs) {
    if (pair.da === packetType) pt = pair;
    else req.request.push(pair);
  }
  if (pt) req.request.push(pt);
  // The packet's network metadata, as the server adds it (a structural pair, skipped by leaf loops).
  const net = dict.resolve('Net');
  if (net) {
    const p = new Pair(net);
    p.children = [];
    req.request.push(p);
  }

  let code = 'Access-Reject';
  try {
    code = (await runServer(harness, req)).code;
  } catch (e) {
    return { name, pass: false, reason: `crash: ${(e as Error).stack}` };
  }
  const reply = req.reply.slice();
  // A Packet-Type set by the policy decides the reply (process_radius does the same).
  if (!reply.some((p) => p.da === packetType)) {
    reply.push(new Pair(packetType, packetType.values?.get(code.toLowerCase()) ?? (code === 'Access-Accept' ? 2 : 3)));
  }
  const why = validate(reply, filterPairs);
  if (why && errorLine > 0) {
    // Upstream also accepts a run-time error at the marked line.
    const first = req.log.errors.find((e) => e.includes(resolve(testFile) + '['));
    const m = first ? /\[(\d+)\]:/.exec(first.slice(first.indexOf(resolve(testFile)))) : null;
    if (m && Number(m[1]) === errorLine) return { name, pass: true };
  }
  if (why) {
    const errs = req.log.errors.length ? `; errors: ${req.log.errors.slice(0, 3).join(' | ')}` : '';
    return { name, pass: false, reason: why + errs };
  }
  return { name, pass: true };
}

/** Reads `test-name  reason` lines. */
export function loadUnlangExpectations(file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(file)) return out;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const t = raw.trim();
    if (!t || t.startsWith('#')) continue;
    const m = /^(\S+)\s*(.*)$/.exec(t);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/** Default expectations file. */
export function defaultUnlangExpectations(): string {
  const candidates = [resolve(__dirname, '..', 'unlang-expected.txt'), resolve(__dirname, '..', '..', '..', '..', 'test', 'conformance', 'unlang-expected.txt')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** Runs every test in `dir`. */
export async function runKeywordDir(dir: string, opts: KeywordOptions & { only?: string[] } = {}): Promise<KeywordResult[]> {
  const dict = loadDefaultDictionary();
  const out: KeywordResult[] = [];
  for (const f of listTests(dir)) {
    if (opts.only?.length && !opts.only.includes(basename(f))) continue;
    out.push(await runKeywordTest(f, dict, opts));
  }
  return out;
}

/** Suite entry point for `conformance unlang <dir>`. */
export async function run(opts: SuiteOptions): Promise<number> {
  const log = opts.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const debug = opts.extra.includes('-X') || opts.extra.includes('--debug');
  const only = opts.extra.filter((e) => !e.startsWith('-'));
  const results = await runKeywordDir(opts.dir, { debug, only });
  const expect = loadUnlangExpectations(opts.expect ?? defaultUnlangExpectations());
  let passed = 0;
  let failed = 0;
  let unexpected = 0;
  for (const r of results) {
    if (r.pass) {
      passed++;
      if (opts.verbose) log(`pass ${r.name}`);
      if (expect.has(r.name)) log(`fixed ${r.name} (remove it from the expectations file)`);
      continue;
    }
    failed++;
    if (expect.has(r.name)) {
      if (opts.verbose) log(`expected failure ${r.name}: ${expect.get(r.name)}`);
      continue;
    }
    unexpected++;
    log(`FAIL ${r.name}: ${r.reason ?? ''}`);
  }
  log(`unlang: ${passed} passed, ${failed} failed`);
  return unexpected > 0 ? 1 : 0;
}
