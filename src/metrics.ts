import type { ChangeFeedStats } from "./change-feed/change-feed.ts";

/** Counts of what the cache did, for `$cache.stats()`. */
export interface CacheStats {
  /** Reads answered from the cache (fresh or stale). */
  hits: number;
  /** Cacheable reads that went to the database. */
  misses: number;
  /** Of the hits, those served stale within `swr` while a refresh ran. */
  stale: number;
  /** Of the hits, those answered in process without a store round trip (memory store, tiered store's L1). */
  l1Hits: number;
  /** Entries stored. */
  fills: number;
  /** Fills refused because a write, tag or invalidateAll advanced a stamp during the database read. */
  fillsRefused: number;
  /** Results served but not stored because their encoding exceeded `maxEntryBytes`. */
  oversize: number;
  /** Reads that skipped the cache: `cacheStrategy: false`, uncached models, transactions, degraded mode. */
  bypasses: number;
  /** Writes and explicit invalidations applied to the store. */
  invalidations: number;
  /** Store failures and timeouts (each also reported to `onError`). */
  errors: number;
  /** Invalidations some subscriber did not confirm within the tiered store's `deliveryWaitMs` (also in `errors`). */
  unconfirmedDeliveries: number;
  /** Times the store's circuit breaker opened (`circuitBreaker`). */
  circuitOpenings: number;
  /** True while the circuit is open: reads and writes skip the store until a probe answers. */
  circuitOpen: boolean;
  byModel: Record<string, { hits: number; misses: number }>;
  /** The change feed's state, lag and work, when `changeFeed` is set. */
  changeFeed?: ChangeFeedStats;
}

type Counter = Exclude<keyof CacheStats, "byModel" | "changeFeed" | "circuitOpen">;

/** Mutable counters behind `stats()`; `stats()` returns a copy. */
export class Metrics {
  private readonly counts: Omit<CacheStats, "byModel" | "changeFeed" | "circuitOpen"> = {
    hits: 0,
    misses: 0,
    stale: 0,
    l1Hits: 0,
    fills: 0,
    fillsRefused: 0,
    oversize: 0,
    bypasses: 0,
    invalidations: 0,
    errors: 0,
    unconfirmedDeliveries: 0,
    circuitOpenings: 0,
  };
  /** Reads the breaker's state for snapshots (set once the store is built). */
  circuitOpen: () => boolean = () => false;
  private readonly byModel = new Map<string, { hits: number; misses: number }>();

  count(counter: Counter, by = 1): void {
    this.counts[counter] += by;
  }

  hit(model: string, stale: boolean, local: boolean): void {
    this.counts.hits++;
    if (stale) this.counts.stale++;
    if (local) this.counts.l1Hits++;
    this.model(model).hits++;
  }

  miss(model: string): void {
    this.counts.misses++;
    this.model(model).misses++;
  }

  snapshot(): CacheStats {
    const byModel: CacheStats["byModel"] = {};
    for (const [model, counts] of this.byModel) byModel[model] = { ...counts };
    return { ...this.counts, circuitOpen: this.circuitOpen(), byModel };
  }

  reset(): void {
    for (const counter of Object.keys(this.counts) as Counter[]) this.counts[counter] = 0;
    this.byModel.clear();
  }

  private model(model: string): { hits: number; misses: number } {
    let counts = this.byModel.get(model);
    if (counts === undefined) {
      counts = { hits: 0, misses: 0 };
      this.byModel.set(model, counts);
    }
    return counts;
  }
}
