import type { CacheInfo } from "./cache-info.ts";
import type { ReadEvent } from "./channels.ts";

/**
 * Writing down how a read went, into its `ReadEvent` (the read channel's context and `withCacheInfo()`'s source).
 * The read path calls these only for reads someone observes; the others carry no event and pay nothing.
 */

/** Why a read went to the database, or past the cache, in words. */
export const REASONS = {
  noEntry: "no entry under the current stamps (never stored, evicted, or a stamp moved)",
  expired: "the entry expired (past its ttl and swr)",
  undecodable: "the entry could not be decoded",
  storeFailed: "bypassed: the store failed or did not answer in time",
  degraded: "bypassed: degraded, an invalidation is still being retried",
  transaction: "bypassed: inside an interactive transaction",
  notCached: "bypassed: not cached by policy (model off, ttl 0, or cacheStrategy: false)",
  unkeyable: "bypassed: args the cache cannot key",
  invalid: "rejected: invalid cacheStrategy",
} as const;

/** The parts of a read plan an event records. */
interface PlanLike {
  key: string;
  stamps: readonly string[];
  policy: { ttlMs: number; tags: readonly string[] };
}

/** A new event for a read of `model`; until the read path says more, a bypass. */
export function newReadEvent(model: string, operation: string): ReadEvent {
  return { model, operation, status: "bypass", layer: null, key: null, ageMs: 0, ttlMs: 0, tags: [], reason: REASONS.notCached };
}

export function noteBypass(event: ReadEvent, reason: string): void {
  event.status = "bypass";
  event.layer = null;
  event.reason = reason;
}

export function noteHit(event: ReadEvent, plan: PlanLike, fence: string, freshForMs: number, local: boolean): void {
  const stale = freshForMs <= 0;
  event.status = stale ? "stale" : "hit";
  event.layer = local ? "l1" : "l2";
  event.key = plan.key;
  event.ttlMs = freshForMs === Infinity ? plan.policy.ttlMs : freshForMs;
  event.ageMs = Math.max(0, plan.policy.ttlMs - event.ttlMs);
  event.tags = plan.policy.tags;
  event.stamps = plan.stamps;
  event.fence = fence;
  event.reason = stale ? "stale entry served within swr; refreshing" : `fresh entry (${local ? "in process" : "from the store"})`;
}

export function noteMiss(event: ReadEvent, plan: PlanLike, fence: string, reason: string): void {
  event.status = "miss";
  event.layer = null;
  event.key = plan.key;
  event.ttlMs = plan.policy.ttlMs;
  event.ageMs = 0;
  event.tags = plan.policy.tags;
  event.stamps = plan.stamps;
  event.fence = fence;
  event.reason = reason;
}

/** The public part of an event, as `withCacheInfo()` returns it. */
export function cacheInfoOf(event: ReadEvent): CacheInfo {
  return { status: event.status, layer: event.layer, key: event.key, ageMs: event.ageMs, ttlMs: event.ttlMs, tags: event.tags };
}
