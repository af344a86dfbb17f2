import { Prisma } from "@prisma/client/extension";
import { type CacheApi, createCacheApi, type RawSql } from "./cache-api.ts";
import { storeLease } from "./change-feed/store-lease.ts";
import { createErrorReporter } from "./error-reporter.ts";
import { CacheConfigError, CacheStoreError, messageOf } from "./errors.ts";
import { Metrics } from "./metrics.ts";
import type { CacheInfoQuery } from "./observe/cache-info.ts";
import { resolveOptions, type CachePluginOptions, type CacheStrategy, type ResolvedOptions } from "./options.ts";
import type { CachedFind, FindOperation } from "./read/fluent.ts";
import { PlanCache } from "./read/plans.ts";
import { PolicyTable } from "./read/policy.ts";
import { cachedReads } from "./read/read-call.ts";
import { ReadThrough } from "./read/read-through.ts";
import { Serializer } from "./read/serializer.ts";
import { clientFingerprint, fingerprintMismatch, namespacedPrefix, schemaMismatch } from "./schema/client-check.ts";
import { graphFromRuntime, graphFromSchema, type ModelGraph, type RuntimeDataModel } from "./schema/model-graph.ts";
import { DEFAULTS } from "./defaults.ts";
import { transactionTimeoutOf } from "./transaction-scope.ts";
import { GuardedStore } from "./stores/guarded-store.ts";
import { createSystems } from "./systems.ts";
import { memoryStore } from "./stores/memory-store.ts";
import { transactionWithInvalidation } from "./write/interactive-transactions.ts";
import { Invalidator } from "./write/invalidator.ts";
import { writeHooks } from "./write/write-hooks.ts";
import { WriteThrough } from "./write/write-through.ts";

/** Extra argument every cached read accepts. */
export interface CacheReadArgs<Result = unknown, Args = unknown> {
  /** Per-call cache policy, or `false` to bypass the cache (no lookup, no fill). A `ttl` function receives `Result`. */
  cacheStrategy?: CacheStrategy<Result, Args> | false;
}

/** What a cached read method returns: Prisma's query promise, plus `withCacheInfo()` (observe/cache-info.ts). */
export type CachedQuery<R> = Prisma.PrismaPromise<R> & CacheInfoQuery<R>;

/** A cached find: Prisma's fluent relation methods as well as `withCacheInfo()`. */
export type CachedFindQuery<T, A, P extends FindOperation> = CachedFind<T, A, P> & CacheInfoQuery<Prisma.Result<T, A, P>>;

/** The internals of a Prisma 7 client the plugin reads; all present since Prisma 5. */
interface ClientInternals {
  _runtimeDataModel: RuntimeDataModel;
  _engineConfig?: { inlineSchema?: unknown };
  $transaction: (this: object, ...args: unknown[]) => Promise<unknown>;
  $queryRaw(query: unknown): Promise<unknown>;
  $disconnect(): Promise<void>;
}

/**
 * The cache extension: `new PrismaClient({ adapter }).$extends(cachePlugin({ ... }))`.
 *
 * Reads are overridden as model methods, so a hit costs no trip through Prisma's query pipeline; a miss runs the
 * query through the client below the extension. Writes are seen by query hooks, which also see nested writes,
 * batch transactions and interactive transactions. Put it last in a chain of `$extends` calls: extensions added
 * after it do not see cached reads, and result extensions added after it are not applied to them.
 */
