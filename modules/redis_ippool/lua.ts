/**
 * The server-side scripts of `redis_ippool`, in FreeRADIUS v4's data model (so pools are shared
 * with FreeRADIUS servers and its `rlm_redis_ippool_tool`). Every key of a pool carries the hash
 * tag `{name}`, so a pool lives in one hash slot and each script runs atomically on one node:
 *
 * - `{name}:pool`: sorted set, member = address (or prefix) text, score = lease expiry (Unix
 *   seconds; 0 for a new address). Free means score < now. A static lease adds {@link STATIC_BIT}
 *   (2^52) to its score: it sorts after every dynamic one and is never free.
 * - `{name}:ip:<address>`: hash `device` (owner), `gateway`, `range` (range id), `counter`.
 * - `{name}:device:<owner>`: the owner's address; its TTL is the association time (none for a
 *   static lease), so an owner comes back to its address while the key lives.
 *
 * "Now" is passed in by the caller (ARGV[1]), as FreeRADIUS does. KEYS[1] is the pool set;
 * ARGV[2] the key prefix `{name}`. Results start with a code ({@link IPPOOL_RCODE}).
 */

/** Added to the score of a static lease (FreeRADIUS `IPPOOL_STATIC_BIT`). */
export const STATIC_BIT = 0x10000000000000;

/** Script result codes (FreeRADIUS `redis_ippool.h`). */
export const IPPOOL_RCODE = { SUCCESS: 0, NOT_FOUND: -1, EXPIRED: -2, DEVICE_MISMATCH: -3, POOL_EMPTY: -4, FAIL: -5 } as const;

const COMMON = `local static_bit = ${STATIC_BIT}
local now = tonumber(ARGV[1])
local pre = ARGV[2]
local function split(score)
  score = tonumber(score)
  if score >= static_bit then return true, score - static_bit end
  return false, score
end`;

/**
 * ARGV: now, prefix, expires_in, owner, association_time, gateway, requested.
 * → {0, address, range, seconds left, counter} | {-4} pool empty.
 */
export const ALLOCATE = `${COMMON}
local expires_in, owner, assoc, gw, req = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
local pool = KEYS[1]
local devkey = pre .. ':device:' .. owner
if assoc < expires_in then assoc = expires_in end
-- The owner's address, when it is still the owner's: a re-allocation.
local ip = redis.call('GET', devkey)
if ip then
  local score = redis.call('ZSCORE', pool, ip)
  local ipkey = pre .. ':ip:' .. ip
  if score and redis.call('HGET', ipkey, 'device') == owner then
    local static, expiry = split(score)
    local left = expiry - now
    if left < expires_in then
      left = expires_in
      redis.call('ZADD', pool, 'XX', (static and static_bit or 0) + now + expires_in, ip)
      if not static then redis.call('EXPIRE', devkey, assoc) end
    end
    if redis.call('HGET', ipkey, 'gateway') ~= gw then redis.call('HSET', ipkey, 'gateway', gw) end
    return {0, ip, redis.call('HGET', ipkey, 'range') or '', left, tonumber(redis.call('HGET', ipkey, 'counter') or 0)}
  end
end
ip = nil
if req ~= '' then
  local score = redis.call('ZSCORE', pool, req)
  if score and tonumber(score) < now then ip = req end
end
if not ip then
  local r = redis.call('ZRANGE', pool, 0, 0, 'WITHSCORES')
  if not r[1] or tonumber(r[2]) >= now then return {-4} end
  ip = r[1]
end
local ipkey = pre .. ':ip:' .. ip
-- The previous owner's association with this address ends.
local old = redis.call('HGET', ipkey, 'device')
if old and old ~= '' and old ~= owner and redis.call('GET', pre .. ':device:' .. old) == ip then
  redis.call('DEL', pre .. ':device:' .. old)
end
redis.call('ZADD', pool, 'XX', now + expires_in, ip)
redis.call('HSET', ipkey, 'device', owner, 'gateway', gw)
redis.call('SET', devkey, ip, 'EX', assoc)
return {0, ip, redis.call('HGET', ipkey, 'range') or '', expires_in, redis.call('HINCRBY', ipkey, 'counter', 1)}`;

/**
 * ARGV: now, prefix, expires_in, address, owner, association_time, gateway.
 * → {0, range, counter} | {-1} not found | {-3, owner} device mismatch.
 */
export const UPDATE = `${COMMON}
local expires_in, ip, owner, assoc, gw = tonumber(ARGV[3]), ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local ipkey = pre .. ':ip:' .. ip
local score = redis.call('ZSCORE', KEYS[1], ip)
local dev = redis.call('HGET', ipkey, 'device')
if not score or not dev or dev == '' then return {-1} end
if dev ~= owner then return {-3, dev} end
if assoc < expires_in then assoc = expires_in end
local static = split(score)
redis.call('ZADD', KEYS[1], 'XX', (static and static_bit or 0) + now + expires_in, ip)
if not static then
  local devkey = pre .. ':device:' .. owner
  if redis.call('EXPIRE', devkey, assoc) == 0 then redis.call('SET', devkey, ip, 'EX', assoc) end
end
if redis.call('HGET', ipkey, 'gateway') ~= gw then redis.call('HSET', ipkey, 'gateway', gw) end
return {0, redis.call('HGET', ipkey, 'range') or '', tonumber(redis.call('HGET', ipkey, 'counter') or 0)}`;

