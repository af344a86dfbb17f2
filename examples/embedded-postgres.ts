/**
 * The examples' database without servers: Postgres in-process (PGlite) with the schema of prisma/migrations, a
 * Prisma client on it, and a count of the statements that client sends.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { citext } from "@electric-sql/pglite/contrib/citext";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { PrismaClient } from "../generated/prisma/client.ts";

export interface EmbeddedPostgres {
  pglite: PGlite;
  /** A plain Prisma client on it: extend it with the cache. */
  base: PrismaClient;
  /** Statements sent to PGlite since the last `reset()`. */
  sql: { count: number; reset(): void };
  close(): Promise<void>;
}

export async function embeddedPostgres(): Promise<EmbeddedPostgres> {
  // The test-bed schema has a CITEXT column (Session.email): PGlite ships the extension separately.
  const pglite = new PGlite({ extensions: { citext } });
  const migrations = join(import.meta.dirname, "..", "prisma", "migrations");
  for (const dir of readdirSync(migrations, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    await pglite.exec(readFileSync(join(migrations, dir, "migration.sql"), "utf8"));
  }
  const sql = countStatements(pglite);
  const base = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    pglite,
    base,
    sql,
    close: async () => {
      await base.$disconnect();
      await pglite.close();
    },
  };
}

/** Counts the statements the adapter sends to PGlite. */
function countStatements(pglite: PGlite): { count: number; reset(): void } {
  const counter = {
    count: 0,
    reset() {
      counter.count = 0;
    },
  };
  for (const method of ["query", "exec"] as const) {
    const original = pglite[method].bind(pglite) as (...args: unknown[]) => Promise<unknown>;
    (pglite as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      counter.count++;
      return original(...args);
    };
  }
  return counter;
}
