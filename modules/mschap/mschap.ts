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
import { failureMessage, findPairDeep, getPair, getValue, setValue } from '../../core';
import type { Pair } from '../../core';
import type { MschapConfig } from './config';
import {
  authenticatorResponse, challengeHash, challengeResponse, hashNtPasswordHash, lmPasswordHash, mppeV2Keys, ntPasswordHash,
} from './crypto';

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
    if (!reqPair(request.request, a.chap_response) && !reqPair(request.request, a.chap2_response)) {
      ctx.log.debug('Found MS-CHAP-Challenge, but no MS-CHAP response');
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

  /** `authenticate`: verify the MS-CHAP (v1 or v2) response. */
  authenticate(request: Request, ctx: CallContext): Rcode {
    const a = this.attrs!;
    const challenge = asBuffer(reqValue(request.request, a.chap_challenge));
    if (!challenge) return this.failWith(request, ctx, 'reject', 'MS-CHAP-Challenge is required for authentication');
    const v1 = asBuffer(reqValue(request.request, a.chap_response));
    const v2 = asBuffer(reqValue(request.request, a.chap2_response));
    if (!v1 && !v2) return this.failWith(request, ctx, 'reject', 'MS-CHAP-Response or MS-CHAP2-Response is required for authentication');
    if (this.config.winbind) {
      // This build has no winbind (libwbclient) client, so winbind can never be contacted: the
      // outcome FreeRADIUS gives when winbindd does not answer (reject, and its message).
      ctx.log.error('winbind authentication: this server has no winbind client');
      return this.failWith(request, ctx, 'reject', 'Unable to contact winbind!');
    }
    if (this.config.ntlm_auth) return this.failWith(request, ctx, 'fail', 'ntlm_auth is not supported by this server');
    if (reqPair(request.request, a.chap2_cpw)) return this.failWith(request, ctx, 'reject', 'MS-CHAPv2 password change (MS-CHAP2-CPW) is not supported');
    const { nt, lm } = this.passwords(request);
    return v2 ? this.v2(request, ctx, challenge, v2, nt) : this.v1(request, ctx, challenge, v1!, nt, lm);
  }

  private v1(request: Request, ctx: CallContext, challenge: Buffer, resp: Buffer, nt?: Buffer, lm?: Buffer): Rcode {
    if (challenge.length !== 8) return this.failWith(request, ctx, 'invalid', 'MS-CHAP-Challenge has the wrong format');
    if (resp.length !== 50) return this.failWith(request, ctx, 'invalid', 'MS-CHAP-Response has the wrong format');
    const ident = resp[0];
    const useNt = (resp[1] & 1) === 1;
    const hash = useNt ? nt : lm;
    if (!hash) return this.failWith(request, ctx, 'fail', `No Password.Cleartext or Password.${useNt ? 'NT' : 'LM'} is available for MS-CHAP authentication`);
    const got = useNt ? resp.subarray(26, 50) : resp.subarray(2, 26);
    const want = challengeResponse(challenge, hash);
    if (!crypto.timingSafeEqual(want, got)) {
      this.error(request, ident, 'E=691 R=1');
      return this.failWith(request, ctx, 'reject', 'MS-CHAP-Response is incorrect');
    }
    if (this.config.use_mppe && nt) {
      // RFC 2548 §2.4.1: the first 8 octets of the LM hash, then the NT hash's MD4.
      const keys = Buffer.alloc(24);
      if (lm) lm.copy(keys, 0, 0, 8);
      hashNtPasswordHash(nt).copy(keys, 8);
      setValue(request.reply, this.attrs!.chap_mppe_keys, keys);
      this.policy(request);
    }
    return 'ok';
  }

  private v2(request: Request, ctx: CallContext, challenge: Buffer, resp: Buffer, nt?: Buffer): Rcode {
    if (challenge.length !== 16) return this.failWith(request, ctx, 'invalid', 'MS-CHAP-Challenge has the wrong format');
    if (resp.length !== 50) return this.failWith(request, ctx, 'invalid', 'MS-CHAP2-Response has the wrong format');
    const a = this.attrs!;
    const ident = resp[0];
    const peer = resp.subarray(2, 18);
    const ntResp = resp.subarray(26, 50);
    const rawName = reqValue(request.request, a.username);
    if (rawName === undefined) return this.failWith(request, ctx, 'invalid', 'User-Name is required for MS-CHAPv2 authentication');
    if (!nt) return this.failWith(request, ctx, 'fail', 'No Password.Cleartext or Password.NT is available for MS-CHAP authentication');
    const name = this.hashName(String(rawName));
    const want = challengeResponse(challengeHash(peer, challenge, name), nt);
    if (!crypto.timingSafeEqual(want, ntResp)) {
      const c = crypto.randomBytes(16).toString('hex').toUpperCase();
      this.error(request, ident, `E=691 R=1 C=${c} V=3 M=Authentication rejected`);
      return this.failWith(request, ctx, 'reject', 'MS-CHAP2-Response is incorrect');
    }
    const success = authenticatorResponse(nt, ntResp, peer, challenge, name);
    setValue(request.reply, a.chap2_success, Buffer.concat([Buffer.from([ident]), Buffer.from(success, 'ascii')]));
    if (this.config.use_mppe) {
      const keys = mppeV2Keys(hashNtPasswordHash(nt), ntResp);
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

