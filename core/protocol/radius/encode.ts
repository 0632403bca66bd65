/**
 * RADIUS attribute encoder: `Pair` lists → wire bytes.
 *
 * Input pairs may be nested (`Vendor-Specific = { Cisco = { AVPair = … } }`)
 * or "flat" (a pair whose `da` is deep in the tree, e.g. `Cisco-AVPair` in a
 * top-level list): missing parents are synthesised. Internal, virtual and
 * DEFINE'd attributes are never encoded. `Tag-N` groups (FreeRADIUS v4) and
 * `pair.tag` both give RFC 2868 tags.
 *
 * Values longer than one attribute holds (253 bytes, less inside VSAs, TLVs and extended
 * attributes) are split where the dictionary allows it, as FreeRADIUS does: `concat`
 * attributes (EAP-Message, …) over consecutive attributes, long-extended types and
 * `format=…,c` vendors with the More flag. Every other value is truncated, and the
 * truncation is reported in `ctx.warnings` (when the caller gives an array).
 */
import type { DictAttr } from '../../dict/attr';
import { DEFAULT_VENDOR_FORMAT, Encrypt } from '../../dict/types';
import { Pair } from '../../pair/pair';
import { encodeValue } from '../../value/wire';
import { ascendSecret, encryptTunnelPassword, encryptUserPassword, secureRand } from './crypto';
import type { CodecContext } from './decode';
import { fixedSize } from './decode';
import { EncodeError } from './errors';

const ATTR_CUI = 89;
const ATTR_NAS_FILTER_RULE = 92;
const TAG_NAME = /^Tag-([1-9]|[12][0-9]|3[01])$/;

/** Output cursor with a hard end; overflows throw `EncodeError` with the shortfall. */
class Writer {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number, readonly ctx: CodecContext) {
    this.pos = start;
  }
  need(n: number): void {
    if (this.pos + n > this.end) throw new EncodeError('Not enough room in the packet for the attributes', this.pos + n - this.end);
  }
  header(t: number, len: number): void {
    this.need(len);
    this.buf[this.pos++] = t;
    this.buf[this.pos++] = len;
  }
  bytes(b: Buffer, start = 0, end = b.length): void {
    b.copy(this.buf, this.pos, start, end);
    this.pos += end - start;
  }
}

/** Records a value cut from `length` to `sent` bytes. */
function truncated(ctx: CodecContext, da: DictAttr | string, length: number, sent: number): void {
  ctx.warnings?.push({ attr: typeof da === 'string' ? da : da.name, length, sent });
}

function skippable(da: DictAttr): boolean {
  const f = da.flags;
  return f.internal === true || f.virtual === true || f.defined === true;
}

/** True when `da` is a FreeRADIUS v4 `Tag-N` group. Returns the tag or 0. */
function tagOfGroup(da: DictAttr): number {
  if (da.type !== 'group') return 0;
  const m = TAG_NAME.exec(da.name);
  return m ? Number(m[1]) : 0;
}

/**
 * Makes `child` a direct child of `parentDa`: when its `da` sits deeper,
 * wrapper pairs are built for the missing levels. Returns undefined when the
 * pair does not belong under `parentDa` at all.
 */
function under(parentDa: DictAttr, child: Pair): Pair | undefined {
  const da = child.da;
  if (da.parent === parentDa) return child;
  const chain: DictAttr[] = [];
  let a: DictAttr | null = da.parent;
  while (a && a !== parentDa) {
    chain.push(a);
    a = a.parent;
  }
  if (!a) {
    // Raw attributes may be built with a parent equal by number but not identity.
    if (da.flags.raw && da.parent && da.parent.attr === parentDa.attr && da.parent.type === parentDa.type) return child;
    return undefined;
  }
  let cur = child;
  for (const c of chain) {
    const w = new Pair(c);
    w.children = [cur];
    cur = w;
  }
  return cur;
}

