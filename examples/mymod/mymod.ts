/**
 * The `mymod` instance: greets users on Access-Accept and limits how often one user may
 * ask. It shows every part of the module contract:
 *
 * - constructor injection with explicit tokens (config, logger, instance name);
 * - `bootstrap` registers an xlat, `%<instance>.count(user)`;
 * - `instantiate` opens resources (here: a sweep timer), `detach` releases them;
 * - a synchronous method (`authorize`) and a yielding one (`greet`, when `delay` is set)
 *   that honours `ctx.signal` and listens to `dup` with `ctx.onSignal`;
 * - per-call arguments (`ctx.env.message`, expanded from `message` by the loader).
 */
// The public surface of the server (core/index.ts; package.json `exports` "."): contract types,
// tokens, pairs, and the server's own tsyringe decorators (a module outside the repo imports
// these from the installed server, `from 'tsradius'`).
import {
  inject, injectable, MODULE_CONFIG, MODULE_LOG, MODULE_NAME, Pair,
  type BootstrapContext, type CallContext, type DictAttr, type InstantiateContext, type Logger, type ModuleInstance,
  type Rcode, type Request,
} from '../../core';
import type { MymodConfig } from './config';

/** Arguments of `greet`, expanded per call from the config (see `env` in index.ts). */
export interface GreetEnv {
  readonly message: string;
}

interface Window {
  start: number;
  count: number;
}

/** The module instance. One object per `mymod` section; state is per instance. */
@injectable()
export class Mymod implements ModuleInstance {
  /** Requests seen per User-Name in the current window. */
  private readonly seen = new Map<string, Window>();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private userName!: DictAttr;
  private replyMessage!: DictAttr;

  // Constructors only store what they are given: no I/O, no timers.
  constructor(
    @inject(MODULE_CONFIG) private readonly config: MymodConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
  ) {}

  /** Registers `%<instance>.count([user])`: Access-Requests seen for that user (default: this request's User-Name) in the current window. */
  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(`${this.name}.count`, (x, args) => {
      const user = args[0]?.length ? args[0].map((b) => String(b.value)).join('') : this.user(x.request);
      return [{ type: 'uint32', value: user === undefined ? 0 : this.current(user)?.count ?? 0 }];
    }, { returnType: 'uint32', maxArgs: 1 });
  }

  /** Looks up the attributes it uses and starts the window sweeper. */
  instantiate(ctx: InstantiateContext): void {
    // The loader checked `dict` (index.ts) already, so these resolve.
    this.userName = ctx.dict.resolve('User-Name')!;
    this.replyMessage = ctx.dict.resolve('Reply-Message')!;
    if (this.config.limit > 0) {
      this.sweeper = setInterval(() => this.sweep(), this.config.window * 1000);
      this.sweeper.unref();
    }
    this.log.debug(`limit ${this.config.limit || 'none'} per ${this.config.window}s`);
  }

  /** Stops the sweeper. Safe after a partial instantiate (nothing may have been started). */
  detach(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.seen.clear();
  }

  /** `recv Access-Request`: counts the request; over the limit → `reject` with a message. */
  authorize(request: Request, ctx: CallContext): Rcode {
    const user = this.user(request);
    if (user === undefined) return 'noop';
    const now = Date.now();
    let w = this.current(user, now);
    if (!w) this.seen.set(user, (w = { start: now, count: 0 }));
    w.count++;
    if (this.config.limit > 0 && w.count > this.config.limit) {
      ctx.log.info(`"${user}" made ${w.count} requests in ${this.config.window}s; rejecting`);
      this.setReplyMessage(request, 'Too many requests, try again later');
      return 'reject';
    }
    return 'ok';
  }

  /** `send Access-Accept`: sets `reply.Reply-Message := <message>`; yields first when `delay` is set. */
  greet(request: Request, ctx: CallContext<GreetEnv>): Rcode | Promise<Rcode> {
    if (this.config.delay <= 0) {
      this.setReplyMessage(request, ctx.env.message);
      return 'updated';
    }
    // The slow path: return a Promise and the request yields until it settles.
    ctx.onSignal((s) => { if (s === 'dup') ctx.log.debug('the NAS retransmitted; still waiting'); });
    return new Promise<Rcode>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.setReplyMessage(request, ctx.env.message);
        resolve('updated');
      }, this.config.delay * 1000);
      // Cancelled (max_request_time, `timeout` block): stop waiting. The interpreter ignores the result.
      ctx.signal.addEventListener('abort', () => { clearTimeout(timer); reject(new Error('cancelled')); }, { once: true });
    });
  }

  private user(request: Request): string | undefined {
    const p = request.request.find((x) => x.da === this.userName);
    return typeof p?.value === 'string' ? p.value : undefined;
  }

  private current(user: string, now = Date.now()): Window | undefined {
    const w = this.seen.get(user);
    return w && now - w.start < this.config.window * 1000 ? w : undefined;
  }

  private setReplyMessage(request: Request, text: string): void {
    request.reply = request.reply.filter((p) => p.da !== this.replyMessage);
    request.reply.push(new Pair(this.replyMessage, text));
  }

  private sweep(): void {
    const now = Date.now();
    for (const [user, w] of this.seen) if (now - w.start >= this.config.window * 1000) this.seen.delete(user);
  }
}
