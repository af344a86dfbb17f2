/**
 * The schema metadata invalidation needs: which fields identify a row, how models relate, and what the database
 * does to other rows when one is deleted or its key changes.
 *
 * Prisma 7's generated client keeps only a slim runtime data model (no ids, unique constraints, foreign keys or
 * referential actions), so the package's Prisma generator writes a `CacheSchema` from the full DMMF. Without it the
 * plugin derives a coarse schema from the runtime data model and over-invalidates instead of guessing.
 */

/** A referential action as Prisma spells it in `onDelete` / `onUpdate`. */
export type ReferentialAction = "Cascade" | "Restrict" | "NoAction" | "SetNull" | "SetDefault";

/** A scalar or enum field. */
export interface CacheSchemaField {
  /** Prisma scalar type (`Int`, `BigInt`, `DateTime`, ...) or the enum's name. */
  type: string;
  kind: "scalar" | "enum" | "unsupported";
  isList: boolean;
  /** Column name where `@map` renames it. */
  dbName?: string;
}

/** One side of a relation, as seen from the model that declares the field. */
export interface CacheSchemaRelation {
  /** The relation field on this model (`posts`, `author`). */
  field: string;
  /** The model at the other end. */
  model: string;
  /** Prisma's relation name (`PostToUser`), shared by both sides. */
  name: string;
  isList: boolean;
  /** Foreign-key fields held by this model; empty when the other side holds the key, or for implicit m-n. */
  fields: string[];
  /** Fields of `model` that `fields` reference. */
  references: string[];
  /** What the database does to this model's rows when the referenced row is deleted (only where `fields` is set). */
  onDelete?: ReferentialAction;
  /** What the database does to this model's rows when the referenced key changes (only where `fields` is set). */
  onUpdate?: ReferentialAction;
}

/** A unique constraint, named as Prisma names its key in `WhereUniqueInput` (`id`, `email`, `namespace_name`). */
export interface CacheSchemaUnique {
  name: string;
  fields: string[];
}

export interface CacheSchemaModel {
  /** Table name, after `@@map`. */
  dbName: string;
  /** Database schema (`@@schema`), when the datasource uses several. */
  schema?: string | null;
  /** Scalar and enum fields by name. */
  fields: Record<string, CacheSchemaField>;
  /** Fields of the primary key (`@id` or `@@id`). */
  primaryKey: string[];
  /** Every unique constraint, the primary key first. */
  uniques: CacheSchemaUnique[];
  relations: CacheSchemaRelation[];
}

/** An implicit many-to-many join table (`_CategoryToPost`), which raw SQL may name. */
export interface CacheSchemaJoinTable {
  table: string;
  models: [string, string];
}

/** What the `prisma-cache-plugin` generator writes and `cachePlugin({ schema })` takes. */
export interface CacheSchema {
  version: 1;
  /** The datasource provider the schema was generated for (`postgresql`, `mysql`, ...). */
  provider?: string;
  models: Record<string, CacheSchemaModel>;
  joinTables: CacheSchemaJoinTable[];
}
