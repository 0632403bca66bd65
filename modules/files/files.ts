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
import { MODULE_CONFIG, MODULE_LOG } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { ConfigAt, EnvOf, ValidateContext } from '../../core';
import type { Logger } from '../../core';
import type { Pair } from '../../core';
import type { ListName, Request } from '../../core';
import type { DictAttr } from '../../core';
import { isIP } from 'node:net';
import { ipv4ToInt, ipv6ToBytes } from '../../core';
import { parseValue } from '../../core';
import { copyPair, setValue } from '../../core';
import { bareAttrRef } from '../../core';
import {
  assignItem, checkItem, itemValue, parseUsersFile, type UsersEntry, type UsersFile, type UsersItem,
} from '../shared/users-file';
import type { FilesConfig } from './config';

type Values = (Pair | undefined)[];

/** Progress of one lookup: whether anything matched, and the last entry applied. */
interface MatchState {
  found: boolean;
  last?: UsersEntry;
}

const IP_TYPES = new Set(['ipv4addr', 'ipv4prefix', 'ipv6addr', 'ipv6prefix', 'combo-ip', 'combo-prefix']);

/** An address or prefix as (family, bits, length); undefined when the text is neither. */
function ipBits(text: string): { v6: boolean; bits: bigint; len: number } | undefined {
  const [addr, l] = text.split('/');
  const v = isIP(addr);
  if (!v) return undefined;
  const width = v === 6 ? 128 : 32;
  const len = l === undefined ? width : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > width) return undefined;
  let bits = 0n;
  if (v === 4) bits = BigInt(ipv4ToInt(addr));
  else for (const b of ipv6ToBytes(addr) ?? []) bits = (bits << 8n) | BigInt(b);
  return { v6: v === 6, bits, len };
}

/** Entry names that are prefixes containing the key address/prefix, longest first. */
function ipPrefixNames(file: UsersFile, key: string): string[] {
  const k = ipBits(key);
  if (!k) return [];
  const width = k.v6 ? 128 : 32;
  const out: { name: string; len: number }[] = [];
  for (const name of file.byName.keys()) {
    const p = ipBits(name);
    if (!p || p.v6 !== k.v6 || p.len > k.len) continue;
    const shift = BigInt(width - p.len);
    if ((p.bits >> shift) === (k.bits >> shift)) out.push({ name, len: p.len });
  }
  return out.sort((a, b) => b.len - a.len).map((x) => x.name);
}

/** The lists a users-file entry writes to, restored when a later entry fails. */
const UNDO_LISTS: readonly ListName[] = ['request', 'reply', 'control', 'session-state'];

/** True when some assigned value of the file is expanded per request (and so may fail at run time). */
function hasDynamicValues(file: UsersFile): boolean {
  return file.entries.some((e) => e.reply.some((i) => i.tmpl) || e.checkAssign.some((i) => i.tmpl));
}

/** Value arrays of item lists without templates, computed once. */
const staticValues = new WeakMap<readonly UsersItem[], Values>();

const NO_VALUES: Values = [];

