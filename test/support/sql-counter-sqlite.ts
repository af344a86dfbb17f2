/**
 * Counts the SQL statements one PrismaClient sends to SQLite, like `createCountingAdapter` does for Postgres.
 *
 * `PrismaBetterSqlite3` opens its own `better-sqlite3` database, so the counter wraps the driver adapter it connects
 * instead: every `queryRaw`/`executeRaw`, on the adapter and on its transactions, is one statement. The adapter
 * sends BEGIN itself when a transaction starts (recorded here as "BEGIN"); Prisma sends COMMIT and ROLLBACK as
 * statements of the transaction.
 */
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, Transaction } from "@prisma/driver-adapter-utils";
import { countStatements, type StatementCounter } from "./sql-counter.ts";

/** Builds a Prisma adapter for the SQLite database at `url` (`file:<path>`) whose statements are recorded. */
export function createSqliteCountingAdapter(url: string): StatementCounter {
  const statements: string[] = [];
  const factory = new PrismaBetterSqlite3({ url });
  const adapters: SqlDriverAdapter[] = [];

  const adapter: SqlDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const connected = await factory.connect();
      adapters.push(connected);
      return countingQueryable(connected, statements, {
        startTransaction: async (isolationLevel?: Parameters<SqlDriverAdapter["startTransaction"]>[0]) => {
          const transaction = await connected.startTransaction(isolationLevel);
          statements.push("BEGIN");
          return countingQueryable(transaction, statements, {});
        },
      });
    },
  };

  return {
    ...countStatements(statements),
    adapter,
    close: async () => {
      // The client's $disconnect() disposes the adapters it connected; disposing twice is harmless.
      for (const connected of adapters.splice(0)) await connected.dispose().catch(() => {});
    },
  };
}

/** `target` with its statements recorded, and `overrides` in place of some of its methods. */
function countingQueryable<T extends SqlDriverAdapter | Transaction>(target: T, statements: string[], overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property in overrides) return (overrides as Record<PropertyKey, unknown>)[property];
      if (property === "queryRaw" || property === "executeRaw") {
        return (query: SqlQuery) => {
          statements.push(query.sql);
          return (object[property] as (query: SqlQuery) => Promise<unknown>).call(object, query);
        };
      }
      const value = Reflect.get(object, property, receiver);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}
