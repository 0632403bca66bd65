/**
 * `redis-ippool-tool` (bin/redis-ippool-tool.js): manage `redis_ippool` pools on Redis or a Redis
 * Cluster (detected unless `--cluster` is given): add and remove ranges and prefixes, show a pool's
 * leases and usage, release leases, change range ids, assign static leases. Changes go through
 * the same atomic scripts as the module (`lua.ts`).
 *
 * Two syntaxes: ours (`-s SERVER COMMAND POOL RANGE`) and FreeRADIUS's `rlm_redis_ippool_tool`
 * (`[-a|-d|-r|-s|-m RANGE [-p LEN]]… [-A ADDR -O OWNER] [-U ADDR] SERVER[:PORT] POOL [RANGE_ID]`),
 * chosen by its options.
 */
import { expandRange, parseArgs } from '../shared/ip-range';
import { parseServer } from '../shared/redis';
import { poolHandle, type PoolClient } from './client';
import { IPPOOL_RCODE, STATIC_BIT, nowSeconds, poolKey, poolPrefix } from './lua';

const USAGE = `usage: redis-ippool-tool -s HOST[:PORT] [-s …] [--cluster] [--password P] [--database N] COMMAND
  add POOL RANGE [--prefix-length N] [--range NAME]
                         add addresses: 192.0.2.10-192.0.2.20, 192.0.2.0/24 (host addresses),
                         192.0.2.7, or a prefix split into /N prefixes (2001:db8::/40 --prefix-length 48)
  remove POOL RANGE      remove addresses (leased or not), their data and their owner's association
  show POOL              every address: lease state, owner, gateway, expiry; then the usage
  release POOL RANGE     end the leases of those addresses now (the owner's association ends)
  modify POOL RANGE NAME set the range id of those addresses
  assign POOL ADDRESS OWNER [--range NAME]   a static lease
  unassign POOL ADDRESS  end a static lease (it becomes dynamic until its expiry)
or, as FreeRADIUS's rlm_redis_ippool_tool:
  redis-ippool-tool [-a RANGE | -d RANGE | -r RANGE | -s RANGE | -m RANGE [-p LEN]]… [-A ADDR -O OWNER] [-U ADDR]
                    [-D DICTDIR] [-x] SERVER[:PORT] POOL [RANGE_ID]
The password may also come from the environment (REDIS_PASSWORD).`;

type Out = (s: string) => void;

/** The addresses of a range; the full length (/32, /128) means host addresses. */
function expand(range: string, len?: number): string[] {
  const full = range.includes(':') ? 128 : 32;
  return expandRange(range, len === undefined || len === full ? undefined : len);
}

async function batches(list: string[], f: (part: string[]) => Promise<unknown>): Promise<number> {
  let n = 0;
  for (let i = 0; i < list.length; i += 1000) n += Number(await f(list.slice(i, i + 1000)));
  return n;
}

