/**
 * What the read path tells the insight modules, in three calls, and the report built from it: the cost model's
 * inputs (per-model hits, misses, measured miss latency, refreshes) and the miss-ratio curve of the key stream.
 * Pure and bounded: per model a few numbers, plus the curve's fixed-size sample.
 */
import { costReport, type CostReport, type UnitPrices } from "./cost-model.ts";
import { MissRatioCurve, type MissRatioCurveOptions, type SizingReport } from "./miss-ratio-curve.ts";

interface ModelTally {
  hits: number;
  l1Hits: number;
  misses: number;
  loads: number;
  loadMs: number;
  refreshes: number;
}

/** What the extension adds from elsewhere: store round trips and bytes held, which only it can count. */
export interface StoreFigures {
  storeRoundTrips: number;
  storeRoundTripMs?: number;
  bytesHeld: number;
}

/** `$cache.report(...)`'s argument. */
export interface ReportRequest {
  prices?: UnitPrices;
  /** Hit ratio to recommend a size for, in (0, 1]. */
  targetHitRatio?: number;
}

export interface InsightReport extends CostReport {
  sizing: SizingReport;
}

export class CacheInsight {
  private readonly curve: MissRatioCurve;
  private readonly models = new Map<string, ModelTally>();
  private since: number;

  constructor(
    options: MissRatioCurveOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.curve = new MissRatioCurve(options);
    this.since = now();
  }

  /** A read answered from the cache; `bytes` is its encoded length. */
  hit(model: string, key: string, bytes: number, local: boolean): void {
    const tally = this.tally(model);
    tally.hits++;
    if (local) tally.l1Hits++;
    this.curve.record(key, bytes);
  }

  /** A read that went to the database (call when its load ends, with the time it took). */
  miss(model: string, key: string, bytes: number, loadMs: number): void {
    const tally = this.tally(model);
    tally.misses++;
    tally.loads++;
    tally.loadMs += loadMs;
    this.curve.record(key, bytes);
  }

  /** A background refresh (swr, early refresh, refresh-ahead) that ran a database read. */
  refresh(model: string, loadMs: number): void {
    const tally = this.tally(model);
    tally.refreshes++;
    tally.loads++;
    tally.loadMs += loadMs;
  }

  /** The report since creation or the last `reset()`. */
  report(request: ReportRequest, store: StoreFigures): InsightReport {
    const models: Parameters<typeof costReport>[0]["models"] = {};
    for (const [model, t] of this.models) {
      models[model] = { hits: t.hits, misses: t.misses, l1Hits: t.l1Hits, refreshes: t.refreshes, missLatencyMs: t.loads === 0 ? 0 : t.loadMs / t.loads };
    }
    const windowMs = Math.max(1, this.now() - this.since);
    return { ...costReport({ windowMs, models, ...store }, request.prices ?? {}), sizing: this.curve.sizing(request.targetHitRatio) };
  }

  /** Starts a new window for the counters (the curve keeps its sample: sizing needs a long history). */
  reset(): void {
    this.models.clear();
    this.since = this.now();
  }

  private tally(model: string): ModelTally {
    let tally = this.models.get(model);
    if (tally === undefined) {
      tally = { hits: 0, l1Hits: 0, misses: 0, loads: 0, loadMs: 0, refreshes: 0 };
      this.models.set(model, tally);
    }
    return tally;
  }
}
