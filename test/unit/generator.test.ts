import { describe, expect, it } from "vitest";
import { buildCacheSchema } from "../../src/generator/build-schema.ts";
import type { DmmfDatamodel, DmmfField, DmmfModel } from "../../src/generator/build-schema.ts";
import { renderCacheSchemaModule } from "../../src/generator/emit.ts";

// A hand-written DMMF in the shape Prisma 7.10 hands generators: `relationOnDelete` / `relationOnUpdate` appear only
// where the schema sets them, and unnamed compound uniques have `name: null`.

function scalar(name: string, type: string, extra: Partial<DmmfField> = {}): DmmfField {
  return { name, kind: "scalar", type, isList: false, isRequired: true, isUnique: false, isId: false, ...extra };
}

function relation(name: string, type: string, relationName: string, extra: Partial<DmmfField> = {}): DmmfField {
  return {
    name,
    kind: "object",
    type,
    relationName,
    isList: false,
    isRequired: true,
    isUnique: false,
    isId: false,
    relationFromFields: [],
    relationToFields: [],
    ...extra,
  };
}

function model(name: string, fields: DmmfField[], extra: Partial<DmmfModel> = {}): DmmfModel {
  return { name, dbName: null, schema: null, fields, primaryKey: null, uniqueIndexes: [], ...extra };
}

const id = scalar("id", "Int", { isId: true });

const datamodel: DmmfDatamodel = {
  models: [
    model("User", [
      id,
      scalar("email", "String", { isUnique: true }),
      scalar("role", "Role", { kind: "enum" }),
      scalar("location", "point", { kind: "unsupported", isRequired: false }),
      relation("posts", "Post", "author", { isList: true }),
      relation("edited", "Post", "editor", { isList: true }),
      relation("reviewed", "Post", "reviewer", { isList: true }),
    ]),
    model("Post", [
      id,
      scalar("authorId", "Int", { isRequired: false }),
      relation("author", "User", "author", {
        isRequired: false,
        relationFromFields: ["authorId"],
        relationToFields: ["id"],
      }),
      scalar("editorId", "Int"),
      relation("editor", "User", "editor", { relationFromFields: ["editorId"], relationToFields: ["id"] }),
      scalar("reviewerId", "Int", { isRequired: false }),
      relation("reviewer", "User", "reviewer", {
        isRequired: false,
        relationFromFields: ["reviewerId"],
        relationToFields: ["id"],
        relationOnDelete: "Cascade",
        relationOnUpdate: "NoAction",
      }),
      relation("categories", "Category", "CategoryToPost", { isList: true }),
      relation("tags", "PostTag", "PostToPostTag", { isList: true }),
    ]),
    model("Category", [
      id,
      relation("posts", "Post", "CategoryToPost", { isList: true }),
      relation("related", "Category", "Related", { isList: true }),
      relation("relatedOf", "Category", "Related", { isList: true }),
    ]),
    model(
      "Tag",
      [
        id,
        scalar("namespace", "String"),
        scalar("name", "String"),
        scalar("slug", "String"),
        scalar("code", "String", { isUnique: true }),
        relation("posts", "PostTag", "PostTagToTag", { isList: true }),
      ],
      {
        uniqueIndexes: [
          { name: null, fields: ["namespace", "name"] },
          { name: "bySlugAndName", fields: ["slug", "name"] },
          // Prisma also marks the field of a single-field `@@unique([code], name: "byCode")` as `isUnique`.
          { name: "byCode", fields: ["code"] },
        ],
      },
    ),
    model(
      "PostTag",
      [
        scalar("postId", "Int"),
        scalar("tagId", "Int"),
        relation("post", "Post", "PostToPostTag", { relationFromFields: ["postId"], relationToFields: ["id"] }),
        relation("tag", "Tag", "PostTagToTag", { relationFromFields: ["tagId"], relationToFields: ["id"] }),
      ],
      { primaryKey: { name: null, fields: ["postId", "tagId"] } },
    ),
    model("Membership", [scalar("orgId", "Int"), scalar("userId", "Int")], {
      primaryKey: { name: "membershipKey", fields: ["orgId", "userId"] },
    }),
    model("AuditLog", [id, scalar("action", "String", { dbName: "action_name" })], {
      dbName: "audit_logs",
      schema: "audit",
    }),
  ],
};

