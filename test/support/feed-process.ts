/**
 * A separate app process for the change feed's leader tests: a cached client with the feed on the given database,
 * Redis and prefix. Prints `streaming <slot>` once it leads and streams, so a test can SIGKILL it (a leader that dies
 * without giving its lease up). Run with tsx: `tsx test/support/feed-process.ts <databaseUrl> <redisUrl> <prefix>`.
 */
import { Redis } from "ioredis";
import { PrismaPg } from "@prisma/adapter-pg";
import { cachePlugin, postgresChangeFeed, redisStore } from "../../src/index.ts";
import { cacheSchema } from "../../generated/cache/index.ts";
import { PrismaClient } from "../../generated/prisma/client.ts";

const [databaseUrl, redisUrl, prefix] = process.argv.slice(2) as [string, string, string];
const redis = new Redis(redisUrl);
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) }).$extends(
  cachePlugin({
    schema: cacheSchema,
    store: redisStore({ client: redis }),
    prefix,
    onError: () => {},
    changeFeed: postgresChangeFeed({ connectionString: databaseUrl, heartbeatMs: 100, leaseMs: 900, maxRetryMs: 500 }),
  }),
);
const timer = setInterval(() => {
  const feed = prisma.$cache.stats().changeFeed!;
  if (feed.state === "streaming") {
    console.log(`streaming ${feed.slot}`);
    clearInterval(timer);
  }
}, 10);
