/**
 * The Lua scripts of the Redis stores, one constant per script. Each runs atomically on the server; all the keys of
 * one call carry the namespace's `{prefix}` hash tag, so they live in one slot and the scripts also run on Redis
 * Cluster. `RedisStore.run` sends a script by its SHA1 (EVALSHA) and falls back to EVAL on NOSCRIPT.
 *
 * Entries are "fence \n fresh-until \n expires-at \n load ms \n value", times in ms on the app's clock (freshness
 * and swr are decided by the app; Redis's own expiry, PX, removes the entry at the end for good).
 */

/**
 * A lookup's second step, for the requests its first (one MGET) could not answer: reads each request's stamps,
 * creating missing ones with a fresh token, then its entry, which counts only if filled under exactly the current
 * stamps; where the entry is missing or stale and the request asks for it, takes the key's lease (SET NX PX).
 * Atomic for the whole batch.
 * KEYS: per request, its entry key, its lease key, then its stamp keys.
 * ARGV: call token, now (ms), request count, then per request its stamp count, the lifetime (ms) of the stamps it
 * creates, the lease time (ms, 0 for none) and the lease token.
 * Returns per request three strings: the fence; the entry ("" if absent or filled under other stamps); the lease
 * ("" not asked or not needed, "-" held by another caller, "+" taken).
 */
export const LOOKUP = `
local now = tonumber(ARGV[2])
local out = {}
local k, a, created = 1, 4, 0
for i = 1, tonumber(ARGV[3]) do
  local n, life, leaseMs, leaseToken = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
  a = a + 4
  local parts = {}
  for j = 1, n do
    local key = KEYS[k + 1 + j]
    local v = redis.call('GET', key)
    if not v then
      created = created + 1
      v = ARGV[1] .. '.' .. created
      redis.call('SET', key, v, 'PX', life)
    end
    parts[j] = v
  end
  local fence = table.concat(parts, ',')
  local e = redis.call('GET', KEYS[k])
  if e and string.sub(e, 1, #fence + 1) ~= fence .. '\\n' then e = false end
  local lease = ''
  if leaseMs > 0 and (not e or tonumber(string.match(e, '^[^\\n]*\\n(%d+)')) <= now) then
    if redis.call('SET', KEYS[k + 1], leaseToken, 'NX', 'PX', leaseMs) then lease = '+' else lease = '-' end
  end
  out[#out + 1] = fence
  out[#out + 1] = e or ''
  out[#out + 1] = lease
  k = k + n + 2
end
return out
`;

/**
 * Stores entries, each only if its stamps still equal the fence taken before its database read; makes the stamps
 * outlive the entry, and releases the lease the lookup took (if the caller still holds it), stored or not.
 * KEYS: per entry, its entry key, its lease key, then its stamp keys.
 * ARGV: per entry its stamp count, fence, fresh-until, expires-at, load ms, value, lease token ("" for none) and
 * lifetime (ms).
 * Returns per entry 1 (stored) or 0 (refused: a stamp moved).
 */
export const FILL = `
local out = {}
local k, a = 1, 1
while a <= #ARGV do
  local n, fence, life, lease = tonumber(ARGV[a]), ARGV[a + 1], tonumber(ARGV[a + 7]), ARGV[a + 6]
  local parts = {}
  for j = 1, n do parts[j] = redis.call('GET', KEYS[k + 1 + j]) or '' end
  local stored = 0
  if table.concat(parts, ',') == fence then
    redis.call('SET', KEYS[k], fence .. '\\n' .. ARGV[a + 2] .. '\\n' .. ARGV[a + 3] .. '\\n' .. ARGV[a + 4] .. '\\n' .. ARGV[a + 5], 'PX', life)
    for j = 1, n do
      local p = redis.call('PTTL', KEYS[k + 1 + j])
      if p >= 0 and p < life then redis.call('PEXPIRE', KEYS[k + 1 + j], life) end
    end
    stored = 1
  end
  if lease ~= '' and redis.call('GET', KEYS[k + 1]) == lease then redis.call('DEL', KEYS[k + 1]) end
  out[#out + 1] = stored
  k = k + n + 2
  a = a + 8
end
return out
`;