/** The wire value of a leaf pair (tag, encryption applied), or null when it encodes to nothing. */
function leafBytes(ctx: CodecContext, pair: Pair, tag: number, room: number, topLevel: boolean): Buffer | null {
  const da = pair.da;
  const f = da.flags;
  // A plain attribute received and never read (a proxied one): its bytes as they came, not decoded and re-encoded.
  if (!f.encrypt && !f.hasTag) {
    const w = pair.wire;
    if (w !== undefined) return w;
  }
  const v = pair.value;
  if (v === undefined) return null;
  let b: Buffer;
  if (da.flags.raw || da.type === 'octets' && Buffer.isBuffer(v) && !da.flags.length) {
    b = Buffer.isBuffer(v) ? v : encodeValue(da, v);
  } else {
    try {
      b = encodeValue(da, v);
    } catch {
      return null;
    }
  }
  if (f.raw) return b;
  if (pair.tag !== undefined && pair.tag > 0) tag = pair.tag;
  const enc = f.encrypt;
  if (enc === Encrypt.UserPassword) {
    const max = topLevel ? 128 : room & ~15;
    if (b.length === 0) return null;
    b = encryptUserPassword(b, ctx.secret, ctx.vector, max);
  } else if (enc === Encrypt.TunnelPassword) {
    if (ctx.noTunnelPassword) return null;
    let padding: Buffer | undefined;
    const rand = ctx.rand;
    if (rand) {
      // A caller-supplied generator is used the way FreeRADIUS uses fr_fast_rand: the
      // plaintext tail is filled from it before the salt is drawn, so vectors reproduce.
      const fill = Math.max(0, 250 - b.length);
      padding = Buffer.allocUnsafe(fill);
      for (let i = 0; i < fill; i++) padding[i] = rand() & 0xff;
    }
    const r = (rand ?? secureRand)();
    const salt = ((r >>> 8) & 0x7f) << 8 | (r & 0xff);
    const tagged = f.hasTag === true;
    const e = encryptTunnelPassword(b, ctx.secret, ctx.vector, salt, tagged ? room - 1 : room, padding);
    if (!e) throw new EncodeError('Input password is too large for tunnel password encoding', -room);
    if (!tagged) return e;
    const out = Buffer.allocUnsafe(e.length + 1);
    out[0] = tag;
    e.copy(out, 1);
    return out;
  } else if (enc === Encrypt.AscendSecret) {
    b = ascendSecret(b, ctx.secret, ctx.vector, false);
  }
  if (f.hasTag) {
    const size = fixedSize(da);
    if (size === 4) {
      const n = typeof v === 'number' ? v : Number(v);
      if (n > 0xffffff || n < 0) return null;
      const out = Buffer.from(b);
      out[0] = tag;
      return out;
    }
    if (da.type === 'string' || da.type === 'octets') {
      if (tag > 0 || (b.length > 0 && b[0] <= 0x1f)) {
        const out = Buffer.allocUnsafe(b.length + 1);
        out[0] = tag;
        b.copy(out, 1);
        return out;
      }
    }
  }
  return b;
}

/** The wire value of any pair under a TLV/VSA context (no top-level header). */
function valueBytes(ctx: CodecContext, pair: Pair, tag: number, room: number): Buffer | null {
  const da = pair.da;
  if (skippable(da)) return null;
  if (pair.children && (da.type === 'tlv' || da.flags.raw)) return tlvChildrenBytes(ctx, da, pair.children, tag, room);
  switch (da.type) {
    case 'tlv': return null;
    case 'struct': return structBytes(ctx, pair, room);
    case 'vsa': case 'vendor': case 'group': case 'union': case 'root': return null;
    default: return leafBytes(ctx, pair, tag, room, false);
  }
}

