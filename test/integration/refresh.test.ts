/**
 * Refreshing entries before or after they expire, and keeping concurrent misses from stampeding the database:
 * refresh-ahead of hot entries, stale-while-revalidate, XFetch early refresh, and cross-process leases. Evidence is
 * SQL statements (counted by the bed's adapter, or per client), `$cache.stats()`, and the entry's life in Redis
 * (PTTL), never elapsed time alone; waits are polls with deadlines.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { cachePlugin, redisStore, type CachePluginOptions } from "../../src/index.ts";
import { createCacheBed, STORE_KINDS, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { createRedis, deleteKeysWithPrefix, uniquePrefix } from "../support/redis.ts";
import { waitFor } from "../support/poll.ts";

/** Calls `read` every `intervalMs` until `until()` holds, collecting what each call returned. */
async function readUntil<T>(read: () => Promise<T>, until: () => boolean, what: string, deadlineMs = 5_000, intervalMs = 25): Promise<T[]> {
  const seen: T[] = [];
  await waitFor(
    async () => {
      seen.push(await read());
      return until();
    },
    what,
    deadlineMs,
    intervalMs,
  );
  return seen;
}

/** The only cached entry under `prefix` (tests that use this give the client a prefix of its own). */
async function onlyEntryKey(redis: Redis, prefix: string): Promise<string> {
  const [, keys] = await redis.scan("0", "MATCH", `${prefix}:*}:e:*`, "COUNT", 1_000);
  expect(keys, `entries under ${prefix}`).toHaveLength(1);
  return keys[0]!;
}

describe.each(STORE_KINDS)("%s store: refresh-ahead of hot entries", (kind) => {
  let bed: CacheBed;
  /** Post: fresh for 2 s; an entry read 3 times is refreshed once in the last 50% of its ttl. No XFetch. */
  const policy: CachePluginOptions = { models: { Post: { ttl: 2, refreshAhead: 0.5, hotThreshold: 3 } }, earlyRefresh: 0 };

  beforeAll(async () => {
    bed = await createCacheBed(kind);
  });
  afterAll(() => bed?.close());

  it("a hot entry read in the last half of its ttl is refreshed once in the background, then keeps hitting past its original expiry", async () => {
    const { prisma } = bed.cached(policy);
    const post = await bed.base.prisma.post.create({ data: { title: "original", slug: `hot-${kind}` } });
    const read = () => prisma.post.findUnique({ where: { id: post.id } });
    bed.resetSql();
    const filledAt = Date.now();
    expect((await read())?.title).toBe("original");
    expect(bed.selects()).toBe(1);
    for (let i = 0; i < 3; i++) expect((await read())?.title).toBe("original");
    // Changed behind the cache's back, so the value shows when the refresh happened.
    await bed.base.prisma.post.update({ where: { id: post.id }, data: { title: "refreshed" } });
    bed.resetSql();
    prisma.$cache.resetStats();

    // Five concurrent readers per poll: the refresh starts once, in the second half of the ttl.
    const batch = () => Promise.all(Array.from({ length: 5 }, read));
    await readUntil(batch, () => bed.selects() > 0, "a background refresh", 2_500);
    const refreshedAt = Date.now();
    expect(refreshedAt - filledAt, "not refreshed in the first half of the ttl").toBeGreaterThanOrEqual(900);
    expect(refreshedAt - filledAt, "refreshed before the entry expired").toBeLessThan(2_000);
    expect(prisma.$cache.stats().misses).toBe(0);

    // Until the original expiry: exactly one refresh, and readers get its value once it lands.
    const untilExpiry = await readUntil(batch, () => Date.now() > filledAt + 1_900, "the original expiry approaching", 3_000);
    expect(bed.selects(), "one refresh despite many concurrent hot reads").toBe(1);
    expect(untilExpiry.at(-1)!.map((p) => p?.title)).toEqual(new Array(5).fill("refreshed"));

    // Past the original expiry: still hits (a later refresh may run for the refreshed entry, but no miss).
    await readUntil(batch, () => Date.now() > filledAt + 2_400, "past the original expiry", 3_000);
    expect(prisma.$cache.stats().misses, "no read missed").toBe(0);
    expect(bed.selects()).toBeLessThanOrEqual(2);
  });
});

