/**
 * examples/metrics-route.ts against real Postgres and Redis, on port 7305: the cached route says miss then hit in
 * its headers (and reaches Postgres once), and `/metrics` serves prom-client's metrics with the cache's.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, withCache } from "../../examples/metrics-route.ts";
import { createCacheBed, type CacheBed } from "../support/cache-bed.ts";
import { uniquePrefix } from "../support/redis.ts";
import { redisStore } from "../../src/index.ts";
import type { Server } from "node:http";

let bed: CacheBed;
let server: Server;
let base: string;
beforeAll(async () => {
  bed = await createCacheBed("redis");
  await bed.base.prisma.post.create({ data: { title: "served", slug: "served", published: true } });
  const prefix = `observe-${uniquePrefix("example")}`;
  // The example's own factory, on the bed's database and Redis; bed.cached() registers the prefix for cleanup.
  bed.cached({ prefix });
  const prisma = withCache(bed.base.prisma, { store: redisStore({ client: bed.redis! }), prefix, timeoutMs: 2_000 });
  server = createApp(prisma);
  await new Promise<void>((resolve) => server.listen(7305, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await bed?.close();
});

describe("the metrics example", () => {
  it("serves /posts through the cache, with the cache's status and max-age in the headers", async () => {
    bed.resetSql();
    const first = await fetch(`${base}/posts`);
    const second = await fetch(`${base}/posts`);
    expect(first.headers.get("x-cache")).toBe("miss");
    expect(first.headers.get("cache-control")).toBe("max-age=60");
    expect(second.headers.get("x-cache")).toBe("hit");
    expect(second.headers.get("cache-control")).toMatch(/^max-age=(59|60)$/);
    expect(await second.json()).toEqual(await first.json());
    expect(bed.selects()).toBe(1);
  });

  it("serves prom-client's metrics and the cache's from /metrics", async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain('http_requests_total{route="/posts"} 2');
    expect(text).toContain('prisma_cache_reads_total{model="Post",operation="findMany",status="miss",layer="none"} 1\n');
    expect(text).toContain('prisma_cache_reads_total{model="Post",operation="findMany",status="hit",layer="l2"} 1\n');
  });
});
