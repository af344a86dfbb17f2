/**
 * Issue 11's systems through cachePlugin, on Postgres and Redis: the cost and sizing report, ttl functions,
 * adaptive TTL, warming (by hand and on start from another process's hot reads) and write-behind counters. Hits are
 * proven by counting the SELECTs that reached Postgres.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheConfigError, type CacheError, redisStore, tieredStore } from "../../src/index.ts";
import { type CacheBed, createCacheBed } from "../support/cache-bed.ts";
import { waitFor } from "../support/poll.ts";

let bed: CacheBed;
const ids: number[] = [];
const userIds: number[] = [];

/** A key prefix of this file: `systems-<name>-<random>`. */
function prefix(name: string): string {
  return `systems-${name}-${randomBytes(4).toString("hex")}`;
}

beforeAll(async () => {
  bed = await createCacheBed("redis");
  for (let i = 0; i < 30; i++) ids.push((await bed.base.prisma.post.create({ data: { title: `p${i}`, slug: `systems-${i}`, views: i } })).id);
  for (let i = 0; i < 3; i++) userIds.push((await bed.base.prisma.user.create({ data: { email: `systems-${i}@example.com` } })).id);
});

afterAll(async () => {
  await bed?.close();
});

describe("$cache.report", () => {
  it("reports hits, misses, time saved and monthly costs per model, matching the SQL that ran", async () => {
    const { prisma } = bed.cached({ prefix: prefix("report") });
    bed.resetSql();
    for (let round = 0; round < 3; round++) for (const id of ids.slice(0, 4)) await prisma.post.findUnique({ where: { id } });
    for (let round = 0; round < 2; round++) await prisma.user.findUnique({ where: { id: userIds[0]! } });
    expect(bed.selects()).toBe(5);

    const report = prisma.$cache.report({ prices: { dbReadsPerMillion: 1_000, computeHour: 10, cacheGbMonth: 5 } });
    expect(report.byModel.Post).toMatchObject({ hits: 8, misses: 4, refreshes: 0, readsSaved: 8 });
    expect(report.byModel.Post!.hitRatio).toBeCloseTo(8 / 12, 10);
    expect(report.byModel.User).toMatchObject({ hits: 1, misses: 1 });
    expect(report.byModel.Post!.timeSavedMs).toBeGreaterThan(0);
    expect(report.hitRatio).toBeCloseTo(9 / 14, 10);
    // A Redis store: every lookup and fill is a round trip (fills of one tick batched).
    expect(report.storeRoundTrips).toBeGreaterThanOrEqual(14);
    expect(report.monthly.savings.dbReads).toBeGreaterThan(0);
    expect(report.monthly.net).toBeCloseTo(report.monthly.savings.total - report.monthly.costs.total, 10);
    expect(report.sizing).toBeUndefined();
  });

  it("with sizing, predicts the hit ratio by L1 size from the key stream and recommends a size", async () => {
    const { prisma } = bed.cached({ prefix: prefix("sizing"), sizing: true });
    // 20 keys read 5 times each, round robin: an LRU of 20 entries hits every read but the first of each key.
    for (let round = 0; round < 5; round++) for (const id of ids.slice(0, 20)) await prisma.post.findUnique({ where: { id } });
    const { sizing, bytesHeld } = prisma.$cache.report({ targetHitRatio: 0.75 });
    expect(sizing!.references).toBe(100);
    expect(sizing!.maxHitRatio).toBeCloseTo(0.8, 10);
    expect(sizing!.entries[0]).toEqual({ size: 1000, hitRatio: 0.8 });
    // Round robin over 20 keys: 19 entries hit nothing, 20 hit all but the first reads.
    expect(sizing!.recommendation!.entries).toBe(20);
    expect(sizing!.meanEntryBytes).toBeGreaterThan(0);
    expect(bytesHeld).toBeGreaterThan(0);
  });

  it("rejects a bad request, naming the field", () => {
    const { prisma } = bed.cached({ prefix: prefix("report-bad") });
    expect(() => prisma.$cache.report({ targetHitRatio: 1.5 })).toThrow(CacheConfigError);
    expect(() => prisma.$cache.report({ targetHitRatio: 1.5 })).toThrow(/report\(\)\.targetHitRatio/);
    expect(() => prisma.$cache.report({ prices: { dbReadsPerMillion: -1 } })).toThrow(/report\(\)\.prices\.dbReadsPerMillion/);
    expect(() => prisma.$cache.report({ prices: { perRead: 1 } as never })).toThrow(/report\(\)\.prices\.perRead/);
  });
});

