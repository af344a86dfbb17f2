/**
 * `npm run bench`: the plugin against real Postgres and Redis, every workload measured against its baselines in
 * the same run. Prints a markdown table and writes the same numbers as JSON to .bench/results.json.
 *
 * Environment: DATABASE_URL (a role that may create databases; default postgresql://postgres@127.0.0.1:5432/postgres),
 * REDIS_URL (default redis://127.0.0.1:6379), BENCH_MIXED_MS (length of each measured mixed run, default 10000),
 * BENCH_WARMUP_MS (unmeasured warm-up before it, default 20000), BENCH_ONLY (1-5: one workload), BENCH_SRC=1 (measure
 * the sources instead of the build).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cacheSchema } from "../generated/cache/index.ts";
import type { CacheStore, TieredStore } from "../src/index.ts";
import { Serializer } from "../src/read/serializer.ts";
import { ensureTemplateDatabase } from "../test/support/global-setup.ts";
import { createCountingAdapter, type CountingAdapter } from "../test/support/sql-counter.ts";
import { check } from "../test/support/coherence-checker.ts";
import { changeFeedBench } from "./change-feed.ts";
import { waitFor } from "../test/support/poll.ts";
import { zipf } from "./zipf.ts";

// The built package, as users run it (npm run bench builds it first); BENCH_SRC=1 measures the sources instead.
// The specifier is a variable so that type-checking does not need a build.
const entry = process.env.BENCH_SRC ? "../src/index.ts" : "../dist/index.js";
const { cachePlugin, memoryStore, redisStore, tieredStore } = (await import(entry)) as typeof import("../src/index.ts");

const SERVER_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const MIXED_MS = Number(process.env.BENCH_MIXED_MS ?? 10_000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 20_000);
const ROWS = 10_000;
const serializer = new Serializer();
const encode = (value: unknown): string => serializer.encode(value);
const decode = (text: string): unknown => serializer.decode(text);

interface Measurement {
  name: string;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  sql: number;
  redisRoundTrips?: number;
  ratio?: string;
  extra?: Record<string, unknown>;
}

const results: Record<string, Measurement[]> = {};
const targets: { target: string; value: string; met: boolean }[] = [];

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === "5") {
    await changeFeedWorkload();
    return report();
  }
  const { url, drop } = await createDatabase();
  const sql = createCountingAdapter(url, { max: 16 });
  const base = new PrismaClient({ adapter: sql.adapter });
  const redis = new Redis(REDIS_URL);
  const roundTrips = countRoundTrips(redis);
  const prefix = `bench_${randomBytes(4).toString("hex")}`;
  const stores: TieredStore[] = [];
  const tiered = (channel: string) => {
    const store = tieredStore({ l1: memoryStore({ maxEntries: 50_000 }), l2: redisStore({ client: redis }), channel });
    stores.push(store);
    return store;
  };
  const cached = (store: CacheStore, name: string, client = base) => client.$extends(cachePlugin({ schema: cacheSchema, store, prefix: `${prefix}_${name}` }));
  try {
    console.log(`seeding ${ROWS} posts ...`);
    const ids = await seed(base);
    const viaRedis = cached(redisStore({ client: redis }), "redis");
    const viaL1 = cached(tiered(`${prefix}:inv`), "l1");
    await waitFor(() => stores.every((store) => store.l1Live), "the tiered stores' L1s live");

    const only = process.env.BENCH_ONLY; // e.g. BENCH_ONLY=4 runs the mixed workload alone
    if (!only || only === "1") await hotFindUnique(base, viaRedis, viaL1, redis, sql, roundTrips, ids[0]!);
    if (!only || only === "2") await findManyWithInclude(base, viaRedis, viaL1, sql, roundTrips);
    if (!only || only === "3") await concurrentLookups(base, viaRedis, viaL1, sql, roundTrips, ids);
    if (!only || only === "4") await mixedWorkload(base, url, redis, sql, ids, prefix, tiered);
    if (!only) await changeFeedWorkload();
    report();
  } finally {
    await Promise.all(stores.map((store) => store.close()));
    await base.$disconnect();
    await sql.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.unlink(...keys);
    redis.disconnect();
    await drop();
  }
}

/** 5. The Postgres change feed: lag from an out-of-band commit to a fresh cached read, and its cost (bench/change-feed.ts). */
async function changeFeedWorkload(): Promise<void> {
  const { lag, cost } = await changeFeedBench(await import(entry), REDIS_URL);
  results["5. change feed (writes by a plain pg client, private Postgres with wal_level=logical)"] = [
    {
      name: "commit → first fresh cached read",
      opsPerSec: 0,
      p50Us: Math.round(lag.p50Ms * 1000),
      p99Us: Math.round(lag.p99Ms * 1000),
      sql: 0,
      extra: { samples: lag.samples, maxMs: lag.maxMs, heartbeatLagMs: lag.heartbeatLagMs },
    },
    {
      name: "consumer per 1,000 changes",
      opsPerSec: 0,
      p50Us: 0,
      p99Us: 0,
      sql: 0,
      extra: { cpuMs: cost.cpuMsPer1000, wallMs: cost.wallMsPer1000, changes: cost.changes, stampsAdvanced: cost.stampsAdvanced },
    },
  ];
  targets.push({ target: "change feed lag p99 < 100 ms (loopback)", value: `${lag.p99Ms} ms`, met: lag.p99Ms < 100 });
}

