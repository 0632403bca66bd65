/**
 * What the authenticating modules (`pap`, `chap`) share: the `recv` step "set `control.Auth-Type` to this module's value
 * unless something already set it".
 */
import type { DictAttr } from '../../core';
import type { Logger } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { Request } from '../../core';
import type { Value } from '../../core';
import { getPair, setValue } from '../../core';

/** The Auth-Type value one module instance sets, resolved from the dictionary. */
export class AuthTypeSetter {
  private constructor(
    /** The Auth-Type attribute. */
    readonly da: DictAttr,
    /** The value set. */
    readonly value: Value,
    /** The name in log messages (`PAP`, `CHAP`). */
    private readonly label: string,
  ) {}

  /**
   * The value of `da` (Auth-Type) named `configured` (the `auth_type` setting, else the
   * instance name). When the dictionary has no such value, warns and uses `fallback` (e.g. `pap`).
   */
  static resolve(da: DictAttr, configured: string, fallback: string, log: Logger): AuthTypeSetter {
    const label = fallback.toUpperCase();
    const own = da.values?.get(configured.toLowerCase());
    if (own === undefined) log.warn(`Auth-Type has no value "${configured}"; using ${label}`);
    return new AuthTypeSetter(da, (own ?? da.values?.get(fallback))!, label);
  }

  /** True (with a debug line) when `control.Auth-Type` is already set. */
  isSet(request: Request, ctx: CallContext): boolean {
    if (!getPair(request.control, this.da)) return false;
    if (ctx.log.debugEnabled) ctx.log.debug(`Auth-Type already set, not setting it to ${this.label}`);
    return true;
  }

  /** Sets `control.Auth-Type` to this module's value: `updated`. */
  set(request: Request, ctx: CallContext): Rcode {
    setValue(request.control, this.da, this.value);
    if (ctx.log.debugEnabled) ctx.log.debug(`Setting control.Auth-Type := ${this.label}`);
    return 'updated';
  }
}
