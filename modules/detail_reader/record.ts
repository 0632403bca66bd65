/**
 * Splitting a detail file into records and turning a record into request pairs.
 *
 * A record, as `modules/detail` (and FreeRADIUS's detail writer) writes it:
 *
 * ```
 * Sat Nov 21 03:31:35 2026          ← header (not indented)
 * 	Acct-Status-Type = Start         ← one "\tName = value" line per attribute
 * 	User-Name = "bob"
 * 	Timestamp = 1763695895           ← request time (Unix seconds)
 *                                   ← a blank line ends the record
 * ```
 *
 * A processed record is marked in place: the first five bytes of its `\tTimestamp` line are
 * overwritten with `\tDone` (the same length, so no other byte moves; FreeRADIUS's reader with
 * `track = yes` marks records the same way). A record with a `\tDone` line is skipped.
 */
import { Pair, parsePairList, type Dictionary } from '../../core';

/** One complete record of a detail file. */
export interface DetailRecord {
  /** File offset of the header line. */
  readonly offset: number;
  /** Byte length including the terminating blank line. */
  readonly length: number;
  /** File offset of the `\tTimestamp` line (where `\tDone` is written), or -1 when the record has none. */
  readonly markOffset: number;
  /** Already processed (a `\tDone` line). */
  readonly done: boolean;
  /** The attribute lines, without the leading tab. */
  readonly lines: readonly string[];
}

/** What marks a processed record: replaces the first five bytes of `\tTimestamp`. */
export const DONE_MARK = Buffer.from('\tDone', 'latin1');
const TIMESTAMP = '\tTimestamp';

/**
 * Splits `buf` (file bytes starting at file offset `base`) into complete records. Returns them
 * and how many bytes they used; bytes after the last blank line (a record still being written)
 * are left for the next read. With `final`, a trailing record without its blank line is taken
 * too (the writer stopped, e.g. a file written by hand).
 */
export function splitRecords(buf: Buffer, base: number, final = false): { records: DetailRecord[]; used: number } {
  const records: DetailRecord[] = [];
  let pos = 0;
  // Skip blank lines between records.
  const skipBlank = (): void => {
    while (pos < buf.length && (buf[pos] === 0x0a || (buf[pos] === 0x0d && buf[pos + 1] === 0x0a))) pos += buf[pos] === 0x0d ? 2 : 1;
  };
  skipBlank();
  let used = pos;
  while (pos < buf.length) {
    let end = buf.indexOf('\n\n', pos, 'latin1');
    let len: number;
    if (end < 0) {
      const crlf = buf.indexOf('\n\r\n', pos, 'latin1');
      if (crlf >= 0) { end = crlf; len = crlf + 3 - pos; }
      else if (final) { end = buf.length; len = buf.length - pos; }
      else break;
    } else {
      const crlf = buf.indexOf('\n\r\n', pos, 'latin1');
      if (crlf >= 0 && crlf < end) { end = crlf; len = crlf + 3 - pos; } else len = end + 2 - pos;
    }
    const text = buf.toString('utf8', pos, end);
    const rawLines = text.split('\n');
    const lines: string[] = [];
    let markOffset = -1;
    let done = false;
    let lineStart = pos;
    for (let i = 0; i < rawLines.length; i++) {
      const raw = rawLines[i].replace(/\r$/, '');
      const start = lineStart;
      lineStart += Buffer.byteLength(rawLines[i], 'utf8') + 1;
      if (i > 0 && raw.startsWith('\t')) {
        if (raw.startsWith('\tDone')) { done = true; continue; }
        if (raw.startsWith(TIMESTAMP)) markOffset = base + start;
        lines.push(raw.slice(1));
      }
    }
    records.push({ offset: base + pos, length: len, markOffset, done, lines });
    pos += len;
    skipBlank();
    used = pos;
  }
  return { records, used };
}

/** Attributes of a record that describe the original packet rather than being part of it. */
export interface RecordMeta {
  /** `Packet-Src-IP-Address` / `Packet-Src-IPv6-Address` (or Client-IP-Address), when logged. */
  srcAddress?: string;
  srcPort?: number;
  /** `Timestamp` (Unix seconds), when present. */
  timestamp?: number;
}

/** Names never replayed as request attributes: packet metadata the detail writer may log. */
const META = new Set([
  'packet-type', 'packet-src-ip-address', 'packet-src-ipv6-address', 'packet-dst-ip-address', 'packet-dst-ipv6-address',
  'packet-src-port', 'packet-dst-port', 'client-ip-address', 'timestamp', 'done',
]);

/** Result of {@link recordPairs}. */
export interface ParsedRecord {
  readonly pairs: Pair[];
  readonly meta: RecordMeta;
  /** Lines whose attribute is unknown to the dictionary or whose value does not parse (skipped). */
  readonly skipped: string[];
}

/**
 * The request pairs of a record. Packet metadata lines become {@link RecordMeta}; a line that does
 * not parse is skipped and reported. `Acct-Delay-Time` grows by the time the record waited
 * (now − Timestamp), as a NAS that retransmits would report it (RFC 2866 §5.2).
 */
export function recordPairs(rec: DetailRecord, dict: Dictionary, nowSeconds: number): ParsedRecord {
  const pairs: Pair[] = [];
  const skipped: string[] = [];
  const meta: RecordMeta = {};
  for (const line of rec.lines) {
    const eq = line.indexOf(' = ');
    const name = (eq > 0 ? line.slice(0, eq) : line).trim();
    const lname = name.toLowerCase();
    if (META.has(lname)) {
      const v = eq > 0 ? line.slice(eq + 3).trim() : '';
      if (lname === 'packet-src-ip-address' || lname === 'packet-src-ipv6-address' || (lname === 'client-ip-address' && !meta.srcAddress)) meta.srcAddress = v;
      else if (lname === 'packet-src-port' && /^\d+$/.test(v)) meta.srcPort = Number(v);
      else if (lname === 'timestamp' && /^\d+$/.test(v)) meta.timestamp = Number(v);
      continue;
    }
    try {
      pairs.push(...parsePairList(line, dict));
    } catch {
      skipped.push(line);
    }
  }
  if (meta.timestamp !== undefined) {
    const waited = Math.max(0, Math.floor(nowSeconds - meta.timestamp));
    const da = dict.resolve('Acct-Delay-Time');
    if (da && waited > 0) {
      const i = pairs.findIndex((p) => p.da === da);
      const before = i >= 0 ? Number(pairs[i].value) || 0 : 0;
      const next = new Pair(da, Math.min(0xffffffff, before + waited));
      if (i >= 0) pairs[i] = next; else pairs.push(next);
    }
  }
  return { pairs, meta, skipped };
}
