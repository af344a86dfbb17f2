/**
 * The tiered store in production conditions, tested on the store protocol directly (two stores = two processes):
 * ioredis `keyPrefix`, Redis losing its data (FLUSHALL), a frozen Redis (SIGSTOP), a reader partitioned with TCP up
 * (the proxy's black hole), and subscribers that never acknowledge. Private servers on ports 7120–7139.
 * Stale windows are printed and asserted loosely (< 2 s); the design bound is the heartbeat deadline (300 ms).
 */
import { randomBytes } from "node:crypto";
import type { Redis, RedisOptions } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { createErrorReporter } from "../../src/error-reporter.ts";
import { CacheDeliveryError, memoryStore, redisStore, tieredStore, type CacheError, type TieredStore, type TieredStoreOptions } from "../../src/index.ts";
import { Metrics } from "../../src/metrics.ts";
import { GuardedStore } from "../../src/stores/guarded-store.ts";
import type { LookupRequest } from "../../src/stores/store.ts";
import { captureSubscribers } from "../support/propagation.ts";
import { createRedis, deleteKeysWithPrefix, redisUrl, startRedisServer, type RedisServer } from "../support/redis.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { startRedisCluster } from "../support/redis-cluster.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const outageOptions: RedisOptions = { retryStrategy: () => 20, maxRetriesPerRequest: 1 };

async function server(port: number): Promise<RedisServer> {
  const made = await startRedisServer({ port });
  cleanups.push(() => made.stop());
  return made;
}

async function proxy(target: number, port: number): Promise<TcpProxy> {
  const made = await startTcpProxy(target, { port });
  cleanups.push(() => made.close());
  return made;
}

function client(url: string, options: RedisOptions = {}): Redis {
  const made = createRedis(url, { ...outageOptions, ...options });
  made.on("error", () => {});
  cleanups.push(() => made.disconnect());
  return made;
}

function tiered(redis: Redis, channel: string, options: Partial<TieredStoreOptions> = {}): TieredStore {
  const store = tieredStore({ l1: memoryStore({ maxEntries: 100 }), l2: redisStore({ client: redis }), channel, ...options });
  cleanups.push(() => store.close());
  return store;
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return performance.now() - started;
}

function namespace() {
  const ns = `t_tiered_${randomBytes(4).toString("hex")}`;
  const request = (id: string): LookupRequest => ({ key: `{${ns}}:e:User:findUnique:${id}`, stamps: [`{${ns}}:s:*`, `{${ns}}:s:r:User:${id}`], stampLifeMs: 60_000 });
  return { ns, channel: `${ns}:invalidate`, request };
}

/** Fills `request` through `writer` and makes `reader` hold it in its L1 (its `lookupNow` answers). */
async function cacheInL1(writer: TieredStore, reader: TieredStore, request: LookupRequest, value: string): Promise<void> {
  const [miss] = await writer.lookup([request]);
  expect(await writer.fill({ key: request.key, stamps: request.stamps, fence: miss!.fence, value, ttlMs: 60_000, swrMs: 0, loadMs: 1 })).toBe(true);
  // Polled: on a loaded machine a heartbeat may be late and lapse L1 for a moment.
  await until(async () => {
    await reader.lookup([request]);
    return reader.lookupNow(request)?.value === value;
  }, "the reader answers from L1");
}

describe("ioredis keyPrefix", () => {
  it("a bump through one process drops the entry from another process's L1 (issue 8 item 6)", async () => {
    const { channel, request, ns } = namespace();
    const keyPrefix = `${ns}:kp:`;
    const a = tiered(client(redisUrl(), { keyPrefix }), channel, { heartbeatDeadlineMs: 5_000 });
    const b = tiered(client(redisUrl(), { keyPrefix }), channel, { heartbeatDeadlineMs: 5_000 });
    cleanups.push(async () => void (await deleteKeysWithPrefix(createRedis(), keyPrefix).then(() => {})));
    await until(() => a.l1Live && b.l1Live, "both live");
    const req = request("1");
    await cacheInL1(a, b, req, "before");
    await a.bump([req.stamps[1]!]);
    expect(b.lookupNow(req), "B's L1 no longer answers once A's bump returned").toBeUndefined();
    expect((await b.lookup([req]))[0]!.value).toBeUndefined();
  });
});

