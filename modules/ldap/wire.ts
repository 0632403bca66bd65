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

/** BER length octets of `n`. */
function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  if (n < 0x10000) return [0x82, n >> 8, n & 0xff];
  if (n < 0x1000000) return [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return [0x84, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** Writes tag + length at `off`; returns the new offset. */
function header(buf: Buffer, off: number, tag: number, len: number): number {
  buf[off++] = tag;
  for (const b of lengthBytes(len)) buf[off++] = b;
  return off;
}

const headerSize = (len: number) => 1 + lengthBytes(len).length;

/** A TLV from a tag and content. */
function tlv(tag: number, content: Buffer): Buffer {
  const out = Buffer.allocUnsafe(headerSize(content.length) + content.length);
  content.copy(out, header(out, 0, tag, content.length));
  return out;
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
    const id = intContent(this.messageId);
    const opLen = head.length + this.filter.length + attrs.length;
    const msgLen = 2 + id.length + headerSize(opLen) + opLen;
    const out = Buffer.allocUnsafe(headerSize(msgLen) + msgLen);
    let off = header(out, 0, SEQUENCE, msgLen);
    off = header(out, off, INTEGER, id.length);
    off += id.copy(out, off);
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
    const id = intContent(this.messageId);
    const msgLen = 2 + id.length + this.op.length;
    const out = Buffer.allocUnsafe(headerSize(msgLen) + msgLen);
    let off = header(out, 0, SEQUENCE, msgLen);
    off = header(out, off, INTEGER, id.length);
    off += id.copy(out, off);
    this.op.copy(out, off);
    return out;
  }
}

/** A simple bind (RFC 4511 §4.2: version 3, name, simple password). */
export class BindMessage extends OpMessage {
  protected readonly op: Buffer;

  constructor(dn: string, password: string) {
    super();
    const content = Buffer.concat([tlv(INTEGER, intContent(3)), tlv(OCTET_STRING, Buffer.from(dn, 'utf8')), tlv(SIMPLE_AUTH, Buffer.from(password, 'utf8'))]);
    this.op = tlv(BIND_REQUEST, content);
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

/** Encodes RFC 4515 filter text as a BER Filter (throws on a filter that does not parse). */
export function encodeFilter(text: string): Buffer {
  const m = EQUALITY_RE.exec(text);
  if (m) {
    const attr = tlv(OCTET_STRING, Buffer.from(m[1], 'utf8'));
    const value = tlv(OCTET_STRING, filterValue(m[2]));
    const out = Buffer.allocUnsafe(headerSize(attr.length + value.length) + attr.length + value.length);
    const off = header(out, 0, EQUALITY, attr.length + value.length);
    attr.copy(out, off);
    value.copy(out, off + attr.length);
    return out;
  }
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

/** Reads a length at `off` of `b` (within `end`); returns [length, offset after it]. */
function readLength(b: Buffer, off: number, end: number): [number, number] {
  if (off >= end) throw new BerError('truncated length');
  const first = b[off++];
  if (first < 0x80) return [first, off];
  const n = first & 0x7f;
  if (n === 0 || n > 4 || off + n > end) throw new BerError('bad length');
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + b[off++];
  return [len, off];
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
      const [len, body] = readLength(buf, off + 1, buf.length);
      if (body + len > buf.length) break;
      this.onMessage(decodeMessage(buf, body, body + len));
      off = body + len;
    }
    // Keep the incomplete tail (copied when it is a small part of a big chunk, so the chunk can go).
    if (off < buf.length) this.pending = off === 0 ? buf : Buffer.from(buf.subarray(off));
  }
}

/** Decodes one LDAPMessage whose content is b[off, end). */
function decodeMessage(b: Buffer, off: number, end: number): Response {
  if (b[off] !== INTEGER) throw new BerError('no message ID');
  let [len, p] = readLength(b, off + 1, end);
  let messageId = 0;
  for (let i = 0; i < len; i++) messageId = messageId * 256 + b[p + i];
  p += len;
  const op = b[p];
  [len, p] = readLength(b, p + 1, end);
  const opEnd = p + len;
  if (opEnd > end) throw new BerError('protocolOp overruns the message');
  if (op === OP.searchResEntry) {
    const [dnLen, dnOff] = expect(b, p, opEnd, OCTET_STRING);
    const dn = b.toString('utf8', dnOff, dnOff + dnLen);
    const [aLen, aOff] = expect(b, dnOff + dnLen, opEnd, SEQUENCE);
    const attrs = new Map<string, Buffer[]>();
    const aEnd = aOff + aLen;
    let q = aOff;
    while (q < aEnd) {
      const [pLen, pOff] = expect(b, q, aEnd, SEQUENCE);
      const pEnd = pOff + pLen;
      const [tLen, tOff] = expect(b, pOff, pEnd, OCTET_STRING);
      const type = b.toString('latin1', tOff, tOff + tLen).toLowerCase();
      const [sLen, sOff] = expect(b, tOff + tLen, pEnd, SET);
      let values = attrs.get(type);
      if (!values) attrs.set(type, (values = []));
      let v = sOff;
      while (v < sOff + sLen) {
        const [vLen, vOff] = expect(b, v, sOff + sLen, OCTET_STRING);
        values.push(b.subarray(vOff, vOff + vLen));
        v = vOff + vLen;
      }
      q = pEnd;
    }
    return { kind: 'entry', messageId, dn, attrs };
  }
  if (op === OP.searchResRef) {
    const uris: string[] = [];
    let q = p;
    while (q < opEnd) {
      const [uLen, uOff] = expect(b, q, opEnd, OCTET_STRING);
      uris.push(b.toString('utf8', uOff, uOff + uLen));
      q = uOff + uLen;
    }
    return { kind: 'ref', messageId, uris };
  }
  // Every other response starts with an LDAPResult: resultCode, matchedDN, diagnosticMessage.
  const [cLen, cOff] = expect(b, p, opEnd, ENUMERATED);
  let status = 0;
  for (let i = 0; i < cLen; i++) status = status * 256 + b[cOff + i];
  const [mLen, mOff] = expect(b, cOff + cLen, opEnd, OCTET_STRING);
  const [eLen, eOff] = expect(b, mOff + mLen, opEnd, OCTET_STRING);
  return { kind: 'result', messageId, op, status, errorMessage: b.toString('utf8', eOff, eOff + eLen) };
}

/** Expects `tag` at `off`; returns [content length, content offset], checked against `end`. */
function expect(b: Buffer, off: number, end: number, tag: number): [number, number] {
  if (off >= end || b[off] !== tag) throw new BerError(`expected tag 0x${tag.toString(16)} at ${off}${off < end ? `, got 0x${b[off].toString(16)}` : ''}`);
  const [len, p] = readLength(b, off + 1, end);
  if (p + len > end) throw new BerError('value overruns its container');
  return [len, p];
}
