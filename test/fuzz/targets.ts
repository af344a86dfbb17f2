/**
 * Fuzz targets: on Postgres one database per target, cloned from a template built from the schema's committed
 * migrations (the test bed's own, or test/fuzz/schemas/<name>/migrations); on MariaDB and SQLite the test bed's
 * database of that provider. Each is a client factory and a reset.
 */
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";
import type { CacheSchema } from "../../src/index.ts";
import { createTestDatabase } from "../support/database.ts";
import { ensureTemplateDatabase } from "../support/global-setup.ts";
import { escapeMysqlIdentifier, mysqlConnectionConfig, withMysql } from "../support/mysql-database.ts";
import { loadDatamodel } from "./datamodel.ts";
import type { AnyClient, FuzzTarget } from "./runner.ts";

export interface PostgresTargetOptions {
  name: string;
  /** `generated/.../dmmf.json` of the schema. */
  dmmfPath: string;
  migrationsDir: string;
  cacheSchema: CacheSchema;
  /** The generated `PrismaClient` class. */
  PrismaClient: new (options: {
    adapter: PrismaPg;
  }) => AnyClient;
  nullValues: FuzzTarget["nullValues"];
  serverUrl: string;
}

export async function postgresTarget(options: PostgresTargetOptions): Promise<FuzzTarget & { drop(): Promise<void> }> {
  const template = await ensureTemplateDatabase(options.serverUrl, options.migrationsDir);
  const database = await createTestDatabase({ template });
  const admin = new pg.Pool({ connectionString: database.url, max: 1 });
  admin.on("error", () => {});
  const tables = (await admin.query<{ name: string }>("SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public'")).rows.map((row) => row.name);
  const pools: pg.Pool[] = [];
  return {
    name: options.name,
    provider: "postgresql",
    datamodel: loadDatamodel(options.dmmfPath),
    cacheSchema: options.cacheSchema,
    nullValues: options.nullValues,
    createClient: () => {
      const pool = new pg.Pool({ connectionString: database.url, max: 4 });
      pool.on("error", () => {});
      pools.push(pool);
      const prisma = new options.PrismaClient({ adapter: new PrismaPg(pool) });
      return {
        prisma,
        close: async () => {
          await prisma.$disconnect();
          if (!pool.ended) await pool.end();
        },
      };
    },
    reset: async () => {
      if (tables.length > 0) await admin.query(`TRUNCATE ${tables.join(", ")} RESTART IDENTITY CASCADE`);
    },
    drop: async () => {
      await admin.end();
      for (const pool of pools) if (!pool.ended) await pool.end();
      await database.drop();
    },
  };
}

/** What a target on another provider needs besides its database: the schema's generated artefacts. */
export interface ProviderTargetOptions {
  name: string;
  /** `generated/.../dmmf.json` of the schema. */
  dmmfPath: string;
  cacheSchema: CacheSchema;
  /** The generated `PrismaClient` class of that provider. */
  PrismaClient: new (options: {
    adapter: SqlDriverAdapterFactory;
  }) => AnyClient;
  nullValues: FuzzTarget["nullValues"];
}

/**
 * A fuzz target on MariaDB/MySQL or SQLite: a fresh test-bed database of the vitest project's provider (see
 * test/support/database.ts), emptied between programs with foreign-key checks off.
 */
export async function providerTarget(provider: "mysql" | "sqlite", options: ProviderTargetOptions): Promise<FuzzTarget & { drop(): Promise<void> }> {
  const database = await createTestDatabase({ provider });
  const clients: AnyClient[] = [];
  const adapter = (): SqlDriverAdapterFactory => (provider === "mysql" ? new PrismaMariaDb(mysqlConnectionConfig(database.url)) : new PrismaBetterSqlite3({ url: database.url }));
  const reset = provider === "mysql" ? resetMysql(database.url) : resetSqlite(database.url);
  return {
    name: options.name,
    provider,
    datamodel: loadDatamodel(options.dmmfPath),
    cacheSchema: options.cacheSchema,
    nullValues: options.nullValues,
    createClient: () => {
      const prisma = new options.PrismaClient({ adapter: adapter() });
      clients.push(prisma);
      return { prisma, close: () => (prisma as unknown as { $disconnect(): Promise<void> }).$disconnect() };
    },
    reset: () => reset.run(),
    drop: async () => {
      for (const prisma of clients) await (prisma as unknown as { $disconnect(): Promise<void> }).$disconnect().catch(() => {});
      await reset.close();
      await database.drop();
    },
  };
}

function resetMysql(url: string): { run(): Promise<void>; close(): Promise<void> } {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const run = () =>
    withMysql(url, async (connection) => {
      const rows: Array<{ name: string }> = await connection.query("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", [name]);
      // TRUNCATE also restarts AUTO_INCREMENT, as Postgres's RESTART IDENTITY does.
      const statements = rows.map((row) => `TRUNCATE TABLE ${escapeMysqlIdentifier(row.name)}`);
      if (statements.length > 0) await connection.query(`SET FOREIGN_KEY_CHECKS = 0; ${statements.join("; ")}; SET FOREIGN_KEY_CHECKS = 1`);
    });
  return { run, close: async () => {} };
}

function resetSqlite(url: string): { run(): Promise<void>; close(): Promise<void> } {
  const connection = new PrismaBetterSqlite3({ url }).connect();
  const run = async () => {
    const db = await connection;
    const result = await db.queryRaw({ sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'", args: [], argTypes: [] });
    const deletes = result.rows.map(([name]) => `DELETE FROM "${String(name).replace(/"/g, '""')}";`);
    const sequence = await db.queryRaw({ sql: "SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'", args: [], argTypes: [] });
    // Deleting from sqlite_sequence restarts AUTOINCREMENT ids, as Postgres's RESTART IDENTITY does.
    if (sequence.rows.length > 0) deletes.push("DELETE FROM sqlite_sequence;");
    await db.executeScript(`PRAGMA foreign_keys = OFF; ${deletes.join(" ")} PRAGMA foreign_keys = ON;`);
  };
  return { run, close: async () => (await connection).dispose() };
}
