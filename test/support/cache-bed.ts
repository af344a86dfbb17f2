/**
 * A test database, a SQL-counting base client and the cache plugin on top, for one store kind. Each bed has its own
 * database and its own key prefix, so test files (and beds within a file) never see each other's data or keys.
 *
 * The database is on the provider of the test file's vitest project (see vitest.config.ts), unless the call names
 * one; the bed then uses that provider's generated client and cacheSchema.
 */
import type { Redis } from "ioredis";
import { cachePlugin, memoryStore, redisStore, type CachePluginOptions, type CacheStore } from "../../src/index.ts";
import { cacheSchema } from "../../generated/cache/index.ts";
import { cacheSchema as mysqlCacheSchema } from "../../generated/mysql/cache/index.ts";
import { cacheSchema as sqliteCacheSchema } from "../../generated/sqlite/cache/index.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";
import type { Provider } from "./providers.ts";
import { createTestClient, type TestClient } from "./prisma.ts";
import { createRedis, deleteKeysWithPrefix, uniquePrefix } from "./redis.ts";

export type StoreKind = "memory" | "redis";
export const STORE_KINDS: readonly StoreKind[] = ["memory", "redis"];

/** The cached client type for the test-bed schema. */
export type CachedClient = ReturnType<typeof withCache>;

/** Each provider's generated cacheSchema: the same models, with the provider's table and column details. */
export const CACHE_SCHEMAS = { postgresql: cacheSchema, mysql: mysqlCacheSchema, sqlite: sqliteCacheSchema } as const;

function withCache(prisma: PrismaClient, options: CachePluginOptions, provider: Provider = "postgresql") {
  return prisma.$extends(cachePlugin({ schema: CACHE_SCHEMAS[provider], ...options }));
}

/** Where a bed's database lives. */
export interface CacheBedTarget {
  /** @default the vitest project's provider */
  provider?: Provider;
}

export interface CacheBed {
  kind: StoreKind;
  /** The database's provider. */
  provider: Provider;
  db: TestDatabase;
  /** The counting client without the cache, for seeding and for reading the truth. */
  base: TestClient;
  /** The client under test. */
  prisma: CachedClient;
  /** The store behind `prisma`. */
  store: CacheStore;
  prefix: string;
  /** The shared Redis connection (redis beds only). */
  redis: Redis | undefined;
  /** SELECT statements that reached the database since the last `resetSql()`. */
  selects(): number;
  resetSql(): void;
  /** Another cached client on the same database and store kind, e.g. with other options. */
  cached(options?: CachePluginOptions): { prisma: CachedClient; store: CacheStore; prefix: string };
  close(): Promise<void>;
}

export async function createCacheBed(kind: StoreKind, options: CachePluginOptions = {}, target: CacheBedTarget = {}): Promise<CacheBed> {
  const db = await createTestDatabase(target.provider ? { provider: target.provider } : {});
  const base = createTestClient({ url: db.url });
  const redis = kind === "redis" ? createRedis() : undefined;
  await redis?.ping();
  const prefixes: string[] = [];

  const cached = (extra: CachePluginOptions = {}) => {
    const prefix = extra.prefix ?? uniquePrefix(kind);
    prefixes.push(prefix);
    const store = extra.store ?? (redis ? redisStore({ client: redis }) : memoryStore());
    // A generous store timeout: on a loaded CI machine a slow answer would turn an expected hit into a miss.
    // Tests of timeouts pass their own.
    return { prisma: withCache(base.prisma, { timeoutMs: 2_000, ...options, ...extra, prefix, store }, db.provider), store, prefix };
  };
  const main = cached();

  return {
    kind,
    provider: db.provider,
    db,
    base,
    prisma: main.prisma,
    store: main.store,
    prefix: main.prefix,
    redis,
    selects: () => base.sql.selects(),
    resetSql: () => base.sql.reset(),
    cached,
    close: async () => {
      if (redis) {
        for (const prefix of prefixes) await deleteKeysWithPrefix(redis, prefix);
        redis.disconnect();
      }
      await base.close();
      await db.drop();
    },
  };
}
