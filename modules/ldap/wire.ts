/**
 * The LDAP messages of the hot path, encoded and decoded here rather than through ldapts's message
 * classes (which build a 1 KiB zero-filled writer per request, re-encode the constant part of every
 * search, and decode every attribute value to text and back):
 *
 * - {@link SearchShape}: the constant part of a search (base DN, scope, alias dereferencing, limits,
 *   attribute list) encoded once; {@link SearchMessage} adds the message ID and the filter per request.
 * - {@link BindMessage}: a simple bind (`Auth-Type ldap` binds as the user on every request).
 * - {@link encodeFilter}: an equality filter `(attr=value)` (the usual user filter) is encoded directly,
 *   its `\xx` escapes decoded to bytes (RFC 4515); every other filter goes through ldapts's parser.
 * - {@link ResponseReader}: splits the byte stream into LDAPMessages and decodes the responses a client
 *   gets (search entries with their values as Buffers, references, and the LDAPResult of every other
 *   response). The request side of StartTLS, Abandon and Unbind stays with ldapts.
 *
 * BER as LDAP uses it (RFC 4511 §5.1): definite lengths only, tags in one byte.
 */
import { BerWriter, FilterParser } from 'ldapts';

/** A protocolOp of a response (RFC 4511 §4.2–4.12). */
export const OP = {
  bindResponse: 0x61,
  searchResEntry: 0x64,
  searchResDone: 0x65,
  searchResRef: 0x73,
  extendedResp: 0x78,
} as const;

const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const INTEGER = 0x02;
const ENUMERATED = 0x0a;
const BOOLEAN = 0x01;
const SET = 0x31;
const SEARCH_REQUEST = 0x63;
const BIND_REQUEST = 0x60;
const SIMPLE_AUTH = 0x80;
const SASL_AUTH = 0xa3;
const EQUALITY = 0xa3;

/** Writes tag + length at `off`; returns the new offset. */
function header(buf: Buffer, off: number, tag: number, len: number): number {
  buf[off++] = tag;
  if (len < 0x80) {
    buf[off++] = len;
    return off;
  }
  const n = len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
  buf[off++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) buf[off++] = (len >>> (8 * i)) & 0xff;
  return off;
}

const headerSize = (len: number) => (len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6);

/** A TLV from a tag and content. */
function tlv(tag: number, content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(headerSize(content.length) + content.length);
  content.copy(out, header(out, 0, tag, content.length));
  return out;
}

/** Content octets of a message ID (1 … 2^31-1: positive, shortest two's complement form). */
function idSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x8000 ? 2 : v < 0x800000 ? 3 : 4;
}

/** Writes the INTEGER TLV of a message ID at `off`; returns the new offset. */
function writeId(buf: Buffer, off: number, v: number, size: number): number {
  buf[off++] = INTEGER;
  buf[off++] = size;
  for (let i = size - 1; i >= 0; i--) buf[off++] = (v >>> (8 * i)) & 0xff;
  return off;
}

/** An INTEGER (or ENUMERATED) value, two's complement, shortest form. */
function intContent(v: number): Buffer {
  const bytes: number[] = [];
  let x = v | 0;
  do {
    bytes.unshift(x & 0xff);
    x >>= 8;
  } while (!((x === 0 && (bytes[0] & 0x80) === 0) || (x === -1 && (bytes[0] & 0x80) !== 0)));
  return Buffer.from(bytes);
}

const SCOPES = { base: 0, one: 1, sub: 2, children: 3 } as const;
const DEREF = { never: 0, search: 1, find: 2, always: 3 } as const;

/** What a search asks, apart from its filter. */
export interface SearchShapeSpec {
  readonly base: string;
  readonly scope: keyof typeof SCOPES;
  readonly deref?: keyof typeof DEREF;
  readonly timeLimit?: number;
  readonly sizeLimit?: number;
  readonly attrs: readonly string[];
}

