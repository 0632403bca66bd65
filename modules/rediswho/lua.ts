/**
 * The server-side scripts of `rediswho`. Every key a script touches carries the hash tag of the
 * module's `key_prefix` (`{rediswho}:…`), so on a Redis Cluster they all live on one node and a
 * script runs there atomically. Times come from the server (`TIME`), so every daemon sharing the
 * store agrees on what has expired.
 *
 * Keys (P = `{<key_prefix>}:`):
 * - `P session:<unique-id>`: a hash per online session (user, nas, port, session_id, unique_id,
 *   start, update, address, calling, session_time, input_octets, output_octets), with a TTL of
 *   `expire_time` renewed by every Start / Interim-Update.
 * - `P user:<user>`, `P nas:<nas>`, `P all`: sorted sets of the unique ids of online sessions,
 *   scored by the time the session expires unless updated again (now + expire_time).
 */

/** The key prefix for `key_prefix` (its hash tag keeps every index key in one slot). */
export function keyPrefix(prefix: string): string {
  return `{${prefix}}:`;
}

/** The keys of one session: hash, user set, NAS set, all set. */
export function sessionKeys(prefix: string, uid: string, user: string, nas: string): [string, string, string, string] {
  const p = keyPrefix(prefix);
  return [`${p}session:${uid}`, `${p}user:${user}`, `${p}nas:${nas}`, `${p}all`];
}

/**
 * Start / Interim-Update. KEYS: session, user, nas, all. ARGV: unique id, expire_time, start
 * (used when the session is new), then field, value pairs. Drops expired entries from the three
 * sets on the way. Returns 1 for a new session, 0 for an update.
 */
export const UPSERT = `
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[2])
local new = redis.call('EXISTS', KEYS[1]) == 0
if new then redis.call('HSET', KEYS[1], 'start', ARGV[3]) end
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
redis.call('EXPIRE', KEYS[1], ttl)
for i = 2, 4 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[1])
end
if new then return 1 end
return 0
`;

/** Stop. KEYS: session, user, nas, all. ARGV: unique id. Returns 1 when the session was online. */
export const STOP = `
local had = redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[1])
return had
`;

/**
 * Accounting-On / Accounting-Off: every session of the NAS goes offline. KEYS: nas, all. ARGV:
 * the key prefix. Returns how many sessions were closed.
 */
export const BULK_STOP = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  local s = ARGV[1] .. 'session:' .. id
  local user = redis.call('HGET', s, 'user')
  if user then redis.call('ZREM', ARGV[1] .. 'user:' .. user, id) end
  redis.call('DEL', s)
  redis.call('ZREM', KEYS[2], id)
end
redis.call('DEL', KEYS[1])
return #ids
`;

/** The online sessions in one set. KEYS: the set. Returns the unique ids not expired. */
export const ONLINE = `
local now = tonumber(redis.call('TIME')[1])
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
`;
