/**
 * Steering the cache (README, "Steering"): `enabled: false`, `mode: "allowlist"`, `cacheStrategy: { refresh: true }`,
 * `$cache.invalidate` of one read, and the `namespace` hook. Hits and misses are proved by counting the SELECT
 * statements that reached Postgres; every test runs against the memory store and the Redis store.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CacheConfigError, type CachePluginOptions, redisStore, tieredStore } from "../../src/index.ts";
import { createCacheBed, STORE_KINDS, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { waitFor } from "../support/poll.ts";
import { uniquePrefix } from "../support/redis.ts";

describe.each(STORE_KINDS)("%s store: steering", (kind) => {
  let bed: CacheBed;
  let alice: number;
  let bob: number;
  const tenant = new AsyncLocalStorage<string>();

  /** SELECT statements `run` sends to Postgres, and its result. */
  async function selectsOf<T>(run: () => PromiseLike<T>): Promise<{ result: T; selects: number }> {
    bed.resetSql();
    const result = await run();
    return { result, selects: bed.selects() };
  }
  const selects = async (run: () => PromiseLike<unknown>) => (await selectsOf(run)).selects;
  /** Another cached client on the bed's database, its keys under a `steer-` prefix (removed by the bed). */
  const cached = (options: CachePluginOptions) => bed.cached({ prefix: uniquePrefix(`steer-${kind}`), ...options });
  const client = (options: CachePluginOptions) => cached(options).prisma;
  /** Renames a user behind the cache's back (the base client has no plugin), as another service would. */
  const renameBehind = (id: number, name: string) => bed.base.prisma.user.update({ where: { id }, data: { name } });

  beforeAll(async () => {
    bed = await createCacheBed(kind);
    alice = (await bed.base.prisma.user.create({ data: { email: "alice@example.com", name: "Alice" } })).id;
    bob = (await bed.base.prisma.user.create({ data: { email: "bob@example.com", name: "Bob" } })).id;
    await bed.base.prisma.post.create({ data: { title: "Hello", slug: "hello", published: true, authorId: alice } });
    await bed.base.prisma.post.create({ data: { title: "Draft", slug: "draft", authorId: alice } });
  });
  afterAll(() => bed?.close());
  beforeEach(async () => {
    await renameBehind(alice, "Alice");
    await renameBehind(bob, "Bob");
  });

  describe("enabled: false", () => {
    it("sends every read to the database with Prisma's results, writes without invalidation, and touches no store", async () => {
      const { prisma, store, prefix } = cached({ enabled: false });
      const read = () => prisma.user.findUnique({ where: { id: alice }, include: { posts: { orderBy: { id: "asc" } } } });
      const truth = await bed.base.prisma.user.findUnique({ where: { id: alice }, include: { posts: { orderBy: { id: "asc" } } } });
      for (let i = 0; i < 3; i++) {
        const { result, selects } = await selectsOf(read);
        expect(selects, "every read reaches the database").toBeGreaterThanOrEqual(1);
        expect(result).toStrictEqual(truth);
      }
      expect(await selects(() => prisma.user.findMany({ cacheStrategy: { ttl: 60 } })), "cacheStrategy does not turn it on").toBeGreaterThanOrEqual(1);
      expect(await selects(() => prisma.user.findMany({ cacheStrategy: { ttl: 60 } }))).toBeGreaterThanOrEqual(1);
      await prisma.user.update({ where: { id: bob }, data: { name: "Robert" } });
      expect((await prisma.user.findUniqueOrThrow({ where: { id: bob } })).name).toBe("Robert");
      // Batches, interactive transactions and $cache calls keep working.
      const [count, first] = await prisma.$transaction([prisma.user.count(), prisma.user.findFirst({ orderBy: { id: "asc" } })]);
      expect(count).toBe(2);
      expect(first?.id).toBe(alice);
      expect(await prisma.$transaction(async (tx) => tx.user.count())).toBe(2);
      await prisma.$cache.invalidate({ models: ["User"] });
      await prisma.$cache.invalidate({ model: "User", operation: "findMany", args: {} });
      await prisma.$cache.invalidateAll();
      expect(prisma.$cache.stats()).toMatchObject({ hits: 0, misses: 0, fills: 0, invalidations: 0 });
      expect(prisma.$cache.stats().bypasses).toBeGreaterThanOrEqual(4);
      if (bed.redis) expect(await bed.redis.keys(`${prefix}*`), "nothing was written to Redis").toEqual([]);
      else expect((store as unknown as { size: number }).size).toBe(0);
    });

    it("still rejects an invalid cacheStrategy and invalid options, so tests catch what production would", async () => {
      const prisma = client({ enabled: false });
      await expect(prisma.user.findMany({ cacheStrategy: { ttl: -1 } })).rejects.toMatchObject({ field: "cacheStrategy.ttl" });
      await expect(prisma.$cache.invalidate({ model: "User", operation: "create" as "findMany" })).rejects.toMatchObject({ field: "invalidate().operation" });
      expect(() => cached({ enabled: "no" as unknown as boolean })).toThrow(CacheConfigError);
    });
  });

  describe('mode: "allowlist"', () => {
    let prisma: CachedClient;
    beforeAll(() => {
      prisma = client({ mode: "allowlist", ttl: 60, models: { User: { ttl: 30 } } });
    });

    it("caches a listed model without being asked, and another model only when the call passes cacheStrategy", async () => {
      const users = () => prisma.user.findMany({ orderBy: { id: "asc" } });
      expect(await selects(users)).toBe(1);
      expect(await selects(users), "listed: cached").toBe(0);

      const posts = () => prisma.post.findMany({ orderBy: { id: "asc" } });
      expect(await selects(posts)).toBe(1);
      expect(await selects(posts), "not listed: not cached").toBe(1);

      const asked = () => prisma.post.findMany({ orderBy: { id: "asc" }, cacheStrategy: {} });
      const miss = await selectsOf(asked);
      expect(miss.selects).toBe(1);
      const hit = await selectsOf(asked);
      expect(hit.selects, "opted in by the call, with the plugin-wide ttl").toBe(0);
      expect(hit.result).toStrictEqual(await bed.base.prisma.post.findMany({ orderBy: { id: "asc" } }));
      expect(await selects(() => prisma.post.count({ cacheStrategy: { ttl: 5 } }))).toBe(1);
      expect(await selects(() => prisma.post.count({ cacheStrategy: { ttl: 5 } }))).toBe(0);
    });

    it("invalidates an opted-in read of an unlisted model when this client writes it", async () => {
      const asked = () => prisma.post.findMany({ where: { authorId: alice }, orderBy: { id: "asc" }, cacheStrategy: { ttl: 60 } });
      await asked();
      expect(await selects(asked)).toBe(0);
      const draft = await prisma.post.findUniqueOrThrow({ where: { slug: "draft" } });
      await prisma.post.update({ where: { id: draft.id }, data: { title: "Draft 2" } });
      const after = await selectsOf(asked);
      expect(after.selects, "the write invalidated it").toBe(1);
      expect(after.result.map((post) => post.title)).toContain("Draft 2");
      await prisma.post.update({ where: { id: draft.id }, data: { title: "Draft" } });
    });
  });

  describe("cacheStrategy: { refresh: true }", () => {
    it("skips the lookup, reads the database and stores the fresh result for the next reads", async () => {
      const prisma = client({});
      const read = () => prisma.user.findUniqueOrThrow({ where: { id: alice } });
      await read();
      expect(await selects(read)).toBe(0);
      await renameBehind(alice, "Alicia");
      expect((await read()).name, "the cache does not know about a write it did not see").toBe("Alice");

      const refreshed = await selectsOf(() => prisma.user.findUniqueOrThrow({ where: { id: alice }, cacheStrategy: { refresh: true } }));
      expect(refreshed.selects, "refresh reads the database").toBe(1);
      expect(refreshed.result.name).toBe("Alicia");
      const next = await selectsOf(read);
      expect(next.selects, "and stores what it read: the plain read hits").toBe(0);
      expect(next.result.name).toBe("Alicia");
      expect(await selects(() => prisma.user.findUniqueOrThrow({ where: { id: alice }, cacheStrategy: { refresh: true } })), "every refresh reads").toBe(1);
      expect(prisma.$cache.stats()).toMatchObject({ hits: 3, misses: 3 });
    });

    it("refreshes lists and counts too, with the strategy's ttl, and refuses a refresh that is not a boolean", async () => {
      const prisma = client({});
      const count = () => prisma.post.count({ where: { authorId: alice } });
      expect(await selects(count)).toBe(1);
      const extra = await bed.base.prisma.post.create({ data: { title: "Extra", slug: "extra", authorId: alice } });
      try {
        expect(await count(), "stale: the write went around the cache").toBe(2);
        expect(await prisma.post.count({ where: { authorId: alice }, cacheStrategy: { refresh: true, ttl: 60 } })).toBe(3);
        expect(await selects(count)).toBe(0);
        expect(await count()).toBe(3);
      } finally {
        await bed.base.prisma.post.delete({ where: { id: extra.id } });
      }
      await expect(prisma.post.count({ cacheStrategy: { refresh: "yes" as unknown as boolean } })).rejects.toMatchObject({ field: "cacheStrategy.refresh" });
    });
  });

  describe("$cache.invalidate of one read", () => {
    it("drops exactly that entry: other reads of the same model and row stay cached", async () => {
      const prisma = client({});
      const byId = () => prisma.user.findUnique({ where: { id: alice } });
      const emailOnly = () => prisma.user.findUnique({ where: { id: alice }, select: { email: true } });
      const list = () => prisma.user.findMany({ orderBy: { id: "asc" } });
      const other = () => prisma.user.findUnique({ where: { id: bob } });
      for (const read of [byId, emailOnly, list, other]) await read();
      for (const read of [byId, emailOnly, list, other]) expect(await selects(read)).toBe(0);

      await renameBehind(alice, "Alicia");
      // cacheStrategy in the args is ignored, as the read path ignores it for the key.
      await prisma.$cache.invalidate({ model: "User", operation: "findUnique", args: { where: { id: alice }, cacheStrategy: { ttl: 5 } } });
      const dropped = await selectsOf(byId);
      expect(dropped.selects, "the invalidated read goes to the database").toBe(1);
      expect(dropped.result?.name).toBe("Alicia");
      expect(await selects(byId), "and is cached again").toBe(0);
      for (const read of [emailOnly, list, other]) expect(await selects(read), "the other reads stay cached").toBe(0);
      expect((await list())[0]?.name, "they still hold what they cached").toBe("Alice");

      await prisma.$cache.invalidate({ model: "User", operation: "findMany", args: { orderBy: { id: "asc" } } });
      expect(await selects(list)).toBe(1);
      expect(await selects(emailOnly)).toBe(0);
    });

    it("drops a read called without args by { model, operation }, and rejects what names no cacheable read", async () => {
      const prisma = client({});
      const count = () => prisma.post.count();
      await count();
      expect(await selects(count)).toBe(0);
      await prisma.$cache.invalidate({ model: "Post", operation: "count" });
      expect(await selects(count)).toBe(1);
      const rejects = (target: unknown, field: string) =>
        expect(prisma.$cache.invalidate(target as Parameters<typeof prisma.$cache.invalidate>[0])).rejects.toMatchObject({ field });
      await rejects({ model: "Nope", operation: "count" }, "invalidate().model");
      await rejects({ model: "Post", operation: "update" }, "invalidate().operation");
      await rejects({ model: "Post", operation: "count", args: 5 }, "invalidate().args");
      await rejects({ model: "Post", operation: "count", tags: ["x"] }, "invalidate().tags");
    });
  });

  describe("namespace", () => {
    let prisma: CachedClient;
    beforeAll(() => {
      prisma = client({ namespace: () => tenant.getStore(), models: { User: { writes: "write-through" } } });
    });
    const inTenant = <T>(id: string | undefined, run: () => PromiseLike<T>): Promise<T> =>
      id === undefined ? Promise.resolve(run()) : tenant.run(id, () => Promise.resolve(run()));

    it("never shares an entry between namespaces, nor with the shared namespace", async () => {
      const read = () => prisma.post.findMany({ where: { authorId: alice }, orderBy: { id: "asc" } });
      for (const space of ["a", "b", undefined]) {
        expect(await selects(() => inTenant(space, read)), `first read in ${space ?? "the shared namespace"}`).toBe(1);
      }
      for (const space of ["a", "b", undefined]) {
        expect(await selects(() => inTenant(space, read)), `second read in ${space ?? "the shared namespace"}`).toBe(0);
      }
    });

    it("a write in one namespace invalidates what it could change in every namespace", async () => {
      const read = () => prisma.user.findMany({ orderBy: { id: "asc" } });
      const spaces = ["a", "b", undefined];
      for (const space of spaces) await inTenant(space, read);
      for (const space of spaces) expect(await selects(() => inTenant(space, read))).toBe(0);
      await inTenant("a", () => prisma.user.update({ where: { id: bob }, data: { name: "Robert" } }));
      for (const space of spaces) {
        const after = await selectsOf(() => inTenant(space, read));
        expect(after.selects, `invalidated in ${space ?? "the shared namespace"}`).toBe(1);
        expect(after.result.map((user) => user.name)).toEqual(["Alice", "Robert"]);
      }
    });

    it("writes through into the writer's namespace only, and one-read invalidation drops the caller's namespace only", async () => {
      const read = () => prisma.user.findUnique({ where: { id: bob } });
      await inTenant("a", () => prisma.user.update({ where: { id: bob }, data: { name: "Bobby" } }));
      const own = await selectsOf(() => inTenant("a", read));
      expect(own.selects, "written through in the writer's namespace").toBe(0);
      expect(own.result?.name).toBe("Bobby");
      expect(await selects(() => inTenant("b", read)), "not in another namespace").toBe(1);
      expect(await selects(() => inTenant("b", read))).toBe(0);

      await inTenant("a", () => prisma.$cache.invalidate({ model: "User", operation: "findUnique", args: { where: { id: bob } } }));
      expect(await selects(() => inTenant("a", read))).toBe(1);
      expect(await selects(() => inTenant("b", read)), "tenant b's entry stays").toBe(0);
    });

    it("namespaces raw queries through $cache.queryRaw too", async () => {
      const { Prisma } = await import("../../generated/prisma/client.ts");
      const raw = () => prisma.$cache.queryRaw(Prisma.sql`SELECT count(*)::int AS n FROM "User"`, { tags: ["users"] });
      expect(await selects(() => inTenant("a", raw))).toBe(1);
      expect(await selects(() => inTenant("a", raw))).toBe(0);
      expect(await selects(() => inTenant("b", raw))).toBe(1);
    });

    it("rejects a read whose namespace hook returns something that is not a string, number or undefined", async () => {
      const bad = client({ namespace: () => ({ id: 1 }) as unknown as string });
      await expect(bad.user.findMany()).rejects.toMatchObject({ code: "CONFIG_INVALID", field: "namespace" });
      const numeric = client({ namespace: () => 7 });
      await numeric.user.count();
      expect(await selects(() => numeric.user.count())).toBe(0);
    });
  });

  describe("$disconnect()", () => {
    it("closes what the plugin runs: a tiered store's subscriber leaves its channel, and the app's client stays open", async () => {
      const redis = bed.redis;
      if (!redis) return;
      const channel = `steer-disconnect-${Math.random().toString(36).slice(2)}`;
      const subscribers = async () => ((await redis.call("PUBSUB", "NUMSUB", channel)) as [string, number])[1];
      const { prisma } = cached({ store: tieredStore({ l2: redisStore({ client: redis }), channel }) });
      await waitFor(async () => (await subscribers()) === 1, "the tiered store subscribes");
      await prisma.user.count();
      await prisma.$disconnect();
      expect(await subscribers(), "the subscriber is gone once $disconnect resolved").toBe(0);
      expect(await redis.ping(), "the ioredis client the app passed in is not closed").toBe("PONG");
      // Prisma reconnects on the next query; the cache then answers from Redis alone, still correctly.
      expect(await prisma.user.count()).toBe(await bed.base.prisma.user.count());
      expect(prisma.$cache.stats().errors).toBe(0);
    });
  });
});
