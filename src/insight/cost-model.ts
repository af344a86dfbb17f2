/**
 * The cost model: turns the cache's counters and the user's unit prices into a report of what the cache saved and
 * what it costs, per model and per month. Pure arithmetic: the caller gathers the counters (stats, measured miss
 * latencies, bytes held) over an observation window, and the report scales them to a 30-day month.
 */

/** What was observed for one model over the window. */
export interface ModelCounters {
  hits: number;
  misses: number;
  /** Of the hits, those answered in process (L1), without a store round trip. */
  l1Hits?: number;
  /** Mean database time of this model's misses, in milliseconds (measured on misses). */
  missLatencyMs: number;
  /** Background refreshes (swr, early refresh, refresh-ahead): database reads the cache itself caused. */
  refreshes?: number;
}

/** Everything the report is computed from. */
export interface CostInputs {
  /** How long the counters were gathered, in milliseconds. */
  windowMs: number;
  models: Record<string, ModelCounters>;
  /** Store round trips (lookups, fills, invalidations) over the window. */
  storeRoundTrips: number;
  /** Mean time of a store round trip, in milliseconds (0 for an in-process store). @default 0 */
  storeRoundTripMs?: number;
  /** Bytes the cache holds now (keys and values). */
  bytesHeld: number;
}

/** Unit prices, in any one currency. Missing prices count as 0. */
export interface UnitPrices {
  /** Cache memory, per GB held for a month (1 GB = 10⁹ bytes). */
  cacheGbMonth?: number;
  /** Database reads, per million queries. */
  dbReadsPerMillion?: number;
  /** Application or database compute, per hour of query time. */
  computeHour?: number;
}

export interface ModelReport {
  hits: number;
  misses: number;
  hitRatio: number;
  /** Share of hits served from L1. */
  l1HitRatio: number;
  /** Database reads avoided: hits minus the refreshes the cache ran. */
  readsSaved: number;
  /** Database time avoided, ms: hits × measured miss latency, minus refresh time. */
  timeSavedMs: number;
  refreshes: number;
  /** Database time spent on refreshes, ms. */
  refreshMs: number;
}

export interface CostReport {
  windowMs: number;
  hitRatio: number;
  byModel: Record<string, ModelReport>;
  storeRoundTrips: number;
  /** Time spent waiting for the store, ms (round trips × their latency). */
  storeTimeMs: number;
  bytesHeld: number;
  /** Scaled to 30 days. Savings and costs in the prices' currency; `net` = savings − costs. */
  monthly: {
    readsSaved: number;
    computeHoursSaved: number;
    savings: { dbReads: number; compute: number; total: number };
    costs: { cacheMemory: number; storeTime: number; total: number };
    net: number;
  };
}

const MONTH_MS = 30 * 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

/** Builds the report; throws a RangeError naming the input when a counter is not a non-negative number. */
export function costReport(inputs: CostInputs, prices: UnitPrices = {}): CostReport {
  nonNegative(inputs.windowMs, "windowMs");
  if (inputs.windowMs === 0) throw new RangeError("windowMs must be positive: the report scales the window to a month");
  nonNegative(inputs.storeRoundTrips, "storeRoundTrips");
  nonNegative(inputs.bytesHeld, "bytesHeld");
  const storeRoundTripMs = inputs.storeRoundTripMs ?? 0;
  nonNegative(storeRoundTripMs, "storeRoundTripMs");
  for (const [name, price] of Object.entries(prices)) nonNegative(price, `prices.${name}`);

  const byModel: Record<string, ModelReport> = {};
  let hits = 0;
  let misses = 0;
  let readsSaved = 0;
  let timeSavedMs = 0;
  for (const [model, counters] of Object.entries(inputs.models)) {
    for (const field of ["hits", "misses", "missLatencyMs", "l1Hits", "refreshes"] as const) {
      if (counters[field] !== undefined) nonNegative(counters[field], `models.${model}.${field}`);
    }
    const refreshes = counters.refreshes ?? 0;
    const refreshMs = refreshes * counters.missLatencyMs;
    const report: ModelReport = {
      hits: counters.hits,
      misses: counters.misses,
      hitRatio: ratio(counters.hits, counters.hits + counters.misses),
      l1HitRatio: ratio(counters.l1Hits ?? 0, counters.hits),
      readsSaved: counters.hits - refreshes,
      timeSavedMs: counters.hits * counters.missLatencyMs - refreshMs,
      refreshes,
      refreshMs,
    };
    byModel[model] = report;
    hits += report.hits;
    misses += report.misses;
    readsSaved += report.readsSaved;
    timeSavedMs += report.timeSavedMs;
  }

  const scale = MONTH_MS / inputs.windowMs;
  const storeTimeMs = inputs.storeRoundTrips * storeRoundTripMs;
  const monthlyReads = readsSaved * scale;
  const computeHoursSaved = (timeSavedMs * scale) / HOUR_MS;
  const dbReads = (monthlyReads / 1e6) * (prices.dbReadsPerMillion ?? 0);
  const compute = computeHoursSaved * (prices.computeHour ?? 0);
  // Memory is billed for what is held, not scaled: the window's final size is taken as the month's average.
  const cacheMemory = (inputs.bytesHeld / 1e9) * (prices.cacheGbMonth ?? 0);
  const storeTime = ((storeTimeMs * scale) / HOUR_MS) * (prices.computeHour ?? 0);
  return {
    windowMs: inputs.windowMs,
    hitRatio: ratio(hits, hits + misses),
    byModel,
    storeRoundTrips: inputs.storeRoundTrips,
    storeTimeMs,
    bytesHeld: inputs.bytesHeld,
    monthly: {
      readsSaved: monthlyReads,
      computeHoursSaved,
      savings: { dbReads, compute, total: dbReads + compute },
      costs: { cacheMemory, storeTime, total: cacheMemory + storeTime },
      net: dbReads + compute - cacheMemory - storeTime,
    },
  };
}

/** The report as a plain-text table (for a CLI or an example). */
export function formatCostReport(report: CostReport): string {
  const lines = ["model | hits | misses | hit ratio | L1 share | reads saved | time saved | refreshes", "---|---:|---:|---:|---:|---:|---:|---:"];
  for (const [model, row] of Object.entries(report.byModel)) {
    lines.push(
      `${model} | ${row.hits} | ${row.misses} | ${percent(row.hitRatio)} | ${percent(row.l1HitRatio)} | ${row.readsSaved} | ${(row.timeSavedMs / 1000).toFixed(1)} s | ${row.refreshes}`,
    );
  }
  const m = report.monthly;
  lines.push(
    "",
    `overall hit ratio ${percent(report.hitRatio)}; ${report.storeRoundTrips} store round trips; ${report.bytesHeld} bytes held`,
    `per month: ${Math.round(m.readsSaved)} reads saved, ${m.computeHoursSaved.toFixed(1)} compute hours saved`,
    `savings ${m.savings.total.toFixed(2)} (reads ${m.savings.dbReads.toFixed(2)}, compute ${m.savings.compute.toFixed(2)}), costs ${m.costs.total.toFixed(2)} (memory ${m.costs.cacheMemory.toFixed(2)}, store time ${m.costs.storeTime.toFixed(2)}), net ${m.net.toFixed(2)}`,
  );
  return lines.join("\n");
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function nonNegative(value: unknown, field: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${field} must be a non-negative, finite number, received: ${String(value)}`);
  }
}
