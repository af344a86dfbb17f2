/**
 * The tiered store (in-process L1 in front of Redis, invalidated over pub/sub), seen from the outside: Redis round
 * trips (counted by wrapping each instance's ioredis client), SQL statements (each instance has its own counting
 * PrismaClient), and what reads return. "Instances" are separate PrismaClients with their own plugin and tiered
 * store sharing one Redis, prefix and channel, as separate app processes would.
 */
import { once } from "node:events";
import { createServer, connect, type Socket } from "node:net";
import type { Redis, RedisOptions } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import type { PrismaClient } from "../../generated/prisma/client.ts";
import { cachePlugin, memoryStore, redisStore, tieredStore, type CachePluginOptions, type MemoryStore, type TieredStore, type TieredStoreOptions } from "../../src/index.ts";
import { createCacheBed, type CacheBed, type CachedClient } from "../support/cache-bed.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { captureSubscribers } from "../support/propagation.ts";
import { createRedis, deleteKeysWithPrefix, redisUrl, startRedisServer, uniquePrefix, type RedisServer } from "../support/redis.ts";
import { waitFor } from "../support/poll.ts";

/** MGETs, script calls and DELs one ioredis client sent (each one round trip: no auto-pipelining). */
interface RoundTrips {
  count(command?: string): number;
  reset(): void;
}

function countRoundTrips(client: Redis): RoundTrips {
  const calls: string[] = [];
  const methods = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const command of ["mget", "evalsha", "eval", "del"]) {
    const original = methods[command]!.bind(client);
    methods[command] = (...args: unknown[]) => {
      // The tiered store's heartbeat (a script on its generation key) is background traffic, not a read's.
      if (!(command.startsWith("eval") && String(args[2]).endsWith(":generation"))) calls.push(command);
      return original(...args);
    };
  }
  return {
    count: (command) => calls.filter((call) => command === undefined || call === command).length,
    reset: () => {
      calls.length = 0;
    },
  };
}

/** One app instance: its own PrismaClient (and SQL counter), Redis connection and tiered store. */
interface Instance {
  name: string;
  base: TestClient;
  redis: Redis;
  trips: RoundTrips;
  /** The connection(s) the store subscribed with. */
  subscribers: Redis[];
  store: TieredStore;
  prisma: CachedClient;
  /** Redis round trips (MGETs, script calls and DELs) since the last `reset()`. */
  roundTrips(): number;
  /** Of those, MGETs (the first step of every batch of lookups; a hit needs nothing else). */
  mgets(): number;
  /** Of those, script calls (a lookup's second step when some request missed, a fill, a bump, a write-through). */
  scripts(): number;
  /** SELECTs since the last `reset()`. */
  selects(): number;
  reset(): void;
  l1Hits(): number;
}

interface InstanceOptions {
  prefix: string;
  channel: string;
  /** The Redis server. @default the shared one */
  url?: string;
  redisOptions?: RedisOptions;
  /** Applied to the store's subscriber connection only (e.g. a proxy port). */
  subscriberOverride?: RedisOptions;
  l1?: MemoryStore;
  tiered?: Partial<TieredStoreOptions>;
  plugin?: CachePluginOptions;
}

let bed: CacheBed;
const instances: Instance[] = [];
const prefixes: string[] = [];
const servers: RedisServer[] = [];
const extraRedis: Redis[] = [];

beforeAll(async () => {
  bed = await createCacheBed("redis");
});
afterEach(async () => {
  for (const instance of instances.splice(0)) {
    await instance.store.close();
    instance.redis.disconnect();
    await instance.base.close();
  }
  for (const client of extraRedis.splice(0)) client.disconnect();
  for (const server of servers.splice(0)) await server.stop();
  for (const prefix of prefixes.splice(0)) await deleteKeysWithPrefix(bed.redis!, prefix);
});
afterAll(() => bed?.close());

function namespace(name: string): { prefix: string; channel: string } {
  const prefix = uniquePrefix(name);
  prefixes.push(prefix);
  return { prefix, channel: `${prefix}:invalidate` };
}

