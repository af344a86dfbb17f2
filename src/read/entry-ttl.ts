import { DEFAULTS } from "../defaults.ts";
import { CacheError, messageOf, type ErrorReporter } from "../errors.ts";
import { AdaptiveTtl } from "../insight/adaptive-ttl.ts";
import { describe } from "../validate.ts";
import type { ReadPlan } from "./plans.ts";

/**
 * The TTL a fill stores its entry with, in milliseconds: the policy's own, a `ttl` function of the result (called
 * once per fill, never on a hit), or the key's adaptive TTL (insight/adaptive-ttl.ts, one table per model).
 */
export class EntryTtl {
  private readonly adaptive = new Map<string, AdaptiveTtl>();

  constructor(private readonly report: ErrorReporter) {}

  /**
   * The TTL for `result` (encoded as `encoded`) of the read `plan` with `args`. `replacing`: the fill replaces an
   * entry that was still stored (a refresh, or one past its swr), which teaches adaptive TTL as an expiry does.
   */
  of(plan: ReadPlan, result: unknown, args: unknown, encoded: string, replacing = false): number {
    const policy = plan.policy;
    if (policy.ttlOf !== undefined) return this.fromFunction(plan, result, args);
    if (policy.adaptive !== undefined) {
      const adaptive = this.adaptiveOf(plan.model, policy.adaptive);
      // Early refreshes (XFetch, refresh-ahead) come before the expiry the clock would see: they still teach.
      return replacing ? adaptive.fill(plan.key, encoded, "expired") : adaptive.fillNow(plan.key, encoded);
    }
    return policy.ttlMs;
  }

  /** The store refused the fill `of` gave a TTL to: adaptive TTL keeps the expiry of what is still stored. */
  refused(plan: ReadPlan): void {
    if (plan.policy.adaptive !== undefined) this.adaptive.get(plan.model)?.refused(plan.key);
  }

  /** Per model with adaptive TTL: keys with state, and how often a refill lengthened or shortened a TTL. */
  stats(): Record<string, { keys: number; lengthened: number; shortened: number }> {
    const stats: Record<string, { keys: number; lengthened: number; shortened: number }> = {};
    for (const [model, ttl] of this.adaptive) stats[model] = ttl.stats();
    return stats;
  }

  private fromFunction(plan: ReadPlan, result: unknown, args: unknown): number {
    let seconds: unknown;
    let failure: unknown;
    try {
      seconds = plan.policy.ttlOf!(result, args);
    } catch (error) {
      failure = error;
    }
    if (typeof seconds === "number" && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const what = failure === undefined ? `returned ${describe(seconds)} instead of a non-negative, finite number of seconds` : `threw: ${messageOf(failure)}`;
    this.report(
      new CacheError("TTL_INVALID", `the ttl function of ${plan.model}.${plan.operation} ${what}; stored with the default ttl of ${plan.policy.ttlMs / 1000} s`, {
        cause: failure,
      }),
      {
        operation: "ttl",
        model: plan.model,
        key: plan.key,
      },
    );
    return plan.policy.ttlMs;
  }

  private adaptiveOf(model: string, bounds: { minMs: number; maxMs: number }): AdaptiveTtl {
    let ttl = this.adaptive.get(model);
    if (ttl === undefined) {
      ttl = new AdaptiveTtl({ ...bounds, ...DEFAULTS.adaptiveTtl });
      this.adaptive.set(model, ttl);
    }
    return ttl;
  }
}
