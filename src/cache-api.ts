import { CacheConfigError, messageOf } from "./errors.ts";
import type { CacheStats, Metrics } from "./metrics.ts";
import type { PlanCache } from "./read/plans.ts";
import { channels } from "./observe/channels.ts";
import { newReadEvent } from "./observe/read-record.ts";
import { currentNamespace } from "./read/keys.ts";
import { type PolicyTable, READ_OPERATIONS, type ReadOperation, wantsRefresh } from "./read/policy.ts";
import { EVENT, LOAD, type ReadThrough } from "./read/read-through.ts";
import type { ModelGraph } from "./schema/model-graph.ts";
import { EPOCH } from "./stamps/names.ts";
import { tablesInSql, writesData } from "./stamps/raw-sql.ts";
import { rawReadStamps } from "./stamps/read-stamps.ts";
import { explicitStamps } from "./stamps/write-stamps.ts";
import { describe, isPlainObject, rejectUnknownKeys, validTags } from "./validate.ts";
import type { SystemsApi } from "./systems.ts";
import type { Invalidator } from "./write/invalidator.ts";

/** What to drop with `$cache.invalidate`: groups by tag or model, or one read. `M`: the schema's model names. */
export type InvalidateTarget<M extends string = string> = InvalidateGroups<M> | InvalidateRead<M>;

/** Groups of entries. */
export interface InvalidateGroups<M extends string = string> {
  /** Drop every entry tagged with any of these. */
  tags?: string[];
  /** Drop every cached read of these models, and every read that reaches them through a relation. */
  models?: M[];
}

/**
 * Exactly one read's entry, in the current namespace: the model, operation and args it was called with
 * (`cacheStrategy` ignored). Other reads stay cached. A load of that read already running may still store its result.
 */
export interface InvalidateRead<M extends string = string> {
  model: M;
  operation: ReadOperation;
  args?: object;
}

/** A raw SQL query as `Prisma.sql` builds it. */
export interface RawSql {
  readonly strings: readonly string[];
  readonly values: readonly unknown[];
}

/** How to cache a raw query: tags are required, ttl and swr default to the plugin's. */
export interface RawCacheStrategy {
  tags: string[];
  /** Seconds the result is fresh. */
  ttl?: number;
  /** Seconds after `ttl` the stale result may be served while it refreshes. */
  swr?: number;
  /** Skip the lookup: run the query and store the fresh result. @default false */
  refresh?: boolean;
}

/** `prisma.$cache`: manual invalidation, cached raw queries, counters, and the opt-in systems (systems.ts). `M`: the schema's model names. */
export interface CacheApi<M extends string = string> extends SystemsApi {
  /**
   * `$queryRaw` through the cache. Prisma cannot tell what a raw query reads, so raw results are cached only this
   * way: under the tags given (invalidate them when what it reads changes) and the models whose tables the SQL
   * names, which writes through this client invalidate as usual.
   */
  queryRaw<T = unknown>(query: RawSql, strategy: RawCacheStrategy): Promise<T>;
  /** Drops entries by tag or model, or one read's entry; resolves once the store has applied it. */
  invalidate(target: InvalidateTarget<M>): Promise<void>;
  /** Drops every entry of this plugin's namespace (prefix), in every process sharing the store. */
  invalidateAll(): Promise<void>;
  /** A copy of the counters since creation or the last `resetStats()`. */
  stats(): CacheStats;
  resetStats(): void;
  /**
   * Resolves once every fill sent so far has been answered by the store. A read returns as soon as its database
   * result is encoded and its fill sent; reads of this process wait for that fill, other processes may not find the
   * entry until it lands (one round trip later). Await this where that matters: tests that count round trips, or
   * before handing over to another process.
   */
  settled(): Promise<void>;
}

/** What the API needs from the extension. */
export interface CacheApiParts {
  invalidator: Invalidator;
  metrics: Metrics;
  modelNames: readonly string[];
  graph: ModelGraph;
  policies: PolicyTable;
  plans: PlanCache;
  reads: ReadThrough;
  /** The report, warming and write-behind methods. */
  systems: SystemsApi;
  /** Runs `$queryRaw` on the client below the extension. */
  queryRaw: (query: RawSql) => Promise<unknown>;
  /** `false` (`enabled: false`): calls are validated, then raw queries go to the database and invalidations do nothing. */
  enabled: boolean;
  /** The `namespace` option's hook. */
  namespace: (() => unknown) | undefined;
}

