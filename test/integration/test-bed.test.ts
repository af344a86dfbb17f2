/** The integration test bed itself: databases, the SQL counter, Redis helpers and service resolution. */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import type { Redis } from "ioredis";
import { createTestDatabase, databaseExists, databaseUrlFor, type TestDatabase, withClient } from "../support/database.ts";
import { ensureTemplateDatabase, MIGRATIONS_DIR, templateDatabaseName } from "../support/global-setup.ts";
import { createTestClient, type TestClient } from "../support/prisma.ts";
import { createRedis, deleteKeysWithPrefix, type RedisServer, startRedisServer, uniquePrefix } from "../support/redis.ts";
import { isContainerRuntimeAvailable, resolveServices, RUNTIME_CHECK_TIMEOUT_MS } from "../support/services.ts";
import { isSelect, isTransactionControl, isWrite } from "../support/sql-counter.ts";
import { waitFor } from "../support/poll.ts";

/** Table names the migrations create, read from the SQL so the test follows new migrations. */
async function migrationTables(): Promise<string[]> {
  const tables: string[] = [];
  for (const dir of (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory())) {
    const sql = await readFile(join(MIGRATIONS_DIR, dir.name, "migration.sql"), "utf8");
    for (const match of sql.matchAll(/CREATE TABLE "([^"]+)"/g)) tables.push(match[1]!);
  }
  return tables.sort();
}

