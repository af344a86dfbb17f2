/**
 * Seeing into the cache, on real Postgres and Redis: `withCacheInfo()` per read, the `prisma-cache:*` diagnostics
 * channels (asserted with in-memory collectors), the debug log's explanations and the Prometheus exposition.
 * Hits are proved by counting SELECT statements; private Redis servers use ports 7300–7309.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "../../generated/prisma/client.ts";
import { CacheConfigError, cacheMetrics, memoryStore, redisStore, tieredStore, type CacheStore } from "../../src/index.ts";
import { debugReads } from "../../src/observe/debug-log.ts";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";
import { collectChannels, inNamespace, type Collector } from "../support/channel-collector.ts";
import { waitFor } from "../support/poll.ts";
import { createRedis, deleteKeysWithPrefix, startRedisServer, uniquePrefix } from "../support/redis.ts";

/** A key prefix of this helper's namespace. */
const observePrefix = (name: string) => `observe-${uniquePrefix(name)}`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function collect(prefix: string): Collector {
  const collector = collectChannels(inNamespace(prefix));
  cleanups.push(() => collector.close());
  return collector;
}

describe.each(STORE_KINDS)("withCacheInfo() on the %s store", (kind) => {
  let bed: CacheBed;
  beforeAll(async () => {
    bed = await createCacheBed(kind);
    const alice = await bed.base.prisma.user.create({ data: { email: "alice@observe.test", name: "Alice" } });
    await bed.base.prisma.post.createMany({
      data: [
        { title: "one", slug: "one", published: true, authorId: alice.id },
        { title: "two", slug: "two", published: false, authorId: alice.id },
      ],
    });
  });
  afterAll(() => bed?.close());

  it("says miss, then hit from the in-process layer (memory) or Redis (l2), with the key, ttl, age and tags", async () => {
    const prefix = observePrefix(`info-${kind}`);
    const { prisma } = bed.cached({ prefix, models: { Post: { ttl: 60, tags: ["posts"] } } });
    const args = { where: { published: true }, orderBy: { id: "asc" as const } };
    const truth = await bed.base.prisma.post.findMany(args);
    bed.resetSql();

    const first = await prisma.post.findMany(args).withCacheInfo();
    expect(first.data).toEqual(truth);
    expect(first.info).toEqual({ status: "miss", layer: null, key: expect.stringMatching(new RegExp(`^${prefix}:`)), ageMs: 0, ttlMs: 60_000, tags: ["posts"] });
    expect(bed.selects()).toBe(1);

    const second = await prisma.post.findMany(args).withCacheInfo();
    expect(second.data).toEqual(truth);
    expect(bed.selects(), "the second read is a hit").toBe(1);
    expect(second.info.status).toBe("hit");
    expect(second.info.layer).toBe(kind === "memory" ? "l1" : "l2");
    expect(second.info.key).toBe(first.info.key);
    expect(second.info.tags).toEqual(["posts"]);
    expect(second.info.ttlMs).toBeGreaterThan(0);
    expect(second.info.ttlMs).toBeLessThanOrEqual(60_000);
    expect(second.info.ageMs + second.info.ttlMs).toBeCloseTo(60_000, -1);

    // Types: data keeps Prisma's result type.
    const title: string = second.data[0]!.title;
    // @ts-expect-error a field the model does not have
    second.data[0]!.nope;
    expect(title).toBe("one");
  });

  it("says bypass, with no key, for cacheStrategy: false and inside an interactive transaction", async () => {
    const { prisma } = bed.cached({ prefix: observePrefix(`bypass-${kind}`) });
    bed.resetSql();
    const off = await prisma.post.findMany({ cacheStrategy: false }).withCacheInfo();
    expect(off.info).toMatchObject({ status: "bypass", layer: null, key: null });
    const inside = await prisma.$transaction(async (tx) => tx.post.count().withCacheInfo());
    expect(inside.info).toMatchObject({ status: "bypass", key: null });
    expect(inside.data).toBe(2);
    expect(bed.selects()).toBe(2);
  });

  it("says stale, with a negative ttlMs, when an entry past its ttl is served within swr", async () => {
    const { prisma } = bed.cached({ prefix: observePrefix(`stale-${kind}`) });
    const read = () => prisma.post.count({ cacheStrategy: { ttl: 0.05, swr: 60 } }).withCacheInfo();
    expect((await read()).info.status).toBe("miss");
    const stale = await waitFor(async () => {
      const { info } = await read();
      return info.status === "stale" ? info : false;
    }, "a stale hit");
    expect(stale.ttlMs).toBeLessThanOrEqual(0);
    expect(stale.layer).not.toBeNull();
  });

  it("rejects with a CacheConfigError when called after the query was awaited", async () => {
    const { prisma } = bed.cached({ prefix: observePrefix(`late-${kind}`) });
    const query = prisma.post.count();
    await query;
    await expect(query.withCacheInfo()).rejects.toSatisfy((error) => error instanceof CacheConfigError && error.field === "withCacheInfo()");
  });
});

