/**
 * The vector files' dictionary-free attribute builder (`raw <oid> <data>`).
 *
 * `oid` is `1`, `26.9.1`, `241.2.3`, `245.26.1.6` …; data is hex (spaces
 * allowed), a `"string"`, or TLVs `{ type data }` (nestable, concatenable).
 * Standard attributes, VSAs (26.vendor.type…), extended (241–244) and long
 * extended (245–246, fragmented at 251 bytes of content) are produced.
 * Components beyond the attribute itself wrap the data in 1-byte type /
 * 1-byte length TLVs.
 */

function tlv(type: number, data: Buffer): Buffer {
  if (data.length + 2 > 255) throw new Error(`TLV ${type} too long (${data.length} bytes)`);
  return Buffer.concat([Buffer.from([type, data.length + 2]), data]);
}

function wrap(types: readonly number[], data: Buffer): Buffer {
  let out = data;
  for (let i = types.length - 1; i >= 0; i--) out = tlv(types[i], out);
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Parses the DATA part. Throws on bad syntax. */
export function parseRawData(text: string): Buffer {
  let pos = 0;
  const s = text;
  const ws = (): void => {
    while (pos < s.length && /\s/.test(s[pos])) pos++;
  };
  const data = (): Buffer => {
    ws();
    if (s[pos] === '"') {
      const end = s.indexOf('"', pos + 1);
      if (end < 0) throw new Error('Unterminated string');
      const str = s.slice(pos + 1, end);
      pos = end + 1;
      return Buffer.from(str, 'utf8');
    }
    if (s[pos] === '{') {
      const parts: Buffer[] = [];
      while (s[pos] === '{') {
        pos++;
        ws();
        const m = /^[0-9]+/.exec(s.slice(pos));
        if (!m) throw new Error(`Expected a TLV type at "${s.slice(pos, pos + 10)}"`);
        pos += m[0].length;
        const inner = data();
        ws();
        if (s[pos] !== '}') throw new Error(`Expected '}' at "${s.slice(pos, pos + 10)}"`);
        pos++;
        parts.push(tlv(Number(m[0]), inner));
        ws();
      }
      return Buffer.concat(parts);
    }
    let hex = '';
    while (pos < s.length && s[pos] !== '}' && s[pos] !== '{' && s[pos] !== '"') {
      if (!/\s/.test(s[pos])) hex += s[pos];
      pos++;
    }
    if (hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error(`Invalid hex data "${hex}"`);
    return Buffer.from(hex, 'hex');
  };
  const out = data();
  ws();
  if (pos < s.length) throw new Error(`Unexpected text "${s.slice(pos, pos + 20)}"`);
  return out;
}

function longExtended(type: number, ext: number, content: Buffer): Buffer {
  const out: Buffer[] = [];
  let off = 0;
  do {
    const chunk = content.subarray(off, off + 251);
    off += chunk.length;
    const more = off < content.length;
    out.push(Buffer.from([type, chunk.length + 4, ext, more ? 0x80 : 0]), chunk);
  } while (off < content.length);
  return Buffer.concat(out);
}

/** Builds the wire bytes for `raw <oid> <data>` (arguments as one string). */
export function buildRaw(args: string): Buffer {
  const m = /^\s*([0-9]+(?:\.[0-9]+)*)\s*(.*)$/s.exec(args);
  if (!m) throw new Error(`Invalid attribute identifier in "${args}"`);
  const oid = m[1].split('.').map(Number);
  const data = parseRawData(m[2]);
  const [t, ...rest] = oid;
  if (t === 26 && rest.length >= 1) {
    return tlv(26, Buffer.concat([u32(rest[0]), wrap(rest.slice(1), data)]));
  }
  if (t >= 241 && t <= 246 && rest.length >= 1) {
    const ext = rest[0];
    let content: Buffer;
    if (ext === 26 && rest.length >= 3) {
      content = Buffer.concat([u32(rest[1]), Buffer.from([rest[2]]), wrap(rest.slice(3), data)]);
    } else if (ext === 26 && rest.length === 2) {
      content = Buffer.concat([u32(rest[1]), data]);
    } else {
      content = wrap(rest.slice(1), data);
    }
    if (t >= 245) return longExtended(t, ext, content);
    return tlv(t, Buffer.concat([Buffer.from([ext]), content]));
  }
  return tlv(t, wrap(rest, data));
}
