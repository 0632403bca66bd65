/**
 * Ascend binary filters (`abinary`): the text filter language and its
 * 32-byte (IPv4, IPX, generic) or 48-byte (IPv6) binary form.
 *
 * Layout (all integers big-endian): type (0 generic, 1 ip, 2 ipx, 3 ipv6),
 * forward (1 forward, 0 drop), direction (1 in, 0 out), fill, then the body:
 *
 * - ip: srcip[4] dstip[4] srcmask dstmask proto established srcport[2]
 *   dstport[2] srcPortCmp dstPortCmp, zero fill to 32 bytes;
 * - ipv6: srcip[16] dstip[16] then the same fields, zero fill to 48 bytes;
 * - ipx: src{net[4] node[6] socket[2]} dst{…} srcSocCmp dstSocCmp;
 * - generic: offset[2] len[2] more[2] mask[6] value[6] compNeq.
 *
 * Port comparisons: 0 none, 1 `<`, 2 `=`, 3 `>`, 4 `!=`.
 */

import { ValueError } from './errors';
import { ipv4FromBytes, ipv6FromBytes, ipv6ToBytes } from './ip';

const TYPE_NAMES = ['generic', 'ip', 'ipx', 'ipv6'];
const CMP_NAMES = ['', '<', '=', '>', '!='];
const PROTO_BY_NAME: Record<string, number> = { tcp: 6, udp: 17, ospf: 89, icmp: 1 };
const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 89: 'ospf', 1: 'icmp' };
const PORT_BY_NAME: Record<string, number> = {
  'ftp-data': 20, ftp: 21, telnet: 23, smtp: 25, nameserver: 42, domain: 53, tftp: 69, gopher: 70, finger: 79,
  www: 80, kerberos: 88, hostname: 101, nntp: 119, ntp: 123, exec: 512, login: 513, cmd: 514, talk: 517,
};

function bad(text: string, why: string): ValueError {
  return new ValueError(`Invalid Ascend filter "${text}": ${why}`);
}

function parseUint(tok: string | undefined, max: number, text: string, what: string): number {
  if (tok === undefined || !/^(?:0x[0-9a-f]+|[0-9]+)$/i.test(tok)) throw bad(text, `expected ${what}`);
  const n = Number(tok);
  if (n > max) throw bad(text, `${what} out of range`);
  return n;
}

function parseCmp(tok: string | undefined, text: string): number {
  const i = tok === undefined ? -1 : CMP_NAMES.indexOf(tok);
  if (i <= 0) throw bad(text, `expected a comparison (<, =, >, !=), got "${tok ?? ''}"`);
  return i;
}

function parsePort(tok: string | undefined, text: string): number {
  if (tok !== undefined && tok.toLowerCase() in PORT_BY_NAME) return PORT_BY_NAME[tok.toLowerCase()];
  return parseUint(tok, 0xffff, text, 'a port');
}

/**
 * Parses the Ascend filter language into its binary form:
 *
 * ```
 * ip|ipv6 in|out forward|drop [srcip A[/n]] [dstip A[/n]] [proto] [srcport CMP P] [dstport CMP P] [est]
 * generic in|out forward|drop OFFSET MASKHEX VALUEHEX [==|!=] [more]
 * ipx in|out forward|drop [srcipxnet N srcipxnode N [srcipxsock CMP S]] [dstipxnet … ]
 * ```
 *
 * @throws ValueError on any syntax error.
 */