describe("diagnostics channels", () => {
  let bed: CacheBed;
  let authorId: number;
  beforeAll(async () => {
    bed = await createCacheBed("redis");
    authorId = (await bed.base.prisma.user.create({ data: { email: "bob@observe.test", name: "Bob" } })).id;
    await bed.base.prisma.post.create({ data: { title: "first", slug: "first", published: true, authorId } });
  });
  afterAll(() => bed?.close());

  it("traces a miss (its fill answered after the read returned) and a hit on prisma-cache:read and prisma-cache:fill", async () => {
    const prefix = observePrefix("trace");
    const { prisma } = bed.cached({ prefix });
    const events = collect(prefix);
    await prisma.post.findMany({ where: { authorId } });
    await prisma.$cache.settled();
    await prisma.post.findMany({ where: { authorId } });

    expect(events.received.map((one) => one.on).filter((on) => !on.endsWith("asyncStart"))).toEqual([
      "read:start",
      // The read returned its promise; the lookup missed and the load starts.
      "read:end",
      "fill:start",
      "fill:end",
      // The read returns once its result is encoded; the store answers the fill after.
      "read:asyncEnd",
      "fill:asyncEnd",
      "read:start",
      "read:end",
      "read:asyncEnd",
    ]);
    const [miss, hit] = events.of("read:asyncEnd");
    expect(miss).toMatchObject({ model: "Post", operation: "findMany", status: "miss", layer: null });
    expect(hit).toMatchObject({ model: "Post", operation: "findMany", status: "hit", layer: "l2", key: miss.key });
    expect(hit.result).toEqual(miss.result);
    const [fill] = events.of("fill:asyncEnd");
    expect(fill).toMatchObject({ model: "Post", operation: "findMany", key: miss.key, outcome: "stored", ttlMs: 60_000 });
    expect(fill.loadMs).toBeGreaterThan(0);
  });

  it("traces cached raw queries ($cache.queryRaw) on prisma-cache:read too", async () => {
    const prefix = observePrefix("raw");
    const { prisma } = bed.cached({ prefix });
    const events = collect(prefix);
    const sql = Prisma.sql`SELECT count(*)::int AS n FROM "Post"`;
    await prisma.$cache.queryRaw(sql, { tags: ["stats"] });
    await prisma.$cache.queryRaw(sql, { tags: ["stats"] });
    expect(events.of("read:asyncEnd").map((read) => [read.model, read.operation, read.status, read.tags])).toEqual([
      ["$queryRaw", "queryRaw", "miss", ["stats"]],
      ["$queryRaw", "queryRaw", "hit", ["stats"]],
    ]);
  });

  it("traces an invalidation with the models and tags it names on prisma-cache:invalidate", async () => {
    const prefix = observePrefix("invalidate");
    const { prisma } = bed.cached({ prefix });
    const events = collect(prefix);
    await prisma.post.update({ where: { slug: "first" }, data: { views: { increment: 1 } } });
    await prisma.$cache.invalidate({ tags: ["feed"] });
    const [write, tag] = events.of("invalidate:asyncEnd");
    expect(write).toMatchObject({ applied: true, all: false });
    expect(write.models).toContain("Post");
    expect(write.stamps).toContain("m:Post");
    expect(tag).toMatchObject({ models: [], tags: ["feed"], applied: true });
  });

  it("publishes stale and refresh when a stale entry is served within swr", async () => {
    const prefix = observePrefix("swr");
    const { prisma } = bed.cached({ prefix });
    const events = collect(prefix);
    const read = () => prisma.post.count({ where: { authorId }, cacheStrategy: { ttl: 0.05, swr: 60 } });
    await read();
    await waitFor(async () => {
      await read();
      return events.of("stale").length > 0;
    }, "a stale hit");
    const [stale] = events.of("stale");
    expect(stale).toMatchObject({ model: "Post", operation: "count" });
    expect(stale.staleForMs).toBeGreaterThanOrEqual(0);
    expect(events.of("refresh")[0]).toMatchObject({ model: "Post", operation: "count", key: stale.key, reason: "stale" });
    // The refresh's own load and fill is traced too.
    await waitFor(() => events.of("fill:asyncEnd").length >= 2, "the refresh's fill");
  });

  it("publishes fill-refused when a stamp moves during the database read", async () => {
    const prefix = observePrefix("refused");
    const inner = memoryStore();
    // A store where an invalidation always lands between the lookup and the fill, as a concurrent write would.
    const racing: CacheStore = {
      name: "racing",
      lookup: (requests) => inner.lookup(requests),
      fill: async (request) => {
        await inner.bump(request.stamps);
        return inner.fill(request);
      },
      bump: (stamps) => inner.bump(stamps),
      close: () => inner.close(),
    };
    const { prisma } = bed.cached({ prefix, store: racing });
    const events = collect(prefix);
    bed.resetSql();
    await prisma.post.findMany({ where: { authorId } });
    await prisma.post.findMany({ where: { authorId } });
    await prisma.$cache.settled();
    expect(bed.selects(), "nothing was stored").toBe(2);
    expect(events.of("fillRefused")).toEqual([expect.objectContaining({ model: "Post", operation: "findMany" }), expect.objectContaining({ model: "Post" })]);
    expect(events.of("fill:asyncEnd").map((fill) => fill.outcome)).toEqual(["refused", "refused"]);
  });

  it("publishes breaker open and closed, degraded on and off, and errors, when Redis freezes and comes back", async () => {
    const server = await startRedisServer({ port: 7300 });
    cleanups.push(() => server.stop());
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
    client.on("error", () => {});
    cleanups.push(() => client.disconnect());
    const prefix = observePrefix("breaker");
    const { prisma } = bed.cached({ prefix, store: redisStore({ client }), timeoutMs: 200, onError: () => {} });
    const events = collect(prefix);
    await prisma.post.findMany({ where: { authorId } });

    server.pause();
    cleanups.push(() => server.resume());
    for (let i = 0; i < 4; i++) await prisma.post.findMany({ where: { authorId } });
    await prisma.post.update({ where: { slug: "first" }, data: { views: { increment: 1 } } });
    expect(events.of("breaker")).toEqual([{ store: "redis", state: "open" }]);
    // The event's prefix is the namespace: the option's prefix and the schema's fingerprint.
    expect(events.of("degraded")).toEqual([expect.objectContaining({ prefix: expect.stringContaining(prefix), degraded: true })]);
    expect(events.of("error").map((event) => event.error.code)).toContain("STORE_TIMEOUT");
    expect(events.of("read:asyncEnd").at(-1)).toMatchObject({ status: "bypass", reason: expect.stringContaining("store failed") });

    const bypassed = await prisma.post.findMany({ where: { authorId } }).withCacheInfo();
    expect(bypassed.info.status).toBe("bypass");

    server.resume();
    await waitFor(() => events.of("breaker").length === 2, "the breaker closing", 10_000);
    expect(events.of("breaker")[1]).toEqual({ store: "redis", state: "closed" });
    await waitFor(() => events.of("degraded").length === 2, "degraded mode ending", 10_000);
    expect(events.of("degraded")[1]).toMatchObject({ degraded: false, pending: 0 });
  });

  it("publishes bus up when a tiered store's L1 starts serving and bus down when its subscription ends", async () => {
    const prefix = observePrefix("bus");
    const redis = createRedis();
    cleanups.push(() => redis.disconnect());
    cleanups.push(() => deleteKeysWithPrefix(redis, prefix));
    const channelName = `${prefix}:invalidate`;
    const events = collectChannels((on, message) => on !== "bus" || (message as { channel: string }).channel === channelName);
    cleanups.push(() => events.close());
    const store = tieredStore({ l2: redisStore({ client: redis }), channel: channelName });
    await waitFor(() => events.of("bus").length > 0, "bus up");
    expect(events.of("bus")).toEqual([{ channel: channelName, state: "up" }]);
    await store.close();
    expect(events.of("bus")[1]).toEqual({ channel: channelName, state: "down", reason: "subscription down" });
  });
});

