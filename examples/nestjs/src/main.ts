/**
 * Starts the example:
 *   npm run generate && npx tsc -p examples/nestjs/tsconfig.json
 *   DATABASE_URL=postgresql://... REDIS_URL=redis://... PORT=3000 node examples/nestjs/dist/examples/nestjs/src/main.js
 * The database needs the schema of prisma/migrations (`prisma migrate deploy`).
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { redisStore } from "../../../src/index.ts";
import { createApp } from "./app.module.ts";

async function main(): Promise<void> {
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const app = await createApp({
    adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }),
    cache: { store: redisStore({ client: redis }), prefix: "examples-nestjs" },
  });
  await app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
  console.log(`listening on ${await app.getUrl()}: GET /users/:id, PATCH /users/:id, GET /cache/stats`);
  process.once("SIGTERM", () => void app.close().finally(() => redis.disconnect()));
}

void main();
