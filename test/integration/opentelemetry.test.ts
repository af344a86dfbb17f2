/**
 * The OpenTelemetry integration (`prisma-cache-plugin/opentelemetry`) on real Postgres and Redis: spans collected by
 * the SDK's InMemorySpanExporter, metrics by its in-memory metric exporter. One request's trace (a miss, then a
 * hit) is printed.
 */
import { context, type Span, SpanStatusCode, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cacheOtelMetrics, cacheTracing, INSTRUMENT_NAMES, SPAN_NAMES } from "../../src/opentelemetry.ts";
import { createCacheBed, type CacheBed } from "../support/cache-bed.ts";
import { uniquePrefix } from "../support/redis.ts";

let bed: CacheBed;
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  bed = await createCacheBed("redis");
  const author = await bed.base.prisma.user.create({ data: { email: "otel@observe.test" } });
  await bed.base.prisma.post.create({ data: { title: "traced", slug: "traced", published: true, authorId: author.id } });
});
afterAll(async () => {
  context.disable();
  await bed?.close();
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tracing(keys = false) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const instrumented = cacheTracing({ tracerProvider: provider, keys });
  cleanups.push(() => provider.shutdown());
  cleanups.push(() => instrumented.close());
  return { exporter, tracer: provider.getTracer("app") };
}

/** The spans as `name [attributes] <- parent name`, in the order they ended. */
function outline(spans: readonly ReadableSpan[]): string[] {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  return spans.map((span) => {
    const parent = span.parentSpanContext?.spanId;
    const attributes = Object.entries(span.attributes)
      .filter(([name]) => ["db.prisma.model", "db.prisma.operation", "cache.status", "cache.layer", "cache.outcome", "cache.models", "cache.applied"].includes(name))
      .map(([name, value]) => `${name}=${Array.isArray(value) ? value.join("|") : value}`)
      .join(" ");
    return `${span.name} [${attributes}]${parent ? ` <- ${byId.get(parent)?.name ?? parent}` : ""}`;
  });
}

describe("cacheTracing()", () => {
  it("records a read span per cached read, under the caller's span, with a fill span inside a miss", async () => {
    const { exporter, tracer } = tracing();
    const { prisma } = bed.cached({ prefix: `observe-${uniquePrefix("otel")}` });
    await tracer.startActiveSpan("GET /posts", async (request: Span) => {
      await prisma.post.findMany({ where: { published: true } });
      await prisma.post.findMany({ where: { published: true } });
      request.end();
    });
    const spans = exporter.getFinishedSpans();
    console.log(`one request's trace (a miss, then a hit):\n  ${outline(spans).join("\n  ")}`);

    const request = spans.find((span) => span.name === "GET /posts")!;
    const reads = spans.filter((span) => span.name === SPAN_NAMES.read);
    expect(reads).toHaveLength(2);
    const [miss, hit] = reads;
    expect(miss!.attributes).toMatchObject({ "db.prisma.model": "Post", "db.prisma.operation": "findMany", "cache.status": "miss", "cache.layer": "none" });
    expect(hit!.attributes).toMatchObject({ "db.prisma.model": "Post", "db.prisma.operation": "findMany", "cache.status": "hit", "cache.layer": "l2" });
    expect(hit!.attributes["cache.key"], "keys are recorded only when asked for").toBeUndefined();
    for (const read of reads) expect(read.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    const fill = spans.find((span) => span.name === SPAN_NAMES.fill)!;
    expect(fill.attributes).toMatchObject({ "db.prisma.model": "Post", "cache.outcome": "stored" });
    expect(fill.parentSpanContext?.spanId, "the miss's load runs inside its read span").toBe(miss!.spanContext().spanId);
    expect(spans).toHaveLength(4);
  });

  it("records a span per invalidation, with the models it names", async () => {
    const { exporter } = tracing();
    const { prisma } = bed.cached({ prefix: `observe-${uniquePrefix("otel-inv")}` });
    await prisma.post.update({ where: { slug: "traced" }, data: { views: { increment: 1 } } });
    const [span] = exporter.getFinishedSpans().filter((one) => one.name === SPAN_NAMES.invalidate);
    expect(span!.attributes["cache.models"]).toContain("Post");
    expect(span!.attributes["cache.applied"]).toBe(true);
  });

  it("records the entry key when asked, and nothing once closed", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    cleanups.push(() => provider.shutdown());
    const instrumented = cacheTracing({ tracerProvider: provider, keys: true });
    const prefix = `observe-${uniquePrefix("otel-keys")}`;
    const { prisma } = bed.cached({ prefix });
    await prisma.post.count();
    const [read] = exporter.getFinishedSpans().filter((span) => span.name === SPAN_NAMES.read);
    expect(read!.attributes["cache.key"]).toMatch(new RegExp(`^${prefix}:`));
    instrumented.close();
    await prisma.post.count();
    expect(exporter.getFinishedSpans().filter((span) => span.name === SPAN_NAMES.read)).toHaveLength(1);
  });

  it("marks the read span of a query that rejects as an error, with the exception", async () => {
    const { exporter } = tracing();
    const { prisma } = bed.cached({ prefix: `observe-${uniquePrefix("otel-err")}` });
    await expect(prisma.post.findUniqueOrThrow({ where: { slug: "no such post" } })).rejects.toThrow();
    const [read] = exporter.getFinishedSpans().filter((span) => span.name === SPAN_NAMES.read);
    expect(read!.status.code).toBe(SpanStatusCode.ERROR);
    expect(read!.events.map((event) => event.name)).toContain("exception");
    expect(read!.attributes["cache.status"]).toBe("miss");
  });

  it("leaves the caller's active context as it was", async () => {
    tracing();
    const { prisma } = bed.cached({ prefix: `observe-${uniquePrefix("otel-ctx")}` });
    const outside = trace.getActiveSpan();
    await prisma.post.count();
    expect(trace.getActiveSpan()).toBe(outside);
  });
});

describe("cacheOtelMetrics()", () => {
  it("records reads, fills and invalidations as counters and latency histograms, by model, operation and layer", async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [reader] });
    cleanups.push(() => provider.shutdown());
    const recording = cacheOtelMetrics({ meterProvider: provider });
    cleanups.push(() => recording.close());
    const { prisma } = bed.cached({ prefix: `observe-${uniquePrefix("otel-metrics")}` });
    await prisma.user.findMany();
    await prisma.user.findMany();
    await prisma.user.findMany();
    await prisma.user.update({ where: { email: "otel@observe.test" }, data: { name: "O" } });
    await reader.forceFlush();

    const metrics = exporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    const named = (name: string) => metrics.find((metric) => metric.descriptor.name === name)!;
    const points = (name: string) => named(name).dataPoints.filter((point) => point.attributes["db.prisma.model"] === "User");
    expect(points(INSTRUMENT_NAMES.reads).map((point) => [point.attributes["cache.status"], point.attributes["cache.layer"], point.value])).toEqual(
      expect.arrayContaining([
        ["miss", "none", 1],
        ["hit", "l2", 2],
      ]),
    );
    const hitLatency = points(INSTRUMENT_NAMES.readDuration).find((point) => point.attributes["cache.status"] === "hit")!;
    expect(named(INSTRUMENT_NAMES.readDuration).descriptor.unit).toBe("s");
    expect((hitLatency.value as { count: number }).count).toBe(2);
    expect(points(INSTRUMENT_NAMES.fills).map((point) => [point.attributes["cache.outcome"], point.value])).toEqual([["stored", 1]]);
    expect(points(INSTRUMENT_NAMES.invalidations).map((point) => [point.attributes["cache.result"], point.value])).toEqual([["applied", 1]]);
  });
});
