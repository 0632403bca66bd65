/**
 * The `exec` instance: runs an external program, without a shell.
 *
 * - As an expansion, `%<instance>(program, arg…)`: every argument is one word of the command line;
 *   the result is the program's standard output with trailing newlines removed. A program that
 *   exits non-zero, is killed by the timeout or cannot be started makes the expansion fail. With
 *   `wait = no` the program is started and the expansion returns nothing at once.
 * - As a section call: `program` is split into words (quotes keep a word together), each word
 *   expanded per request. `input_pairs` become environment variables, `output_pairs` receives the
 *   `Attr = value` lines the program prints, and the exit status picks the rcode: 0 ok, 1 reject,
 *   2 fail, 3 ok, 4 handled, 5 invalid, 6 disallow, 7 notfound, 8 noop, 9 updated, other fail.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { CallContext, Rcode } from '../../core';
import type { BootstrapContext, EnvOf } from '../../core';
import { MODULE_CONFIG, MODULE_NAME } from '../../core';
import type { Dictionary } from '../../core';
import { parsePairList } from '../../core';
import type { Pair } from '../../core';
import type { Request } from '../../core';
import { printValueUnquoted } from '../../core';
import { box, boxAsText, BoxError } from '../../core';
import type { ExecConfig } from './config';
import { runProgram, splitCommand, type ExecResult } from '../../core';

export { runProgram, splitCommand, type ExecResult };

/** Exit status → rcode (index = status). */
const STATUS_RCODES: readonly Rcode[] = ['ok', 'reject', 'fail', 'ok', 'handled', 'invalid', 'disallow', 'notfound', 'noop', 'updated'];

/** Environment variable name of an attribute: upper case, every non-alphanumeric character `_`. */
export function envName(attr: string): string {
  return attr.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The attributes of a list as environment variables (structural pairs by their leaves). */
export function pairsToEnv(list: readonly Pair[], out: Record<string, string> = {}): Record<string, string> {
  for (const p of list) {
    if (p.children) { pairsToEnv(p.children, out); continue; }
    if (p.value === undefined) continue;
    const name = envName(p.da.fullName ?? p.da.name);
    const v = printValueUnquoted(p.da, p.value);
    out[name] = out[name] === undefined ? v : `${out[name]},${v}`;
  }
  return out;
}

/**
 * `env` of `call`: `program` split into words ({@link splitCommand}; an unterminated quote is a
 * located config error), each word expanded per request.
 */
export const EXEC_ENV = { program: { item: 'program', split: splitCommand } } as const;

/** Arguments of {@link Exec.call}. */
export type ExecEnv = EnvOf<typeof EXEC_ENV>;

/** A module instance that runs external programs. */
@injectable()
export class Exec {
  private dict?: Dictionary;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: ExecConfig,
    @inject(MODULE_NAME) private readonly name: string,
  ) {}

  private env(request: Request | undefined): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = this.config.env_inherit ? { ...process.env } : {};
    if (request && this.config.input_pairs) pairsToEnv(request.list(this.config.input_pairs), env as Record<string, string>);
    return env;
  }

  private run(argv: string[], request: Request | undefined, signal?: AbortSignal): Promise<ExecResult> {
    return runProgram(argv, { env: this.env(request), timeout: this.config.timeout, maxOutput: this.config.max_output, signal, wait: this.config.wait });
  }

  /** Registers `%<instance>(program, arg…)`. */
  bootstrap(ctx: BootstrapContext): void {
    this.dict = ctx.dict;
    ctx.registerXlat(this.name, async (c, args) => {
      const argv = args.map((a) => a.map(boxAsText).join(''));
      const r = await this.run(argv, c.request, c.signal);
      if (r.error) throw new BoxError(`${this.name}: ${argv[0] ?? ''}: ${r.error}`);
      if (r.status !== 0) throw new BoxError(`${this.name}: program returned code (${r.status})`);
      if (!this.config.wait) return [];
      return [box('string', r.stdout.replace(/[\r\n]+$/, ''))];
    }, { returnType: 'string', minArgs: 1 });
  }

  /** Every section: run `program`; the exit status is the rcode. */
  async call(request: Request, ctx: CallContext<ExecEnv>): Promise<Rcode> {
    const argv = ctx.env.program;
    if (!argv) {
      ctx.log.error(`${this.name}: no program configured`);
      return 'fail';
    }
    const r = await this.run([...argv], request, ctx.signal);
    if (r.error) {
      ctx.log.error(`${this.name}: ${argv[0]}: ${r.error}`);
      return 'fail';
    }
    if (!this.config.wait) return 'noop';
    if (this.config.output_pairs && r.stdout.trim()) {
      const dict = this.dict ?? request.dict;
      let pairs: Pair[];
      try {
        pairs = parsePairList(r.stdout.replace(/\n+/g, ',').replace(/^,+|,+$/g, ''), dict!);
      } catch (e) {
        ctx.log.error(`${this.name}: cannot read the program's output as attributes: ${(e as Error).message}`);
        return 'fail';
      }
      request.list(this.config.output_pairs).push(...pairs);
    }
    return STATUS_RCODES[r.status ?? -1] ?? 'fail';
  }
}
