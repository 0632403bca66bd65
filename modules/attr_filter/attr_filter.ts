/**
 * The `attr_filter` instance.
 *
 * The rules file uses the users-file layout; an entry's items are rules about attributes:
 *
 * ```
 * DEFAULT
 * 	Reply-Message =* ANY,
 * 	Session-Timeout <= 28800,
 * 	Framed-IP-Address == 192.0.2.10,
 * 	Class := "filtered",
 * 	Fall-Through = yes
 * ```
 *
 * For the entries whose name is the key (default `%{Realm}`) and every `DEFAULT` entry,
 * in file order until one without `Fall-Through = yes`: an attribute of the filtered list
 * is kept when, in some applied entry, at least one rule names it and every rule naming it
 * holds (`=*` always holds, `!*` never). Attributes no rule names are removed, unless
 * `Relax-Filter = yes` is in the entry (or `relaxed = yes`). `:=` rules add or replace an
 * attribute. The server's internal attributes are never removed.
 */
import 'reflect-metadata';
import * as path from 'node:path';
import { inject, injectable } from 'tsyringe';
import { MODULE_CONFIG, MODULE_LOG } from '../../core';
import type { CallContext, Rcode } from '../../core';
import type { ConfigAt, EnvOf, ValidateContext } from '../../core';
import type { Logger } from '../../core';
import type { LeafType } from '../../core';
import type { Pair } from '../../core';
import { forEachLeaf } from '../../core';
import type { Request } from '../../core';
import { compareOp, type CompareOperator } from '../../core';
import { assignItem, itemRegex, itemValue, parseUsersFile, valueText, type UsersEntry, type UsersFile, type UsersItem } from '../shared/users-file';
import type { AttrFilterConfig } from './config';

/** Does `leaf` satisfy `rule` (whose value for this request is `value`)? */
function holds(rule: UsersItem, leaf: Pair, value: Pair | undefined): boolean {
  switch (rule.op) {
    case '=*': return true;
    case '!*': return false;
    case '=~': case '!~': {
      const re = itemRegex(rule, value);
      if (!re) return false;
      return re.test(valueText(leaf)) === (rule.op === '=~');
    }
    default: {
      if (leaf.value === undefined || value?.value === undefined) return false;
      const op = (rule.op === '=' ? '==' : rule.op) as CompareOperator;
      try {
        return compareOp(op, leaf.value, leaf.da.type as LeafType, value.value, rule.valueType ?? (value.da.type as LeafType));
      } catch {
        return false;
      }
    }
  }
}

/** One entry's rules, split for the filter. */
interface Rules {
  readonly entry: UsersEntry;
  readonly rules: readonly UsersItem[];
  readonly fallThrough: boolean;
  readonly relax: boolean;
}

const isYes = (p: Pair | undefined): boolean => p?.value === true || (typeof p?.value === 'string' && /^(yes|true|1)$/i.test(p.value));

/** `env` of both methods: the key, expanded before each call. */
export const ATTR_FILTER_ENV = { key: 'key' } as const;

/** Arguments of the `attr_filter` methods. */
export type AttrFilterEnv = EnvOf<typeof ATTR_FILTER_ENV>;

/** Rules files parsed by `validateAttrFilter`, for the instance of the same config object. */
const parsed = new WeakMap<object, UsersFile>();

/**
 * The definition's `validate`: reads and compiles the rules file (errors located
 * `file[line]`), so that `radiusd -C` reports a bad file as start-up would.
 */
export function validateAttrFilter(c: AttrFilterConfig, _at: ConfigAt, ctx: ValidateContext): void {
  parsed.set(c, parseUsersFile(path.resolve(c.filename), { dict: ctx.dict, xlats: ctx.xlats, filterRules: true }));
}

/** The `attr_filter` module instance. */
@injectable()
export class AttrFilter {
  private file?: UsersFile;
  private readonly rules = new Map<UsersEntry, Rules>();

  constructor(
    @inject(MODULE_CONFIG) private readonly config: AttrFilterConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
  ) {}

