/**
 * Vitest global setup for the integration projects, one per database provider (`provide: { provider }` in
 * vitest.config.ts): resolves the services once per run, builds the provider's migrated template (a Postgres
 * template database once per set of migrations; a SQLite template file per run; MySQL has none, each database is
 * migrated when created), and hands them to the test files through `provide`.
 */
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { databaseExists, databaseUrlFor, dropDatabase, withClient } from "./database.ts";
import { readMigrations } from "./migrations.ts";
import { checkMysql, dropMysqlDatabasesWithPrefix } from "./mysql-database.ts";
import type { Provider } from "./providers.ts";
import { resolveServices } from "./services.ts";
import { createSqliteTemplate, removeSqliteDir } from "./sqlite-database.ts";

declare module "vitest" {
  interface ProvidedContext {
    /** The database provider of this project's test files (set in vitest.config.ts). */
    provider: Provider;
    /** MySQL/MariaDB projects: a server URL whose user may create databases (`MARIADB_URL`). */
    mariadbUrl: string;
    /** SQLite projects: the migrated, empty database file each bed copies. */
    sqliteTemplate: string;
    /** SQLite projects: this run's folder in the OS temp dir, removed at teardown. */
    sqliteDir: string;
    /** A Postgres URL whose user may create databases; test files clone their own database from it. */
    databaseUrl: string;
    /** The Redis URL every test file shares, isolating its keys with a unique prefix. */
    redisUrl: string;
    /** The migrated, empty database that `createTestDatabase()` clones. */
    templateDatabase: string;
    /** Name prefix of this run's test databases, unique per run so teardown drops only its own. */
    databasePrefix: string;
  }
}

/** The migrations applied to the template, relative to the project root. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

/**
 * What a concurrent rename to the same name fails with: duplicate_database when the other run committed first,
 * unique_violation on pg_database's name index when both passed that check at the same moment.
 */
const NAME_TAKEN = new Set(["42P04", "23505"]);

/** Starts (or finds) the services and the template, and returns the teardown vitest runs after the last file. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const provider = (project.config.provide?.provider as Provider | undefined) ?? "postgresql";
  if (provider === "mysql") return setupMysql(project);
  if (provider === "sqlite") return setupSqlite(project);
  const services = await resolveServices();
  try {
    await checkPostgres(services.databaseUrl);
    await checkRedis(services.redisUrl);
    const templateDatabase = await ensureTemplateDatabase(services.databaseUrl);
    const databasePrefix = `pcp_${randomBytes(4).toString("hex")}_`;

    project.provide("databaseUrl", services.databaseUrl);
    project.provide("redisUrl", services.redisUrl);
    project.provide("templateDatabase", templateDatabase);
    project.provide("databasePrefix", databasePrefix);

    return async () => {
      try {
        await dropDatabasesWithPrefix(services.databaseUrl, databasePrefix);
      } finally {
        await services.stop();
      }
    };
  } catch (error) {
    await services.stop();
    throw error;
  }
}

/** MySQL/MariaDB at `MARIADB_URL`; this run's databases are `pcp_<random>_…`, dropped at teardown. */
async function setupMysql(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.MARIADB_URL?.trim();
  if (!url) {
    throw new Error(
      "The MySQL integration project needs MARIADB_URL (a user that may CREATE DATABASE), e.g. MARIADB_URL=mysql://root@127.0.0.1:3306. " +
        "`npx vitest run --project integration` runs the Postgres project alone.",
    );
  }
  const services = await resolveServices({ postgres: false });
  try {
    await checkRedis(services.redisUrl);
    const databasePrefix = `pcp_${randomBytes(4).toString("hex")}_`;
    await checkMysql(url, databasePrefix);
    project.provide("mariadbUrl", url);
    project.provide("redisUrl", services.redisUrl);
    project.provide("databasePrefix", databasePrefix);
    return async () => {
      try {
        await dropMysqlDatabasesWithPrefix(url, databasePrefix);
      } finally {
        await services.stop();
      }
    };
  } catch (error) {
    await services.stop();
    throw error;
  }
}