const schema = buildCacheSchema(datamodel, "postgresql");

function relationOf(modelName: string, field: string) {
  return schema.models[modelName]?.relations.find((r) => r.field === field);
}

describe("buildCacheSchema", () => {
  it("defaults onDelete to SetNull and onUpdate to Cascade when every foreign key is optional", () => {
    expect(relationOf("Post", "author")).toEqual({
      field: "author",
      model: "User",
      name: "author",
      isList: false,
      fields: ["authorId"],
      references: ["id"],
      onDelete: "SetNull",
      onUpdate: "Cascade",
    });
  });

  it("defaults onDelete to Restrict when a foreign key is required", () => {
    expect(relationOf("Post", "editor")).toMatchObject({ onDelete: "Restrict", onUpdate: "Cascade" });
  });

  it("keeps referential actions the schema sets explicitly", () => {
    expect(relationOf("Post", "reviewer")).toMatchObject({ onDelete: "Cascade", onUpdate: "NoAction" });
  });

  it("leaves referential actions unset on the side that holds no foreign key", () => {
    expect(relationOf("User", "posts")).toEqual({
      field: "posts",
      model: "Post",
      name: "author",
      isList: true,
      fields: [],
      references: [],
    });
  });

  it("rejects a referential action it does not know", () => {
    const broken = model("Post", [scalar("authorId", "Int"), relation("author", "User", "author", { relationFromFields: ["authorId"], relationOnDelete: "Explode" })]);
    expect(() => buildCacheSchema({ models: [broken] })).toThrow(/Post\.author.*received: Explode/);
  });

  it("names a compound primary key by its fields joined with underscores unless it has a name", () => {
    expect(schema.models.PostTag?.primaryKey).toEqual(["postId", "tagId"]);
    expect(schema.models.PostTag?.uniques).toEqual([{ name: "postId_tagId", fields: ["postId", "tagId"] }]);
    expect(schema.models.Membership?.uniques).toEqual([{ name: "membershipKey", fields: ["orgId", "userId"] }]);
  });

  it("lists the primary key first, then @unique fields, then @@unique constraints as WhereUniqueInput names them", () => {
    expect(schema.models.Tag?.uniques).toEqual([
      { name: "id", fields: ["id"] },
      { name: "code", fields: ["code"] },
      { name: "namespace_name", fields: ["namespace", "name"] },
      { name: "bySlugAndName", fields: ["slug", "name"] },
    ]);
  });

  it("takes a single-field primary key from the field marked as id", () => {
    expect(schema.models.User?.primaryKey).toEqual(["id"]);
    expect(schema.models.User?.uniques).toEqual([
      { name: "id", fields: ["id"] },
      { name: "email", fields: ["email"] },
    ]);
  });

  it("uses @@map and @map names as dbName and the model name where the table is not mapped", () => {
    expect(schema.models.AuditLog?.dbName).toBe("audit_logs");
    expect(schema.models.AuditLog?.schema).toBe("audit");
    expect(schema.models.AuditLog?.fields.action).toEqual({
      type: "String",
      kind: "scalar",
      isList: false,
      dbName: "action_name",
    });
    expect(schema.models.AuditLog?.fields.id).not.toHaveProperty("dbName");
    expect(schema.models.User?.dbName).toBe("User");
    expect(schema.models.User).not.toHaveProperty("schema");
  });

  it("lists scalar, enum and unsupported fields but not relation fields", () => {
    expect(schema.models.User?.fields).toEqual({
      id: { type: "Int", kind: "scalar", isList: false },
      email: { type: "String", kind: "scalar", isList: false },
      role: { type: "Role", kind: "enum", isList: false },
      location: { type: "point", kind: "unsupported", isList: false },
    });
  });

  it("lists implicit many-to-many join tables once each, self-relations included, and not explicit ones", () => {
    expect(schema.joinTables).toEqual([
      { table: "_CategoryToPost", models: ["Category", "Post"] },
      { table: "_Related", models: ["Category", "Category"] },
    ]);
  });

  it("records the datasource provider only when it is given", () => {
    expect(schema.provider).toBe("postgresql");
    expect(buildCacheSchema(datamodel)).not.toHaveProperty("provider");
  });

  it("produces the same output whatever the order of models in the DMMF", () => {
    const reversed = buildCacheSchema({ models: [...datamodel.models].reverse() }, "postgresql");
    expect(JSON.stringify(reversed)).toBe(JSON.stringify(schema));
    expect(Object.keys(schema.models)).toEqual(["AuditLog", "Category", "Membership", "Post", "PostTag", "Tag", "User"]);
  });
});

