/**
 * `redis-ippool-tool` (bin/redis-ippool-tool.js): manage `redis_ippool` pools on Redis or a Redis
 * Cluster: add and remove ranges and prefixes, show a pool's leases and usage, release leases.
 * Changes go through the same atomic scripts as the module (`lua.ts`).
 */
import { expandRange, parseArgs } from '../shared/ip-range';
import { createPoolClient, parseServer, type PoolClient } from './client';
import { poolKeys, poolPrefix } from './lua';

const USAGE = `usage: redis-ippool-tool -s HOST[:PORT] [-s …] [--cluster] [--password P] [--database N] COMMAND
  add POOL RANGE [--prefix-length N] [--range NAME]
                         add addresses: 192.0.2.10-192.0.2.20, 192.0.2.0/24 (host addresses),
                         192.0.2.7, or a prefix split into /N prefixes (2001:db8::/40 --prefix-length 48)
  remove POOL RANGE      remove addresses (leased or not)
  show POOL              every address: lease state, owner, gateway, expiry; then the usage
  release POOL RANGE     end the leases of those addresses now (the owner is cleared)
The password may also come from the environment (REDIS_PASSWORD).`;

/** Runs the tool; resolves with the exit status. */
export async function redisIppoolToolMain(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv, ['help', 'h', 'cluster']);
  } catch (e) {
    err(`redis-ippool-tool: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { opts, words } = args;
  const one = (n: string) => opts.get(n)?.at(-1);
  if (opts.has('help') || opts.has('h')) {
    out(`${USAGE}\n`);
    return 0;
  }
  const servers = [...(opts.get('s') ?? []), ...(opts.get('server') ?? [])];
  if (!words.length || !servers.length) {
    err(`${USAGE}\n`);
    return 2;
  }
  let cl: PoolClient | undefined;
  try {
    cl = createPoolClient({
      servers: servers.map((s) => parseServer(s, 6379)),
      cluster: opts.has('cluster'),
      database: Number(one('database') ?? 0),
      password: one('password') ?? process.env.REDIS_PASSWORD,
      connectTimeoutMs: 5000,
      commandTimeoutMs: 10_000,
    });
    const c = cl;
    const [cmd, pool, arg] = words;
    if (!pool) throw new Error(`${cmd}: which pool?`);
    if (/[{}]/.test(pool)) throw new Error(`pool name "${pool}" may not contain { or }`);
    const [key] = poolKeys(pool);
    const pre = poolPrefix(pool);
    const list = () => {
      if (!arg) throw new Error(`${cmd}: which range?`);
      const pl = one('prefix-length');
      return expandRange(arg, pl === undefined ? undefined : Number(pl));
    };
    switch (cmd) {
      case 'add': {
        const l = list();
        let added = 0;
        for (let i = 0; i < l.length; i += 1000) added += Number(await c.ippoolAdd(key, pre, one('range') ?? arg, ...l.slice(i, i + 1000)));
        out(`added ${added} of ${l.length} address(es) to pool ${pool}\n`);
        return 0;
      }
      case 'remove': {
        const l = list();
        let removed = 0;
        for (let i = 0; i < l.length; i += 1000) removed += Number(await c.ippoolRemove(key, pre, ...l.slice(i, i + 1000)));
        out(`removed ${removed} address(es) from pool ${pool}\n`);
        return 0;
      }
      case 'release': {
        let n = 0;
        for (const a of list()) n += Number(await c.ippoolForceRelease(key, pre, a));
        out(`released ${n} address(es) in pool ${pool}\n`);
        return 0;
      }
      case 'show': {
        const [sec] = await c.time();
        const now = Number(sec);
        const members = await c.zrange(key, 0, -1, 'WITHSCORES');
        let leased = 0;
        out('address\tstate\towner\tgateway\texpiry\tallocations\n');
        for (let i = 0; i < members.length; i += 2) {
          const a = members[i];
          const exp = Number(members[i + 1]);
          const h = await c.hgetall(`${pre}:ip:${a}`);
          const live = exp > now;
          if (live) leased++;
          const when = live ? new Date(exp * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') : '-';
          out(`${a}\t${live ? 'leased' : 'free'}\t${h.device || '-'}\t${h.gateway || '-'}\t${when}\t${h.counter ?? 0}\n`);
        }
        const total = members.length / 2;
        out(`pool ${pool}: ${total} address(es), ${leased} leased, ${total - leased} free\n`);
        return total ? 0 : 1;
      }
      default:
        err(`redis-ippool-tool: unknown command "${cmd}"\n${USAGE}\n`);
        return 2;
    }
  } catch (e) {
    err(`redis-ippool-tool: ${(e as Error).message}\n`);
    return 1;
  } finally {
    if (cl) {
      await Promise.race([cl.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      cl.disconnect();
    }
  }
}