  /** Splits the rules of the file `validateAttrFilter` read. */
  instantiate(): void {
    this.file = parsed.get(this.config)!;
    for (const e of this.file.entries) {
      const all = [...e.check, ...e.checkAssign, ...e.reply];
      let fall = false;
      let relax = this.config.relaxed;
      const rules: UsersItem[] = [];
      for (const r of all) {
        if (r.da.name === 'Fall-Through') fall = isYes(r.leaf);
        else if (r.da.name === 'Relax-Filter') relax = relax || isYes(r.leaf);
        else rules.push(r);
      }
      this.rules.set(e, { entry: e, rules, fallThrough: fall, relax });
    }
    this.log.debug(`${this.config.filename}: ${this.file.entries.length} entries`);
  }

  /** Filters the request list. */
  filterRequest(request: Request, ctx: CallContext<AttrFilterEnv>): Rcode | Promise<Rcode> {
    return this.run(request, request.request, ctx);
  }

  /** Filters the reply list. */
  filterReply(request: Request, ctx: CallContext<AttrFilterEnv>): Rcode | Promise<Rcode> {
    return this.run(request, request.reply, ctx);
  }

  private run(request: Request, list: Pair[], ctx: CallContext<AttrFilterEnv>): Rcode | Promise<Rcode> {
    return this.filter(request, list, ctx, ctx.env.key);
  }

  private async valuesAsync(rules: readonly UsersItem[], request: Request): Promise<(Pair | undefined)[]> {
    const out: (Pair | undefined)[] = [];
    for (const r of rules) out.push(await itemValue(r, request));
    return out;
  }

  private filter(request: Request, list: Pair[], ctx: CallContext, key: string): Rcode | Promise<Rcode> {
    const applied: Rules[] = [];
    for (const e of this.file!.candidates(key)) {
      const r = this.rules.get(e)!;
      applied.push(r);
      if (!r.fallThrough) break;
    }
    if (applied.length === 0) return 'noop';
    const values: (Pair | undefined)[][] = [];
    for (let i = 0; i < applied.length; i++) {
      const vs: (Pair | undefined)[] = [];
      for (const rule of applied[i].rules) {
        const v = itemValue(rule, request);
        if (v instanceof Promise) {
          // An expansion yielded: compute the rest asynchronously, then filter.
          return (async () => {
            const all = [...values];
            for (let j = i; j < applied.length; j++) all.push(await this.valuesAsync(applied[j].rules, request));
            return this.apply(list, ctx, key, applied, all);
          })().catch((err) => {
            ctx.log.error(`${(err as Error).message}`);
            return 'fail' as Rcode;
          });
        }
        vs.push(v);
      }
      values.push(vs);
    }
    return this.apply(list, ctx, key, applied, values);
  }

  private apply(list: Pair[], ctx: CallContext, key: string, applied: Rules[], values: (Pair | undefined)[][]): Rcode {
    const keep = new Set<Pair>();
    forEachLeaf(list, (leaf, parents) => {
      const top = parents[0]?.da ?? leaf.da;
      if (top.flags.internal) {
        keep.add(leaf);
        return;
      }
      for (let i = 0; i < applied.length; i++) {
        let pass = 0;
        let fail = 0;
        const rules = applied[i].rules;
        for (let j = 0; j < rules.length; j++) {
          const rule = rules[j];
          if (rule.da !== leaf.da || rule.op === ':=' || rule.op === '+=') continue;
          if (holds(rule, leaf, values[i][j])) pass++;
          else fail++;
        }
        if (fail === 0 && (pass > 0 || applied[i].relax)) {
          keep.add(leaf);
          return;
        }
      }
      if (ctx.log.debugEnabled) ctx.log.debug(`removing ${leaf.da.name} (key "${key}")`);
    });
    prune(list, keep);
    for (let i = 0; i < applied.length; i++) {
      const rules = applied[i].rules;
      for (let j = 0; j < rules.length; j++) {
        if (rules[j].op === ':=' || rules[j].op === '+=') assignItem(rules[j], list, values[i][j]);
      }
    }
    return 'updated';
  }
}

/** Removes leaves not in `keep`, and structural pairs left empty by that. */
function prune(list: Pair[], keep: Set<Pair>): void {
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    const p = list[r];
    if (p.children) {
      const before = p.children.length;
      prune(p.children, keep);
      if (before > 0 && p.children.length === 0) continue;
      list[w++] = p;
    } else if (keep.has(p)) {
      list[w++] = p;
    }
  }
  list.length = w;
}
