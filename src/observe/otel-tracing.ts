import { type Attributes, type Context, context, type Span, SpanStatusCode, type TracerProvider, trace } from "@opentelemetry/api";
import type { AsyncLocalStorage } from "node:async_hooks";
import { channels, type FillEvent, type InvalidateEvent, type ReadEvent } from "./channels.ts";

/** Options of `cacheTracing()`. */
export interface CacheTracingOptions {
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider;
  /**
   * Record each read's entry key as `cache.key`. Keys hold short args verbatim (`where: { email }`), so they are off
   * unless asked for. @default false
   */
  keys?: boolean;
}

/** What `cacheTracing()` returns. */
export interface CacheTracing {
  /** Stops making spans. */
  close(): void;
}

/** The span names. */
export const SPAN_NAMES = { read: "prisma:cache:read", fill: "prisma:cache:fill", invalidate: "prisma:cache:invalidate" } as const;

type Traced = typeof channels.read | typeof channels.fill | typeof channels.invalidate;

/**
 * OpenTelemetry spans for the cache, made from the plugin's tracing channels (a subscriber, so a client needs no
 * option): `prisma:cache:read` for every cached read, with `db.prisma.model`, `db.prisma.operation`, `cache.status`
 * and `cache.layer`; `prisma:cache:fill` for a miss's database load and store (inside its read's span; a background
 * refresh's under the read that started it); `prisma:cache:invalidate` for every invalidation applied.
 *
 * While a span is open it is the active context, so Prisma's own spans of a miss's query nest under it.
 */
export function cacheTracing(options: CacheTracingOptions = {}): CacheTracing {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer("prisma-cache-plugin");
  const keys = options.keys === true;
  const undo = [
    spansOf(
      channels.read,
      (event: ReadEvent) => tracer.startSpan(SPAN_NAMES.read, { attributes: readStart(event) }),
      (span, event: ReadEvent) => readEnd(span, event, keys),
    ),
    spansOf(channels.fill, (event: FillEvent) => tracer.startSpan(SPAN_NAMES.fill, { attributes: modelAttributes(event) }), fillEnd),
    spansOf(channels.invalidate, (event: InvalidateEvent) => tracer.startSpan(SPAN_NAMES.invalidate, { attributes: invalidateStart(event) }), invalidateEnd),
  ];
  return {
    close() {
      for (const stop of undo) stop();
    },
  };
}

/**
 * Opens a span when a traced call starts, makes it the active context while the call runs, and ends it when the call
 * settles. The channel runs the call inside `store.run(transform(event), call)`; this store is OpenTelemetry's
 * context (`context.with`) rather than an AsyncLocalStorage of our own, so the span is what `context.active()` sees.
 */
function spansOf<E extends object>(channel: Traced, open: (event: E) => Span, close: (span: Span, event: E) => void): () => void {
  const spans = new WeakMap<object, Span>();
  const store = { run: (active: Context, call: () => unknown) => context.with(active, call) } as unknown as AsyncLocalStorage<Context>;
  const transform = (event: unknown): Context => {
    const span = open(event as E);
    spans.set(event as object, span);
    return trace.setSpan(context.active(), span);
  };
  const settled = (message: unknown) => {
    const span = spans.get(message as object);
    if (span === undefined) return;
    spans.delete(message as object);
    const { error } = message as { error?: unknown };
    if (error !== undefined) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    close(span, message as E);
    span.end();
  };
  channel.start.bindStore(store, transform);
  channel.asyncEnd.subscribe(settled);
  return () => {
    channel.start.unbindStore(store);
    channel.asyncEnd.unsubscribe(settled);
  };
}

function modelAttributes(event: { model: string; operation: string }): Attributes {
  return { "db.prisma.model": event.model, "db.prisma.operation": event.operation, "db.operation.name": event.operation };
}

function readStart(event: ReadEvent): Attributes {
  return modelAttributes(event);
}

function readEnd(span: Span, event: ReadEvent, keys: boolean): void {
  const attributes: Attributes = {
    "cache.status": event.status,
    "cache.layer": event.layer ?? "none",
    "cache.ttl_ms": Math.round(event.ttlMs),
    "cache.age_ms": Math.round(event.ageMs),
    "cache.reason": event.reason,
  };
  if (event.tags.length > 0) attributes["cache.tags"] = [...event.tags];
  if (keys && event.key !== null) attributes["cache.key"] = event.key;
  span.setAttributes(attributes);
}

function fillEnd(span: Span, event: FillEvent): void {
  span.setAttributes({ "cache.outcome": event.outcome ?? "failed", "cache.load_ms": Math.round((event.loadMs ?? 0) * 1000) / 1000 });
}

function invalidateStart(event: InvalidateEvent): Attributes {
  return { "cache.models": [...event.models], "cache.tags": [...event.tags], "cache.all": event.all, "cache.stamps": event.stamps.length };
}

function invalidateEnd(span: Span, event: InvalidateEvent): void {
  span.setAttribute("cache.applied", event.applied === true);
}
