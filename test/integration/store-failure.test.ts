/**
 * A failing or hung store never fails or stalls a query: reads fall back to the database within `timeoutMs`,
 * errors go to `onError` and `stats().errors`, and a write whose invalidation could not be applied makes reads
 * bypass the cache until a background retry applies it. Each outage runs against a private redis-server, never
 * the shared one.
 */
import { Redis, type RedisOptions } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { cachePlugin, CacheConfigError, CacheStoreError, redisStore, type CacheError, type CacheErrorContext, type CachePluginOptions, type CacheStats } from "../../src/index.ts";
import { createCacheBed, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { createTestClient } from "../support/prisma.ts";
import { startRedisServer, uniquePrefix, type RedisServer } from "../support/redis.ts";

/** Generous bound for "the query resolves": far above timeoutMs, far below a hung connection. */
const DEADLINE_MS = 2_000;
/** How long a poll for recovery may take: the invalidation retry backs off from 50 ms. */
const RECOVERY_MS = 8_000;
/** timeoutMs where the store being slow is not what a test is about: a busy machine must not turn hits into misses. */
const PATIENT_MS = 500;
const STORE_CODES = ["STORE_UNAVAILABLE", "STORE_ERROR", "STORE_TIMEOUT"];

let bed: CacheBed;
/** Started by the current test; disconnected and stopped after it. */
const clients: Redis[] = [];
const servers: RedisServer[] = [];

beforeAll(async () => {
  // The bed's own store is unused here: every plugin below gets a Redis store on a private server.
  bed = await createCacheBed("memory");
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const client of clients.splice(0)) client.disconnect();
  for (const server of servers.splice(0)) await server.stop();
});
afterAll(() => bed?.close());

async function privateServer(): Promise<RedisServer> {
  const server = await startRedisServer();
  servers.push(server);
  return server;
}

/** An ioredis client that gives up on a command after one retry and reconnects quickly once the server is back. */
function redisClient(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 20, ...options });
  client.on("error", () => {}); // outages are the point here; the plugin reports them
  clients.push(client);
  return client;
}

async function readyClient(url: string): Promise<Redis> {
  const client = redisClient(url);
  await waitUntilReady(client);
  return client;
}

async function waitUntilReady(client: Redis): Promise<void> {
  await vi.waitFor(() => expect(client.status).toBe("ready"), { timeout: RECOVERY_MS, interval: 20 });
}