describe("test databases", () => {
  let db: TestDatabase;
  let client: TestClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = createTestClient({ url: db.url });
  });
  afterAll(async () => {
    await client?.close();
    await db?.drop();
  });

  it("start with every table of the migrations and no rows", async () => {
    const expected = await migrationTables();
    expect(expected.length).toBeGreaterThan(5);
    await withClient(db.url, async (pgClient) => {
      const tables = await pgClient.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
      );
      expect(tables.rows.map((row) => row.table_name).sort()).toEqual(expected);
      for (const table of expected) {
        const rows = await pgClient.query<{ n: string }>(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(table)}`);
        expect({ table, rows: Number(rows.rows[0]!.n) }).toEqual({ table, rows: 0 });
      }
    });
  });

  it("are clones of a template named after the migrations' hash, which refuses connections", async () => {
    const template = inject("templateDatabase");
    expect(template).toBe(await templateDatabaseName());
    await expect(withClient(databaseUrlFor(inject("databaseUrl"), template), async () => {})).rejects.toThrow(/not currently accepting connections/);
  });

  it("share one template when several runs build it at once, even through different admin databases", async () => {
    const serverUrl = inject("databaseUrl");
    const dir = await mkdtemp(join(tmpdir(), "pcp-migrations-"));
    const table = `t_${randomBytes(4).toString("hex")}`;
    await mkdir(join(dir, "0001_init"));
    await writeFile(join(dir, "0001_init", "migration.sql"), `CREATE TABLE "${table}" ("id" INTEGER);`);
    // A second admin database means a second advisory-lock namespace: only the build-then-rename protects that run.
    const admins = [serverUrl, db.url, serverUrl, db.url];
    const name = await templateDatabaseName(dir);
    try {
      const names = await Promise.all(admins.map((admin) => ensureTemplateDatabase(admin, dir)));
      expect(names).toEqual(admins.map(() => name));
      await withClient(serverUrl, async (admin) => {
        const leftovers = await admin.query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [name]);
        expect(leftovers.rows).toEqual([{ datname: name }]);
      });
      const clone = await createTestDatabase({ template: name });
      try {
        await withClient(clone.url, async (client) => {
          expect((await client.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows).toEqual([{ n: 0 }]);
        });
      } finally {
        await clone.drop();
      }
    } finally {
      // The template and any build database a failed attempt left behind.
      await withClient(serverUrl, async (admin) => {
        const left = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [name]);
        for (const { datname } of left.rows) {
          await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(datname)} WITH IS_TEMPLATE false`);
          await admin.query(`DROP DATABASE ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
        }
      });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("are isolated: rows written in one are not visible in another", async () => {
    const other = await createTestDatabase();
    const otherClient = createTestClient({ url: other.url });
    try {
      expect(other.name).not.toBe(db.name);
      await client.prisma.user.create({ data: { email: "isolated@example.com" } });
      expect(await client.prisma.user.count({ where: { email: "isolated@example.com" } })).toBe(1);
      expect(await otherClient.prisma.user.count()).toBe(0);
    } finally {
      await otherClient.close();
      await other.drop();
    }
  });

  it("drop() removes the database even while a connection to it is open", async () => {
    const doomed = await createTestDatabase();
    const connection = new pg.Client({ connectionString: doomed.url });
    connection.on("error", () => {}); // the forced drop terminates this session
    await connection.connect();
    await doomed.drop();
    expect(await databaseExists(inject("databaseUrl"), doomed.name)).toBe(false);
    await expect(connection.query("SELECT 1")).rejects.toThrow();
    await connection.end().catch(() => {});
    await doomed.drop(); // a second drop is a no-op
  });
});

describe("SQL counter", () => {
  let db: TestDatabase;
  let client: TestClient;
  let userId: number;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = createTestClient({ url: db.url });
    userId = (await client.prisma.user.create({ data: { email: "counted@example.com" } })).id;
  });
  afterAll(async () => {
    await client?.close();
    await db?.drop();
  });

  it("counts one SELECT for a findUnique", async () => {
    client.sql.reset();
    const user = await client.prisma.user.findUnique({ where: { id: userId } });
    expect(user?.email).toBe("counted@example.com");
    expect(client.sql.selects()).toBe(1);
    expect(client.sql.count()).toBe(1);
  });

  it("records the INSERT a create sends, and no SELECT", async () => {
    client.sql.reset();
    await client.prisma.post.create({ data: { title: "Counted", slug: "counted" } });
    expect(client.sql.count(/^INSERT INTO "public"\."Post"/)).toBe(1);
    expect(client.sql.writes()).toBe(1);
    expect(client.sql.selects()).toBe(0);
  });

  it("sees 100 concurrent findUnique calls batched by Prisma into very few statements", async () => {
    const users = await client.prisma.user.createManyAndReturn({
      data: Array.from({ length: 100 }, (_, i) => ({ email: `batched-${i}@example.com` })),
    });
    client.sql.reset();
    const found = await Promise.all(users.map((user) => client.prisma.user.findUnique({ where: { id: user.id } })));
    expect(found.map((user) => user?.email)).toEqual(users.map((user) => user.email));
    expect(client.sql.selects()).toBeGreaterThanOrEqual(1);
    expect(client.sql.selects()).toBeLessThanOrEqual(2);
    expect(client.sql.count()).toBe(client.sql.selects());
  });

  it("counts BEGIN and COMMIT of a batch $transaction separately from its SELECTs", async () => {
    client.sql.reset();
    await client.prisma.$transaction([client.prisma.user.findUnique({ where: { id: userId } }), client.prisma.user.count()]);
    expect(client.sql.count(/^BEGIN\b/)).toBe(1);
    expect(client.sql.count(/^COMMIT\b/)).toBe(1);
    expect(client.sql.selects()).toBe(2);
    expect(client.sql.count()).toBe(4);
  });

  it("records ROLLBACK when an interactive transaction throws", async () => {
    client.sql.reset();
    await expect(
      client.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: userId }, data: { name: "rolled back" } });
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(client.sql.statements.filter(isTransactionControl)).toEqual(["BEGIN", "ROLLBACK"]);
    expect(client.sql.writes()).toBe(1);
  });

  it("counts only the statements of its own client", async () => {
    const other = createTestClient({ url: db.url });
    try {
      client.sql.reset();
      await other.prisma.user.findMany();
      expect(other.sql.selects()).toBe(1);
      expect(client.sql.count()).toBe(0);
    } finally {
      await other.close();
    }
  });

  it("classifies statements as reads, writes and transaction control", () => {
    expect(isSelect('SELECT "id" FROM "User"')).toBe(true);
    expect(isSelect('WITH "x" AS (SELECT 1) SELECT * FROM "x"')).toBe(true);
    expect(isSelect('WITH "x" AS (INSERT INTO "User" ("email") VALUES ($1) RETURNING "id") SELECT * FROM "x"')).toBe(false);
    expect(isWrite('WITH "x" AS (DELETE FROM "User" RETURNING "id") SELECT * FROM "x"')).toBe(true);
    expect(isWrite('UPDATE "public"."User" SET "name" = $1')).toBe(true);
    expect(isSelect("BEGIN")).toBe(false);
    expect(isTransactionControl("COMMIT")).toBe(true);
    expect(isTransactionControl('SELECT "id" FROM "User"')).toBe(false);
  });
});

describe("shared Redis helpers", () => {
  let redis: Redis;

  beforeAll(() => {
    redis = createRedis();
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it("uniquePrefix gives a different, glob-safe prefix on every call", () => {
    const a = uniquePrefix("Test Bed / keys*");
    const b = uniquePrefix("Test Bed / keys*");
    expect(a).not.toBe(b);
    expect(a).toMatch(/^t_test-bed-keys_[0-9a-f]{8}$/);
  });

  it("deleteKeysWithPrefix removes plain and hash-tagged keys of the prefix, and nothing else", async () => {
    const prefix = uniquePrefix("delete");
    const bystander = uniquePrefix("bystander");
    const ours = [`${prefix}:a`, `${prefix}:b`, `{${prefix}}:c`, `{${prefix}}:tag:d`];
    const theirs = [`${bystander}:a`, `{${bystander}}:a`, `x${prefix}:a`];
    try {
      for (const key of [...ours, ...theirs]) await redis.set(key, "1");
      expect(await deleteKeysWithPrefix(redis, prefix)).toBe(ours.length);
      expect(await redis.exists(...ours)).toBe(0);
      expect(await redis.exists(...theirs)).toBe(theirs.length);
    } finally {
      await redis.unlink(...ours, ...theirs);
    }
  });
});

describe("startRedisServer", () => {
  let server: RedisServer;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterEach(() => {
    redis?.disconnect();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** A connected client that fails fast while the server is away and reconnects quickly when it is back. */
  async function outageClient(): Promise<Redis> {
    const client = createRedis(server.url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      commandTimeout: 300,
      retryStrategy: () => 20,
    });
    client.on("error", () => {}); // outages are expected here; commands report them
    await client.connect();
    return client;
  }

  it("serves commands on its own port", async () => {
    redis = await outageClient();
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await redis.ping()).toBe("PONG");
    expect(server.port).not.toBe(new URL(inject("redisUrl")).port);
  });

  it("makes commands fail while stopped, and serves an empty store again after restart", async () => {
    redis = await outageClient();
    await redis.set("survives-restart", "no");
    await server.stop();
    await expect(redis.get("survives-restart")).rejects.toThrow();
    await server.restart();
    expect(await waitFor(() => redis.ping(), "Redis answers PING", 5_000, 20)).toBe("PONG");
    expect(await redis.get("survives-restart")).toBeNull();
  });

  it("makes commands time out while paused, and answers again after resume", async () => {
    redis = await outageClient();
    expect(await redis.ping()).toBe("PONG");
    server.pause();
    try {
      await expect(redis.ping()).rejects.toThrow(/timed out/i);
    } finally {
      server.resume();
    }
    expect(await waitFor(() => redis.ping(), "Redis answers PING", 5_000, 20)).toBe("PONG");
  });
});

describe("service resolution", () => {
  it("uses DATABASE_URL and REDIS_URL without looking for a container runtime", async () => {
    const services = await resolveServices({
      env: { DATABASE_URL: "postgresql://db.example/test", REDIS_URL: "redis://cache.example:6379" },
      containerRuntime: () => Promise.reject(new Error("must not be asked")),
    });
    expect(services).toMatchObject({ databaseUrl: "postgresql://db.example/test", redisUrl: "redis://cache.example:6379", started: [] });
  });

  it("fails with one message naming both variables and Docker when neither URLs nor a runtime exist", async () => {
    const attempt = resolveServices({
      env: {},
      containerRuntime: async () => ({ available: false, reason: "no Docker here" }),
    });
    await expect(attempt).rejects.toThrow(/DATABASE_URL and REDIS_URL are not set.*no Docker here/);
    await expect(attempt).rejects.toThrow(/DATABASE_URL=postgresql:\/\/.*REDIS_URL=redis:\/\//);
    await expect(attempt).rejects.toThrow(/Docker/);
  });

  it("names only the missing variable when the other is set", async () => {
    await expect(
      resolveServices({
        env: { DATABASE_URL: "postgresql://db.example/test" },
        containerRuntime: async () => ({ available: false, reason: "no Docker here" }),
      }),
    ).rejects.toThrow(/REDIS_URL is not set/);
  });

  it(
    "answers the container runtime check within its timeout",
    async () => {
      const started = Date.now();
      const status = await isContainerRuntimeAvailable();
      expect(typeof status.available).toBe("boolean");
      if (!status.available) expect(status.reason.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(RUNTIME_CHECK_TIMEOUT_MS + 2_000);
    },
    RUNTIME_CHECK_TIMEOUT_MS * 2 + 5_000,
  );
});
