/**
 * A process with `NODE_DEBUG=prisma-cache`, for the debug log's end-to-end test: `node --import tsx
 * debug-log-child.ts` with DATABASE_URL and PREFIX. It reads a post twice, writes it, reads it again and reads inside
 * a transaction; the debug lines go to stderr. Prints `DONE` and exits.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { cacheSchema } from "../../generated/cache/index.ts";
import { PrismaClient } from "../../generated/prisma/client.ts";
import { cachePlugin } from "../../src/index.ts";

const base = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
const prisma = base.$extends(cachePlugin({ schema: cacheSchema, prefix: process.env.PREFIX! }));
await prisma.post.create({ data: { title: "a", slug: "a" } });
await prisma.post.findUnique({ where: { slug: "a" } });
await prisma.post.findUnique({ where: { slug: "a" } });
await prisma.post.update({ where: { slug: "a" }, data: { views: 1 } });
await prisma.post.findUnique({ where: { slug: "a" } });
await prisma.$transaction(async (tx) => tx.post.count());
process.stdout.write("DONE\n");
await base.$disconnect();