/**
 * Advances (deletes) stamps and tells every process's L1 in the same atomic step, so no crash can drop the message
 * after the stamps moved. The message is the id, a newline, then the stamp keys as the store names them (without the
 * keyPrefix ioredis added), each as `<byte length>:<name>` (names hold user data, newlines included).
 * KEYS: the stamps.
 * ARGV: channel, message id, length of the client's keyPrefix, PUBLISH or SPUBLISH (Cluster: sharded pub/sub, the
 * channel in the keys' slot).
 * Returns how many subscribers received the message.
 */
export const BUMP_AND_PUBLISH = `
redis.call('DEL', unpack(KEYS))
local names, cut = {}, tonumber(ARGV[3]) + 1
for i = 1, #KEYS do local name = string.sub(KEYS[i], cut); names[i] = #name .. ':' .. name end
return redis.call(ARGV[4], ARGV[1], ARGV[2] .. '\\n' .. table.concat(names))
`;

/**
 * A write's invalidation plus write-through: checks that the stamps read before the database write still have the
 * values read then (the request's `unchangedSince`), advances the write's stamps, and only if none had moved stores
 * each fill under its current stamps (creating missing ones); then publishes like BUMP_AND_PUBLISH when a channel
 * is given and stamps were advanced.
 * KEYS: the unchanged-since stamps, the bumped stamps, then per fill its entry key and stamp keys.
 * ARGV: unchanged-since count, bump count, fill count, unchanged-since fence, call token, channel ("" for none),
 * message id, now (ms), keyPrefix length, PUBLISH or SPUBLISH, then per fill its stamp count, ttl ms, swr ms, value.
 * Returns { 1 if the fills were stored else 0, how many subscribers received the message (0 if none sent) }.
 */
export const WRITE_THROUGH = `
local g, b, f = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local parts = {}
for j = 1, g do parts[j] = redis.call('GET', KEYS[j]) or '' end
local holds = table.concat(parts, ',') == ARGV[4]
if b > 0 then redis.call('DEL', unpack(KEYS, g + 1, g + b)) end
if holds then
  local now = tonumber(ARGV[8])
  local k, a, created = g + b + 1, 11, 0
  for i = 1, f do
    local n, ttl, swr, value = tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3]
    a = a + 4
    local life = ttl + swr
    local fence = {}
    for j = 1, n do
      local key = KEYS[k + j]
      local v = redis.call('GET', key)
      if not v then
        created = created + 1
        v = ARGV[5] .. '.' .. created
        redis.call('SET', key, v, 'PX', life)
      elseif redis.call('PTTL', key) < life then
        redis.call('PEXPIRE', key, life)
      end
      fence[j] = v
    end
    redis.call('SET', KEYS[k], table.concat(fence, ',') .. '\\n' .. string.format('%.0f', now + ttl) .. '\\n' .. string.format('%.0f', now + life) .. '\\n0\\n' .. value, 'PX', life)
    k = k + n + 1
  end
end
local receivers = 0
if ARGV[6] ~= '' and b > 0 then
  local names, cut = {}, tonumber(ARGV[9]) + 1
  for j = 1, b do local name = string.sub(KEYS[g + j], cut); names[j] = #name .. ':' .. name end
  receivers = redis.call(ARGV[10], ARGV[6], ARGV[7] .. '\\n' .. table.concat(names))
end
return { holds and 1 or 0, receivers }
`;

/**
 * A tiered store's heartbeat: reads the generation key (creating it with the candidate when Redis has lost it, or
 * never had it), then publishes the message, a newline and the generation on the sender's own channel. Receiving it
 * proves the subscription delivers what was published up to now; a changed generation means Redis lost its data.
 * KEYS: the generation key.
 * ARGV: candidate generation, channel, message, PUBLISH or SPUBLISH.
 * Returns the generation.
 */
export const HEARTBEAT = `
local g = redis.call('GET', KEYS[1])
if not g then
  g = ARGV[1]
  redis.call('SET', KEYS[1], g)
end
redis.call(ARGV[4], ARGV[2], ARGV[3] .. '\\n' .. g)
return g
`;