/** ARGV: now, prefix, address, owner, association_time. → {0} | {-1} not found | {-3, owner} mismatch. */
export const RELEASE = `${COMMON}
local ip, owner, assoc = ARGV[3], ARGV[4], tonumber(ARGV[5])
local ipkey = pre .. ':ip:' .. ip
local score = redis.call('ZSCORE', KEYS[1], ip)
if not score or redis.call('EXISTS', ipkey) == 0 then return {-1} end
local dev = redis.call('HGET', ipkey, 'device')
if dev ~= owner then return {-3, dev or ''} end
local static = split(score)
redis.call('ZADD', KEYS[1], 'XX', (static and static_bit or 0) + now - 1, ip)
if not static then
  local devkey = pre .. ':device:' .. owner
  if assoc > 0 then redis.call('EXPIRE', devkey, assoc) else redis.call('DEL', devkey) end
end
redis.call('HINCRBY', ipkey, 'counter', 1)
return {0}`;

/** ARGV: now, prefix, gateway. → how many live dynamic leases of the gateway were freed (ours: FreeRADIUS v4 has no bulk release). */
export const BULK_RELEASE = `${COMMON}
local gw = ARGV[3]
local live = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '(' .. static_bit)
local n = 0
for _, ip in ipairs(live) do
  local ipkey = pre .. ':ip:' .. ip
  if redis.call('HGET', ipkey, 'gateway') == gw then
    redis.call('ZADD', KEYS[1], 'XX', now - 1, ip)
    local dev = redis.call('HGET', ipkey, 'device')
    if dev and dev ~= '' and redis.call('GET', pre .. ':device:' .. dev) == ip then redis.call('DEL', pre .. ':device:' .. dev) end
    n = n + 1
  end
end
return n`;

/** ARGV: now, prefix, range id ('' for none), addresses… → how many were added (existing ones keep their lease; the range id is set). */
export const ADD = `${COMMON}
local range = ARGV[3]
local n = 0
for i = 4, #ARGV do
  n = n + redis.call('ZADD', KEYS[1], 'NX', 0, ARGV[i])
  if range ~= '' then redis.call('HSET', pre .. ':ip:' .. ARGV[i], 'range', range) end
end
return n`;

/** ARGV: now, prefix, addresses… → how many were removed (the address, its hash and its owner's association). */
export const REMOVE = `${COMMON}
local n = 0
for i = 3, #ARGV do
  local ipkey = pre .. ':ip:' .. ARGV[i]
  local dev = redis.call('HGET', ipkey, 'device')
  if dev and dev ~= '' and redis.call('GET', pre .. ':device:' .. dev) == ARGV[i] then redis.call('DEL', pre .. ':device:' .. dev) end
  n = n + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('DEL', ipkey)
end
return n`;

/** ARGV: now, prefix, addresses… → how many were released (operator release: score 0, the owner's association deleted; the hash is kept). */
export const FORCE_RELEASE = `${COMMON}
local n = 0
for i = 3, #ARGV do
  local ip = ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], ip)
  if score then
    local static = split(score)
    redis.call('ZADD', KEYS[1], 'XX', static and static_bit or 0, ip)
    local dev = redis.call('HGET', pre .. ':ip:' .. ip, 'device')
    if dev and dev ~= '' and redis.call('GET', pre .. ':device:' .. dev) == ip then redis.call('DEL', pre .. ':device:' .. dev) end
    n = n + 1
  end
end
return n`;

/** ARGV: now, prefix, range id, addresses… → how many had their range id changed. */
export const MODIFY = `${COMMON}
local n = 0
for i = 4, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('HSET', pre .. ':ip:' .. ARGV[i], 'range', ARGV[3])
    n = n + 1
  end
end
return n`;

/**
 * ARGV: now, prefix, address, owner, range id. → {0} | {-3, address} the owner holds another
 * address | {-3, owner} the address holds a live lease of another owner. A static lease: the
 * static bit on the score (added to the address when missing), the device key without TTL.
 */
export const ASSIGN = `${COMMON}
local ip, owner, range = ARGV[3], ARGV[4], ARGV[5]
local ipkey = pre .. ':ip:' .. ip
local devkey = pre .. ':device:' .. owner
local cur = redis.call('GET', devkey)
if cur and cur ~= ip then return {-3, cur} end
local score = redis.call('ZSCORE', KEYS[1], ip)
local static, expiry = false, 0
if score then static, expiry = split(score) end
local dev = redis.call('HGET', ipkey, 'device')
if dev and dev ~= '' and dev ~= owner and (static or expiry >= now) then return {-3, dev} end
if not static then redis.call('ZADD', KEYS[1], static_bit + expiry, ip) end
redis.call('SET', devkey, ip)
redis.call('HSET', ipkey, 'device', owner, 'counter', 0)
if range ~= '' then redis.call('HSET', ipkey, 'range', range) end
return {0}`;

/** ARGV: now, prefix, address. → {0} | {-1} not a static lease. The lease stays until its expiry; the association gets that TTL. */
export const UNASSIGN = `${COMMON}
local ip = ARGV[3]
local score = redis.call('ZSCORE', KEYS[1], ip)
if not score then return {-1} end
local static, expiry = split(score)
if not static then return {-1} end
redis.call('ZADD', KEYS[1], 'XX', expiry, ip)
local dev = redis.call('HGET', pre .. ':ip:' .. ip, 'device')
if dev and dev ~= '' then
  local devkey = pre .. ':device:' .. dev
  if expiry > now then redis.call('EXPIRE', devkey, expiry - now) else redis.call('DEL', devkey) end
end
return {0}`;

/** The key prefix of a pool: its name as a hash tag. */
export function poolPrefix(pool: string): string {
  return `{${pool}}`;
}

/** The pool set of a pool (KEYS[1]). */
export function poolKey(pool: string): string {
  return `${poolPrefix(pool)}:pool`;
}

/** Unix seconds now (the "now" every script gets). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
