/**
 * RADIUS attribute decoder: wire bytes → `Pair` trees.
 *
 * Leaf values are lazy views over the input buffer (`Pair.lazy`): nothing is
 * copied or converted until `pair.value` is read. Copies happen only where the
 * wire form forces them: concatenated attributes (EAP-Message), RFC 6929
 * long-extended and WiMAX continuation reassembly, decryption, and the 3-byte
 * value of a tagged integer.
 *
 * Malformed attribute contents never throw: they decode as "raw" octets pairs
 * (a fresh `DictAttr` with `flags.raw`), as FreeRADIUS does. Only a broken
 * top-level framing (an attribute header or length running past the data)
 * stops the walk; `decodeAttributes` reports it, `decodePairs` keeps what was
 * decoded before it.
 */
import { DictAttr } from '../../dict/attr';
import { DEFAULT_VENDOR_FORMAT, Encrypt } from '../../dict/types';
import type { VendorFormat } from '../../dict/types';
import type { Dictionary } from '../../dict/dictionary';
import { Pair } from '../../pair/pair';
import type { Value } from '../../types/data-types';
import { decodeValue } from '../../value/wire';
import { ascendSecret, decryptTunnelPassword, decryptUserPassword } from './crypto';
import type { DecodeError } from './errors';

/** What the attribute codec needs besides the bytes. */
export interface CodecContext {
  /** The protocol dictionary (its `root` is the RADIUS attribute space). */
  dict: Dictionary;
  /** Shared secret of the client or server at the other end. */
  secret: Buffer;
  /**
   * 16-byte Request Authenticator used for User-Password, Tunnel-Password and
   * Ascend-Secret hiding (the request's own authenticator for requests, the
   * original request's for responses).
   */
  vector: Buffer;
  /** uint32 source for Tunnel-Password salts (default: crypto randomness). */
  rand?: () => number;
  /**
   * Encode only: leave out Tunnel-Password-style (`encrypt=2`) attributes.
   * `encodePacket` sets it for request packets, where FreeRADIUS does not send them.
   */
  noTunnelPassword?: boolean;
  /**
   * Encode only: when given, every value the encoder had to cut short (an attribute that may
   * not be split, longer than its wire format holds) is reported here. The encoder stays pure:
   * the caller decides how to log (the server logs at a limited rate).
   */
  warnings?: EncodeWarning[];
}

/** A value cut short on the wire (RFC 2865 §5: at most 253 bytes of value per attribute). */
export interface EncodeWarning {
  /** Attribute name. */
  readonly attr: string;
  /** Bytes the value needed. */
  readonly length: number;
  /** Bytes that were sent. */
  readonly sent: number;
}

/**
 * Node's internal FastBuffer class (what `Buffer[Symbol.species]` returns):
 * constructing one over the packet's ArrayBuffer is a real Buffer view and
 * costs about half of `subarray`.
 */
type ViewCtor = new (ab: ArrayBufferLike, off: number, len: number) => Buffer;
const FastBuffer: ViewCtor | undefined = (() => {
  const s = (Buffer as unknown as Record<symbol, unknown>)[Symbol.species];
  if (typeof s !== 'function') return undefined;
  try {
    const probe = new (s as ViewCtor)(new ArrayBuffer(2), 1, 1);
    return Buffer.isBuffer(probe) && probe.length === 1 ? (s as ViewCtor) : undefined;
  } catch {
    return undefined;
  }
})();

/** Zero-copy view of `b[start, end)`. */
export function view(b: Buffer, start: number, end: number): Buffer {
  if (FastBuffer) return new FastBuffer(b.buffer, b.byteOffset + start, end - start);
  return b.subarray(start, end);
}

/** Attribute numbers with special handling at the top level. */
const ATTR_VSA = 26;
const ATTR_CUI = 89;
const ATTR_NAS_FILTER_RULE = 92;

/** Fixed wire sizes of leaf types (date/time_delta handled separately). */
const FIXED: Record<string, number> = {
  uint8: 1, int8: 1, bool: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, ipaddr: 4,
  uint64: 8, int64: 8, size: 8, float64: 8, ifid: 8, ether: 6, ipv6addr: 16,
};
const SUBTYPE_SIZE: Record<string, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, uint64: 8, int64: 8 };