export function createCacheApi({ invalidator, metrics, modelNames, graph, policies, plans, reads, systems, queryRaw, enabled, namespace }: CacheApiParts): CacheApi {
  const checkModel = (model: unknown, field: string) => {
    if (!modelNames.includes(model as string)) {
      throw new CacheConfigError(field, `must be a model of this Prisma client (${modelNames.join(", ")}), received: ${describe(model)}`);
    }
  };
  return {
    ...systems,
    async queryRaw<T>(query: RawSql, strategy: RawCacheStrategy): Promise<T> {
      if (!query || !Array.isArray(query.strings) || !Array.isArray(query.values)) {
        throw new CacheConfigError("queryRaw(query)", "must be a Prisma.sql`...` query");
      }
      if (writesData(query)) {
        throw new CacheConfigError("queryRaw(query)", "changes data: run it with prisma.$queryRaw, which invalidates what it writes");
      }
      const policy = policies.forRaw(strategy);
      const source = { [LOAD]: () => queryRaw(query) };
      if (policy === null || !enabled) return (await source[LOAD]()) as T;
      const stamps = rawReadStamps(tablesInSql(graph, query), policy.tags);
      const plan = plans.customPlan("$queryRaw", "queryRaw", { strings: query.strings, values: query.values }, stamps, policy, currentNamespace(namespace));
      const refresh = wantsRefresh(strategy);
      if (!channels.read.hasSubscribers) return (await reads.read(plan, source, refresh)) as T;
      const event = newReadEvent("$queryRaw", "queryRaw");
      return (await channels.read.tracePromise(() => reads.read(plan, { ...source, [EVENT]: event }, refresh), event)) as T;
    },
    async invalidate(target) {
      if (!isPlainObject(target)) {
        throw new CacheConfigError("invalidate()", "takes { tags?: string[], models?: string[] } or one read { model, operation, args? }");
      }
      if ("model" in target || "operation" in target || "args" in target) {
        rejectUnknownKeys(target, ["model", "operation", "args"], "invalidate()");
        checkModel(target.model, "invalidate().model");
        if (!(READ_OPERATIONS as readonly unknown[]).includes(target.operation)) {
          throw new CacheConfigError("invalidate().operation", `must be a read operation (${READ_OPERATIONS.join(", ")}), received: ${describe(target.operation)}`);
        }
        if (target.args !== undefined && !isPlainObject(target.args)) {
          throw new CacheConfigError("invalidate().args", `must be the read's arguments object, received: ${describe(target.args)}`);
        }
        // Keyed as the read path keys it: without cacheStrategy, `{}` for no args.
        const { cacheStrategy: _, ...args } = (target.args ?? {}) as Record<string, unknown>;
        let keys: string[];
        try {
          keys = plans.entryKeys(target.model as string, target.operation as string, args, currentNamespace(namespace));
        } catch (error) {
          if (error instanceof CacheConfigError) throw error;
          throw new CacheConfigError("invalidate().args", `cannot be keyed (${messageOf(error)}); such reads are never cached`);
        }
        if (enabled) await invalidator.applyKeys(keys);
        return;
      }
      rejectUnknownKeys(target, ["tags", "models"], "invalidate()");
      const tags = target.tags === undefined ? [] : validTags(target.tags, "invalidate().tags");
      const models = target.models === undefined ? [] : validTags(target.models, "invalidate().models");
      models.forEach((model, i) => checkModel(model, `invalidate().models[${i}]`));
      if (enabled) await invalidator.apply(explicitStamps(models, tags));
    },
    async invalidateAll() {
      if (enabled) await invalidator.apply([EPOCH]);
    },
    stats: () => metrics.snapshot(),
    resetStats: () => metrics.reset(),
    settled: () => reads.settled(),
  };
}
