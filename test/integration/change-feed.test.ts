/**
 * The Postgres change feed against a private Postgres with wal_level=logical (port 55432) and the shared Redis:
 * writes through a plain `pg` client, which the plugin never sees, must reach cached reads within the feed's lag.
 * A hit is proved by the SELECTs that reached Postgres; freshness is polled with a deadline.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachePlugin, postgresChangeFeed, redisStore, type CacheError } from "../../src/index.ts";
import { cacheSchema } from "../../generated/cache/index.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { createRedis, deleteKeysWithPrefix, redisUrl, uniquePrefix } from "../support/redis.ts";
import { runCoherenceChecker } from "../support/coherence-checker.ts";
import { createMigratedDatabase, startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.ts";

const DEADLINE_MS = 10_000;

let server: PrivatePostgres;
let url: string;
let redis: Redis;
let base: TestClient;
let oob: pg.Client;
const prefixes: string[] = [];
const lags: number[] = [];
const clients: { $disconnect(): Promise<void> }[] = [];

function cachedClient(prefix: string, errors: CacheError[] = [], connectionString = url) {
  prefixes.push(prefix);
  const prisma = base.prisma.$extends(
    cachePlugin({
      schema: cacheSchema,
      store: redisStore({ client: redis }),
      prefix,
      timeoutMs: 2_000,
      onError: (error) => void errors.push(error),
      changeFeed: postgresChangeFeed({ connectionString, heartbeatMs: 100, leaseMs: 900, maxRetryMs: 500 }),
    }),
  );
  clients.push(prisma);
  return prisma;
}
type Cached = ReturnType<typeof cachedClient>;

async function until<T>(what: string, probe: () => Promise<T> | T, ok: (value: T) => boolean, deadlineMs = DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const streaming = (prisma: Cached) =>
  until(
    "the feed to stream",
    () => prisma.$cache.stats().changeFeed,
    (s) => s?.state === "streaming",
  );

/** Runs `write` out of band, then polls `read` until it equals `truth()`; records the lag from the commit. */
async function expectFreshAfter<T>(write: () => Promise<unknown>, read: () => Promise<T>, truth: () => Promise<T>): Promise<T> {
  await write();
  const committed = performance.now();
  const expected = await truth();
  const fresh = await until("a fresh cached read", read, (value) => JSON.stringify(value, big) === JSON.stringify(expected, big));
  lags.push(performance.now() - committed);
  return fresh;
}

const big = (_: string, value: unknown) => (typeof value === "bigint" ? `${value}n` : value);

/** The client whose feed `cachedRead` waits for; unset where no feed streams. */
let settleWith: Cached | undefined;

/**
 * Reads twice: the second must be a hit (no SELECT). First waits until the feed has applied every earlier commit
 * (the test's own setup writes arrive through it too, and their bumps would evict the entry just cached).
 */
async function cachedRead<T>(read: () => Promise<T>): Promise<T> {
  if (settleWith) await markerApplied(settleWith);
  await read();
  base.sql.reset();
  const value = await read();
  expect(base.sql.selects()).toBe(0);
  return value;
}

beforeAll(async () => {
  server = await startPrivatePostgres({ port: 55432 });
  try {
    url = await createMigratedDatabase(server, "changefeed");
    redis = createRedis();
    base = createTestClient({ url });
    oob = new pg.Client({ connectionString: url });
    await oob.connect();
  } catch (error) {
    await server.stop();
    throw error;
  }
}, 120_000);