describe("Redis loses its data", () => {
  it("FLUSHALL: every process empties its L1 (issue 8 item 7)", async () => {
    const redis = await server(7120);
    const { channel, request } = namespace();
    const a = tiered(client(redis.url), channel);
    const b = tiered(client(redis.url), channel);
    await until(() => a.l1Live && b.l1Live, "both live");
    const req = request("1");
    await cacheInL1(a, b, req, "before flush");
    await client(redis.url).flushall();
    const ms = await until(() => b.lookupNow(req) === undefined && a.lookupNow(req) === undefined, "both L1s dropped the entry", 3_000);
    console.log(`tiered: L1 emptied ${ms.toFixed(0)} ms after FLUSHALL`);
    expect(ms).toBeLessThan(2_000);
    expect((await b.lookup([req]))[0]!.value, "and Redis has nothing either").toBeUndefined();
  });
});

describe("a stalled Redis or a partitioned reader", () => {
  it("Redis frozen (SIGSTOP): the reader stops serving its L1 within the heartbeat deadline", async () => {
    const redis = await server(7121);
    const { channel, request } = namespace();
    const a = tiered(client(redis.url), channel);
    const b = tiered(client(redis.url), channel);
    await until(() => a.l1Live && b.l1Live, "both live");
    const req = request("1");
    await cacheInL1(a, b, req, "before stall");
    redis.pause();
    cleanups.push(() => redis.resume());
    const ms = await until(() => b.lookupNow(req) === undefined, "B bypasses L1 during the stall", 3_000);
    console.log(`tiered: stale window with Redis frozen (SIGSTOP) ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2_000);
    expect(b.l1Live).toBe(false);
    redis.resume();
    await until(() => b.l1Live, "B is live again once Redis answers", 5_000);
    await cacheInL1(a, b, req, "after stall");
  });

  it("reader partitioned with TCP up (black hole): stale for at most the heartbeat deadline after a write returns, and the writer reports the missing acknowledgement", async () => {
    const redis = await server(7122);
    const hole = await proxy(7122, 7123);
    const { channel, request } = namespace();
    const reported: { error: CacheError; context: object }[] = [];
    const metrics = new Metrics();
    const a = tiered(client(redis.url), channel);
    new GuardedStore(
      a,
      2_000,
      createErrorReporter(metrics, (error, context) => void reported.push({ error, context })),
    );
    const bClient = client(redis.url);
    captureSubscribers(bClient, { port: hole.port });
    const b = tiered(bClient, channel);
    await until(() => a.l1Live && b.l1Live, "both live");
    const req = request("1");
    await cacheInL1(a, b, req, "before partition");

    hole.blackHole();
    await a.bump([req.stamps[1]!]);
    const ms = await until(() => b.lookupNow(req) === undefined, "B bypasses L1 during the partition", 3_000);
    console.log(`tiered: stale window after a write returned, reader black-holed: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(2_000);

    const missing = reported.find(({ error }) => error instanceof CacheDeliveryError);
    expect(missing?.error.code).toBe("DELIVERY_UNCONFIRMED");
    expect(missing?.error).toMatchObject({ channel, expected: 2, missing: 1 });
    expect(metrics.snapshot().unconfirmedDeliveries).toBe(1);
  });
});

describe("Redis Cluster (3 primaries)", () => {
  it("0 stale reads right after a write returns, with the reader subscribed through another node", async () => {
    const cluster = await startRedisCluster([7130, 7131, 7132]);
    cleanups.push(() => cluster.stop());
    const { ns, request } = namespace();
    // On Cluster the channel carries the namespace's hash tag, so the scripts publish to it in the keys' slot.
    const channel = `{${ns}}:invalidate`;
    const writerClient = cluster.client(outageOptions);
    const readerClient = cluster.client(outageOptions);
    cleanups.push(() => void (writerClient.disconnect(), readerClient.disconnect()));
    const a = tiered(writerClient as unknown as Redis, channel);
    const b = tiered(readerClient as unknown as Redis, channel);
    await until(() => a.l1Live && b.l1Live, "both live", 10_000);
    let stale = 0;
    const rounds = 30;
    for (let round = 0; round < rounds; round++) {
      const req = request(`c${round}`);
      await cacheInL1(a, b, req, `v${round}`);
      await a.bump([req.stamps[1]!]);
      if (b.lookupNow(req) !== undefined || (await b.lookup([req]))[0]!.value !== undefined) stale++;
    }
    console.log(`tiered on Cluster: ${stale} stale reads of ${rounds} right after a write returned`);
    expect(stale).toBe(0);
  }, 60_000);

  it("the channel's slot moves to another primary: L1 lapses, the subscriber follows the slot, 0 stale reads after", async () => {
    const cluster = await startRedisCluster([7133, 7134, 7135]);
    cleanups.push(() => cluster.stop());
    const { ns, request } = namespace();
    const channel = `{${ns}}:invalidate`;
    const writerClient = cluster.client(outageOptions);
    const readerClient = cluster.client(outageOptions);
    cleanups.push(() => void (writerClient.disconnect(), readerClient.disconnect()));
    const a = tiered(writerClient as unknown as Redis, channel);
    const b = tiered(readerClient as unknown as Redis, channel);
    await until(() => a.l1Live && b.l1Live, "both live", 10_000);
    await cacheInL1(a, b, request("before"), "v0");

    // Move the slot: IMPORTING on the target, MIGRATING on the source, MIGRATE its keys, then assign it everywhere.
    const nodes = cluster.nodes.map((node) => client(node.url));
    const slot = Number(await nodes[0]!.cluster("KEYSLOT", channel));
    const ids = await Promise.all(nodes.map(async (node) => String(await node.cluster("MYID"))));
    const slots = await nodes[0]!.cluster("SLOTS");
    const range = slots.find(([start, end]) => start <= slot && slot <= end)!;
    const owners = cluster.nodes.map((node) => node.port === range[2]![1]);
    const from = owners.indexOf(true);
    const to = (from + 1) % nodes.length;
    await nodes[to]!.cluster("SETSLOT", slot, "IMPORTING", ids[from]!);
    await nodes[from]!.cluster("SETSLOT", slot, "MIGRATING", ids[to]!);
    for (;;) {
      const keys = (await nodes[from]!.cluster("GETKEYSINSLOT", slot, 100)) as string[];
      if (keys.length === 0) break;
      await nodes[from]!.migrate("127.0.0.1", cluster.nodes[to]!.port, "", 0, 5_000, "KEYS", ...keys);
    }
    for (const node of nodes) await node.cluster("SETSLOT", slot, "NODE", ids[to]!);
    const moved = performance.now();

    // Until then, the old owner's subscribers hear nothing: L1 lapses within the heartbeat deadline (the bound for
    // reads in that window, as for a partitioned reader), then the stores reconnect to the new owner.
    const lapsed = await until(() => !b.l1Live, "B's L1 lapses once heartbeats stop", 5_000);
    await until(() => b.l1Live && a.l1Live, "both live again on the slot's new owner", 10_000);
    console.log(`tiered on Cluster: after the slot moved, L1 lapsed in ${lapsed.toFixed(0)} ms and was live again after ${(performance.now() - moved).toFixed(0)} ms`);
    expect(lapsed).toBeLessThan(2_000);
    let stale = 0;
    for (let round = 0; round < 10; round++) {
      const req = request(`after${round}`);
      await cacheInL1(a, b, req, `v${round}`);
      await a.bump([req.stamps[1]!]);
      if (b.lookupNow(req) !== undefined || (await b.lookup([req]))[0]!.value !== undefined) stale++;
    }
    expect(stale).toBe(0);
  }, 60_000);
});
