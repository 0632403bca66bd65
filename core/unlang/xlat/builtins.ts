/**
 * The built-in xlat library: string, hash, encoding, regex, time and
 * introspection functions, named as in FreeRADIUS v4 (`%str.upper()`,
 * `%hash.md5()`, `%base64.encode()` …).
 */

import * as crypto from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { DictAttr } from '../../dict/attr';
import type { TimePrecision } from '../../types/data-types';
import { RCODE_NAMES } from '../rcode';
import { type Box, type BoxType, BoxError, TYPE_ALIASES, box, boxAsText, boxLength, boxToOctets, boxToString, castBox } from './box';
import type { XlatArgExpr, XlatContext, XlatFunc, XlatRegistry } from './registry';
import { ipv4FromInt, ipv4Mask, ipv4ToInt, splitPrefix } from '../../value/ip';
import type { AttrRef } from '../compile/types';
import { ExprParser } from '../compile/expr-parser';
import { resolveRef } from '../compile/refs';
import { escapeRegex, evalExpr, resolvePairs } from './eval';
import { makeRegex } from '../compile/expr-parser';
import { printValue } from '../../value/print';
import { registerFileXlats } from './file';
import { md4 } from './md4';

const str = (s: string): Box[] => [box('string', s)];
const oct = (b: Buffer): Box[] => [box('octets', b)];

/** All values of all arguments as one string (FreeRADIUS concatenates a list argument). */
function argString(a: Box[] | undefined): string {
  if (!a) return '';
  let s = '';
  for (const b of a) s += boxAsText(b);
  return s;
}

function argOctets(a: Box[] | undefined): Buffer {
  if (!a) return Buffer.alloc(0);
  return Buffer.concat(a.map((b) => (b.type === 'string' ? Buffer.from(b.value as string, 'utf8') : boxToOctets(b))));
}

function argInt(a: Box[] | undefined, dflt?: number): number | undefined {
  if (!a || a.length === 0) return dflt;
  return Number(castBox(a[0], 'int64').value);
}

function hashFn(alg: string) {
  return (_c: XlatContext, args: Box[][]) => oct(crypto.createHash(alg).update(argOctets(args[0])).digest());
}

function hmacFn(alg: string) {
  return (_c: XlatContext, args: Box[][]) => oct(crypto.createHmac(alg, argOctets(args[1])).update(argOctets(args[0])).digest());
}

