/**
 * Test fixtures of the module system: a `recorder` module that logs its lifecycle into an
 * event list and can be told to fail in any hook. Used by the loader tests and available to
 * other tests that need a module (decorated classes must live in files the TypeScript config
 * includes, so vitest's transform applies `experimentalDecorators`; test files are excluded).
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { conf } from '../../core/config/schema';
import type { Logger } from '../../core/log/logger';
import type { CallContext, Rcode } from '../../core/module/api';
import { defineModule, type BootstrapContext, type ModuleInstance } from '../../core/module/define';
import { MODULE_CONFIG, MODULE_LOG, MODULE_NAME } from '../../core/module/tokens';

/** Lifecycle events of every recorder instance, in order (`bootstrap a`, `detach b` …); clear it between tests. */
export const recorderEvents: string[] = [];
const events = recorderEvents;

/** Config of the recorder module. */
export const RecorderConfig = conf.section({
  greeting: conf.string({ default: 'hi' }),
  fail: conf.enum(['none', 'bootstrap', 'instantiate', 'detach'] as const, { default: 'none' }),
  list: conf.list(conf.string()),
  sub: conf.subsection({ n: conf.integer({ default: 1 }) }),
});
/** Parsed recorder config. */
export type RecorderConfig = conf.Infer<typeof RecorderConfig>;

/** The recorder implementation. */
@injectable()
export class Recorder implements ModuleInstance {
  count = 0;
  constructor(
    @inject(MODULE_CONFIG) readonly config: RecorderConfig,
    @inject(MODULE_NAME) readonly name: string,
    @inject(MODULE_LOG) readonly log: Logger,
  ) {}

  bootstrap(ctx: BootstrapContext): void {
    events.push(`bootstrap ${this.name}`);
    if (this.config.fail === 'bootstrap') throw new Error('bootstrap boom');
    ctx.registerXlat(`${this.name}.greeting`, () => [{ type: 'string', value: this.config.greeting }]);
  }

  async instantiate(): Promise<void> {
    await new Promise((r) => setTimeout(r, 1));
    events.push(`instantiate ${this.name}`);
    if (this.config.fail === 'instantiate') throw new Error('instantiate boom');
  }

  detach(): void {
    events.push(`detach ${this.name}`);
    if (this.config.fail === 'detach') throw new Error('detach boom');
  }

  authorize(_req: unknown, _ctx: CallContext): Rcode { this.count++; return 'ok'; }
  auth(): Rcode { return 'handled'; }
  acctStart(): Rcode { return 'updated'; }
  any(): Rcode { return 'noop'; }
  async later(): Promise<Rcode> { return 'ok'; }
}

/** A module that records its lifecycle; `fail = bootstrap|instantiate|detach` makes that hook throw. */
export const recorder = defineModule({
  name: 'recorder',
  kind: 'rlm',
  config: RecorderConfig,
  dict: ['User-Name', 'Password.Cleartext'],
  impl: Recorder,
  methods: {
    'recv Access-Request': 'authorize',
    'authenticate *': 'auth',
    'accounting Start': 'acctStart',
    '* *': 'any',
  },
});

/** A module whose `dict` needs an attribute no dictionary defines. */
export const needsMissing = defineModule({
  name: 'needy',
  kind: 'rlm',
  config: conf.section({}),
  dict: ['User-Name', 'No-Such-Attribute-Here'],
  impl: Recorder,
  methods: {},
});


/** Config of the env_echo module: two templates and a number. */
export const EnvEchoConfig = conf.section({
  msg: conf.tmpl({ default: 'Hello, %{User-Name}' }),
  fixed: conf.tmpl({ default: 'constant' }),
  num: conf.integer({ default: 1 }),
});

/** Records the `ctx.env` of every call; registers `%<name>.slow()`, an xlat that yields. */
@injectable()
export class EnvEcho implements ModuleInstance {
  /** Every `ctx.env` seen, in call order. */
  readonly seen: unknown[] = [];
  constructor(@inject(MODULE_NAME) private readonly name: string) {}

  bootstrap(ctx: BootstrapContext): void {
    ctx.registerXlat(`${this.name}.slow`, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return [{ type: 'string', value: 'later' }];
    }, { returnType: 'string' });
  }

  echo(_req: unknown, ctx: CallContext<Record<string, string>>): Rcode {
    this.seen.push(ctx.env);
    return 'ok';
  }
}

/** A module whose `echo` method gets `msg` and `fixed` expanded per call (`env`). */
export const envEcho = defineModule({
  name: 'env_echo',
  kind: 'rlm',
  config: EnvEchoConfig,
  impl: EnvEcho,
  methods: { '* *': 'echo' },
  env: { echo: { msg: 'msg', fixed: 'fixed' } },
});

/** Like {@link envEcho}, but `env` names a non-string item (a definition error). */
export const envBad = defineModule({
  name: 'env_bad',
  kind: 'rlm',
  config: EnvEchoConfig,
  impl: EnvEcho,
  methods: { '* *': 'echo' },
  env: { echo: { n: 'num' } },
});
