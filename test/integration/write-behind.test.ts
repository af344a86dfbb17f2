import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheConfigError } from "../../src/errors.ts";
import { CounterFlusher } from "../../src/write-behind/flusher.ts";
import { IncrementRecorder } from "../../src/write-behind/recorder.ts";
import { writeBehind } from "../../src/write-behind/write-behind.ts";
import { type AofRedis, startAofRedis } from "../support/aof-redis.ts";
import { createTestDatabase, type TestDatabase, withClient } from "../support/database.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { cachePlugin, memoryStore } from "../../src/index.ts";
import { cacheSchema } from "../../generated/cache/index.ts";
import { uniquePrefix } from "../support/redis.ts";

const CHILD = fileURLToPath(new URL("../support/write-behind-child.ts", import.meta.url));

let db: TestDatabase;
let base: TestClient;
let server: AofRedis;
let redis: Redis;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  db = await createTestDatabase();
  base = createTestClient({ url: db.url });
  server = await startAofRedis();
  redis = new Redis(server.url);
  // The Redis restart below makes the connection fail for a moment; ioredis reconnects by itself.
  redis.on("error", () => {});
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  redis?.disconnect();
  await server?.destroy();
  await base?.close();
  await db?.drop();
});

async function seedPosts(count: number, tag: string): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push((await base.prisma.post.create({ data: { title: `p${i}`, slug: `${tag}-${i}` } })).id);
  return ids;
}

async function views(ids: number[]): Promise<Map<number, number>> {
  const rows = await base.prisma.post.findMany({ where: { id: { in: ids } }, select: { id: true, views: true } });
  return new Map(rows.map((row) => [row.id, row.views]));
}

/** Records `count` random increments and returns what each row must end up with. */
async function incrementRandomly(recorder: IncrementRecorder, ids: number[], count: number, expected: Map<number, number>): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = ids[i % ids.length]!;
    const by = 1 + (i % 7);
    await recorder.increment({ model: "Post", where: { id }, field: "views", by });
    expected.set(id, (expected.get(id) ?? 0) + by);
  }
}

/** Runs the child flusher; resolves with its first line, and the process (still running if it stopped on a hook). */
function runChild(prefix: string, stopAt: string): Promise<{ line: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
    env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: server.url, PREFIX: prefix, STOP_AT: stopAt },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let out = "";
  let err = "";
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (chunk) => {
      out += chunk.toString();
      const newline = out.indexOf("\n");
      if (newline >= 0) resolve({ line: out.slice(0, newline), child });
    });
    child.stderr!.on("data", (chunk) => {
      err += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`flusher child exited (${code}) before printing: ${err.slice(-2000)}`)));
  });
}

