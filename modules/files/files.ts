/**
 * The `files` instance: FreeRADIUS users-file matching.
 *
 * For each request the key (default `%{Stripped-User-Name || User-Name}`) selects the
 * entries with that exact name (case-sensitive, as FreeRADIUS does) and every `DEFAULT`
 * entry, in file order. An entry matches when all its comparison check items hold
 * against the request. A match copies its assigning check items to the control list and
 * its reply items to the reply list (with the users-file operator rules), and stops the
 * search unless the entry has `Fall-Through = yes`.
 *
 * Entries are indexed by name, so a request costs the entries for its name plus the
 * DEFAULT entries, not a scan of the file.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG, MODULE_LOG } from '../../core/module/tokens';
import type { CallContext, Rcode } from '../../core/module/api';
import type { ConfigAt, EnvOf, ValidateContext } from '../../core/module/define';
import type { Logger } from '../../core/log/logger';
import type { Pair } from '../../core/pair/pair';
import type { Request } from '../../core/request/request';
import {
  assignItem, checkItem, itemValue, parseUsersFile, type UsersEntry, type UsersFile, type UsersItem,
} from '../shared/users-file';
import type { FilesConfig } from './config';

type Values = (Pair | undefined)[];

/** Value arrays of item lists without templates, computed once. */
const staticValues = new WeakMap<readonly UsersItem[], Values>();

/** Computes the values of `items`; a Promise only when an expansion yields. */
function valuesOf(items: readonly UsersItem[], request: Request): Values | Promise<Values> {
  const hit = staticValues.get(items);
  if (hit) return hit;
  if (!items.some((i) => i.tmpl)) {
    const v = items.map((i) => i.leaf);
    staticValues.set(items, v);
    return v;
  }
  const out: Values = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = itemValue(items[i], request);
    if (v instanceof Promise) {
      return (async () => {
        out[i] = await v;
        for (let j = i + 1; j < items.length; j++) out[j] = await itemValue(items[j], request);
        return out;
      })();
    }
    out[i] = v;
  }
  return out;
}

/** `env` of both methods: the key, expanded before each call. */
export const FILES_ENV = { key: 'key' } as const;

/** Arguments of the `files` methods. */
export type FilesEnv = EnvOf<typeof FILES_ENV>;

/** The users files of a config, parsed by `validateFiles` (kept for the instance of the same config object). */
const parsed = new WeakMap<object, { users?: UsersFile; acct?: UsersFile }>();

/**
 * The definition's `validate`: reads and compiles the users files (errors located
 * `file[line]`), so that `radiusd -C` reports a bad users file as start-up would.
 */
export function validateFiles(c: FilesConfig, _at: ConfigAt, ctx: ValidateContext): void {
  const opts = { dict: ctx.dict, xlats: ctx.xlats };
  const users = c.filename ?? c.usersfile;
  const acct = c.acct_filename ?? c.acctusersfile;
  parsed.set(c, {
    users: users ? parseUsersFile(path.resolve(users), opts) : undefined,
    acct: acct ? parseUsersFile(path.resolve(acct), opts) : undefined,
  });
}

/** The `files` module instance. */
@injectable()
export class Files {
  private users?: UsersFile;
  private acct?: UsersFile;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: FilesConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
  ) {}

  /** Takes the users files `validateFiles` read. */
  instantiate(): void {
    ({ users: this.users, acct: this.acct } = parsed.get(this.config) ?? {});
    if (this.users) this.log.debug(`${this.config.filename ?? this.config.usersfile}: ${this.users.entries.length} entries`);
  }

  /** Matches the users file (`recv Access-Request` and other non-accounting sections). */
  authorize(request: Request, ctx: CallContext<FilesEnv>): Rcode | Promise<Rcode> {
    return this.users ? this.run(this.users, request, ctx) : 'noop';
  }

  /** Matches the accounting users file. */
  accounting(request: Request, ctx: CallContext<FilesEnv>): Rcode | Promise<Rcode> {
    return this.acct ? this.run(this.acct, request, ctx) : 'noop';
  }

  /** Runs the match; an expansion or value error is logged and gives `fail`. */
  private run(file: UsersFile, request: Request, ctx: CallContext<FilesEnv>): Rcode | Promise<Rcode> {
    const failed = (e: unknown): Rcode => {
      ctx.log.error(`${(e as Error).message ?? e}`);
      return 'fail';
    };
    try {
      const r = this.match(file, request, ctx);
      return typeof r === 'string' ? r : r.catch(failed);
    } catch (e) {
      return failed(e);
    }
  }

  private match(file: UsersFile, request: Request, ctx: CallContext<FilesEnv>): Rcode | Promise<Rcode> {
    const key = ctx.env.key;
    const cands = file.candidateList(key);
    if (cands.length === 0) return 'noop';
    return this.matchFrom(cands, 0, false, request, ctx, key);
  }

  /** Walks the candidate entries from `start`; switches to {@link matchAsync} when an expansion yields. */
  private matchFrom(cands: readonly UsersEntry[], start: number, found: boolean, request: Request, ctx: CallContext, key: string): Rcode | Promise<Rcode> {
    for (let i = start; i < cands.length; i++) {
      const e = cands[i];
      const cv = valuesOf(e.check, request);
      if (cv instanceof Promise) return this.matchAsync(cands, i, found, request, ctx, key, cv);
      if (!this.checks(e, request, cv)) continue;
      const av = valuesOf(e.checkAssign, request);
      const rv = valuesOf(e.reply, request);
      if (av instanceof Promise || rv instanceof Promise) return this.matchAsync(cands, i, found, request, ctx, key, cv, av, rv);
      this.apply(e, request, ctx, key, av, rv);
      found = true;
      if (!e.fallThrough) break;
    }
    return found ? 'ok' : 'noop';
  }

  private async matchAsync(
    cands: readonly UsersEntry[], i: number, found: boolean, request: Request, ctx: CallContext, key: string,
    cv: Values | Promise<Values>, av?: Values | Promise<Values>, rv?: Values | Promise<Values>,
  ): Promise<Rcode> {
    const e = cands[i];
    if (this.checks(e, request, await cv)) {
      const a = await (av ?? valuesOf(e.checkAssign, request));
      const r = await (rv ?? valuesOf(e.reply, request));
      if (ctx.signal.aborted) return 'fail';
      this.apply(e, request, ctx, key, a, r);
      found = true;
      if (!e.fallThrough) return 'ok';
    }
    return this.matchFrom(cands, i + 1, found, request, ctx, key);
  }

  private checks(e: UsersEntry, request: Request, values: Values): boolean {
    for (let i = 0; i < e.check.length; i++) {
      if (!checkItem(e.check[i], request, values[i])) return false;
    }
    return true;
  }

  private apply(e: UsersEntry, request: Request, ctx: CallContext, key: string, av: Values, rv: Values): void {
    if (ctx.log.debugEnabled) ctx.log.debug(`${e.loc.file}[${e.loc.line}]: matched entry ${e.name} for key "${key}"`);
    for (let i = 0; i < e.checkAssign.length; i++) assignItem(e.checkAssign[i], request.list(e.checkAssign[i].list), av[i]);
    for (let i = 0; i < e.reply.length; i++) assignItem(e.reply[i], request.list(e.reply[i].list), rv[i]);
  }
}
