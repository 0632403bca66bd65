/**
 * The `redis` instance: FreeRADIUS v4 rlm_redis. It holds a connection to one Redis server or a
 * Redis Cluster (modules/shared/redis.ts, detected when `cluster` is not set) and offers:
 *
 * - `%redis(<command>, <arg>…)`: runs one command; each argument is one command word (no
 *   splitting). In a cluster the command goes to the node owning its first key (ioredis follows
 *   MOVED/ASK). A first argument `@<host>:<port>` sends it to that node instead, and
 *   `-@<host>:<port>` too, after `READONLY` (reads from a replica). The reply: nil → no value;
 *   an integer → int64; a string or status → string; an array → one value per element (a nil
 *   element is an empty string, so positions are kept for `map list`); an error reply fails.
 * - `%redis.node(<key>[, <index>])`: `host:port` of the node for the key's slot; index 0 (the
 *   default) is the master, 1… its replicas; no value when there is no such node.
 * - `%redis.remap([<host>:<port>])`: reloads the cluster's slot map; `success` or `failed`.
 * - `%redis.<function>(<number of keys>, <key>…, <arg>…)` per `lua { function <name> { body } }`.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { Cluster, Redis } from 'ioredis';
import { MODULE_CONFIG, MODULE_LOG, MODULE_NAME, box } from '../../core';
import type { BootstrapContext, Box, ConfigAt, ConfItem, Logger } from '../../core';
import { RedisHandle, keySlot, parseServer, redisOptions } from '../shared/redis';
import type { RedisConfig } from './config';

/** One `lua { function <name> { … } }`. */
export interface LuaFunction {
  readonly name: string;
  readonly body: string;
  readonly readOnly: boolean;
}

/** Un-escapes a double-quoted configuration string (`\` + newline continues the line). */
function unescape(s: string): string {
  return s.replace(/\\(\r?\n|.)/g, (_m, c: string) => (c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c.startsWith('\n') || c.startsWith('\r') ? '\n' : c));
}

/** The Lua functions of a `lua { }` section (validated: a name, a body). */
export function luaFunctions(items: readonly ConfItem[], at?: ConfigAt): LuaFunction[] {
  const out: LuaFunction[] = [];
  for (const lua of items) {
    if (lua.kind !== 'section') {
      at?.item(lua, 'lua', 'expected a section "lua { function <name> { body = … } }"');
      continue;
    }
    for (const f of lua.children) {
      if (f.kind !== 'section' || f.name1 !== 'function' || !f.name2) {
        at?.item(f, 'lua', 'expected "function <name> { body = … }"');
        continue;
      }
      const body = f.children.find((c) => c.kind === 'pair' && c.attr === 'body');
      if (!body || body.kind !== 'pair' || !body.value) {
        at?.item(f, 'lua', `function ${f.name2} has no body`);
        continue;
      }
      const ro = f.children.find((c) => c.kind === 'pair' && c.attr === 'read_only');
      out.push({
        name: f.name2,
        body: body.quote === 'double' ? unescape(body.value) : body.value,
        readOnly: ro?.kind === 'pair' && /^(yes|true|1)$/i.test(ro.value ?? ''),
      });
    }
  }
  return out;
}

type Reply = string | number | Buffer | null | Reply[];

/** A reply as values (see the file comment). */
export function replyBoxes(r: Reply, top = true): Box[] {
  if (r === null || r === undefined) return top ? [] : [box('string', '')];
  if (typeof r === 'number') return [box('int64', BigInt(r))];
  if (Buffer.isBuffer(r)) return [box('string', r.toString('utf8'))];
  if (Array.isArray(r)) return r.flatMap((e) => replyBoxes(e, false));
  return [box('string', String(r))];
}

const text = (a: Box[] | undefined) => (a ?? []).map((b) => (b.value instanceof Uint8Array ? Buffer.from(b.value).toString('utf8') : String(b.value))).join('');

/** The `redis` module instance. */
@injectable()
export class RedisModule {
  private handle?: RedisHandle;
  /** Direct connections for `@host:port` (read-write) and `-@host:port` (READONLY). */
  private readonly direct = new Map<string, Redis>();
  private functions: LuaFunction[] = [];

  constructor(
    @inject(MODULE_CONFIG) private readonly config: RedisConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
  ) {}

