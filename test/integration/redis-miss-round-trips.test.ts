/**
 * Round trips of a Redis miss (issue 13): while lookups mostly miss, the lookup takes the lease in its one round
 * trip (the LOOKUP script) and a miss costs that plus the fill, which the read does not wait for; while they mostly
 * hit, a hit is one MGET. Counted on the client, proved with SQL counts; the ORM's answer is the oracle.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { cachePlugin, redisStore } from "../../src/index.ts";
import type { CachedClient } from "../support/cache-bed.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { createRedis, deleteKeysWithPrefix, uniquePrefix } from "../support/redis.ts";

let db: TestDatabase;
let base: TestClient;
let redis: Redis;
const prefix = uniquePrefix("miss-round-trips");
const calls: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  base = createTestClient({ url: db.url });
  redis = createRedis();
  const methods = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const command of ["mget", "evalsha", "eval", "del"]) {
    const original = methods[command]!.bind(redis);
    methods[command] = (...args: unknown[]) => {
      calls.push(command);
      return original(...args);
    };
  }
});

afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
  await base.close();
  await db.drop();
});

describe("Redis misses", () => {
  it("a miss costs two round trips (lookup with the lease, fill) once lookups mostly miss, and waits for one; a hit then is one", async () => {
    const prisma = base.prisma.$extends(cachePlugin({ schema: cacheSchema, store: redisStore({ client: redis }), prefix, timeoutMs: 2_000 })) as unknown as CachedClient;
    const users = await base.prisma.user.createManyAndReturn({ data: Array.from({ length: 40 }, (_, i) => ({ email: `${prefix}-${i}@miss.test` })) });
    const perRead: { waited: number; trips: number; mgets: number; selects: number }[] = [];
    for (const user of users) {
      calls.length = 0;
      const before = base.sql.selects();
      expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      // Round trips the read waited for; its fill goes out after it returned.
      const waited = calls.length;
      await prisma.$cache.settled();
      perRead.push({ waited, trips: calls.length, mgets: calls.filter((call) => call === "mget").length, selects: base.sql.selects() - before });
    }
    // The first misses go through the MGET first (3 round trips, 2 waited for); after a few, the lookup script comes first.
    expect(perRead[0]).toEqual({ waited: 2, trips: 3, mgets: 1, selects: 1 });
    expect(perRead.slice(-10)).toEqual(Array.from({ length: 10 }, () => ({ waited: 1, trips: 2, mgets: 0, selects: 1 })));
    // A hit now: one round trip, no SQL, the same record.
    calls.length = 0;
    const before = base.sql.selects();
    expect(await prisma.user.findUnique({ where: { id: users[0]!.id } })).toEqual(users[0]);
    expect({ trips: calls.length, selects: base.sql.selects() - before }).toEqual({ trips: 1, selects: 0 });
  });

  it("while lookups mostly hit, a hit is one MGET and no script", async () => {
    const store = redisStore({ client: redis });
    const prisma = base.prisma.$extends(cachePlugin({ schema: cacheSchema, store, prefix: `${prefix}-hits`, timeoutMs: 2_000 })) as unknown as CachedClient;
    const user = await base.prisma.user.create({ data: { email: `${prefix}-hot@miss.test` } });
    await prisma.user.findUnique({ where: { id: user.id } });
    await prisma.$cache.settled();
    for (let i = 0; i < 5; i++) {
      calls.length = 0;
      const before = base.sql.selects();
      expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      expect({ calls: [...calls], selects: base.sql.selects() - before }).toEqual({ calls: ["mget"], selects: 0 });
    }
  });
});
