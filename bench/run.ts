/**
 * `npm run bench`: the plugin against real Postgres and Redis, every workload measured against its baselines in
 * the same run. Prints a markdown table and writes the same numbers as JSON to .bench/results.json.
 *
 * Environment: DATABASE_URL (a role that may create databases; default postgresql://postgres@127.0.0.1:5432/postgres),
 * REDIS_URL (default redis://127.0.0.1:6379), BENCH_MIXED_MS (length of each measured mixed run, default 10000),
 * BENCH_WARMUP_MS (unmeasured warm-up before it, default 20000), BENCH_ONLY (1-8, or a list such as 1,2,6: those workloads), BENCH_SRC=1 (measure
 * the sources instead of the build), BENCH_PREFIX (Redis key prefix, default "bench"), BENCH_DB_PREFIX (name prefix of
 * the scratch database, default "pcp_bench"), BENCH_E2E_MS (length of each end-to-end run, default 8000).
 *
 * The peer, prisma-extension-redis 5 (bench/peer.ts), runs the same workloads in the same run.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cacheSchema } from "../generated/cache/index.ts";
import type { CacheStore, TieredStore } from "../src/index.ts";
import { Serializer } from "../src/read/serializer.ts";
import { HEARTBEAT } from "../src/stores/redis-scripts.ts";
import { ensureTemplateDatabase } from "../test/support/global-setup.ts";
import { createCountingAdapter, type CountingAdapter } from "../test/support/sql-counter.ts";
import { check } from "../test/support/coherence-checker.ts";
import { changeFeedBench } from "./change-feed.ts";
import { waitFor } from "../test/support/poll.ts";
import { zipf } from "./zipf.ts";
import { withPeer } from "./peer.ts";
import { endToEnd } from "./e2e.ts";

// The built package, as users run it (npm run bench builds it first); BENCH_SRC=1 measures the sources instead.
// The specifier is a variable so that type-checking does not need a build.
const entry = process.env.BENCH_SRC ? "../src/index.ts" : "../dist/index.js";
const { cachePlugin, memoryStore, redisStore, tieredStore } = (await import(entry)) as typeof import("../src/index.ts");

const SERVER_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const MIXED_MS = Number(process.env.BENCH_MIXED_MS ?? 10_000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 20_000);
const ROWS = 10_000;
const PREFIX = process.env.BENCH_PREFIX ?? "bench";
const DB_PREFIX = process.env.BENCH_DB_PREFIX ?? "pcp_bench";
const E2E_MS = Number(process.env.BENCH_E2E_MS ?? 8_000);
const serializer = new Serializer();
const encode = (value: unknown): string => serializer.encode(value);
const decode = (text: string): unknown => serializer.decode(text);

interface Measurement {
  name: string;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  p999Us?: number;
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
  const prefix = `${PREFIX}_${randomBytes(4).toString("hex")}`;
  const peerPrefix = `${prefix}-peer`;
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
    // The peer gets a client of its own (its calls must not count as the plugin's round trips).
    const peerRedis = new Redis(REDIS_URL);
    const viaPeer = withPeer(base, peerRedis, peerPrefix);
    await waitFor(() => stores.every((store) => store.l1Live), "the tiered stores' L1s live");

    // e.g. BENCH_ONLY=4 runs the mixed workload alone, BENCH_ONLY=1,2,6 three workloads.
    const only = process.env.BENCH_ONLY?.split(",");
    const runs = (workload: string) => only === undefined || only.includes(workload);
    try {
      if (runs("1")) await hotFindUnique(base, viaRedis, viaL1, viaPeer, redis, sql, roundTrips, ids[0]!);
      if (runs("2")) await findManyWithInclude(base, viaRedis, viaL1, viaPeer, sql, roundTrips);
      if (runs("3")) await concurrentLookups(base, viaRedis, viaL1, sql, roundTrips, ids);
      if (runs("6")) await misses(base, viaRedis, viaL1, viaPeer, redis, sql, roundTrips, ids);
      if (runs("7")) await writes(base, viaRedis, viaL1, viaPeer, stores[0]!, redis, sql, roundTrips, ids);
      if (runs("4")) await mixedWorkload(base, url, redis, peerRedis, sql, ids, prefix, peerPrefix, tiered);
      if (runs("8")) await endToEndWorkload(url, ids, prefix);
      if (only === undefined) await changeFeedWorkload();
    } finally {
      const peerKeys = await redis.keys(`${peerPrefix}*`);
      for (let i = 0; i < peerKeys.length; i += 1000) await redis.unlink(...peerKeys.slice(i, i + 1000));
      peerRedis.disconnect();
    }
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

/** An end-to-end configuration's name in the tables. */
function storeName(store: string): string {
  return store === "tiered-wt" ? "tieredStore, write-through" : `${store}Store`;
}