/** Wire size of a fixed-size leaf attribute, or undefined for variable-length types. */
export function fixedSize(da: DictAttr): number | undefined {
  const t = da.type;
  const f = FIXED[t];
  if (f !== undefined) return f;
  if (t === 'date' || t === 'time_delta') return da.flags.subtype ? SUBTYPE_SIZE[da.flags.subtype] ?? 4 : 4;
  if (t === 'ipv4prefix') return 6;
  if ((t === 'string' || t === 'octets') && da.flags.length) return da.flags.length;
  return undefined;
}

/** The lazy decoder given to `Pair.lazy`: validated bytes → typed value. */
export function lazyLeaf(da: DictAttr, raw: Buffer): Value {
  const v = decodeValue(da, raw);
  return v === undefined ? raw : v;
}

/** A raw (undecodable) copy of `da`, or an unknown attribute `num` under `parent`. */
export function rawAttr(parent: DictAttr, num: number, known?: DictAttr): DictAttr {
  if (known) return new DictAttr(known.name, known.attr, 'octets', known.parent, { raw: true });
  return new DictAttr(String(num), num, 'octets', parent, { raw: true });
}

function rawVendor(vsa: DictAttr, vendorId: number): DictAttr {
  const da = new DictAttr(String(vendorId), vendorId, 'vendor', vsa, { raw: true });
  da.format = DEFAULT_VENDOR_FORMAT;
  return da;
}

/** An unknown TLV-ish attribute: nested raw TLVs when the data parses as such. */
function rawTlvAttr(parent: DictAttr, num: number): DictAttr {
  return new DictAttr(String(num), num, 'tlv', parent, { raw: true });
}

function rawPair(da: DictAttr, v: Buffer): Pair {
  const p = new Pair(da);
  p.raw = v;
  p.value = v;
  return p;
}

/** Per-call decoder state (one object per decodePairs call; no closures). */
class State {
  tagGroups: Array<DictAttr | undefined> | null | undefined;
  constructor(readonly ctx: CodecContext, readonly root: DictAttr, readonly out: Pair[], readonly end: number) {}
}

const tagGroupCache = new WeakMap<DictAttr, Array<DictAttr | undefined> | null>();

/** `Tag-1` … `Tag-31` group attributes when the dictionary defines them (FreeRADIUS v4 style). */
function tagGroups(st: State): Array<DictAttr | undefined> | null {
  if (st.tagGroups !== undefined) return st.tagGroups;
  let g = tagGroupCache.get(st.root);
  if (g === undefined) {
    const arr: Array<DictAttr | undefined> = [];
    let any = false;
    for (let i = 1; i <= 31; i++) {
      const da = st.root.childByName('Tag-' + i);
      if (da && da.type === 'group') { arr[i] = da; any = true; }
    }
    g = any ? arr : null;
    tagGroupCache.set(st.root, g);
  }
  st.tagGroups = g;
  return g;
}

/** Finds the first pair of `da` in `list`, or appends a new structural pair. */
export function findOrCreate(list: Pair[], da: DictAttr): Pair {
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (p.da === da && p.children) return p;
  }
  const p = new Pair(da);
  p.children = [];
  list.push(p);
  return p;
}

/**
 * Places a tagged pair under its `Tag-N` group (re-creating the pair's
 * ancestors inside the group). Returns false when the dictionary has no such
 * group; the caller then keeps the tag on the pair (`pair.tag`).
 */
function placeTagged(st: State, pair: Pair, tag: number): boolean {
  const groups = tagGroups(st);
  const g = groups ? groups[tag] : undefined;
  if (!g) return false;
  let l = findOrCreate(st.out, g).children!;
  const chain: DictAttr[] = [];
  for (let a = pair.da.parent; a && a !== st.root && a.type !== 'root'; a = a.parent) chain.push(a);
  for (let i = chain.length - 1; i >= 0; i--) l = findOrCreate(l, chain[i]).children!;
  l.push(pair);
  return true;
}