/** 1. The same findUnique by id over and over. */
async function hotFindUnique(base: PrismaClient, viaRedis: Cached, viaL1: Cached, redis: Redis, sql: CountingAdapter, roundTrips: Counter, id: number): Promise<void> {
  const args = { where: { id } };
  const encoded = encode(await base.post.findUnique(args));
  // The floor: a bare model method returning a fresh decode of the same cached value (no key, no lookup).
  const floorRead = () => Promise.resolve(decode(encoded));
  const floorClient = base.$extends({ model: { $allModels: { floorRead } } });
  await redis.set(`{bench}:raw`, encoded);

  // The L1 hit first, while the plugin's code has seen one client only (as in an app with one plugin instance).
  const uncached = await measure("uncached Prisma", sql, roundTrips, 3_000, () => base.post.findUnique(args));
  const l1Hit = await measure(
    "L1 hit",
    sql,
    roundTrips,
    200_000,
    () => viaL1.post.findUnique(args),
    () => viaL1.post.findUnique(args),
  );
  const floor = await measure("floor (model method + decode)", sql, roundTrips, 200_000, () => (floorClient.post as unknown as { floorRead(): Promise<unknown> }).floorRead());
  const redisHit = await measure(
    "Redis hit",
    sql,
    roundTrips,
    10_000,
    () => viaRedis.post.findUnique(args),
    () => viaRedis.post.findUnique(args),
  );
  const rawGet = await measure("raw ioredis GET + decode", sql, roundTrips, 10_000, async () => decode((await redis.get(`{bench}:raw`))!));
  const rows = [uncached, redisHit, l1Hit, floor, rawGet];
  await redis.del(`{bench}:raw`);
  const perOp = (m: Measurement) => 1e6 / m.opsPerSec;
  for (const row of rows) row.ratio = `${(uncached.opsPerSec === row.opsPerSec ? 1 : row.opsPerSec / uncached.opsPerSec).toFixed(1)}x uncached`;
  results["1. hot findUnique by id"] = rows;
  targets.push(
    { target: "L1 hit ≤ 1.5× floor", value: `${(perOp(l1Hit) / perOp(floor)).toFixed(2)}×`, met: perOp(l1Hit) <= 1.5 * perOp(floor) },
    { target: "L1 hit ≥ 50× faster than uncached", value: `${(perOp(uncached) / perOp(l1Hit)).toFixed(0)}×`, met: perOp(uncached) >= 50 * perOp(l1Hit) },
    {
      target: "Redis hit ≤ 1.3× (floor + raw GET + decode)",
      value: `${(perOp(redisHit) / (perOp(floor) + perOp(rawGet))).toFixed(2)}×`,
      met: perOp(redisHit) <= 1.3 * (perOp(floor) + perOp(rawGet)),
    },
  );
}

