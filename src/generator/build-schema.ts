import type { CacheSchema, CacheSchemaField, CacheSchemaJoinTable, CacheSchemaModel, CacheSchemaRelation, CacheSchemaUnique, ReferentialAction } from "../schema/cache-schema.ts";

/**
 * The parts of a DMMF field the cache schema reads. Declared here rather than imported from `@prisma/dmmf`, which
 * is not a direct dependency, so that any Prisma 7 `options.dmmf.datamodel` and hand-written test fixtures both fit.
 */
export interface DmmfField {
  readonly name: string;
  readonly kind: "scalar" | "object" | "enum" | "unsupported";
  readonly type: string;
  readonly isList: boolean;
  readonly isRequired: boolean;
  readonly isUnique: boolean;
  readonly isId: boolean;
  readonly dbName?: string | null;
  readonly relationName?: string;
  readonly relationFromFields?: readonly string[];
  readonly relationToFields?: readonly string[];
  /** Present only when the schema sets `onDelete` explicitly. */
  readonly relationOnDelete?: string;
  /** Present only when the schema sets `onUpdate` explicitly. */
  readonly relationOnUpdate?: string;
}

/** The parts of a DMMF model the cache schema reads. */
export interface DmmfModel {
  readonly name: string;
  readonly dbName: string | null;
  readonly schema?: string | null;
  readonly fields: readonly DmmfField[];
  readonly primaryKey: { readonly name: string | null; readonly fields: readonly string[] } | null;
  readonly uniqueIndexes: readonly { readonly name: string | null; readonly fields: readonly string[] }[];
}

/** The parts of `options.dmmf.datamodel` the cache schema reads. */
export interface DmmfDatamodel {
  readonly models: readonly DmmfModel[];
}

const REFERENTIAL_ACTIONS: readonly ReferentialAction[] = ["Cascade", "Restrict", "NoAction", "SetNull", "SetDefault"];

/**
 * Turns Prisma's full DMMF into the `CacheSchema` the plugin invalidates with, because the generated Prisma 7 client
 * keeps no ids, unique constraints, foreign keys or referential actions at runtime.
 *
 * Models and join tables are sorted by name, and fields, uniques and relations keep their declaration order, so
 * regenerating an unchanged schema writes an identical file.
 */
export function buildCacheSchema(datamodel: DmmfDatamodel, provider?: string, fingerprint?: string): CacheSchema {
  const models: Record<string, CacheSchemaModel> = {};
  for (const model of [...datamodel.models].sort((a, b) => compare(a.name, b.name))) {
    models[model.name] = buildModel(model);
  }
  return {
    version: 1,
    ...(provider !== undefined ? { provider } : {}),
    ...(fingerprint !== undefined ? { fingerprint } : {}),
    models,
    joinTables: buildJoinTables(datamodel.models),
  };
}

function buildModel(model: DmmfModel): CacheSchemaModel {
  const fields: Record<string, CacheSchemaField> = {};
  for (const field of model.fields) {
    if (field.kind === "object") continue;
    const entry: CacheSchemaField = { type: field.type, kind: field.kind, isList: field.isList };
    if (field.dbName) entry.dbName = field.dbName;
    fields[field.name] = entry;
  }

  const primaryKey = primaryKeyOf(model);
  return {
    dbName: model.dbName ?? model.name,
    ...(model.schema ? { schema: model.schema } : {}),
    fields,
    primaryKey,
    uniques: uniquesOf(model, primaryKey),
    relations: model.fields.filter((field) => field.kind === "object").map((field) => buildRelation(model, field)),
  };
}

function primaryKeyOf(model: DmmfModel): string[] {
  if (model.primaryKey && model.primaryKey.fields.length > 0) return [...model.primaryKey.fields];
  return model.fields.filter((field) => field.isId).map((field) => field.name);
}

/** Names follow the keys of Prisma's `WhereUniqueInput`: a single field is always its own name, even under `name:`. */
function uniquesOf(model: DmmfModel, primaryKey: string[]): CacheSchemaUnique[] {
  const uniques: CacheSchemaUnique[] = [];
  const add = (name: string, fields: readonly string[]): void => {
    if (!uniques.some((unique) => unique.name === name)) uniques.push({ name, fields: [...fields] });
  };
  const nameOf = (explicit: string | null | undefined, fields: readonly string[]): string => (fields.length === 1 ? fields[0]! : (explicit ?? fields.join("_")));

  if (primaryKey.length > 0) add(nameOf(model.primaryKey?.name, primaryKey), primaryKey);
  for (const field of model.fields) {
    if (field.isUnique) add(field.name, [field.name]);
  }
  for (const index of model.uniqueIndexes) add(nameOf(index.name, index.fields), index.fields);
  return uniques;
}

function buildRelation(model: DmmfModel, field: DmmfField): CacheSchemaRelation {
  const fields = [...(field.relationFromFields ?? [])];
  const relation: CacheSchemaRelation = {
    field: field.name,
    model: field.type,
    name: field.relationName ?? "",
    isList: field.isList,
    fields,
    references: [...(field.relationToFields ?? [])],
  };
  if (fields.length > 0) {
    // The DMMF omits the actions Prisma applies by default; these are Prisma's documented defaults.
    const allOptional = fields.every((name) => model.fields.find((f) => f.name === name)?.isRequired === false);
    relation.onDelete = referentialAction(field.relationOnDelete, allOptional ? "SetNull" : "Restrict", model, field);
    relation.onUpdate = referentialAction(field.relationOnUpdate, "Cascade", model, field);
  }
  return relation;
}

function referentialAction(value: string | undefined, fallback: ReferentialAction, model: DmmfModel, field: DmmfField): ReferentialAction {
  if (value === undefined) return fallback;
  if ((REFERENTIAL_ACTIONS as readonly string[]).includes(value)) return value as ReferentialAction;
  throw new Error(
    `[prisma-cache-plugin] ${model.name}.${field.name} has a referential action this generator does not know; ` +
      `expected one of ${REFERENTIAL_ACTIONS.join(", ")}, received: ${value}`,
  );
}

/**
 * An implicit many-to-many relation is one whose every side is a list without foreign-key fields. Both sides share a
 * relation name, so a self-relation (two fields on one model) yields a single table.
 */
function buildJoinTables(models: readonly DmmfModel[]): CacheSchemaJoinTable[] {
  const sides = new Map<string, { name: string; models: [string, string]; implicit: boolean }>();
  for (const model of models) {
    for (const field of model.fields) {
      if (field.kind !== "object" || field.relationName === undefined) continue;
      // Prisma names the join table's columns A and B after the models in alphabetical order.
      const pair = [model.name, field.type].sort(compare) as [string, string];
      const key = `${field.relationName}\u0000${pair[0]}\u0000${pair[1]}`;
      const implicitSide = field.isList && (field.relationFromFields ?? []).length === 0;
      const entry = sides.get(key);
      if (entry) entry.implicit &&= implicitSide;
      else sides.set(key, { name: field.relationName, models: pair, implicit: implicitSide });
    }
  }
  return [...sides.values()]
    .filter((entry) => entry.implicit)
    .map((entry) => ({ table: `_${entry.name}`, models: entry.models }))
    .sort((a, b) => compare(a.table, b.table));
}

/** Code-unit order, not `localeCompare`, so the output does not depend on the machine's locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