/** Registers the built-in functions in `reg`. */
export function registerBuiltins(reg: XlatRegistry): void {
  const pure = { pure: true };

  // ---- strings
  reg.register('str.upper', (_c, a) => a[0]?.length ? str(argString(a[0]).toUpperCase()) : [], { ...pure, returnType: 'string', maxArgs: 1 });
  reg.register('str.lower', (_c, a) => a[0]?.length ? str(argString(a[0]).toLowerCase()) : [], { ...pure, returnType: 'string', maxArgs: 1 });
  reg.register('toupper', (_c, a) => str(argString(a[0]).toUpperCase()), { ...pure, returnType: 'string' });
  reg.register('tolower', (_c, a) => str(argString(a[0]).toLowerCase()), { ...pure, returnType: 'string' });
  reg.register('str.concat', (_c, a) => {
    const sep = argString(a[1]);
    return str((a[0] ?? []).map(boxAsText).join(sep));
  }, { ...pure, returnType: 'string', minArgs: 1, maxArgs: 2 });
  reg.register('str.split', (_c, a) => {
    const sep = argString(a[1]) || ' ';
    const out: Box[] = [];
    for (const b of a[0] ?? []) for (const part of boxAsText(b).split(sep)) if (part !== '') out.push(box('string', part));
    return out;
  }, { ...pure, returnType: 'string', minArgs: 1, maxArgs: 2 });
  reg.register('explode', (c, a) => reg.get('str.split')!.fn(c, a), { ...pure });
  reg.register('str.substr', (_c, a) => {
    const src = a[0]?.[0];
    if (!src) return [];
    const isOct = src.type === 'octets';
    const whole: string | Buffer = isOct ? (src.value as Buffer) : boxToString(src);
    const len = whole.length;
    let start = argInt(a[1], 0)!;
    if (start < 0) start = Math.max(0, len + start);
    if (start >= len) return [];
    let count = argInt(a[2], len - start)!;
    let end = count < 0 ? len + count : start + count;
    if (end > len) end = len;
    if (end <= start) return [];
    count = end - start;
    return isOct ? oct((whole as Buffer).subarray(start, end)) : str((whole as string).slice(start, end));
  }, { ...pure, minArgs: 2, maxArgs: 3 });
  reg.register('str.rpad', (_c, a) => str(argString(a[0]).padEnd(argInt(a[1], 0)!, argString(a[2]) || ' ')), { ...pure, returnType: 'string', args: ['string', 'uint32', 'string'] });
  reg.register('str.lpad', (_c, a) => str(argString(a[0]).padStart(argInt(a[1], 0)!, argString(a[2]) || ' ')), { ...pure, returnType: 'string', args: ['string', 'uint32', 'string'] });
  reg.register('str.rand', (_c, a) => str(randStr(argString(a[0]))), { returnType: 'string', args: ['string'] });
  reg.register('randstr', (_c, a) => str(randStr(argString(a[0]))), { returnType: 'string', args: ['string'] });
  reg.register('str.escape', (_c, a) => str(argString(a[0]).replace(/[^A-Za-z0-9_.-]/g, (ch) => '=' + Buffer.from(ch).toString('hex').toUpperCase())), { ...pure, returnType: 'string' });
  reg.register('str.unescape', (_c, a) => str(argString(a[0]).replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))), { ...pure, returnType: 'string' });
  reg.register('length', (_c, a) => (a[0] ?? []).map((b) => box('size', BigInt(boxLength(b)))).map((b) => box('uint32', Number(b.value))), { ...pure, returnType: 'uint32' });
  reg.register('strlen', (_c, a) => [box('uint32', Buffer.byteLength(argString(a[0])))], { ...pure, returnType: 'uint32' });

  // ---- encodings
  reg.register('hex', (_c, a) => (a[0] ?? []).map((b) => box('string', boxToOctets(b).toString('hex'))), { ...pure, returnType: 'string' });
  reg.register('bin', (_c, a) => {
    const out: Box[] = [];
    for (const b of a[0] ?? []) {
      const t = boxAsText(b).replace(/^0x/i, '');
      if (t.length === 0) continue;
      if (t.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(t)) throw new BoxError('Invalid hex string');
      out.push(box('octets', Buffer.from(t, 'hex')));
    }
    return out;
  }, { ...pure, returnType: 'octets' });
  reg.register('base64.encode', (_c, a) => str(argOctets(a[0]).toString('base64')), { ...pure, returnType: 'string' });
  // Strict, as FreeRADIUS: only the standard alphabet, padding only at the end; anything else fails.
  reg.register('base64.decode', (_c, a) => {
    const t = argString(a[0]);
    const m = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(t);
    if (!m || (m[1].length + m[2].length) % 4 === 1 || (m[2].length > 0 && (m[1].length + m[2].length) % 4 !== 0)) {
      throw new BoxError('Invalid base64 string');
    }
    return oct(Buffer.from(m[1], 'base64'));
  }, { ...pure, returnType: 'octets' });
  // RFC 3986: everything but the unreserved characters is percent-encoded.
  const urlQuote = (_c: XlatContext, a: Box[][]) => str(Buffer.from(argString(a[0]), 'utf8').reduce((s, b) => s + (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0')), ''));
  const urlUnquote = (_c: XlatContext, a: Box[][]) => {
    const t = argString(a[0]);
    const bytes: number[] = [];
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '%' && /^[0-9a-f]{2}$/i.test(t.slice(i + 1, i + 3))) { bytes.push(parseInt(t.slice(i + 1, i + 3), 16)); i += 2; }
      else for (const b of Buffer.from(t[i], 'utf8')) bytes.push(b);
    }
    return str(Buffer.from(bytes).toString('utf8'));
  };
  reg.register('url.quote', urlQuote, { ...pure, returnType: 'string' });
  reg.register('url.unquote', urlUnquote, { ...pure, returnType: 'string' });
  reg.register('urlquote', urlQuote, { ...pure, returnType: 'string' });
  reg.register('urlunquote', urlUnquote, { ...pure, returnType: 'string' });

  // ---- hashes
  // MD4 is not in Node 20's OpenSSL 3 default provider: our own (RFC 1320) when createHash fails.
  const hashes: [string, string][] = [['md5', 'md5'], ['sha1', 'sha1'],
    ['sha2_224', 'sha224'], ['sha2_256', 'sha256'], ['sha2_384', 'sha384'], ['sha2_512', 'sha512'],
    ['sha224', 'sha224'], ['sha256', 'sha256'], ['sha384', 'sha384'], ['sha512', 'sha512'],
    ['sha2_512_224', 'sha512-224'], ['sha2_512_256', 'sha512-256'],
    ['sha3_224', 'sha3-224'], ['sha3_256', 'sha3-256'], ['sha3_384', 'sha3-384'], ['sha3_512', 'sha3-512'],
    ['blake2s_256', 'blake2s256'], ['blake2b_512', 'blake2b512']];
  for (const [name, alg] of hashes) {
    reg.register(`hash.${name}`, hashFn(alg), { ...pure, returnType: 'octets' });
    reg.register(name, hashFn(alg), { ...pure, returnType: 'octets' });
  }
  const md4Fn = (_c: XlatContext, args: Box[][]) => oct(md4(argOctets(args[0])));
  reg.register('hash.md4', md4Fn, { ...pure, returnType: 'octets' });
  reg.register('md4', md4Fn, { ...pure, returnType: 'octets' });
  reg.register('hmac.md5', hmacFn('md5'), { ...pure, returnType: 'octets', minArgs: 2 });
  reg.register('hmac.sha1', hmacFn('sha1'), { ...pure, returnType: 'octets', minArgs: 2 });
  reg.register('hmac.sha2_256', hmacFn('sha256'), { ...pure, returnType: 'octets', minArgs: 2 });
  reg.register('hmac.sha2_512', hmacFn('sha512'), { ...pure, returnType: 'octets', minArgs: 2 });

  // ---- values and casts
  reg.register('cast', (_c, a) => {
    const unit = TIME_UNITS[argString(a[0]).toLowerCase()];
    if (unit) {
      // A time unit: the same duration, counted in that unit when used as a number.
      const da = new DictAttr(unit, 0, 'time_delta', null, { precision: unit });
      return (a[1] ?? []).map((b) => ({ type: 'time_delta' as const, value: Number(castBox(b, 'time_delta').value), da }));
    }
    const t = TYPE_ALIASES[argString(a[0]).toLowerCase()];
    if (!t) throw new BoxError(`Unknown data type "${argString(a[0])}"`);
    return (a[1] ?? []).map((b) => castBox(b, t as BoxType));
  }, { ...pure, minArgs: 2, maxArgs: 2 });
  reg.register('range', (_c, a) => {
    let start = 0;
    let end: number;
    let step = 1;
    if (a.length >= 2) { start = argInt(a[0], 0)!; end = argInt(a[1], 0)!; step = argInt(a[2], 1)!; }
    else end = argInt(a[0], 0)!;
    if (step <= 0) throw new BoxError('%range() step must be positive');
    const out: Box[] = [];
    for (let i = start; i < end && out.length < 100000; i += step) out.push(box('uint64', BigInt(i)));
    return out;
  }, { ...pure, returnType: 'uint64', minArgs: 1, maxArgs: 3 });
  reg.register('rand', (_c, a) => [box('uint64', BigInt(Math.floor(Math.random() * Math.max(1, argInt(a[0], 0x7fffffff)!))))], { returnType: 'uint64', maxArgs: 1, args: ['uint32'] });
  // ---- unique ids (RFC 9562): %uuid.v4() random, %uuid.v7() time-ordered (ms timestamp first).
  reg.register('uuid.v4', () => str(crypto.randomUUID()), { returnType: 'string', maxArgs: 0 });
  reg.register('uuid.v7', () => str(uuidV7(Date.now())), { returnType: 'string', maxArgs: 0 });
  reg.register('expr.rcode', (c, a) => [box('bool', c.request.rcode === argString(a[0]))], { returnType: 'bool', minArgs: 1, maxArgs: 1 });
  reg.register('rcode', (c, a) => a.length ? [box('bool', c.request.rcode === argString(a[0]))] : str(c.request.rcode ?? ''), {});

  // ---- regex
  reg.register('regex.match', (c, a) => {
    const first = a[0]?.[0];
    if (first && first.type === 'string' && !/^\d+$/.test(first.value as string)) {
      if (!c.request.namedCaptures) throw new BoxError(`No previous named regex capture group '${first.value as string}'`);
      const v = c.request.namedCaptures[first.value as string];
      return v === undefined ? [] : str(v);
    }
    if (!c.request.captures) throw new BoxError(a[0]?.length ? 'No previous numbered regex capture group' : 'No previous regex capture');
    const n = argInt(a[0], 0)!;
    const v = c.request.captures[n];
    return v === undefined ? [] : str(v);
  }, { returnType: 'string', maxArgs: 1 });
  // %regex.search(pattern, subject): the =~ operator as a function (captures refreshed, cleared on no match).
  reg.register('regex.search', (c, a) => {
    let src = argString(a[0]);
    let flags = '';
    const m = /^\/(.*)\/([imsux]*)$/s.exec(src);
    if (m) { src = m[1]; flags = m[2]; }
    let re: RegExp;
    try {
      re = makeRegex(src, flags);
    } catch (e) {
      throw new BoxError(`Failed compiling regex: ${(e as Error).message}`);
    }
    for (const b of a[1] ?? []) {
      const hit = re.exec(boxToString(b));
      if (hit) {
        c.request.captures = Array.from(hit, (v) => v ?? '');
        c.request.namedCaptures = hit.groups ? Object.fromEntries(Object.entries(hit.groups).map(([k, v]) => [k, v ?? ''])) : undefined;
        return [box('bool', true)];
      }
    }
    c.request.captures = undefined;
    c.request.namedCaptures = undefined;
    return [box('bool', false)];
  }, { returnType: 'bool', minArgs: 2, maxArgs: 2 });
  // %regex.escape(s): the regex metacharacters of s backslash-escaped; %regex.safe(s): s, marked safe for a regex.
  reg.register('regex.escape', (_c, a) => (a[0] ?? []).map((b) => box('string', escapeRegex(boxAsText(b)))), { ...pure, returnType: 'string', maxArgs: 1 });
  reg.register('regex.safe', (_c, a) => (a[0] ?? []).map((b) => box('string', boxAsText(b))), { ...pure, returnType: 'string', maxArgs: 1 });
  // %str.utf8(s): true when s is valid UTF-8; %str.printable(s): true when every character is printable.
  reg.register('str.utf8', (_c, a) => [box('bool', (a[0] ?? []).every((b) => isUtf8(argOctets([b]))))], { ...pure, returnType: 'bool', maxArgs: 1 });
  reg.register('str.printable', (_c, a) => [box('bool', (a[0] ?? []).every((b) => {
    const buf = argOctets([b]);
    if (!isUtf8(buf)) return false;
    return !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.test(buf.toString('utf8'));
  }))], { ...pure, returnType: 'bool', maxArgs: 1 });
  // %escape(s) / %unescape(s): rlm_escape with its default safe characters; every byte of any other
  // character becomes =XX (upper-case hex); unescape turns each =XX back into its byte.
  const SAFE = new Set('@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_: /');
  reg.register('escape', (_c, a) => str([...argString(a[0])].map((ch) => SAFE.has(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => '=' + b.toString(16).toUpperCase().padStart(2, '0')).join('')).join('')), { ...pure, returnType: 'string' });
  reg.register('unescape', (_c, a) => {
    const t = Buffer.from(argString(a[0]), 'utf8');
    const out: number[] = [];
    for (let i = 0; i < t.length; i++) {
      const h = t.subarray(i + 1, i + 3).toString('latin1');
      if (t[i] === 0x3d && /^[0-9A-Fa-f]{2}$/.test(h)) { out.push(parseInt(h, 16)); i += 2; } else out.push(t[i]);
    }
    return str(Buffer.from(out).toString('utf8'));
  }, { ...pure, returnType: 'string' });
  // The names of the older documentation (%concat, %lpad, %rpad) for the %str.* functions.
  for (const n of ['concat', 'lpad', 'rpad']) {
    const { name: _name, fn, ...opts } = reg.get(`str.${n}`)!;
    reg.register(n, fn, opts);
  }
  // %join(a, b, …): every value of every argument, as one list.
  reg.register('join', (_c, a) => a.flat(), { ...pure });
  reg.register('str.subst', (_c, a) => {
    const subject = argString(a[0]);
    const pattern = argString(a[1]);
    const repl = argString(a[2]);
    const m = /^\/(.*)\/([imsugx]*)$/s.exec(pattern);
    if (m) {
      if (m[1] === '') throw new BoxError('Failed compiling regex: Empty expression');
      let re: RegExp;
      try {
        re = new RegExp(m[1], [...new Set(m[2].replace(/[ux]/g, ''))].join(''));
      } catch (e) {
        throw new BoxError(`Failed compiling regex: ${(e as Error).message}`);
      }
      return str(subject.replace(re, () => repl));
    }
    if (pattern === '') return str(subject);
    return str(subject.split(pattern).join(repl));
  }, { ...pure, returnType: 'string', minArgs: 3, maxArgs: 3 });
  reg.register('subst', (c, a) => reg.get('str.subst')!.fn(c, a), { ...pure, returnType: 'string', minArgs: 3, maxArgs: 3 });

  // ---- IPv4 prefixes: %net.netmask(192.0.2.0/24) = 255.255.255.0, %net.broadcast(…) = 192.0.2.255 (also %ipv4.*).
  const v4prefix = (b: Box) => {
    const p = castBox(b, 'ipv4prefix');
    const { addr, len } = splitPrefix(p.value as string);
    return { net: ipv4ToInt(addr) >>> 0, mask: ipv4Mask(len) >>> 0 };
  };
  const netmask: XlatFunc = (_c, a) => (a[0] ?? []).map((b) => box('ipaddr', ipv4FromInt(v4prefix(b).mask)));
  const broadcast: XlatFunc = (_c, a) => (a[0] ?? []).map((b) => {
    const { net, mask } = v4prefix(b);
    return box('ipaddr', ipv4FromInt(((net & mask) | (~mask >>> 0)) >>> 0));
  });
  for (const ns of ['net', 'ipv4']) {
    reg.register(`${ns}.netmask`, netmask, { ...pure, returnType: 'ipaddr', minArgs: 1, maxArgs: 1 });
    reg.register(`${ns}.broadcast`, broadcast, { ...pure, returnType: 'ipaddr', minArgs: 1, maxArgs: 1 });
  }

  // ---- time
  reg.register('l', (c) => [box('uint32', Math.floor(c.request.received))], { returnType: 'uint32' });
  reg.register('c', () => [box('uint32', Math.floor(Date.now() / 1000))], { returnType: 'uint32' });
  reg.register('t', () => str(new Date().toString()), { returnType: 'string' });
  reg.register('T', () => str(new Date().toISOString()), { returnType: 'string' });
  reg.register('D', () => str(new Date().toISOString().slice(0, 10).replace(/-/g, '')), { returnType: 'string' });
  // %time([what]): now; 'now', 'request', 'offset', 'dst', 'mday_offset', 'wday_offset'; else a date parsed.
  const tzOffset = (d: Date) => -d.getTimezoneOffset() * 60;
  const isDst = (d: Date) => {
    const y = d.getFullYear();
    return d.getTimezoneOffset() < Math.max(new Date(y, 0, 1).getTimezoneOffset(), new Date(y, 6, 1).getTimezoneOffset());
  };
  reg.register('time', (c, a) => {
    if (!a[0]?.length) return [box('date', Date.now() / 1000)];
    const what = argString(a[0]);
    const now = new Date();
    switch (what) {
      case 'now': return [box('date', now.getTime() / 1000)];
      case 'request': return [box('date', c.request.received)];
      case 'offset': return [box('time_delta', tzOffset(now))];
      case 'dst': return [box('bool', isDst(now))];
      case 'mday_offset': return [box('time_delta', (now.getTime() - new Date(now.getFullYear(), now.getMonth(), 1).getTime()) / 1000)];
      case 'wday_offset': return [box('time_delta', (now.getTime() - new Date(now.getFullYear(), now.getMonth(), now.getDate() - now.getDay()).getTime()) / 1000)];
      default: return [castBox(box('string', what), 'date')];
    }
  }, { returnType: 'date', maxArgs: 1 });
  reg.register('time.offset', () => [box('time_delta', tzOffset(new Date()))], { returnType: 'time_delta', maxArgs: 0 });
  reg.register('time.is_dst', () => [box('bool', isDst(new Date()))], { returnType: 'bool', maxArgs: 0 });
  // %time.next(<n><unit>): seconds until the start of the n-th next hour (h), day (d), week (w), month (m) or year (y), local time.
  reg.register('time.next', (_c, a) => {
    const spec = argString(a[0]).trim();
    const m = /^(\d*)\s*([hdwmy])$/.exec(spec);
    if (!m) throw new BoxError(`Invalid time specification "${spec}" (expected a number and one of h, d, w, m, y)`);
    const n = m[1] === '' ? 1 : Number(m[1]);
    const now = new Date();
    const t = new Date(now.getTime());
    t.setMilliseconds(0); t.setSeconds(0); t.setMinutes(0);
    switch (m[2]) {
      case 'h': t.setHours(t.getHours() + n); break;
      case 'd': t.setHours(0); t.setDate(t.getDate() + n); break;
      case 'w': t.setHours(0); t.setDate(t.getDate() - t.getDay() + 7 * n); break;
      case 'm': t.setHours(0); t.setDate(1); t.setMonth(t.getMonth() + n); break;
      case 'y': t.setHours(0); t.setDate(1); t.setMonth(0); t.setFullYear(t.getFullYear() + n); break;
    }
    return [box('uint64', BigInt(Math.round((t.getTime() - now.getTime()) / 1000)))];
  }, { returnType: 'uint64', minArgs: 1, maxArgs: 1, wordArgs: true });
  reg.register('time.now', () => [box('date', Date.now() / 1000)], { returnType: 'date' });
  reg.register('time.request', (c) => [box('date', c.request.received)], { returnType: 'date' });

  // ---- run-time evaluation of expression text
  reg.register('eval', (c, a) => {
    const text = argString(a[0]).replace(/&(?=[A-Za-z])/g, '');
    const dict = c.dict ?? c.request.dict;
    if (!dict) throw new BoxError('%eval() needs a dictionary');
    const loc = { file: '%eval()', line: 1 };
    const scope = {
      xlats: reg,
      resolveAttr: (t: string, at: typeof loc) => resolveRef(t, dict, undefined, at, (src) => new ExprParser(src, scope, at).parse(false)),
    };
    let e;
    try {
      e = new ExprParser(text, scope, loc).parse(false);
    } catch (err) {
      throw new BoxError(`%eval(): ${(err as Error).message}`);
    }
    return evalExpr(e, c);
  }, {});

  // ---- introspection and debugging
  reg.register('interpreter', (c, a) => {
    const raw = argString(a[0]);
    const what = raw.replace(/^\.+/, '');
    const loc = c.interp?.location(raw.startsWith('.'));
    if (what === 'filename') return str(loc?.file ?? '');
    if (what === 'line') return [box('uint32', loc?.line ?? 0)];
    if (what === 'rcode') return str(c.request.rcode ?? '');
    return str('');
  }, {});
  reg.register('interpreter.load-balance.child', (c) => {
    const i = c.interp?.loadBalanceChild();
    return i === undefined ? [] : [box('uint8', i)];
  }, { returnType: 'uint8' });
  // The pairs named by each argument: an attribute reference (`control.[*]`), or its text ('control.[*]').
  const pairsOf = (c: XlatContext, a: Box[][], exprs: readonly XlatArgExpr[] | undefined): import('../../pair/pair').Pair[] => {
    const dict = c.dict ?? c.request.dict;
    const out: import('../../pair/pair').Pair[] = [];
    for (let i = 0; i < a.length; i++) {
      const ex = exprs?.[i];
      if (ex && (ex.k === 'ref' || ex.k === 'exists') && ex.ref) {
        out.push(...resolvePairs(ex.ref as AttrRef, c));
        continue;
      }
      if (!dict) break;
      for (const b of a[i]) {
        const text = boxAsText(b).replace(/^&/, '');
        const loc = { file: '%pairs()', line: 1 };
        let r;
        try {
          r = resolveRef(text, dict, undefined, loc, (src) => new ExprParser(src, { xlats: reg, resolveAttr: () => undefined }, loc).parse(false));
        } catch (err) {
          throw new BoxError(`Invalid attribute reference "${text}": ${(err as Error).message}`);
        }
        if (r) out.push(...resolvePairs(r.ref, c));
      }
    }
    return out;
  };
  reg.register('pairs.print', (c, a, ex) => pairsOf(c, a, ex).map((p) => box('string', printPairText(p))), { returnType: 'string' });
  reg.register('pairs', (c, a, ex) => pairsOf(c, a, ex).map((p) => box('string', printPairText(p))), { returnType: 'string' });
  reg.register('pairs.debug', (c, a, ex) => {
    if (c.request.log.debugEnabled) {
      const ps = pairsOf(c, a, ex);
      c.request.log.debug(`Attributes matching ${ps.length ? '' : '(none)'}`);
      for (const p of ps) c.request.log.debug(`  ${printPairText(p)}`);
    }
    return [];
  }, {});
  // %pairs.immutable(ref): the pairs can no longer be changed or deleted by policy edits.
  reg.register('pairs.immutable', (c, a, ex) => {
    for (const p of pairsOf(c, a, ex)) {
      c.request.hasImmutable = true;
      p.immutable = true;
      for (const ch of p.children ?? []) ch.immutable = true;
    }
    return [];
  }, {});
  reg.register('debug_attr', (c, a, ex) => reg.get('pairs.debug')!.fn(c, a, ex), {});
  // %debug(<level>): the request's debug level before the call (0 or 2 here: the request logger's debug
  // output is fixed when the request starts, so a new level has no effect). Any other argument is logged.
  reg.register('debug', (c, a) => {
    const t = argString(a[0]);
    if (/^\d+$/.test(t) || t === '') return [box('uint8', c.request.log.debugEnabled ? 2 : 0)];
    if (c.request.log.debugEnabled) c.request.log.debug(t);
    return [];
  }, {});
  reg.register('log.info', (c, a) => { c.request.log.info(argString(a[0])); return []; }, {});
  reg.register('log.warn', (c, a) => { c.request.log.warn(argString(a[0])); return []; }, {});
  reg.register('log.err', (c, a) => { c.request.log.error(argString(a[0])); return []; }, {});
  reg.register('log.debug', (c, a) => { c.request.log.debug(argString(a[0])); return []; }, {});
  registerFileXlats(reg);
  void RCODE_NAMES;
}