describe("redis store: cold entries expire", () => {
  let bed: CacheBed;
  beforeAll(async () => {
    bed = await createCacheBed("redis");
  });
  afterAll(() => bed?.close());

  it("a cold entry (read once) is not refreshed ahead and misses after expiry", async () => {
    const { prisma, prefix } = bed.cached({ models: { Post: { ttl: 2, refreshAhead: 0.5, hotThreshold: 3 } }, earlyRefresh: 0 });
    const post = await bed.base.prisma.post.create({ data: { title: "cold", slug: "cold-expiry" } });
    const read = () => prisma.post.findUnique({ where: { id: post.id } });
    bed.resetSql();
    await read();
    expect(bed.selects()).toBe(1);
    await prisma.$cache.settled();
    const key = await onlyEntryKey(bed.redis!, prefix);

    await waitFor(async () => (await bed.redis!.pttl(key)) < 900, "the entry in the last half of its ttl", 3_000);
    expect((await read())?.title).toBe("cold");
    // Not refreshed: the entry still expires on schedule (a refresh would have extended its life in Redis).
    await waitFor(async () => (await bed.redis!.exists(key)) === 0, "the entry expired", 3_000);
    expect(bed.selects()).toBe(1);

    prisma.$cache.resetStats();
    await read();
    expect(prisma.$cache.stats().misses).toBe(1);
    expect(bed.selects()).toBe(2);
  });
});

describe.each(STORE_KINDS)("%s store: stale-while-revalidate", (kind) => {
  let bed: CacheBed;
  let seq = 0;
  beforeAll(async () => {
    bed = await createCacheBed(kind);
  });
  afterAll(() => bed?.close());

  async function seedPost(title: string) {
    return bed.base.prisma.post.create({ data: { title, slug: `swr-${kind}-${++seq}` } });
  }

  it("after ttl, readers get the stale value at once and 10 concurrent ones trigger exactly one refresh", async () => {
    const { prisma } = bed.cached();
    const post = await seedPost("old");
    const read = () => prisma.post.findUnique({ where: { id: post.id }, cacheStrategy: { ttl: 1, swr: 5 } });
    await read();
    await bed.base.prisma.post.update({ where: { id: post.id }, data: { title: "new" } });
    bed.resetSql();
    prisma.$cache.resetStats();

    // Batches of 10 concurrent readers until the entry turns stale; all of them get the old value, no one waits.
    const batches = await readUntil(
      () => Promise.all(Array.from({ length: 10 }, read)),
      () => prisma.$cache.stats().stale > 0,
      "the entry turning stale",
      3_000,
    );
    for (const batch of batches) expect(batch.map((p) => p?.title)).toEqual(new Array(10).fill("old"));
    expect(prisma.$cache.stats().misses).toBe(0);

    // The refresh lands; the next reads get the new value. One statement in all.
    await waitFor(async () => (await read())?.title === "new", "a read returning the refreshed value", 3_000);
    expect(bed.selects(), "10 stale readers and the polls after them caused one refresh").toBe(1);
    expect(prisma.$cache.stats().misses).toBe(0);
  });

  it("a write through the client is never answered with the stale entry, fresh or within swr", async () => {
    const { prisma } = bed.cached();
    const post = await seedPost("v0");
    const read = () => prisma.post.findUnique({ where: { id: post.id }, cacheStrategy: { ttl: 1, swr: 5 } });
    await read();
    // While fresh.
    await prisma.post.update({ where: { id: post.id }, data: { title: "v1" } });
    expect((await read())?.title).toBe("v1");
    // Once stale.
    prisma.$cache.resetStats();
    await readUntil(read, () => prisma.$cache.stats().stale > 0, "the entry turning stale", 3_000);
    await prisma.post.update({ where: { id: post.id }, data: { title: "v2" } });
    for (let i = 0; i < 5; i++) expect((await read())?.title).toBe("v2");
    // And another reader of the same entry through a list.
    const list = () => prisma.post.findMany({ where: { id: post.id }, cacheStrategy: { ttl: 1, swr: 5 } });
    await list();
    prisma.$cache.resetStats();
    await readUntil(list, () => prisma.$cache.stats().stale > 0, "the list turning stale", 3_000);
    await prisma.post.delete({ where: { id: post.id } });
    expect(await list()).toEqual([]);
    expect(await read()).toBeNull();
  });
});

