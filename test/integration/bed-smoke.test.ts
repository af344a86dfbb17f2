/** The cache bed on every provider (see vitest.config.ts): its database, its statement counter and a first hit. */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";
import { createTestDatabase } from "../support/database.ts";
import { createTestClient } from "../support/prisma.ts";
import { isTransactionControl } from "../support/sql-counter.ts";

const provider = inject("provider");

describe.each(STORE_KINDS)("%s store: cache bed", (kind) => {
  let bed: CacheBed;
  beforeAll(async () => {
    bed = await createCacheBed(kind);
  });
  afterAll(() => bed?.close());

  it("is on this project's provider", () => {
    expect(bed.provider).toBe(provider);
    expect(bed.db.provider).toBe(provider);
  });

  it("serves a repeated findUnique from the cache", async () => {
    const user = await bed.base.prisma.user.create({ data: { email: "a@x" } });
    bed.resetSql();
    const first = await bed.prisma.user.findUnique({ where: { id: user.id } });
    const second = await bed.prisma.user.findUnique({ where: { id: user.id } });
    expect(second).toStrictEqual(first);
    expect(bed.selects()).toBe(1);
  });
});

describe("test databases and statement counters", () => {
  it("start empty, with every model's table, and are isolated from each other", async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const [ca, cb] = [createTestClient({ url: a.url }), createTestClient({ url: b.url })];
    try {
      expect(a.name).not.toBe(b.name);
      for (const model of ["user", "profile", "post", "category", "tag", "postTag", "comment", "sample", "auditLog", "session"] as const) {
        expect(await (ca.prisma[model] as unknown as { count(): Promise<number> }).count(), model).toBe(0);
      }
      await ca.prisma.user.create({ data: { email: "isolated@x" } });
      expect(await ca.prisma.user.count()).toBe(1);
      expect(await cb.prisma.user.count()).toBe(0);
    } finally {
      await Promise.all([ca.close(), cb.close()]);
      await Promise.all([a.drop(), b.drop()]);
    }
  });

  it("count reads, writes and the transaction around a nested write", async () => {
    const db = await createTestDatabase();
    const client = createTestClient({ url: db.url });
    try {
      await client.prisma.user.count(); // connects
      client.sql.reset();
      await client.prisma.user.findMany();
      expect([client.sql.selects(), client.sql.writes()]).toStrictEqual([1, 0]);

      client.sql.reset();
      await client.prisma.user.create({ data: { email: "nested@x", profile: { create: { bio: "b" } } } });
      expect(client.sql.writes(), client.sql.statements.join("\n")).toBe(2);
      expect(client.sql.statements.filter(isTransactionControl).map((sql) => sql.split(" ")[0])).toStrictEqual(["BEGIN", "COMMIT"]);

      client.sql.reset();
      await client.prisma
        .$transaction(async (tx) => {
          await tx.user.update({ where: { email: "nested@x" }, data: { name: "n" } });
          throw new Error("roll back");
        })
        .catch(() => {});
      expect(client.sql.statements.filter(isTransactionControl).map((sql) => sql.split(" ")[0])).toStrictEqual(["BEGIN", "ROLLBACK"]);
      expect(await client.prisma.user.findUniqueOrThrow({ where: { email: "nested@x" } })).toMatchObject({ name: null });
    } finally {
      await client.close();
      await db.drop();
    }
  });
});