/** 8. End to end: a Fastify app under autocannon (bench/e2e.ts). */
async function endToEndWorkload(url: string, ids: number[], prefix: string): Promise<void> {
  const runs = await endToEnd({ databaseUrl: url, redisUrl: REDIS_URL, ids, prefix, durationMs: E2E_MS, port: 7_510 });
  const [none] = runs;
  results["8. end to end: Fastify + autocannon, 32 connections, Zipf(1.0), 90% GET / 10% POST (ops = requests)"] = runs.map((run) => ({
    name: run.store === "none" ? "without the plugin" : run.store === "ceiling" ? "harness ceiling (same HTTP, no database)" : storeName(run.store),
    opsPerSec: run.requestsPerSec,
    p50Us: run.p50Ms * 1000,
    p99Us: run.p99Ms * 1000,
    sql: 0,
    ratio: `${(run.requestsPerSec / none!.requestsPerSec).toFixed(1)}x uncached`,
    extra: { errors: run.errors, non2xx: run.non2xx },
  }));
  const ceiling = runs.find((run) => run.store === "ceiling")!;
  for (const run of runs.filter((one) => one.store !== "none" && one.store !== "ceiling")) {
    targets.push({
      target: `end to end, ${storeName(run.store)}: more requests/s and p99 no worse than without the plugin`,
      value: `${(run.requestsPerSec / none!.requestsPerSec).toFixed(2)}×, p99 ${run.p99Ms} vs ${none!.p99Ms} ms (harness ceiling ${(ceiling.requestsPerSec / none!.requestsPerSec).toFixed(2)}×)`,
      met: run.requestsPerSec > none!.requestsPerSec && run.p99Ms <= none!.p99Ms && run.errors === 0 && run.non2xx === 0,
    });
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
async function hotFindUnique(
  base: PrismaClient,
  viaRedis: Cached,
  viaL1: Cached,
  viaPeer: Peer,
  redis: Redis,
  sql: CountingAdapter,
  roundTrips: Counter,
  id: number,
): Promise<void> {
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
  // The round-trip rows interleave (one call of each, round after round), so the machine's load drifting during the
  // run weighs on all three alike; the first calls fill the entries.
  for (let i = 0; i < 3; i++) await Promise.all([viaRedis.post.findUnique(args), viaPeer.post.findUnique(args)]);
  await viaRedis.$cache.settled();
  const [redisHit, rawGet, peerHit] = (await measureInterleaved(sql, roundTrips, 10_000, [
    ["Redis hit", () => viaRedis.post.findUnique(args)],
    ["raw ioredis GET + decode", async () => decode((await redis.get(`{bench}:raw`))!)],
    ["peer hit (prisma-extension-redis 5)", () => viaPeer.post.findUnique(args)],
  ])) as [Measurement, Measurement, Measurement];
  const rows = [uncached, redisHit, l1Hit, floor, rawGet, peerHit];
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
    ahead("hot findUnique: Redis hit", redisHit, peerHit),
    ahead("hot findUnique: L1 hit", l1Hit, peerHit),
  );
}

/** A target row: the plugin's run against the peer's on the same workload (p50 latency). */
function ahead(workload: string, ours: Measurement, peer: Measurement): { target: string; value: string; met: boolean } {
  return { target: `${workload} ahead of the peer (p50)`, value: `${ours.p50Us} µs vs ${peer.p50Us} µs (${(peer.p50Us / ours.p50Us).toFixed(2)}×)`, met: ours.p50Us < peer.p50Us };
}

/** 2. findMany with include: 20 posts with their comments. */
async function findManyWithInclude(base: PrismaClient, viaRedis: Cached, viaL1: Cached, viaPeer: Peer, sql: CountingAdapter, roundTrips: Counter): Promise<void> {
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
    await measure(
      "peer hit",
      sql,
      roundTrips,
      5_000,
      () => viaPeer.post.findMany(args),
      () => viaPeer.post.findMany(args),
    ),
  ];
  for (const row of rows) row.ratio = `${(row.opsPerSec / rows[0]!.opsPerSec).toFixed(1)}x uncached`;
  results["2. findMany with include (20 posts, 3 comments each)"] = rows;
  targets.push(ahead("findMany with include: Redis hit", rows[1]!, rows[3]!));
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

/**
 * 6. Misses: findUnique by ids nobody has read yet (each iteration a new id), against the same reads without the
 * plugin, and a bare Redis round trip (a GET of a small key) measured in the same run as the unit of the target.
 */
async function misses(base: PrismaClient, viaRedis: Cached, viaL1: Cached, viaPeer: Peer, redis: Redis, sql: CountingAdapter, roundTrips: Counter, ids: number[]): Promise<void> {
  const iterations = 1_000;
  const warm = Math.min(1_000, iterations / 10);
  let at = 200; // ids[0..200) are read by the workloads above
  const fresh = (read: (id: number) => Promise<unknown>) => {
    const from = at;
    at += iterations + warm;
    let next = from;
    return () => read(ids[next++]!);
  };
  await redis.set(`{${PREFIX}}:rtt`, "1");
  const rtt = await measure("Redis round trip (GET of a small key)", sql, roundTrips, 5_000, () => redis.get(`{${PREFIX}}:rtt`));
  await redis.del(`{${PREFIX}}:rtt`);
  const rows = [
    ...(await measureInterleaved(sql, roundTrips, iterations, [
      ["uncached Prisma", fresh((id) => base.post.findUnique({ where: { id } }))],
      ["redisStore miss", fresh((id) => viaRedis.post.findUnique({ where: { id } })), () => viaRedis.$cache.settled()],
      ["tieredStore miss (L1 and Redis)", fresh((id) => viaL1.post.findUnique({ where: { id } })), () => viaL1.$cache.settled()],
      ["peer miss", fresh((id) => viaPeer.post.findUnique({ where: { id } }))],
    ])),
    rtt,
  ];
  const [uncached, viaRedisRow, viaL1Row, peer] = rows as [Measurement, Measurement, Measurement, Measurement];
  for (const row of rows) {
    row.ratio = `${(row.p50Us / uncached.p50Us).toFixed(2)}x uncached p50`;
    if (row.redisRoundTrips !== undefined && row !== rtt) row.extra = { redisRoundTripsPerRead: (row.redisRoundTrips / iterations).toFixed(2) };
  }
  results["6. miss: findUnique by an id not cached yet (ops = reads)"] = rows;
  const within = (row: Measurement) => ({
    target: `${row.name}: p50 ≤ uncached + 1 Redis round trip`,
    value: `${row.p50Us} µs vs ${uncached.p50Us} + ${rtt.p50Us} µs (+${(row.p50Us - uncached.p50Us).toFixed(0)} µs = ${((row.p50Us - uncached.p50Us) / rtt.p50Us).toFixed(1)} round trips)`,
    met: row.p50Us <= uncached.p50Us + rtt.p50Us,
  });
  targets.push(within(viaRedisRow), within(viaL1Row), ahead("miss: redisStore", viaRedisRow, peer));
}

/**
 * 7. Writes: update by id (each invalidates that row's cached reads), against the same update without the plugin.
 * The tiered store waits for every subscriber's acknowledgement; that wait is timed and reported on its own.
 */
async function writes(
  base: PrismaClient,
  viaRedis: Cached,
  viaL1: Cached,
  viaPeer: Peer,
  tieredL1: TieredStore,
  redis: Redis,
  sql: CountingAdapter,
  roundTrips: Counter,
  ids: number[],
): Promise<void> {
  const iterations = 1_000;
  const update = (client: unknown) => {
    let i = 0;
    return () => (client as PrismaClient).post.update({ where: { id: ids[9_000 + (i++ % 500)]! }, data: { views: { increment: 1 } } });
  };
  // The acknowledgement wait: the tiered store's bump minus its Redis script (bump + publish) alone.
  const timing = { bump: 0, script: 0, calls: 0 };
  const store = tieredL1 as unknown as { bump(stamps: readonly string[]): Promise<void>; l2: { bumpAndPublish(...args: unknown[]): Promise<number> } };
  const [bump, script] = [store.bump.bind(store), store.l2.bumpAndPublish.bind(store.l2)];
  store.bump = async (stamps) => {
    const t = performance.now();
    await bump(stamps);
    timing.bump += performance.now() - t;
    timing.calls++;
  };
  store.l2.bumpAndPublish = async (...args: unknown[]) => {
    const t = performance.now();
    const receivers = await script(...args);
    timing.script += performance.now() - t;
    return receivers;
  };
  const rows = await measureInterleaved(sql, roundTrips, iterations, [
    ["uncached Prisma update", update(base)],
    ["redisStore (invalidating)", update(viaRedis)],
    ["tieredStore (invalidating, acknowledged)", update(viaL1)],
    ["peer (invalidateOnWrite)", update(viaPeer)],
  ]);
  const tiered = rows[2]!;
  const ackWaitUs = us((timing.bump - timing.script) / timing.calls);
  tiered.extra = { ...tiered.extra, ackWaitMeanUs: ackWaitUs, scriptMeanUs: us(timing.script / timing.calls) };
  store.bump = bump;
  store.l2.bumpAndPublish = script;
  const [uncached, viaRedisRow, , peer] = rows as [Measurement, Measurement, Measurement, Measurement];
  for (const row of rows) {
    row.ratio = `${(row.p50Us / uncached.p50Us).toFixed(2)}x uncached p50`;
    row.extra = { ...row.extra, redisRoundTripsPerWrite: ((row.redisRoundTrips ?? 0) / iterations).toFixed(2) };
  }
  results["7. write: update by id, invalidating (ops = writes)"] = rows;
  const rtt = await roundTripUs(redis);
  targets.push(
    {
      target: "write, redisStore: p50 ≤ uncached + 1 Redis round trip",
      value: `${viaRedisRow.p50Us} µs vs ${uncached.p50Us} + ${rtt} µs`,
      met: viaRedisRow.p50Us <= uncached.p50Us + rtt,
    },
    {
      target: "write, tieredStore: p50 − acknowledgement wait ≤ uncached + 1 Redis round trip",
      value: `${tiered.p50Us} − ${ackWaitUs} µs vs ${uncached.p50Us} + ${rtt} µs`,
      met: tiered.p50Us - ackWaitUs <= uncached.p50Us + rtt,
    },
    ahead("write: redisStore", viaRedisRow, peer),
  );
}

/** p50 of a bare Redis round trip (a PING), in µs, measured now. */
async function roundTripUs(redis: Redis): Promise<number> {
  const latencies: number[] = [];
  for (let i = 0; i < 3_000; i++) {
    const t = performance.now();
    await redis.ping();
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  return us(latencies[latencies.length >> 1]!);
}

/** 4. 90% reads / 10% writes over 10,000 rows, Zipf(1.0) popularity, 32 workers, two app instances. */
async function mixedWorkload(
  base: PrismaClient,
  url: string,
  redis: Redis,
  peerRedis: Redis,
  sql: CountingAdapter,
  ids: number[],
  prefix: string,
  peerPrefix: string,
  tiered: (channel: string) => TieredStore,
): Promise<void> {
  const sampleRank = zipf(ids.length, 1.0, Math.random);
  type Client = { read(id: number): Promise<{ views: number } | null>; write(id: number): Promise<{ views: number }> };
  const run = async (name: string, clients: Client[]): Promise<Measurement & { extra: Record<string, unknown> & { operations: number; violations: number } }> => {
    const history: Parameters<typeof check>[0][number][] = [];
    const reads: number[] = [];
    const writes: number[] = [];
    // A warm-up of the same workload first, not measured: the steady state is what a cache is for.
    let measuring = false;
    let deadline = performance.now() + WARMUP_MS;
    let started = performance.now();
    setTimeout(() => {
      measuring = true;
      sql.reset();
      reads.length = 0;
      writes.length = 0;
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
            reads.push(end - start);
          } else {
            const post = await client.write(id);
            const end = performance.now();
            history.push({ name: `write(${id})`, start, end, wrote: new Map([[id, { version: post.views, deleted: false }]]) });
            writes.push(end - start);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const all = [...reads, ...writes];
    const found = check(history);
    if (found.length > 0) console.log(`violations in "${name}":`, found.slice(0, 5));
    const [p50Us, p99Us, p999Us] = percentiles(all);
    return {
      name,
      opsPerSec: Math.round(all.length / seconds),
      p50Us,
      p99Us,
      p999Us,
      sql: sql.count(),
      extra: { operations: all.length, violations: found.length, reads: percentiles(reads).join("/"), writes: percentiles(writes).join("/") },
    };
  };
  // Every client here (plain, plugin, peer) answers these two calls like a plain one; their types differ.
  const reading = (client: unknown) => (id: number) => (client as PrismaClient).post.findUnique({ where: { id } });
  const writing = (client: unknown) => (id: number) => (client as PrismaClient).post.update({ where: { id }, data: { views: { increment: 1 } } });

  // Two app instances (each its own PrismaClient, plugin and L1) sharing Postgres and Redis.
  const secondSql = createCountingAdapter(url, { max: 16 });
  const second = new PrismaClient({ adapter: secondSql.adapter });
  // Both instances' statements count: the second's are appended to the first counter's list.
  secondSql.statements.push = (...items: string[]) => sql.statements.push(...items);
  const uncached = process.env.BENCH_SKIP_UNCACHED
    ? { name: "without the plugin (skipped)", opsPerSec: 1, p50Us: 0, p99Us: 0, sql: 0, extra: { operations: 0, violations: 0 } }
    : await run(
        "without the plugin (2 instances)",
        [base, second].map((client) => ({ read: reading(client), write: writing(client) })),
      );
  // The tiered store on both instances, optionally with per-model policies; the run's extra notes its cache stats.
  const tieredRun = async (name: string, key: string, models?: NonNullable<Parameters<typeof cachePlugin>[0]>["models"]) => {
    const pair = [tiered(`${prefix}:${key}`), tiered(`${prefix}:${key}`)];
    const instances = [base, second].map((client, i) =>
      client.$extends(cachePlugin({ schema: cacheSchema, store: pair[i]!, prefix: `${prefix}_${key}`, ...(models && { models }) })),
    );
    await waitFor(() => pair.every((store) => store.l1Live), `the L1s of "${name}" live`);
    const measured = await run(
      name,
      instances.map((client) => ({ read: reading(client), write: writing(client) })),
    );
    const stats = instances.map((client) => client.$cache.stats());
    Object.assign(measured.extra, {
      hits: stats.reduce((n, x) => n + x.hits, 0),
      l1Hits: stats.reduce((n, x) => n + x.l1Hits, 0),
      misses: stats.reduce((n, x) => n + x.misses, 0),
    });
    return measured;
  };
  const withPlugin = await tieredRun("tieredStore (L1 + Redis, 2 instances)", "mixed");
  // Write-through for Post: an update stores the row it returns, so the next read of it hits.
  const withWriteThrough = await tieredRun("tieredStore, write-through (2 instances)", "mixedwt", { Post: { writes: "write-through" } });
  const viaRedis = [base, second].map((client) => client.$extends(cachePlugin({ schema: cacheSchema, store: redisStore({ client: redis }), prefix: `${prefix}_mixedr` })));
  const withRedis = await run(
    "redisStore (2 instances)",
    viaRedis.map((client) => ({ read: reading(client), write: writing(client) })),
  );
  const peers = [base, second].map((client) => withPeer(client, peerRedis, `${peerPrefix}-mixed`));
  const peer = await run(
    "peer (2 instances)",
    peers.map((client) => ({ read: reading(client), write: writing(client) })),
  );
  await second.$disconnect();
  await secondSql.close();
  const rows = [uncached, withPlugin, withWriteThrough, withRedis, peer];
  for (const row of rows) row.ratio = `${(row.opsPerSec / uncached.opsPerSec).toFixed(1)}x uncached`;
  for (const row of [withPlugin, withWriteThrough, withRedis, peer])
    row.extra.sqlSaved = `${(100 * (1 - (row.sql / Math.max(1, uncached.sql)) * (uncached.opsPerSec / row.opsPerSec))).toFixed(0)}% per operation`;
  results["4. mixed 90% reads / 10% writes, Zipf(1.0) over 10,000 rows, 32 workers (reads, writes: p50/p99/p999 µs)"] = rows;
  for (const [label, row] of [
    ["tieredStore", withPlugin],
    ["tieredStore with write-through", withWriteThrough],
  ] as const) {
    targets.push(
      {
        target: `mixed, ${label}: ≥ 3× uncached throughput, 0 violations`,
        value: `${(row.opsPerSec / uncached.opsPerSec).toFixed(2)}×, ${row.extra.violations} violations (of ${row.extra.operations} operations)`,
        met: row.opsPerSec >= 3 * uncached.opsPerSec && row.extra.violations === 0,
      },
      { target: `mixed, ${label}: p99 no worse than without the plugin`, value: `${row.p99Us} µs vs ${uncached.p99Us} µs`, met: row.p99Us <= uncached.p99Us },
    );
  }
  targets.push(
    { target: "mixed, redisStore: p99 no worse than without the plugin", value: `${withRedis.p99Us} µs vs ${uncached.p99Us} µs`, met: withRedis.p99Us <= uncached.p99Us },
    {
      target: "mixed, tieredStore ahead of the peer (throughput)",
      value: `${withPlugin.opsPerSec} vs ${peer.opsPerSec} ops/s (${(withPlugin.opsPerSec / peer.opsPerSec).toFixed(2)}×; peer violations: ${peer.extra.violations})`,
      met: withPlugin.opsPerSec > peer.opsPerSec,
    },
  );
}

/** p50, p99 and p999 of latencies in ms, in µs. */
function percentiles(latencies: number[]): [number, number, number] {
  if (latencies.length === 0) return [0, 0, 0];
  const sorted = Float64Array.from(latencies).sort();
  const at = (q: number) => us(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!);
  return [at(0.5), at(0.99), at(0.999)];
}

type Cached = ReturnType<typeof cachedClientType>;
type Peer = ReturnType<typeof withPeer>;
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
    p999Us: us(latencies[Math.floor(iterations * 0.999)]!),
    sql: sql.count(),
    redisRoundTrips: roundTrips.count,
    extra: { iterations },
  };
}

/**
 * Times several ops in turns (one call of each, round after round), so that the load of a shared machine drifting
 * over the run weighs on all of them alike; SQL and round trips are counted per op. Not for ops that share state.
 */
async function measureInterleaved(
  sql: CountingAdapter,
  roundTrips: Counter,
  iterations: number,
  ops: [name: string, op: () => Promise<unknown>, settled?: () => Promise<unknown>][],
): Promise<Measurement[]> {
  for (let i = 0; i < Math.min(1_000, iterations / 10); i++) for (const [, op, settled] of ops) await op(), await settled?.();
  const latencies = ops.map(() => new Float64Array(iterations));
  const sqlCounts = ops.map(() => 0);
  const trips = ops.map(() => 0);
  const spent = ops.map(() => 0);
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < ops.length; j++) {
      sql.reset();
      roundTrips.count = 0;
      const t = performance.now();
      await ops[j]![1]();
      const took = performance.now() - t;
      // Work the op left running (a fill) is its own, not the next op's: counted here, not timed.
      await ops[j]![2]?.();
      latencies[j]![i] = took;
      spent[j]! += took;
      sqlCounts[j]! += sql.count();
      trips[j]! += roundTrips.count;
    }
  }
  return ops.map(([name], j) => {
    const sorted = latencies[j]!.sort();
    return {
      name,
      opsPerSec: Math.round((iterations * 1000) / spent[j]!),
      p50Us: us(sorted[iterations >> 1]!),
      p99Us: us(sorted[Math.floor(iterations * 0.99)]!),
      p999Us: us(sorted[Math.floor(iterations * 0.999)]!),
      sql: sqlCounts[j]!,
      redisRoundTrips: trips[j]!,
      extra: { iterations },
    };
  });
}

