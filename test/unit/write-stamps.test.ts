import { describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { EPOCH } from "../../src/stamps/names.ts";
import { readStamps as readDependencies } from "../../src/stamps/read-stamps.ts";
import { explicitStamps as explicitEffects, rawWriteStamps as rawWriteEffects, WRITE_OPERATIONS, writeStamps as writeEffects } from "../../src/stamps/write-stamps.ts";
import { graphFromRuntime, graphFromSchema, relatedClosure, type RuntimeDataModel } from "../../src/schema/model-graph.ts";
import type { CacheSchema } from "../../src/schema/cache-schema.ts";

const graph = graphFromSchema(cacheSchema);

const effects = (model: string, operation: string, args: unknown, result?: unknown) => writeEffects(graph, model, operation, args, result);
const sorted = (stamps: Iterable<string>) => [...stamps].sort();
/** Models whose list stamp the write advances. */
const listed = (stamps: Iterable<string>) => sorted([...stamps].filter((stamp) => stamp.startsWith("m:")).map((stamp) => stamp.slice(2)));
/** Models whose unique lookups the write drops wholesale. */
const allRows = (stamps: Iterable<string>) => sorted([...stamps].filter((stamp) => stamp.startsWith("u:")).map((stamp) => stamp.slice(2)));
/** Whether a cached read with these dependencies is evicted by a write with these effects. */
const evicts = (written: Set<string>, read: string[]) => read.some((stamp) => written.has(stamp));

const user = { id: 1, email: "a@x.io", name: "A", role: "USER", createdAt: new Date(0), invitedById: null };
const post = { id: 10, title: "t", slug: "hello", published: false, views: 0, authorId: 1 };

describe("writeEffects: create", () => {
  it("advances the model's list stamp and the row stamp of every unique of the result, not all unique lookups", () => {
    expect(sorted(effects("User", "create", { data: { email: "a@x.io" } }, user))).toEqual(sorted(["m:User", "r:User:id=#1", 'r:User:email="a@x.io"']));
  });

  it("evicts a cached null from a lookup of the row it creates", () => {
    const written = effects("User", "create", { data: { email: "a@x.io" } }, user);
    expect(evicts(written, readDependencies(graph, "User", "findUnique", { where: { email: "a@x.io" } }, []))).toBe(true);
    expect(evicts(written, readDependencies(graph, "User", "findUnique", { where: { id: 1 } }, []))).toBe(true);
    expect(evicts(written, readDependencies(graph, "User", "findUnique", { where: { id: 2 } }, []))).toBe(false);
  });

  it("drops all unique lookups when the result is narrowed by select", () => {
    const stamps = effects("User", "create", { data: { email: "a@x.io" }, select: { id: true } }, { id: 1 });
    expect(sorted(stamps)).toEqual(sorted(["m:User", "u:User"]));
  });

  it("names a compound unique of the result", () => {
    const stamps = effects("Tag", "create", { data: { namespace: "blog", name: "ts" } }, { id: 3, namespace: "blog", name: "ts" });
    expect(sorted(stamps)).toEqual(sorted(["m:Tag", "r:Tag:id=#3", 'r:Tag:namespace_name="blog","ts"']));
  });

  it("skips row stamps of a unique constraint whose value is null", () => {
    const schema: CacheSchema = {
      version: 1,
      models: {
        Account: {
          dbName: "Account",
          fields: { id: { type: "Int", kind: "scalar", isList: false }, handle: { type: "String", kind: "scalar", isList: false } },
          primaryKey: ["id"],
          uniques: [
            { name: "id", fields: ["id"] },
            { name: "handle", fields: ["handle"] },
          ],
          relations: [],
        },
      },
      joinTables: [],
    };
    expect(sorted(writeEffects(graphFromSchema(schema), "Account", "create", {}, { id: 1, handle: null }))).toEqual(["m:Account", "r:Account:id=#1"]);
  });

  it("names every row of createManyAndReturn", () => {
    const stamps = effects("Post", "createManyAndReturn", { data: [{}, {}] }, [post, { ...post, id: 11, slug: "two" }]);
    expect(sorted(stamps)).toEqual(sorted(["m:Post", "r:Post:id=#10", 'r:Post:slug="hello"', "r:Post:id=#11", 'r:Post:slug="two"']));
  });

  it("touches the models of nested creates, two levels deep", () => {
    const stamps = effects(
      "User",
      "create",
      { data: { email: "a@x.io", posts: { create: [{ title: "t", slug: "s", comments: { create: { body: "b" } } }] }, profile: { create: { bio: "b" } } } },
      user,
    );
    expect(listed(stamps)).toEqual(["Comment", "Post", "Profile", "User"]);
    expect(allRows(stamps)).toEqual(["Comment", "Post", "Profile"]);
  });
});

describe("writeEffects: update and upsert", () => {
  it("advances the row stamps of the where and of the result, and the list stamp", () => {
    const stamps = effects("User", "update", { where: { id: 1 }, data: { name: "B" } }, { ...user, name: "B" });
    expect(sorted(stamps)).toEqual(sorted(["m:User", "r:User:id=#1", 'r:User:email="a@x.io"']));
  });

  it("names the row of a where by another unique field", () => {
    const stamps = effects("Post", "update", { where: { slug: "hello" }, data: { title: "u" } }, post);
    expect(sorted(stamps)).toEqual(sorted(["m:Post", 'r:Post:slug="hello"', "r:Post:id=#10"]));
  });

  it("drops all unique lookups when a unique field changes, since the old value is unknown", () => {
    const stamps = effects("User", "update", { where: { id: 1 }, data: { email: "new@x.io" } }, { ...user, email: "new@x.io" });
    expect(stamps).toContain("u:User");
    expect(evicts(stamps, readDependencies(graph, "User", "findUnique", { where: { email: "a@x.io" } }, []))).toBe(true);
  });

  it("does not touch dependents when no referenced key changes", () => {
    const stamps = effects("User", "update", { where: { id: 1 }, data: { name: "B", role: "ADMIN" } }, user);
    expect(listed(stamps)).toEqual(["User"]);
    expect(allRows(stamps)).toEqual([]);
  });

  it("drops all unique lookups when the result is narrowed by select", () => {
    const stamps = effects("Post", "update", { where: { id: 10 }, data: { title: "u" }, select: { id: true } }, { id: 10 });
    expect(stamps).toContain("u:Post");
    expect(stamps).toContain("r:Post:id=#10");
  });

  it("does not drop unique lookups when the where names a row and the result is complete", () => {
    const stamps = effects("Post", "update", { where: { id: 10 }, data: { views: { increment: 1 } } }, post);
    expect(stamps).not.toContain("u:Post");
    expect(evicts(stamps, readDependencies(graph, "Post", "findUnique", { where: { id: 11 } }, []))).toBe(false);
  });

  it("drops all unique lookups when the where does not name a row", () => {
    const stamps = effects("Post", "update", { where: { views: { gt: 0 } }, data: { title: "u" } }, post);
    expect(stamps).toContain("u:Post");
    expect(stamps).toContain("r:Post:id=#10");
  });

  it("follows onUpdate Cascade of a changed referenced key to the rows referencing it, transitively", () => {
    const stamps = effects("User", "update", { where: { id: 1 }, data: { id: 2 } }, { ...user, id: 2 });
    expect(listed(stamps)).toEqual(["Comment", "Post", "Profile", "User"]);
    expect(allRows(stamps)).toEqual(["Comment", "Post", "Profile", "User"]);
    expect(listed(effects("Post", "update", { where: { id: 10 }, data: { id: 11 } }, { ...post, id: 11 }))).toEqual(["Comment", "Post", "PostTag"]);
  });

  it("treats upsert like update for its where and result, and follows nested writes in create and update", () => {
    const stamps = effects(
      "User",
      "upsert",
      { where: { email: "a@x.io" }, create: { email: "a@x.io", profile: { create: { bio: "b" } } }, update: { posts: { connect: { id: 10 } } } },
      user,
    );
    expect(stamps).toContain('r:User:email="a@x.io"');
    expect(stamps).toContain("r:User:id=#1");
    expect(listed(stamps)).toEqual(["Post", "Profile", "User"]);
  });

  it("drops all unique lookups of the model on updateManyAndReturn", () => {
    expect(allRows(effects("Post", "updateManyAndReturn", { where: {}, data: { title: "x" } }, [post]))).toEqual(["Post"]);
  });

  // Profile.userId is @unique. Re-pointing a profile through its relation changes userId, but keyChanges only sees
  // scalar fields in `data`, so neither the old row stamp (r:Profile:userId=#1) nor u:Profile is advanced: a cached
  // `profile.findUnique({ where: { userId: 1 } })` keeps returning the profile that moved to user 2.
  it("evicts a lookup by a unique foreign key when a relation connect changes it", () => {
    const before = readDependencies(graph, "Profile", "findUnique", { where: { userId: 1 } }, []);
    const stamps = effects("Profile", "update", { where: { id: 5 }, data: { user: { connect: { id: 2 } } } }, { id: 5, bio: "b", userId: 2 });
    expect(evicts(stamps, before)).toBe(true);
  });
});

describe("writeEffects: writes without named rows", () => {
  it.each([
    ["updateMany", { where: { published: false }, data: { title: "x" } }],
    ["deleteMany", { where: { published: false } }],
    ["createMany", { data: [{ title: "x", slug: "x" }] }],
  ])("%s drops the model's list and all its unique lookups", (operation, args) => {
    const stamps = effects("Post", operation, args, { count: 1 });
    expect(stamps).toContain("m:Post");
    expect(stamps).toContain("u:Post");
    expect(evicts(stamps, readDependencies(graph, "Post", "findUnique", { where: { id: 99 } }, []))).toBe(true);
  });

  it("updateMany of a referenced key follows onUpdate Cascade", () => {
    expect(listed(effects("Post", "updateMany", { where: { id: 10 }, data: { id: 100 } }, { count: 1 }))).toEqual(["Comment", "Post", "PostTag"]);
    expect(listed(effects("Post", "updateMany", { where: {}, data: { title: "x" } }, { count: 1 }))).toEqual(["Post"]);
  });

  it("deleteMany follows onDelete actions", () => {
    expect(listed(effects("User", "deleteMany", { where: {} }, { count: 3 }))).toEqual(["Comment", "Post", "Profile", "User"]);
  });
});

describe("writeEffects: delete and referential actions", () => {
  it("deleting a User reaches its Cascade and SetNull dependents: Profile, Post, Comment and invited Users", () => {
    const stamps = effects("User", "delete", { where: { id: 1 } }, user);
    expect(listed(stamps)).toEqual(["Comment", "Post", "Profile", "User"]);
    expect(allRows(stamps)).toEqual(["Comment", "Post", "Profile", "User"]);
    expect(stamps).toContain("r:User:id=#1");
    expect(stamps).toContain('r:User:email="a@x.io"');
  });

  it("deleting a User does not follow SetNull past the rows it nulls", () => {
    // Posts lose their author but are not deleted, so their comments and tags stay as they are.
    const stamps = effects("User", "delete", { where: { id: 1 } }, user);
    expect(listed(stamps)).not.toContain("PostTag");
  });

  it("deleting a Post reaches PostTag and Comment (Cascade)", () => {
    const stamps = effects("Post", "delete", { where: { id: 10 } }, post);
    expect(listed(stamps)).toEqual(["Comment", "Post", "PostTag"]);
    expect(allRows(stamps)).toEqual(["Comment", "PostTag"]);
  });

  it("deleting a Tag reaches PostTag", () => {
    expect(listed(effects("Tag", "delete", { where: { namespace_name: { namespace: "a", name: "b" } } }, { id: 1, namespace: "a", name: "b" }))).toEqual(["PostTag", "Tag"]);
  });

  it("deleting a Category reaches child categories (self Cascade)", () => {
    const stamps = effects("Category", "delete", { where: { id: 1 } }, { id: 1, name: "root", parentId: null });
    expect(stamps).toContain("u:Category");
    expect(evicts(stamps, readDependencies(graph, "Category", "findUnique", { where: { id: 2 } }, []))).toBe(true);
  });

  it("deleting a Profile or an AuditLog reaches nothing else", () => {
    expect(listed(effects("Profile", "delete", { where: { id: 1 } }, { id: 1, bio: "", userId: 1 }))).toEqual(["Profile"]);
    expect(sorted(effects("AuditLog", "delete", { where: { id: 1 } }, { id: 1, action: "x", at: new Date(0) }))).toEqual(["m:AuditLog", "r:AuditLog:id=#1"]);
  });

  it("evicts a cached read of a SetNull dependent by id", () => {
    const read = readDependencies(graph, "Post", "findUnique", { where: { id: 10 } }, []);
    expect(evicts(effects("User", "delete", { where: { id: 1 } }, user), read)).toBe(true);
  });
});

describe("writeEffects: referential chains", () => {
  const rel = (field: string, model: string, fields: string[], references: string[], onDelete: "Cascade" | "SetNull" | "Restrict") => ({
    field,
    model,
    name: `${field}-${model}`,
    isList: false,
    fields,
    references,
    onDelete,
    onUpdate: "Cascade" as const,
  });
  const int = { type: "Int", kind: "scalar" as const, isList: false };
  // Org <- Team (Cascade, composite key) <- Member (Cascade, by that key) <- Badge (SetNull) <- Note (Cascade)
  const chain: CacheSchema = {
    version: 1,
    models: {
      Org: { dbName: "Org", fields: { id: int }, primaryKey: ["id"], uniques: [{ name: "id", fields: ["id"] }], relations: [] },
      Team: {
        dbName: "Team",
        fields: { orgId: int, n: int },
        primaryKey: ["orgId", "n"],
        uniques: [{ name: "orgId_n", fields: ["orgId", "n"] }],
        relations: [rel("org", "Org", ["orgId"], ["id"], "Cascade")],
      },
      Member: {
        dbName: "Member",
        fields: { id: int, orgId: int, teamN: int },
        primaryKey: ["id"],
        uniques: [{ name: "id", fields: ["id"] }],
        relations: [rel("team", "Team", ["orgId", "teamN"], ["orgId", "n"], "Cascade")],
      },
      Badge: {
        dbName: "Badge",
        fields: { id: int, memberId: int },
        primaryKey: ["id"],
        uniques: [{ name: "id", fields: ["id"] }],
        relations: [rel("member", "Member", ["memberId"], ["id"], "SetNull")],
      },
      Note: {
        dbName: "Note",
        fields: { id: int, badgeId: int },
        primaryKey: ["id"],
        uniques: [{ name: "id", fields: ["id"] }],
        relations: [rel("badge", "Badge", ["badgeId"], ["id"], "Cascade")],
      },
    },
    joinTables: [],
  };
  const chainGraph = graphFromSchema(chain);

  it("follows onDelete Cascade transitively, and stops after a SetNull", () => {
    const stamps = writeEffects(chainGraph, "Org", "delete", { where: { id: 1 } }, { id: 1 });
    expect(listed(stamps)).toEqual(["Badge", "Member", "Org", "Team"]);
  });

  it("follows onUpdate Cascade transitively through a changed key that is itself referenced", () => {
    const stamps = writeEffects(chainGraph, "Org", "update", { where: { id: 1 }, data: { id: 2 } }, { id: 2 });
    expect(listed(stamps)).toEqual(["Member", "Org", "Team"]);
  });

  it("stops at a Restrict action", () => {
    const restricted: CacheSchema = {
      ...chain,
      models: { ...chain.models, Team: { ...chain.models.Team!, relations: [rel("org", "Org", ["orgId"], ["id"], "Restrict")] } },
    };
    expect(listed(writeEffects(graphFromSchema(restricted), "Org", "delete", { where: { id: 1 } }, { id: 1 }))).toEqual(["Org"]);
  });
});

describe("writeEffects: nested writes", () => {
  it.each([
    ["create", { posts: { create: { title: "t", slug: "s" } } }],
    ["connect", { posts: { connect: [{ id: 10 }] } }],
    ["disconnect", { posts: { disconnect: { id: 10 } } }],
    ["set", { posts: { set: [] } }],
    ["deleteMany", { posts: { deleteMany: {} } }],
    ["upsert", { posts: { upsert: { where: { id: 10 }, create: { title: "t", slug: "s" }, update: { title: "u" } } } }],
    ["connectOrCreate", { posts: { connectOrCreate: { where: { slug: "s" }, create: { title: "t", slug: "s" } } } }],
    ["update", { posts: { update: { where: { id: 10 }, data: { title: "u" } } } }],
    ["updateMany", { posts: { updateMany: { where: {}, data: { title: "u" } } } }],
    ["createMany", { posts: { createMany: { data: [{ title: "t", slug: "s" }] } } }],
  ])("nested %s touches the related model's list and unique lookups", (_, data) => {
    const stamps = effects("User", "update", { where: { id: 1 }, data }, user);
    expect(stamps).toContain("m:Post");
    expect(stamps).toContain("u:Post");
    expect(evicts(stamps, readDependencies(graph, "Post", "findUnique", { where: { id: 10 } }, []))).toBe(true);
  });

  it("nested deleteMany follows the cascades of the deleted rows", () => {
    expect(listed(effects("User", "update", { where: { id: 1 }, data: { posts: { deleteMany: { published: false } } } }, user))).toEqual(["Comment", "Post", "PostTag", "User"]);
  });

  it("nested delete of a to-one relation follows its cascades", () => {
    expect(listed(effects("Comment", "update", { where: { id: 1n }, data: { post: { delete: true } } }, { id: 1n, body: "", postId: 1, authorId: null }))).toEqual(
      expect.arrayContaining(["Comment", "Post", "PostTag"]),
    );
  });

  it("follows nested writes two levels deep through update, create and upsert", () => {
    const stamps = effects(
      "User",
      "update",
      {
        where: { id: 1 },
        data: {
          posts: {
            update: { where: { id: 10 }, data: { tags: { create: { tag: { connectOrCreate: { where: { id: 1 }, create: { namespace: "a", name: "b" } } } } } } },
            upsert: [{ where: { id: 11 }, create: { title: "t", slug: "s" }, update: { comments: { deleteMany: {} } } }],
          },
        },
      },
      user,
    );
    expect(listed(stamps)).toEqual(["Comment", "Post", "PostTag", "Tag", "User"]);
  });

  it("nested update of a key that others reference follows onUpdate Cascade", () => {
    const stamps = effects("User", "update", { where: { id: 1 }, data: { posts: { update: { where: { id: 10 }, data: { id: 99 } } } } }, user);
    expect(listed(stamps)).toEqual(["Comment", "Post", "PostTag", "User"]);
  });

  it("ignores relation fields whose value is not a nested write", () => {
    expect(listed(effects("User", "update", { where: { id: 1 }, data: { posts: undefined, name: "x" } }, user))).toEqual(["User"]);
  });

  it("many-to-many connect touches the other side", () => {
    const stamps = effects("Category", "update", { where: { id: 1 }, data: { posts: { connect: { id: 10 } } } }, { id: 1, name: "c", parentId: null });
    expect(evicts(stamps, readDependencies(graph, "Post", "findUnique", { where: { id: 10 }, include: { categories: true } }, []))).toBe(true);
  });
});

describe("writeEffects: models missing from the schema", () => {
  it("advances the epoch", () => {
    expect(sorted(effects("Ghost", "update", { where: { id: 1 }, data: {} }, {}))).toEqual([EPOCH]);
  });
});

describe("writeEffects with a coarse graph (graphFromRuntime)", () => {
  const runtime: RuntimeDataModel = {
    models: {
      Author: {
        fields: [
          { name: "id", kind: "scalar", type: "Int" },
          { name: "books", kind: "object", type: "Book", relationName: "AuthorToBook" },
        ],
      },
      Book: {
        fields: [
          { name: "id", kind: "scalar", type: "Int" },
          { name: "authorId", kind: "scalar", type: "Int" },
          { name: "author", kind: "object", type: "Author", relationName: "AuthorToBook" },
          { name: "reviews", kind: "object", type: "Review", relationName: "BookToReview" },
        ],
      },
      Review: {
        fields: [
          { name: "id", kind: "scalar", type: "Int" },
          { name: "book", kind: "object", type: "Book", relationName: "BookToReview" },
        ],
      },
      Lonely: { fields: [{ name: "id", kind: "scalar", type: "Int" }] },
    },
  };
  const coarse = graphFromRuntime(runtime);

  it("finds the related closure through every relation, transitively", () => {
    expect(sorted(relatedClosure(coarse, "Author"))).toEqual(["Author", "Book", "Review"]);
    expect(sorted(relatedClosure(coarse, "Lonely"))).toEqual(["Lonely"]);
  });

  it("delete evicts every model of the related closure", () => {
    const stamps = writeEffects(coarse, "Author", "delete", { where: { id: 1 } }, { id: 1 });
    expect(listed(stamps)).toEqual(["Author", "Book", "Review"]);
    expect(allRows(stamps)).toEqual(["Author", "Book", "Review"]);
    expect(evicts(stamps, readDependencies(coarse, "Review", "findUnique", { where: { id: 1 } }, []))).toBe(true);
  });

  it("create evicts the model's reads, including lookups by id", () => {
    const stamps = writeEffects(coarse, "Lonely", "create", { data: {} }, { id: 1 });
    expect(evicts(stamps, readDependencies(coarse, "Lonely", "findUnique", { where: { id: 1 } }, []))).toBe(true);
  });

  it("update of a scalar evicts the related closure, since keys might have changed", () => {
    expect(listed(writeEffects(coarse, "Book", "update", { where: { id: 1 }, data: { authorId: 2 } }, { id: 1, authorId: 2 }))).toEqual(["Author", "Book", "Review"]);
  });
});

describe("explicitEffects", () => {
  it("advances list and unique stamps of each model and a stamp per tag", () => {
    expect(sorted(explicitEffects(["User", "Post"], ["feed"]))).toEqual(sorted(["m:User", "u:User", "m:Post", "u:Post", "t:feed"]));
    expect(sorted(explicitEffects([], []))).toEqual([]);
  });

  it("evicts cached unique lookups and tagged reads", () => {
    const stamps = explicitEffects(["User"], ["t1"]);
    expect(evicts(stamps, readDependencies(graph, "User", "findUnique", { where: { id: 1 } }, []))).toBe(true);
    expect(evicts(stamps, readDependencies(graph, "Post", "findMany", {}, ["t1"]))).toBe(true);
    expect(evicts(stamps, readDependencies(graph, "Post", "findMany", {}, ["t2"]))).toBe(false);
  });
});

describe("rawWriteEffects", () => {
  it("advances the epoch when no table was recognised", () => {
    expect(sorted(rawWriteEffects(graph, []))).toEqual([EPOCH]);
  });

  it("advances the models named and follows their onDelete actions", () => {
    const stamps = rawWriteEffects(graph, ["Post"]);
    expect(listed(stamps)).toEqual(["Comment", "Post", "PostTag"]);
    expect(allRows(stamps)).toEqual(["Comment", "Post", "PostTag"]);
    expect(sorted(rawWriteEffects(graph, ["AuditLog"]))).toEqual(["m:AuditLog", "u:AuditLog"]);
  });

  // The comment in rawWriteEffects says it follows "what the database does by itself" when a statement deletes rows
  // or changes keys, but only onDelete actions are followed: with Prisma's defaults for a required relation
  // (onDelete Restrict, onUpdate Cascade), `UPDATE "Author" SET id = ...` rewrites Book.authorId unseen.
  it("follows onUpdate Cascade of a model whose onDelete is Restrict", () => {
    const schema: CacheSchema = {
      version: 1,
      models: {
        Author: {
          dbName: "Author",
          fields: { id: { type: "Int", kind: "scalar", isList: false } },
          primaryKey: ["id"],
          uniques: [{ name: "id", fields: ["id"] }],
          relations: [{ field: "books", model: "Book", name: "AuthorToBook", isList: true, fields: [], references: [] }],
        },
        Book: {
          dbName: "Book",
          fields: { id: { type: "Int", kind: "scalar", isList: false }, authorId: { type: "Int", kind: "scalar", isList: false } },
          primaryKey: ["id"],
          uniques: [{ name: "id", fields: ["id"] }],
          relations: [
            { field: "author", model: "Author", name: "AuthorToBook", isList: false, fields: ["authorId"], references: ["id"], onDelete: "Restrict", onUpdate: "Cascade" },
          ],
        },
      },
      joinTables: [],
    };
    expect(listed(rawWriteEffects(graphFromSchema(schema), ["Author"]))).toContain("Book");
  });
});

describe("WRITE_OPERATIONS", () => {
  it("lists every Prisma write and no read", () => {
    expect(sorted(WRITE_OPERATIONS)).toEqual(
      sorted(["create", "createMany", "createManyAndReturn", "update", "updateMany", "updateManyAndReturn", "upsert", "delete", "deleteMany"]),
    );
  });
});
