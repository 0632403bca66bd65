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
import type { CallContext } from '../../core/unlang/module-call';
import type { Rcode } from '../../core/request/rcode';
import {
  defineDict, defineModule, type BootstrapContext, type CompiledTemplate, type ConfigAt, type DepHandles, type DictHandles,
  type EnvOf, type InstantiateContext, type ModuleInstance,
} from '../../core/module/define';
import { MODULE_CONFIG, MODULE_DEPS, MODULE_DICT, MODULE_LOG, MODULE_NAME } from '../../core/module/tokens';

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

// ───────────── contract v2 fixtures: validate, dict handles, deps, env forms, slow instantiate ─────────────

/** Config of `checked`: `mode = b` needs `peer` (a cross-item rule only `validate` can check). */
export const CheckedConfig = conf.section({
  mode: conf.enum(['a', 'b'] as const, { default: 'a' }),
  peer: conf.string(),
  sub: conf.subsection({ n: conf.integer({ default: 1 }) }),
});

/** The attributes `checked` uses: one required, one optional that no dictionary has. */
export const CHECKED_DICT = defineDict({ user: 'User-Name', reply: 'Reply-Message', missing: { attr: 'No-Such-Attribute-Here', optional: true } });

/** Keeps its injected dictionary handles. */
@injectable()
export class Checked implements ModuleInstance {
  constructor(@inject(MODULE_DICT) readonly da: DictHandles<typeof CHECKED_DICT>) {}
  detach(): void { events.push('detach checked'); }
  call(): Rcode { return 'ok'; }
}

/** A module with `validate` (mode b needs peer; sub.n ≤ 5) and typed `dict` handles. */
export const checked = defineModule({
  name: 'checked',
  kind: 'rlm',
  config: CheckedConfig,
  validate(c, at: ConfigAt) {
    if (c.mode === 'b' && !c.peer) at('mode', 'mode = b needs a peer');
    if (c.sub.n > 5) at('sub.n', `at most 5, got ${c.sub.n}`);
  },
  dict: CHECKED_DICT,
  impl: Checked,
  methods: { '* *': 'call' },
});

/** `user` depends on a recorder instance named by its `store` item (default: the instance `recorder`). */
export const USER_DEPS = { store: { module: recorder, item: 'store' } } as const;

/** Uses its recorder dependency: `call` counts on the recorder. */
@injectable()
export class User implements ModuleInstance {
  constructor(
    @inject(MODULE_DEPS) readonly deps: DepHandles<typeof USER_DEPS>,
    @inject(MODULE_NAME) readonly name: string,
  ) {}
  instantiate(): void { events.push(`instantiate ${this.name} (store ${this.deps.store.name})`); }
  call(): Rcode { this.deps.store.count++; return 'ok'; }
}

/** A module with a typed dependency. */
export const user = defineModule({
  name: 'user',
  kind: 'rlm',
  config: conf.section({ store: conf.string() }),
  deps: USER_DEPS,
  impl: User,
  methods: { '* *': 'call' },
});

/** `chain` depends on another `chain` instance named by `next`, so that tests can build cycles. */
@injectable()
export class Chain implements ModuleInstance {
  constructor(@inject(MODULE_DEPS) readonly deps: Record<string, ModuleInstance>) {}
  detach(): void { events.push('detach chain'); }
  call(): Rcode { return 'ok'; }
}

/** A module depending on its own kind. */
export const chain = defineModule({
  name: 'chain',
  kind: 'rlm',
  config: conf.section({ next: conf.string() }),
  deps: { next: { module: 'chain', item: 'next' } },
  impl: Chain,
  methods: { '* *': 'call' },
});

/** Config of `env_forms`. */
export const EnvFormsConfig = conf.section({
  file: conf.tmpl({ default: '/x/%{User-Name}-%Y' }),
  line: conf.tmpl({ default: 'line %{User-Name}' }),
  unset: conf.tmpl(),
  ref: conf.tmpl(),
  argv: conf.tmpl(),
  lines: conf.raw(),
  other: conf.raw(),
}, { allowUnknown: true });

/** Every `env` form: a value with strftime and escape, a template, attribute references, split words, a section of templates. */
export const ENV_FORMS = {
  file: { item: 'file', strftime: true, escape: (s: string) => s.replace(/\//g, '_') },
  line: { item: 'line', as: 'template' },
  unset: 'unset',
  ref: { item: 'ref', attrRef: true, escape: (s: string) => s.replace(/\//g, '_') },
  argv: { item: 'argv', split: (t: string) => { if (t.includes('"')) throw new Error('no quotes here'); return t.split(' '); } },
  lines: { sections: '*', except: ['other'], attrRef: true },
} as const;

/** Records each call's `ctx.env`; keeps the compiled env it got in instantiate. */
@injectable()
export class EnvForms implements ModuleInstance {
  readonly seen: EnvOf<typeof ENV_FORMS>[] = [];
  compiled?: InstantiateContext['env'];
  instantiate(ctx: InstantiateContext): void { this.compiled = ctx.env; }
  call(_req: unknown, ctx: CallContext<EnvOf<typeof ENV_FORMS>>): Rcode { this.seen.push(ctx.env); return 'ok'; }
}

/** A module using every `env` form. */
export const envForms = defineModule({
  name: 'env_forms',
  kind: 'rlm',
  config: EnvFormsConfig,
  impl: EnvForms,
  methods: { '* *': 'call' },
  env: { call: ENV_FORMS },
});

/** Pending `slow` instantiations by instance name: resolve or reject them to finish `instantiate`. */
export const slowGate = new Map<string, { release(): void; fail(e: Error): void; signal: AbortSignal }>();

/** Its `instantiate` waits for the test (as a module waiting on a back-end that is down would). */
@injectable()
export class Slow implements ModuleInstance {
  constructor(@inject(MODULE_NAME) readonly name: string) {}
  instantiate(ctx: InstantiateContext): Promise<void> {
    return new Promise<void>((release, fail) => { slowGate.set(this.name, { release, fail, signal: ctx.signal }); });
  }
  call(): Rcode { return 'ok'; }
}

/** A module whose instantiate hangs until the test releases it through {@link slowGate}. */
export const slow = defineModule({
  name: 'slow',
  kind: 'rlm',
  config: conf.section({}),
  impl: Slow,
  methods: { '* *': 'call' },
});

/** The compiled template type, re-exported for tests. */
export type { CompiledTemplate };
