import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExpectations, summarize } from './report';
import { defaultExpectations, runCodecVectors } from './codec/runner';

// The vectors and dictionaries live beside the repository in ../shared (see DEVELOPERS.md).
const SHARED = resolve(__dirname, '..', '..', '..', 'shared', 'conformance');
const VECTORS = resolve(SHARED, 'radius-vectors');
const DICT = resolve(SHARED, 'dictionaries', 'radius-full');

describe('codec conformance (FreeRADIUS radius vectors)', () => {
  it('finds the shared vectors and dictionaries', () => {
    expect(existsSync(VECTORS), `missing ${VECTORS}: the ../shared checkout is required`).toBe(true);
    expect(existsSync(resolve(DICT, 'dictionary')), `missing ${DICT}/dictionary`).toBe(true);
  });

  it('has no failures beyond the expectations file, and ≥ 95% pass', () => {
    if (!existsSync(VECTORS)) throw new Error(`missing ${VECTORS}: the ../shared checkout is required`);
    const results = runCodecVectors(VECTORS, DICT);
    const expectations = loadExpectations(defaultExpectations());
    const sum = summarize(results, expectations);
    const unexpected = sum.unexpected.map((r) => `${r.file}:${r.line} ${r.command.slice(0, 80)}\n  expected: ${String(r.expected).slice(0, 200)}\n  got:      ${String(r.got ?? r.reason).slice(0, 200)}`);
    expect(unexpected, unexpected.join('\n')).toEqual([]);
    expect(sum.skipped).toBe(0);
    expect(results.length).toBeGreaterThan(1200);
    expect(sum.passed / results.length).toBeGreaterThanOrEqual(0.95);
  });
});
