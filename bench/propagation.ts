/**
 * `npm run bench` (after bench/run.ts): how long after a write returns in instance A another instance B has applied
 * its invalidation, with the tiered store's default acknowledgement wait and without it (`deliveryWaitMs: 0`). Two
 * app instances (each its own PrismaClient, Redis connection, plugin and L1) share Postgres and Redis. Prints one line
 * per setting; the README's "Consistency" section quotes these figures.
 *
 * Environment: DATABASE_URL (a role that may create databases; default postgresql://postgres@127.0.0.1:5432/postgres),
 * REDIS_URL (default redis://127.0.0.1:6379), BENCH_PROPAGATION_ROUNDS (default 200).
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { cacheSchema } from "../generated/cache/index.ts";
import { cachePlugin, memoryStore, redisStore, type TieredStoreOptions, tieredStore } from "../src/index.ts";
import pg from "pg";
import { databaseUrlFor, dropDatabase, withClient } from "../test/support/database.ts";
import { ensureTemplateDatabase } from "../test/support/global-setup.ts";
import { waitFor } from "../test/support/poll.ts";
import { createTestClient } from "../test/support/prisma.ts";
import { captureSubscribers, formatPropagation, measurePropagation } from "../test/support/propagation.ts";

const SERVER_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const ROUNDS = Number(process.env.BENCH_PROPAGATION_ROUNDS ?? 200);

async function main(): Promise<void> {
  const template = await ensureTemplateDatabase(SERVER_URL);
  const name = `pcp_bench_propagation_${randomBytes(4).toString("hex")}`;
  await withClient(SERVER_URL, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`));
  const db = { url: databaseUrlFor(SERVER_URL, name), drop: () => dropDatabase(SERVER_URL, name) };
  const closers: (() => Promise<void> | void)[] = [];
  const prefix = `bench_propagation_${randomBytes(4).toString("hex")}`;
  try {
    for (const deliveryWaitMs of [undefined, 0]) {
      const label = deliveryWaitMs === undefined ? "default deliveryWaitMs" : `deliveryWaitMs ${deliveryWaitMs}`;
      const channel = `${prefix}:${deliveryWaitMs ?? "default"}:invalidate`;
      const namespace = `${prefix}_${deliveryWaitMs ?? "default"}`;
      const instance = (tiered: Partial<TieredStoreOptions>) => {
        const base = createTestClient({ url: db.url });
        const redis = new Redis(REDIS_URL);
        const subscribers = captureSubscribers(redis);
        const store = tieredStore({ l1: memoryStore({ maxEntries: 1_000 }), l2: redisStore({ client: redis }), channel, ...tiered });
        const prisma = base.prisma.$extends(cachePlugin({ schema: cacheSchema, store, prefix: namespace, timeoutMs: 2_000 }));
        closers.push(async () => {
          await store.close();
          await base.close();
          const keys = await redis.keys(`${namespace}*`);
          if (keys.length > 0) await redis.unlink(...keys);
          redis.disconnect();
        });
        return { prisma, store, subscribers };
      };
      const a = instance(deliveryWaitMs === undefined ? {} : { deliveryWaitMs });
      const b = instance({});
      await waitFor(() => a.store.l1Live && b.store.l1Live, "both L1s live", 10_000);
      const user = await a.prisma.user.create({ data: { email: `${namespace}@propagation.bench` } });
      const report = await measurePropagation({
        channel,
        observer: b.subscribers[0]!,
        rounds: ROUNDS,
        write: (round) => a.prisma.user.update({ where: { id: user.id }, data: { name: `r${round}` } }),
      });
      console.log(formatPropagation(`tiered propagation A -> B (${label})`, report));
    }
  } finally {
    for (const close of closers.reverse()) await close();
    await db.drop();
  }
}

await main();
