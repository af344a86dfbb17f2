/**
 * Declares the fuzz tests of one target: one test per configuration, each failing on a discrepancy (with the shrunk
 * repro as its message) or when too few reads hit the cache or saw their answer change.
 *
 * Environment: FUZZ_MS (time per configuration, default 4000), FUZZ_SEED (replay one program), FUZZ_LENGTH
 * (operations per program, default 150), FUZZ_FEATURES (see features.ts), FUZZ_CONFIGS (comma-separated names).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { featuresFromEnv } from "./features.ts";
import { type FuzzResult, fuzz, summary } from "./fuzz.ts";
import { CONFIGS, type FuzzTarget } from "./runner.ts";

export interface SuiteOptions {
  /** Builds the target once for the file; `drop` removes its database. */
  target: () => Promise<FuzzTarget & { drop(): Promise<void> }>;
  /** A base seed, so that schemas do not all run the same seeds. */
  seed: number;
  /** Minimum hits and changed answers per configuration (per default budget). */
  minHits?: number;
  minChanged?: number;
}

const BUDGET_MS = Number(process.env.FUZZ_MS ?? 4_000);
const ONLY_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
const LENGTH = Number(process.env.FUZZ_LENGTH ?? 150);
const ONLY_CONFIGS = process.env.FUZZ_CONFIGS?.split(",").map((s) => s.trim());

export function defineFuzzSuite(name: string, options: SuiteOptions): void {
  describe(`fuzz: ${name}`, () => {
    let target: FuzzTarget & { drop(): Promise<void> };
    const results: FuzzResult[] = [];
    beforeAll(async () => {
      target = await options.target();
    });
    afterAll(async () => {
      for (const result of results) console.log(summary(result));
      await target?.drop();
    });

    CONFIGS.forEach((config, index) => {
      if (ONLY_CONFIGS && !ONLY_CONFIGS.includes(config.name)) return;
      it(config.name, { timeout: BUDGET_MS + 240_000 }, async () => {
        const result = await fuzz({
          target,
          config,
          redisUrl: config.store === "memory" ? undefined : inject("redisUrl"),
          prefix: `t_fuzz_${randomBytes(4).toString("hex")}_`,
          features: featuresFromEnv(process.env.FUZZ_FEATURES),
          // Each configuration runs its own seeds, so that the suite covers more programs.
          seed: ONLY_SEED ?? options.seed + index * 100,
          onlySeed: ONLY_SEED !== undefined,
          budgetMs: BUDGET_MS,
          programLength: LENGTH,
          shrinkMs: 120_000,
        });
        results.push(result);
        if (result.failure) {
          expect.fail(`The cached client differs from Prisma. Shrunk repro (${result.failure.replays} replays):\n${result.failure.repro}\n\n${summary(result)}`);
        }
        // A run that never hits, or whose re-reads never follow a change, proves nothing about invalidation.
        const scale = Math.min(1, BUDGET_MS / 4_000) * (ONLY_SEED !== undefined ? 0.3 : 1);
        expect(result.hits, summary(result)).toBeGreaterThanOrEqual(Math.floor((options.minHits ?? 25) * scale));
        expect(result.changedAnswers, summary(result)).toBeGreaterThanOrEqual(Math.floor((options.minChanged ?? 3) * scale));
      });
    });
  });
}