/** True when `v` is a sequence of well-formed 1-byte-type/1-byte-length TLVs. */
function tlvFramingOk(v: Buffer, minLen: number): boolean {
  let p = 0;
  const end = v.length;
  if (end === 0) return false;
  while (p < end) {
    if (end - p < 2) return false;
    const l = v[p + 1];
    if (l < minLen || p + l > end) return false;
    p += l;
  }
  return true;
}

/** Decodes a leaf value (tags, decryption, arrays, validation) into `list`. */
function decodeLeaf(st: State, list: Pair[], da: DictAttr, v: Buffer, tagged: boolean): void {
  const orig = v;
  let tag = 0;
  const flags = da.flags;
  if (flags.hasTag) {
    if (FIXED[da.type] === 4 || da.type === 'date') {
      if (v.length !== 4 || v[0] > 0x1f) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), orig)); return; }
      tag = v[0];
      const b = Buffer.allocUnsafe(4);
      b[0] = 0; b[1] = v[1]; b[2] = v[2]; b[3] = v[3];
      v = b;
    } else if (flags.encrypt === Encrypt.TunnelPassword) {
      if (v.length > 0 && v[0] <= 0x1f) { tag = v[0]; v = view(v, 1, v.length); }
    } else if (v.length > 0 && v[0] <= 0x1f) {
      tag = v[0];
      v = view(v, 1, v.length);
    }
  }
  const enc = flags.encrypt;
  if (enc) {
    const ctx = st.ctx;
    if (enc === Encrypt.UserPassword) {
      if ((da.type === 'string' || da.type === 'octets') && !tag && !flags.array) {
        // Revealed on first access: decoding a packet costs no MD5 until the password is read.
        const secret = ctx.secret;
        const vector = ctx.vector;
        list.push(Pair.lazy(da, v, (d, raw) => lazyLeaf(d, decryptUserPassword(raw, secret, vector))));
        return;
      }
      v = decryptUserPassword(v, ctx.secret, ctx.vector);
    } else if (enc === Encrypt.TunnelPassword) {
      const d = decryptTunnelPassword(v, ctx.secret, ctx.vector);
      if (!d) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), orig)); return; }
      v = d;
    } else if (enc === Encrypt.AscendSecret) {
      if (v.length !== 16) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), orig)); return; }
      v = ascendSecret(v, ctx.secret, ctx.vector, true);
    }
  }
  const t = da.type;
  let pair: Pair;
  if (t === 'string' || t === 'octets') {
    const fl = flags.length;
    if (fl !== undefined && fl !== v.length && !enc) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), orig)); return; }
    pair = Pair.lazy(da, v, lazyLeaf);
  } else {
    const size = fixedSize(da);
    if (size !== undefined && t !== 'ipv4prefix') {
      if (flags.array && v.length > size && v.length % size === 0) {
        for (let i = 0; i < v.length; i += size) list.push(Pair.lazy(da, view(v, i, i + size), lazyLeaf));
        return;
      }
      if (v.length !== size) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), orig)); return; }
      pair = Pair.lazy(da, v, lazyLeaf);
    } else if (t === 'abinary') {
      pair = Pair.lazy(da, v, lazyLeaf);
    } else {
      // prefixes, combo types: validate by decoding now (cheap, and rare)
      const val = decodeValue(da, v);
      if (val === undefined) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), orig)); return; }
      pair = new Pair(da, val);
      pair.raw = v;
    }
  }
  if (tag) {
    if (tagged && placeTagged(st, pair, tag)) return;
    pair.tag = tag;
  }
  list.push(pair);
}

/** Decodes the value `v` of attribute `da` (any type) into `list`. */
function decodeValueInto(st: State, list: Pair[], da: DictAttr, v: Buffer, tagged: boolean): void {
  switch (da.type) {
    case 'tlv':
      decodeTlv(st, list, da, v);
      return;
    case 'struct':
      decodeStruct(st, list, da, v);
      return;
    case 'vsa': case 'vendor': case 'group': case 'union': case 'root':
      list.push(rawPair(rawAttr(da.parent!, da.attr, da), v));
      return;
    default:
      if (da.flags.raw) { list.push(rawPair(da, v)); return; }
      decodeLeaf(st, list, da, v, tagged);
  }
}

