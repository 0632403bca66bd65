/**
 * The `pap` instance.
 *
 * `recv` (authorize): when the control list holds a known-good password
 * (`Password.*`, v3 names such as `Cleartext-Password` are aliases of the same
 * attributes) and the request has a User-Password, set `control.Auth-Type := PAP`
 * unless something already chose an Auth-Type.
 *
 * `authenticate`: compare User-Password with the known-good password:
 * cleartext, crypt (`$1$`, `$apr1$`, `$5$`, `$6$`), MD5/SMD5, SHA1/SSHA1,
 * SHA2/SSHA2 and SHA3/SSHA3 (224–512) and NT. `Password.With-Header` (`{ssha}…`, `{crypt}…`) is
 * normalised to the matching attribute first. Every comparison is constant-time.
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import * as path from 'node:path';
import { MODULE_CONFIG, MODULE_DICT, MODULE_LOG, MODULE_NAME, WORKER_POOLS } from '../../core';
import { WorkerPools, type TaskPool } from '../../core';
import type { CallContext, Rcode } from '../../core';
import { defineDict, type DictHandles, type InstantiateContext } from '../../core';
import type { Logger } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import type { Pair } from '../../core';
import type { Request } from '../../core';
import type { Value } from '../../core';
import { AuthTypeSetter } from '../shared/auth-type';
import { failureMessage, getPair } from '../../core';
import { cryptVerify } from './crypt';
import type { CryptJob, CryptResult } from './crypt-worker';
import { ntHash } from './md4';
import type { PapConfig } from './config';

/** How a known-good password is checked. */
type Check =
  | { k: 'clear' }
  | { k: 'crypt' }
  | { k: 'nt' }
  | { k: 'pbkdf2' }
  | { k: 'digest'; alg: string; len: number; salted: boolean };

const D = (alg: string, len: number, salted: boolean): Check => ({ k: 'digest', alg, len, salted });

/** `Password.<child>` (lower case) → check. Order is the preference when several are present. */
const SCHEMES: ReadonlyArray<readonly [string, Check]> = [
  ['cleartext', { k: 'clear' }],
  ['crypt', { k: 'crypt' }],
  ['nt', { k: 'nt' }],
  ['pbkdf2', { k: 'pbkdf2' }],
  ['ssha2-512', D('sha512', 64, true)],
  ['ssha2-384', D('sha384', 48, true)],
  ['ssha2-256', D('sha256', 32, true)],
  ['ssha2-224', D('sha224', 28, true)],
  ['sha2-512', D('sha512', 64, false)],
  ['sha2-384', D('sha384', 48, false)],
  ['sha2-256', D('sha256', 32, false)],
  ['sha2-224', D('sha224', 28, false)],
  ['sha2', D('sha2', 0, false)],
  ['ssha3-512', D('sha3-512', 64, true)],
  ['ssha3-384', D('sha3-384', 48, true)],
  ['ssha3-256', D('sha3-256', 32, true)],
  ['ssha3-224', D('sha3-224', 28, true)],
  ['sha3-512', D('sha3-512', 64, false)],
  ['sha3-384', D('sha3-384', 48, false)],
  ['sha3-256', D('sha3-256', 32, false)],
  ['sha3-224', D('sha3-224', 28, false)],
  ['sha3', D('sha3', 0, false)],
  ['ssha1', D('sha1', 20, true)],
  ['sha1', D('sha1', 20, false)],
  ['smd5', D('md5', 16, true)],
  ['md5', D('md5', 16, false)],
];

/** `{header}` of Password.With-Header → Password child name. */
const HEADERS: Readonly<Record<string, string>> = {
  clear: 'cleartext', cleartext: 'cleartext', plain: 'cleartext',
  crypt: 'crypt',
  md5: 'md5', base64_md5: 'md5', smd5: 'smd5',
  sha: 'sha1', sha1: 'sha1', ssha: 'ssha1', ssha1: 'ssha1',
  sha2: 'sha2', sha224: 'sha2-224', sha256: 'sha2-256', sha384: 'sha2-384', sha512: 'sha2-512',
  ssha224: 'ssha2-224', ssha256: 'ssha2-256', ssha384: 'ssha2-384', ssha512: 'ssha2-512',
  'sha3-224': 'sha3-224', 'sha3-256': 'sha3-256', 'sha3-384': 'sha3-384', 'sha3-512': 'sha3-512',
  'ssha3-224': 'ssha3-224', 'ssha3-256': 'ssha3-256', 'ssha3-384': 'ssha3-384', 'ssha3-512': 'ssha3-512',
  nt: 'nt', nthash: 'nt', 'x-nthash': 'nt',
  pbkdf2: 'pbkdf2', 'pbkdf2-sha1': 'pbkdf2', 'pbkdf2-sha256': 'pbkdf2', 'pbkdf2-sha512': 'pbkdf2',
};

