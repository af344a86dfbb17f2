/**
 * examples/next-route: the route handlers called as Next.js calls them, with a Web `Request`, against the real
 * Postgres and Redis: a repeated GET is answered without SQL, `If-None-Match` gets a 304, a PATCH is visible next.
 */
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userRoute } from "../../../examples/next-route/handlers.ts";
import { withCache } from "../../../examples/shared/prisma.ts";
import { redisStore } from "../../../src/index.ts";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createTestClient, type TestClient } from "../../support/prisma.ts";
import { createRedis, deleteKeysWithPrefix } from "../../support/redis.ts";
import { EXAMPLE_DATABASE_PREFIX, examplePrefix } from "./names.ts";

describe("examples/next-route", () => {
  let db: TestDatabase;
  let client: TestClient;
  let redis: Redis;
  const prefix = examplePrefix("next-route");
  let route: ReturnType<typeof userRoute>;
  let id: number;
  const context = () => ({ params: Promise.resolve({ id: String(id) }) });
  const url = () => `http://localhost/users/${id}`;

  beforeAll(async () => {
    db = await createTestDatabase({ prefix: EXAMPLE_DATABASE_PREFIX });
    client = createTestClient({ url: db.url });
    redis = createRedis();
    route = userRoute(withCache(client.prisma, { store: redisStore({ client: redis }), prefix, timeoutMs: 2_000 }));
    ({ id } = await client.prisma.user.create({ data: { email: "grace@example.com", name: "Grace" } }));
    client.sql.reset();
  });

  afterAll(async () => {
    if (redis) {
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    }
    await client?.close();
    await db?.drop();
  });

  it("answers a repeated GET from the cache, and 304 to its ETag", async () => {
    const first = await route.GET(new Request(url()), context());
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ id, name: "Grace" });
    expect(client.sql.selects()).toBeGreaterThan(0);
    client.sql.reset();

    const second = await route.GET(new Request(url()), context());
    expect(second.headers.get("etag")).toBe(first.headers.get("etag"));
    expect(first.headers.get("cache-control")).toBe("public, max-age=60");
    // The hit is fresh for what is left of the ttl (withCacheInfo's ttlMs).
    expect(second.headers.get("cache-control")).toMatch(/^public, max-age=(5\d)$/);
    const revalidated = await route.GET(new Request(url(), { headers: { "if-none-match": first.headers.get("etag")! } }), context());
    expect(revalidated.status).toBe(304);
    expect(client.sql.selects()).toBe(0);
  });

  it("serves a PATCH's result on the next GET", async () => {
    const before = await route.GET(new Request(url()), context());
    const patched = await route.PATCH(new Request(url(), { method: "PATCH", body: JSON.stringify({ name: "Grace Hopper" }) }), context());
    expect(patched.status).toBe(200);
    const after = await route.GET(new Request(url()), context());
    expect(((await after.json()) as { name: string }).name).toBe("Grace Hopper");
    expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));
  });

  it("answers 404 for a missing user and 400 for a malformed id", async () => {
    expect((await route.GET(new Request(url()), { params: Promise.resolve({ id: "999999" }) })).status).toBe(404);
    expect((await route.GET(new Request(url()), { params: Promise.resolve({ id: "abc" }) })).status).toBe(400);
  });
});
