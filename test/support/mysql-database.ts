/**
 * One throwaway MySQL/MariaDB database per test file. MySQL cannot clone a database, so each one is created empty
 * and the committed migrations (`prisma/mysql/migrations`) are applied to it, as `prisma migrate deploy` would.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import * as mariadb from "mariadb";
import { readMigrations } from "./migrations.ts";

/** The MySQL test bed's migrations. */
export const MYSQL_MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/mysql/migrations", import.meta.url));

/** A MySQL identifier in backticks. */
export function escapeMysqlIdentifier(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

/** The server URL with another database in its path. */
export function mysqlUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Runs `fn` on a fresh connection to `url` (multiple statements allowed, for migrations) and always closes it. */
export async function withMysql<T>(url: string, fn: (connection: mariadb.Connection) => Promise<T>): Promise<T> {
  const connection = await mariadb.createConnection({ ...mysqlConnectionConfig(url), multipleStatements: true });
  try {
    return await fn(connection);
  } finally {
    await connection.end();
  }
}

/** The driver's connection settings for a `mysql://user:password@host:port/database` URL. */
export function mysqlConnectionConfig(url: string): mariadb.ConnectionConfig {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username) || "root",
    password: decodeURIComponent(parsed.password),
    ...(database ? { database } : {}),
    // Dates are not converted by the admin connections; the Prisma adapter sets its own options per query.
    connectTimeout: 10_000,
  };
}

/** Creates `<prefix><random>` and applies every migration to it; returns its name. */
export async function createMysqlDatabase(serverUrl: string, prefix: string, migrationsDir = MYSQL_MIGRATIONS_DIR): Promise<string> {
  const name = `${prefix}${randomBytes(6).toString("hex")}`;
  const migrations = await readMigrations(migrationsDir);
  await withMysql(serverUrl, async (connection) => {
    await connection.query(`CREATE DATABASE ${escapeMysqlIdentifier(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    try {
      await connection.query(`USE ${escapeMysqlIdentifier(name)}`);
      for (const migration of migrations) {
        try {
          await connection.query(migration.sql);
        } catch (error) {
          throw new Error(`Migration ${migration.name} failed on MySQL database ${name}.`, { cause: error });
        }
      }
    } catch (error) {
      await connection.query(`DROP DATABASE IF EXISTS ${escapeMysqlIdentifier(name)}`);
      throw error;
    }
  });
  return name;
}

/** Drops a database (connections still open to it keep working on nothing; the test closes them first). */
export async function dropMysqlDatabase(serverUrl: string, name: string): Promise<void> {
  await withMysql(serverUrl, (connection) => connection.query(`DROP DATABASE IF EXISTS ${escapeMysqlIdentifier(name)}`));
}

/** Drops every database whose name starts with `prefix`: this run's, including those a crashed file left. */
export async function dropMysqlDatabasesWithPrefix(serverUrl: string, prefix: string): Promise<void> {
  const names = await withMysql(serverUrl, async (connection) => {
    const rows: Array<{ name: string }> = await connection.query("SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ?", [
      prefix.length,
      prefix,
    ]);
    return rows.map((row) => row.name);
  });
  for (const name of names) await dropMysqlDatabase(serverUrl, name);
}

/** Fails the run once, naming the URL, when MySQL is unreachable or the user cannot create databases. */
export async function checkMysql(url: string, prefix: string): Promise<void> {
  const probe = `${prefix}probe`;
  try {
    await withMysql(url, async (connection) => {
      await connection.query(`CREATE DATABASE ${escapeMysqlIdentifier(probe)}`);
      await connection.query(`DROP DATABASE ${escapeMysqlIdentifier(probe)}`);
    });
  } catch (error) {
    throw new Error(`Cannot create a database on MySQL/MariaDB at MARIADB_URL=${url.replace(/:[^:@/]*@/, ":***@")}. Is it running? (.ci/run starts it.)`, { cause: error });
  }
}