describe("redis store: past ttl + swr", () => {
  let bed: CacheBed;
  beforeAll(async () => {
    bed = await createCacheBed("redis");
  });
  afterAll(() => bed?.close());

  it("an entry not read during its swr window is gone after ttl + swr: the next read misses", async () => {
    const { prisma, prefix } = bed.cached();
    const post = await bed.base.prisma.post.create({ data: { title: "once", slug: "past-swr" } });
    const read = () => prisma.post.findUnique({ where: { id: post.id }, cacheStrategy: { ttl: 1, swr: 1 } });
    bed.resetSql();
    await read();
    await prisma.$cache.settled();
    const key = await onlyEntryKey(bed.redis!, prefix);
    const life = await bed.redis!.pttl(key);
    expect(life, "the entry lives ttl + swr").toBeGreaterThan(1_500);
    await waitFor(async () => (await bed.redis!.exists(key)) === 0, "the entry gone", 4_000);

    prisma.$cache.resetStats();
    expect((await read())?.title).toBe("once");
    expect(prisma.$cache.stats()).toMatchObject({ misses: 1, stale: 0, hits: 0 });
    expect(bed.selects()).toBe(2);
  });
});

describe("redis store: XFetch early refresh", () => {
  let bed: CacheBed;
  let seq = 0;
  beforeAll(async () => {
    bed = await createCacheBed("redis");
  });
  afterAll(() => bed?.close());

  /** A raw query that takes about 50 ms, so its recompute time (XFetch's Δ) is large against the polls. */
  const slow = () => Prisma.sql`SELECT pg_sleep(0.05)::text AS s, ${++seq}::int AS n`;
  const sleeps = () => bed.base.sql.count(/pg_sleep/);

  it("earlyRefresh: 0 never refreshes early: every query is a miss", async () => {
    const { prisma } = bed.cached({ earlyRefresh: 0 });
    const query = slow();
    const read = () => prisma.$cache.queryRaw(query, { tags: ["xfetch-off"], ttl: 1 });
    bed.resetSql();
    await read();
    prisma.$cache.resetStats();
    // Poll through the whole ttl (the last reads, a few ms before expiry, are where XFetch fires most) until a miss.
    await readUntil(read, () => prisma.$cache.stats().misses > 0, "the entry expiring", 3_000, 10);
    const stats = prisma.$cache.stats();
    expect(stats.hits).toBeGreaterThan(20);
    expect(stats.misses).toBe(1);
    expect(sleeps(), "the fill and the miss after expiry, nothing in between").toBe(2);
  });

  it("a huge β refreshes before expiry: the query runs again while the entry is still fresh", async () => {
    const { prisma } = bed.cached({ earlyRefresh: 1e9 });
    const query = slow();
    const read = () => prisma.$cache.queryRaw(query, { tags: ["xfetch-on"], ttl: 5 });
    bed.resetSql();
    await read();
    prisma.$cache.resetStats();
    await readUntil(read, () => sleeps() > 1, "an early refresh", 3_000, 10);
    const stats = prisma.$cache.stats();
    expect(stats.misses, "refreshed while still fresh").toBe(0);
    expect(stats.stale).toBe(0);
    expect(stats.hits).toBeGreaterThan(0);
    // Let the background refreshes finish (each ends in a fill) before the bed closes their connections.
    await waitFor(() => {
      const { fills, fillsRefused } = prisma.$cache.stats();
      return fills + fillsRefused >= sleeps() - 1;
    }, "the background refreshes settling");
  });
});