function instance(name: string, options: InstanceOptions): Instance {
  const base = createTestClient({ url: bed.db.url });
  const redis = createRedis(options.url ?? redisUrl(), options.redisOptions);
  redis.on("error", () => {}); // outages are provoked on purpose in some tests
  const trips = countRoundTrips(redis);
  const subscribers = captureSubscribers(redis, options.subscriberOverride);
  const store = tieredStore({
    l1: options.l1 ?? memoryStore({ maxEntries: 1_000 }),
    l2: redisStore({ client: redis }),
    channel: options.channel,
    // These tests count L1 hits; a loaded machine must not lapse L1 (the heartbeat has tests of its own).
    heartbeatDeadlineMs: 5_000,
    ...options.tiered,
  });
  const prisma = base.prisma.$extends(cachePlugin({ schema: cacheSchema, store, prefix: options.prefix, timeoutMs: 2_000, ...options.plugin })) as unknown as CachedClient;
  const made: Instance = {
    name,
    base,
    redis,
    trips,
    subscribers,
    store,
    prisma,
    roundTrips: () => trips.count(),
    mgets: () => trips.count("mget"),
    scripts: () => trips.count("evalsha") + trips.count("eval"),
    selects: () => base.sql.selects(),
    reset: () => {
      trips.reset();
      base.sql.reset();
    },
    l1Hits: () => prisma.$cache.stats().l1Hits,
  };
  instances.push(made);
  return made;
}

async function live(...all: Instance[]): Promise<void> {
  await waitFor(() => all.every((one) => one.store.l1Live), "every instance's L1 live", 10_000);
}

/** Reads twice on `instance`; the second must be an L1 hit (no round trip, no SQL). Returns the value. */
async function cacheInL1<T>(instance: Instance, read: (db: PrismaClient) => PromiseLike<T>): Promise<T> {
  const db = instance.prisma as unknown as PrismaClient;
  const first = await read(db);
  // The first read's fill is its own round trip, answered after the read returned.
  await instance.prisma.$cache.settled();
  instance.reset();
  const hits = instance.l1Hits();
  const second = await read(db);
  expect(instance.roundTrips(), `${instance.name}: the second read is an L1 hit (no Redis round trip)`).toBe(0);
  expect(instance.selects(), `${instance.name}: and no SQL`).toBe(0);
  expect(instance.l1Hits()).toBe(hits + 1);
  expect(second).toEqual(first);
  return second;
}

/** `{ cacheStrategy }` for the cached clients, nothing for the uncached one (Prisma rejects unknown arguments). */
function strategy(db: PrismaClient, cacheStrategy: { ttl?: number; swr?: number; tags?: string[] }): {} {
  return db === bed.base.prisma ? {} : { cacheStrategy };
}

