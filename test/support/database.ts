/**
 * One throwaway database per test file, on the provider of the file's vitest project: on Postgres a clone of the
 * migrated template that global setup built, on MySQL a new database with the migrations applied, on SQLite a copy
 * of the migrated template file. Test files run in parallel without seeing each other's rows.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createMysqlDatabase, dropMysqlDatabase, mysqlUrlFor } from "./mysql-database.ts";
import { currentProvider, type Provider } from "./providers.ts";
import { createSqliteDatabase, dropSqliteDatabase, sqliteUrlFor } from "./sqlite-database.ts";

/** A database created for one test file. */
export interface TestDatabase {
  /** Which provider's schema it has. */
  provider: Provider;
  /** The database's name (`pcp_<run>_<random>`; on SQLite the file's path). */
  name: string;
  /** A connection URL for it: the server URL with the database swapped (`file:<path>` on SQLite). */
  url: string;
  /** Drops the database, closing any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Where to create the database; tests normally take all of it from global setup. */
export interface CreateTestDatabaseOptions {
  /** @default the vitest project's provider (`inject("provider")`) */
  provider?: Provider;
  /** A URL on the server whose user may CREATE DATABASE. @default inject("databaseUrl") */
  serverUrl?: string;
  /** The database to clone. @default inject("templateDatabase") */
  template?: string;
  /** Prefix of the new database's name; global teardown drops every database with it. @default inject("databasePrefix") */
  prefix?: string;
}

/**
 * Creates a database with every table of the provider's migrations and no rows (on Postgres `pcp_<run>_<random>`,
 * a copy of the migrated template). Call in `beforeAll` and `drop()` in `afterAll`; a database a crashed file
 * leaves behind is dropped at teardown.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  // Loaded here rather than at the top: global setup imports this module, and vitest's runtime cannot be
  // loaded outside a test worker.
  const { inject } = await import("vitest");
  const provider = options.provider ?? (await currentProvider());
  if (provider === "mysql") return createMysqlTestDatabase(inject("mariadbUrl"), options.prefix ?? inject("databasePrefix"));
  if (provider === "sqlite") return createSqliteTestDatabase(inject("sqliteTemplate"), inject("sqliteDir"));
  const serverUrl = options.serverUrl ?? inject("databaseUrl");
  const template = options.template ?? inject("templateDatabase");
  const prefix = options.prefix ?? inject("databasePrefix");
  const name = `${prefix}${randomBytes(6).toString("hex")}`;

  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`));
  let dropped = false;
  return {
    provider,
    name,
    url: databaseUrlFor(serverUrl, name),
    drop: async () => {
      if (dropped) return;
      await dropDatabase(serverUrl, name);
      dropped = true;
    },
  };
}

async function createMysqlTestDatabase(serverUrl: string, prefix: string): Promise<TestDatabase> {
  const name = await createMysqlDatabase(serverUrl, prefix);
  let dropped = false;
  return {
    provider: "mysql",
    name,
    url: mysqlUrlFor(serverUrl, name),
    drop: async () => {
      if (dropped) return;
      await dropMysqlDatabase(serverUrl, name);
      dropped = true;
    },
  };
}

async function createSqliteTestDatabase(template: string, dir: string): Promise<TestDatabase> {
  const path = await createSqliteDatabase(template, dir);
  return { provider: "sqlite", name: path, url: sqliteUrlFor(path), drop: () => dropSqliteDatabase(path) };
}

/** Drops a database even while clients are connected to it (`WITH (FORCE)`, Postgres 13+). */
export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
}

/** Whether a database with this name exists on the server. */
export async function databaseExists(serverUrl: string, name: string): Promise<boolean> {
  return withClient(serverUrl, async (client) => {
    const result = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    return result.rowCount === 1;
  });
}

/** The same server URL with another database in its path; user, password and query parameters are kept. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Runs `fn` on a fresh connection to `url` and always closes it. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
