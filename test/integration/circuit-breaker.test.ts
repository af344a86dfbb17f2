/**
 * The store guard's circuit breaker, through the plugin on a private redis-server (ports 7140–7149): a frozen Redis
 * (SIGSTOP) costs `timeoutMs` for a few reads only, then reads skip it; once Redis answers again, pending
 * invalidations are applied at once and hits resume. Figures are printed; bounds are loose.
 */
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { redisStore, type CacheError, type CacheErrorContext } from "../../src/index.ts";
import { createCacheBed, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { startRedisServer } from "../support/redis.ts";

let bed: CacheBed;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  bed = await createCacheBed("memory");
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => bed?.close());

async function setup(port: number, timeoutMs: number) {
  const server = await startRedisServer({ port });
  cleanups.push(() => server.stop());
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 20 });
  client.on("error", () => {});
  cleanups.push(() => client.disconnect());
  const reported: { error: CacheError; context: CacheErrorContext }[] = [];
  const { prisma } = bed.cached({ store: redisStore({ client }), timeoutMs, onError: (error, context) => void reported.push({ error, context }) });
  const user = await bed.base.prisma.user.create({ data: { email: `breaker-${port}-${Date.now()}@x.test`, name: "before" } });
  return { server, client, prisma, user, reported };
}

/** Reads `id` until a read is a cache hit; resolves to how long that took, in ms. */
async function untilHit(prisma: CachedClient, id: number, deadlineMs = 10_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const hits = prisma.$cache.stats().hits;
    await prisma.user.findUnique({ where: { id } });
    if (prisma.$cache.stats().hits > hits) return performance.now() - started;
    if (performance.now() - started > deadlineMs) throw new Error(`no cache hit within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("circuit breaker", () => {
  it("Redis frozen: after a few timeouts, reads skip Redis (no wait) and stay correct; the opening is reported once", async () => {
    const timeoutMs = 400;
    const { server, prisma, user, reported } = await setup(7140, timeoutMs);
    await untilHit(prisma, user.id);
    server.pause();
    cleanups.push(() => server.resume());
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      times.push(performance.now() - started);
    }
    const slow = times.filter((ms) => ms >= timeoutMs).length;
    const open = times.slice(5);
    console.log(`breaker: ${slow} of 20 reads waited for the timeout; the last 15 took mean ${(open.reduce((a, b) => a + b) / open.length).toFixed(2)} ms`);
    expect(slow, "only the reads before the circuit opened wait for timeoutMs").toBeLessThanOrEqual(3);
    for (const ms of open) expect(ms).toBeLessThan(timeoutMs / 2);
    expect(reported.filter(({ context }) => context.operation === "circuit")).toHaveLength(1);
    expect(prisma.$cache.stats()).toMatchObject({ circuitOpen: true, circuitOpenings: 1 });
    server.resume();
    await expect.poll(() => prisma.$cache.stats().circuitOpen, { timeout: 5_000, interval: 10 }).toBe(false);
  });

  it("circuitBreaker: false: every read against a frozen Redis waits for timeoutMs, and nothing opens", async () => {
    const timeoutMs = 100;
    const { server, client } = await setup(7142, timeoutMs);
    const { prisma } = bed.cached({ store: redisStore({ client }), timeoutMs, circuitBreaker: false, onError: () => {} });
    const user = await bed.base.prisma.user.create({ data: { email: `no-breaker-${Date.now()}@x.test` } });
    server.pause();
    cleanups.push(() => server.resume());
    let slow = 0;
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      if (performance.now() - started >= timeoutMs) slow++;
    }
    expect(slow).toBe(6);
    expect(prisma.$cache.stats()).toMatchObject({ circuitOpen: false, circuitOpenings: 0 });
  });

  it("Redis restarted empty after an outage with a write in it: hits resume within 1 s of Redis answering, never stale", async () => {
    const { server, client, prisma, user } = await setup(7141, 300);
    await untilHit(prisma, user.id);
    await server.stop();
    for (let i = 0; i < 5; i++) await prisma.user.findUnique({ where: { id: user.id } });
    const updated = await prisma.user.update({ where: { id: user.id }, data: { name: "during outage" } });
    // Long enough for the invalidator's backoff to grow (it doubles from 50 ms to 5 s).
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await server.restart();
    const answering = performance.now();
    await expect.poll(() => client.status, { timeout: 5_000, interval: 5 }).toBe("ready");
    const ms = await untilHit(prisma, user.id);
    const total = performance.now() - answering;
    console.log(`breaker: hits resumed ${total.toFixed(0)} ms after Redis answered (${ms.toFixed(0)} ms after the client was ready)`);
    expect(total).toBeLessThan(1_000);
    expect(await prisma.user.findUnique({ where: { id: user.id } })).toEqual(updated);
  });
});