/** A TLV attribute: validated framing, children decoded; otherwise raw. */
function decodeTlv(st: State, list: Pair[], da: DictAttr, v: Buffer): void {
  const isRaw = da.flags.raw === true;
  if (!tlvFramingOk(v, isRaw ? 3 : 2)) {
    list.push(rawPair(isRaw ? rawAttr(da.parent!, da.attr) : rawAttr(da.parent!, da.attr, da), v));
    return;
  }
  const pair = new Pair(da);
  pair.children = [];
  decodeTlvChildren(st, pair.children, da, v);
  list.push(pair);
}

function decodeTlvChildren(st: State, list: Pair[], da: DictAttr, v: Buffer): void {
  let p = 0;
  while (p < v.length) {
    const t = v[p];
    const l = v[p + 1];
    if (l > 2) {
      const child = da.children.get(t) ?? rawTlvAttr(da, t);
      decodeValueInto(st, list, child, view(v, p + 2, p + l), false);
    }
    p += l;
  }
}

function readUint(v: Buffer, off: number, size: number): number {
  switch (size) {
    case 1: return v[off];
    case 2: return v.readUInt16BE(off);
    case 4: return v.readUInt32BE(off);
    default: return Number(v.readBigUInt64BE(off));
  }
}

/** A struct: members in order, bit fields, trailing TLV, keyed union. */
function decodeStruct(st: State, list: Pair[], da: DictAttr, v: Buffer): void {
  const pair = new Pair(da);
  pair.children = [];
  const members = da.members ?? [];
  let off = 0;
  let key: number | undefined;
  let bitPos = 0; // bits consumed in the current bit run
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    if (m.flags.bits) {
      // A run of bit fields: MSB first, byte-aligned at the end of the run.
      let totalBits = 0;
      let j = i;
      while (j < members.length && members[j].flags.bits) { totalBits += members[j].flags.length ?? 0; j++; }
      const nbytes = (totalBits + 7) >> 3;
      if (off + nbytes > v.length) break;
      let acc = 0n;
      for (let k = 0; k < nbytes; k++) acc = (acc << 8n) | BigInt(v[off + k]);
      bitPos = nbytes * 8;
      for (let k = i; k < j; k++) {
        const bm = members[k];
        const w = bm.flags.length ?? 0;
        bitPos -= w;
        const fv = (acc >> BigInt(bitPos)) & ((1n << BigInt(w)) - 1n);
        const val: Value = bm.type === 'uint64' || bm.type === 'int64' || bm.type === 'size' ? fv
          : bm.type === 'bool' ? fv !== 0n : Number(fv);
        if (bm.flags.key) key = Number(fv);
        pair.children.push(new Pair(bm, val));
      }
      off += nbytes;
      i = j - 1;
      continue;
    }
    if (m.type === 'tlv') {
      const rest = view(v, off, v.length);
      off = v.length;
      if (rest.length > 0) decodeTlv(st, pair.children, m, rest);
      break;
    }
    if (m.type === 'union') {
      const rest = view(v, off, v.length);
      off = v.length;
      if (rest.length === 0) break;
      const child = key !== undefined ? m.children.get(key) : undefined;
      if (!child) {
        const u = new Pair(m);
        u.children = [rawPair(rawAttr(m, key ?? 0), rest)];
        pair.children.push(u);
      } else {
        decodeValueInto(st, pair.children, child, rest, false);
      }
      break;
    }
    if (m.type === 'struct') {
      const rest = view(v, off, v.length);
      off = v.length;
      if (rest.length > 0) decodeStruct(st, pair.children, m, rest);
      break;
    }
    const size = fixedSize(m);
    if (size === undefined) {
      const rest = view(v, off, v.length);
      off = v.length;
      if (rest.length > 0) decodeValueInto(st, pair.children, m, rest, false);
      break;
    }
    if (off + size > v.length) break;
    const sub = view(v, off, off + size);
    if (m.flags.key) key = readUint(sub, 0, size);
    decodeValueInto(st, pair.children, m, sub, false);
    off += size;
  }
  if (pair.children.length === 0) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), v)); return; }
  list.push(pair);
}

/** The children list of `Vendor-Specific` → vendor in `list` (found or created). */
function vendorList(list: Pair[], vsaDa: DictAttr, vendorDa: DictAttr): Pair[] {
  return findOrCreate(findOrCreate(list, vsaDa).children!, vendorDa).children!;
}

