/**
 * Counts the SQL statements one PrismaClient sends to Postgres, so tests can assert "served from the cache"
 * as "no SELECT reached the database".
 *
 * The counter owns a `pg.Pool` and hands it to `PrismaPg`, which then uses it for every query and transaction.
 * Each client the pool opens gets its `query` method wrapped when the pool emits `connect`, before the client
 * is handed out. The pool's own `query` is deliberately not wrapped: it runs through a client's `query`, and
 * wrapping both would count those statements twice.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import pg from "pg";

/** The statements a PrismaClient sent to its database, on any provider. */
export interface StatementCounter {
  /** Pass to `new PrismaClient({ adapter })`. */
  adapter: SqlDriverAdapterFactory;
  /** Every statement text sent, in order, including BEGIN / COMMIT / ROLLBACK. Cleared in place by `reset()`. */
  statements: string[];
  /** Forgets the statements recorded so far, e.g. after seeding. */
  reset(): void;
  /** How many statements were sent; with `filter`, only those whose text matches it. */
  count(filter?: RegExp): number;
  /** How many statements read data (`SELECT`, or a `WITH` query that writes nothing); transaction control excluded. */
  selects(): number;
  /** How many statements changed data (`INSERT`, `UPDATE`, `DELETE`, `MERGE`, also inside `WITH`). */
  writes(): number;
  /** Ends the pool. Call after `prisma.$disconnect()`: the adapter does not end a pool it was given. */
  close(): Promise<void>;
}

/** The adapter to give a PrismaClient on Postgres and the statements it has sent so far. */
export interface CountingAdapter extends StatementCounter {
  adapter: PrismaPg;
  /** The pool behind the adapter, for tests that need to observe connections. */
  pool: pg.Pool;
}

const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|SET\s+TRANSACTION|PREPARE\s+TRANSACTION)\b/i;
/** A table name as Postgres and SQLite (`"User"`) or MySQL (`` `User` ``) quote it, or bare. */
const NAME = '("[^"]+"|`[^`]+`|\\w+)';
const WRITE_KEYWORD = new RegExp(`\\b(INSERT\\s+INTO|REPLACE\\s+INTO|UPDATE\\s+${NAME}(\\s*\\.\\s*${NAME})?\\s+(AS\\s+\\w+\\s+)?SET|DELETE\\s+FROM|MERGE\\s+INTO)\\b`, "i");

/** Whether a statement only manages a transaction (BEGIN, COMMIT, SAVEPOINT, ...). */
export function isTransactionControl(sql: string): boolean {
  return TRANSACTION_CONTROL.test(sql);
}

/** Whether a statement changes data. */
export function isWrite(sql: string): boolean {
  return !isTransactionControl(sql) && WRITE_KEYWORD.test(sql);
}

/** Whether a statement reads data without changing any: a SELECT, or a WITH query whose parts only select. */
export function isSelect(sql: string): boolean {
  const head = sql.trimStart().replace(/^\(+\s*/, "");
  if (/^SELECT\b/i.test(head)) return true;
  return /^WITH\b/i.test(head) && /\bSELECT\b/i.test(head) && !WRITE_KEYWORD.test(head);
}

/** Builds a Prisma adapter for `url` whose statements are recorded. */
export function createCountingAdapter(url: string, poolConfig: Omit<pg.PoolConfig, "connectionString"> = {}): CountingAdapter {
  const statements: string[] = [];
  const pool = new pg.Pool({ ...poolConfig, connectionString: url });
  // An idle connection dies when a test drops its database WITH (FORCE); without a listener that error would
  // crash the worker. A query on a dead connection still fails, so nothing is hidden from the tests.
  pool.on("error", () => {});

  pool.on("connect", (client) => {
    const query = client.query;
    // pg's overloads cannot be restated generically; the wrapper only reads the first argument.
    client.query = function (this: pg.PoolClient, ...args: unknown[]) {
      const text = statementText(args[0]);
      if (text !== undefined) statements.push(text);
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof client.query;
  });

  return {
    ...countStatements(statements),
    adapter: new PrismaPg(pool),
    pool,
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}

/** The counting methods over a list of statements the caller appends to. */
export function countStatements(statements: string[]): Pick<StatementCounter, "statements" | "reset" | "count" | "selects" | "writes"> {
  return {
    statements,
    reset: () => {
      statements.length = 0;
    },
    count: (filter) => (filter ? statements.filter((sql) => matches(filter, sql)).length : statements.length),
    selects: () => statements.filter(isSelect).length,
    writes: () => statements.filter(isWrite).length,
  };
}

/** The SQL of a `query()` call: a string, or a config / Submittable with a `text` field. */
function statementText(arg: unknown): string | undefined {
  if (typeof arg === "string") return arg;
  if (arg && typeof arg === "object" && typeof (arg as { text?: unknown }).text === "string") {
    return (arg as { text: string }).text;
  }
  return undefined;
}

/** `RegExp.test` with `g` or `y` keeps state between calls; reset it so every statement is tested from its start. */
function matches(filter: RegExp, sql: string): boolean {
  filter.lastIndex = 0;
  return filter.test(sql);
}