function us(ms: number): number {
  return Math.round(ms * 1000 * 10) / 10;
}

function report(): void {
  let markdown = "";
  for (const [workload, rows] of Object.entries(results)) {
    markdown += `\n### ${workload}\n\n| run | ops/s | p50 µs | p99 µs | p999 µs | SQL | Redis round trips | vs uncached | notes |\n|---|---:|---:|---:|---:|---:|---:|---|---|\n`;
    for (const row of rows) {
      const { iterations: _, ...notes } = (row.extra ?? {}) as Record<string, unknown>;
      markdown += `| ${row.name} | ${row.opsPerSec.toLocaleString("en")} | ${row.p50Us} | ${row.p99Us} | ${row.p999Us ?? "–"} | ${row.sql} | ${row.redisRoundTrips ?? "–"} | ${row.ratio ?? ""} | ${Object.entries(
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
  const name = `${DB_PREFIX}_${randomBytes(4).toString("hex")}`;
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

/** Counts the plugin's Redis commands (each is one round trip: MGET for lookups, DEL for redisStore's bumps, scripts for the rest). */
function countRoundTrips(redis: Redis): Counter {
  const counter = { count: 0 };
  // The tiered stores' heartbeats (one script call per 100 ms each) are not a read's round trips.
  const heartbeat = createHash("sha1").update(HEARTBEAT).digest("hex");
  for (const method of ["evalsha", "eval", "mget", "del"] as const) {
    const original = redis[method].bind(redis) as (...args: unknown[]) => Promise<unknown>;
    (redis as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      if (args[0] !== heartbeat && args[0] !== HEARTBEAT) counter.count++;
      return original(...args);
    };
  }
  return counter;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