export function cachePlugin<M extends string = string>(options: CachePluginOptions<M> = {}) {
  const resolved = resolveOptions(options);
  // One warning per plugin instance, however many clients it extends.
  let warnedCoarse = false;
  const warnCoarse = () => {
    if (warnedCoarse) return;
    warnedCoarse = true;
    console.warn(
      "[prisma-cache-plugin] no `schema` passed: invalidation is coarse (writes evict every related model). " +
        'Add `generator cache { provider = "prisma-cache-plugin" }` to schema.prisma and pass `schema: cacheSchema`, or pass `schema: false` to choose coarse invalidation.',
    );
  };

  return Prisma.defineExtension((client) => {
    const below = client as unknown as ClientInternals;
    const runtimeModel = below._runtimeDataModel;
    const modelNames = Object.keys(runtimeModel.models);
    const fingerprint = clientFingerprint(below);
    const graph = buildGraph(resolved, runtimeModel, fingerprint, warnCoarse);
    // Keys live under the schema's fingerprint, so a deploy that changes the data model never reads entries (or
    // stamps) an older one wrote to a shared store.
    const prefix = namespacedPrefix(resolved.prefix, fingerprint);
    const policies = new PolicyTable(resolved, modelNames);
    const metrics = new Metrics();
    const report = createErrorReporter(metrics, resolved.onError);
    const store = new GuardedStore(resolved.store ?? memoryStore(), resolved.timeoutMs, report, resolved.circuitBreaker);
    metrics.circuitOpen = () => store.circuitOpen;
    const serializer = new Serializer();
    const systems = createSystems({ options: resolved, prefix, graph, store, report });
    const invalidator = new Invalidator(store, prefix, metrics, report, transactionTimeoutOf(client) ?? DEFAULTS.limits.transactionTimeoutMs, resolved.onInvalidate);
    const plans = new PlanCache(graph, prefix, DEFAULTS.limits.maxMemoEntries);
    const reads = new ReadThrough(store, serializer, metrics, report, {
      maxEntryBytes: resolved.maxEntryBytes,
      leaseMs: resolved.leaseMs,
      leaseWaitMs: resolved.leaseWaitMs,
      earlyRefresh: resolved.earlyRefresh,
      degraded: () => invalidator.degraded,
      ttl: systems.ttl,
      observer: systems.observer,
    });
    const { enabled, namespace } = resolved;
    const writeThrough = new WriteThrough(store, serializer, graph, policies, prefix, metrics, report, namespace);
    const read = cachedReads({ graph, policies, plans, reads, metrics, namespace, enabled });
    const queryRaw = (query: RawSql) => below.$queryRaw(query);
    const $cache = createCacheApi({ invalidator, metrics, modelNames, graph, policies, plans, reads, systems: systems.api, queryRaw, enabled, namespace }) as CacheApi<M>;
    const clientMethods = { $cache };
    // Added outside the typed object so the client keeps Prisma's own $transaction type.
    if (enabled) Object.assign(clientMethods, { $transaction: transactionWithInvalidation(below.$transaction, invalidator) });
    // Writes that bypass this client, from the database's own change stream (change-feed/).
    const feed = enabled
      ? resolved.changeFeed?.start({
          graph,
          schema: resolved.schema || undefined,
          advance: (stamps) => invalidator.apply(stamps),
          lease: storeLease(store.store, prefix),
          report,
        })
      : undefined;
    if (feed) {
      const stats = $cache.stats;
      $cache.stats = () => ({ ...stats(), changeFeed: feed.stats() });
    }
    const disconnect = below.$disconnect;
    Object.assign(clientMethods, {
      // Also closes what the plugin runs: the change feed, the flusher, the hot-read publisher, and the store's own connections (a tiered store's
      // subscriber; never an ioredis client the app passed in). A store that fails to close is reported, not thrown.
      async $disconnect(this: ClientInternals) {
        await Promise.all([feed?.close(), systems.close(), reads.settled()]);
        await store.store.close().catch((error: unknown) => {
          report(new CacheStoreError("STORE_ERROR", "close", `closing the ${store.store.name} store failed: ${messageOf(error)}`, { cause: error }), { operation: "close" });
        });
        return disconnect.call(this);
      },
    });

    const extended = client.$extends({
      name: "prisma-cache-plugin",
      model: {
        $allModels: {
          findUnique<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "findUnique"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "findUnique">>, NoInfer<A>>>,
          ): CachedFindQuery<T, A, "findUnique"> {
            return read(this as object, "findUnique", args) as CachedFindQuery<T, A, "findUnique">;
          },
          findUniqueOrThrow<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "findUniqueOrThrow"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "findUniqueOrThrow">>, NoInfer<A>>>,
          ): CachedFindQuery<T, A, "findUniqueOrThrow"> {
            return read(this as object, "findUniqueOrThrow", args) as CachedFindQuery<T, A, "findUniqueOrThrow">;
          },
          findFirst<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "findFirst"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "findFirst">>, NoInfer<A>>>,
          ): CachedFindQuery<T, A, "findFirst"> {
            return read(this as object, "findFirst", args) as CachedFindQuery<T, A, "findFirst">;
          },
          findFirstOrThrow<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "findFirstOrThrow"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "findFirstOrThrow">>, NoInfer<A>>>,
          ): CachedFindQuery<T, A, "findFirstOrThrow"> {
            return read(this as object, "findFirstOrThrow", args) as CachedFindQuery<T, A, "findFirstOrThrow">;
          },
          findMany<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "findMany"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "findMany">>, NoInfer<A>>>,
          ): CachedQuery<Prisma.Result<T, A, "findMany">> {
            return read(this as object, "findMany", args) as CachedQuery<Prisma.Result<T, A, "findMany">>;
          },
          count<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "count"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "count">>, NoInfer<A>>>,
          ): CachedQuery<Prisma.Result<T, A, "count">> {
            return read(this as object, "count", args) as CachedQuery<Prisma.Result<T, A, "count">>;
          },
          aggregate<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "aggregate"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "aggregate">>, NoInfer<A>>>,
          ): CachedQuery<Prisma.Result<T, A, "aggregate">> {
            return read(this as object, "aggregate", args) as CachedQuery<Prisma.Result<T, A, "aggregate">>;
          },
          groupBy<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "groupBy"> & CacheReadArgs<NoInfer<Prisma.Result<T, A, "groupBy">>, NoInfer<A>>>,
          ): CachedQuery<Prisma.Result<T, A, "groupBy">> {
            return read(this as object, "groupBy", args) as CachedQuery<Prisma.Result<T, A, "groupBy">>;
          },
        },
      },
      // Disabled: writes need no invalidation, so they run without hooks.
      query: enabled ? writeHooks({ graph, invalidator, writeThrough, report }) : ({} as ReturnType<typeof writeHooks>),
      client: clientMethods,
    });
    systems.start(extended);
    return extended;
  });
}

/** The schema graph: precise from the generator's schema (checked against the client), else coarse. */
function buildGraph(options: ResolvedOptions, runtime: RuntimeDataModel, fingerprint: string | undefined, warnCoarse: () => void): ModelGraph {
  const schema = options.schema;
  if (schema === false || schema === undefined) {
    if (schema === undefined) warnCoarse();
    return graphFromRuntime(runtime);
  }
  const stale = fingerprintMismatch(schema, fingerprint);
  if (stale !== undefined) throw new CacheConfigError("schema", `does not match this Prisma client: ${stale}; regenerate it with \`prisma generate\``);
  const mismatch = schemaMismatch(schema, runtime);
  if (mismatch !== undefined) {
    throw new CacheConfigError("schema", `does not match this Prisma client (${mismatch} missing): regenerate it with \`prisma generate\``);
  }
  return graphFromSchema(schema);
}
