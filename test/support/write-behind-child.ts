/**
 * A flusher in its own process, for crash tests: `node --import tsx write-behind-child.ts` with DATABASE_URL,
 * REDIS_URL, PREFIX and STOP_AT (`before-commit`, `after-commit`, or empty). At STOP_AT it prints
 * `STOPPED <stage> <batch id>` and hangs, so the test can SIGKILL it exactly there; otherwise it drains every
 * pending increment, prints `DONE <flushes>` and exits.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { PrismaClient } from "../../generated/prisma/client.ts";
import { CounterFlusher } from "../../src/write-behind/flusher.ts";

const stopAt = process.env.STOP_AT ?? "";
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
const redis = new Redis(process.env.REDIS_URL!);
const hang = async (stage: string, batchId: string) => {
  if (stage !== stopAt) return;
  process.stdout.write(`STOPPED ${stage} ${batchId}\n`);
  await new Promise(() => {});
};
const flusher = new CounterFlusher(redis, prisma as never, {
  prefix: process.env.PREFIX!,
  hooks: { beforeCommit: (id) => hang("before-commit", id), afterCommit: (id) => hang("after-commit", id) },
});
const results = await flusher.drain();
process.stdout.write(`DONE ${results.length}\n`);
redis.disconnect();
await prisma.$disconnect();
