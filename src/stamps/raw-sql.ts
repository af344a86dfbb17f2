import type { ModelGraph } from "../schema/model-graph.ts";

/**
 * Which models a raw statement may have written. Prisma cannot say, so the SQL text is scanned for the names of
 * the schema's tables (after `@@map`, and implicit m-n join tables); a statement that names none of them may
 * still write through views, functions or triggers, so it invalidates everything instead.
 */

/** The statement text of `$executeRaw` / `$queryRaw` (a Prisma.Sql) or of their `Unsafe` forms (`[sql, ...values]`). */
export function sqlText(args: unknown): string {
  if (Array.isArray(args)) return typeof args[0] === "string" ? args[0] : "";
  const sql = args as { strings?: unknown; sql?: unknown } | null;
  if (sql && Array.isArray(sql.strings)) return sql.strings.join(" ? ");
  if (sql && typeof sql.sql === "string") return sql.sql;
  return "";
}

const WRITING = /\b(insert|update|delete|merge|upsert|replace|truncate|alter|drop|create|call|copy|do)\b/i;

/** Whether a raw query may change data (`$queryRaw` is used for `INSERT ... RETURNING` too). */
export function writesData(args: unknown): boolean {
  // Row locks (`FOR UPDATE`, `FOR NO KEY UPDATE`) and string literals say nothing about writing.
  const text = sqlText(args)
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/\bfor\s+(no\s+key\s+)?update\b/gi, "");
  return WRITING.test(text);
}

const IDENTIFIER = /"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|([A-Za-z_][\w$]*)/g;

/** Models whose tables the statement names; empty when it names none (the caller then drops everything). */
export function tablesInSql(graph: ModelGraph, args: unknown): string[] {
  const models = new Set<string>();
  for (const match of sqlText(args).matchAll(IDENTIFIER)) {
    const name = (match[1]?.replace(/""/g, '"') ?? match[2] ?? match[3] ?? match[4] ?? "").toLowerCase();
    for (const model of graph.tables.get(name) ?? []) models.add(model);
  }
  return [...models];
}
