/**
 * The opt-in systems of one cached client, built from the resolved options: the cost and sizing report, the TTL
 * of each fill (ttl functions, adaptive TTL), the hot-read list and warming, and write-behind counters. The
 * extension wires them in; `close()` (from `$disconnect`) stops every timer and flusher started here.
 */
import { CacheConfigError, CacheError, messageOf, type ErrorReporter } from "./errors.ts";
import type { UnitPrices } from "./insight/cost-model.ts";
import { CacheInsight, type InsightReport, type ReportRequest } from "./insight/insight.ts";
import type { ResolvedOptions } from "./options.ts";
import { EntryTtl } from "./read/entry-ttl.ts";
import { observeAll, type ReadObserver } from "./read/read-observer.ts";
import type { ModelGraph } from "./schema/model-graph.ts";
import type { GuardedStore } from "./stores/guarded-store.ts";
import { describe, isPlainObject, rejectUnknownKeys } from "./validate.ts";
import { HotReads, sharedHotReads } from "./warming/hot-reads.ts";
import { warm, type WarmRead, type WarmResult } from "./warming/warm.ts";
import type { FlushClient } from "./write-behind/flusher.ts";
import type { IncrementRequest } from "./write-behind/recorder.ts";
import { writeBehind, type WriteBehind } from "./write-behind/write-behind.ts";

// The cached client's type is only known to the caller of `$extends`: warm functions receive it untyped.
// biome-ignore lint/suspicious/noExplicitAny: see above.
type AnyClient = any;

/** `$cache.report()`: the cost report, the sizing curve (with `sizing`), and what adaptive TTL did per model. */
export interface CacheReport extends InsightReport {
  /** Per model with `adaptiveTtl`: keys with a learned TTL, and how often a refill lengthened or shortened one. */
  adaptiveTtl: Record<string, { keys: number; lengthened: number; shortened: number }>;
}

/** The `$cache` methods of the opt-in systems. */
export interface SystemsApi {
  /**
   * What the cache saved and costs since the client was created, per model, with a monthly estimate from `prices`;
   * `sizing` (with the `sizing` option) predicts the L1 hit ratio by size and recommends one for `targetHitRatio`.
   */
  report(request?: ReportRequest): CacheReport;
  /**
   * Runs reads through the cache so their entries are filled: descriptions `{ model, operation, args }` or functions
   * of the client, `concurrency` at a time (default 4). Resolves to `{ ran, filled, failed, skipped }`; never rejects
   * for a failing read.
   */
  warm(reads: readonly WarmRead<AnyClient>[] | ((client: AnyClient) => Promise<unknown>), options?: { concurrency?: number }): Promise<WarmResult<AnyClient>>;
  /** The outcome of `warmOnStart` (undefined without it); resolves once the start-up warming has run. */
  warmedOnStart(): Promise<WarmResult<AnyClient> | undefined>;
  /** Publishes this process's hot reads now (with `hotReads`); resolves to the shared list's length. */
  publishHotReads(): Promise<number>;
  /**
   * Write-behind (with `writeBehind`): adds `by` (default 1) to the integer `field` of the row `where` names;
   * resolves once Redis recorded it. The database sees it at the next flush (docs/write-behind.md).
   */
  increment(request: IncrementRequest): Promise<void>;
}

export interface SystemsParts {
  options: ResolvedOptions;
  /** The namespaced prefix (with the schema's fingerprint) of cache keys and the hot-read list. */
  prefix: string;
  graph: ModelGraph;
  store: GuardedStore;
  report: ErrorReporter;
}

export interface Systems {
  /** For the read path: what it reports to, and the TTL of each fill. */
  observer: ReadObserver | undefined;
  ttl: EntryTtl;
  api: SystemsApi;
  /** Starts what needs the cached client (warming on start, the flusher, publishing); once. */
  start(client: object): void;
  /** Stops timers and the flusher, publishes the hot reads a last time; pending increments stay in Redis. */
  close(): Promise<void>;
}

const PRICE_KEYS = ["cacheGbMonth", "dbReadsPerMillion", "computeHour"];