/**
 * Publishes a message; a script only so that Cluster routes the call by its key to the node that owns the sharded
 * channel.
 * KEYS: a key in the channel's slot.
 * ARGV: channel, message, PUBLISH or SPUBLISH.
 * Returns how many subscribers received the message.
 */
export const PUBLISH = `
return redis.call(ARGV[3], ARGV[1], ARGV[2])
`;

/**
 * Releases a lease if the caller still holds it.
 * KEYS: the lease key.
 * ARGV: the caller's lease token.
 * Returns 1 if it was released, 0 if another caller (or nobody) held it.
 */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Takes, renews or (ms 0) gives up a named lease: takes it if free or expired, renews it if the token holds it.
 * KEYS: the lease key.
 * ARGV: token, ms (0 to give it up).
 * Returns 1 if the token holds the lease now, else 0.
 */
export const HOLD_LEASE = `
local holder = redis.call('GET', KEYS[1])
if ARGV[2] == '0' then
  if holder == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 0
end
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/*
 * Redis Cluster (redis-cluster.ts). Keys spread over the slots, so no script there spans an entry and its stamps:
 * each script below touches one key, or an entry and its lease (which share the entry's hash tag). What makes that
 * safe is the fence rule itself: an entry stores the stamp tokens it was filled under, every hit compares them with
 * the stamps' current tokens, and tokens are never reused, so an entry filled after a write moved one of its stamps
 * can never be served.
 */

/**
 * Reads a stamp, creating it with the given token when missing (a single-key SET NX that also returns the value).
 * KEYS: the stamp.
 * ARGV: token for a new stamp, its lifetime (ms).
 * Returns the stamp's value.
 */
export const STAMP = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`;

/**
 * Reads a stamp and makes it live at least as long as an entry being filled under it (stamps must outlive their
 * entries, or the entries turn into misses early).
 * KEYS: the stamp.
 * ARGV: the entry's lifetime (ms).
 * Returns the stamp's value, or false when it is missing.
 */
export const HOLD_STAMP = `
local v = redis.call('GET', KEYS[1])
if v then
  local p = redis.call('PTTL', KEYS[1])
  if p >= 0 and p < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
end
return v
`;

/**
 * A write-through's check of one stamp read before its database write: if the stamp still has that value, moves it
 * to the writer's own new token (or, with no new token, leaves it), else deletes it (the write still moves it).
 * KEYS: the stamp.
 * ARGV: the value read before, the new token ("" to only check), lifetime (ms) of the new token.
 * Returns 1 if the stamp had the value read before, else 0.
 */
export const SWAP_STAMP = `
local held = redis.call('GET', KEYS[1]) == ARGV[1]
if ARGV[2] == '' then return held and 1 or 0 end
if held then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
redis.call('DEL', KEYS[1])
return 0
`;

/**
 * A lookup's lease on Cluster: returns the entry if it was filled under the fence, and where it is missing or stale
 * takes the key's lease (SET NX PX).
 * KEYS: the entry, its lease.
 * ARGV: the fence ("" when a stamp was just created: no entry can be filled under it yet), now (ms), lease time
 * (ms), lease token.
 * Returns { the entry ("" if absent or filled under other stamps), "+" taken or "-" held by another caller }.
 */
export const ENTRY_LEASE = `
local e = false
if ARGV[1] ~= '' then
  e = redis.call('GET', KEYS[1])
  if e and string.sub(e, 1, #ARGV[1] + 1) ~= ARGV[1] .. '\\n' then e = false end
end
if e and tonumber(string.match(e, '^[^\\n]*\\n(%d+)')) > tonumber(ARGV[2]) then return { e, '' } end
if redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[3]) then return { e or '', '+' } end
return { e or '', '-' }
`;

/**
 * A fill on Cluster: stores the entry (its stamps are checked beside it, not atomically: see above) and releases
 * the lease its lookup took, if the caller still holds it.
 * KEYS: the entry, its lease.
 * ARGV: the entry as stored, lifetime (ms), lease token ("" for none).
 */
export const SET_ENTRY = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
`;

/**
 * Deletes an entry a refused fill stored, unless another fill replaced it since.
 * KEYS: the entry.
 * ARGV: the entry as that fill stored it.
 */
export const DROP_ENTRY = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`;
