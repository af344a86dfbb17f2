import { CacheConfigError } from "../errors.ts";
import { type LabelValues, METRICS, type MetricName, recordMeasurements } from "./measurements.ts";

/** Options of `cacheMetrics()`. */
export interface CacheMetricsOptions {
  /** Start of every metric name. @default "prisma_cache" */
  prefix?: string;
  /**
   * Upper bounds of the latency histograms' buckets, in seconds, ascending. @default DEFAULT_BUCKETS (100 µs to 2.5 s:
   * hits take microseconds, misses take the database's time)
   */
  buckets?: readonly number[];
}

/** The default histogram buckets, in seconds. */
export const DEFAULT_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The cache's counters and latency histograms, read as Prometheus text. */
export interface CacheMetrics {
  /** The metrics in the Prometheus text exposition format (version 0.0.4): serve it from a `/metrics` route. */
  prometheus(): string;
  /** The `Content-Type` of `prometheus()`'s text. */
  readonly contentType: string;
  /** Sets every series back to zero (drops them). */
  reset(): void;
  /** Stops recording. */
  close(): void;
}

interface Series {
  labels: LabelValues;
  /** Counter: the count. Histogram: the sum of observations. */
  value: number;
  /** Histogram only: observations per bucket (not cumulative) and their number. */
  buckets?: number[];
  count?: number;
}

/**
 * Records the cache's events in this process (every plugin instance: they publish to the same channels) and renders
 * them for Prometheus. No dependency: to merge with `prom-client`'s registry, serve both texts from one route
 * (examples/prometheus-metrics.ts).
 *
 * ```ts
 * const metrics = cacheMetrics();
 * app.get("/metrics", (_, res) => res.type(metrics.contentType).send(metrics.prometheus()));
 * ```
 */
export function cacheMetrics(options: CacheMetricsOptions = {}): CacheMetrics {
  const prefix = options.prefix ?? "prisma_cache";
  if (typeof prefix !== "string" || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new CacheConfigError("cacheMetrics.prefix", `must be a Prometheus metric name (letters, digits, '_' and ':'), received: ${String(prefix)}`);
  }
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  if (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => typeof b !== "number" || !(b > 0) || !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
    throw new CacheConfigError("cacheMetrics.buckets", `must be ascending positive numbers of seconds, received: ${JSON.stringify(buckets)}`);
  }
  const series = new Map<MetricName, Map<string, Series>>();
  const seriesOf = (metric: MetricName, labels: LabelValues): Series => {
    let byLabels = series.get(metric);
    if (byLabels === undefined) series.set(metric, (byLabels = new Map()));
    const id = labels.join("\u0000");
    let one = byLabels.get(id);
    if (one === undefined) {
      one = METRICS[metric].kind === "histogram" ? { labels, value: 0, buckets: new Array(buckets.length).fill(0), count: 0 } : { labels, value: 0 };
      byLabels.set(id, one);
    }
    return one;
  };
  const stop = recordMeasurements({
    count(metric, labels, by) {
      seriesOf(metric, labels).value += by;
    },
    observe(metric, labels, seconds) {
      const one = seriesOf(metric, labels);
      one.value += seconds;
      one.count!++;
      const bucket = buckets.findIndex((bound) => seconds <= bound);
      if (bucket >= 0) one.buckets![bucket]!++;
    },
  });

  return {
    contentType: "text/plain; version=0.0.4; charset=utf-8",
    prometheus() {
      const lines: string[] = [];
      for (const [metric, definition] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
        const histogram = definition.kind === "histogram";
        const name = `${prefix}_${snakeCase(metric)}${histogram ? "_seconds" : "_total"}`;
        lines.push(`# HELP ${name} ${definition.help}`, `# TYPE ${name} ${definition.kind}`);
        for (const one of series.get(metric)?.values() ?? []) {
          const labels = definition.labels.map((label, i) => `${label}="${escapeLabel(one.labels[i] ?? "")}"`);
          if (!histogram) {
            lines.push(`${name}{${labels.join(",")}} ${one.value}`);
            continue;
          }
          let cumulative = 0;
          buckets.forEach((bound, i) => {
            cumulative += one.buckets![i]!;
            lines.push(`${name}_bucket{${[...labels, `le="${bound}"`].join(",")}} ${cumulative}`);
          });
          lines.push(`${name}_bucket{${[...labels, 'le="+Inf"'].join(",")}} ${one.count}`);
          lines.push(`${name}_sum{${labels.join(",")}} ${one.value}`);
          lines.push(`${name}_count{${labels.join(",")}} ${one.count}`);
        }
      }
      return `${lines.join("\n")}\n`;
    },
    reset: () => series.clear(),
    close: stop,
  };
}

/** `readDuration` → `read_duration`. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** Prometheus label values escape backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