async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe("write-behind counters", () => {
  it("applies the sum of every increment once, one update per counter and batch", async () => {
    const prefix = uniquePrefix("wb-sum");
    const ids = await seedPosts(5, prefix);
    const recorder = new IncrementRecorder(redis, prefix, ["Post"]);
    const expected = new Map<number, number>();
    await incrementRandomly(recorder, ids, 200, expected);
    // One field per counter, however many increments it had.
    expect(await redis.hlen(`{${prefix}}:wb:pending`)).toBe(5);

    const flusher = new CounterFlusher(redis, base.prisma as never, { prefix });
    const results = await flusher.drain();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ applied: true, counters: 5, missing: [] });
    expect(await views(ids)).toEqual(expected);
    expect(await flusher.drain()).toEqual([]);
  });

  it("survives a flusher killed before and after its commit, and a Redis SIGKILL and restart with AOF", async () => {
    const prefix = uniquePrefix("wb-crash");
    const ids = await seedPosts(8, prefix);
    const recorder = new IncrementRecorder(redis, prefix, ["Post"]);
    const expected = new Map<number, number>();

    // 1. Killed inside the transaction, after its updates: the database rolls them back.
    await incrementRandomly(recorder, ids, 300, expected);
    const first = await runChild(prefix, "before-commit");
    expect(first.line).toMatch(/^STOPPED before-commit /);
    await sigkill(first.child);
    expect([...(await views(ids)).values()].every((v) => v === 0)).toBe(true);

    // 2. Killed after the commit, before acknowledging in Redis: the batch stays in flight, already applied.
    const second = await runChild(prefix, "after-commit");
    expect(second.line).toMatch(/^STOPPED after-commit /);
    const committedBatch = second.line.split(" ")[2]!;
    await sigkill(second.child);
    expect(await views(ids)).toEqual(expected);
    expect(await redis.get(`{${prefix}}:wb:batch-id`)).toBe(committedBatch);

    // More increments arrive meanwhile; then Redis itself is killed and restarted on the same dir.
    await incrementRandomly(recorder, ids, 250, expected);
    await server.kill();
    await server.start();
    await incrementRandomly(recorder, ids, 150, expected);

    // 3. A healthy flusher: the in-flight batch is found in the flush log (applies nothing), then the rest applies.
    const third = await runChild(prefix, "");
    expect(third.line).toBe("DONE 2");
    await new Promise((resolve) => (third.child.exitCode !== null ? resolve(null) : third.child.once("exit", resolve)));
    expect(await views(ids)).toEqual(expected);
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    const stored = await base.prisma.post.aggregate({ where: { id: { in: ids } }, _sum: { views: true } });
    expect(stored._sum.views).toBe(total);
    const log = await withClient(db.url, (client) => client.query(`SELECT count(*)::int AS n FROM "_prisma_cache_flush_log" WHERE "batch_id" = $1`, [committedBatch]));
    expect(log.rows[0].n).toBe(1);
  });

  it("reports increments of a row that no longer exists and applies the rest", async () => {
    const prefix = uniquePrefix("wb-missing");
    const [kept, gone] = await seedPosts(2, prefix);
    const recorder = new IncrementRecorder(redis, prefix, ["Post"]);
    // The missing row first (a small Redis hash keeps insertion order): its P2025 must not abort the transaction.
    await recorder.increment({ model: "Post", where: { id: gone! }, field: "views" });
    await recorder.increment({ model: "Post", where: { id: kept! }, field: "views", by: 3 });
    await base.prisma.post.delete({ where: { id: gone! } });
    const [result] = await new CounterFlusher(redis, base.prisma as never, { prefix }).drain();
    expect(result!.missing).toEqual([JSON.stringify(["Post", "views", { id: gone }])]);
    expect((await views([kept!])).get(kept!)).toBe(3);
  });

  it("lets one process at a time hold the flusher lease, and flushes on its interval", async () => {
    const prefix = uniquePrefix("wb-lease");
    const [id] = await seedPosts(1, prefix);
    const one = writeBehind({ redis, client: base.prisma as never, prefix, models: ["Post"], flushIntervalMs: 50 });
    const two = writeBehind({ redis, client: base.prisma as never, prefix, models: ["Post"], flushIntervalMs: 50 });
    try {
      await one.increment({ model: "Post", where: { id: id! }, field: "views", by: 5 });
      const deadline = Date.now() + 20_000;
      while ((await views([id!])).get(id!) !== 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await views([id!])).get(id!)).toBe(5);
      expect([await one.flusher.holdLease(), await two.flusher.holdLease()].filter(Boolean)).toHaveLength(1);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it("flushed through the cached client, invalidates the cached reads of the rows it updates", async () => {
    const prefix = uniquePrefix("wb-cached");
    const [id] = await seedPosts(1, prefix);
    const cached = base.prisma.$extends(cachePlugin({ schema: cacheSchema, store: memoryStore(), prefix }));
    expect((await cached.post.findUnique({ where: { id: id! } }))?.views).toBe(0);
    base.sql.reset();
    expect((await cached.post.findUnique({ where: { id: id! } }))?.views).toBe(0);
    expect(base.sql.selects()).toBe(0);
    await new IncrementRecorder(redis, prefix).increment({ model: "Post", where: { id: id! }, field: "views", by: 4 });
    await new CounterFlusher(redis, cached as never, { prefix }).drain();
    expect((await cached.post.findUnique({ where: { id: id! } }))?.views).toBe(4);
  });

  it("without persistence, a Redis restart loses the increments not yet flushed (why AOF is required)", async () => {
    const volatile = await startAofRedis({ persistence: false });
    const client = new Redis(volatile.url);
    client.on("error", () => {});
    try {
      const prefix = uniquePrefix("wb-volatile");
      const [id] = await seedPosts(1, prefix);
      await new IncrementRecorder(client, prefix).increment({ model: "Post", where: { id: id! }, field: "views", by: 10 });
      await volatile.kill();
      await volatile.start();
      expect(await new CounterFlusher(client, base.prisma as never, { prefix }).drain()).toEqual([]);
      expect((await views([id!])).get(id!)).toBe(0);
    } finally {
      client.disconnect();
      await volatile.destroy();
    }
  });

  it("rejects increments it cannot apply, naming the field", async () => {
    const recorder = new IncrementRecorder(redis, uniquePrefix("wb-bad"), ["Post"]);
    await expect(recorder.increment({ model: "Nope", where: { id: 1 }, field: "views" })).rejects.toThrow(CacheConfigError);
    await expect(recorder.increment({ model: "Post", where: {}, field: "views" })).rejects.toThrow(/increment\(\).where/);
    await expect(recorder.increment({ model: "Post", where: { id: 1 }, field: "views", by: 1.5 })).rejects.toThrow(/increment\(\).by/);
  });
});
