/**
 * Counts the SQL statements one PrismaClient sends to MySQL/MariaDB, like `createCountingAdapter` does for Postgres.
 *
 * The counter owns a `mariadb` pool and hands it to `PrismaMariaDb`. The adapter runs plain queries with the pool's
 * `execute` and transactions on a connection from `getConnection()` (BEGIN, the statements, COMMIT/ROLLBACK), so
 * both are wrapped; the pool's methods run on internal connections the wrappers never see, so nothing is counted twice.
 */
import { PrismaMariaDb } from "@prisma/adapter-mariadb";
import * as mariadb from "mariadb";
import { mysqlConnectionConfig } from "./mysql-database.ts";
import { countStatements, type StatementCounter } from "./sql-counter.ts";

/** The adapter asks the server's version once, on connect, to choose its capabilities: not one of the client's reads. */
const CAPABILITY_PROBE = /^SELECT VERSION\(\)$/;

/** Builds a Prisma adapter for the MySQL database at `url` whose statements are recorded. */
export function createMysqlCountingAdapter(url: string, poolConfig: Partial<mariadb.PoolConfig> = {}): StatementCounter & { pool: mariadb.Pool } {
  const statements: string[] = [];
  const record = (arg: unknown) => {
    const text = typeof arg === "string" ? arg : (arg as { sql?: unknown } | null)?.sql;
    if (typeof text === "string" && !CAPABILITY_PROBE.test(text)) statements.push(text);
  };
  // prepareCacheLength 0 is what the adapter sets on pools it creates itself.
  const pool = mariadb.createPool({ ...mysqlConnectionConfig(url), prepareCacheLength: 0, connectionLimit: 10, ...poolConfig });

  for (const method of ["query", "execute"] as const) {
    const original = pool[method].bind(pool) as (...args: unknown[]) => Promise<unknown>;
    (pool as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      record(args[0]);
      return original(...args);
    };
  }
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = async () => {
    const connection = await getConnection();
    for (const method of ["query", "execute"] as const) {
      const original = connection[method].bind(connection) as (...args: unknown[]) => Promise<unknown>;
      (connection as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
        record(args[0]);
        return original(...args);
      };
    }
    return connection;
  };

  return {
    ...countStatements(statements),
    adapter: new PrismaMariaDb(pool),
    pool,
    close: async () => {
      await pool.end().catch(() => {});
    },
  };
}
