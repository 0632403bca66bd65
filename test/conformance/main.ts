/**
 * Conformance runner CLI.
 *
 *   node dist/test/conformance/main.js <suite> <dir> [--dict <dir>] [--expect <file>] [-v]
 *
 * Suites are listed in `suites.ts`. The last line of output is the suite's
 * summary (`codec: P passed, F failed, S skipped`); the exit code is non-zero
 * when a failure is not listed in the expectations file.
 */

import { SUITES, type SuiteOptions } from './suites';

function usage(): string {
  return `usage: conformance <suite> <dir> [--dict <dir>] [--expect <file>] [-v]\nsuites: ${Object.keys(SUITES).join(', ')}`;
}

/** Parses argv (without node and script). Throws with a usage message on bad input. */
export function parseArgs(argv: string[]): { suite: string; opts: SuiteOptions } {
  const pos: string[] = [];
  const extra: string[] = [];
  let dict: string | undefined;
  let expect: string | undefined;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--dict' || a === '--expect') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage()}`);
      if (a === '--dict') dict = v;
      else expect = v;
    } else if (a.startsWith('--dict=')) dict = a.slice(7);
    else if (a.startsWith('--expect=')) expect = a.slice(9);
    else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a === '-h' || a === '--help') throw new Error(usage());
    else if (a === '--write-expect') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage()}`);
      extra.push(a, v);
    } else if (a.startsWith('-')) extra.push(a);
    else pos.push(a);
  }
  if (pos.length < 2) throw new Error(usage());
  const [suite, dir, ...rest] = pos;
  extra.push(...rest);
  return { suite, opts: { dir, dict, expect, verbose, extra } };
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write((e as Error).message + '\n');
    return 2;
  }
  const load = SUITES[parsed.suite];
  if (!load) {
    process.stderr.write(`unknown suite "${parsed.suite}"\n${usage()}\n`);
    return 2;
  }
  const run = await load();
  return run(parsed.opts);
}

if (require.main === module) {
  main().then(
    (code) => { process.exitCode = code; },
    (e) => {
      process.stderr.write(`conformance: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
