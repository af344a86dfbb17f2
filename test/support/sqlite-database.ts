/**
 * One throwaway SQLite file per test bed, copied from a template file that global setup migrated once
 * (`prisma/sqlite/migrations`), in a folder of the OS temp dir that teardown removes.
 */
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { readMigrations } from "./migrations.ts";

/** The SQLite test bed's migrations. */
export const SQLITE_MIGRATIONS_DIR = fileURLToPath(new URL("../../prisma/sqlite/migrations", import.meta.url));

/** A folder for this run's SQLite files, and the migrated, empty template in it. */
export async function createSqliteTemplate(migrationsDir = SQLITE_MIGRATIONS_DIR): Promise<{ dir: string; template: string }> {
  const dir = await mkdtemp(join(tmpdir(), "pcp-sqlite-"));
  const template = join(dir, "template.db");
  const migrations = await readMigrations(migrationsDir);
  // The Prisma adapter's executeScript runs a whole script, as `prisma migrate deploy` does on SQLite.
  const db = await new PrismaBetterSqlite3({ url: sqliteUrlFor(template) }).connect();
  try {
    for (const migration of migrations) {
      try {
        await db.executeScript(migration.sql);
      } catch (error) {
        throw new Error(`Migration ${migration.name} failed on the SQLite template.`, { cause: error });
      }
    }
  } finally {
    await db.dispose();
  }
  return { dir, template };
}

/** Copies the template to a new file in `dir`; returns its path. */
export async function createSqliteDatabase(template: string, dir: string): Promise<string> {
  const path = join(dir, `${randomBytes(6).toString("hex")}.db`);
  await copyFile(template, path);
  return path;
}

/** Removes a database file and its journal files. */
export async function dropSqliteDatabase(path: string): Promise<void> {
  for (const suffix of ["", "-journal", "-wal", "-shm"]) await rm(`${path}${suffix}`, { force: true });
}

/** Removes the run's folder, template included. */
export async function removeSqliteDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The `file:` URL the Prisma adapter takes for a path. */
export function sqliteUrlFor(path: string): string {
  return `file:${path}`;
}