/**
 * Removes the vendor pair (and then the Vendor-Specific pair) again when
 * decoding left it empty, e.g. because its attributes went to `Tag-N` groups.
 */
function pruneVendor(list: Pair[], vsaDa: DictAttr, vendorDa: DictAttr): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const vsa = list[i];
    if (vsa.da !== vsaDa || !vsa.children) continue;
    const kids = vsa.children;
    for (let j = kids.length - 1; j >= 0; j--) {
      if (kids[j].da === vendorDa && kids[j].children && kids[j].children!.length === 0) kids.splice(j, 1);
    }
    if (kids.length === 0) list.splice(i, 1);
    return;
  }
}

/** Checks the sub-attribute framing of a VSA body `v[start, end)` (after the vendor id). */
function vsaFramingOk(v: Buffer, start: number, end: number, tl: number, ll: number): boolean {
  const hdr = tl + ll;
  let p = start;
  if (p >= end) return false;
  if (ll === 0) return end - p > tl;
  while (p < end) {
    if (end - p < hdr) return false;
    const l = ll === 1 ? v[p + tl] : v.readUInt16BE(p + tl);
    if (l < hdr || p + l > end) return false;
    p += l;
  }
  return true;
}

function readType(v: Buffer, p: number, size: number): number {
  return size === 1 ? v[p] : size === 2 ? v.readUInt16BE(p) : v.readUInt32BE(p);
}

/** Vendor sub-attributes in the RFC 2865 1,1 layout at `data[p, end)`, with a fast path for plain leaves. */
function decodeVendor11(st: State, vendorList: Pair[], vendorDa: DictAttr, data: Buffer, p: number, end: number): void {
  const cache = topCache(vendorDa);
  const kinds = cache.kind;
  const das = cache.das;
  const ab = data.buffer;
  const base = data.byteOffset;
  const FB = FastBuffer;
  while (p < end) {
    const t = data[p];
    const l = data[p + 1];
    if (l > 2) {
      const k = kinds[t];
      if (k !== K_OTHER && (k === K_VAR || l - 2 === k)) {
        vendorList.push(Pair.lazy(das[t]!, FB ? new FB(ab, base + p + 2, l - 2) : data.subarray(p + 2, p + l), lazyLeaf));
      } else {
        decodeValueInto(st, vendorList, das[t] ?? rawTlvAttr(vendorDa, t), view(data, p + 2, p + l), true);
      }
    }
    p += l;
  }
}

/** Decodes the vendor sub-attributes of one VSA body into `vendorList`. */
function decodeVendorBody(st: State, vendorList: Pair[], vendorDa: DictAttr, v: Buffer, start: number, fmt: VendorFormat): void {
  const tl = fmt.type;
  const ll = fmt.length;
  const hdr = tl + ll;
  let p = start;
  const end = v.length;
  if (tl === 1 && ll === 1) {
    decodeVendor11(st, vendorList, vendorDa, v, p, end);
    return;
  }
  while (p < end) {
    const t = readType(v, p, tl);
    const l = ll === 0 ? end - p : ll === 1 ? v[p + tl] : v.readUInt16BE(p + tl);
    if (l > hdr) {
      const da = vendorDa.children.get(t) ?? rawTlvAttr(vendorDa, t);
      decodeValueInto(st, vendorList, da, view(v, p + hdr, p + l), true);
    }
    p += l;
  }
}

/**
 * A top-level Vendor-Specific (26) attribute starting at `p`. Returns the
 * offset after the last attribute consumed (WiMAX continuations consume more).
 */
