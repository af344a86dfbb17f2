import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisStore, tieredStore, type CachePluginOptions, type TieredStore } from "../../src/index.ts";
import { check, deleteReportingVersion, runCoherenceChecker } from "../support/coherence-checker.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { createRedis, deleteKeysWithPrefix, uniquePrefix } from "../support/redis.ts";
import { lateFenceStore } from "../support/unsafe-stores.ts";
import type { Redis } from "ioredis";
import { waitFor } from "../support/poll.ts";

// COHERENCE_SOAK_MS runs the checker for longer (e.g. COHERENCE_SOAK_MS=600000 for ten minutes).
const DURATION_MS = Number(process.env.COHERENCE_SOAK_MS ?? 6_000);

describe("coherence checker", () => {
  let db: TestDatabase;
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis();
    await redis.ping();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
    redis.disconnect();
    await db?.drop();
  });

  it("flags a read that started after a write returned and saw an older version", () => {
    const write = { name: "update(1)", start: 10, end: 20, wrote: new Map([[1, { version: 2, deleted: false }]]) };
    const stale = { name: "findUnique(1)", start: 21, end: 22, saw: new Map<number, number | "absent">([[1, 1]]) };
    const concurrent = { name: "findUnique(1)", start: 15, end: 25, saw: new Map<number, number | "absent">([[1, 1]]) };
    const fresh = { name: "findUnique(1)", start: 21, end: 22, saw: new Map<number, number | "absent">([[1, 2]]) };
    expect(check([write, stale, concurrent, fresh])).toEqual([expect.objectContaining({ row: 1, saw: 1, required: 2, read: "findUnique(1)" })]);
  });

  it("accepts an absent row only after a delete whose tombstone is recent enough", () => {
    const update = { name: "update(1)", start: 0, end: 5, wrote: new Map([[1, { version: 3, deleted: false }]]) };
    const oldDelete = { name: "delete(1)", start: -10, end: -5, wrote: new Map([[1, { version: 2, deleted: true }]]) };
    const absent = { name: "findUnique(1)", start: 6, end: 7, saw: new Map<number, number | "absent">([[1, "absent"]]) };
    expect(check([oldDelete, update, absent])).toHaveLength(1);
    const newDelete = { name: "delete(1)", start: 5.5, end: 8, wrote: new Map([[1, { version: 4, deleted: true }]]) };
    expect(check([oldDelete, update, newDelete, absent])).toHaveLength(0);
  });

  /**
   * Runs `remove` on post `id` while an interactive transaction holds the row after incrementing its version from 1
   * to 2, and commits that transaction only once `remove` waits for the row lock. Resolves to what `remove` returned.
   */
  async function deleteBehindAnUpdate<T>(remove: (prisma: TestClient["prisma"], id: number) => Promise<T>): Promise<T> {
    const [holder, deleter, watcher] = [0, 1, 2].map(() => createTestClient({ url: db.url }));
    try {
      const id = 100;
      const author = await holder!.prisma.user.upsert({ where: { email: "lock@check" }, create: { email: "lock@check" }, update: {} });
      await holder!.prisma.post.create({ data: { id, title: "lock", slug: "lock", views: 1, authorId: author.id } });
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let updated = () => {};
      const holding = new Promise<void>((resolve) => (updated = resolve));
      const transaction = holder!.prisma.$transaction(
        async (tx) => {
          await tx.post.update({ where: { id }, data: { views: { increment: 1 } } });
          updated();
          await released;
        },
        { timeout: 20_000 },
      );
      await holding;
      // Started now: a PrismaPromise runs only once something awaits it.
      const removing = (async () => remove(deleter!.prisma, id))();
      const waitingForLocks =
        holder!.provider === "mysql"
          ? // The holder sleeps in its transaction: a statement running on this database is the delete's, which waits.
            `SELECT count(*) AS n FROM information_schema.processlist WHERE db = DATABASE() AND info IS NOT NULL AND id <> CONNECTION_ID()`
          : `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`;
      await waitFor(
        async () => Number((await watcher!.prisma.$queryRawUnsafe<{ n: number | bigint }[]>(waitingForLocks))[0]!.n) > 0,
        "the delete waiting for the row lock",
        10_000,
      );
      release();
      await transaction;
      return await removing;
    } finally {
      await Promise.all([holder, deleter, watcher].map((client) => client!.close()));
    }
  }

  it("a delete's tombstone follows the version it deleted, even when an update committed while it waited", async () => {
    // The checker's delete reports the version the update left (2), which it deleted.
    expect(await deleteBehindAnUpdate((prisma, id) => deleteReportingVersion(prisma, db.provider, id))).toBe(2);
    if (db.provider === "mysql") {
      // Why it must: Prisma's own delete on MySQL (SELECT, then DELETE) returns the version before the update (1),
      // while the row it removed had version 2.
      expect((await deleteBehindAnUpdate((prisma, id) => prisma.post.delete({ where: { id } }))).views).toBe(1);
    }
  });

  it(
    "finds no stale read across clients sharing Redis",
    async () => {
      const prefix = uniquePrefix("coherence");
      prefixes.push(prefix);
      const report = await runCoherenceChecker({
        databaseUrl: db.url,
        store: () => redisStore({ client: redis }),
        plugin: { prefix, timeoutMs: 1_000 },
        durationMs: DURATION_MS,
        seed: 7,
      });
      console.log(`coherence checker (redis): ${JSON.stringify({ ...report, violations: report.violations.length })}`);
      expect(report.violations).toEqual([]);
      expect(report.observationsChecked).toBeGreaterThan(500);
      expect(report.hits).toBeGreaterThan(0);
    },
    DURATION_MS + 60_000,
  );

  /** The checker with a tiered store (L1 + the shared Redis) on every client. */
  async function withL1(name: string, plugin: CachePluginOptions, seed: number) {
    const prefix = uniquePrefix(name);
    prefixes.push(prefix);
    const stores: TieredStore[] = [];
    const report = await runCoherenceChecker({
      databaseUrl: db.url,
      store: () => {
        const store = tieredStore({ l2: redisStore({ client: redis }), channel: `${prefix}:invalidate` });
        stores.push(store);
        return store;
      },
      waitUntilReady: () => Promise.all(stores.map((store) => waitFor(() => store.l1Live, "L1 live"))),
      plugin: { ...plugin, prefix, timeoutMs: 1_000 },
      durationMs: DURATION_MS,
      seed,
    });
    await Promise.all(stores.map((store) => store.close()));
    console.log(`coherence checker (${name}): ${JSON.stringify({ ...report, violations: report.violations.length, first: report.violations[0] })}`);
    return report;
  }

  it(
    "finds no stale read across clients with an L1 in front of the shared Redis",
    async () => {
      const report = await withL1("coherence-l1", {}, 11);
      expect(report.violations).toEqual([]);
      expect(report.l1Hits).toBeGreaterThan(0);
    },
    DURATION_MS + 60_000,
  );

  it(
    "finds no stale read with write-through and an L1 on every client",
    async () => {
      const report = await withL1("coherence-write-through", { models: { Post: { writes: "write-through" } } }, 13);
      expect(report.violations).toEqual([]);
      expect(report.hits).toBeGreaterThan(0);
    },
    DURATION_MS + 60_000,
  );

  it(
    "catches the fill race when fills take their fence too late",
    async () => {
      const prefix = uniquePrefix("coherence-unsafe");
      prefixes.push(prefix);
      const report = await runCoherenceChecker({
        databaseUrl: db.url,
        store: () => lateFenceStore(redisStore({ client: redis })),
        plugin: { prefix, timeoutMs: 1_000 },
        durationMs: DURATION_MS,
        seed: 7,
      });
      console.log(`coherence checker (late fence): ${JSON.stringify({ ...report, violations: report.violations.length, first: report.violations[0] })}`);
      expect(report.violations.length).toBeGreaterThan(0);
    },
    DURATION_MS + 60_000,
  );
});