/** SQLite in-process: a migrated template file in a fresh folder of the OS temp dir, removed at teardown. */
async function setupSqlite(project: TestProject): Promise<() => Promise<void>> {
  const services = await resolveServices({ postgres: false });
  try {
    await checkRedis(services.redisUrl);
    const { dir, template } = await createSqliteTemplate();
    project.provide("redisUrl", services.redisUrl);
    project.provide("sqliteDir", dir);
    project.provide("sqliteTemplate", template);
    project.provide("databasePrefix", `pcp_${randomBytes(4).toString("hex")}_`);
    return async () => {
      try {
        await removeSqliteDir(dir);
      } finally {
        await services.stop();
      }
    };
  } catch (error) {
    await services.stop();
    throw error;
  }
}

/** `pcp_tmpl_<hash>`: a new name whenever a migration is added or edited, so a stale template is never reused. */
export async function templateDatabaseName(migrationsDir: string = MIGRATIONS_DIR): Promise<string> {
  const hash = createHash("sha256");
  for (const migration of await readMigrations(migrationsDir)) {
    hash.update(migration.name).update("\0").update(migration.sql).update("\0");
  }
  return `pcp_tmpl_${hash.digest("hex").slice(0, 16)}`;
}

/**
 * Creates the template database unless it exists, and returns its name.
 *
 * Concurrent runs are serialised with an advisory lock, and the template is built under a temporary name and
 * renamed when complete, so no run can clone a half-migrated template even if the lock is not shared (runs
 * connected to different databases of the same server). The finished template refuses connections, because
 * Postgres cannot clone a database someone is connected to.
 */
export async function ensureTemplateDatabase(serverUrl: string, migrationsDir: string = MIGRATIONS_DIR): Promise<string> {
  const name = await templateDatabaseName(migrationsDir);
  return withClient(serverUrl, async (admin) => {
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [name]);
    try {
      if (await databaseExists(serverUrl, name)) return name;

      const building = `${name}_build_${randomBytes(4).toString("hex")}`;
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(building)}`);
      try {
        const migrations = await readMigrations(migrationsDir);
        await withClient(databaseUrlFor(serverUrl, building), async (client) => {
          for (const migration of migrations) {
            try {
              await client.query(migration.sql);
            } catch (error) {
              throw new Error(`Migration ${migration.name} failed on the template database.`, { cause: error });
            }
          }
        });
        await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(building)} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true`);
        try {
          await admin.query(`ALTER DATABASE ${pg.escapeIdentifier(building)} RENAME TO ${pg.escapeIdentifier(name)}`);
          return name;
        } catch (error) {
          if (!NAME_TAKEN.has((error as { code?: string }).code ?? "")) throw error;
          return name; // another run finished the same template first; ours is dropped below
        }
      } finally {
        if (await databaseExists(serverUrl, building)) await dropTemplate(serverUrl, building);
      }
    } finally {
      await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [name]);
    }
  });
}

/** Drops every database whose name starts with `prefix`: this run's test databases, including abandoned ones. */
export async function dropDatabasesWithPrefix(serverUrl: string, prefix: string): Promise<void> {
  const names = await withClient(serverUrl, async (client) => {
    const result = await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", [prefix]);
    return result.rows.map((row) => row.datname);
  });
  for (const name of names) await dropDatabase(serverUrl, name);
}

/** A template database cannot be dropped until it is marked as an ordinary one again. */
async function dropTemplate(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`ALTER DATABASE ${pg.escapeIdentifier(name)} WITH IS_TEMPLATE false`));
  await dropDatabase(serverUrl, name);
}

/** Fails the run once, naming the URL, when Postgres is unreachable or the user cannot create databases. */
async function checkPostgres(url: string): Promise<void> {
  let canCreate: boolean;
  try {
    canCreate = await withClient(url, async (client) => {
      const result = await client.query<{ ok: boolean }>("SELECT rolcreatedb OR rolsuper AS ok FROM pg_roles WHERE rolname = current_user");
      return result.rows[0]?.ok === true;
    });
  } catch (error) {
    throw new Error(`Cannot connect to Postgres at DATABASE_URL=${redact(url)}. Is it running?`, { cause: error });
  }
  if (!canCreate) {
    throw new Error(`The user in DATABASE_URL=${redact(url)} may not CREATE DATABASE; the tests clone one database per file.`);
  }
}

/** Fails the run once, naming the URL, when Redis does not answer PING. */
async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 5_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => {}); // reported through the rejected command below
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Cannot reach Redis at REDIS_URL=${redact(url)}. Is it running?`, { cause: error });
  } finally {
    redis.disconnect();
  }
}

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<unparseable URL>";
  }
}
