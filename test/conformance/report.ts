/**
 * Result bookkeeping shared by the conformance suites: one result per test
 * command, an expectations file of known failures, and the summary line.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Outcome of one test command. */
export type Status = 'pass' | 'fail' | 'skip';

/** One test command's result. `file` is the base name of the test file. */
export interface CommandResult {
  file: string;
  line: number;
  command: string;
  status: Status;
  /** For failures: what the test wanted and what we produced. */
  expected?: string;
  got?: string;
  /** For failures and skips: why. */
  reason?: string;
}

/**
 * Reads an expectations file: one `file.txt:LINE  reason` per line, `#`
 * comments and blank lines ignored. Returns key `file.txt:LINE` → reason.
 * A missing file is an empty set.
 */
export function loadExpectations(path: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!path || !existsSync(path)) return out;
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(\S+:\d+)\s*(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

function clip(s: string | undefined, max: number): string {
  if (s === undefined) return '(none)';
  return s.length > max ? s.slice(0, max) + `… (${s.length} chars)` : s;
}

function firstDiff(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Totals of a run, and the failures not covered by the expectations. */
export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  unexpected: CommandResult[];
  /** Listed in the expectations but passing now. */
  fixed: string[];
}

/** Counts results against the expectations. */
export function summarize(results: readonly CommandResult[], expectations: Map<string, string>): Summary {
  let passed = 0, failed = 0, skipped = 0;
  const unexpected: CommandResult[] = [];
  const fixed: string[] = [];
  for (const r of results) {
    const key = `${r.file}:${r.line}`;
    if (r.status === 'pass') {
      passed++;
      if (expectations.has(key)) fixed.push(key);
    } else if (r.status === 'fail') {
      failed++;
      if (!expectations.has(key)) unexpected.push(r);
    } else {
      skipped++;
    }
  }
  return { passed, failed, skipped, unexpected, fixed };
}

/**
 * Prints failures, warnings and (with `verbose`) per-file totals, then the
 * summary line `<suite>: P passed, F failed, S skipped`. Returns the exit
 * code: 1 when any failure is not listed in the expectations, else 0.
 */
export function report(suite: string, results: readonly CommandResult[], expectations: Map<string, string>, verbose: boolean, log: (line: string) => void): number {
  const sum = summarize(results, expectations);
  if (verbose) {
    const perFile = new Map<string, [number, number, number]>();
    for (const r of results) {
      const t = perFile.get(r.file) ?? [0, 0, 0];
      t[r.status === 'pass' ? 0 : r.status === 'fail' ? 1 : 2]++;
      perFile.set(r.file, t);
    }
    for (const [f, [p, fl, s]] of perFile) log(`  ${f}: ${p} passed, ${fl} failed, ${s} skipped`);
    for (const r of results) {
      const key = `${r.file}:${r.line}`;
      if (r.status === 'fail' && expectations.has(key)) log(`  expected failure ${key}: ${expectations.get(key)}`);
    }
  }
  const max = verbose ? 100000 : 400;
  for (const r of sum.unexpected) {
    log(`FAIL ${r.file}:${r.line}: ${clip(r.command, 160)}`);
    if (r.reason) log(`  reason:   ${r.reason}`);
    if (r.expected !== undefined || r.got !== undefined) {
      log(`  expected: ${clip(r.expected, max)}`);
      log(`  got:      ${clip(r.got, max)}`);
      if (r.expected !== undefined && r.got !== undefined) {
        const d = firstDiff(r.expected, r.got);
        if (d >= 0) log(`  first difference at column ${d}: expected "${r.expected.slice(d, d + 40)}", got "${r.got.slice(d, d + 40)}"`);
      }
    }
  }
  for (const k of sum.fixed) log(`WARN ${k} passes now: fixed, remove from expectations`);
  if (sum.unexpected.length) log(`${sum.unexpected.length} unexpected failure(s)`);
  log(`${suite}: ${sum.passed} passed, ${sum.failed} failed, ${sum.skipped} skipped`);
  return sum.unexpected.length ? 1 : 0;
}

/**
 * Writes the current failures as an expectations file, keeping the reasons
 * already known (`old`) and marking new ones `TODO: triage`. Used to refresh
 * the checked-in file after fixes (`--write-expect <file>`).
 */
export function writeExpectations(path: string, suite: string, results: readonly CommandResult[], old: Map<string, string>): number {
  const lines = [
    `# Known ${suite} conformance failures: one "file:LINE  reason" per line.`,
    '# A failure not listed here fails the run; a listed one that passes is reported as fixed.',
  ];
  let n = 0;
  for (const r of results) {
    if (r.status !== 'fail') continue;
    const key = `${r.file}:${r.line}`;
    lines.push(`${key}  ${old.get(key) ?? 'TODO: triage'}`);
    n++;
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return n;
}
