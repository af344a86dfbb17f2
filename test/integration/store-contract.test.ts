/**
 * The store contract suite (test/support/store-contract.ts) against every store: memory, Redis and tiered on the
 * shared Redis (keys under this file's prefix), and Redis and tiered on a private 3-primary Cluster (ports 7110–7112).
 */
import type { Cluster, Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { memoryStore, redisStore, tieredStore, type TieredStore } from "../../src/index.ts";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.ts";
import { createRedis } from "../support/redis.ts";
import { describeStoreContract } from "../support/store-contract.ts";

async function live(...stores: TieredStore[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!stores.every((store) => store.l1Live)) {
    if (Date.now() > deadline) throw new Error("tiered store subscription not live within 10 s");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeStoreContract("memoryStore", async () => ({ store: memoryStore({ maxEntries: 20 }), maxEntries: 20, close: async () => {} }));

/** `del` that works on a Cluster client too (one key per call: the keys may live on different nodes). */
function loser(client: Redis | Cluster) {
  return async (keys: string[]) => {
    for (const key of keys) await client.del(key);
  };
}

describeStoreContract("redisStore", async () => {
  const client = createRedis();
  const other = createRedis();
  return { store: redisStore({ client }), peer: redisStore({ client: other }), loseStamps: loser(client), close: async () => void (client.disconnect(), other.disconnect()) };
});

describeStoreContract(
  "tieredStore",
  async () => {
    const client = createRedis();
    const other = createRedis();
    const channel = `contract:${Math.random().toString(36).slice(2)}`;
    const store = tieredStore({ l1: memoryStore({ maxEntries: 20 }), l2: redisStore({ client }), channel });
    const peer = tieredStore({ l2: redisStore({ client: other }), channel });
    await live(store, peer);
    return { store, peer, loseStamps: loser(client), close: async () => void (client.disconnect(), other.disconnect()) };
  },
  { knownGaps: ["lost stamps"] },
);

let cluster: RedisCluster | undefined;
beforeAll(async () => {
  cluster = await startRedisCluster([7110, 7111, 7112]);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describeStoreContract("redisStore on a 3-primary Cluster", async () => {
  const client = cluster!.client();
  const other = cluster!.client();
  return { store: redisStore({ client }), peer: redisStore({ client: other }), loseStamps: loser(client), close: async () => void (client.disconnect(), other.disconnect()) };
});

describeStoreContract(
  "tieredStore on a 3-primary Cluster",
  async (ns) => {
    const client = cluster!.client();
    const other = cluster!.client();
    // On Cluster the channel carries the namespace's hash tag (sharded pub/sub in the keys' slot).
    const channel = `{${ns}}:invalidate`;
    const store = tieredStore({ l1: memoryStore({ maxEntries: 20 }), l2: redisStore({ client }), channel });
    const peer = tieredStore({ l2: redisStore({ client: other }), channel });
    await live(store, peer);
    return { store, peer, loseStamps: loser(client), close: async () => void (client.disconnect(), other.disconnect()) };
  },
  { knownGaps: ["lost stamps"] },
);