  bootstrap(ctx: BootstrapContext): void {
    this.functions = luaFunctions(this.config.lua);
    ctx.registerXlat(this.name, (x, args) => this.command(args.map(text)), { minArgs: 1 });
    ctx.registerXlat(`${this.name}.node`, (_x, args) => this.node(text(args[0]), args[1]?.length ? Number(text(args[1])) : 0), { minArgs: 1, maxArgs: 2, returnType: 'string' });
    ctx.registerXlat(`${this.name}.remap`, (_x, args) => this.remap(args[0]?.length ? text(args[0]) : undefined), { maxArgs: 1, returnType: 'string' });
    for (const f of this.functions) {
      ctx.registerXlat(`${this.name}.${f.name}`, (_x, args) => this.lua(f, args.map(text)), { minArgs: 1 });
    }
  }

  instantiate(): void {
    const o = redisOptions({ ...this.config, cluster: false });
    const fns = this.functions;
    this.handle = new RedisHandle({ ...o, cluster: this.config.cluster }, (c) => {
      for (const f of fns) c.defineCommand(`lua_${f.name}`, { lua: f.body });
      c.on('ready', () => this.log.info(`connected to ${c instanceof Cluster ? 'the cluster at ' : ''}${this.config.server.join(', ')}`));
      return c;
    });
  }

  async detach(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    for (const c of this.direct.values()) c.disconnect();
    this.direct.clear();
    await h?.close();
  }

  private client(): Promise<Redis | Cluster> {
    if (!this.handle) return Promise.reject(new Error('redis: not instantiated'));
    return this.handle.get();
  }

  /** A direct connection to one node (`host:port`), READONLY when `readOnly`. */
  private async nodeConn(addr: string, readOnly: boolean): Promise<Redis> {
    const key = `${readOnly ? '-' : ''}${addr}`;
    let c = this.direct.get(key);
    if (c && c.status === 'end') { this.direct.delete(key); c = undefined; }
    if (!c) {
      const { host, port } = parseServer(addr, this.config.port);
      c = new Redis({
        host, port, username: this.config.username || undefined, password: this.config.password || undefined,
        connectTimeout: this.config.connect_timeout * 1000, commandTimeout: this.config.query_timeout * 1000,
        maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true,
      });
      c.on('error', () => undefined);
      this.direct.set(key, c);
      await c.connect();
      if (readOnly) await c.call('READONLY');
    }
    return c;
  }

  /** `%redis(…)`. */
  private async command(words: string[]): Promise<Box[]> {
    let target: string | undefined;
    let readOnly = false;
    if (words[0]?.startsWith('@') || words[0]?.startsWith('-@')) {
      readOnly = words[0].startsWith('-');
      target = words[0].slice(readOnly ? 2 : 1);
      words = words.slice(1);
      if (!target) throw new Error('redis: "@" needs <host>:<port>');
    }
    if (!words.length) throw new Error('redis: no command');
    const [cmd, ...args] = words;
    const c = target ? await this.nodeConn(target, readOnly) : await this.client();
    return replyBoxes(await c.call(cmd, ...args) as Reply);
  }

  /** `%redis.node(key, index)`. */
  private async node(key: string, index: number): Promise<Box[]> {
    const c = await this.client();
    if (!(c instanceof Cluster)) {
      const o = (c as Redis).options;
      return index === 0 ? [box('string', `${o.host}:${o.port}`)] : [];
    }
    if (!c.slots.length || !c.slots.some(Boolean)) await this.refresh(c);
    const nodes = c.slots[keySlot(key)] ?? [];
    const n = nodes[index];
    return n ? [box('string', n)] : [];
  }

  private refresh(c: Cluster): Promise<void> {
    return new Promise((resolve, reject) => c.refreshSlotsCache((err) => (err ? reject(err) : resolve())));
  }

  /** `%redis.remap([node])`: reloads the slot map (from that node when given). */
  private async remap(addr?: string): Promise<Box[]> {
    try {
      const c = await this.client();
      if (!(c instanceof Cluster)) return [box('string', 'success')];
      if (addr) {
        // Ask that node first: the map it gives is the one loaded.
        const n = await this.nodeConn(addr, false);
        await n.call('CLUSTER', 'SLOTS');
      }
      await this.refresh(c);
      return [box('string', 'success')];
    } catch (e) {
      this.log.warn(`remap failed: ${(e as Error).message}`);
      return [box('string', 'failed')];
    }
  }

  /** `%redis.<function>(numkeys, keys…, args…)`. */
  private async lua(f: LuaFunction, args: string[]): Promise<Box[]> {
    const n = Number(args[0]);
    if (!Number.isInteger(n) || n < 0 || n > args.length - 1) throw new Error(`redis.${f.name}: the first argument must be the number of keys (0..${args.length - 1})`);
    const c = await this.client() as unknown as Record<string, (...a: (string | number)[]) => Promise<Reply>>;
    return replyBoxes(await c[`lua_${f.name}`](n, ...args.slice(1)));
  }
}
