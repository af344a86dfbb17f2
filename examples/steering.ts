/**
 * The README's "Steering" example, runnable against a real Postgres (memory store, no Redis needed):
 *   DATABASE_URL=postgresql://... npx tsx examples/steering.ts
 * The database needs the schema of prisma/migrations (`prisma migrate deploy`).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { PrismaPg } from "@prisma/adapter-pg";
import { cacheSchema } from "../generated/cache/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cachePlugin } from "../src/index.ts";

const tenant = new AsyncLocalStorage<string>();
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) }).$extends(
  cachePlugin({
    schema: cacheSchema,
    enabled: process.env.CACHE !== "off", // `false`: every read goes to the database, same types
    mode: "allowlist", // only the models below, or calls passing cacheStrategy
    models: { User: { ttl: 30 } }, // a typo such as `Usr` is a type error
    namespace: () => tenant.getStore(), // per-tenant entries; undefined: the shared namespace
    prefix: "steering-example",
  }),
);

const { id } = await prisma.user.upsert({ where: { email: "ada@example.com" }, create: { email: "ada@example.com" }, update: {} });
await tenant.run("acme", async () => {
  await prisma.user.findUnique({ where: { id } }); // database, cached for tenant "acme" only
  await prisma.post.findMany({ cacheStrategy: { ttl: 10 } }); // Post is not listed: cached because the call asks
  await prisma.user.findUnique({ where: { id }, cacheStrategy: { refresh: true } }); // database, stored again
  await prisma.$cache.invalidate({ model: "User", operation: "findUnique", args: { where: { id } } }); // this entry only
  const posts = await prisma.user.findUnique({ where: { id } }).posts(); // fluent API, Prisma's types
  console.log(posts?.length, prisma.$cache.stats());
});

await prisma.$disconnect(); // also closes the store's own connections (a tiered store's subscriber)
