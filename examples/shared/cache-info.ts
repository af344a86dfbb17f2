/**
 * What an HTTP handler needs from a cached read to set `Cache-Control` and `ETag`: the data and how the cache
 * answered it, from the plugin's `withCacheInfo()` (`info.ttlMs` is the fresh time left, `info.tags` the surrogate
 * keys a CDN purges the entry by).
 */
import type { CacheInfo, CacheInfoQuery, WithCacheInfo } from "../../src/index.ts";

/** The fields of `withCacheInfo()`'s `info` a handler reads. */
export type ReadInfo = Pick<CacheInfo, "status" | "ttlMs" | "ageMs" | "tags">;

/** The per-call policy the handler passes as `cacheStrategy`. */
export interface ReadPolicy {
  /** Seconds the read is fresh. */
  ttl: number;
  tags?: string[];
}

/** Runs a cached read and says how the cache answered it. */
export function readWithInfo<T>(query: CacheInfoQuery<T>): Promise<WithCacheInfo<T>> {
  return query.withCacheInfo();
}
