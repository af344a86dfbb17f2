import { Decimal } from "@prisma/client/runtime/client";
import { canonical, digest, isScalarValue } from "./key.ts";
import type { ModelGraph, ModelInfo } from "./model-graph.ts";
import { isPlainObject } from "./options.ts";
import type { CacheSchemaUnique } from "./schema.ts";

/**
 * What a cached read depends on, as stamps (see coherence.md): a cached entry records the values of its stamps
 * taken before its database read, and is served only while they are unchanged. A write advances the stamps of
 * what it changed, so invalidation costs O(stamps), never O(entries).
 *
 * Stamps:
 * - `*`                 the namespace epoch, which every entry depends on (`invalidateAll`)
 * - `m:<Model>`         any row of the model: lists, counts, aggregates, and reads that reach it via relations
 * - `u:<Model>`         every unique lookup of the model (writes that cannot name the rows they change)
 * - `r:<Model>:<key>`   one row, named by one of its unique constraints and values (`r:User:email="a@x"`)
 * - `t:<tag>`           a user tag
 */

export const EPOCH = "*";
export const modelStamp = (model: string): string => `m:${model}`;
export const uniquesStamp = (model: string): string => `u:${model}`;
export const tagStamp = (tag: string): string => `t:${tag}`;

/** Operations whose `where` may name exactly one row. */
const SINGLE_ROW_READS = new Set(["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow"]);

/** The stamps a read of `model` with `operation` and `args` depends on. */
export function readDependencies(graph: ModelGraph, model: string, operation: string, args: unknown, tags: readonly string[]): string[] {
  const info = graph.models.get(model);
  const deps = new Set<string>([EPOCH]);
  const where = isPlainObject(args) ? args.where : undefined;
  const row = info && SINGLE_ROW_READS.has(operation) ? rowLookup(info, where) : undefined;
  if (row) {
    deps.add(uniquesStamp(model));
    deps.add(row);
  } else {
    deps.add(modelStamp(model));
  }
  const reached = new Set<string>();
  if (info && isPlainObject(args)) reachArgs(graph, info, args, reached);
  for (const other of reached) deps.add(modelStamp(other));
  for (const tag of tags) deps.add(tagStamp(tag));
  return [...deps];
}

/** The stamps of a tagged raw query: its tags, and the models whose tables its SQL names. */
export function rawReadDependencies(models: readonly string[], tags: readonly string[]): string[] {
  return [EPOCH, ...models.map(modelStamp), ...tags.map(tagStamp)];
}

/** The row stamp a `where` pins, when it fixes every field of some unique constraint to a value. */
export function rowLookup(info: ModelInfo, where: unknown): string | undefined {
  return pinnedRow(info, where)?.stamp;
}

/**
 * The unique constraint `source` (a `where`, or a record or create `data`) fixes to values: its row stamp, and the
 * `where` of the `findUnique` that looks that row up by it, in Prisma's shape (compound keys under their name).
 */
export function pinnedRow(info: ModelInfo, source: unknown): { stamp: string; where: Record<string, unknown> } | undefined {
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
    if (values.length === unique.fields.length) return { stamp: rowStamp(info, unique, values), where: uniqueWhere(unique, values) };
  }
  return undefined;
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

const NESTED_ARG_KEYS = ["where", "orderBy", "select", "include", "cursor", "having", "omit"] as const;

/** Adds every model that `args` reaches through relations: include, select, _count, relation filters, orderBy. */
export function reachArgs(graph: ModelGraph, info: ModelInfo, args: Record<string, unknown>, reached: Set<string>): void {
  for (const key of NESTED_ARG_KEYS) {
    const value = args[key];
    if (value === undefined || value === null) continue;
    if (key === "where" || key === "having") reachWhere(graph, info, value, reached);
    else if (key === "orderBy") reachOrderBy(graph, info, value, reached);
    else if (key === "select" || key === "include") reachSelection(graph, info, value, reached);
  }
}

function reachSelection(graph: ModelGraph, info: ModelInfo, selection: unknown, reached: Set<string>): void {
  if (!isPlainObject(selection)) return;
  for (const [field, value] of Object.entries(selection)) {
    if (!value) continue;
    if (field === "_count") {
      reachCount(graph, info, value, reached);
      continue;
    }
    const relation = info.relations.get(field);
    if (!relation) continue;
    const target = enter(graph, relation.model, reached);
    if (target && isPlainObject(value)) reachArgs(graph, target, value, reached);
  }
}

/** `_count: true` counts every list relation; `_count: { select: { posts: true | { where } } }` names them. */
function reachCount(graph: ModelGraph, info: ModelInfo, value: unknown, reached: Set<string>): void {
  const select = isPlainObject(value) ? value.select : undefined;
  if (!isPlainObject(select)) {
    for (const relation of info.relations.values()) if (relation.isList !== false) enter(graph, relation.model, reached);
    return;
  }
  for (const [field, counted] of Object.entries(select)) {
    const relation = counted ? info.relations.get(field) : undefined;
    if (!relation) continue;
    const target = enter(graph, relation.model, reached);
    if (target && isPlainObject(counted)) reachWhere(graph, target, counted.where, reached);
  }
}

function reachWhere(graph: ModelGraph, info: ModelInfo, where: unknown, reached: Set<string>): void {
  if (Array.isArray(where)) {
    for (const item of where) reachWhere(graph, info, item, reached);
    return;
  }
  if (!isPlainObject(where)) return;
  for (const [field, condition] of Object.entries(where)) {
    if (condition === undefined) continue;
    if (field === "AND" || field === "OR" || field === "NOT") {
      reachWhere(graph, info, condition, reached);
      continue;
    }
    const relation = info.relations.get(field);
    if (!relation) continue;
    const target = enter(graph, relation.model, reached);
    if (!target || !isPlainObject(condition)) continue;
    // `{ some | every | none | is | isNot: where }`, or a to-one shorthand `{ field: value }`.
    let wrapped = false;
    for (const op of ["some", "every", "none", "is", "isNot"]) {
      if (op in condition) {
        wrapped = true;
        reachWhere(graph, target, condition[op], reached);
      }
    }
    if (!wrapped) reachWhere(graph, target, condition, reached);
  }
}

function reachOrderBy(graph: ModelGraph, info: ModelInfo, orderBy: unknown, reached: Set<string>): void {
  if (Array.isArray(orderBy)) {
    for (const item of orderBy) reachOrderBy(graph, info, item, reached);
    return;
  }
  if (!isPlainObject(orderBy)) return;
  for (const [field, value] of Object.entries(orderBy)) {
    const relation = info.relations.get(field);
    if (!relation) continue;
    const target = enter(graph, relation.model, reached);
    if (target) reachOrderBy(graph, target, value, reached);
  }
}

function enter(graph: ModelGraph, model: string, reached: Set<string>): ModelInfo | undefined {
  reached.add(model);
  return graph.models.get(model);
}
