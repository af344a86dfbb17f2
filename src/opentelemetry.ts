/**
 * `prisma-cache-plugin/opentelemetry`: spans and metrics for OpenTelemetry. A separate entry point, so the main one
 * never loads `@opentelemetry/api` (an optional peer dependency).
 */
export { cacheTracing, SPAN_NAMES, type CacheTracing, type CacheTracingOptions } from "./observe/otel-tracing.ts";
export { cacheOtelMetrics, INSTRUMENT_NAMES, type CacheOtelMetrics, type CacheOtelMetricsOptions } from "./observe/otel-metrics.ts";