/** 2. findMany with include: 20 posts with their comments. */
async function findManyWithInclude(base: PrismaClient, viaRedis: Cached, viaL1: Cached, sql: CountingAdapter, roundTrips: Counter): Promise<void> {
  const author = await base.user.findFirstOrThrow({ where: { email: "bench-author@example.com" } });
  const args = { where: { authorId: author.id }, include: { comments: true }, orderBy: { id: "asc" as const } };
  const rows = [
    await measure("uncached Prisma", sql, roundTrips, 1_000, () => base.post.findMany(args)),
    await measure(
      "Redis hit",
      sql,
      roundTrips,
      5_000,
      () => viaRedis.post.findMany(args),
      () => viaRedis.post.findMany(args),
    ),
    await measure(
      "L1 hit",
      sql,
      roundTrips,
      20_000,
      () => viaL1.post.findMany(args),
      () => viaL1.post.findMany(args),
    ),
  ];
  for (const row of rows) row.ratio = `${(row.opsPerSec / rows[0]!.opsPerSec).toFixed(1)}x uncached`;
  results["2. findMany with include (20 posts, 3 comments each)"] = rows;
}

/** 3. 100 concurrent findUnique by distinct ids, as one batch. */
async function concurrentLookups(base: PrismaClient, viaRedis: Cached, viaL1: Cached, sql: CountingAdapter, roundTrips: Counter, ids: number[]): Promise<void> {
  const batch = ids.slice(100, 200);
  const all = (read: (id: number) => Promise<unknown>) => () => Promise.all(batch.map(read));
  const rows = [
    await measure(
      "uncached Prisma",
      sql,
      roundTrips,
      300,
      all((id) => base.post.findUnique({ where: { id } })),
    ),
    await measure(
      "all cached in Redis",
      sql,
      roundTrips,
      1_000,
      all((id) => viaRedis.post.findUnique({ where: { id } })),
      all((id) => viaRedis.post.findUnique({ where: { id } })),
    ),
    await measure(
      "all in L1",
      sql,
      roundTrips,
      3_000,
      all((id) => viaL1.post.findUnique({ where: { id } })),
      all((id) => viaL1.post.findUnique({ where: { id } })),
    ),
  ];
  for (const row of rows) {
    const iterations = row.extra!.iterations as number;
    row.extra = { lookupsPerSec: Math.round(row.opsPerSec * batch.length), sqlPerBatch: row.sql / iterations, redisRoundTripsPerBatch: row.redisRoundTrips! / iterations };
    row.ratio = `${(row.opsPerSec / rows[0]!.opsPerSec).toFixed(1)}x uncached`;
  }
  results["3. 100 concurrent findUnique by distinct ids (ops = batches)"] = rows;
  const redisRow = rows[1]!;
  targets.push(
    {
      target: "100 cached lookups: exactly 1 Redis round trip and 0 SQL",
      value: `${redisRow.extra!.redisRoundTripsPerBatch} round trips, ${redisRow.sql} SQL`,
      met: redisRow.extra!.redisRoundTripsPerBatch === 1 && redisRow.sql === 0,
    },
    { target: "100 cached lookups ≥ 3× uncached throughput", value: `${(redisRow.opsPerSec / rows[0]!.opsPerSec).toFixed(1)}×`, met: redisRow.opsPerSec >= 3 * rows[0]!.opsPerSec },
  );
}