/** PBKDF2 digests: the `HMAC…` names of FreeRADIUS's format and the 389ds `{PBKDF2-…}` headers → OpenSSL names. */
const PBKDF2_DIGESTS: Readonly<Record<string, string>> = {
  hmacsha1: 'sha1', 'hmacsha2+224': 'sha224', 'hmacsha2+256': 'sha256', 'hmacsha2+384': 'sha384', 'hmacsha2+512': 'sha512',
  'hmacsha3+224': 'sha3-224', 'hmacsha3+256': 'sha3-256', 'hmacsha3+384': 'sha3-384', 'hmacsha3+512': 'sha3-512',
  pbkdf2: 'sha1', 'pbkdf2-sha1': 'sha1', 'pbkdf2-sha256': 'sha256', 'pbkdf2-sha512': 'sha512',
};

/** The most PBKDF2 iterations we run for one request (a stored value is data, not a trusted setting). */
const PBKDF2_MAX_ITERATIONS = 10_000_000;

/** A parsed PBKDF2 known-good password. */
interface Pbkdf2Spec {
  digest: string;
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

/**
 * Parses a PBKDF2 known-good password: FreeRADIUS's `HMACSHA2+256:<iterations>:<salt>:<hash>`
 * (iterations a base64 32-bit big-endian number, salt and hash base64), or the 389ds form
 * `{PBKDF2-SHA256}<iterations>$<salt>$<hash>` (decimal iterations). Returns a reason when malformed.
 */
export function parsePbkdf2(text: string): Pbkdf2Spec | string {
  const b64 = (s: string): Buffer | undefined => (/^[A-Za-z0-9+/]+=*$/.test(s) ? Buffer.from(s, 'base64') : undefined);
  const ds = /^\{([^}]+)\}(\d+)\$([^$]+)\$(.+)$/s.exec(text);
  if (ds) {
    const digest = PBKDF2_DIGESTS[ds[1].toLowerCase()];
    if (!digest) return `unknown PBKDF2 digest "${ds[1]}"`;
    const salt = b64(ds[3]);
    const hash = b64(ds[4]);
    if (!salt || !hash || !hash.length) return 'invalid salt or hash in PBKDF2 password';
    return { digest, iterations: Number(ds[2]), salt, hash };
  }
  const parts = text.split(':');
  if (parts.length !== 4) return 'PBKDF2 password is not <digest>:<iterations>:<salt>:<hash>';
  const digest = PBKDF2_DIGESTS[parts[0].toLowerCase()];
  if (!digest) return `unknown PBKDF2 digest "${parts[0]}"`;
  const it = b64(parts[1]);
  if (!it || it.length !== 4) return 'PBKDF2 iterations must be a base64 encoded 32-bit number';
  const salt = b64(parts[2]);
  const hash = b64(parts[3]);
  if (!salt || !hash || !hash.length) return 'invalid salt or hash in PBKDF2 password';
  return { digest, iterations: it.readUInt32BE(0), salt, hash };
}

const SHA2_BY_LEN: Readonly<Record<number, string>> = { 28: 'sha224', 32: 'sha256', 48: 'sha384', 64: 'sha512' };
const SHA3_BY_LEN: Readonly<Record<number, string>> = { 28: 'sha3-224', 32: 'sha3-256', 48: 'sha3-384', 64: 'sha3-512' };

/** A known-good password found in the control list. */
interface KnownGood {
  readonly name: string;
  readonly check: Check;
  readonly value: Buffer;
  /** The stored value when it is text (cleartext compared without making bytes; see {@link textEq}). */
  readonly text?: string;
}

