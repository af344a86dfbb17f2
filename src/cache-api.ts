import { EPOCH } from "./dependencies.ts";
import { CacheConfigError } from "./errors.ts";
import { explicitEffects } from "./invalidation.ts";
import type { Invalidator } from "./invalidator.ts";
import type { CacheStats, Metrics } from "./metrics.ts";
import { isPlainObject, rejectUnknownKeys, validTags } from "./options.ts";

/** What to drop with `$cache.invalidate`. */
export interface InvalidateTarget {
  /** Drop every entry tagged with any of these. */
  tags?: string[];
  /** Drop every cached read of these models, and every read that reaches them through a relation. */
  models?: string[];
}

/** `prisma.$cache`: manual invalidation and counters. */
export interface CacheApi {
  /** Drops entries by tag or model; resolves once the store has applied it. */
  invalidate(target: InvalidateTarget): Promise<void>;
  /** Drops every entry of this plugin's namespace (prefix), in every process sharing the store. */
  invalidateAll(): Promise<void>;
  /** A copy of the counters since creation or the last `resetStats()`. */
  stats(): CacheStats;
  resetStats(): void;
}

export function createCacheApi(invalidator: Invalidator, metrics: Metrics, modelNames: readonly string[]): CacheApi {
  return {
    async invalidate(target) {
      if (!isPlainObject(target)) throw new CacheConfigError("invalidate()", "takes { tags?: string[], models?: string[] }");
      rejectUnknownKeys(target, ["tags", "models"], "invalidate()");
      const tags = target.tags === undefined ? [] : validTags(target.tags, "invalidate().tags");
      const models = target.models === undefined ? [] : validTags(target.models, "invalidate().models");
      models.forEach((model, i) => {
        if (!modelNames.includes(model)) {
          throw new CacheConfigError(`invalidate().models[${i}]`, `is not a model of this Prisma client; models are: ${modelNames.join(", ")}`);
        }
      });
      await invalidator.apply(explicitEffects(models, tags));
    },
    async invalidateAll() {
      await invalidator.apply([EPOCH]);
    },
    stats: () => metrics.snapshot(),
    resetStats: () => metrics.reset(),
  };
}
