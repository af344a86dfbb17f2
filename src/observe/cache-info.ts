/** How a read was answered: fresh from the cache, stale within `swr`, from the database, or without the cache. */
export type CacheStatus = "hit" | "stale" | "miss" | "bypass";

/** Where a hit came from: in process (memory store, tiered store's L1) or Redis; `null` for misses and bypasses. */
export type CacheLayer = "l1" | "l2" | null;

/**
 * What `withCacheInfo()` tells about one read, in the spirit of Prisma Accelerate's `withAccelerateInfo()`. Enough
 * for an HTTP handler's `Cache-Control: max-age` (`ttlMs`) and `ETag` (`key` with `ageMs`).
 */
export interface CacheInfo {
  status: CacheStatus;
  layer: CacheLayer;
  /** The entry's store key; `null` on a bypass. */
  key: string | null;
  /**
   * How long ago the entry was stored, in milliseconds: `0` on a miss (stored now) and a bypass. Worked out from the
   * call's ttl, so it is exact when the entry was filled under the same ttl (the usual case).
   */
  ageMs: number;
  /**
   * How long the result stays fresh from now, in milliseconds: the ttl on a miss, what is left of it on a hit,
   * negative on a stale hit (how long ago it went stale), `0` on a bypass.
   */
  ttlMs: number;
  /** The read's tags (the model's and the call's). */
  tags: readonly string[];
}

/** What `withCacheInfo()` resolves to. */
export interface WithCacheInfo<T> {
  data: T;
  info: CacheInfo;
}

/** The method cached reads add to Prisma's query promise. */
export interface CacheInfoQuery<T> {
  /**
   * Runs the query (call it instead of awaiting the query itself) and resolves to its result with how the cache
   * answered it. It cannot join a batch `$transaction([...])`.
   */
  withCacheInfo(): Promise<WithCacheInfo<T>>;
}
