/**
 * examples/nestjs as a Nest app runs it: compiled to CommonJS by tsc (its own tsconfig, decorator metadata on),
 * loaded with `require`, booted with its DI graph, and serving HTTP on a loopback port. A repeated read is answered
 * without SQL; a write through the API is visible on the next read; `app.close()` disconnects the client.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/database.ts";
import { createCountingAdapter, type CountingAdapter } from "../../support/sql-counter.ts";
import { createRedis, deleteKeysWithPrefix } from "../../support/redis.ts";
import { EXAMPLE_DATABASE_PREFIX, EXAMPLE_PORTS, examplePrefix } from "./names.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const EXAMPLE = join(ROOT, "examples/nestjs");
/** tsc type-checks and emits the app, the plugin's sources and the generated client: slow on a busy machine. */
const BUILD_TIMEOUT_MS = 240_000;

/** The compiled app module's exports, as `require` sees them. */
interface CompiledApp {
  createApp(options: { adapter: unknown; cache: Record<string, unknown> }): Promise<NestApp>;
}
interface NestApp {
  listen(port: number, host: string): Promise<unknown>;
  close(): Promise<void>;
}
interface CompiledPlugin {
  redisStore(options: { client: Redis }): unknown;
}

describe("examples/nestjs (CommonJS build)", () => {
  let db: TestDatabase;
  let sql: CountingAdapter;
  let redis: Redis;
  let app: NestApp | undefined;
  const prefix = examplePrefix("nestjs");
  const base = `http://127.0.0.1:${EXAMPLE_PORTS.nestjs}`;
  let id: number;

  beforeAll(async () => {
    const build = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(EXAMPLE, "tsconfig.json")], { encoding: "utf8" });
    if (build.status !== 0) throw new Error(`tsc -p examples/nestjs failed:\n${build.stdout}${build.stderr}`);

    db = await createTestDatabase({ prefix: EXAMPLE_DATABASE_PREFIX });
    sql = createCountingAdapter(db.url);
    redis = createRedis();
    // The compiled files, loaded by Node's own require: the build's CommonJS, not vitest's transform.
    const require = createRequire(join(EXAMPLE, "dist/"));
    const { createApp } = require("./examples/nestjs/src/app.module.js") as CompiledApp;
    const { redisStore } = require("./src/index.js") as CompiledPlugin;
    app = await createApp({ adapter: sql.adapter, cache: { store: redisStore({ client: redis }), prefix, timeoutMs: 2_000 } });
    await app.listen(EXAMPLE_PORTS.nestjs, "127.0.0.1");

    // Seeded with plain SQL, before any cached read of these rows (writes outside the client are not seen).
    const { rows } = await sql.pool.query<{ id: number }>(
      `WITH u AS (INSERT INTO "User" (email, name) VALUES ('linus@example.com', 'Linus') RETURNING id)
       INSERT INTO "Post" (title, slug, published, "authorId") SELECT 'Kernels', 'kernels', true, id FROM u RETURNING "authorId" AS id`,
    );
    id = rows[0]!.id;
    sql.reset();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await app?.close();
    if (redis) {
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    }
    await sql?.close();
    await db?.drop();
  });

  it("serves a repeated read from the cache through the injected client", async () => {
    const first = await fetch(`${base}/users/${id}`);
    expect(first.status).toBe(200);
    const body = (await first.json()) as { id: number; name: string; posts: Array<{ slug: string }> };
    expect(body).toMatchObject({ id, name: "Linus", posts: [{ slug: "kernels" }] });
    expect(sql.selects()).toBeGreaterThan(0);
    sql.reset();

    const second = await fetch(`${base}/users/${id}`);
    expect(await second.json()).toEqual(body);
    expect(sql.selects()).toBe(0);
    expect((await fetch(`${base}/users/999999`)).status).toBe(404);
    const stats = (await (await fetch(`${base}/cache/stats`)).json()) as { hits: number; byModel: Record<string, { hits: number }> };
    expect(stats.byModel.User?.hits).toBe(1);
  });

  it("serves a write's result on the next read", async () => {
    await fetch(`${base}/users/${id}`);
    const patched = await fetch(`${base}/users/${id}`, { method: "PATCH", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "Linus T." }) });
    expect(patched.status).toBe(200);
    sql.reset();
    const after = (await (await fetch(`${base}/users/${id}`)).json()) as { name: string };
    expect(after.name).toBe("Linus T.");
    expect(sql.selects()).toBeGreaterThan(0);
  });
});
