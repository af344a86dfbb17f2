/**
 * Declares the fuzz tests of one target: one test per configuration, each failing on a discrepancy (with the shrunk
 * repro as its message) or when no read hit the cache, and a last test failing when the configurations together had
 * too few hits or too few re-reads whose answer had changed (a run that never hits, or whose writes never change an
 * answer it re-reads, proves nothing about invalidation).
 *
 * Environment: FUZZ_MS (time per configuration, default 2000; at least one program runs), FUZZ_SEED (replay one
 * program), FUZZ_LENGTH (operations per program, default 100), FUZZ_FEATURES (see features.ts), FUZZ_CONFIGS
 * (comma-separated names).
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEFAULT_FEATURES, type Features, featuresFromEnv } from "./features.ts";
import { type FuzzResult, fuzz, summary } from "./fuzz.ts";
import { CONFIGS, type FuzzTarget } from "./runner.ts";

export interface SuiteOptions {
  /** Builds the target once for the file; `drop` removes its database. */
  target: () => Promise<FuzzTarget & { drop(): Promise<void> }>;
  /** A base seed, so that schemas do not all run the same seeds. */
  seed: number;
  /** Minimum hits and changed answers over all configurations (at the default budget). */
  minHits?: number;
  minChanged?: number;
  /** The configurations to run (names from CONFIGS); all by default. */
  configs?: readonly string[];
  /** Features switched on or off for this target (a finding of its provider, see FINDINGS.md); FUZZ_FEATURES applies on top. */
  features?: Partial<Features>;
}

const BUDGET_MS = Number(process.env.FUZZ_MS ?? 2_000);
const ONLY_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
const LENGTH = Number(process.env.FUZZ_LENGTH ?? 100);
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
      if (options.configs && !options.configs.includes(config.name)) return;
      it(config.name, { timeout: BUDGET_MS + 240_000 }, async () => {
        const result = await fuzz({
          target,
          config,
          redisUrl: config.store === "memory" ? undefined : inject("redisUrl"),
          prefix: `t_fuzz_${randomBytes(4).toString("hex")}_`,
          features: featuresFromEnv(process.env.FUZZ_FEATURES, { ...DEFAULT_FEATURES, ...options.features }),
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
        expect(result.hits, summary(result)).toBeGreaterThan(0);
      });
    });

    it("hits and changed answers over all configurations", () => {
      const hits = results.reduce((sum, r) => sum + r.hits, 0);
      const changed = results.reduce((sum, r) => sum + r.changedAnswers, 0);
      const scale = ONLY_SEED !== undefined || ONLY_CONFIGS ? 0.1 : 1;
      const all = results.map(summary).join("\n");
      expect(hits, all).toBeGreaterThanOrEqual(Math.floor((options.minHits ?? 100) * scale));
      expect(changed, all).toBeGreaterThanOrEqual(Math.floor((options.minChanged ?? 20) * scale));
    });
  });
}
