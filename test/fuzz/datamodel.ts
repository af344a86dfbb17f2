/**
 * The fuzzer's view of a Prisma schema, read from the full DMMF that `test/fuzz/dmmf-generator.ts` writes at
 * `prisma generate` time: scalar fields with native types and defaults, every unique input, and both sides of every
 * relation.
 */
import { readFileSync } from "node:fs";

export interface DmmfFieldJson {
  name: string;
  kind: "scalar" | "object" | "enum" | "unsupported";
  type: string;
  isList: boolean;
  isRequired: boolean;
  isUnique: boolean;
  isId: boolean;
  isReadOnly: boolean;
  hasDefaultValue: boolean;
  isUpdatedAt: boolean;
  dbName?: string | null;
  nativeType?: [string, string[]] | null;
  default?: unknown;
  relationName?: string;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
}

interface DmmfModelJson {
  name: string;
  dbName: string | null;
  fields: DmmfFieldJson[];
  primaryKey: { name: string | null; fields: string[] } | null;
  uniqueIndexes: { name: string | null; fields: string[] }[];
}

interface DmmfJson {
  provider: string;
  datamodel: { models: DmmfModelJson[]; enums: { name: string; values: { name: string }[] }[] };
}

export interface ScalarField {
  name: string;
  /** The column name (`@map`). */
  column: string;
  kind: "scalar" | "enum";
  type: string;
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  hasDefault: boolean;
  isUpdatedAt: boolean;
  /** Part of a relation's foreign key on this model. */
  isForeignKey: boolean;
  /** e.g. `["Uuid", []]`, `["Char", ["8"]]`, `["Citext", []]`. */
  nativeType: [string, string[]] | null;
  /** `autoincrement`, `uuid`, `cuid`, `now`, a literal, ... */
  defaultName: string | undefined;
}

export interface Unique {
  /** The key in `WhereUniqueInput`: the field for one field, `a_b` (or the `name:`) for a compound. */
  name: string;
  fields: string[];
}

export interface Relation {
  field: string;
  model: string;
  isList: boolean;
  isRequired: boolean;
  /** Foreign key fields on this side (empty when the key lives on the other side or in a join table). */
  from: string[];
  to: string[];
  /** The other side's field. */
  back: string;
  /** Both sides are lists without keys: an implicit many-to-many. */
  implicitManyToMany: boolean;
  /** The key on the other side (for a list or the back of a 1-1): whether those fields are all optional. */
  backKeyOptional: boolean;
  onDelete: string | undefined;
}

export interface Model {
  name: string;
  /** The client property: `camelCase` of the name. */
  delegate: string;
  table: string;
  scalars: ScalarField[];
  uniques: Unique[];
  primaryKey: Unique;
  relations: Relation[];
}

export interface Datamodel {
  provider: string;
  models: Model[];
  enums: Record<string, string[]>;
  model(name: string): Model;
}

export function loadDatamodel(path: string): Datamodel {
  const json = JSON.parse(readFileSync(path, "utf8")) as DmmfJson;
  const raw = json.datamodel.models;
  const models = raw.map((model) => buildModel(model, raw));
  const byName = new Map(models.map((model) => [model.name, model]));
  return {
    provider: json.provider,
    models,
    enums: Object.fromEntries(json.datamodel.enums.map((e) => [e.name, e.values.map((v) => v.name)])),
    model: (name) => {
      const model = byName.get(name);
      if (!model) throw new Error(`unknown model ${name}`);
      return model;
    },
  };
}

function buildModel(model: DmmfModelJson, all: DmmfModelJson[]): Model {
  const foreignKeys = new Set(model.fields.flatMap((field) => field.relationFromFields ?? []));
  const scalars: ScalarField[] = model.fields
    .filter((field) => field.kind === "scalar" || field.kind === "enum")
    .map((field) => ({
      name: field.name,
      column: field.dbName ?? field.name,
      kind: field.kind as "scalar" | "enum",
      type: field.type,
      isList: field.isList,
      isRequired: field.isRequired,
      isId: field.isId,
      isUnique: field.isUnique,
      hasDefault: field.hasDefaultValue,
      isUpdatedAt: field.isUpdatedAt,
      isForeignKey: foreignKeys.has(field.name),
      nativeType: field.nativeType ?? null,
      defaultName: defaultName(field.default),
    }));

  const uniques: Unique[] = [];
  const add = (name: string, fields: string[]) => {
    if (!uniques.some((unique) => unique.name === name)) uniques.push({ name, fields });
  };
  const nameOf = (explicit: string | null, fields: string[]) => (fields.length === 1 ? fields[0]! : (explicit ?? fields.join("_")));
  const pkFields = model.primaryKey?.fields.length ? model.primaryKey.fields : model.fields.filter((f) => f.isId).map((f) => f.name);
  add(nameOf(model.primaryKey?.name ?? null, pkFields), pkFields);
  for (const field of model.fields) if (field.isUnique) add(field.name, [field.name]);
  for (const index of model.uniqueIndexes) add(nameOf(index.name, index.fields), index.fields);

  const relations: Relation[] = model.fields
    .filter((field) => field.kind === "object")
    .map((field) => {
      const target = all.find((m) => m.name === field.type)!;
      const back = target.fields.find((f) => f.kind === "object" && f.relationName === field.relationName && (target.name !== model.name || f.name !== field.name))!;
      const from = field.relationFromFields ?? [];
      const backFrom = back.relationFromFields ?? [];
      return {
        field: field.name,
        model: field.type,
        isList: field.isList,
        isRequired: field.isRequired,
        from,
        to: field.relationToFields ?? [],
        back: back.name,
        implicitManyToMany: field.isList && back.isList,
        backKeyOptional: backFrom.every((name) => target.fields.find((f) => f.name === name)?.isRequired === false),
        onDelete: field.relationOnDelete ?? back.relationOnDelete,
      };
    });

  return {
    name: model.name,
    delegate: model.name.charAt(0).toLowerCase() + model.name.slice(1),
    table: model.dbName ?? model.name,
    scalars,
    uniques,
    primaryKey: uniques[0]!,
    relations,
  };
}

function defaultName(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value && typeof value === "object" && "name" in value) return String((value as { name: unknown }).name);
  return "literal";
}
