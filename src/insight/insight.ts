/**
 * What the read path tells the insight modules (a `ReadObserver`), and the report built from it: the cost model's
 * inputs (per-model hits, misses, measured load latency, refreshes) and, when sizing is on, the miss-ratio curve of
 * the key stream. Bounded: per model a few numbers, plus the curve's fixed-size sample.
 */
import type { ReadPlan } from "../read/plans.ts";
import type { ReadObserver } from "../read/read-observer.ts";
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
  /** Unit prices for the monthly estimate, in any one currency; missing prices count as 0. */
  prices?: UnitPrices;
  /** Hit ratio to recommend an L1 size for, in (0, 1] (needs `sizing`). */
  targetHitRatio?: number;
}

export interface InsightReport extends CostReport {
  /** The predicted L1 hit ratio by size; undefined unless the plugin was created with `sizing`. */
  sizing: SizingReport | undefined;
}

export class CacheInsight implements ReadObserver {
  private readonly curve: MissRatioCurve | undefined;
  private readonly models = new Map<string, ModelTally>();
  private since: number;

  constructor(
    /** Options of the miss-ratio curve; undefined: no curve (no sizing, no per-read hash). */
    curve: MissRatioCurveOptions | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.curve = curve === undefined ? undefined : new MissRatioCurve(curve);
    this.since = now();
  }

  hit(plan: Pick<ReadPlan, "model" | "key">, _source: unknown, bytes: number, local: boolean): void {
    const tally = this.tally(plan.model);
    tally.hits++;
    if (local) tally.l1Hits++;
    this.curve?.record(plan.key, bytes);
  }

  miss(plan: Pick<ReadPlan, "model" | "key">): void {
    this.tally(plan.model).misses++;
    this.curve?.record(plan.key);
  }

  refresh(plan: Pick<ReadPlan, "model">): void {
    this.tally(plan.model).refreshes++;
  }

  loaded(plan: Pick<ReadPlan, "model">, loadMs: number): void {
    const tally = this.tally(plan.model);
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
    return { ...costReport({ windowMs, models, ...store }, request.prices ?? {}), sizing: this.curve?.sizing(request.targetHitRatio) };
  }

  /** Mean encoded bytes of the sampled entries (0 without sizing). */
  get meanEntryBytes(): number {
    return this.curve?.sizing().meanEntryBytes ?? 0;
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