/** Computes the values of `items`; a Promise only when an expansion yields. */
function valuesOf(items: readonly UsersItem[], request: Request): Values | Promise<Values> {
  if (items.length === 0) return NO_VALUES;
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

/**
 * `env` of both methods: the key, expanded before each call. An unquoted attribute name is a
 * reference to it, as in v4 (`key = NAS-Port-Type`).
 */
export const FILES_ENV = { key: { item: 'key', attrRef: true } } as const;

/** Arguments of the `files` methods. */
export type FilesEnv = EnvOf<typeof FILES_ENV>;

/** What `validateFiles` prepared from a config, for the instance of the same config object. */
interface Prepared {
  users?: UsersFile;
  acct?: UsersFile;
  /** How entry names are compared with the key. */
  mode: 'exact' | 'ip' | 'prefix';
  /** Where the name of the matched entry is written (`match_attr`). */
  matchAttr?: { list: ListName; da: DictAttr };
}

const prepared = new WeakMap<object, Prepared>();

/**
 * The definition's `validate`: reads and compiles the users files (errors located
 * `file[line]`) and resolves `match_attr`, so that `radiusd -C` reports them as start-up would.
 * The lookup is by IP prefix when the key is a reference to an address or prefix attribute.
 */
export function validateFiles(c: FilesConfig, at: ConfigAt, ctx: ValidateContext): void {
  const opts = { dict: ctx.dict, xlats: ctx.xlats };
  // The loader compiled an unquoted attribute name as a reference (`attrRef`): then its text differs.
  const keyTmpl = ctx.env.authorize?.key as { text: string } | undefined;
  const keyAttr = keyTmpl && keyTmpl.text !== c.key ? bareAttrRef(c.key, ctx.dict) : undefined;
  const p: Prepared = { mode: keyAttr && IP_TYPES.has(keyAttr.type) ? 'ip' : c.lookup_type === 'trie' ? 'prefix' : 'exact' };
  if (c.match_attr) {
    const m = /^(?:(request|reply|control|session-state)\.)?([A-Za-z][\w.-]*)$/.exec(c.match_attr.replace(/^&/, ''));
    const da = m ? ctx.dict.resolve(m[2]) : undefined;
    if (!m || !da) at('match_attr', `"${c.match_attr}" is not an attribute`);
    p.matchAttr = { list: (m[1] ?? 'control') as ListName, da };
  }
  const users = c.filename ?? c.usersfile;
  const acct = c.acct_filename ?? c.acctusersfile;
  if (users) p.users = parseUsersFile(path.resolve(users), opts);
  if (acct) p.acct = parseUsersFile(path.resolve(acct), opts);
  prepared.set(c, p);
}

/** Logs why a match failed and restores the lists `saved` (when the file can fail part-way). */
function failed(e: unknown, request: Request, ctx: CallContext, saved: Pair[][] | undefined): Rcode {
  ctx.log.error(`${(e as Error).message ?? e}`);
  if (saved) UNDO_LISTS.forEach((l, i) => request.setList(l, saved[i]));
  return 'fail';
}

/** The `files` module instance. */
@injectable()
export class Files {
  private users?: UsersFile;
  private acct?: UsersFile;
  /** How entry names are compared with the key. */
  private mode: Prepared['mode'] = 'exact';
  /** Where the name of the matched entry is written (`match_attr`). */
  private matchAttr?: Prepared['matchAttr'];
  /** Whether each file's values are expanded per request (see {@link hasDynamicValues}), known at instantiate. */
  private usersDynamic = false;
  private acctDynamic = false;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: FilesConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
  ) {}

  /** Takes what `validateFiles` read and resolved. */
  instantiate(): void {
    const p = prepared.get(this.config);
    if (!p) return;
    ({ users: this.users, acct: this.acct, mode: this.mode, matchAttr: this.matchAttr } = p);
    this.usersDynamic = !!this.users && hasDynamicValues(this.users);
    this.acctDynamic = !!this.acct && hasDynamicValues(this.acct);
    if (this.users) this.log.debug(`${this.config.filename ?? this.config.usersfile}: ${this.users.entries.length} entries`);
  }

  /** Matches the users file (`recv Access-Request` and other non-accounting sections). */
  authorize(request: Request, ctx: CallContext<FilesEnv>): Rcode | Promise<Rcode> {
    return this.users ? this.run(this.users, this.usersDynamic, request, ctx) : 'noop';
  }

  /** Matches the accounting users file. */
  accounting(request: Request, ctx: CallContext<FilesEnv>): Rcode | Promise<Rcode> {
    return this.acct ? this.run(this.acct, this.acctDynamic, request, ctx) : 'noop';
  }

  /**
   * Runs the match; an expansion or value error is logged and gives `fail`. A failure undoes
   * what entries matched before it in this call had written (FreeRADIUS edits the lists in a
   * transaction): only files whose values are expanded per request can fail part-way, so only
   * those pay for the copy of the lists.
   */
  private run(file: UsersFile, dynamic: boolean, request: Request, ctx: CallContext<FilesEnv>): Rcode | Promise<Rcode> {
    const saved = dynamic ? UNDO_LISTS.map((l) => request.list(l).map(copyPair)) : undefined;
    try {
      const r = this.lookup(file, ctx.env.key, request, ctx);
      return typeof r === 'string' ? r : r.catch((e: unknown) => failed(e, request, ctx, saved));
    } catch (e) {
      return failed(e, request, ctx, saved);
    }
  }

  /**
   * Exact keys: the entries named `key` merged with DEFAULT. Prefix keys (an IP-prefix key
   * attribute, or `lookup_type = trie` for strings): the entries of the longest entry name
   * containing the key, merged with DEFAULT; when the last entry applied there says
   * `Next-Shortest-Prefix = yes`, the entries of the next shorter name follow.
   */
  private lookup(file: UsersFile, key: string, request: Request, ctx: CallContext): Rcode | Promise<Rcode> {
    const st: MatchState = { found: false };
    if (this.mode === 'exact') {
      const cands = file.candidateList(key);
      if (cands.length === 0) return 'noop';
      return this.matchFrom(cands, 0, st, request, ctx, key);
    }
    const names = this.mode === 'ip' ? ipPrefixNames(file, key) : file.prefixNames(key);
    const step = (n: number): Rcode | Promise<Rcode> => {
      if (n >= names.length) return st.found ? 'ok' : 'noop';
      const cands = n === 0 ? file.candidateList(names[0]) : file.byName.get(names[n]) ?? [];
      st.last = undefined;
      const r = this.matchFrom(cands, 0, st, request, ctx, names[n]);
      const next = (rc: Rcode): Rcode | Promise<Rcode> => {
        if (rc === 'fail') return rc;
        return st.last?.nextShortest && st.last.name === names[n] ? step(n + 1) : (st.found ? 'ok' : 'noop');
      };
      return typeof r === 'string' ? next(r) : r.then(next);
    };
    if (names.length === 0) {
      const cands = file.defaults;
      return cands.length ? this.matchFrom(cands, 0, st, request, ctx, key) : 'noop';
    }
    return step(0);
  }

  /** Walks the candidate entries from `start`; switches to {@link matchAsync} when an expansion yields. */
  private matchFrom(cands: readonly UsersEntry[], start: number, st: MatchState, request: Request, ctx: CallContext, key: string): Rcode | Promise<Rcode> {
    for (let i = start; i < cands.length; i++) {
      const e = cands[i];
      const cv = valuesOf(e.check, request);
      if (cv instanceof Promise) return this.matchAsync(cands, i, st, request, ctx, key, cv);
      if (!this.checks(e, request, cv)) continue;
      const av = valuesOf(e.checkAssign, request);
      const rv = valuesOf(e.reply, request);
      if (av instanceof Promise || rv instanceof Promise) return this.matchAsync(cands, i, st, request, ctx, key, cv, av, rv);
      this.apply(e, request, ctx, key, av, rv);
      st.found = true;
      st.last = e;
      if (!e.fallThrough) break;
    }
    return st.found ? 'ok' : 'noop';
  }

  private async matchAsync(
    cands: readonly UsersEntry[], i: number, st: MatchState, request: Request, ctx: CallContext, key: string,
    cv: Values | Promise<Values>, av?: Values | Promise<Values>, rv?: Values | Promise<Values>,
  ): Promise<Rcode> {
    const e = cands[i];
    if (this.checks(e, request, await cv)) {
      const a = await (av ?? valuesOf(e.checkAssign, request));
      const r = await (rv ?? valuesOf(e.reply, request));
      if (ctx.signal.aborted) return 'fail';
      this.apply(e, request, ctx, key, a, r);
      st.found = true;
      st.last = e;
      if (!e.fallThrough) return 'ok';
    }
    return this.matchFrom(cands, i + 1, st, request, ctx, key);
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
    if (this.matchAttr && !e.isDefault) {
      const { list, da } = this.matchAttr;
      try {
        setValue(request.list(list), da, parseValue(da.type as never, e.name, da));
      } catch (err) {
        ctx.log.warn(`match_attr: "${e.name}" is not a valid ${da.type}: ${(err as Error).message}`);
      }
    }
  }
}