/** Concatenated `type,len,value` TLVs of the children of a TLV pair. */
function tlvChildrenBytes(ctx: CodecContext, parentDa: DictAttr, children: readonly Pair[], tag: number, room: number): Buffer | null {
  const parts: Buffer[] = [];
  let total = 0;
  for (const c0 of children) {
    const c = under(parentDa, c0);
    if (!c) continue;
    const v = valueBytes(ctx, c, tag, Math.min(253, room - 2));
    if (!v || v.length === 0) continue;
    const n = Math.min(v.length, 253);
    if (n < v.length) truncated(ctx, c.da, v.length, n);
    const h = Buffer.allocUnsafe(2);
    h[0] = c.da.attr;
    h[1] = n + 2;
    parts.push(h, n === v.length ? v : v.subarray(0, n));
    total += n + 2;
  }
  if (total === 0) return null;
  return Buffer.concat(parts, total);
}

/** Struct members in order; missing fixed members are zeros; union key filled from the chosen member. */
function structBytes(ctx: CodecContext, pair: Pair, room: number): Buffer | null {
  const da = pair.da;
  const members = da.members ?? [];
  const children = pair.children ?? [];
  const parts: Buffer[] = [];
  let keyIndex = -1;
  let keySize = 0;
  let off = 0;
  let keyValue: number | undefined;
  for (let i = 0; i < members.length; i++) {
    const m = members[i];
    if (m.flags.bits) {
      let j = i;
      let totalBits = 0;
      while (j < members.length && members[j].flags.bits) { totalBits += members[j].flags.length ?? 0; j++; }
      const nbytes = (totalBits + 7) >> 3;
      let acc = 0n;
      for (let k = i; k < j; k++) {
        const bm = members[k];
        const w = BigInt(bm.flags.length ?? 0);
        const c = children.find((p) => p.da === bm);
        let val = 0n;
        if (c) {
          const cv = c.value;
          val = typeof cv === 'bigint' ? cv : typeof cv === 'boolean' ? (cv ? 1n : 0n) : BigInt(Math.trunc(Number(cv ?? 0)));
        }
        acc = (acc << w) | (val & ((1n << w) - 1n));
      }
      acc <<= BigInt(nbytes * 8 - totalBits);
      const b = Buffer.alloc(nbytes);
      for (let k = nbytes - 1; k >= 0; k--) { b[k] = Number(acc & 0xffn); acc >>= 8n; }
      parts.push(b);
      off += nbytes;
      i = j - 1;
      continue;
    }
    if (m.type === 'union') {
      let chosen: Pair | undefined;
      for (const c of children) {
        if (c.da.parent === m) { chosen = c; break; }
        if (c.da === m && c.children && c.children.length) { chosen = c.children[0]; break; }
      }
      if (chosen) {
        keyValue = chosen.da.attr;
        const v = valueBytes(ctx, chosen, 0, room - off);
        if (v) { parts.push(v); off += v.length; }
      }
      break;
    }
    const c = children.find((p) => p.da === m);
    if (m.type === 'tlv') {
      if (c && c.children) {
        const v = tlvChildrenBytes(ctx, m, c.children, 0, room - off);
        if (v) { parts.push(v); off += v.length; }
      }
      break;
    }
    if (m.type === 'struct') {
      if (c) {
        const v = structBytes(ctx, c, room - off);
        if (v) { parts.push(v); off += v.length; }
      }
      break;
    }
    const size = fixedSize(m);
    if (m.flags.key) { keyIndex = parts.length; keySize = size ?? 1; }
    if (size === undefined) {
      if (c) {
        const v = leafBytes(ctx, c, 0, room - off, false);
        if (v) { parts.push(v); off += v.length; }
      }
      break;
    }
    let v = c ? leafBytes(ctx, c, 0, room - off, false) : null;
    if (!v || v.length !== size) {
      const z = Buffer.alloc(size);
      if (v) v.copy(z, 0, 0, Math.min(size, v.length));
      v = z;
    }
    parts.push(v);
    off += size;
  }
  if (keyIndex >= 0 && keyValue !== undefined) {
    const kb = Buffer.from(parts[keyIndex]);
    if (keySize === 1) kb[0] = keyValue;
    else if (keySize === 2) kb.writeUInt16BE(keyValue & 0xffff);
    else if (keySize === 4) kb.writeUInt32BE(keyValue >>> 0);
    parts[keyIndex] = kb;
  }
  if (off === 0) return null;
  return Buffer.concat(parts, off);
}

