/**
 * One value engine: `castBox`/`compareBoxes` (what unlang uses) and `castValue`/`compareOp`
 * (`core/value/ops.ts`, what modules use) must agree. The same tables run through both
 * entry points; the FreeRADIUS unit vectors (`src/tests/unit/cast.txt`, in ../shared) are
 * one of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LeafType } from '../../types/data-types';
import { castValue, compareOp, type CompareOperator } from '../../value/ops';
import { parseValue } from '../../value/parse';
import { printValueUnquoted } from '../../value/print';
import { TYPE_ALIASES, castBox, compareBoxes, parseBox } from './box';

const LEAF = new Set(Object.keys(TYPE_ALIASES).filter((t) => t !== 'group'));

type Outcome = { ok: true; text: string } | { ok: false };

function viaValue(from: LeafType, text: string, to: LeafType): Outcome {
  try {
    return { ok: true, text: printValueUnquoted(to, castValue(parseValue(from, text), from, to)) };
  } catch {
    return { ok: false };
  }
}

function viaBox(from: LeafType, text: string, to: LeafType): Outcome {
  try {
    return { ok: true, text: printValueUnquoted(to, castBox(parseBox(from, text), to).value) };
  } catch {
    return { ok: false };
  }
}

/** from, text, to, expected printed result (undefined = the cast fails). */
const CASTS: [LeafType, string, LeafType, string | undefined][] = [
  // FreeRADIUS value.c: only a /32 (/128) prefix may be cast to an address.
  ['ipv4prefix', '10.0.0.0/8', 'ipaddr', undefined],
  ['ipv4prefix', '10.0.0.1/32', 'ipaddr', '10.0.0.1'],
  ['ipv6prefix', '2001:db8::/32', 'ipv6addr', undefined],
  ['ipv6prefix', '2001:db8::1/128', 'ipv6addr', '2001:db8::1'],
  ['ipaddr', '10.0.0.1', 'ipv4prefix', '10.0.0.1/32'],
  ['ipaddr', '127.0.0.1', 'uint32', '2130706433'],
  ['uint32', '2130706433', 'ipaddr', '127.0.0.1'],
  ['ipaddr', '192.0.2.1', 'ipv6addr', '::ffff:192.0.2.1'],
  ['uint32', '256', 'uint8', undefined],
  ['uint32', '255', 'uint8', '255'],
  ['int32', '-1', 'uint32', undefined],
  ['uint64', '18446744073709551615', 'uint32', undefined],
  ['uint8', '7', 'uint64', '7'],
  ['float64', '1024', 'uint8', undefined],
  ['float64', '6.75', 'uint16', '6'],
  ['uint32', '0', 'bool', 'no'],
  ['uint32', '3', 'bool', 'yes'],
  ['bool', 'yes', 'uint8', '1'],
  ['uint32', '5', 'time_delta', '5'],
];

/** `cast <type> <text> -> <type>` / `match <result | ERROR…>` lines of a FreeRADIUS unit file. */
function unitCasts(file: string): [LeafType, string, LeafType, string | undefined][] {
  const out: [LeafType, string, LeafType, string | undefined][] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^cast\s+(\S+)\s+(.+?)\s+->\s+(\S+)\s*$/.exec(lines[i]);
    if (!m || !LEAF.has(m[1]) || !LEAF.has(m[3])) continue;
    const want = /^match\s+(.*)$/.exec(lines[i + 1] ?? '');
    if (!want) continue;
    const from = m[1] === 'ipv4addr' ? 'ipaddr' : m[1];
    out.push([from as LeafType, m[2], m[3] as LeafType, want[1].startsWith('ERROR') ? undefined : want[1]]);
  }
  return out;
}

const UNIT = resolve(__dirname, '..', '..', '..', '..', 'shared', 'conformance', 'unit', 'cast.txt');

describe('one value engine: casts', () => {
  it.each(CASTS)('(%s) %s -> %s', (from, text, to, want) => {
    const v = viaValue(from, text, to);
    const b = viaBox(from, text, to);
    expect(b).toEqual(v);
    expect(v).toEqual(want === undefined ? { ok: false } : { ok: true, text: want });
  });

  it('the FreeRADIUS unit cast vectors give the same result through both entry points', () => {
    expect(existsSync(UNIT), `missing ${UNIT}: the ../shared checkout is required`).toBe(true);
    const table = unitCasts(UNIT);
    expect(table.length).toBeGreaterThanOrEqual(5);
    for (const [from, text, to, want] of table) {
      const v = viaValue(from, text, to);
      const b = viaBox(from, text, to);
      expect(b, `cast ${from} ${text} -> ${to}`).toEqual(v);
      if (want === undefined) expect(v.ok, `cast ${from} ${text} -> ${to} must fail`).toBe(false);
      else if (to !== 'octets') expect(v, `cast ${from} ${text} -> ${to}`).toEqual({ ok: true, text: want });
    }
  });
});

/** a-type, a, op, b-type, b, expected. */
const COMPARES: [LeafType, string, CompareOperator, LeafType, string, boolean][] = [
  ['ipaddr', '10.1.2.3', '<', 'ipv4prefix', '10.0.0.0/8', true],
  ['ipaddr', '11.1.2.3', '<', 'ipv4prefix', '10.0.0.0/8', false],
  ['ipv4prefix', '10.0.0.0/8', '>', 'ipaddr', '10.1.2.3', true],
  ['ipv4prefix', '10.0.0.0/8', '==', 'ipaddr', '10.0.0.0', false],
  ['ipaddr', '10.0.0.1', '==', 'string', '10.0.0.1', true],
  ['uint32', '5', '==', 'uint64', '5', true],
  ['uint8', '5', '<', 'int32', '7', true],
  ['string', 'abc', '<', 'string', 'abd', true],
  ['uint32', '10', '>', 'string', '9', true],
  ['octets', '0x01', '<', 'octets', '0x0100', true],
];

describe('one value engine: comparisons', () => {
  it.each(COMPARES)('(%s) %s %s (%s) %s', (ta, a, op, tb, b, want) => {
    const v = compareOp(op, parseValue(ta, a), ta, parseValue(tb, b), tb);
    const x = compareBoxes(parseBox(ta, a), op, parseBox(tb, b));
    expect(x).toBe(v);
    expect(v).toBe(want);
  });
});
