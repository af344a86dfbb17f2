/**
 * The differential fuzzer's driver: generates seeded programs until the time budget is spent, runs each through a
 * `FuzzSession`, and on the first discrepancy shrinks the program and prints it as a test body.
 */
import { printOp } from "./code.ts";
import type { Features } from "./features.ts";
import { ProgramGenerator, type Op } from "./operations.ts";
import { Rng } from "./random.ts";
import { type FuzzConfig, FuzzSession, type FuzzTarget, type RunReport } from "./runner.ts";
import { shrink } from "./shrink.ts";

export interface FuzzOptions {
  target: FuzzTarget;
  config: FuzzConfig;
  redisUrl: string | undefined;
  /** A unique key prefix for this run; each replay appends to it. */
  prefix: string;
  features: Features;
  /** First seed; program i uses seed + i. With `onlySeed`, just that one program. */
  seed: number;
  onlySeed?: boolean;
  /** Generate programs until this much time has passed (at least one program runs). */
  budgetMs: number;
  programLength: number;
  /** Time allowed for shrinking a failure. */
  shrinkMs: number;
}

export interface FuzzResult {
  target: string;
  config: string;
  programs: number;
  operations: number;
  reads: number;
  hits: number;
  repeats: number;
  changedAnswers: number;
  errorsCompared: number;
  writes: number;
  failedWrites: number;
  prismaBatchDifferences: number;
  storeErrors: number;
  wallMs: number;
  failure?: { seed: number; repro: string; originalLength: number; shrunkLength: number; replays: number };
}

export async function fuzz(options: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const session = new FuzzSession(options.target, options.config, options.redisUrl, options.prefix);
  const result: FuzzResult = {
    target: options.target.name,
    config: options.config.name,
    programs: 0,
    operations: 0,
    reads: 0,
    hits: 0,
    repeats: 0,
    changedAnswers: 0,
    errorsCompared: 0,
    writes: 0,
    failedWrites: 0,
    prismaBatchDifferences: 0,
    storeErrors: 0,
    wallMs: 0,
  };
  try {
    for (let i = 0; ; i++) {
      const seed = options.seed + i;
      const ops = new ProgramGenerator(options.target.datamodel, new Rng(seed), options.features).program(options.programLength);
      const report = await session.run(ops);
      add(result, report, ops.length);
      if (report.discrepancy) {
        result.failure = await shrunkRepro(session, ops, report, seed, options);
        break;
      }
      if (options.onlySeed || Date.now() - started >= options.budgetMs) break;
    }
  } finally {
    result.storeErrors = session.storeErrors;
    await session.close();
  }
  result.wallMs = Date.now() - started;
  return result;
}

function add(result: FuzzResult, report: RunReport, length: number): void {
  result.programs++;
  result.operations += length;
  result.reads += report.reads;
  result.hits += report.hits;
  result.repeats += report.repeats;
  result.changedAnswers += report.changedAnswers;
  result.errorsCompared += report.errorsCompared;
  result.writes += report.writes;
  result.failedWrites += report.failedWrites;
  result.prismaBatchDifferences += report.prismaBatchDifferences;
}

async function shrunkRepro(session: FuzzSession, ops: Op[], report: RunReport, seed: number, options: FuzzOptions): Promise<NonNullable<FuzzResult["failure"]>> {
  const prefix = ops.slice(0, report.discrepancy!.op + 1);
  const shrunk = await shrink(prefix, {
    fails: async (candidate) => (await session.run(candidate)).discrepancy !== undefined,
    maxRuns: 400,
    deadline: Date.now() + options.shrinkMs,
  });
  // Run the result once more for the discrepancy to show (a flaky one may not reproduce: then show the original).
  const final = await session.run(shrunk.ops);
  const shown = final.discrepancy ? shrunk.ops : prefix;
  const failing = final.discrepancy ?? report.discrepancy!;
  const reader = options.config.twoInstances ? "reader" : "prisma";
  const writer = options.config.twoInstances ? "writer" : "prisma";
  const lines = [
    `// schema ${options.target.name}, config ${options.config.name}: FUZZ_SEED=${seed} (shrunk from ${prefix.length} to ${shown.length} operations)`,
    `// ${writer === "prisma" ? "prisma: the cached client" : "writer and reader: two plugin instances sharing one store"}; compare each read with a plain PrismaClient`,
    ...shown.map((op, i) => {
      const code = printOp(op, options.target.provider, writer, reader);
      return i === failing.op ? `${code}\n// ^ cached: ${failing.cached}\n//   Prisma: ${failing.plain}` : code;
    }),
  ];
  return { seed, repro: lines.join("\n"), originalLength: prefix.length, shrunkLength: shown.length, replays: shrunk.runs };
}

export function summary(result: FuzzResult): string {
  const pct = (n: number, d: number) => (d === 0 ? "0%" : `${Math.round((100 * n) / d)}%`);
  return (
    `${result.target} / ${result.config}: ${result.programs} programs, ${result.operations} ops, ${result.reads} reads, ` +
    `${result.hits} hits (${pct(result.hits, result.reads)}), ${result.repeats} re-reads, ${result.changedAnswers} re-reads with a changed answer, ` +
    `${result.errorsCompared} errors compared, ${result.writes} writes (${result.failedWrites} rejected by Prisma), ` +
    `${result.prismaBatchDifferences} Prisma batch inconsistencies, ${result.storeErrors} store errors, ${(result.wallMs / 1000).toFixed(1)} s`
  );
}
