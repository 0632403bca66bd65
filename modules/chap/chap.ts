/**
 * The `chap` instance.
 *
 * `recv` (authorize): a request with CHAP-Password and no Auth-Type yet gets
 * `control.Auth-Type := CHAP`.
 *
 * `authenticate`: CHAP-Password is one identifier octet followed by the 16-octet
 * response, which must equal MD5(id || cleartext password || challenge) (RFC 1994
 * §4.1, RFC 2865 §2.2). The challenge is CHAP-Challenge when present, otherwise the
 * Request Authenticator of the packet.
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG, MODULE_DICT, MODULE_LOG, MODULE_NAME } from '../../core';
import type { CallContext, Rcode } from '../../core';
import { defineDict, type BootstrapContext, type DictHandles, type InstantiateContext } from '../../core';
import { box, boxAsText } from '../../core';
import type { Logger } from '../../core';
import type { DictAttr } from '../../core';
import type { Dictionary } from '../../core';
import type { Request } from '../../core';
import type { Value } from '../../core';
import { AuthTypeSetter } from '../shared/auth-type';
import { failureMessage, getPair, getValue } from '../../core';
import type { ChapConfig } from './config';

const asBuffer = (v: Value | undefined): Buffer | undefined =>
  v === undefined ? undefined : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');

/** The attributes `chap` uses (the definition's `dict`; injected resolved as `MODULE_DICT`). */
export const CHAP_DICT = defineDict({
  chapPassword: 'CHAP-Password',
  chapChallenge: 'CHAP-Challenge',
  authType: 'Auth-Type',
  cleartext: 'Password.Cleartext',
  failureMessage: 'Module-Failure-Message',
  vector: { attr: 'Packet-Authentication-Vector', optional: true },
  authenticator: { attr: 'Packet.Authenticator', optional: true },
});

/** The `chap` module instance. */
@injectable()
export class Chap {
  private dict?: Dictionary;
  private readonly vector: DictAttr[];
  private authType?: AuthTypeSetter;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: ChapConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(MODULE_DICT) private readonly da: DictHandles<typeof CHAP_DICT>,
  ) {
    this.vector = [da.vector, da.authenticator].filter((x): x is DictAttr => x !== undefined);
  }

  /**
   * Registers `%<instance>.password(cleartext)`: a CHAP-Password for that password (a random
   * identifier, then MD5(id || password || challenge)), the challenge being the request's
   * CHAP-Challenge or else its Request Authenticator. For building test requests and for
   * proxying to a CHAP-only home server.
   */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(`${this.name}.password`, (c, args) => {
      const password = Buffer.from((args[0] ?? []).map(boxAsText).join(''), 'utf8');
      const challenge = asBuffer(getValue(c.request.request, this.da.chapChallenge)) ?? this.authenticator(c.request);
      if (!challenge) throw new Error(`${this.name}.password: no CHAP-Challenge and no Request Authenticator`);
      const id = crypto.randomBytes(1);
      const response = crypto.createHash('md5').update(id).update(password).update(challenge).digest();
      return [box('octets', Buffer.concat([id, response]))];
    }, { returnType: 'octets', minArgs: 1, maxArgs: 1 });
  }

  /** Resolves the Auth-Type value. */
  instantiate(ctx: InstantiateContext): void {
    this.dict = ctx.dict;
    this.authType = AuthTypeSetter.resolve(this.da.authType, this.config.auth_type ?? this.name, 'chap', this.log);
  }

  /** `recv`: set Auth-Type CHAP when the request carries CHAP-Password. */
  authorize(request: Request, ctx: CallContext): Rcode {
    if (!getPair(request.request, this.da.chapPassword)) return 'noop';
    if (this.authType!.isSet(request, ctx)) return 'noop';
    return this.authType!.set(request, ctx);
  }

  /**
   * The Request Authenticator: `request.authenticator` (set by the process layer), else the
   * `Packet-Authentication-Vector` / `Packet.Authenticator` pair of the request list.
   */
  private authenticator(request: Request): Buffer | undefined {
    const direct = request.authenticator;
    if (direct) return direct;
    for (const da of this.vector) {
      const v = asBuffer(getValue(request.request, da));
      if (v) return v;
    }
    return undefined;
  }

  /** `authenticate`: verify the CHAP response. */
  authenticate(request: Request, ctx: CallContext): Rcode {
    const da = this.da;
    const cp = asBuffer(getValue(request.request, da.chapPassword));
    if (!cp) return this.failWith(request, ctx, 'invalid', 'No CHAP-Password attribute in the request');
    if (cp.length !== 17) return this.failWith(request, ctx, 'invalid', `CHAP-Password has invalid length ${cp.length}, expected 17`);
    const clear = getValue(request.control, da.cleartext);
    if (clear === undefined) return this.failWith(request, ctx, 'fail', 'Password.Cleartext is required for CHAP authentication');
    const challenge = asBuffer(getValue(request.request, da.chapChallenge)) ?? this.authenticator(request);
    if (!challenge) return this.failWith(request, ctx, 'fail', 'No CHAP-Challenge and no Request Authenticator available');
    const expect = crypto.createHash('md5').update(cp.subarray(0, 1)).update(asBuffer(clear)!).update(challenge).digest();
    if (crypto.timingSafeEqual(expect, cp.subarray(1))) return 'ok';
    return this.failWith(request, ctx, 'reject', 'CHAP-Password does not match the "known good" password');
  }

  private failWith(request: Request, ctx: CallContext, rcode: Rcode, msg: string): Rcode {
    ctx.log.error(msg);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return rcode;
  }
}