/** The constant part of a search, encoded once (see the file comment). */
export class SearchShape {
  /** baseObject … typesOnly. */
  readonly head: Buffer;
  /** The AttributeSelection SEQUENCE. */
  readonly attrs: Buffer;

  constructor(s: SearchShapeSpec) {
    this.head = Buffer.concat([
      tlv(OCTET_STRING, Buffer.from(s.base, 'utf8')),
      tlv(ENUMERATED, intContent(SCOPES[s.scope])),
      tlv(ENUMERATED, intContent(DEREF[s.deref ?? 'never'])),
      tlv(INTEGER, intContent(s.sizeLimit ?? 0)),
      tlv(INTEGER, intContent(s.timeLimit ?? 0)),
      tlv(BOOLEAN, Buffer.from([0])),
    ]);
    this.attrs = tlv(SEQUENCE, Buffer.concat(s.attrs.map((a) => tlv(OCTET_STRING, Buffer.from(a, 'utf8')))));
  }
}

/** One search request: a shape, a filter (encoded) and the message ID the connection gives it. */
export class SearchMessage {
  messageId = 0;
  constructor(readonly shape: SearchShape, readonly filter: Buffer) {}

  write(): Buffer {
    const { head, attrs } = this.shape;
    const idLen = idSize(this.messageId);
    const opLen = head.length + this.filter.length + attrs.length;
    const msgLen = 2 + idLen + headerSize(opLen) + opLen;
    const out = Buffer.allocUnsafe(headerSize(msgLen) + msgLen);
    let off = header(out, 0, SEQUENCE, msgLen);
    off = writeId(out, off, this.messageId, idLen);
    off = header(out, off, SEARCH_REQUEST, opLen);
    off += head.copy(out, off);
    off += this.filter.copy(out, off);
    attrs.copy(out, off);
    return out;
  }
}

/** A request whose protocolOp is encoded once (`op`), written with the message ID the connection gives it. */
abstract class OpMessage {
  messageId = 0;
  protected abstract readonly op: Buffer;

  write(): Buffer {
    const idLen = idSize(this.messageId);
    const msgLen = 2 + idLen + this.op.length;
    const out = Buffer.allocUnsafe(headerSize(msgLen) + msgLen);
    let off = header(out, 0, SEQUENCE, msgLen);
    off = writeId(out, off, this.messageId, idLen);
    this.op.copy(out, off);
    return out;
  }
}

/** A simple bind (RFC 4511 §4.2: version 3, name, simple password). */
export class BindMessage extends OpMessage {
  protected readonly op: Buffer;

  constructor(dn: string, password: string) {
    super();
    // One buffer: version 3, name, simple password (a bind per request with Auth-Type ldap).
    const dnLen = Buffer.byteLength(dn, 'utf8');
    const pwLen = Buffer.byteLength(password, 'utf8');
    const content = 3 + headerSize(dnLen) + dnLen + headerSize(pwLen) + pwLen;
    const op = Buffer.allocUnsafe(headerSize(content) + content);
    let off = header(op, 0, BIND_REQUEST, content);
    op[off++] = INTEGER;
    op[off++] = 1;
    op[off++] = 3;
    off = header(op, off, OCTET_STRING, dnLen);
    off += op.write(dn, off, dnLen, 'utf8');
    off = header(op, off, SIMPLE_AUTH, pwLen);
    op.write(password, off, pwLen, 'utf8');
    this.op = op;
  }
}

/** A SASL bind (RFC 4511 §4.2, `sasl [3]`): no name, the mechanism, and credentials when the mechanism has any. */
export class SaslBindMessage extends OpMessage {
  protected readonly op: Buffer;

  constructor(mechanism: string, credentials?: Buffer) {
    super();
    const sasl = Buffer.concat([tlv(OCTET_STRING, Buffer.from(mechanism, 'utf8')), ...(credentials ? [tlv(OCTET_STRING, credentials)] : [])]);
    this.op = tlv(BIND_REQUEST, Buffer.concat([tlv(INTEGER, intContent(3)), tlv(OCTET_STRING, Buffer.alloc(0)), tlv(SASL_AUTH, sasl)]));
  }
}

