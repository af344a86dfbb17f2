import { modelStamp, uniquesStamp } from "../stamps/names.ts";
import { recordRowStamps } from "../stamps/row-stamps.ts";
import type { ModelGraph, ModelInfo } from "../schema/model-graph.ts";
import type { CacheSchema } from "../schema/cache-schema.ts";
import type { Relation, Tuple } from "./pgoutput.ts";

/**
 * Which stamps a row change that the database reports advances: the same stamps a write through the plugin would
 * (see invalidation.ts), computed from the table, the new row and, where the stream carries it, the old row.
 *
 * - INSERT, UPDATE, DELETE: the model's stamp, and the row's stamps under every unique constraint whose values the
 *   stream carries (new values always; old values for a whole old row with `REPLICA IDENTITY FULL`, and the old key
 *   when the key changed or the row was deleted). A unique constraint whose old values are unknown gets the model's
 *   unique-lookup stamp instead.
 * - TRUNCATE: the model's stamp and its unique-lookup stamp.
 * - An implicit m-n join table: the stamps of both models (reads that include the relation depend on them).
 *
 * Referential actions need nothing here: rows the database cascades to arrive as changes of their own.
 */

/** What a table's changes invalidate. */
export type TableTarget = { kind: "model"; info: ModelInfo; columns: ReadonlyMap<string, ColumnField> } | { kind: "join"; models: readonly string[] };

/** The field a column holds, and its Prisma type (to read the stream's text as the value a read would use). */
export interface ColumnField {
  field: string;
  type: string;
}

/** Tables the feed watches, by `schema.table` in lower case (what the stream's Relation messages name). */
export class ChangeStamps {
  private constructor(
    readonly tables: ReadonlyMap<string, TableTarget>,
    /** Each model's table, as `{ schema, table }` (exact spelling unknown in coarse mode: match it case-insensitively). */
    readonly watched: readonly { schema: string; table: string }[],
    private readonly graph: ModelGraph,
  ) {}

  /** The tables of every model in `graph` (and its implicit m-n join tables), in `defaultSchema` unless `@@schema` says otherwise. */
  static of(graph: ModelGraph, schema: CacheSchema | undefined, defaultSchema: string): ChangeStamps {
    const tables = new Map<string, TableTarget>();
    const watched: { schema: string; table: string }[] = [];
    const add = (namespace: string, table: string, target: TableTarget) => {
      const key = tableKey(namespace, table);
      if (tables.has(key)) return;
      tables.set(key, target);
      watched.push({ schema: namespace, table });
    };
    for (const info of graph.models.values()) {
      const described = schema?.models[info.name];
      const columns = new Map<string, ColumnField>();
      for (const [field, column] of Object.entries(described?.fields ?? {})) columns.set(column.dbName ?? field, { field, type: column.type });
      add(described?.schema ?? defaultSchema, info.dbName, { kind: "model", info, columns });
    }
    for (const [table, models] of graph.tables) {
      const namespace = schema?.models[models[0]!]?.schema ?? defaultSchema;
      if (!tables.has(tableKey(namespace, table))) add(namespace, table, { kind: "join", models });
    }
    return new ChangeStamps(tables, watched, graph);
  }

  /** What to advance on every (re)connect, when changes may have been missed: every model's stamps. */
  everything(): Set<string> {
    const stamps = new Set<string>();
    for (const model of this.graph.models.keys()) {
      stamps.add(modelStamp(model));
      stamps.add(uniquesStamp(model));
    }
    return stamps;
  }

  /** The target of a relation, or `undefined` for a table the feed does not watch. */
  target(relation: Relation): TableTarget | undefined {
    return this.tables.get(tableKey(relation.schema, relation.table));
  }

  insert(relation: Relation, row: Tuple, into: Set<string>): void {
    const target = this.target(relation);
    if (target === undefined) return;
    if (target.kind === "join") return void joinStamps(target, into);
    into.add(modelStamp(target.info.name));
    rowStamps(target, relation, row, allColumns(relation), into);
  }

  update(relation: Relation, old: Tuple | undefined, oldIsKeyOnly: boolean, row: Tuple, into: Set<string>): void {
    const target = this.target(relation);
    if (target === undefined) return;
    if (target.kind === "join") return void joinStamps(target, into);
    into.add(modelStamp(target.info.name));
    if (old === undefined) {
      // The key did not change (it would have been sent), so its row stamp is among the new row's; the old values
      // of any other unique constraint are unknown.
      if (relation.replicaIdentity === "n" || !uniquesWithin(target, relation)) into.add(uniquesStamp(target.info.name));
      rowStamps(target, relation, row, allColumns(relation), into);
      return;
    }
    // Values the new row does not repeat (unchanged TOASTed ones) are the old row's.
    const merged = row.map((value, i) => (value === undefined && !oldIsKeyOnly ? old[i] : value));
    rowStamps(target, relation, merged, allColumns(relation), into);
    this.oldRow(target, relation, old, oldIsKeyOnly, into);
  }

