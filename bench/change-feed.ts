/**
 * Workload 5 of `npm run bench`: the Postgres change feed, on a private Postgres with wal_level=logical (port 55434,
 * started and stopped here) and the shared Redis.
 *
 * - Lag: a row is cached, a plain `pg` client (which the plugin never sees) commits an UPDATE of it, and the cached
 *   read is polled until it returns the new value: commit → first fresh cached read, p50/p99.
 * - Consumer cost: `psql` (another process, so its CPU is not counted) commits 10 transactions of 1,000 single-row
 *   UPDATEs each (DO blocks); this process's CPU time until the feed has applied them all, per 1,000 changes.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cacheSchema } from "../generated/cache/index.ts";
import type * as Plugin from "../src/index.ts";
import { createMigratedDatabase, startPrivatePostgres } from "../test/support/private-postgres.ts";

const PORT = 55434;
const LAG_SAMPLES = 300;
const BULK_TRANSACTIONS = 10;
const ROWS_PER_TRANSACTION = 1_000;

export interface ChangeFeedBench {
  lag: { samples: number; p50Ms: number; p99Ms: number; maxMs: number; heartbeatLagMs: number | undefined };
  cost: { changes: number; cpuMsPer1000: number; wallMsPer1000: number; stampsAdvanced: number };
}

export async function changeFeedBench(plugin: typeof Plugin, redisUrl: string): Promise<ChangeFeedBench> {
  const server = await startPrivatePostgres({ port: PORT });
  const redis = new Redis(redisUrl);
  const prefix = `bench_cf_${Date.now().toString(36)}`;
  let base: PrismaClient | undefined;
  let oob: pg.Client | undefined;
  let prisma: ReturnType<typeof cached> | undefined;
  function cached(client: PrismaClient, connectionString: string) {
    return client.$extends(
      plugin.cachePlugin({
        schema: cacheSchema,
        store: plugin.redisStore({ client: redis }),
        prefix,
        changeFeed: plugin.postgresChangeFeed({ connectionString, heartbeatMs: 200 }),
      }),
    );
  }
  try {
    const url = await createMigratedDatabase(server, "bench");
    base = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
    oob = new pg.Client({ connectionString: url });
    await oob.connect();
    await oob.query(`INSERT INTO "Post" (title, slug, views) SELECT 'p' || g, 'p' || g, 0 FROM generate_series(1, $1) g`, [ROWS_PER_TRANSACTION]);
    prisma = cached(base, url);
    const feed = prisma;
    await waitFor(() => feed.$cache.stats().changeFeed?.state === "streaming");

    // Lag: commit → first fresh cached read.
    const lags: number[] = [];
    for (let i = 1; i <= LAG_SAMPLES; i++) {
      const id = 1 + (i % 50);
      await prisma.post.findUnique({ where: { id } });
      await prisma.post.findUnique({ where: { id } }); // cached now (unless a previous bump was still in flight)
      const { rows } = await oob.query<{ views: number }>(`UPDATE "Post" SET views = views + 1 WHERE id = $1 RETURNING views`, [id]);
      const committed = performance.now();
      const expected = rows[0]!.views;
      for (;;) {
        const post = await prisma.post.findUnique({ where: { id } });
        if (post?.views === expected) break;
        if (performance.now() - committed > 10_000) throw new Error(`the cached read of post ${id} stayed stale for 10 s`);
      }
      lags.push(performance.now() - committed);
    }
    lags.sort((a, b) => a - b);
    const at = (q: number) => round(lags[Math.min(lags.length - 1, Math.floor(q * lags.length))]!);

    // Consumer cost: changes committed by another process, this process's CPU until they are applied.
    const before = prisma.$cache.stats().changeFeed!;
    const cpu = process.cpuUsage();
    const started = performance.now();
    // Each DO block is one transaction of single-row UPDATEs (one change each in the WAL).
    const block = `DO $$ BEGIN FOR i IN 1..${ROWS_PER_TRANSACTION} LOOP UPDATE "Post" SET views = views + 1 WHERE id = i; END LOOP; END $$;`;
    const statements = Array.from({ length: BULK_TRANSACTIONS }, () => block).join("\n");
    await promisify(execFile)("psql", ["-q", "-h", "127.0.0.1", "-p", String(PORT), "-U", "postgres", "-d", "bench", "-c", statements], { maxBuffer: 1 << 20 });
    const changes = BULK_TRANSACTIONS * ROWS_PER_TRANSACTION;
    await waitFor(() => feed.$cache.stats().changeFeed!.changes - before.changes >= changes, 60_000);
    // The last batch of stamps may still be in flight: a row the last transaction changed reads fresh once it landed.
    const last = (await oob.query<{ views: number }>(`SELECT views FROM "Post" WHERE id = $1`, [ROWS_PER_TRANSACTION])).rows[0]!.views;
    while ((await prisma.post.findUnique({ where: { id: ROWS_PER_TRANSACTION } }))?.views !== last) {
      if (performance.now() - started > 60_000) throw new Error("change feed bench: the bulk changes were not applied within 60 s");
    }
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const after = prisma.$cache.stats().changeFeed!;
    return {
      lag: {
        samples: lags.length,
        p50Ms: at(0.5),
        p99Ms: at(0.99),
        maxMs: round(lags[lags.length - 1]!),
        heartbeatLagMs: after.heartbeatLagMs === undefined ? undefined : round(after.heartbeatLagMs),
      },
      cost: {
        changes,
        cpuMsPer1000: round((used.user + used.system) / 1000 / (changes / 1000)),
        wallMsPer1000: round(wallMs / (changes / 1000)),
        stampsAdvanced: after.stampsAdvanced - before.stampsAdvanced,
      },
    };
  } finally {
    await prisma?.$disconnect().catch(() => {});
    await base?.$disconnect().catch(() => {});
    await oob?.end().catch(() => {});
    const keys = await redis.keys(`{${prefix}}*`);
    if (keys.length > 0) await redis.unlink(...keys);
    redis.disconnect();
    await server.stop();
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

async function waitFor(condition: () => boolean, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("change feed bench: timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