afterAll(async () => {
  try {
    for (const client of clients) await client.$disconnect().catch(() => {});
    await oob?.end().catch(() => {});
    await base?.close();
    for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
    redis?.disconnect();
    if (lags.length > 0) {
      const sorted = [...lags].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
      console.log(`change feed: commit → fresh cached read over ${sorted.length} writes: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
    }
  } finally {
    await server?.stop();
  }
}, 60_000);

describe("out-of-band writes through a plain pg client", () => {
  let prisma: Cached;
  const errors: CacheError[] = [];

  beforeAll(async () => {
    prisma = cachedClient(uniquePrefix("changefeed"), errors);
    settleWith = prisma;
    await streaming(prisma);
  });

  it("an UPDATE refreshes lookups by id and by unique email", async () => {
    const { rows } = await oob.query(`INSERT INTO "User" (email, name) VALUES ('upd@x', 'old') RETURNING id`);
    const id = rows[0].id as number;
    const byId = () => prisma.user.findUnique({ where: { id } });
    const byEmail = () => prisma.user.findUnique({ where: { email: "upd@x" } });
    expect((await cachedRead(byId))?.name).toBe("old");
    await cachedRead(byEmail);
    const fresh = await expectFreshAfter(
      () => oob.query(`UPDATE "User" SET name = 'new' WHERE id = $1`, [id]),
      byId,
      () => base.prisma.user.findUnique({ where: { id } }),
    );
    expect(fresh?.name).toBe("new");
    expect((await byEmail())?.name).toBe("new");
  });

  it("an UPDATE of a unique field evicts the lookup by the old value (unique-lookup stamp without REPLICA IDENTITY FULL)", async () => {
    await oob.query(`INSERT INTO "User" (email) VALUES ('before@x')`);
    const byOld = () => prisma.user.findUnique({ where: { email: "before@x" } });
    expect(await cachedRead(byOld)).not.toBeNull();
    await expectFreshAfter(
      () => oob.query(`UPDATE "User" SET email = 'after@x' WHERE email = 'before@x'`),
      byOld,
      async () => null,
    );
  });

  it("with REPLICA IDENTITY FULL, a unique field's old value is evicted by its row stamp, sparing other lookups", async () => {
    await oob.query(`ALTER TABLE "Tag" REPLICA IDENTITY FULL`);
    await oob.query(`INSERT INTO "Tag" (namespace, name) VALUES ('ns', 'a'), ('ns', 'other')`);
    const byOld = () => prisma.tag.findUnique({ where: { namespace_name: { namespace: "ns", name: "a" } } });
    const other = () => prisma.tag.findUnique({ where: { namespace_name: { namespace: "ns", name: "other" } } });
    await cachedRead(byOld);
    await cachedRead(other);
    await expectFreshAfter(
      () => oob.query(`UPDATE "Tag" SET name = 'b' WHERE name = 'a'`),
      byOld,
      async () => null,
    );
    base.sql.reset();
    await other();
    expect(base.sql.selects()).toBe(0);
  });

  it("a DELETE makes the lookup return null and lists drop the row", async () => {
    const { rows } = await oob.query(`INSERT INTO "User" (email) VALUES ('del@x') RETURNING id`);
    const id = rows[0].id as number;
    const byId = () => prisma.user.findUnique({ where: { id } });
    const list = () => prisma.user.findMany({ where: { email: { endsWith: "@x" } }, orderBy: { id: "asc" } });
    await cachedRead(byId);
    await cachedRead(list);
    await expectFreshAfter(
      () => oob.query(`DELETE FROM "User" WHERE id = $1`, [id]),
      byId,
      async () => null,
    );
    expect(await list()).toEqual(await base.prisma.user.findMany({ where: { email: { endsWith: "@x" } }, orderBy: { id: "asc" } }));
  });

  it("an INSERT shows in counts and in a lookup that had found nothing", async () => {
    // By id: the insert's row stamp, not only the model's, must reach a cached null.
    const id = 1_500_000_000;
    const byId = () => prisma.user.findUnique({ where: { id } });
    const count = () => prisma.user.count();
    expect(await cachedRead(byId)).toBeNull();
    await cachedRead(count);
    const fresh = await expectFreshAfter(
      () => oob.query(`INSERT INTO "User" (id, email) VALUES ($1, 'ins@x')`, [id]),
      byId,
      () => base.prisma.user.findUnique({ where: { id } }),
    );
    expect(fresh?.email).toBe("ins@x");
    expect(await count()).toBe(await base.prisma.user.count());
  });

  it("a multi-row UPDATE refreshes every row and the list", async () => {
    const { rows } = await oob.query(`INSERT INTO "User" (email) VALUES ('author@x') RETURNING id`);
    const author = rows[0].id as number;
    await oob.query(`INSERT INTO "Post" (title, slug, "authorId") SELECT 'p' || g, 'multi-' || g, $1 FROM generate_series(1, 5) g`, [author]);
    const posts = await base.prisma.post.findMany({ where: { authorId: author } });
    const reads = () => Promise.all(posts.map((post) => prisma.post.findUnique({ where: { id: post.id } })));
    const list = () => prisma.post.findMany({ where: { authorId: author }, orderBy: { id: "asc" } });
    await cachedRead(reads);
    await cachedRead(list);
    await expectFreshAfter(
      () => oob.query(`UPDATE "Post" SET views = views + 7 WHERE "authorId" = $1`, [author]),
      reads,
      () => Promise.all(posts.map((post) => base.prisma.post.findUnique({ where: { id: post.id } }))),
    );
    expect((await list()).map((post) => post.views)).toEqual([7, 7, 7, 7, 7]);
  });

  it("a TRUNCATE empties lists and lookups", async () => {
    const { rows } = await oob.query(`INSERT INTO "audit_logs" (action_name) VALUES ('a'), ('b') RETURNING id`);
    const first = () => prisma.auditLog.findUnique({ where: { id: rows[0].id } });
    const all = () => prisma.auditLog.findMany();
    await cachedRead(first);
    expect(await cachedRead(all)).toHaveLength(2);
    await expectFreshAfter(
      () => oob.query(`TRUNCATE "audit_logs"`),
      all,
      async () => [],
    );
    expect(await first()).toBeNull();
  });

  it("a write to an implicit m-n join table refreshes reads that include the relation", async () => {
    const post = await base.prisma.post.create({ data: { title: "m-n", slug: "m-n" } });
    const category = await base.prisma.category.create({ data: { name: "c-m-n" } });
    const withCategories = () => prisma.post.findUnique({ where: { id: post.id }, include: { categories: true } });
    const withPosts = () => prisma.category.findUnique({ where: { id: category.id }, include: { posts: true } });
    expect((await cachedRead(withCategories))?.categories).toEqual([]);
    await cachedRead(withPosts);
    const fresh = await expectFreshAfter(
      () => oob.query(`INSERT INTO "_CategoryToPost" ("A", "B") VALUES ($1, $2)`, [category.id, post.id]),
      withCategories,
      () => base.prisma.post.findUnique({ where: { id: post.id }, include: { categories: true } }),
    );
    expect(fresh?.categories.map((c) => c.id)).toEqual([category.id]);
    expect((await withPosts())?.posts.map((p) => p.id)).toEqual([post.id]);
  });

  it("a write inside a long transaction invalidates at commit, not before", async () => {
    const { rows } = await oob.query(`INSERT INTO "User" (email, name) VALUES ('tx@x', 'before') RETURNING id`);
    const id = rows[0].id as number;
    const byId = () => prisma.user.findUnique({ where: { id } });
    await cachedRead(byId);
    const tx = new pg.Client({ connectionString: url });
    await tx.connect();
    try {
      await tx.query("BEGIN");
      await tx.query(`UPDATE "User" SET name = 'after' WHERE id = $1`, [id]);
      // A later committed write that the feed applies shows it has read past the open transaction's change.
      await markerApplied(prisma);
      base.sql.reset();
      expect((await byId())?.name).toBe("before");
      expect(base.sql.selects()).toBe(0);
      const fresh = await expectFreshAfter(
        () => tx.query("COMMIT"),
        byId,
        () => base.prisma.user.findUnique({ where: { id } }),
      );
      expect(fresh?.name).toBe("after");
    } finally {
      await tx.end();
    }
  });

  it("a rolled-back transaction changes nothing the cache shows", async () => {
    const { rows } = await oob.query(`INSERT INTO "User" (email, name) VALUES ('rb@x', 'kept') RETURNING id`);
    const id = rows[0].id as number;
    const byId = () => prisma.user.findUnique({ where: { id } });
    await cachedRead(byId);
    await oob.query("BEGIN");
    await oob.query(`UPDATE "User" SET name = 'rolled back' WHERE id = $1`, [id]);
    await oob.query("ROLLBACK");
    await markerApplied(prisma);
    expect(await byId()).toEqual(await base.prisma.user.findUnique({ where: { id } }));
    expect((await byId())?.name).toBe("kept");
  });

  it("reports lag and work in stats", async () => {
    const stats = await until(
      "a heartbeat",
      () => prisma.$cache.stats().changeFeed!,
      (s) => s.heartbeatLagMs !== undefined && s.lagBytes !== undefined,
    );
    expect(stats.leader).toBe(true);
    expect(stats.slot).toMatch(/^prisma_cache_/);
    expect(stats.changes).toBeGreaterThan(0);
    expect(stats.stampsAdvanced).toBeGreaterThan(0);
    expect(stats.heartbeatLagMs).toBeLessThan(DEADLINE_MS);
    expect(errors).toEqual([]);
  });

  it("after its connection is killed, the feed advances every model, resumes on a new slot, and the old slot is gone", async () => {
    const { rows } = await oob.query(`INSERT INTO "User" (email, name) VALUES ('kill@x', 'one') RETURNING id`);
    const id = rows[0].id as number;
    const byId = () => prisma.user.findUnique({ where: { id } });
    await cachedRead(byId);
    const before = prisma.$cache.stats().changeFeed!;
    const slot = before.slot!;
    await oob.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    const after = await until(
      "a new stream",
      () => prisma.$cache.stats().changeFeed!,
      (s) => s.state === "streaming" && s.connects > before.connects,
    );
    expect(after.slot).not.toBe(slot);
    const slots = (await oob.query(`SELECT slot_name, temporary FROM pg_replication_slots`)).rows;
    expect(slots.map((row) => row.slot_name)).not.toContain(slot);
    expect(slots).toContainEqual({ slot_name: after.slot, temporary: true });
    // The reconnect advanced every model: the cached read is gone.
    base.sql.reset();
    await byId();
    expect(base.sql.selects()).toBe(1);
    expect(errors.some((error) => error.code === "CHANGE_FEED_INTERRUPTED")).toBe(true);
    await expectFreshAfter(
      () => oob.query(`UPDATE "User" SET name = 'two' WHERE id = $1`, [id]),
      byId,
      () => base.prisma.user.findUnique({ where: { id } }),
    );
  });
});

describe("one consumer per app", () => {
  it("only the lease holder streams; when it stops, another instance takes over, advances every model and streams", async () => {
    const prefix = uniquePrefix("changefeed-lead");
    const first = cachedClient(prefix);
    const second = cachedClient(prefix);
    const leader = await until(
      "a leader",
      () => [first, second].find((c) => c.$cache.stats().changeFeed?.state === "streaming"),
      (c) => c !== undefined,
    );
    const follower = leader === first ? second : first;
    expect(follower.$cache.stats().changeFeed).toMatchObject({ state: "follower", leader: false });
    const slot = leader!.$cache.stats().changeFeed!.slot;
    const { rows } = await oob.query(`INSERT INTO "User" (email, name) VALUES ('lead@x', 'one') RETURNING id`);
    const id = rows[0].id as number;
    const byId = () => follower.user.findUnique({ where: { id } });
    settleWith = follower;
    await cachedRead(byId);
    // The follower's cache is kept fresh by the leader's feed.
    await expectFreshAfter(
      () => oob.query(`UPDATE "User" SET name = 'two' WHERE id = $1`, [id]),
      byId,
      () => base.prisma.user.findUnique({ where: { id } }),
    );

    await leader!.$disconnect();
    expect(leader!.$cache.stats().changeFeed!.state).toBe("closed");
    await until(
      "the follower to lead",
      () => follower.$cache.stats().changeFeed!,
      (s) => s.state === "streaming",
    );
    await until(
      "the old slot to go",
      async () => (await oob.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rowCount,
      (n) => n === 0,
    );
    await expectFreshAfter(
      () => oob.query(`UPDATE "User" SET name = 'three' WHERE id = $1`, [id]),
      byId,
      () => base.prisma.user.findUnique({ where: { id } }),
    );
  });
});

describe("the coherence checker with a worker that writes only through raw pg", () => {
  const LAG_BOUND_MS = 1_000;
  it(`finds no read older than a committed write by more than ${LAG_BOUND_MS} ms`, async () => {
    const prefix = uniquePrefix("changefeed-coherence");
    prefixes.push(prefix);
    settleWith = undefined;
    const streamingFeeds = async () =>
      (await oob.query(`SELECT 1 FROM pg_stat_replication WHERE application_name = 'prisma-cache-plugin change feed' AND state = 'streaming'`)).rowCount!;
    const others = await streamingFeeds();
    // Old unique values in the stream: an out-of-band UPDATE then evicts its own row's lookups, not every post's.
    await oob.query(`ALTER TABLE "Post" REPLICA IDENTITY FULL`);
    const report = await runCoherenceChecker({
      databaseUrl: url,
      store: () => redisStore({ client: redis }),
      plugin: { prefix, timeoutMs: 1_000, changeFeed: postgresChangeFeed({ connectionString: url, heartbeatMs: 100, leaseMs: 900 }) },
      durationMs: 5_000,
      seed: 11,
      outOfBandWriters: 1,
      // One of the clients leads and streams (after advancing every model).
      waitUntilReady: () => until("a streaming feed", streamingFeeds, (n) => n === others + 1),
    });
    const late = report.violations.filter((v) => v.byWrite.startsWith("oob"));
    const maxLate = Math.max(0, ...late.map((v) => v.afterMs));
    console.log(
      `coherence checker (change feed): ${JSON.stringify({ ...report, violations: report.violations.length })}, reads that had not yet seen an out-of-band write: ${late.length}, latest ${maxLate.toFixed(1)} ms after it`,
    );
    expect(report.violations.filter((v) => !v.byWrite.startsWith("oob") || v.afterMs > LAG_BOUND_MS)).toEqual([]);
    expect(report.writes).toBeGreaterThan(50);
    expect(report.hits).toBeGreaterThan(0);
  }, 90_000);
});

describe("a leader that dies", () => {
  it("loses its lease and its slot; another process takes over within the lease time, advancing every model first", async () => {
    const prefix = uniquePrefix("changefeed-death");
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../support/feed-process.ts", import.meta.url)), url, redisUrl(), prefix], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let output = "";
      child.stdout!.on("data", (chunk) => (output += chunk));
      const slot = (await until(
        "the child to stream",
        () => /streaming (\S+)/.exec(output)?.[1],
        (s) => s !== undefined,
        60_000,
      ))!;
      const survivor = cachedClient(prefix);
      settleWith = survivor;
      await until(
        "the survivor to follow",
        () => survivor.$cache.stats().changeFeed!.state,
        (s) => s === "follower",
      );
      const { rows } = await oob.query(`INSERT INTO "User" (email, name) VALUES ('death@x', 'one') RETURNING id`);
      const id = rows[0].id as number;
      const byId = () => survivor.user.findUnique({ where: { id } });
      await cachedRead(byId);

      child.kill("SIGKILL");
      const killedAt = performance.now();
      await until(
        "the survivor to stream",
        () => survivor.$cache.stats().changeFeed!.state,
        (s) => s === "streaming",
        10_000,
      );
      const takeoverMs = performance.now() - killedAt;
      console.log(`change feed: takeover after the leader was killed: ${takeoverMs.toFixed(0)} ms (leaseMs 900)`);
      // Its first act was to advance every model: the entry cached under the dead leader is gone.
      base.sql.reset();
      await byId();
      expect(base.sql.selects()).toBe(1);
      await until(
        "the dead leader's slot to go",
        async () => (await oob.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rowCount,
        (n) => n === 0,
      );
      await expectFreshAfter(
        () => oob.query(`UPDATE "User" SET name = 'two' WHERE id = $1`, [id]),
        byId,
        () => base.prisma.user.findUnique({ where: { id } }),
      );
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);
});

describe("a server without wal_level=logical", () => {
  let replica: PrivatePostgres;
  beforeAll(async () => {
    replica = await startPrivatePostgres({ port: 55433, walLevel: "replica" });
  }, 120_000);
  afterAll(async () => {
    await replica?.stop();
  }, 60_000);

  it("reports a typed CHANGE_FEED_UNAVAILABLE error and queries keep working from the cache", async () => {
    const replicaUrl = await createMigratedDatabase(replica, "nologic");
    const errors: CacheError[] = [];
    const prisma = cachedClient(uniquePrefix("changefeed-nowal"), errors, replicaUrl);
    settleWith = undefined;
    const error = await until(
      "the error",
      () => errors.find((e) => e.code === "CHANGE_FEED_UNAVAILABLE"),
      (e) => e !== undefined,
    );
    expect(error!.name).toBe("ChangeFeedError");
    expect(error!.message).toMatch(/wal_level/);
    expect(prisma.$cache.stats().changeFeed!.state).not.toBe("streaming");
    // The feed watches another database; reads of this client (on the main test database) still work and hit.
    await oob.query(`INSERT INTO "User" (email) VALUES ('nowal@x')`);
    const found = await cachedRead(() => prisma.user.findUnique({ where: { email: "nowal@x" } }));
    expect(found?.email).toBe("nowal@x");
    await prisma.$disconnect();
    expect(prisma.$cache.stats().changeFeed!.state).toBe("closed");
  });
});

/** Commits a write to a watched table and waits until the feed has applied it (so it read past everything before). */
async function markerApplied(prisma: Cached): Promise<void> {
  // An integer key: a cached null of it is an exact entry, which the insert's row stamp advances.
  const id = 1_000_000_000 + Math.floor(Math.random() * 1_000_000_000);
  const name = `m${id}`;
  const read = () => prisma.tag.findUnique({ where: { id } });
  await read();
  base.sql.reset();
  expect(await read()).toBeNull();
  expect(base.sql.selects()).toBe(0);
  await oob.query(`INSERT INTO "Tag" (id, namespace, name) VALUES ($1, 'marker', $2)`, [id, name]);
  await until("the marker", read, (tag) => tag !== null);
}
