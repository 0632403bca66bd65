/**
 * The `delay` instance: the request yields on a timer and resumes with `ok`.
 *
 * With `relative = no` (the default) the delay counts from when the request was received,
 * so `delay = 1` in `send Access-Reject` makes every reject leave about one second after its
 * request arrived, however long processing took. When that moment has already passed the
 * call returns `noop` at once (or yields for one turn of the event loop with
 * `force_reschedule = yes`). Cancelling the request (`ctx.signal`, `cancel` signal) clears
 * the timer.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { BootstrapContext, ConfigAt, EnvOf, InstantiateContext, ValidateContext } from '../../core';
import { MODULE_NAME, box } from '../../core';
import { parseDuration } from '../../core';
import type { Request } from '../../core';
import type { DelayConfig } from './config';

/** `env` of the `delay` method: the amount, expanded before each call (constant: no per-call work). */
export const DELAY_ENV = { amount: 'delay' } as const;

/** Arguments of {@link Delay.delay}. */
export type DelayEnv = EnvOf<typeof DELAY_ENV>;

/** The definition's `validate`: a constant delay must be a time delta. */
export function validateDelay(_c: DelayConfig, at: ConfigAt, ctx: ValidateContext): void {
  const t = ctx.env.delay?.amount;
  if (t && 'isConstant' in t && t.isConstant && parseDuration(t.constant!) === undefined) at('delay', `invalid delay "${t.constant}"`);
}

/** The `delay` module instance. */
@injectable()
export class Delay {
  private fixed?: number;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: DelayConfig,
    @inject(MODULE_NAME) private readonly name: string = 'delay',
  ) {}

  /**
   * `%<instance>(<time>)` (FreeRADIUS rlm_delay's xlat): waits that long from now (at most
   * `max_delay`); the value is the time waited (time_delta).
   */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(this.name, async (x, args) => {
      const text = (args[0] ?? []).map((b) => String(b.value)).join('');
      let s = parseDuration(text);
      if (s === undefined || s < 0) throw new Error(`${this.name}: invalid delay "${text}"`);
      s = Math.min(s, this.config.max_delay);
      const start = Date.now();
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { clearTimeout(timer); reject(new Error(`${this.name}: cancelled`)); };
        const timer = setTimeout(() => { x.signal?.removeEventListener('abort', onAbort); resolve(); }, s! * 1000);
        x.signal?.addEventListener('abort', onAbort, { once: true });
      });
      return [box('time_delta', (Date.now() - start) / 1000)];
    }, { minArgs: 1, maxArgs: 1, returnType: 'time_delta' });
  }

  /** Parses a constant delay once (`validateDelay` checked it). */
  instantiate(ctx: InstantiateContext): void {
    const t = ctx.env.delay?.amount;
    if (t && 'isConstant' in t && t.isConstant) this.fixed = parseDuration(t.constant!);
  }

  /** Waits, then returns `ok`; `noop` when no waiting is needed; `fail` on a bad expanded value. */
  delay(request: Request, ctx: CallContext<DelayEnv>): Rcode | Promise<Rcode> {
    if (this.fixed !== undefined) return this.wait(request, ctx, this.fixed);
    return this.waitText(request, ctx, ctx.env.amount);
  }

  private waitText(request: Request, ctx: CallContext, text: string): Rcode | Promise<Rcode> {
    const s = parseDuration(text);
    if (s === undefined) {
      ctx.log.error(`invalid delay "${text}"`);
      return 'fail';
    }
    return this.wait(request, ctx, s);
  }

  private wait(request: Request, ctx: CallContext, seconds: number): Rcode | Promise<Rcode> {
    if (seconds > this.config.max_delay) {
      ctx.log.warn(`delay ${seconds}s clamped to ${this.config.max_delay}s`);
      seconds = this.config.max_delay;
    }
    const start = this.config.relative ? Date.now() : request.received * 1000;
    const ms = Math.max(0, start + seconds * 1000 - Date.now());
    if (ms <= 0 && !this.config.force_reschedule) return 'noop';
    if (ctx.signal.aborted) return 'fail';
    if (ctx.log.debugEnabled) ctx.log.debug(`delaying ${ms.toFixed(0)}ms`);
    return new Promise<Rcode>((resolve) => {
      const done = (rc: Rcode): void => {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(rc);
      };
      const onAbort = (): void => done('fail');
      const timer = setTimeout(() => done('ok'), ms);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      ctx.onSignal((s) => { if (s === 'cancel') done('fail'); });
    });
  }
}
