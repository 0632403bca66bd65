/**
 * The server-side scripts of `redis_ippool`. Every key of a pool carries the hash tag `{name}`,
 * so a pool lives in one hash slot and each script runs atomically on one node, standalone or in
 * a cluster:
 *
 * - `{name}:pool`: sorted set, member = address (or prefix) text, score = lease expiry (Unix
 *   seconds; 0 for a new address). Free means score ≤ now.
 * - `{name}:ip:<address>`: hash `device` (owner), `gateway`, `range`, `counter`.
 * - `{name}:device:<owner>`: the owner's last address (kept a day past its lease), so a device
 *   gets the same address again while it is free.
 *
 * "Now" is the Redis server's clock (`TIME`), so every allocator agrees on it.
 * KEYS[1] is the pool set, KEYS[2] the owner's device key; ARGV[1] is the key prefix `{name}`.
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1])`;

/** ARGV: prefix, lease, owner, gateway, requested. → {0, address} | {1} exhausted | {2} no such pool. */
export const ALLOCATE = `${NOW}
local pre, lease, owner, gw, req = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local pool = KEYS[1]
local ip
if owner ~= '' then
  local prev = redis.call('GET', KEYS[2])
  if prev then
    local score = redis.call('ZSCORE', pool, prev)
    if score and (tonumber(score) <= now or redis.call('HGET', pre .. ':ip:' .. prev, 'device') == owner) then ip = prev end
  end
end
if not ip and req ~= '' then
  local score = redis.call('ZSCORE', pool, req)
  if score and (tonumber(score) <= now or redis.call('HGET', pre .. ':ip:' .. req, 'device') == owner) then ip = req end
end
if not ip then
  ip = redis.call('ZRANGEBYSCORE', pool, '-inf', now, 'LIMIT', 0, 1)[1]
end
if not ip then
  if redis.call('EXISTS', pool) == 1 then return {1} end
  return {2}
end
local ipkey = pre .. ':ip:' .. ip
local old = redis.call('HGET', ipkey, 'device')
if old and old ~= '' and old ~= owner and redis.call('GET', pre .. ':device:' .. old) == ip then
  redis.call('DEL', pre .. ':device:' .. old)
end
redis.call('ZADD', pool, 'XX', now + lease, ip)
redis.call('HSET', ipkey, 'device', owner, 'gateway', gw)
redis.call('HINCRBY', ipkey, 'counter', 1)
if owner ~= '' then redis.call('SET', KEYS[2], ip, 'EX', lease + 86400) end
return {0, ip}`;

/** ARGV: prefix, lease, owner, gateway, address. → 1 renewed | 0 not this owner's lease. */
export const UPDATE = `${NOW}
local pre, lease, owner, gw, ip = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local ipkey = pre .. ':ip:' .. ip
if not redis.call('ZSCORE', KEYS[1], ip) or redis.call('HGET', ipkey, 'device') ~= owner then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + lease, ip)
redis.call('HSET', ipkey, 'gateway', gw)
if owner ~= '' then redis.call('SET', KEYS[2], ip, 'EX', lease + 86400) end
return 1`;

/** ARGV: prefix, owner, address. → 1 freed | 0 not a live lease of this owner. The owner is kept. */
export const RELEASE = `${NOW}
local pre, owner, ip = ARGV[1], ARGV[2], ARGV[3]
local ipkey = pre .. ':ip:' .. ip
local score = redis.call('ZSCORE', KEYS[1], ip)
if not score or tonumber(score) <= now or redis.call('HGET', ipkey, 'device') ~= owner then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now, ip)
redis.call('HSET', ipkey, 'gateway', '')
return 1`;

/** ARGV: prefix, gateway. → how many live leases of the gateway were freed. */
export const BULK_RELEASE = `${NOW}
local pre, gw = ARGV[1], ARGV[2]
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
local n = 0
for _, ip in ipairs(live) do
  local ipkey = pre .. ':ip:' .. ip
  if redis.call('HGET', ipkey, 'gateway') == gw then
    redis.call('ZADD', KEYS[1], 'XX', now, ip)
    redis.call('HSET', ipkey, 'gateway', '')
    n = n + 1
  end
end
return n`;

/** ARGV: prefix, range, addresses… → how many were added (existing ones are left alone). */
export const ADD = `local pre, range = ARGV[1], ARGV[2]
local n = 0
for i = 3, #ARGV do
  if redis.call('ZADD', KEYS[1], 'NX', 0, ARGV[i]) == 1 then
    redis.call('HSET', pre .. ':ip:' .. ARGV[i], 'range', range, 'device', '', 'gateway', '', 'counter', 0)
    n = n + 1
  end
end
return n`;

/** ARGV: prefix, addresses… → how many were removed. */
export const REMOVE = `local pre = ARGV[1]
local n = 0
for i = 2, #ARGV do
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('DEL', pre .. ':ip:' .. ARGV[i])
end
return n`;

/** ARGV: prefix, address. → 1 freed (owner cleared) | 0 unknown. Operator release. */
export const FORCE_RELEASE = `${NOW}
local pre, ip = ARGV[1], ARGV[2]
if not redis.call('ZSCORE', KEYS[1], ip) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now, ip)
redis.call('HSET', pre .. ':ip:' .. ip, 'gateway', '', 'device', '')
return 1`;

/** The key prefix of a pool: its name as a hash tag. */
export function poolPrefix(pool: string): string {
  return `{${pool}}`;
}

/** The keys of a pool and owner (KEYS[1], KEYS[2]). */
export function poolKeys(pool: string, owner = ''): [string, string] {
  const pre = poolPrefix(pool);
  return [`${pre}:pool`, `${pre}:device:${owner}`];
}
