/**
 * Address ranges for the pool tools: `192.0.2.10-192.0.2.20`, `192.0.2.0/24` (host addresses),
 * `192.0.2.7`, and IPv6 prefixes split into delegated prefixes (`2001:db8::/40` with prefix
 * length 48 → `2001:db8::/48`, `2001:db8:1::/48` …). Addresses are printed as the server prints
 * attribute values (dotted quad; RFC 5952 compressed IPv6), so a pool row matches the
 * Framed-IP-Address or Delegated-IPv6-Prefix a NAS sends back.
 */
import * as net from 'node:net';

/** Parses an IPv4 or IPv6 address into its number and family. */
export function parseIp(text: string): { v: bigint; family: 4 | 6 } {
  const t = text.trim();
  if (net.isIPv4(t)) return { v: t.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n), family: 4 };
  if (!net.isIPv6(t)) throw new Error(`"${text}" is not an IP address`);
  let s = t;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = parseIp(v4[1]).v;
    s = s.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  return { v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n), family: 6 };
}

/** Prints an address (RFC 5952 for IPv6: lower case, the longest run of zero groups as `::`). */
export function formatIp(v: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The most entries one command may add. */
export const MAX_RANGE = 1 << 20;

/**
 * Expands a range into pool entries. `prefixLength` (IPv6 prefixes, or IPv4 subnets): split a
 * CIDR into prefixes of that length instead of host addresses.
 */
export function expandRange(text: string, prefixLength?: number): string[] {
  const t = text.trim();
  const out: string[] = [];
  const push = (s: string) => {
    if (out.length >= MAX_RANGE) throw new Error(`range "${text}" has more than ${MAX_RANGE} entries`);
    out.push(s);
  };
  const dash = t.indexOf('-');
  if (dash > 0) {
    const a = parseIp(t.slice(0, dash));
    const b = parseIp(t.slice(dash + 1));
    if (a.family !== b.family) throw new Error(`range "${text}" mixes IPv4 and IPv6`);
    if (b.v < a.v) throw new Error(`range "${text}" ends before it starts`);
    for (let v = a.v; v <= b.v; v++) push(formatIp(v, a.family));
    return out;
  }
  const slash = t.indexOf('/');
  if (slash < 0) return [formatIp(parseIp(t).v, parseIp(t).family)];
  const base = parseIp(t.slice(0, slash));
  const bits = base.family === 4 ? 32 : 128;
  const len = Number(t.slice(slash + 1));
  if (!Number.isInteger(len) || len < 0 || len > bits) throw new Error(`bad prefix length in "${text}"`);
  const hostBits = BigInt(bits - len);
  const first = (base.v >> hostBits) << hostBits;
  if (prefixLength !== undefined) {
    if (prefixLength < len || prefixLength > bits) throw new Error(`--prefix-length ${prefixLength} does not fit in "${text}"`);
    const step = 1n << BigInt(bits - prefixLength);
    const count = 1n << BigInt(prefixLength - len);
    if (count > BigInt(MAX_RANGE)) throw new Error(`range "${text}" has more than ${MAX_RANGE} entries`);
    for (let i = 0n; i < count; i++) push(`${formatIp(first + i * step, base.family)}/${prefixLength}`);
    return out;
  }
  const size = 1n << hostBits;
  if (size > BigInt(MAX_RANGE)) throw new Error(`range "${text}" has more than ${MAX_RANGE} entries`);
  // IPv4 subnets larger than /31: without the network and broadcast addresses.
  const skipEnds = base.family === 4 && len < 31;
  for (let i = skipEnds ? 1n : 0n; i < (skipEnds ? size - 1n : size); i++) push(formatIp(first + i, base.family));
  return out;
}

/** Command-line arguments: options (`--name value`, `-s value`, flags) and positional words. */
export function parseArgs(argv: readonly string[], flags: readonly string[]): { opts: Map<string, string[]>; words: string[] } {
  const opts = new Map<string, string[]>();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const eq = a.indexOf('=');
      const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^-+/, '');
      const value = eq > 0 ? a.slice(eq + 1) : flags.includes(name) ? 'yes' : argv[++i];
      if (value === undefined) throw new Error(`option ${a} needs a value`);
      opts.set(name, [...(opts.get(name) ?? []), value]);
    } else words.push(a);
  }
  return { opts, words };
}
