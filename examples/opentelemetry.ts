/**
 * The cache's spans in OpenTelemetry, printed for one request (a miss, then a hit):
 *   DATABASE_URL=postgresql://... REDIS_URL=redis://... npx tsx examples/opentelemetry.ts
 * A real app registers its SDK (NodeSDK, an OTLP exporter) instead of the in-memory one used here.
 * The database needs the schema of prisma/migrations (`prisma migrate deploy`).
 */
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { PrismaPg } from "@prisma/adapter-pg";
import { Redis } from "ioredis";
import { cacheSchema } from "../generated/cache/index.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import { cachePlugin, redisStore } from "../src/index.ts";
import { cacheTracing } from "../src/opentelemetry.ts";

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
const tracing = cacheTracing(); // spans for every cached read, fill and invalidation in this process

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) }).$extends(
  cachePlugin({ schema: cacheSchema, store: redisStore({ client: redis }), prefix: "otel-example" }),
);

await trace.getTracer("app").startActiveSpan("GET /posts", async (span) => {
  await prisma.post.findMany({ where: { published: true } }); // miss: prisma:cache:read > prisma:cache:fill
  await prisma.post.findMany({ where: { published: true } }); // hit: prisma:cache:read
  span.end();
});
for (const span of exporter.getFinishedSpans()) console.log(span.name, span.attributes);

tracing.close();
await prisma.$disconnect();
redis.disconnect();
