import { changesRows, relatedClosure, type ModelGraph, type ModelInfo } from "../schema/model-graph.ts";
import { isPlainObject } from "../validate.ts";
import { EPOCH, modelStamp, tagStamp, uniquesStamp } from "./names.ts";
import { recordRowStamps, pinnedRowStamp } from "./row-stamps.ts";

/**
 * Which stamps a successful write advances: every stamp a cached read of a changed row could depend on, and as
 * few others as the write's args and result allow.
 *
 * - The written model's list stamp, always.
 * - Row stamps of the rows it names (unique `where`) and returns (every unique constraint of each record, so a
 *   lookup by any unique field is evicted). When rows or their old key values cannot be known (updateMany,
 *   deleteMany, createMany, a result narrowed by `select`, a change to a unique field) the model's
 *   all-uniques stamp instead.
 * - Nested writes (`data: { posts: { create, connect, deleteMany, ... } }`): every model they touch, coarsely.
 * - Referential actions: rows the database changes by itself on delete or key update (Cascade, SetNull,
 *   SetDefault), transitively through cascades.
 */

export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  "create",
  "createMany",
  "createManyAndReturn",
  "update",
  "updateMany",
  "updateManyAndReturn",
  "upsert",
  "delete",
  "deleteMany",
]);

const NESTED_WRITE_OPS = new Set(["create", "createMany", "connect", "connectOrCreate", "disconnect", "set", "update", "updateMany", "upsert", "delete", "deleteMany"]);

/** The stamps to advance after `operation` on `model` succeeded with `args` and returned `result`. */
export function writeStamps(graph: ModelGraph, model: string, operation: string, args: unknown, result: unknown): Set<string> {
  const stamps = new Set<string>();
  const info = graph.models.get(model);
  if (!info) {
    // A model the client knows but the schema does not (stale generator output): drop everything.
    stamps.add(EPOCH);
    return stamps;
  }
  const params = isPlainObject(args) ? args : {};
  touchModel(stamps, model);

  switch (operation) {
    case "create":
      rowsOf(stamps, info, [result]);
      nestedWrites(graph, stamps, info, params.data);
      break;
    case "createManyAndReturn":
      rowsOf(stamps, info, Array.isArray(result) ? result : []);
      break;
    case "update":
    case "upsert": {
      const where = pinnedRowStamp(info, params.where);
      if (where) stamps.add(where);
      else stamps.add(uniquesStamp(model));
      rowsOf(stamps, info, [result]);
      const changed = operation === "update" ? params.data : params.update;
      keyChanges(graph, stamps, info, changed);
      nestedWrites(graph, stamps, info, changed);
      if (operation === "upsert") nestedWrites(graph, stamps, info, params.create);
      break;
    }
    case "updateManyAndReturn":
      stamps.add(uniquesStamp(model));
      keyChanges(graph, stamps, info, params.data);
      break;
    case "delete": {
      const where = pinnedRowStamp(info, params.where);
      if (where) stamps.add(where);
      else stamps.add(uniquesStamp(model));
      rowsOf(stamps, info, [result]);
      deleted(graph, stamps, info);
      break;
    }
    case "deleteMany":
      stamps.add(uniquesStamp(model));
      deleted(graph, stamps, info);
      break;
    default:
      // createMany, updateMany: no rows to name.
      stamps.add(uniquesStamp(model));
      if (operation === "updateMany") keyChanges(graph, stamps, info, params.data);
  }
  return stamps;
}

/** Stamps for `$cache.invalidate({ models, tags })`. */
export function explicitStamps(models: readonly string[], tags: readonly string[]): Set<string> {
  const stamps = new Set<string>();
  for (const model of models) touchModel(stamps, model, true);
  for (const tag of tags) stamps.add(tagStamp(tag));
  return stamps;
}

/** Stamps for raw SQL that changed the rows of `models` (or, when none could be recognised, everything). */
export function rawWriteStamps(graph: ModelGraph, models: readonly string[]): Set<string> {
  const stamps = new Set<string>();
  if (models.length === 0) {
    stamps.add(EPOCH);
    return stamps;
  }
  for (const model of models) {
    const info = graph.models.get(model);
    touchModel(stamps, model, true);
    // The statement may delete rows or change keys: follow what the database does by itself in either case.
    if (!info) continue;
    deleted(graph, stamps, info);
    keyChanges(graph, stamps, info, Object.fromEntries([...info.fieldTypes.keys()].map((field) => [field, true])));
  }
  return stamps;
}

