/**
 * examples/fastify-api against the real Postgres and Redis: a repeated read is answered without SQL and with the
 * same ETag, `If-None-Match` gets a 304, a write through the API is visible on the next read (and purges the
 * response's surrogate keys), and `/metrics` shows `$cache.stats()` in Prometheus format.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApi } from "../../../examples/fastify-api/app.ts";
import { withCache } from "../../../examples/shared/prisma.ts";
import { redisStore } from "../../../src/index.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createTestClient, type TestClient } from "../../support/prisma.ts";
import { createRedis, deleteKeysWithPrefix } from "../../support/redis.ts";
import { examplePrefix, EXAMPLE_DATABASE_PREFIX, EXAMPLE_PORTS } from "./names.ts";

describe("examples/fastify-api", () => {
  let db: TestDatabase;
  let client: TestClient;
  let redis: Redis;
  const prefix = examplePrefix("fastify-api");
  const purged: string[][] = [];
  let api: ReturnType<typeof buildApi>;
  let prisma: ReturnType<typeof withCache>;
  let ada: { id: number };

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: EXAMPLE_DATABASE_PREFIX });
    client = createTestClient({ url: db.url });
    redis = createRedis();
    prisma = withCache(client.prisma, { store: redisStore({ client: redis }), prefix, timeoutMs: 2_000 });
    api = buildApi({ prisma, purge: (keys) => void purged.push(keys) });
    ada = await client.prisma.user.create({
      data: { email: "ada@example.com", name: "Ada", posts: { create: [{ title: "Engines", slug: "engines", published: true }] } },
    });
    client.sql.reset();
  });

  afterAll(async () => {
    await api?.close();
    if (redis) {
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    }
    await client?.close();
    await db?.drop();
  });

  it("answers a repeated read from the cache, with the same ETag and a max-age from the policy", async () => {
    const first = await api.inject({ method: "GET", url: `/users/${ada.id}` });
    expect(first.statusCode).toBe(200);
    expect(client.sql.selects()).toBeGreaterThan(0);
    client.sql.reset();

    const second = await api.inject({ method: "GET", url: `/users/${ada.id}` });
    expect(client.sql.selects()).toBe(0);
    // The miss is fresh for the whole ttl; the hit for what is left of it (withCacheInfo's ttlMs).
    expect(first.headers["cache-control"]).toBe("public, max-age=60");
    expect(second.body).toBe(first.body);
    expect(second.json()).toMatchObject({ id: ada.id, name: "Ada", posts: [{ slug: "engines" }] });
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(maxAge(second.headers["cache-control"])).toBeGreaterThanOrEqual(50);
    expect(maxAge(second.headers["cache-control"])).toBeLessThan(60);
    expect(second.headers["surrogate-key"]).toBe(`user:${ada.id}`);
    expect(second.headers["content-type"]).toBe("application/json; charset=utf-8");
  });

  it("answers 304 without a body or SQL when If-None-Match has the current ETag", async () => {
    const { headers } = await api.inject({ method: "GET", url: `/users/${ada.id}` });
    client.sql.reset();
    const revalidated = await api.inject({ method: "GET", url: `/users/${ada.id}`, headers: { "if-none-match": `W/${headers.etag}` } });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.body).toBe("");
    expect(client.sql.selects()).toBe(0);
  });

  it("serves a write's result on the next read, and purges the surrogate keys it made stale", async () => {
    const before = await api.inject({ method: "GET", url: `/users/${ada.id}` });
    purged.length = 0;
    const patched = await api.inject({ method: "PATCH", url: `/users/${ada.id}`, payload: { name: "Ada Lovelace" } });
    expect(patched.statusCode).toBe(200);
    expect(purged).toEqual([[`user:${ada.id}`]]);

    client.sql.reset();
    const after = await api.inject({ method: "GET", url: `/users/${ada.id}`, headers: { "if-none-match": String(before.headers.etag) } });
    expect(after.statusCode).toBe(200);
    expect(after.json().name).toBe("Ada Lovelace");
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(client.sql.selects()).toBeGreaterThan(0);
  });

  it("invalidates the feed and the author's read when a post is created", async () => {
    const feed = await api.inject({ method: "GET", url: "/posts" });
    await api.inject({ method: "GET", url: `/users/${ada.id}` });
    expect(feed.headers["cache-control"]).toBe("public, max-age=30");
    client.sql.reset();
    expect((await api.inject({ method: "GET", url: "/posts" })).body).toBe(feed.body);
    expect(client.sql.selects()).toBe(0);

    purged.length = 0;
    const created = await api.inject({ method: "POST", url: "/posts", payload: { title: "Notes", slug: "notes", authorId: ada.id } });
    expect(created.statusCode).toBe(201);
    expect(purged).toEqual([["feed", `user:${ada.id}`]]);

    const slugs = (await api.inject({ method: "GET", url: "/posts" })).json().map((post: { slug: string }) => post.slug);
    expect(slugs).toEqual(["notes", "engines"]);
    const user = (await api.inject({ method: "GET", url: `/users/${ada.id}` })).json();
    expect(user.posts.map((post: { slug: string }) => post.slug)).toEqual(["engines", "notes"]);
  });

  it("renders $cache.stats() in Prometheus text format on /metrics", async () => {
    await api.inject({ method: "GET", url: `/users/${ada.id}` });
    const stats = prisma.$cache.stats();
    const metrics = await api.inject({ method: "GET", url: "/metrics" });
    expect(metrics.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(metrics.body).toContain("# TYPE prisma_cache_hits_total counter\n");
    expect(metrics.body).toContain(`\nprisma_cache_hits_total ${stats.hits}\n`);
    expect(metrics.body).toContain(`\nprisma_cache_misses_total ${stats.misses}\n`);
    expect(metrics.body).toContain(`\nprisma_cache_model_hits_total{model="User"} ${stats.byModel.User?.hits}\n`);
    expect(stats.hits).toBeGreaterThan(0);
  });

  it("serves the same answers over a real socket", async () => {
    const address = await api.listen({ port: EXAMPLE_PORTS.fastifyApi, host: "127.0.0.1" });
    client.sql.reset();
    const response = await fetch(`${address}/users/${ada.id}`);
    expect(response.status).toBe(200);
    expect(maxAge(response.headers.get("cache-control"))).toBeLessThan(60);
    expect(((await response.json()) as { id: number }).id).toBe(ada.id);
    expect(client.sql.selects()).toBe(0);
  });
});

/** The `max-age` of a `Cache-Control` header, in seconds. */
function maxAge(header: string | string[] | null | undefined): number {
  const match = /max-age=(\d+)/.exec(String(header));
  if (match === null) throw new Error(`no max-age in ${String(header)}`);
  return Number(match[1]);
}