/** One top-level attribute header + value, split/truncated as the type requires. */
function emitTop(w: Writer, t: number, v: Buffer, concat: boolean, da?: DictAttr): void {
  if (v.length <= 253) {
    w.header(t, v.length + 2);
    w.bytes(v);
    return;
  }
  if (!concat) {
    truncated(w.ctx, da ?? `Attr-${t}`, v.length, 253);
    w.header(t, 255);
    w.bytes(v, 0, 253);
    return;
  }
  for (let i = 0; i < v.length; i += 253) {
    const n = Math.min(253, v.length - i);
    w.header(t, n + 2);
    w.bytes(v, i, i + n);
  }
}

/** RFC 6929: extended (one attribute, value cut at 252) or long-extended (More-flag fragments). */
function emitExtended(w: Writer, extDa: DictAttr, extType: number, v: Buffer, da?: DictAttr): void {
  const t = extDa.attr;
  if (!extDa.flags.longExtended) {
    const n = Math.min(v.length, 252);
    if (n < v.length) truncated(w.ctx, da ?? `Attr-${t}.${extType}`, v.length, n);
    w.header(t, n + 3);
    w.buf[w.pos++] = extType;
    w.bytes(v, 0, n);
    return;
  }
  let i = 0;
  do {
    const n = Math.min(251, v.length - i);
    const more = i + n < v.length;
    w.header(t, n + 4);
    w.buf[w.pos++] = extType;
    w.buf[w.pos++] = more ? 0x80 : 0;
    w.bytes(v, i, i + n);
    i += n;
  } while (i < v.length);
}

/** One VSA (26) per vendor sub-attribute, in the vendor's `format=t,l[,c]`. */
function emitVsa(w: Writer, vsaDa: DictAttr, vendorDa: DictAttr, child: Pair, tag: number): void {
  const fmt = vendorDa.format ?? DEFAULT_VENDOR_FORMAT;
  const hdr = fmt.type + fmt.length + (fmt.continuation ? 1 : 0);
  const room = 255 - 6 - hdr;
  const v = valueBytes(w.ctx, child, tag, fmt.continuation ? 4096 : room);
  if (!v || v.length === 0) return;
  const t = vsaDa.attr;
  const vid = vendorDa.attr;
  const type = child.da.attr;
  if (fmt.continuation) {
    let i = 0;
    do {
      const n = Math.min(room, v.length - i);
      const more = i + n < v.length;
      w.header(t, 6 + hdr + n);
      w.buf.writeUInt32BE(vid >>> 0, w.pos); w.pos += 4;
      w.buf[w.pos++] = type;
      w.buf[w.pos++] = hdr + n;
      w.buf[w.pos++] = more ? 0x80 : 0;
      w.bytes(v, i, i + n);
      i += n;
    } while (i < v.length);
    return;
  }
  const n = Math.min(v.length, room);
  if (n < v.length) truncated(w.ctx, child.da, v.length, n);
  w.header(t, 6 + hdr + n);
  w.buf.writeUInt32BE(vid >>> 0, w.pos); w.pos += 4;
  if (fmt.type === 1) w.buf[w.pos++] = type;
  else if (fmt.type === 2) { w.buf.writeUInt16BE(type & 0xffff, w.pos); w.pos += 2; }
  else { w.buf.writeUInt32BE(type >>> 0, w.pos); w.pos += 4; }
  if (fmt.length === 1) w.buf[w.pos++] = hdr + n;
  else if (fmt.length === 2) { w.buf.writeUInt16BE(hdr + n, w.pos); w.pos += 2; }
  w.bytes(v, 0, n);
}