function decodeVsaTop(st: State, list: Pair[], vsaDa: DictAttr, data: Buffer, p: number, l: number): number {
  const next = p + l;
  if (l < 7 || data[p + 2] !== 0) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), view(data, p + 2, next))); return next; }
  const vendorId = ((data[p + 3] << 16) | (data[p + 4] << 8) | data[p + 5]) >>> 0;
  const vendorDa0 = vsaDa.children.get(vendorId);
  if (vendorDa0 && vendorDa0.format === undefined || vendorDa0 && vendorDa0.format!.type === 1 && vendorDa0.format!.length === 1 && !vendorDa0.format!.continuation) {
    // RFC 2865 layout, decoded in place.
    if (!vsaFramingOk(data, p + 6, next, 1, 1)) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), view(data, p + 2, next))); return next; }
    const vl = vendorList(list, vsaDa, vendorDa0!);
    decodeVendor11(st, vl, vendorDa0!, data, p + 6, next);
    if (vl.length === 0) pruneVendor(list, vsaDa, vendorDa0!);
    return next;
  }
  const v = view(data, p + 2, next);
  const vendorDa = vsaDa.children.get(vendorId) ?? rawVendor(vsaDa, vendorId);
  const fmt = vendorDa.format ?? DEFAULT_VENDOR_FORMAT;
  if (fmt.continuation) return decodeWimax(st, list, vsaDa, vendorDa, data, p, l);
  if (!vsaFramingOk(v, 4, v.length, fmt.type, fmt.length)) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), v)); return next; }
  const vl = vendorList(list, vsaDa, vendorDa);
  decodeVendorBody(st, vl, vendorDa, v, 4, fmt);
  if (vl.length === 0) pruneVendor(list, vsaDa, vendorDa);
  return next;
}

/** WiMAX-style VSA (`format=1,1,c`): one sub-attribute per VSA, continuation flag 0x80. */
function decodeWimax(st: State, list: Pair[], vsaDa: DictAttr, vendorDa: DictAttr, data: Buffer, p: number, l: number): number {
  const v = view(data, p + 2, p + l);
  // vendor(4) type(1) len(1) flags(1) data
  if (v.length < 7 || v[5] !== v.length - 4) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), v)); return p + l; }
  const type = v[4];
  let more = (v[6] & 0x80) !== 0;
  let next = p + l;
  let value = view(v, 7, v.length);
  if (more) {
    const parts: Buffer[] = [value];
    while (more && next + 9 <= st.end) {
      const nl = data[next + 1];
      if (data[next] !== ATTR_VSA || nl < 9 || next + nl > st.end) break;
      const nv = view(data, next + 2, next + nl);
      if (nv.readUInt32BE(0) !== vendorDa.attr || nv[4] !== type || nv[5] !== nv.length - 4) break;
      parts.push(view(nv, 7, nv.length));
      more = (nv[6] & 0x80) !== 0;
      next += nl;
    }
    value = parts.length === 1 ? value : Buffer.concat(parts);
  }
  if (value.length > 0) {
    const da = vendorDa.children.get(type) ?? rawTlvAttr(vendorDa, type);
    const vl = vendorList(list, vsaDa, vendorDa);
    decodeValueInto(st, vl, da, value, true);
    if (vl.length === 0) pruneVendor(list, vsaDa, vendorDa);
  }
  return next;
}

/** RFC 6929 extended (241–244) and long-extended (245–246) attributes. */
function decodeExtended(st: State, da: DictAttr, data: Buffer, p: number, l: number): number {
  const out = st.out;
  const v = view(data, p + 2, p + l);
  let next = p + l;
  const long = da.flags.longExtended === true;
  const hdr = long ? 2 : 1;
  if (v.length <= hdr) { out.push(rawPair(rawAttr(st.root, da.attr, da), v)); return next; }
  const extType = v[0];
  let payload = view(v, hdr, v.length);
  if (long && (v[1] & 0x80) !== 0) {
    const parts: Buffer[] = [payload];
    let more = true;
    while (more && next + 4 <= st.end) {
      const nl = data[next + 1];
      if (data[next] !== da.attr || nl < 4 || next + nl > st.end || data[next + 2] !== extType) break;
      parts.push(view(data, next + 4, next + nl));
      more = (data[next + 3] & 0x80) !== 0;
      next += nl;
    }
    if (parts.length > 1) payload = Buffer.concat(parts);
  }
  const extPair = findOrCreate(out, da);
  const child = da.children.get(extType);
  if (child && child.type === 'vsa') {
    decodeEvs(st, extPair.children!, child, payload);
  } else {
    decodeValueInto(st, extPair.children!, child ?? rawAttr(da, extType), payload, false);
  }
  return next;
}