/** 4. 90% reads / 10% writes over 10,000 rows, Zipf(1.0) popularity, 32 workers, two app instances. */
async function mixedWorkload(
  base: PrismaClient,
  url: string,
  redis: Redis,
  sql: CountingAdapter,
  ids: number[],
  prefix: string,
  tiered: (channel: string) => TieredStore,
): Promise<void> {
  const sampleRank = zipf(ids.length, 1.0, Math.random);
  const run = async (
    name: string,
    clients: { read(id: number): Promise<{ views: number } | null>; write(id: number): Promise<{ views: number }> }[],
  ): Promise<Measurement & { extra: { operations: number; violations: number } }> => {
    const history: Parameters<typeof check>[0][number][] = [];
    const latencies: number[] = [];
    // A warm-up of the same workload first, not measured: the steady state is what a cache is for.
    let measuring = false;
    let deadline = performance.now() + WARMUP_MS;
    let started = performance.now();
    setTimeout(() => {
      measuring = true;
      sql.reset();
      latencies.length = 0;
      started = performance.now();
      deadline = started + MIXED_MS;
    }, WARMUP_MS).unref();
    await Promise.all(
      Array.from({ length: 32 }, async (_, worker) => {
        const client = clients[worker % clients.length]!;
        while (!measuring || performance.now() < deadline) {
          const id = ids[sampleRank()]!;
          const start = performance.now();
          if (Math.random() < 0.9) {
            const post = await client.read(id);
            const end = performance.now();
            history.push({ name: `read(${id})`, start, end, saw: new Map([[id, post?.views ?? "absent"]]) });
          } else {
            const post = await client.write(id);
            const end = performance.now();
            history.push({ name: `write(${id})`, start, end, wrote: new Map([[id, { version: post.views, deleted: false }]]) });
          }
          latencies.push(performance.now() - start);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const found = check(history);
    if (found.length > 0) console.log(`violations in "${name}":`, found.slice(0, 5));
    return {
      name,
      opsPerSec: Math.round(latencies.length / seconds),
      p50Us: us(latencies[latencies.length >> 1]!),
      p99Us: us(latencies[Math.floor(latencies.length * 0.99)]!),
      sql: sql.count(),
      extra: { operations: latencies.length, violations: found.length },
    };
  };

  const uncached = process.env.BENCH_SKIP_UNCACHED
    ? { name: "without the plugin (skipped)", opsPerSec: 1, p50Us: 0, p99Us: 0, sql: 0, extra: { operations: 0, violations: 0 } }
    : await run("without the plugin", [
        { read: (id) => base.post.findUnique({ where: { id } }), write: (id) => base.post.update({ where: { id }, data: { views: { increment: 1 } } }) },
      ]);
  // Two app instances (each its own PrismaClient, plugin and L1) sharing Postgres and Redis.
  const secondSql = createCountingAdapter(url, { max: 16 });
  const second = new PrismaClient({ adapter: secondSql.adapter });
  // Both instances' statements count: the second's are appended to the first counter's list.
  secondSql.statements.push = (...items: string[]) => sql.statements.push(...items);
  const mixedStores = [tiered(`${prefix}:mixed`), tiered(`${prefix}:mixed`)];
  const instances = [base, second].map((client, i) => client.$extends(cachePlugin({ schema: cacheSchema, store: mixedStores[i]!, prefix: `${prefix}_mixed` })));
  await waitFor(() => mixedStores.every((store) => store.l1Live), "the mixed workload's L1s live");
  const withPlugin = await run(
    "with the plugin (L1 + Redis, 2 instances)",
    instances.map((client) => ({
      read: (id: number) => client.post.findUnique({ where: { id } }),
      write: (id: number) => client.post.update({ where: { id }, data: { views: { increment: 1 } } }),
    })),
  );
  const stats = instances.map((client) => client.$cache.stats());
  Object.assign(withPlugin.extra, {
    hits: stats.reduce((n, x) => n + x.hits, 0),
    l1Hits: stats.reduce((n, x) => n + x.l1Hits, 0),
    misses: stats.reduce((n, x) => n + x.misses, 0),
  });
  await second.$disconnect();
  await secondSql.close();
  withPlugin.ratio = `${(withPlugin.opsPerSec / uncached.opsPerSec).toFixed(1)}x uncached`;
  uncached.ratio = "1.0x uncached";
  (withPlugin.extra as Record<string, unknown>).sqlSaved =
    `${(100 * (1 - (withPlugin.sql / Math.max(1, uncached.sql)) * (uncached.opsPerSec / withPlugin.opsPerSec))).toFixed(0)}% per operation`;
  results["4. mixed 90% reads / 10% writes, Zipf(1.0) over 10,000 rows, 32 workers"] = [uncached, withPlugin];
  targets.push({
    target: "mixed workload ≥ 3× uncached throughput, 0 violations",
    value: `${(withPlugin.opsPerSec / uncached.opsPerSec).toFixed(1)}×, ${withPlugin.extra.violations} violations (of ${withPlugin.extra.operations} operations)`,
    met: withPlugin.opsPerSec >= 3 * uncached.opsPerSec && withPlugin.extra.violations === 0,
  });
}

type Cached = ReturnType<typeof cachedClientType>;
function cachedClientType(client: PrismaClient) {
  return client.$extends(cachePlugin({ schema: cacheSchema }));
}

interface Counter {
  count: number;
}

/** Times `op` sequentially; `warm` runs first (to fill the cache) and is not measured. */
async function measure(
  name: string,
  sql: CountingAdapter,
  roundTrips: Counter,
  iterations: number,
  op: () => Promise<unknown>,
  warm?: () => Promise<unknown>,
): Promise<Measurement> {
  if (warm) for (let i = 0; i < 3; i++) await warm();
  for (let i = 0; i < Math.min(1_000, iterations / 10); i++) await op();
  sql.reset();
  roundTrips.count = 0;
  const latencies = new Float64Array(iterations);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await op();
    latencies[i] = performance.now() - t;
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  return {
    name,
    opsPerSec: Math.round(iterations / seconds),
    p50Us: us(latencies[iterations >> 1]!),
    p99Us: us(latencies[Math.floor(iterations * 0.99)]!),
    sql: sql.count(),
    redisRoundTrips: roundTrips.count,
    extra: { iterations },
  };
}

function us(ms: number): number {
  return Math.round(ms * 1000 * 10) / 10;
}

function report(): void {
  let markdown = "";
  for (const [workload, rows] of Object.entries(results)) {
    markdown += `\n### ${workload}\n\n| run | ops/s | p50 µs | p99 µs | SQL | Redis round trips | vs uncached | notes |\n|---|---:|---:|---:|---:|---:|---|---|\n`;
    for (const row of rows) {
      const { iterations: _, ...notes } = (row.extra ?? {}) as Record<string, unknown>;
      markdown += `| ${row.name} | ${row.opsPerSec.toLocaleString("en")} | ${row.p50Us} | ${row.p99Us} | ${row.sql} | ${row.redisRoundTrips ?? "–"} | ${row.ratio ?? ""} | ${Object.entries(
        notes,
      )
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ")} |\n`;
    }
  }
  markdown += "\n### Targets\n\n| target | measured | met |\n|---|---|---|\n";
  for (const t of targets) markdown += `| ${t.target} | ${t.value} | ${t.met ? "yes" : "no"} |\n`;
  console.log(markdown);
  mkdirSync(".bench", { recursive: true });
  writeFileSync(".bench/results.json", JSON.stringify({ date: new Date().toISOString(), node: process.version, results, targets }, null, 2));
  writeFileSync(".bench/results.md", markdown);
  console.log("JSON: .bench/results.json");
}

async function seed(prisma: PrismaClient): Promise<number[]> {
  const users = await prisma.user.createManyAndReturn({ data: Array.from({ length: 100 }, (_, i) => ({ email: `bench${i}@example.com` })) });
  await prisma.post.createMany({ data: Array.from({ length: ROWS }, (_, i) => ({ title: `Post ${i}`, slug: `post-${i}`, views: 1, authorId: users[i % users.length]!.id })) });
  const author = await prisma.user.create({ data: { email: "bench-author@example.com" } });
  for (let i = 0; i < 20; i++) {
    await prisma.post.create({ data: { title: `Authored ${i}`, slug: `authored-${i}`, authorId: author.id, comments: { create: [{ body: "a" }, { body: "b" }, { body: "c" }] } } });
  }
  const posts = await prisma.post.findMany({ select: { id: true }, where: { authorId: { not: author.id } }, orderBy: { id: "asc" } });
  return posts.map((post) => post.id);
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const template = await ensureTemplateDatabase(SERVER_URL);
  const name = `pcp_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: SERVER_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Counts the plugin's Redis commands (each is one round trip: MGET for lookups, scripts for the rest). */
function countRoundTrips(redis: Redis): Counter {
  const counter = { count: 0 };
  for (const method of ["evalsha", "eval", "mget"] as const) {
    const original = redis[method].bind(redis) as (...args: unknown[]) => Promise<unknown>;
    (redis as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      counter.count++;
      return original(...args);
    };
  }
  return counter;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