/** The keys of cached entries under `prefix`. */
async function entryKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*}:e:*`, "COUNT", 500);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

describe("L1 hits", () => {
  it("an L1 hit makes no Redis round trip and no SQL, and counts in stats().l1Hits", async () => {
    const ns = namespace("l1hit");
    const a = instance("A", ns);
    await live(a);
    const user = await bed.base.prisma.user.create({ data: { email: `${ns.prefix}@l1.test`, name: "one" } });

    a.reset();
    const miss = await a.prisma.user.findUnique({ where: { id: user.id } });
    expect(a.selects()).toBe(1);
    expect(a.l1Hits()).toBe(0);
    await a.prisma.$cache.settled();

    a.reset();
    for (let i = 1; i <= 5; i++) {
      expect(await a.prisma.user.findUnique({ where: { id: user.id } })).toEqual(miss);
      expect(a.prisma.$cache.stats().l1Hits).toBe(i);
    }
    expect(a.roundTrips()).toBe(0);
    expect(a.selects()).toBe(0);
    expect(a.prisma.$cache.stats().hits).toBe(5);
  });

  it("another instance's first read is a Redis hit (one round trip, no SQL) and its next ones are L1 hits", async () => {
    const ns = namespace("l1learn");
    const a = instance("A", ns);
    const b = instance("B", ns);
    await live(a, b);
    const user = await bed.base.prisma.user.create({ data: { email: `${ns.prefix}@l1.test`, name: "one" } });
    const list = (db: PrismaClient) => db.user.findMany({ where: { email: { endsWith: "@l1.test" } }, include: { posts: true }, orderBy: { id: "asc" } });
    await a.prisma.user.findUnique({ where: { id: user.id } });
    await list(a.prisma as unknown as PrismaClient);

    b.reset();
    const [one, many] = await Promise.all([b.prisma.user.findUnique({ where: { id: user.id } }), list(b.prisma as unknown as PrismaClient)]);
    expect(b.mgets(), "both lookups in one round trip").toBe(1);
    expect(b.roundTrips(), "and nothing else: Redis hits need no script").toBe(1);
    expect(b.selects()).toBe(0);
    expect(one).toEqual(await bed.base.prisma.user.findUnique({ where: { id: user.id } }));
    expect(many).toEqual(await list(bed.base.prisma));

    await cacheInL1(b, (db) => db.user.findUnique({ where: { id: user.id } }));
    await cacheInL1(b, list);
  });
});

describe("invalidation messages (issue 8, item 5)", () => {
  it("a stamp whose key holds a newline reaches the other instance's L1 whole", async () => {
    const ns = namespace("framing");
    const a = instance("A", ns);
    const b = instance("B", ns);
    await live(a, b);
    // The unique value is user data and lands in the row stamp's name; a newline must not split the message.
    const email = `${ns.prefix}\nsplit@frame.test`;
    await bed.base.prisma.user.create({ data: { email, name: "before" } });
    const read = (db: PrismaClient) => db.user.findUnique({ where: { email } });
    await cacheInL1(b, read);
    await a.prisma.user.update({ where: { email }, data: { name: "after" } });
    expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: "after" });
  });
});

describe("two instances: a write on A is visible to a read on B started right after it returned", () => {
  interface Case {
    name: string;
    /** The rows and the read of this case, seeded through the uncached client. */
    prepare(s: string): Promise<(db: PrismaClient) => PromiseLike<unknown>>;
    /** One change through instance A (or the uncached client plus an explicit invalidation on A). */
    write(a: Instance, s: string, round: number): Promise<void>;
  }
  const ROUNDS = 25;

  const cases: Case[] = [
    {
      name: "update",
      async prepare(s) {
        const user = await bed.base.prisma.user.create({ data: { email: `${s}@x.test`, name: "0" } });
        return (db) => db.user.findUnique({ where: { id: user.id } });
      },
      async write(a, s, round) {
        await a.prisma.user.update({ where: { email: `${s}@x.test` }, data: { name: `v${round}` } });
      },
    },
    {
      name: "delete",
      async prepare(s) {
        for (let i = 0; i < ROUNDS; i++) await bed.base.prisma.user.create({ data: { email: `${s}-${i}@x.test` } });
        return (db) => db.user.findMany({ where: { email: { startsWith: `${s}-` } }, orderBy: { id: "asc" } });
      },
      async write(a, s, round) {
        await a.prisma.user.delete({ where: { email: `${s}-${round}@x.test` } });
      },
    },
    {
      name: "nested write",
      async prepare(s) {
        const user = await bed.base.prisma.user.create({ data: { email: `${s}@x.test`, posts: { create: { title: "0", slug: s } } } });
        return (db) => db.post.findUnique({ where: { slug: s }, include: { author: true } }).then((post) => [post, user.id]);
      },
      async write(a, s, round) {
        await a.prisma.user.update({ where: { email: `${s}@x.test` }, data: { name: `n${round}`, posts: { update: { where: { slug: s }, data: { title: `t${round}` } } } } });
      },
    },
    {
      name: "$cache.invalidate({ tags })",
      async prepare(s) {
        await bed.base.prisma.post.create({ data: { title: "0", slug: s } });
        return (db) => db.post.findMany({ where: { slug: s }, ...strategy(db, { tags: [s] }) });
      },
      async write(a, s, round) {
        await bed.base.prisma.post.update({ where: { slug: s }, data: { title: `t${round}` } });
        await a.prisma.$cache.invalidate({ tags: [s] });
      },
    },
    {
      name: "$cache.invalidate({ models })",
      async prepare(s) {
        await bed.base.prisma.post.create({ data: { title: "0", slug: s } });
        return (db) => db.post.findUnique({ where: { slug: s } });
      },
      async write(a, s, round) {
        await bed.base.prisma.post.update({ where: { slug: s }, data: { title: `t${round}` } });
        await a.prisma.$cache.invalidate({ models: ["Post"] });
      },
    },
    {
      name: "$cache.invalidateAll()",
      async prepare(s) {
        await bed.base.prisma.post.create({ data: { title: "0", slug: s } });
        return (db) => db.post.findMany({ where: { slug: s }, select: { title: true } });
      },
      async write(a, s, round) {
        await bed.base.prisma.post.update({ where: { slug: s }, data: { title: `t${round}` } });
        await a.prisma.$cache.invalidateAll();
      },
    },
  ];

  it.each(cases)("$name", async ({ prepare, write }) => {
    const ns = namespace("cross");
    const s = ns.prefix;
    const a = instance("A", ns);
    const b = instance("B", ns);
    await live(a, b);
    const read = await prepare(s);
    let changes = 0;

    for (let round = 0; round < ROUNDS; round++) {
      const before = await cacheInL1(b, read);
      await write(a, s, round);
      const after = await read(b.prisma as unknown as PrismaClient);
      const truth = await read(bed.base.prisma);
      expect(after, `round ${round}: B read the current data right after A's write returned`).toEqual(truth);
      if (JSON.stringify(truth) !== JSON.stringify(before)) changes++;
    }
    // Every round did change what the read returns (else the test would prove nothing)...
    expect(changes).toBe(ROUNDS);
  });
});

