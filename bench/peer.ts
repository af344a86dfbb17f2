/**
 * The best-known peer, prisma-extension-redis 5, configured as fairly as we can: auto-caching of every read, write
 * invalidation on, and a transformer that keeps Prisma's types (its default JSON cannot encode BigInt and turns
 * Dates into strings). Same ttl as the plugin's default policy, so both serve the same entries for as long.
 */
import type { Redis } from "ioredis";
import { PrismaExtensionRedis } from "prisma-extension-redis";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { Serializer } from "../src/read/serializer.ts";

export function withPeer(client: PrismaClient, redis: Redis, prefix: string) {
  const serializer = new Serializer();
  return client.$extends(
    PrismaExtensionRedis({
      config: {
        ttl: 60,
        stale: 0,
        type: "STRING",
        cacheKey: { prefix },
        auto: { invalidateOnWrite: true, ttl: 60, stale: 0 },
        transformer: { serialize: (data) => serializer.encode(data), deserialize: (data) => serializer.decode(data as string) },
      },
      client: redis,
    }),
  );
}
