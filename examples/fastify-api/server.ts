/**
 * Starts the example API:
 *   DATABASE_URL=postgresql://... REDIS_URL=redis://... PORT=3000 npx tsx examples/fastify-api/server.ts
 * The database needs the schema of prisma/migrations (`prisma migrate deploy`).
 */
import { connectFromEnv } from "../shared/prisma.ts";
import { buildApi } from "./app.ts";

const { prisma, close } = connectFromEnv("examples-fastify-api");
// A real app would call its CDN's purge-by-surrogate-key API here.
const app = buildApi({ prisma, purge: (keys) => app.log.info({ keys }, "purge CDN") });
app.addHook("onClose", close);

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: "127.0.0.1" });
console.log(`listening on ${address}: GET /users/:id, GET /posts, PATCH /users/:id, POST /posts, GET /metrics`);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void app.close());
