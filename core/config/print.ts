/**
 * Prints a parsed configuration value as configuration text, the way FreeRADIUS's `-X` banner
 * shows each module's settings:
 *
 * ```
 * pap {
 * 	normalise = yes
 * 	crypt_workers = 1
 * }
 * ```
 *
 * Objects are subsections, arrays repeat their item, booleans print `yes`/`no`, strings are
 * quoted unless they are plain words or numbers. Pass secrets through `redact` first.
 */
export function printSection(label: string, value: unknown, indent = ''): string[] {
  const lines = [`${indent}${label} {`];
  const inner = indent + '\t';
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // Raw configuration nodes (sections a setting keeps for later, e.g. clients) are printed where they are used.
      if (v === undefined || isConfNode(v)) continue;
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item && typeof item === 'object' && !Buffer.isBuffer(item) && !(item instanceof RegExp)) lines.push(...printSection(k, item, inner));
        else lines.push(`${inner}${k} = ${printScalar(item)}`);
      }
    }
  }
  lines.push(`${indent}}`);
  return lines;
}

function printScalar(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  const s = String(v);
  return /^[A-Za-z0-9_.:/*-]+$/.test(s) && s !== '' ? s : `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function isConfNode(v: unknown): boolean {
  const items = Array.isArray(v) ? v : [v];
  return items.length > 0 && items.every((x) => x && typeof x === 'object' && 'loc' in x && 'kind' in x);
}