  delete(relation: Relation, old: Tuple, oldIsKeyOnly: boolean, into: Set<string>): void {
    const target = this.target(relation);
    if (target === undefined) return;
    if (target.kind === "join") return void joinStamps(target, into);
    into.add(modelStamp(target.info.name));
    this.oldRow(target, relation, old, oldIsKeyOnly, into);
  }

  truncate(relation: Relation, into: Set<string>): void {
    const target = this.target(relation);
    if (target === undefined) return;
    if (target.kind === "join") return void joinStamps(target, into);
    into.add(modelStamp(target.info.name));
    into.add(uniquesStamp(target.info.name));
  }

  private oldRow(target: ModelTarget, relation: Relation, old: Tuple, keyOnly: boolean, into: Set<string>): void {
    if (!keyOnly) return void rowStamps(target, relation, old, allColumns(relation), into);
    // Only the replica identity's columns were sent; other columns read as null but are unknown.
    const known = new Set(relation.columns.flatMap((column, i) => (column.isKey ? [i] : [])));
    rowStamps(target, relation, old, known, into);
    if (!uniquesWithin(target, relation)) into.add(uniquesStamp(target.info.name));
  }
}

type ModelTarget = Extract<TableTarget, { kind: "model" }>;

function tableKey(schema: string, table: string): string {
  return `${schema.toLowerCase()}.${table.toLowerCase()}`;
}

function joinStamps(target: Extract<TableTarget, { kind: "join" }>, into: Set<string>): void {
  for (const model of target.models) into.add(modelStamp(model));
}

function allColumns(relation: Relation): ReadonlySet<number> {
  return new Set(relation.columns.keys());
}

/** Whether every unique constraint of the model lies within the replica identity's columns (then the key names them all). */
function uniquesWithin(target: ModelTarget, relation: Relation): boolean {
  const keyFields = new Set(relation.columns.flatMap((column) => (column.isKey ? [target.columns.get(column.name)?.field] : [])));
  return target.info.uniques.every((unique) => unique.fields.every((field) => keyFields.has(field)));
}

/**
 * Adds the row stamp of every unique constraint whose values are among the `known` columns of `tuple`; when some
 * constraint's values are unknown (or unreadable), the model's unique-lookup stamp instead.
 */
function rowStamps(target: ModelTarget, relation: Relation, tuple: Tuple, known: ReadonlySet<number>, into: Set<string>): void {
  const { info } = target;
  if (info.uniques.length === 0) {
    // Coarse mode (no generator schema): no constraint is known, so every unique lookup goes.
    into.add(uniquesStamp(info.name));
    return;
  }
  const record: Record<string, unknown> = {};
  relation.columns.forEach((column, i) => {
    const field = target.columns.get(column.name);
    const text = tuple[i];
    if (field === undefined || !known.has(i) || text === undefined) return;
    const value = text === null ? null : fieldValue(field.type, column.typeOid, text);
    if (value !== undefined) record[field.field] = value;
  });
  for (const unique of info.uniques) {
    const stamps = recordRowStamps({ ...info, uniques: [unique] }, record);
    if (stamps === undefined) into.add(uniquesStamp(info.name));
    else for (const stamp of stamps) into.add(stamp);
  }
}

const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const DATE = 1082;

/**
 * The value a Prisma read would use for a column's text, so the row stamp matches the one its lookup computes
 * (dependencies.ts normalizes numbers, dates and decimals); `undefined` when it cannot be read safely.
 */
function fieldValue(type: string, typeOid: number, text: string): unknown {
  switch (type) {
    case "Int":
    case "Float":
      return Number(text);
    case "BigInt":
      return /^-?\d+$/.test(text) ? BigInt(text) : undefined;
    case "Boolean":
      return text === "t" ? true : text === "f" ? false : undefined;
    case "DateTime":
      return dateValue(typeOid, text);
    case "Bytes":
      return text.startsWith("\\x") ? Buffer.from(text.slice(2), "hex") : undefined;
    case "Json":
      return undefined;
    default:
      // String, Decimal (normalized from text), enums.
      return text;
  }
}

function dateValue(typeOid: number, text: string): Date | undefined {
  let iso: string;
  if (typeOid === TIMESTAMP) iso = `${text.replace(" ", "T")}Z`;
  else if (typeOid === TIMESTAMPTZ) iso = text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  else if (typeOid === DATE) iso = `${text}T00:00:00Z`;
  else return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Replaces row stamps by their models' unique-lookup stamps, so a huge transaction costs a few stamps. */
export function coarsen(stamps: Set<string>): void {
  for (const stamp of [...stamps]) {
    if (!stamp.startsWith("r:")) continue;
    stamps.delete(stamp);
    // Row stamps are `r:<Model>:<key>` (dependencies.ts).
    stamps.add(uniquesStamp(stamp.slice(2, stamp.indexOf(":", 2))));
  }
}