describe("cross-process stampede of one slow uncached key", () => {
  let bed: CacheBed;
  const processes: { client: TestClient; redis: Redis }[] = [];
  const prefixes: string[] = [];

  beforeAll(async () => {
    bed = await createCacheBed("redis");
  });
  afterAll(async () => {
    for (const { client, redis } of processes.splice(0)) {
      redis.disconnect();
      await client.close();
    }
    for (const prefix of prefixes) await deleteKeysWithPrefix(bed.redis!, prefix);
    await bed?.close();
  });

  /** `count` app processes: each its own PrismaClient (and SQL counter), Redis connection and plugin, one prefix. */
  function processesSharing(count: number, prefix: string, options: CachePluginOptions | ((i: number) => CachePluginOptions) = {}) {
    prefixes.push(prefix);
    return Array.from({ length: count }, (_, i) => {
      const client = createTestClient({ url: bed.db.url });
      const redis = createRedis();
      processes.push({ client, redis });
      const extra = typeof options === "function" ? options(i) : options;
      const prisma = client.prisma.$extends(
        cachePlugin({ schema: cacheSchema, store: redisStore({ client: redis }), prefix, timeoutMs: 2_000, ...extra }),
      ) as unknown as CachedClient;
      return { prisma, sleeps: () => client.sql.count(/pg_sleep/) };
    });
  }

  const slowQuery = (tag: string) => Prisma.sql`SELECT pg_sleep(0.2)::text AS s, 1 AS n, ${tag}::text AS tag`;
  const expected = (tag: string) => [{ s: "", n: 1, tag }];

  it("with leases, 5 processes × 10 concurrent reads query the database once or twice, not 5 times", async () => {
    const tag = uniquePrefix("lease");
    // The waiters' patience must outlast the 200 ms query.
    const all = processesSharing(5, tag, { leaseWaitMs: 2_000 });
    const results = await Promise.all(all.flatMap(({ prisma }) => Array.from({ length: 10 }, () => prisma.$cache.queryRaw(slowQuery(tag), { tags: [tag] }))));
    for (const result of results) expect(result).toEqual(expected(tag));
    const total = all.reduce((sum, one) => sum + one.sleeps(), 0);
    console.log(`stampede with leases: ${total} database queries for 50 reads in 5 processes`);
    expect(total).toBeGreaterThanOrEqual(1);
    expect(total).toBeLessThanOrEqual(2);
  });

  it("with the default leaseWaitMs, a query shorter than the wait is also run once or twice", async () => {
    const tag = uniquePrefix("lease-default");
    const all = processesSharing(5, tag);
    const query = Prisma.sql`SELECT pg_sleep(0.05)::text AS s, 1 AS n, ${tag}::text AS tag`;
    const results = await Promise.all(all.flatMap(({ prisma }) => Array.from({ length: 10 }, () => prisma.$cache.queryRaw(query, { tags: [tag] }))));
    for (const result of results) expect(result).toEqual(expected(tag));
    const total = all.reduce((sum, one) => sum + one.sleeps(), 0);
    expect(total).toBeLessThanOrEqual(2);
  });

  it("with leaseMs: 0, each process queries once (single-flight within a process), up to 5", async () => {
    const tag = uniquePrefix("nolease");
    const all = processesSharing(5, tag, { leaseMs: 0 });
    const results = await Promise.all(all.flatMap(({ prisma }) => Array.from({ length: 10 }, () => prisma.$cache.queryRaw(slowQuery(tag), { tags: [tag] }))));
    for (const result of results) expect(result).toEqual(expected(tag));
    const perProcess = all.map((one) => one.sleeps());
    console.log(`stampede without leases: ${perProcess.join(" + ")} database queries for 50 reads in 5 processes`);
    for (const count of perProcess) expect(count).toBeLessThanOrEqual(1);
    const total = perProcess.reduce((sum, count) => sum + count, 0);
    expect(total).toBeGreaterThan(2);
    expect(total).toBeLessThanOrEqual(5);
  });

  it("a waiter whose lease wait runs out reads the database itself and never fails", async () => {
    const tag = uniquePrefix("impatient");
    const [holder, waiter] = processesSharing(2, tag, (i) => (i === 0 ? { leaseWaitMs: 2_000 } : { leaseWaitMs: 1 }));
    const first = holder!.prisma.$cache.queryRaw(slowQuery(tag), { tags: [tag] });
    // The holder has the lease once its lease key exists.
    await waitFor(async () => (await bed.redis!.keys(`${tag}:*}:l:*`)).length > 0, "the holder taking the lease", 2_000, 2);
    const waited = await Promise.all(Array.from({ length: 5 }, () => waiter!.prisma.$cache.queryRaw(slowQuery(tag), { tags: [tag] })));
    for (const result of waited) expect(result).toEqual(expected(tag));
    expect(await first).toEqual(expected(tag));
    expect(holder!.sleeps()).toBe(1);
    expect(waiter!.sleeps(), "the waiter gave up waiting and queried once for its 5 readers").toBe(1);
  });
});
