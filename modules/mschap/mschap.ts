/**
 * The `mschap` instance: MS-CHAPv1 (RFC 2433) and MS-CHAPv2 (RFC 2759) as carried by RADIUS
 * (RFC 2548), against the user's password in the control list (`Password.Cleartext`, or the
 * NT hash `Password.NT`).
 *
 * `recv` (authorize): a request with the challenge and a v1 or v2 response and no Auth-Type yet
 * gets `control.Auth-Type := <instance>`.
 *
 * `authenticate`: checks the NT-Response (v1 may use the LM-Response instead); on success adds
 * MS-CHAP2-Success (v2, the authenticator response) and the MPPE keys (RFC 3079), on failure
 * MS-CHAP-Error and Module-Failure-Message.
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG, MODULE_DICT, MODULE_LOG, MODULE_NAME } from '../../core';
import type { CallContext, Rcode } from '../../core';
import { defineDict, type BootstrapContext, type DictHandles, type InstantiateContext } from '../../core';
import { box, boxAsText } from '../../core';
import type { Logger, DictAttr, Dictionary, Request, Value } from '../../core';
import { AuthTypeSetter } from '../shared/auth-type';
import { failureMessage, findPairDeep, getValue, md4, setValue } from '../../core';
import type { CompiledTemplate, EnvOf, Pair } from '../../core';
import { runProgram, splitCommand } from '../../core';
import type { MschapConfig } from './config';
import {
  authenticatorResponseFromHashHash, challengeHash, challengeResponse, decryptNewPassword, hashNtPasswordHash, lmPasswordHash,
  mppeV2Keys, ntPasswordHash, oldHashEncryptedWithNewHash,
} from './crypto';

/**
 * Per-call settings of `authenticate`: the ntlm_auth command lines (split into words like exec's
 * `program`, each word a template) and the passchange templates, expanded only when used.
 */
export const MSCHAP_AUTH_ENV = {
  ntlmAuth: { item: 'ntlm_auth', split: splitCommand, as: 'template' },
  cpwProgram: { item: 'passchange.ntlm_auth', split: splitCommand, as: 'template' },
  cpwUsername: { item: 'passchange.ntlm_auth_username', as: 'template' },
  cpwDomain: { item: 'passchange.ntlm_auth_domain', as: 'template' },
  localCpw: { item: 'passchange.local_cpw', as: 'template' },
} as const;
export type MschapAuthEnv = EnvOf<typeof MSCHAP_AUTH_ENV>;

/** The outcome of checking an NT-Response: 0 with the NT hash's hash, or FreeRADIUS's negative MS-CHAP error code. */
interface VerifyResult { code: number; hashHash?: Buffer; msg?: string; rcode?: 'fail' }
type Verifier = (challenge8: Buffer, ntResponse: Buffer) => VerifyResult | Promise<VerifyResult>;
type Method = 'internal' | 'ntlm' | 'auto';
/** `then` without a Promise when the value is already there (the local checks stay synchronous). */
const andThen = <T, U>(v: T | Promise<T>, f: (v: T) => U | Promise<U>): U | Promise<U> => (v instanceof Promise ? v.then(f) : f(v));
/** A password change that did not happen: `reject` (refused, MS-CHAP-Error 709) or `fail` (could not be tried). */
interface CpwFailure { rcode: 'reject' | 'fail'; msg: string }

/** The expanded words of a command line. */
async function expandWords(words: readonly CompiledTemplate[], request: Request, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for (const w of words) out.push(await w.expand(request, signal));
  return out;
}

/** The environment of ntlm_auth: only the search path (the request's attributes are not exported). */
const programEnv = (): NodeJS.ProcessEnv => (process.env.PATH ? { PATH: process.env.PATH } : {});
const firstLine = (text: string): string => text.split('\n')[0].trim();

/**
 * The first `da` pair anywhere in `list`: a request may carry several Vendor-Specific containers
 * (one per attribute as received), so the first container alone is not enough.
 */