export function createSystems({ options, prefix, graph, store, report }: SystemsParts): Systems {
  const insight = new CacheInsight(options.sizing);
  const ttl = new EntryTtl(report);
  const redis = options.redis;
  const hotReads = options.hotReads && redis ? new HotReads(redis, prefix, options.hotReads.k) : undefined;
  let client: object | undefined;
  let counters: WriteBehind | undefined;
  let publishTimer: ReturnType<typeof setInterval> | undefined;
  let warming: Promise<WarmResult<AnyClient> | undefined> = Promise.resolve(undefined);

  const failed = (code: "WARM_FAILED" | "FLUSH_FAILED", operation: "warm" | "flush", what: string) => (error: unknown) =>
    report(new CacheError(code, `${what}: ${messageOf(error)}`, { cause: error }), { operation });
  const publish = () => hotReads?.publish().catch(failed("WARM_FAILED", "warm", "publishing the hot-read list failed"));

  const api: SystemsApi = {
    report(request = {}) {
      checkReportRequest(request);
      const held = (store.store as { bytesHeld?: number }).bytesHeld;
      const figures = { storeRoundTrips: store.roundTrips, storeRoundTripMs: store.roundTrips === 0 ? 0 : store.roundTripMs / store.roundTrips };
      let result = insight.report(request, { ...figures, bytesHeld: held ?? 0 });
      // A store that cannot say what it holds (Redis): estimated from the sampled entries' mean size, when sized.
      if (held === undefined && result.sizing) {
        result = insight.report(request, { ...figures, bytesHeld: Math.round(result.sizing.distinctKeys * result.sizing.meanEntryBytes) });
      }
      return { ...result, adaptiveTtl: ttl.stats() };
    },
    async warm(reads, warmOptions = {}) {
      if (!Array.isArray(reads) && typeof reads !== "function")
        throw new CacheConfigError("warm(reads)", `must be an array of reads or a function of the client, received: ${describe(reads)}`);
      if (!isPlainObject(warmOptions)) throw new CacheConfigError("warm(options)", `must be an object { concurrency? }, received: ${describe(warmOptions)}`);
      rejectUnknownKeys(warmOptions, ["concurrency"], "warm(options)");
      const concurrency = warmOptions.concurrency ?? 4;
      if (!Number.isInteger(concurrency) || concurrency < 1)
        throw new CacheConfigError("warm(options).concurrency", `must be a positive integer, received: ${describe(concurrency)}`);
      return warm(started(), reads, { concurrency });
    },
    warmedOnStart: () => warming,
    publishHotReads: async () => {
      if (!hotReads) throw new CacheConfigError("hotReads", "is off: create the plugin with hotReads: true to publish this process's hot reads");
      return hotReads.publish();
    },
    async increment(request) {
      if (!counters) throw new CacheConfigError("writeBehind", "is off: create the plugin with writeBehind: true (and a Redis store) to use $cache.increment");
      checkCounterField(graph, request);
      return counters.increment(request);
    },
  };

  function started(): object {
    if (client === undefined) throw new CacheConfigError("$cache", "is not attached to a client yet");
    return client;
  }

  return {
    observer: observeAll([insight, hotReads]),
    ttl,
    api,
    start(cached) {
      if (client !== undefined) return;
      client = cached;
      if (options.writeBehind && redis) {
        const { flushIntervalMs, leaseMs, table, logRetentionMs, flush } = options.writeBehind;
        // Keyed by the plain prefix, not the schema's fingerprint: pending increments must survive a deploy.
        counters = writeBehind({
          redis,
          client: cached as FlushClient,
          prefix: options.prefix,
          models: [...graph.models.keys()],
          flushIntervalMs,
          leaseMs,
          table,
          logRetentionMs,
          flush,
          onError: failed("FLUSH_FAILED", "flush", "a write-behind flush failed; its batch stays in Redis and is retried"),
        });
      }
      if (hotReads && options.hotReads) {
        publishTimer = setInterval(publish, options.hotReads.publishEveryMs);
        publishTimer.unref?.();
      }
      if (options.warmOnStart && redis) {
        const { concurrency } = options.warmOnStart;
        const k = options.hotReads?.k;
        // In the background, after this tick: the client is usable at once, and reads not yet warmed just miss.
        warming = new Promise((resolve) => setImmediate(resolve))
          .then(() => sharedHotReads(redis, prefix, k))
          .then((list) => warm(cached, list, { concurrency }))
          .then((result) => {
            for (const { error } of result.failed) failed("WARM_FAILED", "warm", "a read of the hot-read list failed while warming")(error);
            return result;
          })
          .catch((error) => {
            failed("WARM_FAILED", "warm", "warming on start failed")(error);
            return undefined;
          });
      }
    },
    async close() {
      if (publishTimer !== undefined) clearInterval(publishTimer);
      publishTimer = undefined;
      await warming;
      await publish();
      await counters?.close();
    },
  };
}

function checkReportRequest(request: unknown): asserts request is ReportRequest {
  if (!isPlainObject(request)) throw new CacheConfigError("report()", `takes { prices?, targetHitRatio? }, received: ${describe(request)}`);
  rejectUnknownKeys(request, ["prices", "targetHitRatio"], "report()");
  const { prices, targetHitRatio } = request as { prices?: UnitPrices; targetHitRatio?: unknown };
  if (prices !== undefined) {
    if (!isPlainObject(prices)) throw new CacheConfigError("report().prices", `must be an object { ${PRICE_KEYS.join(", ")} }, received: ${describe(prices)}`);
    rejectUnknownKeys(prices, PRICE_KEYS, "report().prices");
    for (const [name, price] of Object.entries(prices)) {
      if (typeof price !== "number" || !Number.isFinite(price) || price < 0) {
        throw new CacheConfigError(`report().prices.${name}`, `must be a non-negative, finite price, received: ${describe(price)}`);
      }
    }
  }
  if (targetHitRatio !== undefined && (typeof targetHitRatio !== "number" || !(targetHitRatio > 0 && targetHitRatio <= 1))) {
    throw new CacheConfigError("report().targetHitRatio", `must be a hit ratio in (0, 1], received: ${describe(targetHitRatio)}`);
  }
}

/** The counter must be an integer field of the model (where the schema says so); the recorder checks the rest. */
function checkCounterField(graph: ModelGraph, request: IncrementRequest): void {
  const fields = isPlainObject(request) && typeof request.model === "string" ? graph.models.get(request.model)?.fieldTypes : undefined;
  if (fields === undefined || typeof request.field !== "string") return;
  const type = fields.get(request.field);
  if (type !== "Int" && type !== "BigInt") {
    throw new CacheConfigError(
      "increment().field",
      `must be an Int or BigInt field of ${request.model}, received: ${describe(request.field)}${type === undefined ? " (no such field)" : ` (a ${type} field)`}`,
    );
  }
}
