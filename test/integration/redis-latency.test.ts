/**
 * A slow Redis (a TCP proxy adding latency, ports 7150–7159): a hit must not wait for the further round trips other
 * reads' misses take in the same batch, and each round trip gets its own timeout. Hits are proved by counting SQL;
 * the hit ratio is printed.
 *
 * The issue's case is a 30 ms round trip with the default `timeoutMs` (50): one round trip fits in the timeout, two
 * do not. The proxy runs in the test's own process, so on a loaded 2-core machine its delays and the test's event
 * loop both lag by tens of ms, more than that 20 ms margin; by default the test keeps the ratio at 5x the scale
 * (150 ms round trip, timeoutMs 250). `LATENCY_RTT_MS=30` runs the issue's figures as they are.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULTS } from "../../src/defaults.ts";
import { redisStore } from "../../src/index.ts";
import { createCacheBed, type CacheBed } from "../support/cache-bed.ts";
import { startRedisServer, type RedisServer } from "../support/redis.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

let bed: CacheBed;
let server: RedisServer;
let proxy: TcpProxy;
let client: Redis;
beforeAll(async () => {
  bed = await createCacheBed("memory");
  server = await startRedisServer({ port: 7150 });
  proxy = await startTcpProxy(server.port);
  client = new Redis(proxy.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
  client.on("error", () => {});
  await client.ping();
});
afterAll(async () => {
  client?.disconnect();
  await proxy?.close();
  await server?.stop();
  await bed?.close();
});

const RTT_MS = Number(process.env.LATENCY_RTT_MS ?? 150);
const TIMEOUT_MS = Math.round((RTT_MS * DEFAULTS.timeoutMs) / 30);

const USER_SELECT = /FROM "(public"\.")?User"/;

describe(`Redis at ${RTT_MS} ms round trip, timeoutMs ${TIMEOUT_MS}`, () => {
  it("hits sharing batches with misses are answered after the first round trip: >= 90% hits on cached rows", async () => {
    const store = redisStore({ client });
    const { prisma, prefix } = bed.cached({ store, timeoutMs: TIMEOUT_MS });
    // Warmed by another client of the same namespace, without latency and with a generous timeout (a loaded machine).
    const warmer = bed.cached({ store, prefix }).prisma;
    const users = await Promise.all(Array.from({ length: 30 }, (_, i) => bed.base.prisma.user.create({ data: { email: `latency-${i}@x.test` } })));
    // Warmed without latency, so that only the mixed traffic below meets the slow round trips.
    // Lists, which Prisma never merges into one statement (it does batch findUnique), so each miss is one SELECT.
    const read = (id: number) => prisma.user.findMany({ where: { id } });
    for (const user of users) await warmer.user.findMany({ where: { id: user.id } });
    bed.resetSql();
    for (const user of users) await read(user.id);
    expect(bed.base.sql.count(USER_SELECT), "warm").toBe(0);

    proxy.setLatency({ up: RTT_MS / 2, down: RTT_MS / 2 });
    const rounds = 10;
    let missesAnswered = 0;
    for (let round = 0; round < rounds; round++) {
      // Every batch mixes the cached users with posts never read before (misses: a second round trip for new stamps).
      const reads = [...users.map((user) => read(user.id)), ...Array.from({ length: 10 }, (_, i) => prisma.post.findUnique({ where: { id: 1_000_000 + round * 10 + i } }))];
      const results = await Promise.all(reads);
      results.slice(0, users.length).forEach((found, i) => expect(found).toEqual([users[i]]));
      missesAnswered += results.slice(users.length).filter((found) => found === null).length;
    }
    const reads = rounds * users.length;
    const hitRatio = 1 - bed.base.sql.count(USER_SELECT) / reads;
    console.log(`slow Redis (RTT ${RTT_MS} ms, timeoutMs ${TIMEOUT_MS}): ${(hitRatio * 100).toFixed(1)}% hits on ${reads} reads of cached rows mixed with misses`);
    expect(missesAnswered).toBe(rounds * 10);
    expect(hitRatio).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});
