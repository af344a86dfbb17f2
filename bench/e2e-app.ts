/**
 * The end-to-end benchmark's API: a small Fastify app over the bench database, run in a process of its own by
 * bench/e2e.ts. GET /posts/:id reads a post, POST /posts/:id/view counts a view (an update that invalidates it),
 * GET /ceiling/:id answers a fixed post without the database (what the load generator and HTTP alone allow).
 *
 * Environment: DATABASE_URL, REDIS_URL, PORT, E2E_STORE (none | redis | tiered | tiered-wt: tiered with write-through
 * for Post), E2E_PREFIX (the plugin's key prefix),
 * BENCH_SRC=1 (the sources instead of the build).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import Fastify from "fastify";
import { Redis } from "ioredis";
import { cacheSchema } from "../generated/cache/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";

const entry = process.env.BENCH_SRC ? "../src/index.ts" : "../dist/index.js";
const { cachePlugin, memoryStore, redisStore, tieredStore } = (await import(entry)) as typeof import("../src/index.ts");

const store = process.env.E2E_STORE ?? "none";
const prefix = process.env.E2E_PREFIX ?? "perf-e2e";
const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL!, max: 16 }) });
const redis = store === "none" ? undefined : new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const tiered = store.startsWith("tiered") ? tieredStore({ l1: memoryStore({ maxEntries: 50_000 }), l2: redisStore({ client: redis! }), channel: `${prefix}:inv` }) : undefined;
const prisma =
  redis === undefined
    ? base
    : base.$extends(
        cachePlugin({
          schema: cacheSchema,
          store: tiered ?? redisStore({ client: redis }),
          prefix,
          ...(store === "tiered-wt" && { models: { Post: { writes: "write-through" as const } } }),
        }),
      );
const db = prisma as unknown as PrismaClient;

const app = Fastify({ logger: false });
app.get<{ Params: { id: string } }>("/posts/:id", async (request, reply) => {
  const post = await db.post.findUnique({ where: { id: Number(request.params.id) } });
  if (post === null) return reply.code(404).send({ error: "not found" });
  return post;
});
// The harness's own ceiling: the same HTTP work and a post-sized answer, no database, no cache.
const ceilingPost = { id: 1, title: "ceiling", slug: "ceiling", content: "x".repeat(100), published: true, views: 0, authorId: 1, createdAt: new Date(0) };
app.get("/ceiling/:id", async () => ceilingPost);
app.post<{ Params: { id: string } }>("/posts/:id/view", async (request) => {
  const post = await db.post.update({ where: { id: Number(request.params.id) }, data: { views: { increment: 1 } } });
  return { views: post.views };
});

if (tiered) {
  const until = Date.now() + 10_000;
  while (!tiered.l1Live && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
}
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
console.log("listening");

process.on("SIGTERM", async () => {
  await app.close();
  await tiered?.close();
  await base.$disconnect();
  redis?.disconnect();
  process.exit(0);
});
