/**
 * The `rediswho` instance: FreeRADIUS rlm_rediswho, plus an index of the sessions that are online,
 * for deployments that keep sessions out of SQL.
 *
 * - `accounting` (Start, Interim-Update, Stop): FreeRADIUS's history list of the user (`LPUSH
 *   <user> "time,session-id,nas,session-time,framed-ip,in-gigawords,out-gigawords,in-octets,out-octets"`,
 *   `LTRIM <user> 0 trim_count`, `EXPIRE <user> expire_time`), and the session index (`lua.ts`):
 *   Start and Interim-Update put the session online until `expire_time` after its last update,
 *   Stop takes it offline, Accounting-On/Off take every session of the NAS offline.
 * - `session` (Simultaneous-Use, as `sql.session`): the user's online sessions against
 *   control.Simultaneous-Use lowered by Port-Limit.
 * - {@link Rediswho.online}: the online sessions of a user, a NAS, or everyone (`radiusd sessions`).
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import type { Cluster, Redis } from 'ioredis';
import { MODULE_CONFIG, MODULE_LOG, MODULE_NAME, failureMessage, printValueUnquoted } from '../../core';
import type { CallContext, DictAttr, Dictionary, EnvOf, InstantiateContext, Logger, Rcode, Request } from '../../core';
import { acctStatusType } from '../shared/ippool';
import { closeRedisClient, createRedisClient, redisOptions } from '../shared/redis';
import { SessionAttrs, type OnlineSession } from '../shared/sessions';
import type { RediswhoConfig } from './config';
import { BULK_STOP, ONLINE, STOP, UPSERT, keyPrefix, sessionKeys } from './lua';

/** Per-call arguments: whose session, on which NAS. */
export const WHO_ENV = { user: 'user_name', nas: 'nas' } as const;
type WhoEnv = EnvOf<typeof WHO_ENV>;

type Call = (...args: (string | number)[]) => Promise<unknown>;
type WhoClient = (Redis | Cluster) & { whoUpsert: Call; whoStop: Call; whoBulkStop: Call; whoOnline: Call };

/** The request attributes a session record takes (missing ones are skipped). */
const FIELDS = {
  sessionId: 'Acct-Session-Id', sessionTime: 'Acct-Session-Time', eventTime: 'Event-Timestamp',
  address: 'Framed-IP-Address', calling: 'Calling-Station-Id', portId: 'NAS-Port-Id', port: 'NAS-Port', nasIp: 'NAS-IP-Address',
  inOctets: 'Acct-Input-Octets', outOctets: 'Acct-Output-Octets', inGiga: 'Acct-Input-Gigawords', outGiga: 'Acct-Output-Gigawords',
} as const;

/** The start-time checks (validate and instantiate). */
export function checkConfig(c: RediswhoConfig): { item: string; message: string } | undefined {
  if (!c.server.length) return { item: 'server', message: 'at least one server is required' };
  if (!c.key_prefix || /[{}]/.test(c.key_prefix)) return { item: 'key_prefix', message: 'must be non-empty without { or }' };
  return undefined;
}

/** The `rediswho` module instance. */
@injectable()
export class Rediswho {
  private client?: WhoClient;
  private dict!: Dictionary;
  private das!: Record<keyof typeof FIELDS, DictAttr | undefined>;
  private sessions!: SessionAttrs;

  constructor(
    @inject(MODULE_CONFIG) private readonly config: RediswhoConfig,
    @inject(MODULE_LOG) private readonly log: Logger,
    @inject(MODULE_NAME) private readonly name: string,
  ) {}

  /** Creates the client; it connects in the background (calls wait at most `query_timeout`). */
  instantiate(ctx: InstantiateContext): void {
    const bad = checkConfig(this.config);
    if (bad) throw new Error(`${bad.item}: ${bad.message}`);
    this.dict = ctx.dict;
    this.sessions = new SessionAttrs(ctx.dict);
    this.das = Object.fromEntries(Object.entries(FIELDS).map(([k, n]) => [k, ctx.dict.resolve(n)])) as typeof this.das;
    const cl = createRedisClient(redisOptions(this.config));
    cl.defineCommand('whoUpsert', { numberOfKeys: 4, lua: UPSERT });
    cl.defineCommand('whoStop', { numberOfKeys: 4, lua: STOP });
    cl.defineCommand('whoBulkStop', { numberOfKeys: 2, lua: BULK_STOP });
    cl.defineCommand('whoOnline', { numberOfKeys: 1, lua: ONLINE });
    cl.on('ready', () => this.log.info(`connected to ${this.config.cluster ? 'the cluster at ' : ''}${this.config.server.join(', ')}`));
    this.client = cl as WhoClient;
  }

  /** Closes the connection. */
  async detach(): Promise<void> {
    const cl = this.client;
    this.client = undefined;
    await closeRedisClient(cl);
  }

  private value(request: Request, k: keyof typeof FIELDS): string | undefined {
    const da = this.das[k];
    const p = da ? request.request.find((x) => x.da === da) : undefined;
    return p?.value === undefined ? undefined : printValueUnquoted(da!, p.value);
  }

  /** A numeric attribute (a date as epoch seconds); 0 when absent. */
  private num(request: Request, k: keyof typeof FIELDS): number {
    const da = this.das[k];
    const v = da ? request.request.find((x) => x.da === da)?.value : undefined;
    const n = v instanceof Date ? Math.floor(v.getTime() / 1000) : Number(v ?? 0);
    return Number.isFinite(n) ? n : 0;
  }

  private failed(request: Request, ctx: CallContext, e: unknown): Rcode {
    const msg = (e as Error).message ?? String(e);
    ctx.log.error(`redis: ${msg}`);
    failureMessage(request, this.dict, `${this.name}: ${msg}`);
    return /timed? ?out/i.test(msg) ? 'timeout' : 'fail';
  }

