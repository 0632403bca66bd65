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
import type { Value } from '../../value/types';
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
  constructor(readonly ctx: CodecContext, readonly root: DictAttr, readonly out: Pair[]) {}
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
      if (v.length > 0 && v[0] <= 0x1f) { tag = v[0]; v = v.subarray(1); }
    } else if (v.length > 0 && v[0] <= 0x1f) {
      tag = v[0];
      v = v.subarray(1);
    }
  }
  const enc = flags.encrypt;
  if (enc) {
    const ctx = st.ctx;
    if (enc === Encrypt.UserPassword) {
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
        for (let i = 0; i < v.length; i += size) list.push(Pair.lazy(da, v.subarray(i, i + size), lazyLeaf));
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
      decodeValueInto(st, list, child, v.subarray(p + 2, p + l), false);
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
      const rest = v.subarray(off);
      off = v.length;
      if (rest.length > 0) decodeTlv(st, pair.children, m, rest);
      break;
    }
    if (m.type === 'union') {
      const rest = v.subarray(off);
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
      const rest = v.subarray(off);
      off = v.length;
      if (rest.length > 0) decodeStruct(st, pair.children, m, rest);
      break;
    }
    const size = fixedSize(m);
    if (size === undefined) {
      const rest = v.subarray(off);
      off = v.length;
      if (rest.length > 0) decodeValueInto(st, pair.children, m, rest, false);
      break;
    }
    if (off + size > v.length) break;
    const sub = v.subarray(off, off + size);
    if (m.flags.key) key = readUint(sub, 0, size);
    decodeValueInto(st, pair.children, m, sub, false);
    off += size;
  }
  if (pair.children.length === 0) { list.push(rawPair(rawAttr(da.parent!, da.attr, da), v)); return; }
  list.push(pair);
}

/** Appends decoded vendor attributes under `Vendor-Specific` → vendor (found or created) in `list`. */
function attachVendor(list: Pair[], vsaDa: DictAttr, vendorDa: DictAttr, pairs: Pair[]): void {
  if (pairs.length === 0) return;
  const vendorList = findOrCreate(findOrCreate(list, vsaDa).children!, vendorDa).children!;
  for (let i = 0; i < pairs.length; i++) vendorList.push(pairs[i]);
}

/** Checks the sub-attribute framing of a VSA body (after the vendor id). */
function vsaFramingOk(v: Buffer, start: number, fmt: VendorFormat): boolean {
  const tl = fmt.type;
  const ll = fmt.length;
  const hdr = tl + ll;
  let p = start;
  const end = v.length;
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

/** Decodes the vendor sub-attributes of one VSA body into `vendorList`. */
function decodeVendorBody(st: State, vendorList: Pair[], vendorDa: DictAttr, v: Buffer, start: number, fmt: VendorFormat): void {
  const tl = fmt.type;
  const ll = fmt.length;
  const hdr = tl + ll;
  let p = start;
  const end = v.length;
  while (p < end) {
    const t = readType(v, p, tl);
    const l = ll === 0 ? end - p : ll === 1 ? v[p + tl] : v.readUInt16BE(p + tl);
    if (l > hdr) {
      const da = vendorDa.children.get(t) ?? (vendorDa.flags.raw ? rawTlvAttr(vendorDa, t) : rawTlvAttr(vendorDa, t));
      decodeValueInto(st, vendorList, da, v.subarray(p + hdr, p + l), true);
    }
    p += l;
  }
}

/**
 * A top-level Vendor-Specific (26) attribute starting at `p`. Returns the
 * offset after the last attribute consumed (WiMAX continuations consume more).
 */
function decodeVsaTop(st: State, list: Pair[], vsaDa: DictAttr, data: Buffer, p: number, l: number): number {
  const v = data.subarray(p + 2, p + l);
  const next = p + l;
  if (v.length < 5 || v[0] !== 0) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), v)); return next; }
  const vendorId = v.readUInt32BE(0);
  const vendorDa = vsaDa.children.get(vendorId) ?? rawVendor(vsaDa, vendorId);
  const fmt = vendorDa.format ?? DEFAULT_VENDOR_FORMAT;
  if (fmt.continuation) return decodeWimax(st, list, vsaDa, vendorDa, data, p, l);
  if (!vsaFramingOk(v, 4, fmt)) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), v)); return next; }
  const tmp: Pair[] = [];
  decodeVendorBody(st, tmp, vendorDa, v, 4, fmt);
  attachVendor(list, vsaDa, vendorDa, tmp);
  return next;
}

/** WiMAX-style VSA (`format=1,1,c`): one sub-attribute per VSA, continuation flag 0x80. */
function decodeWimax(st: State, list: Pair[], vsaDa: DictAttr, vendorDa: DictAttr, data: Buffer, p: number, l: number): number {
  const v = data.subarray(p + 2, p + l);
  // vendor(4) type(1) len(1) flags(1) data
  if (v.length < 7 || v[5] !== v.length - 4) { list.push(rawPair(rawAttr(vsaDa.parent!, vsaDa.attr, vsaDa), v)); return p + l; }
  const type = v[4];
  let more = (v[6] & 0x80) !== 0;
  let next = p + l;
  let value = v.subarray(7);
  if (more) {
    const parts: Buffer[] = [value];
    while (more && next + 9 <= data.length) {
      const nl = data[next + 1];
      if (data[next] !== ATTR_VSA || nl < 9 || next + nl > data.length) break;
      const nv = data.subarray(next + 2, next + nl);
      if (nv.readUInt32BE(0) !== vendorDa.attr || nv[4] !== type || nv[5] !== nv.length - 4) break;
      parts.push(nv.subarray(7));
      more = (nv[6] & 0x80) !== 0;
      next += nl;
    }
    value = parts.length === 1 ? value : Buffer.concat(parts);
  }
  if (value.length > 0) {
    const tmp: Pair[] = [];
    const da = vendorDa.children.get(type) ?? rawTlvAttr(vendorDa, type);
    decodeValueInto(st, tmp, da, value, true);
    attachVendor(list, vsaDa, vendorDa, tmp);
  }
  return next;
}