describe("debug log (NODE_DEBUG=prisma-cache)", () => {
  let bed: CacheBed;
  beforeAll(async () => {
    bed = await createCacheBed("redis");
    await bed.base.prisma.post.create({ data: { title: "logged", slug: "logged" } });
  });
  afterAll(() => bed?.close());

  it("says per read why it hit or missed: not stored yet, fresh, which stamp moved, expired, in a transaction", async () => {
    const prefix = observePrefix("debug");
    const { prisma } = bed.cached({ prefix });
    const lines: string[] = [];
    const stop = debugReads((line) => lines.push(line));
    cleanups.push(stop);
    const mine = () => lines.filter((line) => line.includes(` key=${prefix}:`) || line.includes("bypass"));

    await prisma.post.findUnique({ where: { slug: "logged" } });
    await prisma.post.findUnique({ where: { slug: "logged" } });
    await prisma.post.update({ where: { slug: "logged" }, data: { views: 1 } });
    await prisma.post.findUnique({ where: { slug: "logged" } });
    await prisma.$cache.invalidate({ models: ["Post"] });
    await prisma.post.findUnique({ where: { slug: "logged" } });
    await prisma.$transaction(async (tx) => tx.post.count());
    const read = () => prisma.post.count({ where: { slug: "logged" }, cacheStrategy: { ttl: 0.05 } });
    await read();
    await waitFor(async () => {
      await read();
      return mine().some((line) => line.includes("expired"));
    }, "an expired entry");

    const log = mine();
    expect(log[0]).toMatch(/^Post\.findUnique miss key=\S+ \(no entry: not stored by this process/);
    expect(log[1]).toMatch(/^Post\.findUnique hit l2 age=\d+ms ttl=\d+ms key=\S+ \(fresh entry \(from the store\)\)$/);
    expect(log[2]).toMatch(/^Post\.findUnique miss key=\S+ \(stamps? .*r:Post:slug="logged".* moved since it was stored\)$/);
    expect(log[3]).toMatch(/^Post\.findUnique miss key=\S+ \(stamps? .*u:Post.* moved since it was stored\)$/);
    expect(log[4]).toBe("Post.count bypass (bypassed: inside an interactive transaction)");
    expect(log.at(-1)).toMatch(/^Post\.count miss key=\S+ \(.*expired.*\)$/);
  });
});

describe("NODE_DEBUG=prisma-cache, in a process of its own", () => {
  it("turns the debug log on: the process prints a line per read on stderr", async () => {
    const bed = await createCacheBed("memory");
    cleanups.push(() => bed.close());
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../support/debug-log-child.ts", import.meta.url))], {
      env: { ...process.env, NODE_DEBUG: "prisma-cache", DATABASE_URL: bed.db.url, PREFIX: observePrefix("node-debug") },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("DONE");
    const lines = stderr.split("\n").filter((line) => line.startsWith("PRISMA-CACHE"));
    console.log(`debug log of the child:\n${lines.join("\n")}`);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^PRISMA-CACHE \d+: Post\.findUnique miss key=.* \(no entry: not stored by this process/);
    expect(lines[1]).toMatch(/^PRISMA-CACHE \d+: Post\.findUnique hit l1 /);
    expect(lines[2]).toMatch(/moved since it was stored\)$/);
    expect(lines[3]).toMatch(/Post\.count bypass \(bypassed: inside an interactive transaction\)$/);
  }, 60_000);
});

