import type { CacheSchema, CacheSchemaUnique, ReferentialAction } from "./cache-schema.ts";

/**
 * The schema as dependency and invalidation rules need it: relations by field, unique constraints, and for each
 * model the foreign keys elsewhere that point at it (so a delete knows what the database cascades to).
 * Built once per extension, from the generator's `CacheSchema` (precise) or from the client's slim runtime data
 * model (coarse: no uniques, and every relation treated as if it cascaded both ways).
 */

export interface RelationInfo {
  model: string;
  isList: boolean | undefined;
  /** Foreign-key fields this side holds (empty when the other side holds them, or not known in coarse mode). */
  fields: readonly string[];
}

/** A foreign key in `model` (its `fields`) that references `references` of the model this is listed under. */
export interface DependentInfo {
  model: string;
  fields: string[];
  references: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

export interface ModelInfo {
  name: string;
  /** Table name, after `@@map`. */
  dbName: string;
  /** Scalar and enum field types by name. */
  fieldTypes: ReadonlyMap<string, string>;
  /** Unique constraints, primary key first; empty in coarse mode. */
  uniques: readonly CacheSchemaUnique[];
  /** Every field that is part of some unique constraint. */
  uniqueFields: ReadonlySet<string>;
  relations: ReadonlyMap<string, RelationInfo>;
  /** Foreign keys of other models (or this one) that reference this model. */
  dependents: readonly DependentInfo[];
}

export interface ModelGraph {
  /** False when built without the generator's schema: invalidation then over-approximates. */
  precise: boolean;
  models: ReadonlyMap<string, ModelInfo>;
  /** Lower-cased table names (models and implicit m-n join tables) to the models whose rows they hold. */
  tables: ReadonlyMap<string, readonly string[]>;
}

/** The slim data model every Prisma 7 client carries (`client._runtimeDataModel`). */
export interface RuntimeDataModel {
  models: Record<string, { dbName?: string | null; fields: { name: string; kind: string; type: string; relationName?: string; dbName?: string | null }[] }>;
}

const CHANGES_ROWS: ReadonlySet<ReferentialAction> = new Set(["Cascade", "SetNull", "SetDefault"]);

/** Whether a referential action makes the database change the referencing rows. */
export function changesRows(action: ReferentialAction): boolean {
  return CHANGES_ROWS.has(action);
}

export function graphFromSchema(schema: CacheSchema): ModelGraph {
  const dependents = new Map<string, DependentInfo[]>();
  for (const [name, model] of Object.entries(schema.models)) {
    for (const relation of model.relations) {
      if (relation.fields.length === 0) continue;
      const list = dependents.get(relation.model) ?? [];
      list.push({
        model: name,
        fields: relation.fields,
        references: relation.references,
        onDelete: relation.onDelete ?? "Restrict",
        onUpdate: relation.onUpdate ?? "Cascade",
      });
      dependents.set(relation.model, list);
    }
  }
  const models = new Map<string, ModelInfo>();
  const tables = new Map<string, string[]>();
  for (const [name, model] of Object.entries(schema.models)) {
    models.set(name, {
      name,
      dbName: model.dbName,
      fieldTypes: new Map(Object.entries(model.fields).map(([field, info]) => [field, info.type])),
      uniques: model.uniques,
      uniqueFields: new Set(model.uniques.flatMap((unique) => unique.fields)),
      relations: new Map(model.relations.map((relation) => [relation.field, { model: relation.model, isList: relation.isList, fields: relation.fields }])),
      dependents: dependents.get(name) ?? [],
    });
    addTable(tables, model.dbName, name);
  }
  for (const join of schema.joinTables) for (const model of join.models) addTable(tables, join.table, model);
  return { precise: true, models, tables };
}

export function graphFromRuntime(runtime: RuntimeDataModel): ModelGraph {
  const models = new Map<string, ModelInfo>();
  const tables = new Map<string, string[]>();
  for (const [name, model] of Object.entries(runtime.models)) {
    const fieldTypes = new Map<string, string>();
    const relations = new Map<string, RelationInfo>();
    for (const field of model.fields) {
      if (field.kind === "object") relations.set(field.name, { model: field.type, isList: undefined, fields: [] });
      else fieldTypes.set(field.name, field.type);
    }
    const dbName = model.dbName ?? name;
    models.set(name, { name, dbName, fieldTypes, uniques: [], uniqueFields: new Set(), relations, dependents: [] });
    addTable(tables, dbName, name);
  }
  // Implicit m-n tables are named after the relation; both sides carry the same relation name.
  for (const [name, model] of Object.entries(runtime.models)) {
    for (const field of model.fields) {
      if (field.kind === "object" && field.relationName) addTable(tables, `_${field.relationName}`, name);
    }
  }
  return { precise: false, models, tables };
}

/**
 * Every model whose rows a write to `model` might change through referential actions, in coarse mode: the
 * runtime data model does not say which side holds a key or what it does, so assume every relation cascades.
 */
export function relatedClosure(graph: ModelGraph, model: string): Set<string> {
  const seen = new Set<string>([model]);
  const queue = [model];
  while (queue.length > 0) {
    const info = graph.models.get(queue.pop()!);
    if (!info) continue;
    for (const relation of info.relations.values()) {
      if (!seen.has(relation.model)) {
        seen.add(relation.model);
        queue.push(relation.model);
      }
    }
  }
  return seen;
}

function addTable(tables: Map<string, string[]>, table: string, model: string): void {
  const key = table.toLowerCase();
  const list = tables.get(key) ?? [];
  if (!list.includes(model)) list.push(model);
  tables.set(key, list);
}
