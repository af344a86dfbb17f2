/**
 * Raw SQL for the provider under test, written once in Postgres' spelling: `"Quoted"` identifiers become
 * backticks on MySQL, and `$1, $2, ...` placeholders of the Unsafe forms become `?` on MySQL and SQLite.
 */
import { Prisma } from "../../generated/prisma/client.ts";
import type { Provider } from "./providers.ts";

export interface Dialect {
  provider: Provider;
  /** A tagged template like `Prisma.sql`, its text in this dialect; values stay bound parameters. */
  sql(strings: TemplateStringsArray, ...values: unknown[]): Prisma.Sql;
  /** Text for `$executeRawUnsafe` / `$queryRawUnsafe` in this dialect (placeholders numbered in order of use). */
  unsafe(text: string): string;
  /** Whether `UPDATE ... RETURNING` exists (not on MariaDB/MySQL). */
  updateReturning: boolean;
}

export function dialect(provider: Provider): Dialect {
  const quotes = (text: string) => (provider === "mysql" ? text.replace(/"((?:[^"]|"")+)"/g, (_, name: string) => `\`${name.replace(/""/g, '"')}\``) : text);
  return {
    provider,
    sql: (strings, ...values) => new Prisma.Sql(strings.map(quotes), values as Prisma.Sql["values"]),
    unsafe: (text) => (provider === "postgresql" ? text : quotes(text).replace(/\$\d+/g, "?")),
    updateReturning: provider !== "mysql",
  };
}