/** Resolves with what `promise` resolves to, or rejects if that takes longer than `ms`. */
async function within<T>(promise: PromiseLike<T>, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface Reported {
  error: CacheError;
  context: CacheErrorContext;
}

function errorLog() {
  const reported: Reported[] = [];
  return { reported, onError: (error: CacheError, context: CacheErrorContext) => void reported.push({ error, context }) };
}

/** A plugin on `client` with its own key prefix. */
function cachedOn(client: Redis, options: Omit<CachePluginOptions, "store" | "prefix"> = {}) {
  return bed.cached({ store: redisStore({ client }), ...options }).prisma;
}

let seq = 0;
async function seedUser(name = "before") {
  return bed.base.prisma.user.create({ data: { email: `store-failure-${++seq}-${Date.now()}@example.com`, name } });
}

const stats = (prisma: CachedClient): CacheStats => prisma.$cache.stats();

/** Waits until a read of `expected` is served from the cache (e.g. once the plugin is no longer degraded), and is `expected`. */
async function waitUntilCached(prisma: CachedClient, expected: { id: number }): Promise<void> {
  await vi.waitFor(
    async () => {
      const hits = stats(prisma).hits;
      const read = await within(prisma.user.findUnique({ where: { id: expected.id } }));
      expect(read).toStrictEqual(expected);
      expect(stats(prisma).hits).toBe(hits + 1);
    },
    { timeout: RECOVERY_MS, interval: 50 },
  );
}

describe("Redis stopped mid-test", () => {
  it("serves reads and writes from the database, reports the outage, and caches again without stale data after restart", async () => {
    const server = await privateServer();
    const client = await readyClient(server.url);
    const { reported, onError } = errorLog();
    const prisma = cachedOn(client, { onError, timeoutMs: PATIENT_MS });
    const user = await seedUser("before");
    const other = await seedUser("other");
    await waitUntilCached(prisma, user);

    await server.stop();
    const errorsBefore = stats(prisma).errors;
    bed.resetSql();
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(user);
    expect(bed.selects()).toBe(1);
    expect(stats(prisma).errors).toBeGreaterThan(errorsBefore);
    const lookupFailure = reported.find(({ context }) => context.operation === "lookup");
    expect(lookupFailure?.error).toBeInstanceOf(CacheStoreError);
    expect(STORE_CODES).toContain(lookupFailure?.error.code);
    expect((lookupFailure?.error as CacheStoreError).operation).toBe("lookup");

    const updated = await within(prisma.user.update({ where: { id: user.id }, data: { name: "during outage" } }));
    expect(updated).toStrictEqual({ ...user, name: "during outage" });
    expect((await bed.base.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).name).toBe("during outage");

    await server.restart();
    await waitUntilReady(client);
    // Degraded until the write's invalidation is applied, then a miss on the empty Redis: the new value either way.
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(updated);

    await waitUntilCached(prisma, updated);

    bed.resetSql();
    expect(await prisma.user.findUnique({ where: { id: other.id } })).toStrictEqual(other);
    expect(bed.selects()).toBe(1); // miss
    expect(await prisma.user.findUnique({ where: { id: other.id } })).toStrictEqual(other);
    expect(bed.selects()).toBe(1); // hit
  });

  it("names the model of a failed read in the onError context", async () => {
    const server = await privateServer();
    const client = await readyClient(server.url);
    const { reported, onError } = errorLog();
    const prisma = cachedOn(client, { onError });
    const user = await seedUser();

    await server.stop();
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(user);
    const lookupFailure = reported.find(({ context }) => context.operation === "lookup");
    expect(lookupFailure?.context).toMatchObject({ operation: "lookup", model: "User" });
  });
});

describe("Redis paused (a hung server)", () => {
  it("answers reads from the database after timeoutMs and reports STORE_TIMEOUT", async () => {
    const server = await privateServer();
    const client = await readyClient(server.url);
    const { reported, onError } = errorLog();
    const prisma = cachedOn(client, { onError, timeoutMs: 30 });
    const user = await seedUser();
    await prisma.user.findUnique({ where: { id: user.id } });

    server.pause();
    bed.resetSql();
    const errorsBefore = stats(prisma).errors;
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(user);
    expect(bed.selects()).toBe(1);
    expect(stats(prisma).errors).toBeGreaterThan(errorsBefore);
    const timeout = reported.find(({ context }) => context.operation === "lookup");
    expect(timeout?.error).toBeInstanceOf(CacheStoreError);
    expect(timeout?.error.code).toBe("STORE_TIMEOUT");
  });

  it("lets a write resolve, serves its new value right after resume, and caches again once the retry lands", async () => {
    const server = await privateServer();
    const client = await readyClient(server.url);
    const { reported, onError } = errorLog();
    const prisma = cachedOn(client, { onError, timeoutMs: 30 });
    const user = await seedUser("before");
    await waitUntilCached(prisma, user);

    server.pause();
    const updated = await within(prisma.user.update({ where: { id: user.id }, data: { name: "after" } }));
    expect(updated).toStrictEqual({ ...user, name: "after" });
    const invalidation = reported.find(({ context }) => context.operation === "invalidate");
    expect(invalidation?.error.code).toBe("STORE_TIMEOUT");

    // While paused, and right after resume (the old entry is still in Redis): never the old value.
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(updated);
    server.resume();
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(updated);

    await waitUntilCached(prisma, updated);
  });

  it("does not let a lookup that timed out hold a lease that stalls the next read of its key", async () => {
    const server = await privateServer();
    const client = await readyClient(server.url);
    // Long leases make a stall on an orphaned lease unmistakable; the store itself answers promptly after resume.
    const prisma = cachedOn(client, { onError: errorLog().onError, timeoutMs: 200, leaseMs: 3_000, leaseWaitMs: 3_000 });
    const user = await seedUser();

    server.pause();
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(user);
    server.resume();
    // Same connection, answered in order: once PING returns, the timed-out lookup has run in Redis too.
    expect(await client.ping()).toBe("PONG");

    bed.resetSql();
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(user);
    expect(bed.selects()).toBe(1);
  });
});

describe("Redis unreachable from the start", () => {
  it.each([
    ["connecting at once", false],
    ["with lazyConnect", true],
  ])("serves every read from the database and warns once per burst by default (%s)", async (_, lazyConnect) => {
    const server = await privateServer();
    await server.stop();
    const client = redisClient(server.url, { lazyConnect });
    const prisma = cachedOn(client);
    const user = await seedUser();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});

    bed.resetSql();
    for (let i = 0; i < 20; i++) {
      expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(user);
    }
    expect(bed.selects()).toBe(20);
    // The first failures are reported; then the circuit breaker opens (reported too) and later reads skip Redis.
    expect(stats(prisma).errors).toBeGreaterThanOrEqual(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("[prisma-cache-plugin]");
  });

  it("does not fail a query when onError throws", async () => {
    const server = await privateServer();
    await server.stop();
    const client = redisClient(server.url);
    let calls = 0;
    const prisma = cachedOn(client, {
      onError: () => {
        calls++;
        throw new Error("onError failed");
      },
    });
    const user = await seedUser("before");

    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toStrictEqual(user);
    expect(await within(prisma.user.update({ where: { id: user.id }, data: { name: "after" } }))).toMatchObject({ name: "after" });
    expect(await within(prisma.user.findUnique({ where: { id: user.id } }))).toMatchObject({ name: "after" });
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});

describe("with a healthy private Redis", () => {
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await client.ping();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  it("serves a result larger than maxEntryBytes without caching it, counting it as oversize", async () => {
    const prisma = cachedOn(client, { maxEntryBytes: 1_000, timeoutMs: PATIENT_MS });
    const large = await seedUser("x".repeat(2_000));
    const small = await seedUser("small");

    bed.resetSql();
    expect(await prisma.user.findUnique({ where: { id: large.id } })).toStrictEqual(large);
    expect(await prisma.user.findUnique({ where: { id: large.id } })).toStrictEqual(large);
    expect(bed.selects()).toBe(2);
    expect(stats(prisma).oversize).toBe(2);

    bed.resetSql();
    expect(await prisma.user.findUnique({ where: { id: small.id } })).toStrictEqual(small);
    expect(await prisma.user.findUnique({ where: { id: small.id } })).toStrictEqual(small);
    expect(bed.selects()).toBe(1);
    expect(stats(prisma).oversize).toBe(2);
  });

  it("rejects an invalid cacheStrategy with a CacheConfigError naming the field, without querying", async () => {
    const prisma = cachedOn(client);
    const user = await seedUser();
    const cases: [unknown, string][] = [
      [{ ttl: -1 }, "cacheStrategy.ttl"],
      [{ bogus: 1 }, "cacheStrategy.bogus"],
      [{ tags: [""] }, "cacheStrategy.tags[0]"],
    ];
    bed.resetSql();
    for (const [cacheStrategy, field] of cases) {
      const attempt = prisma.user.findUnique({ where: { id: user.id }, cacheStrategy: cacheStrategy as { ttl: number } });
      const error = await Promise.resolve(attempt).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(CacheConfigError);
      expect((error as CacheConfigError).field).toBe(field);
      expect((error as Error).message).toContain(field);
    }
    expect(bed.selects()).toBe(0);
  });

  it("rejects $cache.invalidate with a non-string tag or an unknown model", async () => {
    const prisma = cachedOn(client);
    await expect(prisma.$cache.invalidate({ tags: [1 as unknown as string] })).rejects.toBeInstanceOf(CacheConfigError);
    await expect(prisma.$cache.invalidate({ tags: [1 as unknown as string] })).rejects.toMatchObject({ field: "invalidate().tags[0]" });
    // Typed: only the schema's model names compile; the runtime check covers untyped callers.
    await expect(prisma.$cache.invalidate({ models: ["Nope" as "User"] })).rejects.toBeInstanceOf(CacheConfigError);
    await expect(prisma.$cache.invalidate({ models: ["Nope" as "User"] })).rejects.toMatchObject({ field: "invalidate().models[0]" });
  });

  it("never closes the ioredis client it was given, even after the Prisma client disconnects", async () => {
    const own = createTestClient({ url: bed.db.url });
    const store = redisStore({ client });
    const prisma = own.prisma.$extends(cachePlugin({ schema: cacheSchema, store, prefix: uniquePrefix("never-closes"), timeoutMs: PATIENT_MS }));
    const user = await seedUser();
    await prisma.user.findUnique({ where: { id: user.id } });
    expect(await prisma.user.findUnique({ where: { id: user.id } })).toStrictEqual(user);
    expect(prisma.$cache.stats().hits).toBe(1);

    await prisma.$disconnect();
    await own.close();
    await store.close();

    expect(client.status).toBe("ready");
    expect(await client.ping()).toBe("PONG");
  });
});

describe("config errors at extension creation", () => {
  function thrownBy(create: () => unknown): CacheConfigError {
    try {
      create();
    } catch (error) {
      expect(error).toBeInstanceOf(CacheConfigError);
      return error as CacheConfigError;
    }
    throw new Error("expected a CacheConfigError, but nothing was thrown");
  }

  it("rejects an unknown model name, listing the client's models", () => {
    // @ts-expect-error the schema's model names are the only keys `models` accepts
    const error = thrownBy(() => bed.base.prisma.$extends(cachePlugin({ schema: cacheSchema, models: { Nope: {} } })));
    expect(error.field).toBe("models.Nope");
    expect(error.message).toContain("models.Nope");
    expect(error.message).toMatch(/\bUser\b/);
    expect(error.message).toMatch(/\bPost\b/);
  });

  it("rejects a schema that does not match the client", () => {
    const { Tag: _removed, ...models } = cacheSchema.models;
    const error = thrownBy(() => bed.base.prisma.$extends(cachePlugin({ schema: { ...cacheSchema, models } })));
    expect(error.field).toBe("schema");
    expect(error.message).toContain("schema");
    expect(error.message).toContain("Tag");
  });

  it("rejects a redisStore client that is not an ioredis client", () => {
    const error = thrownBy(() => redisStore({ client: {} as never }));
    expect(error.field).toBe("redisStore.client");
  });
});