/** A vendor under an Extended-Vendor-Specific attribute: named after the global vendor when known. */
function evsVendor(st: State, vsaDa: DictAttr, vendorId: number): DictAttr {
  let global: DictAttr | undefined;
  try { global = st.ctx.dict.vendor(vendorId); } catch { global = undefined; }
  if (!global) return rawVendor(vsaDa, vendorId);
  const da = new DictAttr(global.name, vendorId, 'vendor', vsaDa, {});
  da.format = DEFAULT_VENDOR_FORMAT;
  return da;
}

/** Extended-Vendor-Specific body: vendor(4) type(1) data. */
function decodeEvs(st: State, list: Pair[], vsaDa: DictAttr, v: Buffer): void {
  if (v.length < 6) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), v)); return; }
  const vendorId = v.readUInt32BE(0);
  const vendorDa = vsaDa.children.get(vendorId) ?? evsVendor(st, vsaDa, vendorId);
  const t = v[4];
  const da = vendorDa.children.get(t) ?? rawTlvAttr(vendorDa, t);
  const vl = vendorList(list, vsaDa, vendorDa);
  decodeValueInto(st, vl, da, view(v, 5, v.length), false);
  if (vl.length === 0) pruneVendor(list, vsaDa, vendorDa);
}

/** Decodes one top-level attribute at `p` (already framing-checked). Returns the next offset. */
function decodeTop(st: State, data: Buffer, p: number, t: number, l: number): number {
  const root = st.root;
  const da = root.children.get(t);
  const next = p + l;
  if (da === undefined) {
    if (l > 2) st.out.push(rawPair(rawAttr(root, t), view(data, p + 2, next)));
    return next;
  }
  if (l === 2) {
    if (t === ATTR_CUI) st.out.push(Pair.lazy(da, view(data, next, next), lazyLeaf));
    return next;
  }
  const flags = da.flags;
  if (flags.concat) {
    // Join this attribute with the immediately following ones of the same type.
    let end = next;
    let count = 1;
    while (end + 2 <= st.end && data[end] === t && data[end + 1] >= 2 && end + data[end + 1] <= st.end) {
      end += data[end + 1];
      count++;
    }
    let v: Buffer;
    if (count === 1) v = view(data, p + 2, next);
    else {
      const parts: Buffer[] = [];
      for (let q = p; q < end; q += data[q + 1]) parts.push(view(data, q + 2, q + data[q + 1]));
      v = Buffer.concat(parts);
    }
    st.out.push(Pair.lazy(da, v, lazyLeaf));
    return end;
  }
  if (flags.extended || flags.longExtended) return decodeExtended(st, da, data, p, l);
  switch (da.type) {
    case 'vsa':
      return decodeVsaTop(st, st.out, da, data, p, l);
    case 'tlv': {
      const v = view(data, p + 2, next);
      if (!tlvFramingOk(v, 2)) { st.out.push(rawPair(rawAttr(root, t, da), v)); return next; }
      const pair = findOrCreate(st.out, da);
      decodeTlvChildren(st, pair.children!, da, v);
      return next;
    }
    case 'struct':
      decodeStruct(st, st.out, da, view(data, p + 2, next));
      return next;
    default:
      if (t === ATTR_NAS_FILTER_RULE && da.type === 'string') return decodeNasFilterRule(st, da, data, p);
      decodeLeaf(st, st.out, da, view(data, p + 2, next), true);
      return next;
  }
}

/** RFC 4849 NAS-Filter-Rule: consecutive attributes joined, rules separated by NUL. */
function decodeNasFilterRule(st: State, da: DictAttr, data: Buffer, p: number): number {
  let end = p;
  const parts: Buffer[] = [];
  while (end + 2 <= st.end && data[end] === ATTR_NAS_FILTER_RULE && data[end + 1] >= 2 && end + data[end + 1] <= st.end) {
    parts.push(view(data, end + 2, end + data[end + 1]));
    end += data[end + 1];
  }
  const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
  let s = 0;
  for (let i = 0; i <= all.length; i++) {
    if (i === all.length || all[i] === 0) {
      if (i > s) st.out.push(Pair.lazy(da, all.subarray(s, i), lazyLeaf));
      s = i + 1;
    }
  }
  return end;
}

