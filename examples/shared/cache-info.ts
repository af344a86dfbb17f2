/**
 * What an HTTP handler needs from a cached read to set `Cache-Control` and `ETag`: the data and how long it stays
 * fresh. The plugin's coming `withCacheInfo()` returns `{ data, info }` with this `info` (plus `status`, `layer`,
 * `key`); until it lands, `readWithInfo` derives it from the policy the handler passes.
 */

/** The fields of `withCacheInfo()`'s `info` a handler reads. */
export interface ReadInfo {
  /** Fresh time of the entry, in milliseconds. */
  ttlMs: number;
  /** Age of the entry when it was served, in milliseconds (0 for a read the database answered). */
  ageMs: number;
  /** The entry's tags: the surrogate keys a CDN purges it by. */
  tags: readonly string[];
}

/** The per-call policy the handler also passes as `cacheStrategy`. */
export interface ReadPolicy {
  /** Seconds the read is fresh. */
  ttl: number;
  tags?: string[];
}

/**
 * Runs a cached read and says how fresh it is. The swap to the plugin's per-query info is this function's body:
 * `return query.withCacheInfo();` (then `policy` only feeds `cacheStrategy`, and `ageMs` is the entry's real age).
 */
export async function readWithInfo<T>(query: PromiseLike<T>, policy: ReadPolicy): Promise<{ data: T; info: ReadInfo }> {
  return { data: await query, info: { ttlMs: policy.ttl * 1000, ageMs: 0, tags: policy.tags ?? [] } };
}
