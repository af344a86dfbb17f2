/**
 * A JSON route served through the cache and a Prometheus `/metrics` route that serves prom-client's registry and
 * the cache's metrics together; `withCacheInfo()` gives the route its `Cache-Control` and `X-Cache` headers.
 *   DATABASE_URL=postgresql://... REDIS_URL=redis://... npx tsx examples/metrics-route.ts
 *   curl localhost:3000/posts; curl localhost:3000/metrics
 * The database needs the schema of prisma/migrations (`prisma migrate deploy`).
 */
import { createServer, type Server } from "node:http";
import { pathToFileURL } from "node:url";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { collectDefaultMetrics, Counter, Registry } from "prom-client";
import { cacheSchema } from "../generated/cache/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cacheMetrics, cachePlugin, redisStore, type CachePluginOptions } from "../src/index.ts";

/** The cached client this app takes. */
export type CachedPrisma = ReturnType<typeof withCache>;

export function withCache(prisma: PrismaClient, options: CachePluginOptions) {
  return prisma.$extends(cachePlugin({ schema: cacheSchema, ...options }));
}

/** The app: `GET /posts` (cached), `GET /metrics` (Prometheus). Closing the server stops recording metrics. */
export function createApp(prisma: CachedPrisma): Server {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const requests = new Counter({ name: "http_requests_total", help: "HTTP requests by route.", labelNames: ["route"], registers: [register] });
  const cache = cacheMetrics();

  const server = createServer(async (request, response) => {
    try {
      if (request.url === "/metrics") {
        requests.inc({ route: "/metrics" });
        response.writeHead(200, { "content-type": register.contentType });
        response.end((await register.metrics()) + cache.prometheus());
        return;
      }
      if (request.url === "/posts") {
        requests.inc({ route: "/posts" });
        const { data, info } = await prisma.post.findMany({ where: { published: true }, orderBy: { id: "asc" } }).withCacheInfo();
        // What the cache knows is what an HTTP cache may be told: how long the result stays fresh.
        const maxAge = info.status === "bypass" ? 0 : Math.max(0, Math.floor(info.ttlMs / 1000));
        response.writeHead(200, { "content-type": "application/json", "cache-control": `max-age=${maxAge}`, "x-cache": info.status });
        response.end(JSON.stringify(data));
        return;
      }
      response.writeHead(404).end();
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  server.on("close", () => cache.close());
  return server;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  const prisma = withCache(new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) }), {
    store: redisStore({ client: redis }),
    prefix: "metrics-example",
  });
  const port = Number(process.env.PORT ?? 3000);
  createApp(prisma).listen(port, () => console.log(`listening on http://localhost:${port} (/posts, /metrics)`));
}