const asBuffer = (v: Value | undefined): Buffer =>
  v === undefined ? Buffer.alloc(0) : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');

/**
 * A known-good password from a `Password.*` pair. Name and bytes are made on first use: `authorize` only asks
 * whether there is one, so it builds neither (its value is read once, when the object is made).
 */
class StoredPassword implements KnownGood {
  private readonly raw: Value | undefined;
  private bytes: Buffer | undefined;
  constructor(private readonly pair: Pair, readonly check: Check) {
    this.raw = pair.value;
  }
  get name(): string {
    return `Password.${this.pair.da.name}`;
  }
  get value(): Buffer {
    return (this.bytes ??= asBuffer(this.raw));
  }
  get text(): string | undefined {
    return typeof this.raw === 'string' ? this.raw : undefined;
  }
}

/**
 * Constant-time equality of two passwords held as text, without making their bytes: strings without
 * surrogate code units have equal UTF-8 bytes exactly when they are equal. Undefined when either holds
 * one (an escaped byte or a lone surrogate, whose bytes {@link asBuffer} may map together): the caller
 * then compares bytes. The work depends on the longer length only, as with {@link constantEq}.
 */
function textEq(a: string, b: string): boolean | undefined {
  const la = a.length;
  const lb = b.length;
  const n = la > lb ? la : lb;
  let diff = la ^ lb;
  let surrogate = 0;
  for (let i = 0; i < n; i++) {
    const x = i < la ? a.charCodeAt(i) : 0;
    const y = i < lb ? b.charCodeAt(i) : 0;
    diff |= x ^ y;
    surrogate |= ((x & 0xf800) ^ 0xd800) === 0 || ((y & 0xf800) ^ 0xd800) === 0 ? 1 : 0;
  }
  return surrogate ? undefined : diff === 0;
}

/** Equal-length constant-time comparison; different lengths compare false (after the same work). */
function constantEq(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    crypto.timingSafeEqual(a, a);
    return false;
  }
  return crypto.timingSafeEqual(a, b);
}

/**
 * Decodes a digest written as hex or base64 text (v3 "normify"): hex when it is exactly
 * hex text of at least `min` bytes, base64 when that decodes to at least `min` bytes.
 */
export function normify(v: Buffer, min: number): Buffer {
  const s = v.toString('latin1');
  if (s.length >= min * 2 && s.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(s)) return Buffer.from(s, 'hex');
  if (s.length >= Math.ceil((min * 4) / 3) && /^[A-Za-z0-9+/]+={0,2}$/.test(s) && (s.length % 4 === 0 || !s.includes('='))) {
    const d = Buffer.from(s, 'base64');
    if (d.length >= min) return d;
  }
  return v;
}

/** The attributes `pap` uses (the definition's `dict`; injected resolved as `MODULE_DICT`). */
export const PAP_DICT = defineDict({
  userPassword: 'User-Password',
  authType: 'Auth-Type',
  password: 'Password',
  cleartext: 'Password.Cleartext',
  failureMessage: 'Module-Failure-Message',
  withHeader: { attr: 'Password.With-Header', optional: true },
});

/** The compiled worker script of the crypt checks (beside this file in dist/). */
const CRYPT_WORKER = path.join(__dirname, 'crypt-worker.js');