describe("ttl functions", () => {
  it("calls a model's ttl function once per fill with the result and args, never on a hit", async () => {
    const calls: unknown[][] = [];
    const { prisma } = bed.cached({
      prefix: prefix("ttl-fn"),
      models: {
        Post: {
          ttl: (post: { views: number } | null, args) => {
            calls.push([post?.views, args]);
            return 60;
          },
        },
      },
    });
    bed.resetSql();
    for (let i = 0; i < 3; i++) expect((await prisma.post.findUnique({ where: { id: ids[5]! } }))?.views).toBe(5);
    expect(bed.selects()).toBe(1);
    expect(calls).toEqual([[5, { where: { id: ids[5] } }]]);
  });

  it("types a per-call ttl function's result as the read's result, and stores nothing for 0", async () => {
    const { prisma } = bed.cached({ prefix: prefix("ttl-call") });
    const read = () => prisma.post.findMany({ where: { id: { in: ids.slice(0, 3) } }, orderBy: { id: "asc" }, cacheStrategy: { ttl: (posts) => (posts.length > 2 ? 0 : 60) } });
    bed.resetSql();
    await read();
    await read();
    // Three posts: the function said 0, so nothing was stored and both reads went to Postgres.
    expect(bed.selects()).toBe(2);
    const few = () => prisma.post.findMany({ where: { id: { in: ids.slice(0, 2) } }, cacheStrategy: { ttl: (posts) => (posts.length > 2 ? 0 : 60) } });
    await few();
    await few();
    expect(bed.selects()).toBe(3);
  });

  it("reports a throwing or invalid ttl function as TTL_INVALID and stores with the default ttl", async () => {
    const errors: CacheError[] = [];
    let answer: () => number = () => {
      throw new Error("boom");
    };
    const { prisma } = bed.cached({ prefix: prefix("ttl-bad"), ttl: 30, models: { Post: { ttl: () => answer() } }, onError: (error) => void errors.push(error) });
    bed.resetSql();
    await prisma.post.findUnique({ where: { id: ids[1]! } });
    await prisma.post.findUnique({ where: { id: ids[1]! } });
    expect(bed.selects()).toBe(1);
    expect(errors.map((error) => error.code)).toEqual(["TTL_INVALID"]);
    expect(errors[0]!.message).toMatch(/threw: boom; stored with the default ttl of 30 s/);
    answer = () => Number.NaN;
    await prisma.post.findUnique({ where: { id: ids[2]! } });
    await prisma.post.findUnique({ where: { id: ids[2]! } });
    expect(bed.selects()).toBe(2);
    expect(errors[1]!.message).toMatch(/returned NaN instead of a non-negative, finite number of seconds/);
  });

  it("works with swr: an entry past its function's ttl is served stale while one refresh calls the function again", async () => {
    let calls = 0;
    const { prisma } = bed.cached({
      prefix: prefix("ttl-swr"),
      models: {
        Post: {
          swr: 60,
          ttl: () => {
            calls++;
            return 0;
          },
        },
      },
    });
    bed.resetSql();
    await prisma.post.findUnique({ where: { id: ids[3]! } });
    expect(calls).toBe(1);
    // ttl 0 with swr 60: stored stale at once, served stale, refreshed in the background.
    expect((await prisma.post.findUnique({ where: { id: ids[3]! } }))?.id).toBe(ids[3]);
    expect(prisma.$cache.stats().stale).toBe(1);
    await waitFor(() => calls === 2 && bed.selects() === 2, "the background refresh called the function");
  });

  it("rejects a ttl function combined with adaptiveTtl, naming the field", () => {
    expect(() => bed.cached({ prefix: prefix("ttl-conflict"), models: { Post: { ttl: () => 1, adaptiveTtl: { min: 1, max: 10 } } } })).toThrow(/models\.Post\.adaptiveTtl/);
    expect(() => bed.cached({ prefix: prefix("adaptive-bad"), models: { Post: { adaptiveTtl: { min: 10, max: 1 } } } })).toThrow(/models\.Post\.adaptiveTtl\.max/);
  });
});

