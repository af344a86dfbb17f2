/**
 * `writes: "write-through"`: after a create, update or upsert returning the full record, the record is stored under
 * the model's unique lookups, so the next `findUnique` by any unique key is a hit (no SQL) that returns exactly
 * what an uncached read returns. Everything else the write changed is still invalidated, and a write-through never
 * leaves a stale entry, even when two clients write the same row at once. Runs against the memory store, the
 * Redis store and the tiered store (L1 in front of Redis).
 */
import { afterAll, beforeAll, describe, expect, it, inject } from "vitest";
import { Prisma, type PrismaClient } from "../../generated/prisma/client.ts";
import { cachePlugin, redisStore, tieredStore, type CachePluginOptions, type CacheStore, type TieredStore } from "../../src/index.ts";
import { CACHE_SCHEMAS, createCacheBed, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { waitFor } from "../support/poll.ts";

type Kind = "memory" | "redis" | "tiered";
const KINDS: readonly Kind[] = ["memory", "redis", "tiered"];

const WRITE_THROUGH: CachePluginOptions = {
  models: {
    User: { writes: "write-through" },
    Post: { writes: "write-through" },
    Tag: { writes: "write-through" },
    Sample: { writes: "write-through" },
  },
};

/** A read written once and run against the cached client under test or the uncached one (for the truth). */
type Read<T> = (db: PrismaClient) => PromiseLike<T>;

const provider = inject("provider");

describe.each(KINDS)("%s store: write-through", (kind) => {
  let bed: CacheBed;
  let prisma: CachedClient;
  let store: CacheStore;
  let prefix: string;
  const tiered: TieredStore[] = [];
  const others: TestClient[] = [];
  let seq = 0;
  /** A string no other test of this bed uses. */
  const scope = () => `wt${kind}${++seq}`;

  /** A tiered store on the bed's Redis; every one of this bed's shares the channel. */
  function newTiered(): TieredStore {
    const made = tieredStore({ l2: redisStore({ client: bed.redis! }), channel: `${bed.prefix}:invalidate` });
    tiered.push(made);
    return made;
  }

  beforeAll(async () => {
    bed = await createCacheBed(kind === "memory" ? "memory" : "redis", { ...WRITE_THROUGH, timeoutMs: 5_000 });
    if (kind === "tiered") {
      const made = bed.cached({ store: newTiered() });
      prisma = made.prisma;
      store = made.store;
      prefix = made.prefix;
    } else {
      prisma = bed.prisma;
      store = bed.store;
      prefix = bed.prefix;
    }
    await waitFor(() => tiered.every((one) => one.l1Live), "L1 live", 10_000);
  });
  afterAll(async () => {
    for (const one of tiered) await one.close();
    for (const client of others) await client.close();
    await bed?.close();
  });

  const cached = () => prisma as unknown as PrismaClient;

  /** The read costs no SQL and returns what the uncached client reads now. */
  async function expectHit<T>(read: Read<T>, label: string): Promise<T> {
    const truth = await read(bed.base.prisma);
    bed.resetSql();
    const value = await read(cached());
    expect(bed.selects(), `${label}: served from the cache`).toBe(0);
    expect(value, label).toEqual(truth);
    return value;
  }

  /** The read reaches the database and returns what the uncached client reads now. */
  async function expectMiss<T>(read: Read<T>, label: string): Promise<T> {
    const truth = await read(bed.base.prisma);
    bed.resetSql();
    const value = await read(cached());
    expect(bed.selects(), `${label}: reaches the database`).toBeGreaterThan(0);
    expect(value, label).toEqual(truth);
    return value;
  }

  /** Runs the read through the cache until it is cached (the second run costs no SQL). */
  async function cache<T>(read: Read<T>, label: string): Promise<T> {
    await read(cached());
    return expectHit(read, `${label} (before the write)`);
  }

  const byId =
    (id: number): Read<unknown> =>
    (db) =>
      db.user.findUnique({ where: { id } });
  const byEmail =
    (email: string): Read<unknown> =>
    (db) =>
      db.user.findUnique({ where: { email } });

  it("create: the new row's findUnique by id and by email are hits that equal an uncached read", async () => {
    const s = scope();
    const email = `${s}@wt.test`;
    await cache(byEmail(email), "the email lookup, cached as null");

    const user = await prisma.user.create({ data: { email, name: "new", role: "EDITOR" } });

    expect(await expectHit(byId(user.id), "by id")).toEqual(user);
    expect(await expectHit(byEmail(email), "by email")).toEqual(user);
  });

  it("update: the row's unique lookups are hits with the new values", async () => {
    const s = scope();
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@wt.test`, name: "before" } });
    await cache(byId(user.id), "by id");
    await cache(byEmail(user.email), "by email");

    const updated = await prisma.user.update({ where: { id: user.id }, data: { name: "after", role: "ADMIN" } });

    expect(await expectHit(byId(user.id), "by id")).toMatchObject({ name: "after", role: "ADMIN" });
    expect(await expectHit(byEmail(user.email), "by email")).toEqual(updated);
  });

  it("upsert, both branches: the row's unique lookups are hits", async () => {
    const s = scope();
    const existing = await bed.base.prisma.user.create({ data: { email: `${s}-a@wt.test`, name: "before" } });
    await cache(byId(existing.id), "existing by id");

    const updated = await prisma.user.upsert({ where: { email: existing.email }, update: { name: "upserted" }, create: { email: existing.email } });
    const created = await prisma.user.upsert({ where: { email: `${s}-b@wt.test` }, update: { name: "never" }, create: { email: `${s}-b@wt.test`, name: "created" } });

    expect(await expectHit(byId(existing.id), "updated by id")).toEqual(updated);
    expect(await expectHit(byEmail(existing.email), "updated by email")).toMatchObject({ name: "upserted" });
    expect(await expectHit(byId(created.id), "created by id")).toEqual(created);
    expect(await expectHit(byEmail(created.email), "created by email")).toMatchObject({ name: "created" });
  });

  it("a compound unique (Tag's namespace_name) and a Post's slug are written through too", async () => {
    const s = scope();
    const tag = await prisma.tag.create({ data: { namespace: s, name: "t" } });
    await expectHit((db) => db.tag.findUnique({ where: { namespace_name: { namespace: s, name: "t" } } }), "tag by namespace_name");
    await expectHit((db) => db.tag.findUnique({ where: { id: tag.id } }), "tag by id");
    await prisma.tag.update({ where: { namespace_name: { namespace: s, name: "t" } }, data: { name: "u" } });
    await expectMiss((db) => db.tag.findUnique({ where: { namespace_name: { namespace: s, name: "t" } } }), "the old compound key: gone");
    expect(await expectHit((db) => db.tag.findUnique({ where: { namespace_name: { namespace: s, name: "u" } } }), "the new compound key")).toMatchObject({ id: tag.id });

    const post = await prisma.post.create({ data: { title: s, slug: s, views: 3 } });
    expect(await expectHit((db) => db.post.findUnique({ where: { slug: s } }), "post by slug")).toEqual(post);
    await prisma.post.update({ where: { slug: s }, data: { views: { increment: 4 } } });
    expect(await expectHit((db) => db.post.findUnique({ where: { id: post.id } }), "post by id after an increment")).toMatchObject({ views: 7 });
  });

  it("every scalar type reads back from a written-through entry exactly as from the database", async () => {
    const s = scope();
    const sample = await prisma.sample.create({
      data: {
        id: s,
        text: "ü 🎉 tab\t newline\n",
        int: -2147483648,
        big: -9223372036854775808n,
        float: 1.5e-300,
        decimal: new Prisma.Decimal("-0.0000000001"),
        flag: false,
        at: new Date("1970-01-01T00:00:00.001Z"),
        json: { a: [1, { b: null }], date: "2024-01-01T00:00:00.000Z", $type: "BigInt", value: "1" },
        maybeJson: Prisma.JsonNull,
        bytes: new Uint8Array([0, 255, 1]),
        role: "ADMIN",
        optional: null,
        // Scalar lists exist on Postgres only.
        ...(provider === "postgresql" ? { words: ["a", "", "c"], numbers: [] } : {}),
      },
    });
    const read: Read<unknown> = (db) => db.sample.findUnique({ where: { id: s } });
    expect(await expectHit(read, "sample by id")).toEqual(sample);
    // NaN on Postgres; MySQL's DOUBLE and SQLite's REAL cannot store it.
    await prisma.sample.update({ where: { id: s }, data: { float: provider === "postgresql" ? Number.NaN : 2.5, maybeJson: { x: 1 }, optional: "set" } });
    await expectHit(read, "sample by id after an update");
  });

  it("reads that are not unique lookups of the row are still invalidated", async () => {
    const s = scope();
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@wt.test`, name: "before", posts: { create: { title: s, slug: s } } } });
    const reads: Record<string, Read<unknown>> = {
      findMany: (db) => db.user.findMany({ where: { email: { startsWith: s } }, orderBy: { id: "asc" } }),
      count: (db) => db.user.count({ where: { email: { startsWith: s }, name: "after" } }),
      "findUnique with include": (db) => db.user.findUnique({ where: { id: user.id }, include: { posts: true } }),
      "findUnique with select": (db) => db.user.findUnique({ where: { email: user.email }, select: { name: true } }),
      findFirst: (db) => db.user.findFirst({ where: { name: "before", email: { startsWith: s } } }),
      "post with author": (db) => db.post.findUnique({ where: { slug: s }, include: { author: true } }),
    };
    const before: Record<string, unknown> = {};
    for (const [label, read] of Object.entries(reads)) before[label] = await cache(read, label);

    await prisma.user.update({ where: { id: user.id }, data: { name: "after" } });

    for (const [label, read] of Object.entries(reads)) {
      const now = await expectMiss(read, label);
      expect(now, `${label} changed`).not.toEqual(before[label]);
    }
  });

  it("writes with select, include or omit do not write through, but still invalidate", async () => {
    const s = scope();
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@wt.test`, name: "0" } });
    const writes = [
      () => prisma.user.update({ where: { id: user.id }, data: { name: "1" }, select: { id: true } }),
      () => prisma.user.update({ where: { id: user.id }, data: { name: "2" }, include: { posts: true } }),
      () => prisma.user.update({ where: { id: user.id }, data: { name: "3" }, omit: { createdAt: true } }),
      () => prisma.user.upsert({ where: { id: user.id }, update: { name: "4" }, create: { email: "never@wt.test" }, select: { name: true } }),
    ];
    for (const [i, write] of writes.entries()) {
      await cache(byId(user.id), `write ${i}: by id`);
      await cache(byEmail(user.email), `write ${i}: by email`);
      await write();
      expect(await expectMiss(byId(user.id), `write ${i}: by id`)).toMatchObject({ name: String(i + 1) });
      await expectMiss(byEmail(user.email), `write ${i}: by email`);
    }
    const created = await prisma.user.create({ data: { email: `${s}-new@wt.test` }, select: { id: true } });
    await expectMiss(byId(created.id), "created with select, by id");
  });

  it("a write inside a transaction does not write through; the read after the commit misses and is current", async () => {
    const s = scope();
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@wt.test`, name: "0" } });
    await cache(byId(user.id), "by id");

    await prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: user.id }, data: { name: "interactive" } });
    });
    expect(await expectMiss(byId(user.id), "after an interactive transaction")).toMatchObject({ name: "interactive" });

    await cache(byEmail(user.email), "by email");
    await prisma.$transaction([prisma.user.update({ where: { id: user.id }, data: { name: "batch" } })]);
    expect(await expectMiss(byEmail(user.email), "after a batch transaction")).toMatchObject({ name: "batch" });

    const created = await prisma.$transaction(async (tx) => tx.user.create({ data: { email: `${s}-tx@wt.test` } }));
    await expectMiss(byId(created.id), "created in a transaction");
  });

  it("changing a unique field: the old key reads null from the database, the new key hits", async () => {
    const s = scope();
    const oldEmail = `${s}-old@wt.test`;
    const newEmail = `${s}-new@wt.test`;
    const user = await bed.base.prisma.user.create({ data: { email: oldEmail, name: "x" } });
    await cache(byEmail(oldEmail), "old email");
    await cache(byEmail(newEmail), "new email, cached as null");
    await cache(byId(user.id), "by id");

    const updated = await prisma.user.update({ where: { id: user.id }, data: { email: newEmail } });

    expect(await expectMiss(byEmail(oldEmail), "old email")).toBeNull();
    expect(await expectHit(byEmail(newEmail), "new email")).toEqual(updated);
    expect(await expectHit(byId(user.id), "by id")).toEqual(updated);

    // Changing it back through the other unique key.
    await prisma.user.update({ where: { email: newEmail }, data: { email: oldEmail } });
    expect(await expectMiss(byEmail(newEmail), "new email after changing back")).toBeNull();
    expect(await expectHit(byEmail(oldEmail), "old email after changing back")).toMatchObject({ id: user.id });
  });

  it("two clients incrementing one row concurrently never leave a stale entry (200 rounds)", async () => {
    // A second app instance: its own PrismaClient and plugin on the same store (memory: the same object; Redis:
    // the same prefix; tiered: its own L1 on the same Redis and channel).
    const other = createTestClient({ url: bed.db.url });
    others.push(other);
    const otherStore = kind === "memory" ? store : kind === "redis" ? redisStore({ client: bed.redis! }) : newTiered();
    await waitFor(() => tiered.every((one) => one.l1Live), "L1 live", 10_000);
    const second = other.prisma.$extends(
      cachePlugin({ schema: CACHE_SCHEMAS[provider], store: otherStore, prefix, timeoutMs: 5_000, ...WRITE_THROUGH }),
    ) as unknown as CachedClient;
    const post = await bed.base.prisma.post.create({ data: { title: "race", slug: scope() } });
    const clients = [prisma, second];
    let hits = 0;

    for (let round = 0; round < 200; round++) {
      await Promise.all(clients.map((client) => client.post.update({ where: { id: post.id }, data: { views: { increment: 1 } } })));
      const truth = await bed.base.prisma.post.findUnique({ where: { id: post.id } });
      expect(truth?.views).toBe(2 * (round + 1));
      for (const [i, client] of clients.entries()) {
        bed.resetSql();
        other.sql.reset();
        expect(await client.post.findUnique({ where: { id: post.id } }), `round ${round}, client ${i}: by id`).toEqual(truth);
        expect(await client.post.findUnique({ where: { slug: post.slug } }), `round ${round}, client ${i}: by slug`).toEqual(truth);
        if (bed.selects() + other.sql.selects() === 0) hits++;
      }
    }
    console.log(`${kind}: ${hits} of 400 post-race reads were cache hits`);
  }, 120_000);
});
