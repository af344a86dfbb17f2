/** The committed migrations of a provider's schema, as `prisma migrate deploy` reads them. */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export interface Migration {
  name: string;
  sql: string;
}

/** Every `<dir>/<name>/migration.sql`, in name order (Prisma's timestamp prefixes make that the applied order). */
export async function readMigrations(migrationsDir: string): Promise<Migration[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    const sql = await readFile(join(migrationsDir, name, "migration.sql"), "utf8").catch(() => undefined);
    if (sql !== undefined) migrations.push({ name, sql });
  }
  if (migrations.length === 0) throw new Error(`No migrations found in ${migrationsDir}: expected <name>/migration.sql.`);
  return migrations;
}
