import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadExpectations, summarize } from '../report';
import { defaultUnitExpectations, runUnitTests } from './runner';

// FreeRADIUS's unit value tests and the dictionaries live beside the repository in ../shared.
const SHARED = resolve(__dirname, '..', '..', '..', '..', 'shared', 'conformance');
const UNIT = resolve(SHARED, 'unit');
const DICT = resolve(SHARED, 'dictionaries', 'radius-full');

describe('unit conformance (FreeRADIUS value tests: value, cast, calc, pair, dictionary)', () => {
  it('has no failures beyond the expectations file, and ≥ 95% pass', () => {
    expect(existsSync(UNIT), `missing ${UNIT}: the ../shared checkout is required`).toBe(true);
    const results = runUnitTests(UNIT, DICT);
    const sum = summarize(results, loadExpectations(defaultUnitExpectations()));
    const unexpected = sum.unexpected.map((r) => `${r.file}:${r.line} ${r.command.slice(0, 80)}\n  expected: ${String(r.expected).slice(0, 200)}\n  got:      ${String(r.got ?? r.reason).slice(0, 200)}`);
    expect(unexpected, unexpected.join('\n')).toEqual([]);
    expect(sum.fixed, 'listed failures that pass now').toEqual([]);
    expect(sum.skipped).toBe(0);
    expect(results.length).toBeGreaterThanOrEqual(300);
    expect(sum.passed / results.length).toBeGreaterThanOrEqual(0.95);
  });
});
