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
  return {
    nodes,
    startupNodes,
    client: (options = {}) => new Cluster(startupNodes, options),
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
