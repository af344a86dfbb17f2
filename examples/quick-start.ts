/**
 * The README's first example, runnable against a real Postgres and Redis:
 *   DATABASE_URL=postgresql://... REDIS_URL=redis://... npx tsx examples/quick-start.ts
 * The database needs the schema of prisma/migrations (`prisma migrate deploy`).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { cacheSchema } from "../generated/cache/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cachePlugin, redisStore } from "../src/index.ts";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) }).$extends(
  cachePlugin({ schema: cacheSchema, store: redisStore({ client: redis }), ttl: 60, prefix: "quick-start" }),
);

const { id } = await prisma.user.upsert({ where: { email: "ada@example.com" }, create: { email: "ada@example.com" }, update: {} });
await prisma.user.findUnique({ where: { id } }); // database
await prisma.user.findUnique({ where: { id } }); // cache
await prisma.user.update({ where: { id }, data: { name: "Ada" } }); // invalidates, then returns
const user = await prisma.user.findUnique({ where: { id } }); // database: the new name
console.log(user?.name, prisma.$cache.stats());

await prisma.$disconnect();
redis.disconnect();