describe("adaptive TTL", () => {
  it("lengthens the TTL when an expired entry is reloaded unchanged, and shortens it when a change bypassed the plugin", async () => {
    const { prisma } = bed.cached({ prefix: prefix("adaptive"), earlyRefresh: 0, models: { Post: { adaptiveTtl: { min: 0.2, max: 10 } } } });
    const id = ids[7]!;
    const read = () => prisma.post.findUnique({ where: { id } });
    const learned = () => prisma.$cache.report().adaptiveTtl.Post;
    bed.resetSql();
    await read();
    // Read until the first entry (200 ms) expires and is reloaded: unchanged, so the TTL grows. (Early refreshes
    // teach the same way; they are off here so that the count of reloads is exact.)
    await waitFor(async () => (await read()) && learned()?.lengthened === 1, "the entry was reloaded unchanged", 5_000, 10);
    expect(learned()).toEqual({ keys: 1, lengthened: 1, shortened: 0 });
    expect(bed.selects()).toBeGreaterThanOrEqual(2);

    // A write that bypasses the plugin (the base client) is served until the entry's TTL ends; the reload sees it.
    await bed.base.prisma.post.update({ where: { id }, data: { views: 700 } });
    await waitFor(async () => (await read())?.views === 700, "the change was seen after the entry's TTL", 5_000, 10);
    expect(learned()!.shortened).toBe(1);

    // A write through the plugin invalidates at once, whatever the TTL.
    await prisma.post.update({ where: { id }, data: { views: 7 } });
    expect((await read())?.views).toBe(7);
  });
});

