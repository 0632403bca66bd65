/**
 * Config field types the `conf.*` builders lack, shaped like them (`ScalarField`).
 */
import type { ScalarField } from '../../core';

/** A file mode written in octal (`0600`, `640`), converted to a number. */
export function octal(o: { default: string; doc: string }): ScalarField<number> {
  const convert = (v: string, _q: unknown, fail: (m: string) => never): number => {
    const s = v.trim();
    if (!/^0?[0-7]{3}$/.test(s)) return fail(`expected an octal file mode such as 0600, got "${s}"`);
    return parseInt(s, 8);
  };
  return {
    kind: 'scalar', typeName: 'octal mode', doc: o.doc, required: false, secret: false,
    defaultText: o.default, defaultValue: parseInt(o.default, 8), convert,
  };
}