describe("L1 lifetime and bounds", () => {
  it("an L1 entry never outlives the Redis entry it mirrors (ttl 1 s)", async () => {
    const ns = namespace("l1ttl");
    const a = instance("A", ns);
    const b = instance("B", ns);
    await live(a, b);
    const user = await bed.base.prisma.user.create({ data: { email: `${ns.prefix}@ttl.test` } });
    const read = (db: PrismaClient) => db.user.findUnique({ where: { id: user.id }, ...strategy(db, { ttl: 1 }) });

    await cacheInL1(a, read); // filled by A: A's L1 learned it from the fill
    const [key] = await entryKeys(bed.redis!, ns.prefix);
    expect(key).toBeDefined();
    // B learns it late in its life, when a full ttl counted from now would outlive Redis by half a second.
    await waitFor(async () => (await bed.redis!.pttl(key!)) <= 500, "the Redis entry in the second half of its ttl", 3_000);
    await cacheInL1(b, read);

    await waitFor(async () => (await bed.redis!.exists(key!)) === 0, "the Redis entry expired", 3_000);
    // Within the milliseconds of clock rounding and network latency, both L1s have dropped it too: a read is no
    // longer answered in process. (The first of them refills Redis, so the other may then hit Redis.)
    for (const one of [a, b]) {
      await waitFor(
        async () => {
          one.reset();
          await read(one.prisma as unknown as PrismaClient);
          return one.roundTrips() > 0;
        },
        `${one.name}: a read goes past L1 once Redis has expired the entry`,
        100,
        2,
      );
    }
    expect(a.selects() + b.selects(), "the first read after expiry reached the database").toBe(1);
  });

  it("an L1 entry checked once is checked again after Redis answers with a newer token for one of its stamps", async () => {
    // L1 skips re-checking an entry's tokens while its mirror has not changed; learning a changed token (the stamp
    // moved in Redis without a message reaching this process) is such a change.
    const { prefix, channel } = namespace("l1recheck");
    const redis = createRedis();
    const store = tieredStore({ l2: redisStore({ client: redis }), channel });
    try {
      await waitFor(() => store.l1Live, "L1 live");
      const stamps = [`${prefix}:{t}:s:shared`];
      const first = { key: `${prefix}:{t}:e:first`, stamps, stampLifeMs: 60_000 };
      const [found] = await store.lookup([first]);
      expect(await store.fill({ key: first.key, stamps, fence: found!.fence, value: "old", ttlMs: 60_000, swrMs: 0, loadMs: 1 })).toBe(true);
      expect(store.lookupNow(first)?.value).toBe("old");
      // The stamp moves in Redis alone (no invalidation message); another read under it learns the new token.
      await redis.del(stamps[0]!);
      const [other] = await store.lookup([{ key: `${prefix}:{t}:e:other`, stamps, stampLifeMs: 60_000 }]);
      expect(other!.fence).not.toBe(found!.fence);
      expect(store.lookupNow(first), "the entry filled under the old token").toBeUndefined();
    } finally {
      await store.close();
      redis.disconnect();
    }
  });

  it("L1 holds at most maxEntries entries; older ones become Redis hits, still correct", async () => {
    const ns = namespace("l1max");
    const l1 = memoryStore({ maxEntries: 10 });
    const a = instance("A", { ...ns, l1 });
    await live(a);
    const users = [];
    for (let i = 0; i < 30; i++) users.push(await bed.base.prisma.user.create({ data: { email: `${ns.prefix}-${i}@max.test`, name: `n${i}` } }));
    for (const user of users) await a.prisma.user.findUnique({ where: { id: user.id } });
    await a.prisma.$cache.settled();
    // Issue 8 item 11: the memoryStore given as l1 is the one holding the entries, not a template for its limits.
    expect(l1.size).toBe(10);

    // The 10 filled last are in L1.
    for (const user of users.slice(20)) {
      a.reset();
      expect(await a.prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      expect(a.roundTrips(), `user ${user.name} is an L1 hit`).toBe(0);
    }
    // The 20 before them were evicted from L1: each costs a round trip (a Redis hit: one MGET), but no SQL, and is
    // correct.
    for (const user of users.slice(0, 20)) {
      a.reset();
      expect(await a.prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      expect(a.mgets(), `user ${user.name} is no longer in L1`).toBe(1);
      expect(a.roundTrips(), `user ${user.name} is a Redis hit`).toBe(1);
      expect(a.selects()).toBe(0);
    }
    // Learning those evicted others: no more than 10 entries answer from L1 now.
    a.reset();
    const hits = a.l1Hits();
    for (const user of users) expect(await a.prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
    expect(a.l1Hits() - hits).toBeLessThanOrEqual(10);
    expect(a.selects()).toBe(0);
  });

  it("refuses a memoryStore that already serves another tier or holds entries of its own (issue 8 item 11)", async () => {
    const redis = createRedis();
    const { channel } = namespace("l1twice");
    const tier = (l1: MemoryStore) => tieredStore({ l1, l2: redisStore({ client: redis }), channel });
    const l1 = memoryStore();
    const first = tier(l1);
    try {
      expect(() => tier(l1)).toThrow(expect.objectContaining({ name: "CacheConfigError", field: "tieredStore.l1" }));
      // Used on its own afterwards, it fails its calls (the plugin falls back to the database) rather than share the table.
      await expect(l1.bump(["x"])).rejects.toMatchObject({ name: "CacheConfigError", field: "store" });

      const used = memoryStore();
      await used.fill({ key: "k", stamps: [], fence: "", value: "1", ttlMs: 1_000, swrMs: 0, loadMs: 0 });
      expect(() => tier(used)).toThrow(expect.objectContaining({ field: "tieredStore.l1" }));
    } finally {
      await first.close();
      redis.disconnect();
    }
  });

  it("L1 holds at most maxBytes of entries; older ones become Redis hits, still correct", async () => {
    const ns = namespace("l1bytes");
    const a = instance("A", { ...ns, l1: memoryStore({ maxBytes: 8_000 }) });
    await live(a);
    const users = [];
    // Each entry is a little over 1.5 KB, so 8 KB hold about four.
    for (let i = 0; i < 10; i++) users.push(await bed.base.prisma.user.create({ data: { email: `${ns.prefix}-${i}@bytes.test`, name: `${i}`.padEnd(1_500, "x") } }));
    for (const user of users) await a.prisma.user.findUnique({ where: { id: user.id } });
    await a.prisma.$cache.settled();

    for (const user of users.slice(7)) {
      a.reset();
      expect(await a.prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      expect(a.roundTrips(), `user ${user.id} (filled last) is an L1 hit`).toBe(0);
    }
    for (const user of users.slice(0, 5)) {
      a.reset();
      expect(await a.prisma.user.findUnique({ where: { id: user.id } })).toEqual(user);
      expect(a.mgets(), `user ${user.id} (filled first) is no longer in L1`).toBe(1);
      expect(a.roundTrips(), `user ${user.id} is a Redis hit`).toBe(1);
      expect(a.selects()).toBe(0);
    }
  });
});

/** A TCP proxy in front of a Redis server that can refuse connections, to keep one connection down at will. */
interface Proxy {
  port: number;
  /** Refuses new connections (each is closed at once) until `unblock()`. */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

async function tcpProxy(targetPort: number): Promise<Proxy> {
  let blocked = false;
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    if (blocked) {
      downstream.destroy();
      return;
    }
    const upstream = connect(targetPort, "127.0.0.1");
    sockets.add(downstream).add(upstream);
    const end = () => {
      downstream.destroy();
      upstream.destroy();
      sockets.delete(downstream);
      sockets.delete(upstream);
    };
    for (const socket of [downstream, upstream]) socket.on("error", end).on("close", end);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the proxy has no port");
  return {
    port: address.port,
    block: () => {
      blocked = true;
    },
    unblock: () => {
      blocked = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

describe("when the invalidation subscription drops", () => {
  /** Reconnect quickly and fail commands fast: outages are the point here. */
  const outageOptions: RedisOptions = { retryStrategy: () => 20, maxRetriesPerRequest: 1 };
  const proxies: Proxy[] = [];
  afterEach(async () => {
    for (const proxy of proxies.splice(0)) await proxy.close();
  });

  async function privateServer(): Promise<RedisServer> {
    const server = await startRedisServer();
    servers.push(server);
    return server;
  }

  it("CLIENT KILL TYPE pubsub: B's L1 is flushed and bypassed until it resubscribes, and B never reads stale data", async () => {
    const server = await privateServer();
    const proxy = await tcpProxy(server.port);
    proxies.push(proxy);
    const admin = createRedis(server.url);
    extraRedis.push(admin);
    const ns = namespace("kill");
    const options = { ...ns, url: server.url, redisOptions: outageOptions, plugin: { timeoutMs: 500 } };
    const a = instance("A", options);
    // B's subscriber reaches Redis through the proxy, so the test can keep it from reconnecting.
    const b = instance("B", { ...options, subscriberOverride: { port: proxy.port } });
    await live(a, b);
    const user = await bed.base.prisma.user.create({ data: { email: `${ns.prefix}@kill.test`, name: "v0" } });
    const read = (db: PrismaClient) => db.user.findUnique({ where: { id: user.id } });
    const list = (db: PrismaClient) => db.user.findMany({ where: { email: user.email } });
    await cacheInL1(b, read);
    await cacheInL1(b, list);

    proxy.block();
    const killed = (await admin.client("KILL", "TYPE", "pubsub")) as number;
    expect(killed).toBeGreaterThanOrEqual(2);
    await waitFor(() => !b.store.l1Live, "B notices its subscription dropped");
    await waitFor(() => a.store.l1Live, "A resubscribes", 10_000);

    // A writes; the message never reaches B. B must not answer from L1.
    for (let round = 1; round <= 5; round++) {
      await a.prisma.user.update({ where: { id: user.id }, data: { name: `v${round}` } });
      b.reset();
      const hits = b.l1Hits();
      expect(await read(b.prisma as unknown as PrismaClient)).toEqual(await read(bed.base.prisma));
      expect(await list(b.prisma as unknown as PrismaClient)).toEqual(await list(bed.base.prisma));
      // Reads keep working through Redis (L2 hits after the first), but none is an L1 hit.
      expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: `v${round}` });
      expect(b.l1Hits()).toBe(hits);
      // Two misses (each an MGET, the lookup script, which takes the lease, and a fill) and a Redis hit (an MGET).
      expect(b.mgets()).toBe(3);
      expect(b.scripts()).toBe(4);
      expect(b.roundTrips()).toBe(7);
      expect(b.store.l1Live).toBe(false);
    }

    proxy.unblock();
    await live(b);
    // Live again: fresh after the gap, and L1 serves again.
    expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: "v5" });
    await cacheInL1(b, read);
    await a.prisma.user.update({ where: { id: user.id }, data: { name: "after" } });
    expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: "after" });
    expect(await list(b.prisma as unknown as PrismaClient)).toEqual(await list(bed.base.prisma));
  });

  it("a write made while the writer's own subscription is down is not served stale by another instance's L1", async () => {
    const server = await privateServer();
    const proxy = await tcpProxy(server.port);
    proxies.push(proxy);
    const admin = createRedis(server.url);
    extraRedis.push(admin);
    const ns = namespace("writerdown");
    const options = { ...ns, url: server.url, redisOptions: outageOptions, plugin: { timeoutMs: 500 } };
    // A's subscriber goes through the proxy, so A alone can be kept from resubscribing; B stays live.
    const a = instance("A", { ...options, subscriberOverride: { port: proxy.port } });
    const b = instance("B", options);
    await live(a, b);
    const user = await bed.base.prisma.user.create({ data: { email: `${ns.prefix}@writerdown.test`, name: "v0" } });
    const read = (db: PrismaClient) => db.user.findUnique({ where: { id: user.id } });

    proxy.block();
    await admin.client("KILL", "TYPE", "pubsub");
    await waitFor(() => !a.store.l1Live, "A notices its subscription dropped");
    await live(b);

    let stale = 0;
    for (let round = 1; round <= 25; round++) {
      await cacheInL1(b, read);
      await a.prisma.user.update({ where: { id: user.id }, data: { name: `v${round}` } });
      const seen = await read(b.prisma as unknown as PrismaClient);
      if (seen?.name !== `v${round}`) stale++;
    }
    expect(stale, "reads on B, started right after A's write returned, that saw the previous name").toBe(0);
  });

  it("Redis restart: both L1s are flushed and bypassed, reads and writes keep working, nothing stale during or after", async () => {
    const server = await privateServer();
    const ns = namespace("restart");
    const options = { ...ns, url: server.url, redisOptions: outageOptions, plugin: { timeoutMs: 300 } };
    const a = instance("A", options);
    const b = instance("B", options);
    await live(a, b);
    const user = await bed.base.prisma.user.create({ data: { email: `${ns.prefix}@restart.test`, name: "v0" } });
    const read = (db: PrismaClient) => db.user.findUnique({ where: { id: user.id } });
    await cacheInL1(a, read);
    await cacheInL1(b, read);

    await server.stop();
    await waitFor(() => !a.store.l1Live && !b.store.l1Live, "both subscriptions dropped");

    // During the outage: reads answer from the database, writes succeed, nothing stale.
    expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: "v0" });
    await a.prisma.user.update({ where: { id: user.id }, data: { name: "during" } });
    b.reset();
    expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: "during" });
    expect(b.selects()).toBeGreaterThan(0);
    expect(await read(a.prisma as unknown as PrismaClient)).toMatchObject({ name: "during" });

    await server.restart();
    await live(a, b);

    expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: "during" });
    expect(await read(a.prisma as unknown as PrismaClient)).toMatchObject({ name: "during" });
    for (let round = 1; round <= 5; round++) {
      await a.prisma.user.update({ where: { id: user.id }, data: { name: `after${round}` } });
      expect(await read(b.prisma as unknown as PrismaClient)).toMatchObject({ name: `after${round}` });
    }
    // The L1s serve again once the invalidation A's outage left pending has been applied.
    await waitFor(
      async () => {
        b.reset();
        await read(b.prisma as unknown as PrismaClient);
        return b.roundTrips() === 0 && b.selects() === 0;
      },
      "B serves from L1 again",
      10_000,
      20,
    );
    expect(await read(b.prisma as unknown as PrismaClient)).toEqual(await read(bed.base.prisma));
  });
});
