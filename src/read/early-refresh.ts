import type { LookupResult } from "../stores/store.ts";
import { flightId } from "./flights.ts";
import type { ReadPlan } from "./plans.ts";

/**
 * Whether a fresh hit should also refresh its entry in the background, before it expires:
 * - refresh-ahead: an entry read `hotThreshold` times in this process whose remaining fresh time fell below
 *   `refreshAhead` of its ttl;
 * - otherwise, for entries without swr, XFetch (Vattani et al., VLDB 2015): refresh when
 *   `-loadMs · β · ln(U) ≥ time left`, U uniform in (0, 1], which grows likelier as expiry nears and for slow queries.
 */
export class EarlyRefresh {
  /** Hits of each entry (key and fence) in this process since it was stored. */
  private readonly hits = new Map<string, number>();

  constructor(
    /** XFetch β; 0: no probabilistic refresh. */
    private readonly beta: number,
    private readonly maxEntries: number,
  ) {}

  due(plan: ReadPlan, found: LookupResult, freshForMs: number): boolean {
    const { refreshAhead, hotThreshold, ttlMs, swrMs } = plan.policy;
    if (refreshAhead > 0 && this.heat(plan.key, found.fence) >= hotThreshold && freshForMs <= refreshAhead * ttlMs) return true;
    if (this.beta === 0 || swrMs > 0 || !found.loadMs) return false;
    const scale = found.loadMs * this.beta;
    // Far from expiry the chance, e^(-fresh/scale), is below 1e-15: no need to draw.
    if (freshForMs > 35 * scale) return false;
    return -scale * Math.log(1 - Math.random()) >= freshForMs;
  }

  /** The entry under this fence was replaced: count the new one's reads from zero. */
  forget(key: string, fence: string): void {
    this.hits.delete(flightId(key, fence));
  }

  private heat(key: string, fence: string): number {
    const id = flightId(key, fence);
    const hits = (this.hits.get(id) ?? 0) + 1;
    if (this.hits.size >= this.maxEntries) this.hits.clear();
    this.hits.set(id, hits);
    return hits;
  }
}