/** One change of a modify request: RFC 4511 §4.6 (add, delete, replace) and RFC 4525 (increment). */
export interface Modification {
  readonly op: 'add' | 'delete' | 'replace' | 'increment';
  readonly type: string;
  readonly values: readonly Buffer[];
}

const MOD_OPS = { add: 0, delete: 1, replace: 2, increment: 3 } as const;
const MODIFY_REQUEST = 0x66;

/** A modify request (RFC 4511 §4.6): the changes apply to the entry atomically, in order. */
export class ModifyMessage extends OpMessage {
  protected readonly op: Buffer;

  constructor(dn: string, changes: readonly Modification[]) {
    super();
    const list = changes.map((c) => tlv(SEQUENCE, Buffer.concat([
      tlv(ENUMERATED, intContent(MOD_OPS[c.op])),
      tlv(SEQUENCE, Buffer.concat([tlv(OCTET_STRING, Buffer.from(c.type, 'utf8')), tlv(SET, Buffer.concat(c.values.map((v) => tlv(OCTET_STRING, v))))])),
    ])));
    this.op = tlv(MODIFY_REQUEST, Buffer.concat([tlv(OCTET_STRING, Buffer.from(dn, 'utf8')), tlv(SEQUENCE, Buffer.concat(list))]));
  }
}

/** `(attr=value)` with an attribute name (and options) or OID, a value without wildcards. */
const EQUALITY_RE = /^\(([A-Za-z][A-Za-z0-9-]*(?:;[A-Za-z0-9-]+)*|\d+(?:\.\d+)*)=((?:[^*()\\\0]|\\[0-9A-Fa-f]{2})*)\)$/;