describe("warming", () => {
  it("$cache.warm fills reads given as descriptions and functions, and returns what failed", async () => {
    const { prisma } = bed.cached({ prefix: prefix("warm") });
    const result = await prisma.$cache.warm(
      [
        ...ids.slice(0, 5).map((id) => ({ model: "Post", operation: "findUnique", args: { where: { id } } })),
        (client) => client.user.count(),
        { model: "Post", operation: "findUniqueOrThrow", args: { where: { id: -1 } } },
        { model: "Post", operation: "update", args: { where: { id: ids[0] }, data: {} } },
      ],
      { concurrency: 2 },
    );
    expect(result).toMatchObject({ ran: 6, filled: 6, skipped: 0 });
    expect(result.failed.map(({ error }) => (error as { code?: string }).code ?? (error as Error).message).sort()).toEqual(["P2025", "warm(): update is not a read operation"]);
    bed.resetSql();
    for (const id of ids.slice(0, 5)) await prisma.post.findUnique({ where: { id } });
    await prisma.user.count();
    expect(bed.selects()).toBe(0);
    await expect(prisma.$cache.warm([], { concurrency: 0 })).rejects.toThrow(/warm\(options\)\.concurrency/);
  });

  it("warmOnStart fills a new process's L1 from the hot reads another process published", async () => {
    const shared = prefix("hot");
    const a = bed.cached({ prefix: shared, hotReads: { k: 5 } });
    // Process A serves a skewed stream: post r is read 12 / (r + 1) times.
    for (let pass = 0; pass < 12; pass++) for (const [rank, id] of ids.slice(0, 12).entries()) if (pass < 12 / (rank + 1)) await a.prisma.post.findUnique({ where: { id } });
    expect(await a.prisma.$cache.publishHotReads()).toBe(5);

    // Process B starts with an empty L1 over the same Redis and warms it in the background.
    const store = tieredStore({ l2: redisStore({ client: bed.redis! }) });
    await waitFor(() => store.l1Live, "B's L1 is live", 10_000);
    const b = bed.cached({ prefix: shared, store, warmOnStart: true });
    const warmed = await b.prisma.$cache.warmedOnStart();
    expect(warmed).toMatchObject({ ran: 5, failed: [] });
    bed.resetSql();
    for (const id of ids.slice(0, 5)) await b.prisma.post.findUnique({ where: { id } });
    expect(bed.selects()).toBe(0);
    expect(b.prisma.$cache.stats()).toMatchObject({ hits: 10, l1Hits: 5 });
    // Read 11 was not on the list: not in L1 (A's entry is still in Redis).
    await b.prisma.post.findUnique({ where: { id: ids[11]! } });
    expect(b.prisma.$cache.stats().l1Hits).toBe(5);
    await b.prisma.$disconnect();
    await store.close();
  });

  it("needs a Redis store for hot reads and warming on start, and says so", () => {
    expect(() => bed.cached({ prefix: prefix("hot-memory"), store: { name: "x" } as never, hotReads: true })).toThrow(CacheConfigError);
    expect(() => bed.cached({ prefix: prefix("hot-bad"), hotReads: { k: 0 } })).toThrow(/hotReads\.k/);
  });
});

describe("write-behind counters", () => {
  it("$cache.increment returns at once; the flusher applies the sum, cached reads then see it, and $disconnect stops it", async () => {
    const wbPrefix = prefix("wb");
    const { prisma } = bed.cached({ prefix: wbPrefix, writeBehind: { flushIntervalMs: 50 } });
    const id = ids[20]!;
    expect((await prisma.post.findUnique({ where: { id } }))?.views).toBe(20);
    let total = 20;
    await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        total += 1 + (i % 3);
        return prisma.$cache.increment({ model: "Post", where: { id }, field: "views", by: 1 + (i % 3) });
      }),
    );
    await waitFor(async () => (await bed.base.prisma.post.findUnique({ where: { id } }))?.views === total, "the flusher applied every increment", 10_000, 20);
    // The flusher updates through the cached client: the cached read of the row was invalidated.
    expect((await prisma.post.findUnique({ where: { id } }))?.views).toBe(total);
    expect(await bed.redis!.exists(`{${wbPrefix}}:wb:lease`)).toBe(1);
    await prisma.$disconnect();
    // Stopped: the lease is given up, and no flusher is left running.
    expect(await bed.redis!.exists(`{${wbPrefix}}:wb:lease`)).toBe(0);
  });

  it("rejects increments it cannot apply, and increments without writeBehind, naming the field", async () => {
    const { prisma } = bed.cached({ prefix: prefix("wb-bad"), writeBehind: { flush: false } });
    await expect(prisma.$cache.increment({ model: "Post", where: { id: 1 }, field: "title" })).rejects.toThrow(/increment\(\)\.field must be an Int or BigInt field of Post/);
    await expect(prisma.$cache.increment({ model: "Post", where: { id: 1 }, field: "views", by: 0.5 })).rejects.toThrow(/increment\(\)\.by/);
    const off = bed.cached({ prefix: prefix("wb-off") });
    await expect(off.prisma.$cache.increment({ model: "Post", where: { id: 1 }, field: "views" })).rejects.toThrow(/writeBehind is off/);
    expect(() => bed.cached({ prefix: prefix("wb-lease"), writeBehind: { flushIntervalMs: 100, leaseMs: 50 } })).toThrow(/writeBehind\.leaseMs/);
  });
});