/** Encodes one pair that is (or has been made) a direct child of the root. */
function encodeTop(w: Writer, root: DictAttr, pair: Pair, tag: number): void {
  const da = pair.da;
  const tg = tagOfGroup(da);
  if (tg) {
    for (const c of pair.children ?? []) encodeTop(w, root, c, tg);
    return;
  }
  if (skippable(da)) return;
  if (da.parent !== root) {
    const p = under(root, pair);
    if (!p || p === pair) {
      if (!(da.flags.raw && da.parent && da.parent.type === 'root')) return;
    } else {
      encodeTop(w, root, p, tag);
      return;
    }
  }
  const t = da.attr;
  if (t > 255 || t <= 0) return;
  const ctx = w.ctx;
  if (da.flags.raw && !pair.children) {
    const v = pair.value;
    if (Buffer.isBuffer(v) && v.length > 0) emitTop(w, t, v, false, da);
    return;
  }
  if (da.flags.extended || da.flags.longExtended) {
    for (const c0 of pair.children ?? []) {
      const c = under(da, c0);
      if (!c || skippable(c.da)) continue;
      if (c.da.type === 'vsa' && c.children) {
        for (const vp0 of c.children) {
          const vp = under(c.da, vp0);
          if (!vp || !vp.children) continue;
          for (const cc0 of vp.children) {
            const cc = under(vp.da, cc0);
            if (!cc) continue;
            const v = valueBytes(ctx, cc, tag, 4096);
            if (!v || v.length === 0) continue;
            const payload = Buffer.allocUnsafe(5 + v.length);
            payload.writeUInt32BE(vp.da.attr >>> 0, 0);
            payload[4] = cc.da.attr;
            v.copy(payload, 5);
            emitExtended(w, da, c.da.attr, payload, cc.da);
          }
        }
        continue;
      }
      const v = valueBytes(ctx, c, tag, da.flags.longExtended ? 4096 : 252);
      if (!v || (v.length === 0 && !c.da.flags.raw)) continue;
      emitExtended(w, da, c.da.attr, v, c.da);
    }
    return;
  }
  switch (da.type) {
    case 'vsa':
      for (const vp0 of pair.children ?? []) {
        const vp = under(da, vp0);
        if (!vp || !vp.children) continue;
        if (vp.da.type !== 'vendor') {
          // a raw leaf directly under Vendor-Specific
          continue;
        }
        for (const c0 of vp.children) {
          const c = under(vp.da, c0);
          if (c && !skippable(c.da)) emitVsa(w, da, vp.da, c, tag);
        }
      }
      return;
    case 'tlv': {
      // Split children over several attributes when they do not fit in one.
      const children = pair.children ?? [];
      let batch: Pair[] = [];
      let size = 0;
      for (const c0 of children) {
        const c = under(da, c0);
        if (!c) continue;
        const v = valueBytes(ctx, c, tag, 253);
        if (!v || v.length === 0) continue;
        const n = Math.min(v.length, 251) + 2;
        if (size + n > 253 && batch.length) {
          const b = tlvChildrenBytes(ctx, da, batch, tag, 253);
          if (b) emitTop(w, t, b, false, da);
          batch = [];
          size = 0;
        }
        batch.push(c);
        size += n;
      }
      if (batch.length) {
        const b = tlvChildrenBytes(ctx, da, batch, tag, 253);
        if (b) emitTop(w, t, b, false, da);
      }
      return;
    }
    case 'struct': {
      const v = structBytes(ctx, pair, 253);
      if (v) emitTop(w, t, v, false, da);
      return;
    }
    case 'group': case 'vendor': case 'union': case 'root':
      return;
    default: {
      const f = da.flags;
      if (!f.hasTag && !f.encrypt && !f.concat && !f.array && f.length === undefined) {
        // Fast paths: a received value never read goes out as it came (see leafBytes); common values are
        // written straight into the packet.
        const wb = pair.wire;
        if (wb !== undefined && wb.length <= 253) {
          if (wb.length === 0 && t !== ATTR_CUI) return;
          w.header(t, wb.length + 2);
          w.bytes(wb);
          return;
        }
        const pv = pair.value;
        if (typeof pv === 'number' && da.type === 'uint32') {
          w.header(t, 6);
          w.buf.writeUInt32BE(pv >>> 0, w.pos);
          w.pos += 4;
          return;
        }
        if (Buffer.isBuffer(pv) && da.type === 'octets' && pv.length > 0 && pv.length <= 253) {
          w.header(t, pv.length + 2);
          w.bytes(pv);
          return;
        }
      }
      const v = leafBytes(ctx, pair, tag, 253, true);
      if (!v) return;
      if (v.length === 0 && t !== ATTR_CUI) return;
      if (f.encrypt === Encrypt.UserPassword && w.pos + 2 + v.length > w.end) {
        // Report the shortfall against the plaintext, as FreeRADIUS does.
        const plain = Buffer.isBuffer(pair.value) ? pair.value.length : Buffer.byteLength(String(pair.value));
        throw new EncodeError('Not enough room in the packet for the attributes', Math.max(1, w.pos + 2 + plain - w.end));
      }
      emitTop(w, t, v, da.flags.concat === true, da);
    }
  }
}

