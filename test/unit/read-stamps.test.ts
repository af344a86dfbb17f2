import { describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { EPOCH } from "../../src/stamps/names.ts";
import { rawReadStamps as rawReadDependencies, readStamps as readDependencies } from "../../src/stamps/read-stamps.ts";
import { pinnedRowStamp, recordRowStamps } from "../../src/stamps/row-stamps.ts";
import { graphFromRuntime, graphFromSchema, type RuntimeDataModel } from "../../src/schema/model-graph.ts";
import type { CacheSchema } from "../../src/schema/cache-schema.ts";

const graph = graphFromSchema(cacheSchema);

const deps = (model: string, operation: string, args: unknown, tags: string[] = []) => readDependencies(graph, model, operation, args, tags);
const sorted = (stamps: Iterable<string>) => [...stamps].sort();
/** The `m:` stamps among `stamps`, i.e. the models the read depends on as a whole. */
const models = (stamps: Iterable<string>) => sorted([...stamps].filter((stamp) => stamp.startsWith("m:")).map((stamp) => stamp.slice(2)));

/** A small slim runtime data model, as `client._runtimeDataModel` carries it. */
const runtime: RuntimeDataModel = {
  models: {
    Author: {
      dbName: null,
      fields: [
        { name: "id", kind: "scalar", type: "Int" },
        { name: "email", kind: "scalar", type: "String" },
        { name: "books", kind: "object", type: "Book", relationName: "AuthorToBook" },
      ],
    },
    Book: {
      dbName: "books",
      fields: [
        { name: "id", kind: "scalar", type: "Int" },
        { name: "authorId", kind: "scalar", type: "Int" },
        { name: "author", kind: "object", type: "Author", relationName: "AuthorToBook" },
        { name: "shelves", kind: "object", type: "Shelf", relationName: "BookToShelf" },
      ],
    },
    Shelf: {
      fields: [
        { name: "id", kind: "scalar", type: "Int" },
        { name: "books", kind: "object", type: "Book", relationName: "BookToShelf" },
      ],
    },
  },
};

describe("readDependencies: unique lookups", () => {
  it("pins findUnique by id to the row, all unique lookups and the epoch, not the model's list stamp", () => {
    expect(sorted(deps("User", "findUnique", { where: { id: 1 } }))).toEqual(sorted([EPOCH, "u:User", "r:User:id=#1"]));
  });

  it("pins a lookup by another unique field to that field's row stamp", () => {
    expect(sorted(deps("User", "findUniqueOrThrow", { where: { email: "a@x.io" } }))).toEqual(sorted([EPOCH, "u:User", 'r:User:email="a@x.io"']));
    expect(deps("Post", "findUnique", { where: { slug: "hello" } })).toContain('r:Post:slug="hello"');
  });

  it("pins a compound unique given by its name (Tag namespace_name)", () => {
    const stamps = deps("Tag", "findUnique", { where: { namespace_name: { namespace: "blog", name: "ts" } } });
    expect(sorted(stamps)).toEqual(sorted([EPOCH, "u:Tag", 'r:Tag:namespace_name="blog","ts"']));
  });

  it("pins a composite id (PostTag postId_tagId)", () => {
    const stamps = deps("PostTag", "findUnique", { where: { postId_tagId: { postId: 1, tagId: 2 } } });
    expect(sorted(stamps)).toEqual(sorted([EPOCH, "u:PostTag", "r:PostTag:postId_tagId=#1,#2"]));
  });

  it("gives a compound unique the same row stamp from a where and from a record", () => {
    const info = graph.models.get("Tag")!;
    expect(pinnedRowStamp(info, { namespace_name: { namespace: "blog", name: "ts" } })).toBe(recordRowStamps(info, { id: 9, namespace: "blog", name: "ts" })![1]);
  });

  it("pins findFirst with an equality on a unique field, in shorthand or as { equals }", () => {
    const expected = sorted([EPOCH, "u:Post", "r:Post:id=#5"]);
    expect(sorted(deps("Post", "findFirst", { where: { id: 5 } }))).toEqual(expected);
    expect(sorted(deps("Post", "findFirstOrThrow", { where: { id: { equals: 5 } } }))).toEqual(expected);
  });

  it("pins findFirst with every field of a compound unique as plain equalities", () => {
    expect(deps("Tag", "findFirst", { where: { namespace: "blog", name: "ts" } })).toContain('r:Tag:namespace_name="blog","ts"');
  });

  it("does not pin a row when only part of a compound unique is given", () => {
    const stamps = deps("Tag", "findFirst", { where: { namespace: "blog" } });
    expect(stamps).toContain("m:Tag");
    expect(stamps.some((stamp) => stamp.startsWith("r:"))).toBe(false);
  });

  it("gives a BigInt id the same row stamp whether given as a number, a bigint or read from a record", () => {
    const asNumber = deps("Comment", "findUnique", { where: { id: 7 } });
    const asBigint = deps("Comment", "findUnique", { where: { id: 7n } });
    expect(asNumber).toContain("r:Comment:id=#7");
    expect(sorted(asNumber)).toEqual(sorted(asBigint));
    expect(recordRowStamps(graph.models.get("Comment")!, { id: 7n, body: "", postId: 1, authorId: null })).toEqual(["r:Comment:id=#7"]);
  });

  it("gives a DateTime unique value the same row stamp as a Date or an ISO string", () => {
    const schema: CacheSchema = {
      version: 1,
      models: {
        Event: {
          dbName: "Event",
          fields: { at: { type: "DateTime", kind: "scalar", isList: false } },
          primaryKey: ["at"],
          uniques: [{ name: "at", fields: ["at"] }],
          relations: [],
        },
      },
      joinTables: [],
    };
    const info = graphFromSchema(schema).models.get("Event")!;
    expect(pinnedRowStamp(info, { at: "2024-01-01T00:00:00.000Z" })).toBe(pinnedRowStamp(info, { at: new Date(Date.UTC(2024, 0, 1)) }));
  });

  // A Decimal unique field given as a string keeps its spelling ("1.50"), while the record returned by a write
  // holds a Decimal that prints as "1.5": an update by id then misses the cached lookup by price "1.50".
  it("gives a Decimal unique value the same row stamp whether given as a string or read from a record", () => {
    const schema: CacheSchema = {
      version: 1,
      models: {
        Price: {
          dbName: "Price",
          fields: { id: { type: "Int", kind: "scalar", isList: false }, amount: { type: "Decimal", kind: "scalar", isList: false } },
          primaryKey: ["id"],
          uniques: [
            { name: "id", fields: ["id"] },
            { name: "amount", fields: ["amount"] },
          ],
          relations: [],
        },
      },
      joinTables: [],
    };
    const info = graphFromSchema(schema).models.get("Price")!;
    expect(recordRowStamps(info, { id: 1, amount: new Prisma.Decimal("1.5") })).toContain(pinnedRowStamp(info, { amount: "1.50" }));
  });

  it.each([
    ["null", { email: null }],
    ["{ equals: null }", { email: { equals: null } }],
    ["not", { id: { not: 5 } }],
    ["in", { id: { in: [5] } }],
    ["gt", { id: { gt: 5 } }],
    ["case-insensitive equals", { email: { equals: "a@x.io", mode: "insensitive" } }],
    ["startsWith", { email: { startsWith: "a" } }],
    ["OR of ids", { OR: [{ id: 1 }, { id: 2 }] }],
  ])("does not pin a row for a %s filter", (_, where) => {
    const stamps = deps("User", "findFirst", { where });
    expect(stamps).toContain("m:User");
    expect(stamps).not.toContain("u:User");
    expect(stamps.some((stamp) => stamp.startsWith("r:"))).toBe(false);
  });

  // `{ equals: prisma.user.fields.invitedById }` compares two columns of each row: it names no single row, yet a
  // field reference is not a plain object, so it is taken for a value (and gets the row stamp `r:User:id=#NaN`).
  it("does not pin a row for an equality with a field reference", () => {
    class FieldRefImpl {
      constructor(
        readonly modelName: string,
        readonly name: string,
        readonly typeName: string,
      ) {}
    }
    const stamps = deps("User", "findFirst", { where: { id: { equals: new FieldRefImpl("User", "invitedById", "Int") } } });
    expect(stamps).toContain("m:User");
  });

  it("depends on the model's list stamp for findMany, count, aggregate and groupBy, even with a unique where", () => {
    for (const operation of ["findMany", "count", "aggregate", "groupBy"]) {
      const stamps = deps("User", operation, { where: { id: 1 } });
      expect(sorted(stamps)).toEqual(sorted([EPOCH, "m:User"]));
    }
  });

  it("depends on the model's list stamp for a read with no args", () => {
    expect(sorted(deps("Post", "findMany", undefined))).toEqual(sorted([EPOCH, "m:Post"]));
    expect(sorted(deps("Post", "findFirst", {}))).toEqual(sorted([EPOCH, "m:Post"]));
  });

  it("adds a t: stamp per tag", () => {
    expect(sorted(deps("Post", "findMany", {}, ["feed", "home"]))).toEqual(sorted([EPOCH, "m:Post", "t:feed", "t:home"]));
  });

  it("always includes the epoch", () => {
    expect(deps("Ghost", "findMany", {})).toContain(EPOCH);
  });
});

describe("readDependencies: relations reached", () => {
  it("follows include, nested include and select", () => {
    expect(models(deps("User", "findUnique", { where: { id: 1 }, include: { posts: { include: { comments: true } }, profile: true } }))).toEqual(["Comment", "Post", "Profile"]);
    expect(models(deps("Post", "findMany", { select: { id: true, author: { select: { profile: true } } } }))).toEqual(["Post", "Profile", "User"]);
  });

  it("does not follow relations that are set to false or only scalars", () => {
    expect(models(deps("User", "findMany", { include: { posts: false }, select: undefined }))).toEqual(["User"]);
    expect(models(deps("User", "findMany", { select: { id: true, email: true } }))).toEqual(["User"]);
  });

  it("follows _count: true to every list relation, and not to to-one relations", () => {
    expect(models(deps("User", "findUnique", { where: { id: 1 }, include: { _count: true } }))).toEqual(["Comment", "Post", "User"]);
  });

  it("follows _count.select to the relations named, and their filters", () => {
    const stamps = deps("User", "findMany", { select: { _count: { select: { posts: { where: { comments: { some: {} } } }, comments: false } } } });
    expect(models(stamps)).toEqual(["Comment", "Post", "User"]);
    expect(models(deps("User", "findMany", { select: { _count: { select: { posts: true } } } }))).toEqual(["Post", "User"]);
  });

  it.each([
    ["some", { posts: { some: { comments: { some: { body: "a" } } } } }, ["Comment", "Post", "User"]],
    ["every", { posts: { every: { tags: { some: {} } } } }, ["Post", "PostTag", "User"]],
    ["none", { comments: { none: { post: { is: { published: true } } } } }, ["Comment", "Post", "User"]],
    ["is", { profile: { is: { bio: "x" } } }, ["Profile", "User"]],
    ["nested is", { invitedBy: { is: { profile: { is: { bio: "x" } } } } }, ["Profile", "User"]],
    ["isNot", { invitedBy: { isNot: { posts: { some: {} } } } }, ["Post", "User"]],
    ["isNot null", { profile: { isNot: null } }, ["Profile", "User"]],
    ["to-one shorthand", { invitedBy: { email: "a@x.io" } }, ["User"]],
    ["nested to-one shorthand", { invitedBy: { comments: { some: {} } } }, ["Comment", "User"]],
    ["null to-one", { profile: null }, ["Profile", "User"]],
    ["deeply nested", { posts: { some: { comments: { some: { author: { profile: { is: { bio: "b" } } } } } } } }, ["Comment", "Post", "Profile", "User"]],
    ["AND array", { AND: [{ posts: { some: {} } }, { profile: { is: {} } }] }, ["Post", "Profile", "User"]],
    ["OR", { OR: [{ id: 1 }, { comments: { some: {} } }] }, ["Comment", "User"]],
    ["NOT object", { NOT: { profile: { is: { bio: "x" } } } }, ["Profile", "User"]],
    ["nested NOT in OR", { OR: [{ NOT: [{ posts: { none: { tags: { some: { tag: { name: "x" } } } } } }] }] }, ["Post", "PostTag", "Tag", "User"]],
  ])("follows relation filters: %s", (_, where, expected) => {
    expect(models(deps("User", "findMany", { where }))).toEqual(expected);
  });

  it("follows the to-one shorthand into the target model's relations", () => {
    expect(models(deps("Comment", "findMany", { where: { post: { categories: { some: { name: "x" } } } } }))).toEqual(["Category", "Comment", "Post"]);
  });

  it("follows relation filters in a findUnique's where alongside the row stamp", () => {
    const stamps = deps("Post", "findUnique", { where: { id: 1, author: { is: { email: "a@x.io" } } } });
    expect(stamps).toContain("r:Post:id=#1");
    expect(models(stamps)).toEqual(["User"]);
  });

  it("follows orderBy by a relation's field and by a relation's _count", () => {
    expect(models(deps("Post", "findMany", { orderBy: { author: { email: "asc" } } }))).toEqual(["Post", "User"]);
    expect(models(deps("User", "findMany", { orderBy: [{ posts: { _count: "desc" } }, { id: "asc" }] }))).toEqual(["Post", "User"]);
    expect(models(deps("Comment", "findMany", { orderBy: { post: { author: { name: "asc" } } } }))).toEqual(["Comment", "Post", "User"]);
  });

  it("follows where and orderBy inside an include", () => {
    const stamps = deps("User", "findMany", { include: { posts: { where: { tags: { some: {} } }, orderBy: { author: { id: "asc" } } } } });
    expect(models(stamps)).toEqual(["Post", "PostTag", "User"]);
  });

  it("follows groupBy's having", () => {
    expect(models(deps("Post", "groupBy", { by: ["authorId"], having: { author: { is: { name: "x" } } } }))).toEqual(["Post", "User"]);
  });

  it("follows self relations and implicit many-to-many relations", () => {
    expect(models(deps("Category", "findMany", { include: { children: true, posts: true } }))).toEqual(["Category", "Post"]);
    expect(models(deps("Post", "findMany", { where: { categories: { some: { parent: { is: { name: "root" } } } } } }))).toEqual(["Category", "Post"]);
  });
});

describe("readDependencies with a coarse graph (graphFromRuntime)", () => {
  const coarse = graphFromRuntime(runtime);

  it("builds models, relations and table names from the runtime data model", () => {
    expect(coarse.precise).toBe(false);
    expect([...coarse.models.keys()]).toEqual(["Author", "Book", "Shelf"]);
    expect(coarse.models.get("Book")!.dbName).toBe("books");
    expect(coarse.models.get("Shelf")!.dbName).toBe("Shelf");
    expect(coarse.tables.get("books")).toEqual(["Book"]);
    expect(coarse.tables.get("_booktoshelf")).toEqual(["Book", "Shelf"]);
    expect(coarse.models.get("Author")!.uniques).toEqual([]);
  });

  it("makes findUnique depend on the model's list stamp, since no unique constraint is known", () => {
    expect(sorted(readDependencies(coarse, "Author", "findUnique", { where: { id: 1 } }, []))).toEqual(sorted([EPOCH, "m:Author"]));
  });

  it("treats _count: true as counting every relation", () => {
    expect(models(readDependencies(coarse, "Book", "findMany", { include: { _count: true } }, []))).toEqual(["Author", "Book", "Shelf"]);
  });

  it("follows relations in include and where", () => {
    expect(models(readDependencies(coarse, "Author", "findMany", { where: { books: { some: { shelves: { some: {} } } } } }, []))).toEqual(["Author", "Book", "Shelf"]);
  });
});

describe("rawReadDependencies", () => {
  it("depends on the epoch, the list stamp of every model named and every tag", () => {
    expect(sorted(rawReadDependencies(["Post", "User"], ["report"]))).toEqual(sorted([EPOCH, "m:Post", "m:User", "t:report"]));
    expect(rawReadDependencies([], ["r"])).toEqual([EPOCH, "t:r"]);
  });
});