describe("cacheMetrics(): the Prometheus exposition", () => {
  let bed: CacheBed;
  beforeAll(async () => {
    bed = await createCacheBed("redis");
    await bed.base.prisma.post.create({ data: { title: "counted", slug: "counted" } });
  });
  afterAll(() => bed?.close());

  it("counts reads by model, operation, status and layer, with latency histograms, fills and invalidations", async () => {
    const metrics = cacheMetrics();
    cleanups.push(() => metrics.close());
    const { prisma } = bed.cached({ prefix: observePrefix("prometheus") });
    await prisma.post.findMany({ where: { slug: "counted" } });
    await prisma.post.findMany({ where: { slug: "counted" } });
    await prisma.post.findMany({ where: { slug: "counted" } });
    await prisma.post.update({ where: { slug: "counted" }, data: { views: 2 } });
    await prisma.post.count({ cacheStrategy: false });
    const text = metrics.prometheus();
    console.log(`sample Prometheus output:\n${text}`);

    expect(text).toContain("# TYPE prisma_cache_reads_total counter");
    expect(text).toContain('prisma_cache_reads_total{model="Post",operation="findMany",status="miss",layer="none"} 1\n');
    expect(text).toContain('prisma_cache_reads_total{model="Post",operation="findMany",status="hit",layer="l2"} 2\n');
    expect(text).toContain('prisma_cache_reads_total{model="Post",operation="count",status="bypass",layer="none"} 1\n');
    expect(text).toContain("# TYPE prisma_cache_read_duration_seconds histogram");
    expect(text).toContain('prisma_cache_read_duration_seconds_count{model="Post",operation="findMany",status="hit",layer="l2"} 2\n');
    expect(text).toMatch(/prisma_cache_read_duration_seconds_bucket\{model="Post",operation="findMany",status="hit",layer="l2",le="\+Inf"\} 2\n/);
    expect(text).toContain('prisma_cache_fills_total{model="Post",operation="findMany",outcome="stored"} 1\n');
    expect(text).toContain('prisma_cache_invalidations_total{model="Post",result="applied"} 1\n');
    expect(text).toContain('prisma_cache_fill_duration_seconds_count{model="Post",operation="findMany"} 1\n');

    metrics.reset();
    expect(metrics.prometheus()).not.toContain("prisma_cache_reads_total{");
  });
});
