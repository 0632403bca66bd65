/**
 * Secrets never reach a log. An attribute is secret when its dictionary entry has the
 * `secret` flag (Password.Cleartext, Password.NT, Pre-Shared-Key …) or an RFC 2865/2868/Ascend
 * `encrypt=` method (User-Password, Tunnel-Password, Ascend-Send-Secret …). The interpreter
 * trace and modules print pairs through these helpers; the value is replaced by
 * {@link REDACTED}.
 */
import type { DictAttr } from '../dict/attr';
import type { Pair } from './pair';
import { printPair } from './text';

/** What is printed instead of a secret value. */
export const REDACTED = '<<< secret >>>';

/** True when values of `da` must not be logged. */
export function isSecretAttr(da: DictAttr): boolean {
  return da.flags.secret === true || (da.flags.encrypt !== undefined && (da.flags.encrypt as number) !== 0);
}

/** `text` (a printed value of `da`), or {@link REDACTED} when `da` is secret. */
export function redactValue(da: DictAttr, text: string): string {
  return isSecretAttr(da) ? REDACTED : text;
}

/** True when the pair or any of its descendants is secret. */
export function hasSecret(p: Pair): boolean {
  if (isSecretAttr(p.da)) return true;
  if (p.children) for (const c of p.children) if (hasSecret(c)) return true;
  return false;
}

/** The name part of a printed pair (`User-Password` of `User-Password = "x"`). */
function printedName(p: Pair): string {
  const s = printPair(p);
  const i = s.indexOf(' = ');
  return i < 0 ? p.da.name : s.slice(0, i);
}

/**
 * A pair as `printPair` prints it (`Name = value`, v4 form), with every secret value
 * replaced by {@link REDACTED}; structural pairs keep their non-secret children.
 */
export function printPairRedacted(p: Pair): string {
  if (!hasSecret(p)) return printPair(p);
  if (isSecretAttr(p.da) || !p.children) return `${printedName(p)} = ${REDACTED}`;
  const name = printedName(p);
  const prefix = `${name}.`;
  const kids = p.children.map((c) => {
    const s = printPairRedacted(c);
    return s.startsWith(prefix) ? s.slice(prefix.length) : s;
  });
  return `${name} = { ${kids.join(', ')} }`;
}

/** A pair list printed with {@link printPairRedacted}, joined with `separator` (default `, `). */
export function printPairListRedacted(pairs: readonly Pair[], separator = ', '): string {
  return pairs.map(printPairRedacted).join(separator);
}