const TIME_UNITS: Record<string, TimePrecision | undefined> = {
  ns: 'nanoseconds', nanoseconds: 'nanoseconds', us: 'microseconds', microseconds: 'microseconds',
  ms: 'milliseconds', milliseconds: 'milliseconds', cs: 'centiseconds', centiseconds: 'centiseconds',
  s: 'seconds', seconds: 'seconds', m: 'minutes', min: 'minutes', minutes: 'minutes', h: 'hours', hours: 'hours',
  d: 'days', days: 'days', w: 'weeks', weeks: 'weeks', months: 'months', years: 'years',
};

/** `Name = value`, with structural pairs as `Name = { child, child }`. */
function printPairText(p: import('../../pair/pair').Pair): string {
  if (p.children || p.da.isStructural) return `${p.da.name} = { ${(p.children ?? []).map(printPairText).join(', ')} }`;
  if (p.da.flags.raw) return `raw.${p.da.name} = 0x${Buffer.isBuffer(p.value) ? p.value.toString('hex') : ''}`;
  return `${p.da.name} = ${printValue(p.da, p.value!)}`;
}

/**
 * Random string from a format: each character picks a class (`c` lower, `C` upper, `n` digit,
 * `a` alphanumeric, `h`/`H` hex, `!` punctuation, `.` printable, `s` alphanumeric + `./`, `b` a random
 * byte); a decimal count before a class repeats it (at most 1024). An unknown class fails.
 */
