import { channels, type ErrorEvent, type FillEvent, type InvalidateEvent, type ReadEvent, type RefreshEvent } from "./channels.ts";

/**
 * The cache's metrics, as one list that the Prometheus exposition (prometheus.ts) and the OpenTelemetry meters
 * (otel-metrics.ts) both record: what is counted, under which labels, and which channel event says so. Label
 * values come from the schema (models, operations) or from closed sets, so the number of series stays bounded.
 */
export const METRICS = {
  reads: { kind: "counter", help: "Cached reads, by how the cache answered them.", labels: ["model", "operation", "status", "layer"] },
  readDuration: { kind: "histogram", help: "Time to answer a cached read, in seconds (database time included on a miss).", labels: ["model", "operation", "status", "layer"] },
  fills: { kind: "counter", help: "Database loads of missed or refreshed entries, by what became of the result.", labels: ["model", "operation", "outcome"] },
  fillDuration: { kind: "histogram", help: "Time to load an entry from the database and store it, in seconds.", labels: ["model", "operation"] },
  refreshes: { kind: "counter", help: "Background refreshes started (stale within swr, or early).", labels: ["model", "operation", "reason"] },
  invalidations: { kind: "counter", help: "Invalidations applied, per model they name (_tag: tags only, _all: everything).", labels: ["model", "result"] },
  invalidationDuration: { kind: "histogram", help: "Time to apply an invalidation to the store, in seconds.", labels: ["result"] },
  errors: { kind: "counter", help: "Errors the cache absorbed (the query used the database).", labels: ["code", "operation", "model"] },
} as const satisfies Record<string, { kind: "counter" | "histogram"; help: string; labels: readonly string[] }>;

export type MetricName = keyof typeof METRICS;

/** Label values, in the order of the metric's `labels`. */
export type LabelValues = readonly string[];

/** Where measurements go. */
export interface MeasurementSink {
  count(metric: MetricName, labels: LabelValues, by: number): void;
  observe(metric: MetricName, labels: LabelValues, seconds: number): void;
}

/** Subscribes `sink` to the channels; returns the unsubscribe. */
export function recordMeasurements(sink: MeasurementSink): () => void {
  const startedAt = new WeakMap<object, number>();
  const start = (event: unknown) => void startedAt.set(event as object, performance.now());
  const elapsed = (event: object) => {
    const at = startedAt.get(event);
    return at === undefined ? undefined : (performance.now() - at) / 1000;
  };

  const readEnd = (message: unknown) => {
    const read = message as ReadEvent;
    const labels = [read.model, read.operation, read.status, read.layer ?? "none"];
    sink.count("reads", labels, 1);
    const seconds = elapsed(read);
    if (seconds !== undefined) sink.observe("readDuration", labels, seconds);
  };
  const fillEnd = (message: unknown) => {
    const fill = message as FillEvent;
    sink.count("fills", [fill.model, fill.operation, fill.outcome ?? (fill.error === undefined ? "not-stored" : "failed")], 1);
    const seconds = elapsed(fill);
    if (seconds !== undefined) sink.observe("fillDuration", [fill.model, fill.operation], seconds);
  };
  const invalidateEnd = (message: unknown) => {
    const invalidation = message as InvalidateEvent;
    const result = invalidation.applied ? "applied" : "pending";
    const targets = [...invalidation.models, ...(invalidation.tags.length > 0 ? ["_tag"] : []), ...(invalidation.all ? ["_all"] : [])];
    for (const model of targets) sink.count("invalidations", [model, result], 1);
    const seconds = elapsed(invalidation);
    if (seconds !== undefined) sink.observe("invalidationDuration", [result], seconds);
  };
  const refresh = (message: unknown) => {
    const event = message as RefreshEvent;
    sink.count("refreshes", [event.model, event.operation, event.reason], 1);
  };
  const error = (message: unknown) => {
    const event = message as ErrorEvent;
    sink.count("errors", [event.error.code, event.operation, event.model ?? ""], 1);
  };

  // A rejected read publishes `error` and then `asyncEnd`: counting at `asyncEnd` counts each read once.
  const subscriptions: [{ subscribe(f: (m: unknown) => void): void; unsubscribe(f: (m: unknown) => void): unknown }, (m: unknown) => void][] = [
    [channels.read.start, start],
    [channels.read.asyncEnd, readEnd],
    [channels.fill.start, start],
    [channels.fill.asyncEnd, fillEnd],
    [channels.invalidate.start, start],
    [channels.invalidate.asyncEnd, invalidateEnd],
    [channels.refresh, refresh],
    [channels.error, error],
  ];
  for (const [channel, listener] of subscriptions) channel.subscribe(listener);
  return () => {
    for (const [channel, listener] of subscriptions) channel.unsubscribe(listener);
  };
}