/** Prints a pool's leases and usage; 1 when the pool is empty. */
async function show(c: PoolClient, pool: string, out: Out, only?: Set<string>): Promise<number> {
  const now = nowSeconds();
  const members = await c.zrange(poolKey(pool), 0, -1, 'WITHSCORES');
  let leased = 0;
  let total = 0;
  out('address\tstate\towner\tgateway\texpiry\tallocations\trange\n');
  for (let i = 0; i < members.length; i += 2) {
    const a = members[i];
    if (only && !only.has(a)) continue;
    total++;
    let exp = Number(members[i + 1]);
    const isStatic = exp >= STATIC_BIT;
    if (isStatic) exp -= STATIC_BIT;
    const h = await c.hgetall(`${poolPrefix(pool)}:ip:${a}`);
    const live = isStatic || exp >= now;
    if (live) leased++;
    const when = exp > 0 ? new Date(exp * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') : '-';
    out(`${a}\t${isStatic ? 'static' : live ? 'leased' : 'free'}\t${h.device || '-'}\t${h.gateway || '-'}\t${when}\t${h.counter ?? 0}\t${h.range || '-'}\n`);
  }
  out(`pool ${pool}: ${total} address(es), ${leased} leased, ${total - leased} free\n`);
  return total ? 0 : 1;
}

function checkPool(pool: string | undefined, cmd: string): string {
  if (!pool) throw new Error(`${cmd}: which pool?`);
  if (/[{}]/.test(pool)) throw new Error(`pool name "${pool}" may not contain { or }`);
  return pool;
}

/** FreeRADIUS's `rlm_redis_ippool_tool` syntax. */
async function freeradiusStyle(argv: readonly string[], out: Out, err: Out): Promise<number> {
  type Op = { op: 'a' | 'd' | 'r' | 's' | 'm'; range: string; len?: number };
  const ops: Op[] = [];
  const words: string[] = [];
  let assign: string | undefined;
  let owner: string | undefined;
  let unassign: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (/^-[adrsm]$/.test(a)) ops.push({ op: a[1] as Op['op'], range: val() });
    else if (a === '-p') {
      const last = ops.at(-1);
      if (!last) throw new Error('-p must follow a range option');
      last.len = Number(val());
    } else if (a === '-A') assign = val();
    else if (a === '-O') owner = val();
    else if (a === '-U') unassign = val();
    else if (a === '-D' || a === '-f') val(); // dictionaries (not needed) / connection config file (not supported: use SERVER)
    else if (a === '-x' || a === '-h') {
      if (a === '-h') { out(`${USAGE}\n`); return 0; }
    } else if (/^-[iILlSo]$/.test(a)) throw new Error(`${a} is not supported`);
    else words.push(a);
  }
  const [server, poolArg, rangeId] = words;
  if (!server || !poolArg) {
    err(`${USAGE}\n`);
    return 2;
  }
  const pool = checkPool(poolArg, 'pool');
  const h = poolHandle({ servers: [parseServer(server, 6379)], password: process.env.REDIS_PASSWORD, connectTimeoutMs: 5000, commandTimeoutMs: 10_000 });
  try {
    const c = await h.get();
    const key = poolKey(pool);
    const pre = poolPrefix(pool);
    let status = 0;
    for (const o of ops) {
      const list = expand(o.range, o.len);
      switch (o.op) {
        case 'a': out(`added ${await batches(list, (p) => c.ippoolAdd(key, nowSeconds(), pre, rangeId ?? '', ...p))} of ${list.length} address(es) to pool ${pool}\n`); break;
        case 'd': out(`removed ${await batches(list, (p) => c.ippoolRemove(key, nowSeconds(), pre, ...p))} address(es) from pool ${pool}\n`); break;
        case 'r': out(`released ${await batches(list, (p) => c.ippoolForceRelease(key, nowSeconds(), pre, ...p))} address(es) in pool ${pool}\n`); break;
        case 'm':
          if (rangeId === undefined) throw new Error('-m needs a RANGE_ID after the pool');
          out(`modified ${await batches(list, (p) => c.ippoolModify(key, nowSeconds(), pre, rangeId, ...p))} address(es) in pool ${pool}\n`);
          break;
        case 's': status = await show(c, pool, out, new Set(list)); break;
      }
    }
    if (assign !== undefined) {
      if (!owner) throw new Error('-A needs -O OWNER');
      const r = await c.ippoolAssign(key, nowSeconds(), pre, expand(assign)[0], owner, rangeId ?? '') as [number, string?];
      if (r[0] !== IPPOOL_RCODE.SUCCESS) throw new Error(`cannot assign ${assign} to ${owner}: held by ${r[1]}`);
      out(`assigned ${assign} to ${owner} in pool ${pool}\n`);
    }
    if (unassign !== undefined) {
      const r = await c.ippoolUnassign(key, nowSeconds(), pre, expand(unassign)[0]) as [number];
      if (r[0] !== IPPOOL_RCODE.SUCCESS) throw new Error(`${unassign} is not a static lease in pool ${pool}`);
      out(`unassigned ${unassign} in pool ${pool}\n`);
    }
    return status;
  } finally {
    await h.close();
  }
}

