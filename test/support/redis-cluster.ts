/**
 * A private Redis Cluster of primaries on loopback ports (no replicas), for tests of the stores on Cluster. Each
 * node is a `redis-server --cluster-enabled yes` in its own temp dir; `redis-cli --cluster create` assigns the
 * slots, and the cluster is ready once every node reports `cluster_state:ok`.
 */
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis, type ClusterOptions } from "ioredis";
import { startRedisServer, type RedisServer } from "./redis.ts";

const run = promisify(execFile);

export interface RedisCluster {
  readonly nodes: RedisServer[];
  /** `{ host, port }` of every primary, as `new Cluster(...)` takes them. */
  readonly startupNodes: { host: string; port: number }[];
  /** A cluster client; the caller disconnects it. */
  client(options?: ClusterOptions): Cluster;
  /** The port of the primary that owns `slot` now. */
  ownerOf(slot: number): Promise<number>;
  /**
   * Moves `slot` to the primary on port `to` as `redis-cli --cluster reshard` does, while clients keep using it:
   * SETSLOT IMPORTING on the target, MIGRATING on the source, MIGRATE its keys in batches, then SETSLOT NODE on
   * the target, the source and the others. Resolves to how many keys moved.
   */
  migrateSlot(slot: number, to: number): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `ports.length` primaries (3 for a real cluster) and waits, up to `deadlineMs`, for `cluster_state:ok`. */
export async function startRedisCluster(ports: readonly number[], deadlineMs = 20_000): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async () => {
    for (const node of nodes.splice(0)) await node.stop();
  };
  try {
    for (const port of ports) {
      const dir = await mkdtemp(join(tmpdir(), `redis-cluster-${port}-`));
      nodes.push(await startRedisServer({ port, dir, args: ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"] }));
    }
    await run("redis-cli", ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"], { timeout: deadlineMs });
    await waitForClusterOk(ports, Date.now() + deadlineMs);
  } catch (error) {
    await stop();
    throw error;
  }
  const startupNodes = ports.map((port) => ({ host: "127.0.0.1", port }));
  const admin = async <T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
    redis.on("error", () => {});
    try {
      return await use(redis);
    } finally {
      redis.disconnect();
    }
  };
  const ownerOf = async (slot: number) => {
    const ranges = await admin(ports[0]!, (redis) => redis.cluster("SLOTS"));
    const range = ranges.find(([first, last]) => slot >= first && slot <= last);
    if (!range) throw new Error(`no node owns slot ${slot}`);
    return Number(range[2]![1]);
  };
  const migrateSlot = async (slot: number, to: number) => {
    const from = await ownerOf(slot);
    if (from === to) return 0;
    const ids = new Map<number, string>();
    for (const port of ports) ids.set(port, String(await admin(port, (redis) => redis.cluster("MYID"))));
    let moved = 0;
    await admin(to, (target) => target.cluster("SETSLOT", slot, "IMPORTING", ids.get(from)!));
    await admin(from, async (source) => {
      await source.cluster("SETSLOT", slot, "MIGRATING", ids.get(to)!);
      for (;;) {
        const keys = (await source.cluster("GETKEYSINSLOT", slot, 100)) as string[];
        if (keys.length === 0) break;
        await source.call("MIGRATE", "127.0.0.1", String(to), "", "0", "5000", "KEYS", ...keys);
        moved += keys.length;
      }
    });
    for (const port of [to, from, ...ports.filter((port) => port !== to && port !== from)]) {
      await admin(port, (redis) => redis.cluster("SETSLOT", slot, "NODE", ids.get(to)!));
    }
    return moved;
  };
  return {
    nodes,
    startupNodes,
    client: (options = {}) => new Cluster(startupNodes, options),
    ownerOf,
    migrateSlot,
    stop,
  };
}

async function waitForClusterOk(ports: readonly number[], deadline: number): Promise<void> {
  for (const port of ports) {
    const redis = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on("error", () => {});
    try {
      await redis.connect();
      for (;;) {
        const info = String(await redis.cluster("INFO"));
        if (info.includes("cluster_state:ok")) break;
        if (Date.now() > deadline) throw new Error(`Redis Cluster node ${port} not ok before the deadline:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      redis.disconnect();
    }
  }
}