const reqPair = (list: readonly Pair[], da: DictAttr): Pair | undefined => findPairDeep(list, da);
const reqValue = (list: readonly Pair[], da: DictAttr): Value | undefined => reqPair(list, da)?.value as Value | undefined;

const asBuffer = (v: Value | undefined): Buffer | undefined =>
  v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');

/** The fixed attributes `mschap` uses (the configurable ones come from `attributes { }`). */
export const MSCHAP_DICT = defineDict({
  authType: 'Auth-Type',
  cleartext: 'Password.Cleartext',
  nt: 'Password.NT',
  lm: { attr: 'Password.LM', optional: true },
  failureMessage: 'Module-Failure-Message',
  useNtlmAuth: { attr: 'MS-CHAP-Use-NTLM-Auth', optional: true },
  newCleartext: { attr: 'MS-CHAP-New-Cleartext-Password', optional: true },
  newNt: { attr: 'MS-CHAP-New-NT-Password', optional: true },
});

/** The resolved `attributes { }` of an instance. */
interface Attrs {
  username: DictAttr; chap_challenge: DictAttr; chap_response: DictAttr; chap2_response: DictAttr;
  chap2_success: DictAttr; chap_error: DictAttr; chap_mppe_keys: DictAttr; mppe_recv_key: DictAttr;
  mppe_send_key: DictAttr; mppe_encryption_policy: DictAttr; mppe_encryption_types: DictAttr;
  chap2_cpw: DictAttr; chap_nt_enc_pw: DictAttr;
}

/** The parts of the user name: `DOMAIN\user` or `host/name.domain`. */
export function splitUserName(name: string): { user: string; domain?: string } {
  const bs = name.indexOf('\\');
  if (bs >= 0) return { user: name.slice(bs + 1), domain: name.slice(0, bs) };
  if (name.toLowerCase().startsWith('host/')) {
    const rest = name.slice(5);
    const dot = rest.indexOf('.');
    return dot >= 0 ? { user: rest.slice(0, dot) + '$', domain: rest.slice(dot + 1) } : { user: rest + '$' };
  }
  return { user: name };
}