/** An RFC 9562 version 7 UUID: 48-bit Unix milliseconds, version 7, 74 random bits, variant 10. */
export function uuidV7(ms: number): string {
  const b = crypto.randomBytes(16);
  b.writeUIntBE(Math.floor(ms) % 2 ** 48, 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function randStr(fmt: string): string {
  const sets: Record<string, string> = {
    c: 'abcdefghijklmnopqrstuvwxyz', C: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', n: '0123456789',
    a: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', h: '0123456789abcdef', H: '0123456789ABCDEF',
    '!': '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
    '.': Array.from({ length: 95 }, (_v, i) => String.fromCharCode(32 + i)).join(''),
    s: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789./',
  };
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    let rep = 1;
    const m = /^\d+/.exec(fmt.slice(i));
    if (m) {
      rep = Math.min(Number(m[0]), 1024);
      i += m[0].length;
      if (i >= fmt.length) break;
    }
    const cls = fmt[i];
    for (let r = 0; r < rep; r++) {
      if (cls === 'b') { out += String.fromCharCode(crypto.randomInt(256)); continue; }
      const set = sets[cls];
      if (!set) throw new BoxError(`Invalid character class '${cls}' in %str.rand()`);
      out += set[crypto.randomInt(set.length)];
    }
  }
  return out;
}
