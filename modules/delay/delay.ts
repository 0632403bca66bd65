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
import { MODULE_CONFIG, MODULE_NAME, XLATS } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { InstantiateContext } from '../../core';
import { parseDuration } from '../../core';
import type { Request } from '../../core';
import type { XlatRegistry } from '../../core';
import { compileTemplate, type Template } from '../../core';
import type { DelayConfig } from './config';

/** The `delay` module instance. */
@injectable()
export class Delay {
  private amount?: Template;
  private fixed?: number;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: DelayConfig,
    @inject(MODULE_NAME) private readonly name: string,
    @inject(XLATS) private readonly xlats?: XlatRegistry,
  ) {}

  /** Compiles the delay; a constant must be a valid time delta. */
  instantiate(ctx: InstantiateContext): void {
    this.amount = compileTemplate(this.config.delay, { dict: ctx.dict, xlats: this.xlats });
    if (this.amount.constant !== undefined) {
      const s = parseDuration(this.amount.constant);
      if (s === undefined) throw new Error(`${this.name}: invalid delay "${this.amount.constant}"`);
      this.fixed = s;
    }
  }

  /** Waits, then returns `ok`; `noop` when no waiting is needed; `fail` on a bad expanded value. */
  delay(request: Request, ctx: CallContext): Rcode | Promise<Rcode> {
    if (this.fixed !== undefined) return this.wait(request, ctx, this.fixed);
    const text = this.amount!.expand(request, ctx.signal);
    if (typeof text !== 'string') return text.then((t) => this.waitText(request, ctx, t));
    return this.waitText(request, ctx, text);
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