function touchModel(stamps: Set<string>, model: string, allRows = false): void {
  stamps.add(modelStamp(model));
  if (allRows) stamps.add(uniquesStamp(model));
}

function rowsOf(stamps: Set<string>, info: ModelInfo, records: unknown[]): void {
  for (const record of records) {
    const rows = recordRowStamps(info, record);
    if (rows === undefined) {
      stamps.add(uniquesStamp(info.name));
      return;
    }
    for (const row of rows) stamps.add(row);
  }
}

/**
 * A change to a unique field makes the row's old key unknowable from the result, so every unique lookup goes;
 * a change to a referenced key makes the database update (or null) the rows referencing it.
 */
function keyChanges(graph: ModelGraph, stamps: Set<string>, info: ModelInfo, data: unknown): void {
  if (!isPlainObject(data)) return;
  const changed = Object.keys(data).filter((field) => data[field] !== undefined && info.fieldTypes.has(field));
  if (changed.some((field) => info.uniqueFields.has(field))) stamps.add(uniquesStamp(info.name));
  if (!graph.precise) {
    if (changed.length > 0) coarseClosure(graph, stamps, info.name);
    return;
  }
  for (const dependent of info.dependents) {
    if (!changesRows(dependent.onUpdate) || !dependent.references.some((field) => changed.includes(field))) continue;
    touchModel(stamps, dependent.model, true);
    const next = graph.models.get(dependent.model);
    if (next && dependent.onUpdate === "Cascade") keyChanges(graph, stamps, next, Object.fromEntries(dependent.fields.map((f) => [f, true])));
  }
}

/** Rows of `info` were deleted: follow onDelete actions, transitively through cascades. */
function deleted(graph: ModelGraph, stamps: Set<string>, info: ModelInfo, seen = new Set<string>()): void {
  if (!graph.precise) {
    coarseClosure(graph, stamps, info.name);
    return;
  }
  if (seen.has(info.name)) return;
  seen.add(info.name);
  for (const dependent of info.dependents) {
    if (!changesRows(dependent.onDelete)) continue;
    touchModel(stamps, dependent.model, true);
    const next = graph.models.get(dependent.model);
    if (next && dependent.onDelete === "Cascade") deleted(graph, stamps, next, seen);
  }
}

function coarseClosure(graph: ModelGraph, stamps: Set<string>, model: string): void {
  for (const related of relatedClosure(graph, model)) touchModel(stamps, related, true);
}

/** Nested writes in `data`: every relation they touch changes rows of its model (and maybe cascades). */
function nestedWrites(graph: ModelGraph, stamps: Set<string>, info: ModelInfo, data: unknown): void {
  if (Array.isArray(data)) {
    for (const item of data) nestedWrites(graph, stamps, info, item);
    return;
  }
  if (!isPlainObject(data)) return;
  for (const [field, value] of Object.entries(data)) {
    const relation = info.relations.get(field);
    if (!relation || !isPlainObject(value)) continue;
    const target = graph.models.get(relation.model);
    // Rows on this side that change with it (a to-one foreign key) are named by the write's where and result,
    // but their old key is lost if the foreign key is itself unique (a 1-1 moved to another row).
    touchModel(stamps, relation.model, true);
    if (relation.fields.some((field) => info.uniqueFields.has(field))) stamps.add(uniquesStamp(info.name));
    if (!target) continue;
    for (const [op, payload] of Object.entries(value)) {
      if (!NESTED_WRITE_OPS.has(op) || payload === undefined) continue;
      if (op === "delete" || op === "deleteMany") deleted(graph, stamps, target);
      for (const nestedData of nestedPayloads(op, payload)) {
        keyChanges(graph, stamps, target, nestedData);
        nestedWrites(graph, stamps, target, nestedData);
      }
    }
  }
}

/** The `data` objects inside a nested operation's payload (which may be a list, or wrap them in `data`). */
function nestedPayloads(op: string, payload: unknown): unknown[] {
  const items = Array.isArray(payload) ? payload : [payload];
  const out: unknown[] = [];
  for (const item of items) {
    if (!isPlainObject(item)) continue;
    switch (op) {
      case "create":
        out.push(item);
        break;
      case "createMany":
        if (Array.isArray(item.data)) out.push(...item.data);
        else out.push(item.data);
        break;
      case "connectOrCreate":
        out.push(item.create);
        break;
      case "update":
      case "updateMany":
        out.push("data" in item && isPlainObject(item.data) ? item.data : item);
        break;
      case "upsert":
        out.push(item.create, item.update);
        break;
    }
  }
  return out;
}
