/**
 * `npx tsx examples/insight-report.ts`: `$cache.report()` for a skewed workload, no servers (Postgres in-process with
 * PGlite, the memory store as L1). One seeded Zipf(1.0) stream of post.findUnique is run through the plugin with
 * L1 at three sizes; the first run's `report().sizing` predicts the hit ratio at every size, and each run's
 * `$cache.stats()` shows the hit ratio L1 really had. Prints the cost report and predicted vs observed.
 */
import { seededRandom, zipf } from "../bench/zipf.ts";
import { cacheSchema } from "../generated/cache/index.ts";
import { cachePlugin, memoryStore, type SizingReport } from "../src/index.ts";
import { formatCostReport } from "../src/insight/cost-model.ts";
import { embeddedPostgres } from "./embedded-postgres.ts";

const POSTS = Number(process.env.POSTS ?? 6_000);
const READS = Number(process.env.READS ?? 12_000);
const SIZES = [1_000, 2_000, 5_000];

const { base, close } = await embeddedPostgres();
await base.post.createMany({ data: Array.from({ length: POSTS }, (_, i) => ({ title: `Post ${i}`, slug: `post-${i}` })) });
const ids = (await base.post.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((p) => p.id);
const pick = zipf(POSTS, 1.0, seededRandom(5));
const stream = Array.from({ length: READS }, () => ids[pick()]!);

let sizing: SizingReport | undefined;
const rows: string[] = [];
for (const maxEntries of SIZES) {
  const prisma = base.$extends(cachePlugin({ schema: cacheSchema, store: memoryStore({ maxEntries }), ttl: 3600, earlyRefresh: 0, sizing: true }));
  for (const id of stream) await prisma.post.findUnique({ where: { id } });
  const report = prisma.$cache.report({ prices: { cacheGbMonth: 5, dbReadsPerMillion: 0.2, computeHour: 0.05 }, targetHitRatio: 0.8 });
  if (sizing === undefined) {
    sizing = report.sizing!;
    console.log(`${READS} post.findUnique by Zipf(1.0) over ${POSTS} posts; memoryStore({ maxEntries: ${maxEntries} }):\n`);
    console.log(formatCostReport(report));
    console.log(
      `\nsizing: sample of ${sizing.sampledKeys} keys (rate ${sizing.samplingRate.toFixed(3)}), ~${sizing.distinctKeys} distinct keys, max hit ratio ${pct(sizing.maxHitRatio)}`,
    );
    console.log(`for an 80% hit ratio: ${sizing.recommendation?.entries ?? "unreachable"} entries (${sizing.recommendation?.bytes ?? "?"} bytes)\n`);
  }
  const predicted = sizing.entries.find((point) => point.size === maxEntries)!.hitRatio;
  const observed = report.hitRatio;
  rows.push(`${maxEntries} | ${pct(predicted)} | ${pct(observed)} | ${((predicted - observed) * 100).toFixed(2)} points`);
}
console.log("L1 maxEntries | predicted (report().sizing of the first run) | observed ($cache.stats) | difference");
console.log("---:|---:|---:|---:");
for (const row of rows) console.log(row);
await close();

function pct(value: number): string {
  return `${(value * 100).toFixed(2)}%`;
}
