/**
 * The flush log: one row per applied batch, written in the same database transaction as the batch's updates. A
 * batch whose row exists was applied; inserting the row is how a flush claims its batch, so a batch re-flushed
 * after a crash (committed, not acknowledged in Redis) conflicts and applies nothing.
 */

/** SQL dialects the flush log speaks. Postgres is tested; SQLite and MySQL follow the same statements' shape. */
export type FlushLogDialect = "postgres" | "sqlite" | "mysql";

export interface FlushLogSql {
  create: string;
  /** Claims a batch id: affects 1 row when new, 0 when already applied. One parameter: the id. */
  claim: string;
  /** Deletes rows older than a time. One parameter: the cut-off as a Date. */
  prune: string;
}

/** The statements for `table` in `dialect`. The table name is checked by the caller (letters, digits, `_`). */
export function flushLogSql(dialect: FlushLogDialect, table: string): FlushLogSql {
  switch (dialect) {
    case "postgres":
      return {
        create: `CREATE TABLE IF NOT EXISTS "${table}" ("batch_id" text PRIMARY KEY, "applied_at" timestamptz NOT NULL DEFAULT now())`,
        claim: `INSERT INTO "${table}" ("batch_id") VALUES ($1) ON CONFLICT DO NOTHING`,
        prune: `DELETE FROM "${table}" WHERE "applied_at" < $1`,
      };
    case "sqlite":
      return {
        create: `CREATE TABLE IF NOT EXISTS "${table}" ("batch_id" TEXT PRIMARY KEY, "applied_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
        claim: `INSERT INTO "${table}" ("batch_id") VALUES (?) ON CONFLICT DO NOTHING`,
        prune: `DELETE FROM "${table}" WHERE "applied_at" < ?`,
      };
    case "mysql":
      return {
        create: `CREATE TABLE IF NOT EXISTS \`${table}\` (\`batch_id\` VARCHAR(64) PRIMARY KEY, \`applied_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))`,
        claim: `INSERT IGNORE INTO \`${table}\` (\`batch_id\`) VALUES (?)`,
        prune: `DELETE FROM \`${table}\` WHERE \`applied_at\` < ?`,
      };
  }
}
