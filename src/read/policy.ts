import { DEFAULTS } from "../defaults.ts";
import { CacheConfigError } from "../errors.ts";
import type { ResolvedOptions, ResolvedPolicy } from "../options.ts";
import { describe, isPlainObject, mergeTags, rejectUnknownKeys, seconds, validTags } from "../validate.ts";

/** The read operations the plugin caches; everything else always goes to the database. */
export const READ_OPERATIONS = ["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "findMany", "count", "aggregate", "groupBy"] as const;

export type ReadOperation = (typeof READ_OPERATIONS)[number];

const STRATEGY_KEYS = ["ttl", "swr", "tags", "refresh"];

/** Whether a (validated) strategy asks to skip the lookup and store a fresh result. */
export function wantsRefresh(strategy: unknown): boolean {
  return isPlainObject(strategy) && strategy.refresh === true;
}

/** Is this read cacheable, and for how long: the model's policy, overridden per call by `cacheStrategy`. */
export class PolicyTable {
  private readonly byModel = new Map<string, ResolvedPolicy | false>();
  private readonly defaults: ResolvedPolicy;
  /** Allowlist mode: models not listed, cached only when a call passes `cacheStrategy`. */
  private readonly optIn = new Set<string>();

  constructor(options: ResolvedOptions, modelNames: readonly string[]) {
    this.defaults = options.defaultPolicy;
    for (const name of Object.keys(options.models)) {
      if (!modelNames.includes(name)) {
        throw new CacheConfigError(`models.${name}`, `is not a model of this Prisma client; models are: ${modelNames.join(", ")}`);
      }
    }
    for (const name of modelNames) {
      this.byModel.set(name, options.models[name] ?? options.defaultPolicy);
      if (options.allowlist && options.models[name] === undefined) this.optIn.add(name);
    }
  }

  /** The policy for one call; `null` when the call must not touch the cache. Throws on an invalid strategy. */
  forCall(model: string, strategy: unknown): ResolvedPolicy | null {
    if (strategy === undefined && this.optIn.has(model)) return null;
    // An opted-in call of an unlisted model gets the plugin-wide ttl when it names none (no subject: no ttl-0 rule).
    return this.apply(this.byModel.get(model) ?? false, strategy, "cacheStrategy", this.optIn.has(model) ? undefined : `model ${model}`);
  }

  /** The policy of a raw query, which is cached only when its strategy names tags. */
  forRaw(strategy: unknown): ResolvedPolicy | null {
    if (!isPlainObject(strategy) || !Array.isArray(strategy.tags) || strategy.tags.length === 0) {
      throw new CacheConfigError("queryRaw strategy.tags", "must name at least one tag: raw queries are cached only under tags you invalidate");
    }
    return this.apply({ ...this.defaults, tags: [] }, strategy, "queryRaw strategy");
  }

  /** The model's policy as configured (for writes: whether they write through); `false` for unlisted ones in allowlist mode. */
  ofModel(model: string): ResolvedPolicy | false {
    return this.optIn.has(model) ? false : (this.byModel.get(model) ?? false);
  }

  private apply(base: ResolvedPolicy | false, strategy: unknown, field: string, subject?: string): ResolvedPolicy | null {
    if (base === false || strategy === false) return null;
    // ttl 0 means opt-in per call, whatever swr says.
    if (strategy === undefined) return base.ttlMs > 0 ? base : null;
    if (!isPlainObject(strategy)) {
      throw new CacheConfigError(field, `must be an object { ttl?, swr?, tags?, refresh? } or false, received: ${describe(strategy)}`);
    }
    rejectUnknownKeys(strategy, STRATEGY_KEYS, field);
    if (strategy.refresh !== undefined && typeof strategy.refresh !== "boolean") {
      throw new CacheConfigError(`${field}.refresh`, `must be true or false, received: ${describe(strategy.refresh)}`);
    }
    // Where a model's ttl is 0 a call opts in by naming its own ttl: no default lifetime is guessed for it. A raw
    // query (no subject) opts in by its tags and keeps the default ttl.
    if (subject !== undefined && strategy.ttl === undefined && base.ttlMs === 0) {
      throw new CacheConfigError(`${field}.ttl`, `${subject} has ttl 0: pass ${field}.ttl to cache this call`);
    }
    // A ttl function of the call falls back to the model's numeric ttl when it fails; a raw query takes numbers only.
    const ttlOf = typeof strategy.ttl === "function" && subject !== undefined ? (strategy.ttl as ResolvedPolicy["ttlOf"]) : undefined;
    const ttlMs = strategy.ttl === undefined || ttlOf ? base.ttlMs || DEFAULTS.ttl * 1000 : seconds(strategy.ttl, `${field}.ttl`, 0) * 1000;
    const swrMs = strategy.swr === undefined ? base.swrMs : seconds(strategy.swr, `${field}.swr`, 0) * 1000;
    const tags = strategy.tags === undefined ? base.tags : mergeTags(base.tags, validTags(strategy.tags, `${field}.tags`));
    if (ttlMs === 0 && swrMs === 0) return null;
    if (strategy.ttl === undefined) return { ...base, ttlMs, swrMs, tags };
    // A call's own ttl replaces the model's way of choosing one.
    const { ttlOf: _model, adaptive: _adaptive, ...rest } = base;
    return { ...rest, ttlMs, swrMs, tags, ...(ttlOf && { ttlOf }) };
  }
}