  /** `accounting <Status-Type>`: Start / Interim-Update / Stop / Accounting-On / Accounting-Off. */
  async accounting(request: Request, ctx: CallContext<WhoEnv>): Promise<Rcode> {
    const cl = this.client;
    if (!cl) return 'fail';
    const status = acctStatusType(request, ctx, this.dict);
    const { user, nas } = ctx.env;
    const prefix = this.config.key_prefix;
    try {
      if (status === 'accounting-on' || status === 'accounting-off') {
        if (!nas) return 'noop';
        const n = Number(await cl.whoBulkStop(`${keyPrefix(prefix)}nas:${nas}`, `${keyPrefix(prefix)}all`, keyPrefix(prefix)));
        ctx.log.info(`${status}: ${n} session(s) of NAS ${nas} offline`);
        return 'ok';
      }
      if (status !== 'start' && status !== 'interim-update' && status !== 'stop') return 'noop';
      if (!user) {
        ctx.log.warn('no user name; doing nothing');
        return 'noop';
      }
      const uid = this.sessions.uniqueId(request);
      const num = (k: keyof typeof FIELDS) => this.num(request, k);
      const now = Math.floor(Date.now() / 1000);
      const event = num('eventTime') || now;
      // FreeRADIUS's record carries the time the server got the request (%l).
      if (this.config.history) await this.history(cl, request, user, now);
      const keys = sessionKeys(prefix, uid, user, nas);
      if (status === 'stop') {
        const n = Number(await cl.whoStop(...keys, uid));
        return n > 0 ? 'ok' : 'notfound';
      }
      const f: (string | number)[] = [
        'user', user, 'nas', nas, 'unique_id', uid, 'update', event,
        'session_time', num('sessionTime'),
        'input_octets', num('inGiga') * 2 ** 32 + num('inOctets'),
        'output_octets', num('outGiga') * 2 ** 32 + num('outOctets'),
      ];
      for (const [field, k] of [['session_id', 'sessionId'], ['address', 'address'], ['calling', 'calling'], ['port', 'portId']] as const) {
        const v = this.value(request, k) ?? (k === 'portId' ? this.value(request, 'port') : undefined);
        if (v !== undefined) f.push(field, v);
      }
      const isNew = Number(await cl.whoUpsert(...keys, uid, this.config.expire_time, event - num('sessionTime'), ...f));
      if (ctx.log.debugEnabled) ctx.log.debug(`session ${uid} of ${user} on ${nas}: ${isNew ? 'online' : 'updated'}`);
      return isNew ? 'ok' : 'updated';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /** FreeRADIUS's record: LPUSH, LTRIM, EXPIRE on the key `<user>` (one MULTI on one key). */
  private async history(cl: WhoClient, request: Request, user: string, now: number): Promise<void> {
    const v = (k: keyof typeof FIELDS, dflt = '') => this.value(request, k) ?? dflt;
    const record = [now, v('sessionId'), v('nasIp'), v('sessionTime'), v('address'), v('inGiga', '0'), v('outGiga', '0'), v('inOctets', '0'), v('outOctets', '0')].join(',');
    const r = await cl.multi().lpush(user, record).ltrim(user, 0, this.config.trim_count).expire(user, this.config.expire_time).exec();
    const err = r?.find(([e]) => e)?.[0];
    if (err) throw err;
  }

  /** `session`: Simultaneous-Use against the user's online sessions. */
  async session(request: Request, ctx: CallContext<WhoEnv>): Promise<Rcode> {
    const limit = this.sessions.limit(request);
    const cl = this.client;
    if (limit === undefined || !ctx.env.user) return 'noop';
    if (!cl) return 'fail';
    try {
      const ids = await cl.whoOnline(`${keyPrefix(this.config.key_prefix)}user:${ctx.env.user}`) as string[];
      if (ids.length < limit) {
        if (ctx.log.debugEnabled) ctx.log.debug(`${ids.length} online session(s), limit ${limit}: allowed`);
        return 'ok';
      }
      ctx.log.info(`${ids.length} online session(s) (${ids.join(', ')}), limit ${limit}: rejected (Simultaneous-Use)`);
      this.sessions.reject(request, ids.length, limit);
      return 'reject';
    } catch (e) {
      return this.failed(request, ctx, e);
    }
  }

  /** The online sessions of `user`, or of `nas`, or everyone's (both given: the user's on that NAS), oldest first. */
  async online(filter: { user?: string; nas?: string } = {}): Promise<OnlineSession[]> {
    const cl = this.client;
    if (!cl) throw new Error('not connected');
    const p = keyPrefix(this.config.key_prefix);
    const set = filter.user !== undefined ? `${p}user:${filter.user}` : filter.nas !== undefined ? `${p}nas:${filter.nas}` : `${p}all`;
    const ids = await cl.whoOnline(set) as string[];
    const hashes = await Promise.all(ids.map((id) => cl.hgetall(`${p}session:${id}`)));
    const now = Date.now() / 1000;
    return hashes
      .filter((h) => h.user !== undefined && (filter.nas === undefined || h.nas === filter.nas))
      .map((h) => ({
        user: h.user, nas: h.nas ?? '', port: h.port ?? '', sessionId: h.session_id ?? '', uniqueId: h.unique_id ?? '',
        start: Number(h.start), online: Math.max(0, Math.floor(now - Number(h.start))), address: h.address ?? '',
        callingStationId: h.calling ?? '', sessionTime: Number(h.session_time ?? 0),
        inputOctets: Number(h.input_octets ?? 0), outputOctets: Number(h.output_octets ?? 0),
      }))
      .sort((a, b) => a.start - b.start);
  }
}