/** The `mschap` module instance. */
@injectable()
export class Mschap {
  private dict?: Dictionary;
  private authType?: AuthTypeSetter;
  private attrs?: Attrs;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: MschapConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(MODULE_DICT) private readonly da: DictHandles<typeof MSCHAP_DICT>,
  ) {}

  /**
   * `%<instance>(name[, arg])`: `Challenge` (v1: the challenge; v2: the challenge hash), `NT-Response`,
   * `LM-Response`, `User-Name` (domain stripped), `NT-Domain`/`Domain-Name`, `NT-Hash(pw)` and
   * `LM-Hash(pw)` (hex). The argument may follow the name after a space, as in v3.
   */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, (c, args) => {
      let what = (args[0] ?? []).map(boxAsText).join('');
      let arg: string | undefined = args.length > 1 ? (args[1] ?? []).map(boxAsText).join('') : undefined;
      if (arg === undefined) {
        const sp = what.indexOf(' ');
        if (sp > 0) { arg = what.slice(sp + 1); what = what.slice(0, sp); }
      }
      const out = this.xlat(c.request, what, arg);
      if (out === undefined) return [];
      return [box('string', out)];
    }, { returnType: 'string', minArgs: 1, maxArgs: 2 });
  }

  /** Resolves the Auth-Type value and the configured attributes. */
  instantiate(ctx: InstantiateContext): void {
    this.dict = ctx.dict;
    // `authenticate <name>` sections add their Auth-Type values when the servers are compiled,
    // after modules instantiate: resolve now only when the value exists, else on first use.
    if (this.da.authType.values?.has((this.config.auth_type ?? this.name).toLowerCase())) this.setter();
    const a = this.config.attributes;
    const resolved: Partial<Attrs> = {};
    for (const [k, v] of Object.entries(a) as [keyof Attrs, string][]) {
      const da = ctx.dict.resolve(v);
      if (!da) throw new Error(`${this.name}: attributes { ${k} }: unknown attribute "${v}"`);
      resolved[k] = da;
    }
    this.attrs = resolved as Attrs;
  }

  private xlat(request: Request, what: string, arg: string | undefined): string | undefined {
    const a = this.attrs!;
    const key = what.toLowerCase();
    if (key === 'nt-hash') return ntPasswordHash(arg ?? '').toString('hex').toUpperCase();
    if (key === 'lm-hash') return lmPasswordHash(arg ?? '').toString('hex').toUpperCase();
    const challenge = asBuffer(reqValue(request.request, a.chap_challenge));
    const v1 = asBuffer(reqValue(request.request, a.chap_response));
    const v2 = asBuffer(reqValue(request.request, a.chap2_response));
    const rawName = reqValue(request.request, a.username);
    const name = rawName === undefined ? undefined : String(rawName);
    switch (key) {
      case 'challenge':
        if (!challenge) throw new Error(`${this.name}: no MS-CHAP-Challenge in the request`);
        if (v2 && v2.length === 50 && challenge.length === 16) {
          if (name === undefined) throw new Error(`${this.name}: no User-Name in the request`);
          return challengeHash(v2.subarray(2, 18), challenge, this.hashName(name)).toString('hex');
        }
        return challenge.toString('hex');
      case 'nt-response':
        if (v1 && v1.length === 50) return v1.subarray(26, 50).toString('hex');
        if (v2 && v2.length === 50) return v2.subarray(26, 50).toString('hex');
        throw new Error(`${this.name}: no MS-CHAP-Response or MS-CHAP2-Response in the request`);
      case 'lm-response':
        if (v1 && v1.length === 50) return v1.subarray(2, 26).toString('hex');
        throw new Error(`${this.name}: no MS-CHAP-Response in the request`);
      case 'user-name':
        if (name === undefined) throw new Error(`${this.name}: no User-Name in the request`);
        return splitUserName(name).user;
      case 'nt-domain':
      case 'domain-name':
        if (name === undefined) throw new Error(`${this.name}: no User-Name in the request`);
        return splitUserName(name).domain ?? '';
      default:
        throw new Error(`${this.name}: unknown expansion "${what}"`);
    }
  }

  /** The Auth-Type value this instance sets (`auth_type`, else the instance name, else MS-CHAP). */
  private setter(): AuthTypeSetter {
    return (this.authType ??= AuthTypeSetter.resolve(this.da.authType, this.config.auth_type ?? this.name, 'ms-chap', this.log));
  }

  /** The name hashed into the MS-CHAPv2 challenge. */
  private hashName(name: string): string {
    return this.config.with_ntdomain_hack ? splitUserName(name).user : name;
  }

  /** `recv`: set Auth-Type when the request carries an MS-CHAP challenge and response. */
  authorize(request: Request, ctx: CallContext): Rcode {
    const a = this.attrs!;
    if (!reqPair(request.request, a.chap_challenge)) return 'noop';
    if (!reqPair(request.request, a.chap_response) && !reqPair(request.request, a.chap2_response) && !reqPair(request.request, a.chap2_cpw)) {
      ctx.log.debug('Found MS-CHAP-Challenge, but no MS-CHAP response or password change');
      return 'noop';
    }
    const setter = this.setter();
    if (setter.isSet(request, ctx)) return 'noop';
    return setter.set(request, ctx);
  }

  /** The NT hash and (when known) the LM hash of the user's password. */
  private passwords(request: Request): { nt?: Buffer; lm?: Buffer } {
    const clear = getValue(request.control, this.da.cleartext);
    const ntv = asBuffer(getValue(request.control, this.da.nt));
    const lmv = this.da.lm ? asBuffer(getValue(request.control, this.da.lm)) : undefined;
    const fixHex = (b: Buffer | undefined) => (b && b.length === 32 && /^[0-9a-f]{32}$/i.test(b.toString('latin1')) ? Buffer.from(b.toString('latin1'), 'hex') : b);
    const nt = fixHex(ntv) ?? (clear !== undefined ? ntPasswordHash(String(clear)) : undefined);
    const lm = fixHex(lmv) ?? (clear !== undefined ? lmPasswordHash(String(clear)) : undefined);
    return { nt: nt?.length === 16 ? nt : undefined, lm: lm?.length === 16 ? lm : undefined };
  }

  /** Which way this request is authenticated: the local password, ntlm_auth, or ntlm_auth when no password is known. */
  private method(request: Request): Method {
    if (!this.config.ntlm_auth) return 'internal';
    // control.MS-CHAP-Use-NTLM-Auth (No / Yes / Auto) overrides a configured ntlm_auth.
    const v = this.da.useNtlmAuth ? getValue(request.control, this.da.useNtlmAuth) : undefined;
    if (v === 0) return 'internal';
    if (v === 2) return 'auto';
    return 'ntlm';
  }

  /** `authenticate`: verify the MS-CHAP (v1 or v2) response, after a password change (MS-CHAP2-CPW) when there is one. */
  authenticate(request: Request, ctx: CallContext<MschapAuthEnv>): Rcode | Promise<Rcode> {
    if (this.config.winbind && !this.config.ntlm_auth) {
      // This build has no winbind (libwbclient) client, so winbind can never be contacted: the
      // outcome FreeRADIUS gives when winbindd does not answer (reject, and its message).
      ctx.log.error('winbind authentication: this server has no winbind client');
      return this.failWith(request, ctx, 'reject', 'Unable to contact winbind!');
    }
    const method = this.method(request);
    const { nt, lm } = this.passwords(request);
    const cpw = asBuffer(reqValue(request.request, this.attrs!.chap2_cpw));
    if (cpw) return this.changeThenAuthenticate(request, ctx, method, cpw, nt);
    return this.respond(request, ctx, method, nt, lm);
  }

  /** A password change (MS-CHAP2-CPW), then authentication with the response it carries. */
  private async changeThenAuthenticate(request: Request, ctx: CallContext<MschapAuthEnv>, method: Method, cpw: Buffer, nt: Buffer | undefined): Promise<Rcode> {
    const a = this.attrs!;
    if (!nt) return this.failWith(request, ctx, 'fail', 'Password.NT (or Password.Cleartext) is required for a password change request');
    const parsed = this.cpwPayload(request, cpw);
    if (typeof parsed === 'string') return this.failWith(request, ctx, 'fail', parsed);
    const changed = method === 'internal'
      ? await this.localPasswordChange(request, ctx, nt, parsed.newPw, parsed.oldHash)
      : await this.ntlmPasswordChange(request, ctx, parsed.newPw, parsed.oldHash);
    if (changed && !Buffer.isBuffer(changed)) {
      // A change that was tried and refused: MS-CHAP-Error 709 (RFC 2759 §6: error changing password).
      if (changed.rcode === 'reject') this.error(request, cpw[1], 'E=709 R=0 M=Password change failed');
      return this.failWith(request, ctx, changed.rcode, `Password change failed: ${changed.msg}`);
    }
    // Authentication continues with the challenge response the password change carries:
    // identifier, flags 0, then its peer challenge, reserved octets and NT-Response.
    const resp = Buffer.alloc(50);
    resp[0] = cpw[1];
    cpw.copy(resp, 2, 18, 66);
    const existing = reqPair(request.request, a.chap2_response);
    if (existing) existing.value = resp;
    else setValue(request.request, a.chap2_response, resp);
    return this.respond(request, ctx, method, changed ?? nt, undefined);
  }

  /** Checks the MS-CHAPv1 or v2 response, against the known NT hash or through ntlm_auth. */
  private respond(request: Request, ctx: CallContext<MschapAuthEnv>, method: Method, nt: Buffer | undefined, lm: Buffer | undefined): Rcode | Promise<Rcode> {
    const a = this.attrs!;
    const challenge = asBuffer(reqValue(request.request, a.chap_challenge));
    if (!challenge) return this.failWith(request, ctx, 'reject', 'MS-CHAP-Challenge is required for authentication');
    const v1 = asBuffer(reqValue(request.request, a.chap_response));
    const v2 = asBuffer(reqValue(request.request, a.chap2_response));
    if (!v1 && !v2) return this.failWith(request, ctx, 'reject', 'MS-CHAP-Response or MS-CHAP2-Response is required for authentication');
    const verify: Verifier = method === 'ntlm' || (method === 'auto' && !nt)
      ? () => this.ntlmAuth(request, ctx)
      : (ch, resp) => {
        if (!nt) return { code: -1, msg: 'No Password.Cleartext or Password.NT is available for MS-CHAP authentication', rcode: 'fail' };
        return crypto.timingSafeEqual(challengeResponse(ch, nt), resp) ? { code: 0, hashHash: hashNtPasswordHash(nt) } : { code: -1 };
      };
    return v1 ? this.v1(request, ctx, challenge, v1, verify, nt, lm) : this.v2(request, ctx, challenge, v2!, verify);
  }

  /** Checks MS-CHAP2-CPW and assembles the 516-octet encrypted new password from its CHAP-NT-Enc-PW chunks. */
  private cpwPayload(request: Request, cpw: Buffer): { newPw: Buffer; oldHash: Buffer } | string {
    const a = this.attrs!;
    if (cpw.length !== 68) return `MS-CHAP2-CPW has the wrong format: length ${cpw.length} != 68`;
    if (cpw[0] !== 7) return `MS-CHAP2-CPW has the wrong format: code ${cpw[0]} != 7`;
    // RFC 2548 §2.3.3: code 6, identifier, 16-bit sequence number (1 to 3), then a part of the block.
    const chunks = new Map<number, Buffer>();
    const walk = (list: readonly Pair[]): string | undefined => {
      for (const p of list) {
        if (p.children) { const e = walk(p.children); if (e) return e; continue; }
        if (p.da !== a.chap_nt_enc_pw) continue;
        const b = asBuffer(p.value as Value);
        if (!b || b.length < 4 || b[0] !== 6) return 'MS-CHAP-NT-Enc-PW has the wrong format';
        const seq = b.readUInt16BE(2);
        if (!chunks.has(seq)) chunks.set(seq, b.subarray(4));
      }
      return undefined;
    };
    const bad = walk(request.request);
    if (bad) return bad;
    const parts: Buffer[] = [];
    for (let seq = 1; seq <= 3; seq++) {
      const c = chunks.get(seq);
      if (!c) return `No MS-CHAP-NT-Enc-PW with sequence number ${seq}`;
      parts.push(c);
    }
    const newPw = Buffer.concat(parts);
    if (newPw.length !== 516) return `The MS-CHAP-NT-Enc-PW parts make ${newPw.length} octets, not 516`;
    return { newPw, oldHash: cpw.subarray(2, 18) };
  }

  /**
   * Password change through `passchange { ntlm_auth }` (Samba's ntlm-change-password-1 helper
   * protocol): the user, the domain and the hex blobs on standard input, then `Password-Change: Yes`
   * expected back. Returns undefined on success (the NT hash stays unknown), else why it failed.
   */
  private async ntlmPasswordChange(request: Request, ctx: CallContext<MschapAuthEnv>, newPw: Buffer, oldHash: Buffer): Promise<undefined | CpwFailure> {
    const env = ctx.env;
    if (!env.cpwProgram) return { rcode: 'reject', msg: 'passchange { ntlm_auth } is not configured' };
    if (!env.cpwUsername) return { rcode: 'fail', msg: 'passchange { ntlm_auth_username } is not configured' };
    let argv: string[];
    const lines: string[] = [];
    try {
      argv = await expandWords(env.cpwProgram, request, ctx.signal);
      lines.push(await env.cpwUsername.expand(request, ctx.signal));
      if (env.cpwDomain) lines.push(await env.cpwDomain.expand(request, ctx.signal));
      else ctx.log.warn('passchange: no ntlm_auth_domain, so the user name must be the full name');
    } catch (e) {
      return { rcode: 'fail', msg: `cannot expand the passchange settings: ${(e as Error).message}` };
    }
    lines.push(`new-nt-password-blob: ${newPw.toString('hex')}`, `old-nt-hash-blob: ${oldHash.toString('hex')}`,
      `new-lm-password-blob: ${'0'.repeat(1032)}`, `old-lm-hash-blob: ${'0'.repeat(32)}`, '.');
    const r = await runProgram(argv, { env: programEnv(), timeout: this.config.ntlm_auth_timeout, maxOutput: 2048, signal: ctx.signal, wait: true, input: lines.join('\n') + '\n' });
    if (r.error) return { rcode: 'reject', msg: `${argv[0]}: ${r.error}` };
    if (r.stdout.includes('Password-Change: Yes')) {
      ctx.log.debug('ntlm_auth password change succeeded');
      return undefined;
    }
    const m = /Password-Change-Error: ([^\n]*)/.exec(r.stdout);
    return { rcode: 'reject', msg: `ntlm_auth: ${m ? m[1] : 'could not find error'}` };
  }

  /**
   * Local password change (`passchange { local_cpw }`): the new password decrypted with the old
   * NT hash (RFC 2759 §8.9), checked against the old-hash value the client sent (§8.12), offered
   * as MS-CHAP-New-Cleartext-Password and MS-CHAP-New-NT-Password while `local_cpw` is expanded;
   * an empty result is a failure. Returns the new NT hash, or why it failed.
   */
  private async localPasswordChange(request: Request, ctx: CallContext<MschapAuthEnv>, oldNt: Buffer, newPw: Buffer, oldHash: Buffer): Promise<Buffer | CpwFailure> {
    const env = ctx.env;
    if (!env.localCpw) return { rcode: 'reject', msg: 'not configured (passchange { local_cpw })' };
    const clear = decryptNewPassword(newPw, oldNt);
    if (!clear) return { rcode: 'fail', msg: 'the decrypted new password has an impossible length (a wrong Password.NT?)' };
    const newNt = md4(clear.utf16);
    if (!crypto.timingSafeEqual(oldHashEncryptedWithNewHash(oldNt, newNt), oldHash)) {
      return { rcode: 'fail', msg: 'the old NT hash the client sent does not match ours' };
    }
    if (this.da.newCleartext) setValue(request.request, this.da.newCleartext, clear.password);
    if (this.da.newNt) setValue(request.request, this.da.newNt, newNt);
    let out: string;
    try {
      out = await env.localCpw.expand(request, ctx.signal);
    } catch (e) {
      return { rcode: 'reject', msg: `local_cpw: ${(e as Error).message}` };
    }
    if (!out) return { rcode: 'reject', msg: 'local_cpw gave no result' };
    ctx.log.debug('MS-CHAPv2 password change succeeded');
    return newNt;
  }

  /**
   * Runs `ntlm_auth` (expanded per request, no shell). Exit status 0 with `NT_KEY: <32 hex>` is
   * success, the key being the hash of the NT hash; otherwise the output's NT status or text picks
   * the MS-CHAP error (password expired 648, locked out 647, disabled 691, else a wrong response).
   */
  private async ntlmAuth(request: Request, ctx: CallContext<MschapAuthEnv>): Promise<VerifyResult> {
    const words = ctx.env.ntlmAuth;
    if (!words) return { code: -1, msg: 'ntlm_auth is not configured', rcode: 'fail' };
    let argv: string[];
    try {
      argv = await expandWords(words, request, ctx.signal);
    } catch (e) {
      return { code: -1, msg: `cannot expand ntlm_auth: ${(e as Error).message}`, rcode: 'fail' };
    }
    const r = await runProgram(argv, { env: programEnv(), timeout: this.config.ntlm_auth_timeout, maxOutput: 256, signal: ctx.signal, wait: true });
    if (r.error) return { code: -1, msg: `${argv[0]}: ${r.error}` };
    const out = r.stdout;
    if (r.status !== 0) {
      const has = (...texts: string[]) => texts.some((t) => out.toLowerCase().includes(t.toLowerCase()));
      if (has('0xC0000224', 'Password expired', 'Password has expired', 'Password must be changed', 'Must change password')) return { code: -648, msg: firstLine(out) };
      if (has('0xC0000234', 'Account locked out')) return { code: -647, msg: firstLine(out) };
      if (has('0xC0000072', 'Account disabled')) return { code: -691, msg: firstLine(out) };
      return { code: -1, msg: `External script says: ${firstLine(out)}` };
    }
    const m = /^NT_KEY: ([0-9a-fA-F]{32})/.exec(out);
    if (!m) return { code: -1, msg: out.startsWith('NT_KEY: ') ? 'Invalid output from ntlm_auth: NT_KEY is not 32 hex digits' : 'Invalid output from ntlm_auth: expecting an "NT_KEY: " line' };
    return { code: 0, hashHash: Buffer.from(m[1], 'hex') };
  }

  /**
   * The outcome of a failed check, as FreeRADIUS gives it: MS-CHAP-Error (`E=… R=… C=… V=2`, v2
   * also `M=…`), Module-Failure-Message and the rcode.
   */
  private rejected(request: Request, ctx: CallContext, version: 1 | 2, ident: number, r: VerifyResult): Rcode {
    if (r.rcode === 'fail') return this.failWith(request, ctx, 'fail', r.msg ?? 'authentication failed');
    const known: Record<number, [number, string, Rcode]> = {
      [-648]: [648, 'Password expired', 'reject'],
      [-691]: [691, 'Account disabled', 'notfound'],
      [-647]: [647, 'Account locked out', 'disallow'],
    };
    const [code, text, rcode] = known[r.code] ?? [691, 'Authentication rejected', 'reject'];
    const retry = known[r.code] ? 0 : 1;
    const c = crypto.randomBytes(version === 1 ? 8 : 16).toString('hex').toUpperCase();
    this.error(request, ident, version === 1 ? `E=${code} R=${retry}${known[r.code] ? ` C=${c} V=2` : ''}` : `E=${code} R=${retry} C=${c} V=3 M=${text}`);
    const name = version === 1 ? 'MS-CHAP-Response' : 'MS-CHAP2-Response';
    return this.failWith(request, ctx, rcode, r.msg ? (known[r.code] ? `${text}: ${r.msg}` : r.msg) : `${name} is incorrect`);
  }

  private v1(request: Request, ctx: CallContext, challenge: Buffer, resp: Buffer, verify: Verifier, nt?: Buffer, lm?: Buffer): Rcode | Promise<Rcode> {
    if (challenge.length !== 8) return this.failWith(request, ctx, 'invalid', 'MS-CHAP-Challenge has the wrong format');
    if (resp.length !== 50) return this.failWith(request, ctx, 'invalid', 'MS-CHAP-Response has the wrong format');
    const ident = resp[0];
    const useNt = (resp[1] & 1) === 1;
    if (useNt) {
      return andThen(verify(challenge, resp.subarray(26, 50)), (r) => (r.code !== 0 ? this.rejected(request, ctx, 1, ident, r) : this.v1Accept(request, r.hashHash, lm)));
    }
    // The LM response: only against a locally known LM hash.
    if (!lm) return this.failWith(request, ctx, 'fail', 'No Password.Cleartext or Password.LM is available for MS-CHAP authentication');
    if (!crypto.timingSafeEqual(challengeResponse(challenge, lm), resp.subarray(2, 26))) return this.rejected(request, ctx, 1, ident, { code: -1 });
    return this.v1Accept(request, nt ? hashNtPasswordHash(nt) : undefined, lm);
  }

  /** MS-CHAPv1 success: the MPPE keys. */
  private v1Accept(request: Request, hashHash: Buffer | undefined, lm: Buffer | undefined): Rcode {
    if (this.config.use_mppe && hashHash) {
      // RFC 2548 §2.4.1: the first 8 octets of the LM hash (zeros when unknown), then the NT hash's MD4.
      const keys = Buffer.alloc(24);
      if (lm) lm.copy(keys, 0, 0, 8);
      hashHash.copy(keys, 8);
      setValue(request.reply, this.attrs!.chap_mppe_keys, keys);
      this.policy(request);
    }
    return 'ok';
  }

  private v2(request: Request, ctx: CallContext, challenge: Buffer, resp: Buffer, verify: Verifier): Rcode | Promise<Rcode> {
    if (challenge.length !== 16) return this.failWith(request, ctx, 'invalid', 'MS-CHAP-Challenge has the wrong format');
    if (resp.length !== 50) return this.failWith(request, ctx, 'invalid', 'MS-CHAP2-Response has the wrong format');
    const a = this.attrs!;
    const ident = resp[0];
    const peer = resp.subarray(2, 18);
    const ntResp = resp.subarray(26, 50);
    const rawName = reqValue(request.request, a.username);
    if (rawName === undefined) return this.failWith(request, ctx, 'invalid', 'User-Name is required for MS-CHAPv2 authentication');
    const name = this.hashName(String(rawName));
    return andThen(verify(challengeHash(peer, challenge, name), ntResp), (r) => {
      if (r.code !== 0) return this.rejected(request, ctx, 2, ident, r);
      return this.v2Accept(request, ident, r.hashHash!, ntResp, peer, challenge, name);
    });
  }

  /** MS-CHAPv2 success: MS-CHAP2-Success (the authenticator response) and the MPPE keys. */
  private v2Accept(request: Request, ident: number, hh: Buffer, ntResp: Buffer, peer: Buffer, challenge: Buffer, name: string): Rcode {
    const a = this.attrs!;
    const success = authenticatorResponseFromHashHash(hh, ntResp, peer, challenge, name);
    setValue(request.reply, a.chap2_success, Buffer.concat([Buffer.from([ident]), Buffer.from(success, 'ascii')]));
    if (this.config.use_mppe) {
      const keys = mppeV2Keys(hh, ntResp);
      setValue(request.reply, a.mppe_send_key, keys.send);
      setValue(request.reply, a.mppe_recv_key, keys.recv);
      this.policy(request);
    }
    return 'ok';
  }

  /** MPPE-Encryption-Policy and -Types from `require_encryption` / `require_strong`. */
  private policy(request: Request): void {
    const a = this.attrs!;
    setValue(request.reply, a.mppe_encryption_policy, this.config.require_encryption ? 2 : 1);
    setValue(request.reply, a.mppe_encryption_types, this.config.require_strong ? 4 : 6);
  }

  /** MS-CHAP-Error: the identifier octet and the error text (RFC 2759 §6). */
  private error(request: Request, ident: number, text: string): void {
    const a = this.attrs!;
    const v = a.chap_error.type === 'octets' ? Buffer.concat([Buffer.from([ident]), Buffer.from(text, 'ascii')]) : String.fromCharCode(ident) + text;
    setValue(request.reply, a.chap_error, v as Value);
  }

  private failWith(request: Request, ctx: CallContext, rcode: Rcode, msg: string): Rcode {
    ctx.log.error(msg);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return rcode;
  }
}

