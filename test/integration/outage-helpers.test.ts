/**
 * The outage test helpers do what they say: private redis-servers (stop, SIGSTOP/SIGCONT, SIGKILL, restart on the
 * same port), the TCP proxy (latency, cut, black hole, pause), and the 3-primary Cluster. Ports 7100–7109.
 */
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startRedisCluster, type RedisCluster } from "../support/redis-cluster.ts";
import { startRedisServer, type RedisServer } from "../support/redis.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

const servers: RedisServer[] = [];
const proxies: TcpProxy[] = [];
const clients: { disconnect(): void }[] = [];
const clusters: RedisCluster[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.disconnect();
  for (const proxy of proxies.splice(0)) await proxy.close();
  for (const server of servers.splice(0)) await server.stop();
  for (const cluster of clusters.splice(0)) await cluster.stop();
});

function client(port: number): Redis {
  const redis = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1, retryStrategy: () => 20, commandTimeout: 1_000 });
  redis.on("error", () => {});
  clients.push(redis);
  return redis;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Whether `promise` settled within `ms`, and how. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<"ok" | "error" | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => "ok" as const,
        () => "error" as const,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe("private redis-server", () => {
  it("starts on the given port without persistence, pauses, resumes, restarts empty on the same port, is killed", async () => {
    const server = await startRedisServer({ port: 7100 });
    servers.push(server);
    expect(server.port).toBe(7100);
    const redis = client(7100);
    await redis.set("k", "v");
    expect(await redis.config("GET", "save")).toEqual(["save", ""]);
    expect(await redis.config("GET", "appendonly")).toEqual(["appendonly", "no"]);

    server.pause();
    expect(await settlesWithin(redis.get("k"), 300), "a frozen server answers nothing").toBe("timeout");
    server.resume();
    expect(await redis.get("k")).toBe("v");

    const before = server.pid!;
    await server.restart();
    expect(server.pid).not.toBe(before);
    expect(processExists(before)).toBe(false);
    await expect.poll(() => redis.get("k").catch(() => "error"), { timeout: 5_000 }).toBeNull();

    const pid = server.pid!;
    await server.kill();
    expect(processExists(pid)).toBe(false);
    expect(server.pid).toBeUndefined();
  });
});

describe("TCP proxy", () => {
  it("forwards, adds latency per direction, pauses and resumes in order, black-holes with TCP up, cuts", async () => {
    const server = await startRedisServer({ port: 7101 });
    servers.push(server);
    const proxy = await startTcpProxy(7101, { port: 7102 });
    proxies.push(proxy);
    const redis = client(7102);
    expect(await redis.ping()).toBe("PONG");

    proxy.setLatency({ up: 60, down: 60 });
    const started = performance.now();
    await redis.ping();
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    proxy.setLatency({ up: 0, down: 0 });

    proxy.pause();
    const held = [redis.set("a", "1"), redis.get("a")];
    expect(await settlesWithin(held[1]!, 200)).toBe("timeout");
    proxy.resume();
    expect(await Promise.all(held)).toEqual(["OK", "1"]);

    proxy.blackHole();
    expect(await settlesWithin(redis.get("a"), 300), "nothing comes back").toBe("timeout");
    expect(proxy.connections, "and the connection stays open").toBe(1);
    expect(redis.status).toBe("ready");
    proxy.heal();

    const closed = new Promise((resolve) => redis.once("close", resolve));
    proxy.cutAll();
    await closed;
    await expect.poll(() => redis.ping().catch(() => "error"), { timeout: 5_000 }).toBe("PONG");
  });
});

describe("Redis Cluster", () => {
  it("three primaries share the slots and answer through a cluster client", async () => {
    const cluster = await startRedisCluster([7103, 7104, 7105]);
    clusters.push(cluster);
    const redis = cluster.client();
    clients.push(redis);
    for (let i = 0; i < 30; i++) await redis.set(`key${i}`, String(i));
    const perNode = await Promise.all(cluster.nodes.map((node) => client(node.port).dbsize()));
    expect(perNode.reduce((a, b) => a + b)).toBe(30);
    for (const count of perNode) expect(count).toBeGreaterThan(0);
    expect(await redis.get("key7")).toBe("7");
  });
});
