import type { ModelGraph, ModelInfo } from "../schema/model-graph.ts";
import { isPlainObject } from "../validate.ts";
import { EPOCH, modelStamp, tagStamp, uniquesStamp } from "./names.ts";
import { isSpellingSensitive, type PinnedRow, pinnedRow } from "./row-stamps.ts";

/**
 * What a cached read depends on, as stamps (names.ts): the epoch, its row's stamps when it pins one row by a unique
 * key, its model's stamp otherwise, the stamp of every model it reaches through relations, and its tags.
 */

/** Operations whose `where` may name exactly one row. */
const SINGLE_ROW_READS = new Set(["findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow"]);

/** The stamps a read of `model` with `operation` and `args` depends on (its exact entry, when it has two). */
export function readStamps(graph: ModelGraph, model: string, operation: string, args: unknown, tags: readonly string[]): string[] {
  return readDependencies(graph, model, operation, args, tags).stamps;
}

/**
 * What a read depends on. A unique lookup by a spelling-sensitive key (row-stamps.ts) has two entries: the exact
 * one (`stamps`), filled only when the row found stores the lookup's own spelling, whose row stamp writes advance;
 * and the loose one (`spelling.looseStamps`: the model's stamp instead of the row's), for every other answer (null,
 * another spelling, the key not selected), which any write of the model invalidates.
 */
export interface ReadDependencies {
  stamps: string[];
  spelling?: { pinned: PinnedRow; looseStamps: string[] };
}

export function readDependencies(graph: ModelGraph, model: string, operation: string, args: unknown, tags: readonly string[]): ReadDependencies {
  const info = graph.models.get(model);
  const where = isPlainObject(args) ? args.where : undefined;
  // A cursor on another row makes the answer depend on that row too: no longer a lookup of one row.
  const cursor = isPlainObject(args) && args.cursor !== undefined && args.cursor !== null;
  const pinned = info && !cursor && SINGLE_ROW_READS.has(operation) ? pinnedRow(info, where) : undefined;
  const rest = new Set<string>();
  if (info && isPlainObject(args)) reachArgs(graph, info, args, rest);
  const others = [...rest].map(modelStamp);
  const tagged = tags.map(tagStamp);
  const loose = (): string[] => [...new Set([EPOCH, modelStamp(model), ...others, ...tagged])];
  if (!pinned) return { stamps: loose() };
  const stamps = [...new Set([EPOCH, uniquesStamp(model), pinned.stamp, ...others, ...tagged])];
  if (!isSpellingSensitive(info!, pinned.unique)) return { stamps };
  return { stamps, spelling: { pinned, looseStamps: loose() } };
}

/** The stamps of a tagged raw query: its tags, and the models whose tables its SQL names. */
export function rawReadStamps(models: readonly string[], tags: readonly string[]): string[] {
  return [EPOCH, ...models.map(modelStamp), ...tags.map(tagStamp)];
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