/** Runs the tool; resolves with the exit status. */
export async function redisIppoolToolMain(argv: readonly string[], out: Out = (s) => process.stdout.write(s), err: Out = (s) => process.stderr.write(s)): Promise<number> {
  // FreeRADIUS's syntax: its range options, or `-s RANGE` followed by SERVER POOL.
  if (argv.some((a) => /^-[adrmAOUDpx]$/.test(a))) {
    try {
      return await freeradiusStyle(argv, out, err);
    } catch (e) {
      err(`redis-ippool-tool: ${(e as Error).message}\n`);
      return 1;
    }
  }
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
  const h = poolHandle({
    servers: servers.map((s) => parseServer(s, 6379)),
    cluster: opts.has('cluster') ? true : undefined,
    database: Number(one('database') ?? 0),
    password: one('password') ?? process.env.REDIS_PASSWORD,
    connectTimeoutMs: 5000,
    commandTimeoutMs: 10_000,
  });
  try {
    const [cmd, poolArg, arg, arg2] = words;
    const pool = checkPool(poolArg, cmd);
    const key = poolKey(pool);
    const pre = poolPrefix(pool);
    const list = () => {
      if (!arg) throw new Error(`${cmd}: which range?`);
      const pl = one('prefix-length');
      return expandRange(arg, pl === undefined ? undefined : Number(pl));
    };
    const known = ['add', 'remove', 'release', 'show', 'modify', 'assign', 'unassign'];
    if (!known.includes(cmd)) {
      err(`redis-ippool-tool: unknown command "${cmd}"\n${USAGE}\n`);
      return 2;
    }
    const c = await h.get();
    switch (cmd) {
      case 'add': {
        const l = list();
        out(`added ${await batches(l, (p) => c.ippoolAdd(key, nowSeconds(), pre, one('range') ?? arg, ...p))} of ${l.length} address(es) to pool ${pool}\n`);
        return 0;
      }
      case 'remove':
        out(`removed ${await batches(list(), (p) => c.ippoolRemove(key, nowSeconds(), pre, ...p))} address(es) from pool ${pool}\n`);
        return 0;
      case 'release':
        out(`released ${await batches(list(), (p) => c.ippoolForceRelease(key, nowSeconds(), pre, ...p))} address(es) in pool ${pool}\n`);
        return 0;
      case 'modify':
        if (!arg2) throw new Error('modify: which range id?');
        out(`modified ${await batches(list(), (p) => c.ippoolModify(key, nowSeconds(), pre, arg2, ...p))} address(es) in pool ${pool}\n`);
        return 0;
      case 'assign': {
        if (!arg || !arg2) throw new Error('assign: ADDRESS OWNER');
        const r = await c.ippoolAssign(key, nowSeconds(), pre, expand(arg)[0], arg2, one('range') ?? '') as [number, string?];
        if (r[0] !== IPPOOL_RCODE.SUCCESS) throw new Error(`cannot assign ${arg} to ${arg2}: held by ${r[1]}`);
        out(`assigned ${arg} to ${arg2} in pool ${pool}\n`);
        return 0;
      }
      case 'unassign': {
        if (!arg) throw new Error('unassign: which address?');
        const r = await c.ippoolUnassign(key, nowSeconds(), pre, expand(arg)[0]) as [number];
        if (r[0] !== IPPOOL_RCODE.SUCCESS) throw new Error(`${arg} is not a static lease in pool ${pool}`);
        out(`unassigned ${arg} in pool ${pool}\n`);
        return 0;
      }
      default:
        return await show(c, pool, out);
    }
  } catch (e) {
    err(`redis-ippool-tool: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await h.close();
  }
}