/** RFC 6929 extended (241–244) and long-extended (245–246) attributes. */
function decodeExtended(st: State, da: DictAttr, data: Buffer, p: number, l: number): number {
  const out = st.out;
  const v = data.subarray(p + 2, p + l);
  let next = p + l;
  const long = da.flags.longExtended === true;
  const hdr = long ? 2 : 1;
  if (v.length <= hdr) { out.push(rawPair(rawAttr(st.root, da.attr, da), v)); return next; }
  const extType = v[0];
  let payload = v.subarray(hdr);
  if (long && (v[1] & 0x80) !== 0) {
    const parts: Buffer[] = [payload];
    let more = true;
    while (more && next + 4 <= data.length) {
      const nl = data[next + 1];
      if (data[next] !== da.attr || nl < 4 || next + nl > data.length || data[next + 2] !== extType) break;
      parts.push(data.subarray(next + 4, next + nl));
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
  const tmp: Pair[] = [];
  decodeValueInto(st, tmp, da, v.subarray(5), false);
  attachVendor(list, vsaDa, vendorDa, tmp);
}

/** Decodes one top-level attribute at `p` (already framing-checked). Returns the next offset. */
function decodeTop(st: State, data: Buffer, p: number, t: number, l: number): number {
  const root = st.root;
  const da = root.children.get(t);
  const next = p + l;
  if (da === undefined) {
    if (l > 2) st.out.push(rawPair(rawAttr(root, t), data.subarray(p + 2, next)));
    return next;
  }
  if (l === 2) {
    if (t === ATTR_CUI) st.out.push(Pair.lazy(da, data.subarray(next, next), lazyLeaf));
    return next;
  }
  const flags = da.flags;
  if (flags.concat) {
    // Join this attribute with the immediately following ones of the same type.
    let end = next;
    let count = 1;
    while (end + 2 <= data.length && data[end] === t && data[end + 1] >= 2 && end + data[end + 1] <= data.length) {
      end += data[end + 1];
      count++;
    }
    let v: Buffer;
    if (count === 1) v = data.subarray(p + 2, next);
    else {
      const parts: Buffer[] = [];
      for (let q = p; q < end; q += data[q + 1]) parts.push(data.subarray(q + 2, q + data[q + 1]));
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
      const v = data.subarray(p + 2, next);
      if (!tlvFramingOk(v, 2)) { st.out.push(rawPair(rawAttr(root, t, da), v)); return next; }
      const pair = findOrCreate(st.out, da);
      decodeTlvChildren(st, pair.children!, da, v);
      return next;
    }
    case 'struct':
      decodeStruct(st, st.out, da, data.subarray(p + 2, next));
      return next;
    default:
      if (t === ATTR_NAS_FILTER_RULE && da.type === 'string') return decodeNasFilterRule(st, da, data, p);
      decodeLeaf(st, st.out, da, data.subarray(p + 2, next), true);
      return next;
  }
}

/** RFC 4849 NAS-Filter-Rule: consecutive attributes joined, rules separated by NUL. */
function decodeNasFilterRule(st: State, da: DictAttr, data: Buffer, p: number): number {
  let end = p;
  const parts: Buffer[] = [];
  while (end + 2 <= data.length && data[end] === ATTR_NAS_FILTER_RULE && data[end + 1] >= 2 && end + data[end + 1] <= data.length) {
    parts.push(data.subarray(end + 2, end + data[end + 1]));
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
  const out: Pair[] = [];
  const st = new State(ctx, ctx.dict.root, out);
  let p = 0;
  const end = data.length;
  try {
    while (p < end) {
      if (end - p < 2) return { pairs: out, error: { code: 'attr-header-overflow', message: 'Insufficient data', offset: p, attribute: data[p] } };
      const t = data[p];
      const l = data[p + 1];
      if (l < 2) return { pairs: out, error: { code: 'attr-length-invalid', message: 'Insufficient data', offset: p, attribute: t } };
      if (p + l > end) return { pairs: out, error: { code: 'attr-overflow', message: 'Insufficient data', offset: p, attribute: t } };
      p = decodeTop(st, data, p, t, l);
    }
  } catch (e) {
    // Defensive: a dictionary shape we did not foresee must not crash the caller.
    return { pairs: out, error: { code: 'internal', message: (e as Error).message, offset: p } };
  }
  return { pairs: out };
}

/**
 * Decodes an attribute area into pairs. Never throws: invalid attributes are
 * raw octets pairs; on broken top-level framing the pairs decoded before it
 * are returned (use `decodeAttributes` to see the error).
 */
export function decodePairs(data: Buffer, ctx: CodecContext): Pair[] {
  return decodeAttributes(data, ctx).pairs;
}
