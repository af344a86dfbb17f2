/**
 * The cached Prisma client every example app uses: the test bed's generated client with the plugin on top, on
 * Postgres and Redis from the environment. Apps take the client as a parameter, so tests hand them one whose SQL
 * they count.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { cacheSchema } from "../../generated/cache/index.ts";
import { PrismaClient } from "../../generated/prisma/client.ts";
import { cachePlugin, redisStore, type CachePluginOptions } from "../../src/index.ts";

/** `base` with the cache plugin last in its `$extends` chain. */
export function withCache(base: PrismaClient, options: Omit<CachePluginOptions, "schema"> = {}) {
  return base.$extends(cachePlugin({ schema: cacheSchema, ...options }));
}

export type CachedPrisma = ReturnType<typeof withCache>;

/** A cached client on `DATABASE_URL` and `REDIS_URL`; `close()` disconnects both. */
export function connectFromEnv(prefix: string): { prisma: CachedPrisma; close: () => Promise<void> } {
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) });
  const prisma = withCache(base, { store: redisStore({ client: redis }), prefix });
  return {
    prisma,
    close: async () => {
      await prisma.$disconnect();
      redis.disconnect();
    },
  };
}