/** The `pap` module instance. */
@injectable()
export class Pap {
  private dict?: Dictionary;
  private readonly daUserPassword: DictAttr;
  private readonly daPassword: DictAttr;
  private readonly daWithHeader?: DictAttr;
  private authType?: AuthTypeSetter;
  private readonly schemes = new Map<DictAttr, Check>();
  /** Preference of each known-good attribute (lower wins). */
  private readonly rank = new Map<DictAttr, number>();
  private pool?: TaskPool<CryptJob, CryptResult>;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: PapConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(MODULE_DICT) private readonly da: DictHandles<typeof PAP_DICT>,
    @inject(WORKER_POOLS) private readonly pools: WorkerPools = new WorkerPools(),
  ) {
    this.daUserPassword = da.userPassword;
    this.daPassword = da.password;
    this.daWithHeader = da.withHeader;
  }

  /** Finds the password schemes the dictionary has, the Auth-Type value, and starts the crypt workers. */
  instantiate(ctx: InstantiateContext): void {
    const dict = (this.dict = ctx.dict);
    const daAuthType = this.da.authType;
    for (const [child, check] of SCHEMES) {
      const da = dict.resolve(`Password.${child}`);
      if (da) {
        this.rank.set(da, this.schemes.size);
        this.schemes.set(da, check);
      }
    }
    this.authType = AuthTypeSetter.resolve(daAuthType, this.config.auth_type ?? this.name, 'pap', this.log);
    // Shared with every pap instance of the process (WORKER_POOLS); unavailable when running
    // from TypeScript sources (no compiled crypt-worker.js) or with crypt_workers = 0.
    const pool = this.pools.open<CryptJob, CryptResult>(CRYPT_WORKER, this.config.crypt_workers);
    if (pool.available) this.pool = pool;
    else void pool.close();
  }

  /** Releases this instance's handle on the crypt threads. */
  async detach(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }

  /** Finds the preferred known-good password in `control`, normalising With-Header. */
  private knownGood(control: readonly Pair[], log: CallContext['log']): KnownGood | undefined {
    const holder = getPair(control, this.daPassword);
    let best: Pair | undefined;
    let bestRank = Infinity;
    let withHeader: Pair | undefined;
    // The Password children, then (flat lists: a Password child without its parent) the control list itself.
    // Two passes of one loop, without a closure: this runs in both authorize and authenticate of every request.
    for (let pass = 0; pass < 2; pass++) {
      const list = pass === 0 ? holder?.children : control;
      if (!list) continue;
      for (let i = 0; i < list.length; i++) {
        const p = list[i];
        if ((pass === 1 && p.da.parent !== this.daPassword) || p.value === undefined) continue;
        const rank = this.rank.get(p.da);
        if (rank !== undefined && rank < bestRank) {
          best = p;
          bestRank = rank;
        } else if (p.da === this.daWithHeader && !withHeader) {
          withHeader = p;
        }
      }
    }
    if (best) return new StoredPassword(best, this.schemes.get(best.da)!);
    if (withHeader) return this.fromHeader(String(withHeader.value), log);
    // Very old users files set `User-Password := "…"` as a check item; v3 took it as cleartext.
    const legacy = getPair(control, this.daUserPassword);
    if (legacy?.value !== undefined) {
      log.warn('control.User-Password is deprecated; use Password.Cleartext');
      return { name: 'control.User-Password', check: { k: 'clear' }, value: asBuffer(legacy.value) };
    }
    return undefined;
  }

  /** Splits `{scheme}value`; no header means cleartext. */
  private fromHeader(s: string, log: CallContext['log']): KnownGood | undefined {
    const m = /^\{([^}]+)\}(.*)$/s.exec(s);
    if (!m) return { name: 'Password.Cleartext', check: { k: 'clear' }, value: Buffer.from(s, 'utf8') };
    const child = HEADERS[m[1].toLowerCase()];
    const da = child ? this.dict!.resolve(`Password.${child}`) : undefined;
    const check = da ? this.schemes.get(da) : undefined;
    if (!da || !check) {
      log.warn(`Password.With-Header has an unsupported header "{${m[1]}}"`);
      return undefined;
    }
    // PBKDF2's header names its digest: the checker reads it.
    return { name: `Password.${da.name}`, check, value: Buffer.from(check.k === 'pbkdf2' ? s : m[2], 'utf8') };
  }

  /** `recv`: set Auth-Type PAP when there is a User-Password and a known-good password. */
  authorize(request: Request, ctx: CallContext): Rcode {
    if (this.authType!.isSet(request, ctx)) return 'noop';
    if (!getPair(request.request, this.daUserPassword)) return 'noop';
    if (!this.knownGood(request.control, ctx.log)) {
      if (ctx.log.debugEnabled) ctx.log.debug('No known-good password in the control list; not setting Auth-Type');
      return 'noop';
    }
    return this.authType!.set(request, ctx);
  }

  /** `authenticate`: compare User-Password with the known-good password. Crypt checks yield (worker thread). */
  authenticate(request: Request, ctx: CallContext): Rcode | Promise<Rcode> {
    const pw = getPair(request.request, this.daUserPassword);
    if (!pw || pw.value === undefined) {
      return this.failWith(request, ctx, 'invalid', 'No User-Password attribute in the request');
    }
    const pv = pw.value;
    if (typeof pv === 'string' ? pv.length === 0 : asBuffer(pv).length === 0) return this.failWith(request, ctx, 'invalid', 'Empty User-Password');
    const known = this.knownGood(request.control, ctx.log);
    if (!known) return this.failWith(request, ctx, 'invalid', 'No "known good" password found for the user');
    if (ctx.log.debugEnabled) ctx.log.debug(`Comparing with "known good" ${known.name}`);
    const result = (r: boolean | string): Rcode => {
      if (r === true) return 'ok';
      if (r === false) return this.failWith(request, ctx, 'reject', `${known.name} does not match "known good" password`);
      return this.failWith(request, ctx, 'invalid', r);
    };
    if (known.check.k === 'clear' && typeof pv === 'string') {
      // Both sides text (the common case): no Buffer for either, no native call.
      const text = known.text;
      const eq = text === undefined ? undefined : textEq(pv, text);
      if (eq !== undefined) return result(eq);
    }
    const given = asBuffer(pv);
    if (known.check.k === 'crypt' && this.pool) {
      // A copy of the password, so the request's buffer is never transferred away.
      return this.pool.run({ password: new Uint8Array(given), stored: known.value.toString('utf8') }).then(
        (ok) => result(ok === null ? `${known.name} uses an unsupported crypt scheme` : ok),
        (e) => this.failWith(request, ctx, 'fail', `crypt check failed: ${(e as Error).message}`),
      );
    }
    if (known.check.k === 'pbkdf2') {
      const spec = parsePbkdf2(known.value.toString('utf8'));
      if (typeof spec === 'string') return result(`${known.name}: ${spec}`);
      if (spec.iterations > PBKDF2_MAX_ITERATIONS) return result(`${known.name}: too many PBKDF2 iterations (${spec.iterations})`);
      // Zero iterations is taken as one, as FreeRADIUS does. Runs on libuv's thread pool.
      return new Promise<Rcode>((resolve) => {
        crypto.pbkdf2(given, spec.salt, Math.max(1, spec.iterations), spec.hash.length, spec.digest, (err, key) => {
          resolve(err ? this.failWith(request, ctx, 'fail', `PBKDF2 failed: ${err.message}`) : result(constantEq(key, spec.hash)));
        });
      });
    }
    return result(this.compare(given, known));
  }

  /** True/false for match/mismatch, or a reason the stored password cannot be used. */
  private compare(given: Buffer, known: KnownGood): boolean | string {
    const c = known.check;
    switch (c.k) {
      case 'clear':
        return constantEq(given, known.value);
      case 'crypt': {
        const ok = cryptVerify(given, known.value.toString('utf8'));
        return ok === undefined ? `${known.name} uses an unsupported crypt scheme` : ok;
      }
      case 'nt': {
        const v = this.config.normalise ? normify(known.value, 16) : known.value;
        if (v.length !== 16) return `${known.name} has incorrect length, expected 16 bytes got ${v.length}`;
        return constantEq(ntHash(given.toString('utf8')), v);
      }
      case 'pbkdf2':
        return `${known.name} is checked asynchronously`;
      case 'digest': {
        let { alg, len } = c;
        const v = this.config.normalise ? normify(known.value, len || 28) : known.value;
        if (alg === 'sha2' || alg === 'sha3') {
          alg = (alg === 'sha2' ? SHA2_BY_LEN : SHA3_BY_LEN)[v.length] ?? '';
          len = v.length;
          if (!alg) return `${known.name} has incorrect length ${v.length}`;
        }
        if (c.salted ? v.length <= len : v.length !== len) {
          return `${known.name} has incorrect length, expected ${c.salted ? `more than ${len}` : len} bytes got ${v.length}`;
        }
        const salt = v.subarray(len);
        const h = crypto.createHash(alg).update(given).update(salt).digest();
        return constantEq(h, v.subarray(0, len));
      }
    }
  }

  private failWith(request: Request, ctx: CallContext, rcode: Rcode, msg: string): Rcode {
    ctx.log.error(msg);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return rcode;
  }
}