/**
 * Encodes pairs into `buf[start, end)` and returns the new end offset.
 * Throws `EncodeError` when they do not fit or a value cannot be encoded.
 */
export function encodeInto(pairs: readonly Pair[], ctx: CodecContext, buf: Buffer, start: number, end: number): number {
  const w = new Writer(buf, start, end, ctx);
  const root = ctx.dict.root;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i];
    const da = p.da;
    if (da.attr === ATTR_NAS_FILTER_RULE && da.parent === root && da.type === 'string' && !da.flags.raw) {
      // RFC 4849: consecutive rules are packed NUL-separated, split over attributes.
      const rules: Buffer[] = [];
      let j = i;
      while (j < pairs.length && pairs[j].da === da) {
        const v = leafBytes(ctx, pairs[j], 0, 253, true);
        if (v && v.length) rules.push(v);
        j++;
      }
      i = j - 1;
      if (rules.length === 0) continue;
      let total = rules.length - 1;
      for (const r of rules) total += r.length;
      emitTop(w, da.attr, joinNul(rules, total), true);
      continue;
    }
    if (da.flags.array && da.parent === root && !da.flags.raw && fixedSize(da) !== undefined) {
      // Consecutive values of an array attribute are packed into as few attributes as fit.
      const size = fixedSize(da)!;
      const per = Math.floor(253 / size) * size;
      const vals: Buffer[] = [];
      let j = i;
      while (j < pairs.length && pairs[j].da === da) {
        const v = leafBytes(ctx, pairs[j], 0, 253, true);
        if (v && v.length === size) vals.push(v);
        j++;
      }
      i = j - 1;
      if (vals.length) {
        const all = Buffer.concat(vals);
        for (let o = 0; o < all.length; o += per) emitTop(w, da.attr, all.subarray(o, Math.min(all.length, o + per)), false);
      }
      continue;
    }
    encodeTop(w, root, p, 0);
  }
  return w.pos;
}

function joinNul(parts: Buffer[], len: number): Buffer {
  const out = Buffer.alloc(len);
  let o = 0;
  for (let i = 0; i < parts.length; i++) {
    if (i) out[o++] = 0;
    parts[i].copy(out, o);
    o += parts[i].length;
  }
  return out;
}

/**
 * Encodes a pair list (relative to the protocol root) into attribute bytes.
 * `maxLength` bounds the output (default 4076: a 4096-byte packet minus the
 * header); exceeding it throws `EncodeError` with `needed` set.
 */
export function encodePairs(pairs: readonly Pair[], ctx: CodecContext, maxLength = 4076): Buffer {
  const max = Math.max(0, maxLength);
  if (area.length < max) area = Buffer.allocUnsafe(max);
  const n = encodeInto(pairs, ctx, area, 0, max);
  const out = Buffer.allocUnsafe(n);
  area.copy(out, 0, 0, n);
  return out;
}

/** Assembly area reused by `encodePairs` (encoding is synchronous, so calls never overlap). */
let area = Buffer.allocUnsafe(4096);