describe("renderCacheSchemaModule", () => {
  it("writes CommonJS that evaluates to the schema it was given", () => {
    const files = renderCacheSchemaModule(schema, "cjs");
    expect(files.map((file) => file.path)).toEqual(["index.js", "index.d.ts", "package.json"]);
    const exports: { cacheSchema?: unknown } = {};
    new Function("exports", files[0]!.contents)(exports);
    expect(exports.cacheSchema).toEqual(schema);
    expect(JSON.parse(files[2]!.contents)).toMatchObject({ type: "commonjs" });
  });

  it("writes an ES module with its declaration file and a package.json of type module", () => {
    const files = renderCacheSchemaModule(schema, "esm");
    expect(files.map((file) => file.path)).toEqual(["index.js", "index.d.ts", "package.json"]);
    expect(files[0]!.contents).toContain("export const cacheSchema = {");
    expect(files[1]!.contents).toMatch(/export declare const cacheSchema: CacheSchema<"\w+"( \| "\w+")*>;/);
    expect(JSON.parse(files[2]!.contents)).toMatchObject({ type: "module" });
  });

  it("writes one TypeScript file importing CacheSchema from the package unless typesFrom says otherwise", () => {
    const [byDefault] = renderCacheSchemaModule(schema);
    expect(byDefault?.path).toBe("index.ts");
    expect(byDefault?.contents).toContain('import type { CacheSchema } from "prisma-cache-plugin";');
    expect(byDefault?.contents).toMatch(/export const cacheSchema: CacheSchema<"\w+"( \| "\w+")*> = \{/);

    const [local] = renderCacheSchemaModule(schema, "ts", { typesFrom: "../../src/schema/cache-schema.ts" });
    expect(local?.contents).toContain('import type { CacheSchema } from "../../src/schema/cache-schema.ts";');
  });

  it("marks every file it writes as generated, except package.json which cannot hold comments", () => {
    for (const format of ["ts", "cjs", "esm"] as const) {
      for (const file of renderCacheSchemaModule(schema, format)) {
        if (file.path === "package.json") continue;
        expect(file.contents.startsWith("// Generated by prisma-cache-plugin")).toBe(true);
        expect(file.contents).toMatch(/Do not edit/);
      }
    }
  });

  it("spells out the model names in the declared type, so that options accept only those", () => {
    const names = Object.keys(schema.models).map((name) => JSON.stringify(name));
    for (const format of ["ts", "cjs", "esm"] as const) {
      const typed = renderCacheSchemaModule(schema, format).find((file) => file.path.endsWith("ts"));
      expect(typed?.contents).toContain(`CacheSchema<${names.join(" | ")}>`);
    }
    const [empty] = renderCacheSchemaModule({ version: 1, models: {}, joinTables: [] });
    expect(empty?.contents).toContain("CacheSchema<never>");
  });

  it("renders the same text for the same schema", () => {
    const again = buildCacheSchema(datamodel, "postgresql");
    expect(renderCacheSchemaModule(again)).toEqual(renderCacheSchemaModule(schema));
  });
});
