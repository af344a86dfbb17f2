import { Decimal } from "@prisma/client/runtime/client";
import type { CacheSchemaUnique } from "../schema/cache-schema.ts";
import type { ModelInfo } from "../schema/model-graph.ts";
import { isPlainObject } from "../validate.ts";
import { canonical, digest, isScalarValue } from "./canonical.ts";

/**
 * Row stamps (`r:<Model>:<unique>=<values>`): one per unique constraint of a row, spelled the same whether the values
 * come from a read's `where`, a write's `where` or data, or a returned record, so a write names exactly the unique
 * lookups of the rows it changed.
 */

/** The row stamp a `where` pins, when it fixes every field of some unique constraint to a value. */
export function pinnedRowStamp(info: ModelInfo, where: unknown): string | undefined {
  return pinnedRow(info, where)?.stamp;
}

/**
 * The unique constraint `source` (a `where`, or a record or create `data`) fixes to values: its row stamp, and the
 * `where` of the `findUnique` that looks that row up by it, in Prisma's shape (compound keys under their name).
 */
export function pinnedRow(info: ModelInfo, source: unknown): PinnedRow | undefined {
  if (!isPlainObject(source)) return undefined;
  for (const unique of info.uniques) {
    const compound = unique.fields.length > 1 ? source[unique.name] : undefined;
    const fields = isPlainObject(compound) ? compound : source;
    const values: unknown[] = [];
    for (const field of unique.fields) {
      const value = equalityValue(fields[field]);
      if (value === undefined) break;
      values.push(value);
    }
    if (values.length === unique.fields.length) return { unique, values, stamp: rowStamp(info, unique, values), where: uniqueWhere(unique, values) };
  }
  return undefined;
}

/** A unique constraint fixed to values: its row stamp and the `findUnique` `where` that looks the row up by it. */
export interface PinnedRow {
  unique: CacheSchemaUnique;
  values: unknown[];
  stamp: string;
  where: Record<string, unknown>;
}

/**
 * Field types whose values the database stores in the one spelling a lookup gives: a lookup by any other type
 * (String under a case-insensitive collation, an upper-case `@db.Uuid`, padded `Char(n)`…) may match a row whose
 * stored values, and so row stamps, differ from its own. Enums are types outside the scalar set.
 */
const SCALAR_TYPES = new Set(["String", "Int", "BigInt", "Float", "Decimal", "Boolean", "DateTime", "Json", "Bytes"]);
const ONE_SPELLING_TYPES = new Set(["Int", "BigInt", "Boolean"]);

/** Whether a lookup by `unique` may match a row stored under another spelling of its values. */
export function isSpellingSensitive(info: ModelInfo, unique: CacheSchemaUnique): boolean {
  return unique.fields.some((field) => {
    const type = info.fieldTypes.get(field);
    return type === undefined || (SCALAR_TYPES.has(type) && !ONE_SPELLING_TYPES.has(type));
  });
}

/** Whether `record` stores the pinned values exactly as the lookup spelled them (normalized like row stamps). */
export function storesSpelling(info: ModelInfo, pinned: Pick<PinnedRow, "unique" | "values">, record: unknown): boolean {
  if (!isPlainObject(record)) return false;
  return pinned.unique.fields.every((field, i) => {
    const stored = record[field];
    if (stored === undefined || stored === null) return false;
    const type = info.fieldTypes.get(field);
    return normalizeScalar(type, stored) === normalizeScalar(type, pinned.values[i]);
  });
}

/** The `findUnique` `where` of every unique constraint a full record has values for. */
export function recordUniqueWheres(info: ModelInfo, record: Record<string, unknown>): Record<string, unknown>[] {
  return info.uniques
    .map((unique) => unique.fields.map((field) => record[field]))
    .flatMap((values, i) => (values.some((value) => value === null || value === undefined) ? [] : [uniqueWhere(info.uniques[i]!, values)]));
}

function uniqueWhere(unique: CacheSchemaUnique, values: unknown[]): Record<string, unknown> {
  if (unique.fields.length === 1) return { [unique.fields[0]!]: values[0] };
  return { [unique.name]: Object.fromEntries(unique.fields.map((field, i) => [field, values[i]])) };
}

/** The row stamps of a record, one per unique constraint; `undefined` when a constraint's fields are missing. */
export function recordRowStamps(info: ModelInfo, record: unknown): string[] | undefined {
  if (!isPlainObject(record)) return undefined;
  const stamps: string[] = [];
  for (const unique of info.uniques) {
    const values = unique.fields.map((field) => record[field]);
    if (values.some((value) => value === undefined)) return undefined;
    // A null in a unique constraint identifies nothing (NULLs are distinct), so no lookup can be pinned by it.
    if (values.some((value) => value === null)) continue;
    stamps.push(rowStamp(info, unique, values));
  }
  return stamps;
}

function rowStamp(info: ModelInfo, unique: CacheSchemaUnique, values: unknown[]): string {
  const text = unique.fields.map((field, i) => normalizeScalar(info.fieldTypes.get(field), values[i])).join(",");
  return `r:${info.name}:${unique.name}=${text.length > 64 ? digest(text) : text}`;
}

/** One spelling per value, whether it came from a `where` (5, "5", 5n) or from a result (5n). */
function normalizeScalar(type: string | undefined, value: unknown): string {
  try {
    switch (type) {
      case "Int":
      case "Float":
        return `#${Number(value)}`;
      case "BigInt":
        return `#${BigInt(value as string | number | bigint)}`;
      case "DateTime":
        return `d${new Date(value as string | number | Date).getTime()}`;
      case "Decimal":
        // "1.50", 1.5 and Decimal("1.5") are one value.
        return `m${new Decimal(value as string).toString()}`;
      default:
        return canonical(value);
    }
  } catch {
    return canonical(value);
  }
}

/** A plain value or `{ equals: value }`; anything else (other filters, null) does not pin a row. */
function equalityValue(condition: unknown): unknown {
  if (isPlainObject(condition)) {
    const keys = Object.keys(condition).filter((key) => condition[key] !== undefined);
    if (keys.length === 1 && keys[0] === "equals") return equalityValue(condition.equals);
    return undefined;
  }
  // Anything else that is not a value (a field reference, say) compares against other rows, not a constant.
  return isScalarValue(condition) ? condition : undefined;
}