export function parseAscendFilter(text: string): Buffer {
  const tok = text.trim().split(/\s+/);
  const type = TYPE_NAMES.indexOf((tok[0] ?? '').toLowerCase());
  if (type < 0) throw bad(text, 'expected ip, ipv6, ipx or generic');
  const dir = (tok[1] ?? '').toLowerCase();
  if (dir !== 'in' && dir !== 'out') throw bad(text, 'expected "in" or "out"');
  const act = (tok[2] ?? '').toLowerCase();
  if (act !== 'forward' && act !== 'drop') throw bad(text, 'expected "forward" or "drop"');
  const out = Buffer.alloc(type === 3 ? 48 : 32);
  out[0] = type;
  out[1] = act === 'forward' ? 1 : 0;
  out[2] = dir === 'in' ? 1 : 0;
  let i = 3;
  const next = () => tok[i++];

  if (type === 1 || type === 3) {
    const v6 = type === 3;
    const alen = v6 ? 16 : 4;
    const base = 4 + 2 * alen; // srcmask offset
    let sawProto = false;
    while (i < tok.length) {
      const t = next().toLowerCase();
      if (t === 'srcip' || t === 'dstip') {
        const a = next();
        if (a === undefined) throw bad(text, `missing address after ${t}`);
        const slash = a.indexOf('/');
        const addr = slash < 0 ? a : a.slice(0, slash);
        const mask = slash < 0 ? alen * 8 : parseUint(a.slice(slash + 1), alen * 8, text, 'a mask length');
        const off = t === 'srcip' ? 4 : 4 + alen;
        if (v6) {
          if (!ipv6ToBytes(addr, out, off)) throw bad(text, `invalid IPv6 address "${addr}"`);
        } else {
          const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
          if (!m || m.slice(1).some((x) => +x > 255)) throw bad(text, `invalid IPv4 address "${addr}"`);
          for (let k = 0; k < 4; k++) out[off + k] = +m[k + 1];
        }
        out[t === 'srcip' ? base : base + 1] = mask;
      } else if (t === 'srcport' || t === 'dstport') {
        const cmp = parseCmp(next(), text);
        const port = parsePort(next(), text);
        out.writeUInt16BE(port, t === 'srcport' ? base + 4 : base + 6);
        out[t === 'srcport' ? base + 8 : base + 9] = cmp;
      } else if (t === 'est') {
        out[base + 3] = 1;
      } else if (!sawProto && (t in PROTO_BY_NAME || /^[0-9]+$/.test(t))) {
        out[base + 2] = t in PROTO_BY_NAME ? PROTO_BY_NAME[t] : parseUint(t, 255, text, 'a protocol');
        sawProto = true;
      } else {
        throw bad(text, `unexpected "${t}"`);
      }
    }
    return out;
  }

  if (type === 0) {
    const offset = parseUint(next(), 0xffff, text, 'an offset');
    const mask = next();
    const value = next();
    if (!mask || !value || !/^(?:0x)?[0-9a-f]+$/i.test(mask) || !/^(?:0x)?[0-9a-f]+$/i.test(value)) {
      throw bad(text, 'expected hex mask and value');
    }
    const mb = Buffer.from(mask.replace(/^0x/i, '').padStart(2 * Math.ceil(mask.replace(/^0x/i, '').length / 2), '0'), 'hex');
    const vb = Buffer.from(value.replace(/^0x/i, '').padStart(2 * Math.ceil(value.replace(/^0x/i, '').length / 2), '0'), 'hex');
    if (mb.length > 6 || vb.length > 6) throw bad(text, 'mask and value are at most 6 bytes');
    if (mb.length !== vb.length) throw bad(text, 'mask and value must have the same length');
    out.writeUInt16BE(offset, 4);
    out.writeUInt16BE(mb.length, 6);
    mb.copy(out, 10);
    vb.copy(out, 16);
    while (i < tok.length) {
      const t = next().toLowerCase();
      if (t === '==') out[22] = 0;
      else if (t === '!=') out[22] = 1;
      else if (t === 'more') out.writeUInt16BE(1, 8);
      else throw bad(text, `unexpected "${t}"`);
    }
    return out;
  }

  // ipx
  while (i < tok.length) {
    const t = next().toLowerCase();
    const src = t.startsWith('src');
    const base = src ? 4 : 16;
    if (t === 'srcipxnet' || t === 'dstipxnet') {
      out.writeUInt32BE(parseUint(next(), 0xffffffff, text, 'an IPX network'), base);
    } else if (t === 'srcipxnode' || t === 'dstipxnode') {
      const n = (next() ?? '').replace(/^0x/i, '');
      if (!/^[0-9a-f]{1,12}$/i.test(n)) throw bad(text, 'expected an IPX node');
      Buffer.from(n.padStart(12, '0'), 'hex').copy(out, base + 4);
    } else if (t === 'srcipxsock' || t === 'dstipxsock') {
      const cmp = parseCmp(next(), text);
      out.writeUInt16BE(parseUint(next(), 0xffff, text, 'an IPX socket'), base + 10);
      out[src ? 28 : 29] = cmp;
    } else {
      throw bad(text, `unexpected "${t}"`);
    }
  }
  return out;
}

function hex4(n: number): string {
  return '0x' + n.toString(16).padStart(4, '0');
}

/**
 * Prints a binary Ascend filter in the filter language, or returns undefined
 * when the bytes are not a valid filter (callers then print hex).
 */
export function printAscendFilter(b: Buffer): string | undefined {
  if (b.length < 4) return undefined;
  const type = b[0];
  if (type > 3 || b.length !== (type === 3 ? 48 : 32)) return undefined;
  let s = `${TYPE_NAMES[type]} ${b[2] & 1 ? 'in' : 'out'} ${b[1] ? 'forward' : 'drop'}`;
  if (type === 1 || type === 3) {
    const v6 = type === 3;
    const alen = v6 ? 16 : 4;
    const base = 4 + 2 * alen;
    const addr = (off: number) => (v6 ? ipv6FromBytes(b, off) : ipv4FromBytes(b, off));
    const zero = (off: number) => b.subarray(off, off + alen).every((x) => x === 0);
    if (!zero(4)) s += ` srcip ${addr(4)}/${b[base]}`;
    if (!zero(4 + alen)) s += ` dstip ${addr(4 + alen)}/${b[base + 1]}`;
    const proto = b[base + 2];
    s += ' ' + (PROTO_NAMES[proto] ?? String(proto));
    const sc = b[base + 8];
    const dc = b[base + 9];
    if (sc > 4 || dc > 4) return undefined;
    if (sc) s += ` srcport ${CMP_NAMES[sc]} ${b.readUInt16BE(base + 4)}`;
    if (dc) s += ` dstport ${CMP_NAMES[dc]} ${b.readUInt16BE(base + 6)}`;
    if (b[base + 3]) s += ' est';
    return s;
  }
  if (type === 0) {
    const len = b.readUInt16BE(6);
    if (len > 6) return undefined;
    s += ` ${b.readUInt16BE(4)} ${b.subarray(10, 10 + len).toString('hex')} ${b.subarray(16, 16 + len).toString('hex')} ${b[22] ? '!=' : '=='}`;
    if (b.readUInt16BE(8)) s += ' more';
    return s;
  }
  // ipx
  for (const [pfx, base, cmpOff] of [['src', 4, 28], ['dst', 16, 29]] as const) {
    const net = b.readUInt32BE(base);
    if (net) s += ` ${pfx}ipxnet 0x${net.toString(16).padStart(8, '0')} ${pfx}ipxnode 0x${b.subarray(base + 4, base + 10).toString('hex')}`;
    const cmp = b[cmpOff];
    if (cmp > 4) return undefined;
    if (cmp) s += ` ${pfx}ipxsock ${CMP_NAMES[cmp]} ${hex4(b.readUInt16BE(base + 10))}`;
  }
  return s;
}
