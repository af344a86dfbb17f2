import { type Attributes, type Counter, type Histogram, type MeterProvider, metrics } from "@opentelemetry/api";
import { type LabelValues, METRICS, type MetricName, recordMeasurements } from "./measurements.ts";
import { DEFAULT_BUCKETS } from "./prometheus.ts";

/** Options of `cacheOtelMetrics()`. */
export interface CacheOtelMetricsOptions {
  /** Where measurements go. @default the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider;
}

/** What `cacheOtelMetrics()` returns. */
export interface CacheOtelMetrics {
  /** Stops recording. */
  close(): void;
}

/** Instrument names (OpenTelemetry style) of the metrics in measurements.ts. */
export const INSTRUMENT_NAMES: Record<MetricName, string> = {
  reads: "prisma.cache.reads",
  readDuration: "prisma.cache.read.duration",
  fills: "prisma.cache.fills",
  fillDuration: "prisma.cache.fill.duration",
  refreshes: "prisma.cache.refreshes",
  invalidations: "prisma.cache.invalidations",
  invalidationDuration: "prisma.cache.invalidation.duration",
  errors: "prisma.cache.errors",
};

/** Attribute names of the labels, as the spans (otel-tracing.ts) name them. */
const ATTRIBUTES: Record<string, string> = {
  model: "db.prisma.model",
  operation: "db.prisma.operation",
  status: "cache.status",
  layer: "cache.layer",
  outcome: "cache.outcome",
  reason: "cache.refresh_reason",
  result: "cache.result",
  code: "error.type",
};

/**
 * The cache's counters and latency histograms (seconds) as OpenTelemetry instruments, recorded from the plugin's
 * channels: the same metrics as `cacheMetrics()` for Prometheus (measurements.ts), under OpenTelemetry names.
 */
export function cacheOtelMetrics(options: CacheOtelMetricsOptions = {}): CacheOtelMetrics {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter("prisma-cache-plugin");
  const instruments = new Map<MetricName, Counter | Histogram>();
  for (const [metric, definition] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
    const name = INSTRUMENT_NAMES[metric];
    instruments.set(
      metric,
      definition.kind === "counter"
        ? meter.createCounter(name, { description: definition.help })
        : meter.createHistogram(name, { description: definition.help, unit: "s", advice: { explicitBucketBoundaries: [...DEFAULT_BUCKETS] } }),
    );
  }
  const attributes = (metric: MetricName, labels: LabelValues): Attributes => {
    const out: Attributes = {};
    METRICS[metric].labels.forEach((label, i) => {
      out[ATTRIBUTES[label] ?? label] = labels[i];
    });
    return out;
  };
  const stop = recordMeasurements({
    count: (metric, labels, by) => (instruments.get(metric) as Counter).add(by, attributes(metric, labels)),
    observe: (metric, labels, seconds) => (instruments.get(metric) as Histogram).record(seconds, attributes(metric, labels)),
  });
  return { close: stop };
}
