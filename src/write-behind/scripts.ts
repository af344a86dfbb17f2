/**
 * The Redis side of write-behind, as scripts so each step is atomic. Keys (all under the `{prefix}` hash tag, so
 * one Redis Cluster slot holds them):
 *
 * - `{prefix}:wb:pending`: hash, counter key → sum of increments not yet in a batch (HINCRBY);
 * - `{prefix}:wb:batch`: hash, the batch being flushed, and `{prefix}:wb:batch-id` its id;
 * - `{prefix}:wb:lease`: which process flushes (token, with an expiry).
 */

export interface WriteBehindKeys {
  pending: string;
  batch: string;
  batchId: string;
  lease: string;
}

export function writeBehindKeys(prefix: string): WriteBehindKeys {
  const tag = `{${prefix}}:wb`;
  return { pending: `${tag}:pending`, batch: `${tag}:batch`, batchId: `${tag}:batch-id`, lease: `${tag}:lease` };
}

/**
 * Takes the batch to flush: the one still in flight (a flusher died before acknowledging it), or else the pending
 * sums, renamed into the batch under the new id. New increments then start a fresh pending hash.
 * KEYS: pending, batch, batch-id. ARGV: new id. Returns the batch id, or nil when there is nothing to flush.
 */
export const TAKE_BATCH = `
local current = redis.call('GET', KEYS[3])
if current then return current end
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SET', KEYS[3], ARGV[1])
return ARGV[1]
`;

/** Drops the batch once its updates are committed. KEYS: batch, batch-id. ARGV: id. Returns 1 if it was current. */
export const ACK_BATCH = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`;

/** Takes or renews the flusher lease. KEYS: lease. ARGV: token, ms. Returns 1 when this token holds it. */
export const HOLD_LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Gives the lease up if this token holds it. KEYS: lease. ARGV: token. */
export const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