/** RFC 4515 value: `\xx` pairs are bytes, the rest UTF-8. */
function filterValue(v: string): Buffer {
  if (!v.includes('\\')) return Buffer.from(v, 'utf8');
  const parts: Buffer[] = [];
  let last = 0;
  for (let i = v.indexOf('\\'); i >= 0; i = v.indexOf('\\', last)) {
    if (i > last) parts.push(Buffer.from(v.slice(last, i), 'utf8'));
    parts.push(Buffer.from([parseInt(v.slice(i + 1, i + 3), 16)]));
    last = i + 3;
  }
  if (last < v.length) parts.push(Buffer.from(v.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * Where the `=` of a plain equality filter `(name=value)` is: a name of letters, digits and `-`
 * starting with a letter, a value without `* ( ) \ NUL`. -1 for anything else (options, OIDs,
 * escapes and other filters take the general path). One pass over the text, no allocation.
 */
function plainEquality(text: string): number {
  const n = text.length;
  if (n < 4 || text.charCodeAt(0) !== 0x28 || text.charCodeAt(n - 1) !== 0x29) return -1;
  const c1 = text.charCodeAt(1) | 0x20;
  if (c1 < 0x61 || c1 > 0x7a) return -1;
  let i = 2;
  for (; i < n - 1; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3d) break;
    const l = c | 0x20;
    if (!((l >= 0x61 && l <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d)) return -1;
  }
  if (i >= n - 1) return -1;
  for (let j = i + 1; j < n - 1; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x2a || c === 0x28 || c === 0x29 || c === 0x5c || c === 0) return -1;
  }
  return i;
}

/** The equality filter of `attr` and the value bytes (or text), in one buffer. */
function equality(attr: string, value: Buffer | string): Buffer {
  const aLen = attr.length;
  const vLen = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
  const inner = headerSize(aLen) + aLen + headerSize(vLen) + vLen;
  const out = Buffer.allocUnsafe(headerSize(inner) + inner);
  let off = header(out, 0, EQUALITY, inner);
  off = header(out, off, OCTET_STRING, aLen);
  off += out.write(attr, off, aLen, 'latin1');
  off = header(out, off, OCTET_STRING, vLen);
  if (typeof value === 'string') out.write(value, off, vLen, 'utf8');
  else value.copy(out, off);
  return out;
}

/** Encodes RFC 4515 filter text as a BER Filter (throws on a filter that does not parse). */
export function encodeFilter(text: string): Buffer {
  const eq = plainEquality(text);
  if (eq > 0) return equality(text.slice(1, eq), text.slice(eq + 1, text.length - 1));
  const m = EQUALITY_RE.exec(text);
  if (m) return equality(m[1], filterValue(m[2]));
  const w = new BerWriter({ size: 256 });
  FilterParser.parseString(text).write(w);
  return Buffer.from(w.buffer);
}

/** A decoded response (only what the module uses). */
export type Response =
  | { readonly kind: 'entry'; readonly messageId: number; readonly dn: string; readonly attrs: Map<string, Buffer[]> }
  | { readonly kind: 'ref'; readonly messageId: number; readonly uris: string[] }
  | { readonly kind: 'result'; readonly messageId: number; readonly op: number; readonly status: number; readonly errorMessage: string };

class BerError extends Error {}

/**
 * The length {@link readLength} and {@link expect} read last (they return the content offset and leave
 * the length here: no [length, offset] array per TLV on the hot path).
 */
let tlvLen = 0;

/** Reads a length at `off` of `b` (within `end`) into `tlvLen`; returns the offset after it. */
function readLength(b: Buffer, off: number, end: number): number {
  if (off >= end) throw new BerError('truncated length');
  const first = b[off++];
  if (first < 0x80) {
    tlvLen = first;
    return off;
  }
  const n = first & 0x7f;
  if (n === 0 || n > 4 || off + n > end) throw new BerError('bad length');
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[off++];
  tlvLen = len;
  return off;
}

/**
 * Splits a byte stream into LDAPMessages and decodes them (see the file comment); a message it
 * cannot decode is an error (the connection is then unusable).
 */
export class ResponseReader {
  private pending?: Buffer;

  constructor(private readonly onMessage: (m: Response) => void) {}

  /** Feeds bytes; calls `onMessage` for every complete message. Throws on undecodable input. */
  read(data: Buffer): void {
    let buf = data;
    if (this.pending) {
      buf = Buffer.concat([this.pending, data]);
      this.pending = undefined;
    }
    let off = 0;
    while (off < buf.length) {
      if (buf.length - off < 2) break;
      if (buf[off] !== SEQUENCE) throw new BerError(`expected an LDAPMessage, got tag 0x${buf[off].toString(16)}`);
      const lb = buf[off + 1];
      if (lb >= 0x80 && buf.length - off < 2 + (lb & 0x7f)) break;
      const body = readLength(buf, off + 1, buf.length);
      const len = tlvLen;
      if (body + len > buf.length) break;
      this.onMessage(decodeMessage(buf, body, body + len));
      off = body + len;
    }
    // Keep the incomplete tail (copied when it is a small part of a big chunk, so the chunk can go).
    if (off < buf.length) this.pending = off === 0 ? buf : Buffer.from(buf.subarray(off));
  }
}

/**
 * Attribute types seen in entries, as their bytes and their lower-case text: a directory names the
 * same attributes in the same order entry after entry, so a type is compared byte for byte with the
 * one last seen at its position (then with the others) instead of being decoded and lower-cased again.
 */
const typeNames: { readonly raw: Buffer; readonly name: string }[] = [];
/** Position of an attribute in its entry → index in `typeNames` of the type last seen there. */
const lastAt: number[] = [];
const MAX_TYPE_NAMES = 256;

function sameBytes(raw: Buffer, b: Buffer, off: number, len: number): boolean {
  if (raw.length !== len) return false;
  for (let i = 0; i < len; i++) if (raw[i] !== b[off + i]) return false;
  return true;
}

/** The lower-case type name at b[off, off+len), the `position`-th attribute of its entry. */
function typeName(b: Buffer, off: number, len: number, position: number): string {
  const hint = lastAt[position];
  if (hint !== undefined && sameBytes(typeNames[hint].raw, b, off, len)) return typeNames[hint].name;
  for (let i = 0; i < typeNames.length; i++) {
    if (sameBytes(typeNames[i].raw, b, off, len)) {
      if (position < MAX_TYPE_NAMES) lastAt[position] = i;
      return typeNames[i].name;
    }
  }
  const name = b.toString('latin1', off, off + len).toLowerCase();
  if (typeNames.length < MAX_TYPE_NAMES) {
    typeNames.push({ raw: Buffer.from(b.subarray(off, off + len)), name });
    if (position < MAX_TYPE_NAMES) lastAt[position] = typeNames.length - 1;
  }
  return name;
}

/** Decodes one LDAPMessage whose content is b[off, end). */
function decodeMessage(b: Buffer, off: number, end: number): Response {
  if (b[off] !== INTEGER) throw new BerError('no message ID');
  let p = readLength(b, off + 1, end);
  let len = tlvLen;
  let messageId = 0;
  for (let i = 0; i < len; i++) messageId = messageId * 256 + b[p + i];
  p += len;
  const op = b[p];
  p = readLength(b, p + 1, end);
  const opEnd = p + tlvLen;
  if (opEnd > end) throw new BerError('protocolOp overruns the message');
  if (op === OP.searchResEntry) {
    const dnOff = expect(b, p, opEnd, OCTET_STRING);
    const dnEnd = dnOff + tlvLen;
    const dn = b.toString('utf8', dnOff, dnEnd);
    const aOff = expect(b, dnEnd, opEnd, SEQUENCE);
    const aEnd = aOff + tlvLen;
    const attrs = new Map<string, Buffer[]>();
    let q = aOff;
    for (let position = 0; q < aEnd; position++) {
      const pOff = expect(b, q, aEnd, SEQUENCE);
      const pEnd = pOff + tlvLen;
      const tOff = expect(b, pOff, pEnd, OCTET_STRING);
      const tEnd = tOff + tlvLen;
      const type = typeName(b, tOff, tlvLen, position);
      const sOff = expect(b, tEnd, pEnd, SET);
      const sEnd = sOff + tlvLen;
      let values = attrs.get(type);
      if (!values) attrs.set(type, (values = []));
      let v = sOff;
      while (v < sEnd) {
        const vOff = expect(b, v, sEnd, OCTET_STRING);
        v = vOff + tlvLen;
        values.push(b.subarray(vOff, v));
      }
      q = pEnd;
    }
    return { kind: 'entry', messageId, dn, attrs };
  }
  if (op === OP.searchResRef) {
    const uris: string[] = [];
    let q = p;
    while (q < opEnd) {
      const uOff = expect(b, q, opEnd, OCTET_STRING);
      q = uOff + tlvLen;
      uris.push(b.toString('utf8', uOff, q));
    }
    return { kind: 'ref', messageId, uris };
  }
  // Every other response starts with an LDAPResult: resultCode, matchedDN, diagnosticMessage.
  const cOff = expect(b, p, opEnd, ENUMERATED);
  len = tlvLen;
  let status = 0;
  for (let i = 0; i < len; i++) status = status * 256 + b[cOff + i];
  const mOff = expect(b, cOff + len, opEnd, OCTET_STRING);
  const eOff = expect(b, mOff + tlvLen, opEnd, OCTET_STRING);
  return { kind: 'result', messageId, op, status, errorMessage: tlvLen === 0 ? '' : b.toString('utf8', eOff, eOff + tlvLen) };
}

/** Expects `tag` at `off`; returns the content offset (its length in `tlvLen`), checked against `end`. */
function expect(b: Buffer, off: number, end: number, tag: number): number {
  if (off >= end || b[off] !== tag) throw new BerError(`expected tag 0x${tag.toString(16)} at ${off}${off < end ? `, got 0x${b[off].toString(16)}` : ''}`);
  const p = readLength(b, off + 1, end);
  if (p + tlvLen > end) throw new BerError('value overruns its container');
  return p;
}
