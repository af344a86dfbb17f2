import { CacheConfigError } from "./errors.ts";
import type { CacheStats, Metrics } from "./metrics.ts";
import type { PlanCache } from "./read/plans.ts";
import type { PolicyTable } from "./read/policy.ts";
import { LOAD, type ReadThrough } from "./read/read-through.ts";
import type { ModelGraph } from "./schema/model-graph.ts";
import { EPOCH } from "./stamps/names.ts";
import { tablesInSql, writesData } from "./stamps/raw-sql.ts";
import { rawReadStamps } from "./stamps/read-stamps.ts";
import { explicitStamps } from "./stamps/write-stamps.ts";
import { isPlainObject, rejectUnknownKeys, validTags } from "./validate.ts";
import type { SystemsApi } from "./systems.ts";
import type { Invalidator } from "./write/invalidator.ts";

/** What to drop with `$cache.invalidate`. */
export interface InvalidateTarget {
  /** Drop every entry tagged with any of these. */
  tags?: string[];
  /** Drop every cached read of these models, and every read that reaches them through a relation. */
  models?: string[];
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
}

/** `prisma.$cache`: manual invalidation, cached raw queries, counters, and the opt-in systems (systems.ts). */
export interface CacheApi extends SystemsApi {
  /**
   * `$queryRaw` through the cache. Prisma cannot tell what a raw query reads, so raw results are cached only this
   * way: under the tags given (invalidate them when what it reads changes) and the models whose tables the SQL
   * names, which writes through this client invalidate as usual.
   */
  queryRaw<T = unknown>(query: RawSql, strategy: RawCacheStrategy): Promise<T>;
  /** Drops entries by tag or model; resolves once the store has applied it. */
  invalidate(target: InvalidateTarget): Promise<void>;
  /** Drops every entry of this plugin's namespace (prefix), in every process sharing the store. */
  invalidateAll(): Promise<void>;
  /** A copy of the counters since creation or the last `resetStats()`. */
  stats(): CacheStats;
  resetStats(): void;
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
}

export function createCacheApi({ invalidator, metrics, modelNames, graph, policies, plans, reads, systems, queryRaw }: CacheApiParts): CacheApi {
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
      if (policy === null) return (await source[LOAD]()) as T;
      const stamps = rawReadStamps(tablesInSql(graph, query), policy.tags);
      const plan = plans.customPlan("$queryRaw", "queryRaw", { strings: query.strings, values: query.values }, stamps, policy);
      return (await reads.read(plan, source)) as T;
    },
    async invalidate(target) {
      if (!isPlainObject(target)) throw new CacheConfigError("invalidate()", "takes { tags?: string[], models?: string[] }");
      rejectUnknownKeys(target, ["tags", "models"], "invalidate()");
      const tags = target.tags === undefined ? [] : validTags(target.tags, "invalidate().tags");
      const models = target.models === undefined ? [] : validTags(target.models, "invalidate().models");
      models.forEach((model, i) => {
        if (!modelNames.includes(model)) {
          throw new CacheConfigError(`invalidate().models[${i}]`, `must be a model of this Prisma client (${modelNames.join(", ")}), received: ${JSON.stringify(model)}`);
        }
      });
      await invalidator.apply(explicitStamps(models, tags));
    },
    async invalidateAll() {
      await invalidator.apply([EPOCH]);
    },
    stats: () => metrics.snapshot(),
    resetStats: () => metrics.reset(),
  };
}
