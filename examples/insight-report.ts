/**
 * `npx tsx examples/insight-report.ts`: the cost report and the sizing curve for a skewed workload, no servers
 * (Postgres in-process with PGlite, the memory store). Until the extension gathers these itself ($cache.report),
 * the example feeds the insight modules by hand: every read's key into the miss-ratio curve and the hot-key
 * sketch, the stats and a measured miss latency into the cost model.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { seededRandom, zipf } from "../bench/zipf.ts";
import { cacheSchema } from "../generated/cache/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cachePlugin, memoryStore } from "../src/index.ts";
import { costReport, formatCostReport } from "../src/insight/cost-model.ts";
import { HotKeySketch } from "../src/insight/hot-keys.ts";
import { MissRatioCurve } from "../src/insight/miss-ratio-curve.ts";

const POSTS = 2_000;
const READS = 20_000;
const MAX_ENTRIES = 300;

const pglite = new PGlite();
const migrations = join(import.meta.dirname, "..", "prisma", "migrations");
for (const dir of readdirSync(migrations, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()) {
  await pglite.exec(readFileSync(join(migrations, dir, "migration.sql"), "utf8"));
}
const base = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
const store = memoryStore({ maxEntries: MAX_ENTRIES });
const prisma = base.$extends(cachePlugin({ schema: cacheSchema, store, ttl: 600 }));
await base.post.createMany({ data: Array.from({ length: POSTS }, (_, i) => ({ title: `Post ${i}`, slug: `post-${i}` })) });
const ids = (await base.post.findMany({ select: { id: true }, orderBy: { id: "asc" } })).map((p) => p.id);

// The miss latency the report prices: the database time of the same read, uncached.
let missMs = 0;
for (let i = 0; i < 200; i++) {
  const started = performance.now();
  await base.post.findUnique({ where: { id: ids[i]! } });
  missMs += performance.now() - started;
}
missMs /= 200;

const curve = new MissRatioCurve();
const sketch = new HotKeySketch(64);
const pick = zipf(POSTS, 1.0, seededRandom(5));
const started = performance.now();
for (let i = 0; i < READS; i++) {
  const id = ids[pick()]!;
  const post = await prisma.post.findUnique({ where: { id } });
  curve.record(`Post:${id}`, JSON.stringify(post).length);
  sketch.record(`Post:${id}`);
}
const windowMs = performance.now() - started;
const stats = prisma.$cache.stats();
const sizing = curve.sizing(0.9);

const report = costReport(
  {
    windowMs,
    models: { Post: { hits: stats.byModel.Post?.hits ?? 0, misses: stats.byModel.Post?.misses ?? 0, l1Hits: stats.l1Hits, missLatencyMs: missMs } },
    storeRoundTrips: 0,
    bytesHeld: Math.round(store.size * sizing.meanEntryBytes),
  },
  { cacheGbMonth: 5, dbReadsPerMillion: 0.2, computeHour: 0.05 },
);
console.log(`${READS} post.findUnique by Zipf(1.0) over ${POSTS} posts, memoryStore({ maxEntries: ${MAX_ENTRIES} }), miss ${missMs.toFixed(2)} ms\n`);
console.log(formatCostReport(report));
console.log(
  `\nsizing: observed hit ratio ${((stats.hits / (stats.hits + stats.misses)) * 100).toFixed(1)}% at ${MAX_ENTRIES} entries, predicted ${(curve.hitRatioAt(MAX_ENTRIES) * 100).toFixed(1)}%`,
);
console.log(
  `curve: ${sizing.entries
    .slice(0, 4)
    .map((p) => `${p.size}: ${(p.hitRatio * 100).toFixed(1)}%`)
    .join(", ")}; max ${(sizing.maxHitRatio * 100).toFixed(1)}%`,
);
console.log(`for a 90% hit ratio: ${sizing.recommendation?.entries ?? "unreachable"} entries (${sizing.recommendation?.bytes ?? "?"} bytes)`);
console.log(
  `hottest: ${sketch
    .top(5)
    .map((h) => `${h.key} (${h.count})`)
    .join(", ")}`,
);
await base.$disconnect();
