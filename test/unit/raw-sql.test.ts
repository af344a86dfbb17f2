import { describe, expect, it } from "vitest";
import { cacheSchema } from "../../generated/cache/index.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { graphFromSchema } from "../../src/schema/model-graph.ts";
import { sqlText, tablesInSql, writesData } from "../../src/stamps/raw-sql.ts";

const graph = graphFromSchema(cacheSchema);
const tables = (args: unknown) => tablesInSql(graph, args).sort();

describe("sqlText", () => {
  it("reads a Prisma.sql template, with a placeholder per value", () => {
    expect(sqlText(Prisma.sql`UPDATE "User" SET name = ${"x"} WHERE id = ${1}`)).toBe('UPDATE "User" SET name =  ?  WHERE id =  ? ');
  });

  it("reads a plain template object { strings, values }", () => {
    expect(sqlText({ strings: ["DELETE FROM audit_logs WHERE id = ", ""], values: [1] })).toBe("DELETE FROM audit_logs WHERE id =  ? ");
  });

  it("reads the text of an Unsafe call's [sql, ...values]", () => {
    expect(sqlText(['SELECT * FROM "Post" WHERE id = $1', 5])).toBe('SELECT * FROM "Post" WHERE id = $1');
  });

  it("reads an object with a sql string", () => {
    expect(sqlText({ sql: "SELECT 1" })).toBe("SELECT 1");
  });

  it("includes table names spliced in with Prisma.raw and Prisma.join", () => {
    const text = sqlText(Prisma.sql`DELETE FROM ${Prisma.raw('"Comment"')} WHERE id IN (${Prisma.join([1, 2])})`);
    expect(text).toContain('"Comment"');
  });

  it("returns empty text for anything else", () => {
    expect(sqlText(undefined)).toBe("");
    expect(sqlText(null)).toBe("");
    expect(sqlText([5])).toBe("");
    expect(sqlText(42)).toBe("");
  });
});

describe("tablesInSql", () => {
  it('recognises a quoted table name, "User"', () => {
    expect(tables(Prisma.sql`UPDATE "User" SET name = ${"x"}`)).toEqual(["User"]);
  });

  it("recognises unquoted names whatever their case", () => {
    expect(tables(["update user set name = 'x'"])).toEqual(["User"]);
    expect(tables(["DELETE FROM POST"])).toEqual(["Post"]);
  });

  it("recognises a table renamed with @@map (audit_logs → AuditLog)", () => {
    expect(tables(['INSERT INTO "audit_logs" ("action_name") VALUES ($1)', "x"])).toEqual(["AuditLog"]);
    expect(tables(["delete from audit_logs"])).toEqual(["AuditLog"]);
  });

  it("does not take a model name for its mapped table", () => {
    expect(tables(['DELETE FROM "AuditLog"'])).toEqual([]);
  });

  it("maps an implicit many-to-many join table to both of its models", () => {
    expect(tables(['DELETE FROM "_CategoryToPost" WHERE "A" = $1', 1])).toEqual(["Category", "Post"]);
  });

  it("recognises schema-qualified names", () => {
    expect(tables(['UPDATE "public"."Post" SET views = 0'])).toEqual(["Post"]);
    expect(tables(["UPDATE public.comment SET body = ''"])).toEqual(["Comment"]);
  });

  it("recognises MySQL backticks and SQL Server brackets", () => {
    expect(tables(["UPDATE `Tag` SET name = 'x'"])).toEqual(["Tag"]);
    expect(tables(["UPDATE [PostTag] SET tagId = 1"])).toEqual(["PostTag"]);
  });

  it("finds every table a statement names", () => {
    const sql = Prisma.sql`WITH gone AS (DELETE FROM "Post" WHERE "authorId" = ${1} RETURNING id) UPDATE "User" SET name = ${"x"} FROM "Profile"`;
    expect(tables(sql)).toEqual(["Post", "Profile", "User"]);
  });

  it("finds nothing in a statement that names no table of the schema", () => {
    expect(tables(["SELECT refresh_materialized_views()"])).toEqual([]);
    expect(tables(["UPDATE users SET x = 1"])).toEqual([]);
  });

  it("is not fooled by a table name that is a prefix of another identifier", () => {
    expect(tables(['UPDATE "PostTag" SET "postId" = 1'])).toEqual(["PostTag"]);
  });
});

describe("writesData", () => {
  it.each([
    'INSERT INTO "User" (email) VALUES ($1) RETURNING *',
    'UPDATE "Post" SET views = views + 1 RETURNING id',
    'DELETE FROM "Comment" WHERE id = $1 RETURNING *',
    'WITH moved AS (UPDATE "Post" SET "authorId" = 2 RETURNING id) SELECT * FROM moved',
    'TRUNCATE "audit_logs"',
    "CALL archive_posts()",
    'MERGE INTO "Tag" t USING src ON t.id = src.id WHEN MATCHED THEN UPDATE SET name = src.name',
  ])("is true for %s", (sql) => {
    expect(writesData([sql])).toBe(true);
  });

  it("is true for a Prisma.sql INSERT … RETURNING", () => {
    expect(writesData(Prisma.sql`insert into "User" (email) values (${"a@x.io"}) returning *`)).toBe(true);
  });

  it.each(['SELECT * FROM "User" WHERE id = $1', 'SELECT "createdAt", "updatedAt" FROM "User"', 'select count(*) from "Post" where "deletedAt" is null', "SELECT 1"])(
    "is false for %s",
    (sql) => {
      expect(writesData([sql])).toBe(false);
    },
  );

  it("is false for a Prisma.sql SELECT whose values look like SQL", () => {
    expect(writesData(Prisma.sql`SELECT * FROM "User" WHERE name = ${"DELETE FROM x"}`)).toBe(false);
  });
});

describe("writesData and row locks", () => {
  it("does not take a locking SELECT or an 'update' inside a string literal for a write", () => {
    expect(writesData(['SELECT * FROM "User" WHERE id = $1 FOR UPDATE', 1])).toBe(false);
    expect(writesData(['SELECT * FROM "User" FOR NO KEY UPDATE'])).toBe(false);
    expect(writesData(["SELECT 'please update me' AS note"])).toBe(false);
    expect(writesData(["UPDATE \"User\" SET name = 'x' RETURNING id"])).toBe(true);
  });
});