/** Result of `decodeAttributes`. */
export interface DecodeAttributesResult {
  pairs: Pair[];
  /** Set when the top-level framing was broken; `pairs` holds what came before. */
  error?: DecodeError;
}

/**
 * Decodes an attribute area (the bytes after a RADIUS header, or any run of
 * attributes). Never throws. Attribute-level problems become raw pairs; a
 * broken top-level framing stops the walk and is reported in `error`
 * (FreeRADIUS's "Insufficient data").
 */
export function decodeAttributes(data: Buffer, ctx: CodecContext): DecodeAttributesResult {
  return decodeRange(data, 0, data.length, ctx);
}

/**
 * Decodes the attributes in `data[start, end)`. Error offsets are relative to
 * `data`. Used by `decodePacket` to walk the packet without an extra view.
 */
export function decodeRange(data: Buffer, start: number, end: number, ctx: CodecContext): DecodeAttributesResult {
  const out: Pair[] = [];
  const root = ctx.dict.root;
  const st = new State(ctx, root, out, end);
  const cache = topCache(root);
  const kinds = cache.kind;
  const das = cache.das;
  const ab = data.buffer;
  const base = data.byteOffset;
  const FB = FastBuffer;
  let p = start;
  try {
    while (p < end) {
      if (end - p < 2) return { pairs: out, error: { code: 'attr-header-overflow', message: 'Insufficient data', offset: p, attribute: data[p] } };
      const t = data[p];
      const l = data[p + 1];
      if (l < 2) return { pairs: out, error: { code: 'attr-length-invalid', message: 'Insufficient data', offset: p, attribute: t } };
      if (p + l > end) return { pairs: out, error: { code: 'attr-overflow', message: 'Insufficient data', offset: p, attribute: t } };
      // Fast path: plain RFC attributes (no tag, hiding, concat, structure).
      const k = kinds[t];
      if (k !== K_OTHER && l > 2 && (k === K_VAR || l - 2 === k)) {
        out.push(Pair.lazy(das[t]!, FB ? new FB(ab, base + p + 2, l - 2) : data.subarray(p + 2, p + l), lazyLeaf));
        p += l;
        continue;
      }
      p = decodeTop(st, data, p, t, l);
    }
  } catch (e) {
    // Defensive: a dictionary shape we did not foresee must not crash the caller.
    return { pairs: out, error: { code: 'internal', message: (e as Error).message, offset: p } };
  }
  return { pairs: out };
}

/** Kinds of top-level attributes for the fast path: K_VAR, a fixed size (1–16), or K_OTHER. */
const K_OTHER = 0;
const K_VAR = 255;

interface TopCache {
  size: number;
  das: Array<DictAttr | undefined>;
  kind: Uint8Array;
}
const topCaches = new WeakMap<DictAttr, TopCache>();

/** Per-parent table of children numbered 1–255 for the fast path (rebuilt if the dictionary grows). */
function topCache(root: DictAttr): TopCache {
  let c = topCaches.get(root);
  if (c && c.size === root.children.size) return c;
  const isRoot = root.type === 'root';
  const das: Array<DictAttr | undefined> = new Array(256).fill(undefined);
  const kind = new Uint8Array(256);
  for (let t = 1; t < 256; t++) {
    const da = root.children.get(t);
    das[t] = da;
    if (!da) continue;
    const f = da.flags;
    if (f.hasTag || f.encrypt || f.concat || f.array || f.extended || f.longExtended || f.raw || f.length !== undefined) continue;
    if (isRoot && (t === ATTR_CUI || t === ATTR_NAS_FILTER_RULE)) continue;
    if (da.type === 'string' || da.type === 'octets') kind[t] = K_VAR;
    else {
      const size = FIXED[da.type];
      if (size !== undefined) kind[t] = size;
    }
  }
  c = { size: root.children.size, das, kind };
  topCaches.set(root, c);
  return c;
}

/**
 * Decodes an attribute area into pairs. Never throws: invalid attributes are
 * raw octets pairs; on broken top-level framing the pairs decoded before it
 * are returned (use `decodeAttributes` to see the error).
 */
export function decodePairs(data: Buffer, ctx: CodecContext): Pair[] {
  return decodeAttributes(data, ctx).pairs;
}
