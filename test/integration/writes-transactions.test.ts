/**
 * Writes inside `$transaction`: their invalidations apply after the commit and before `$transaction` resolves, so a
 * read made right after returns the new data, a read made (outside) while the transaction is open is not served
 * after the commit, and a rolled-back transaction leaves the committed data readable.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createCacheBed, STORE_KINDS, type CacheBed } from "../support/cache-bed.ts";
import { dialect } from "../support/dialect.ts";
import { writeProbe, type CachedRead, type WriteProbe } from "../support/write-probe.ts";

const provider = inject("provider");

describe.each(STORE_KINDS)("%s store: writes in transactions", (kind) => {
  let bed: CacheBed;
  let probe: WriteProbe;
  let seq = 0;
  const scope = () => `x${kind}${++seq}`;

  beforeAll(async () => {
    // A generous store timeout: a lookup that times out under load goes to the database and would read as a miss.
    bed = await createCacheBed(kind, { timeoutMs: 5_000 });
    probe = writeProbe(bed);
  });
  afterAll(() => bed?.close());

  async function seed(s: string) {
    const user = await bed.base.prisma.user.create({ data: { email: `${s}@x`, name: "Before" } });
    const post = await bed.base.prisma.post.create({ data: { title: "before", slug: s, authorId: user.id } });
    const tag = await bed.base.prisma.tag.create({ data: { namespace: s, name: "t" } });
    return { user, post, tag };
  }
  class Rollback extends Error {}

  describe("batch $transaction([...])", () => {
    it("evicts the cached reads of every write in the batch once it resolves", async () => {
      const { user, post, tag } = await seed(scope());
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
      const userById = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
      const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));

      await bed.prisma.$transaction([
        bed.prisma.post.update({ where: { id: post.id }, data: { title: "after" } }),
        bed.prisma.user.update({ where: { id: user.id }, data: { name: "After" } }),
      ]);

      expect(await probe.expectFresh(postById)).toMatchObject({ title: "after" });
      expect(await probe.expectFresh(userById)).toMatchObject({ name: "After" });
      await probe.expectSurvives(tagById);
    });

    it("evicts reads of a create, a delete and raw SQL in one batch", async () => {
      const s = scope();
      const { user, post } = await seed(s);
      const created = await probe.cache((db) => db.post.findUnique({ where: { slug: `${s}-new` } }));
      const deleted = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
      const userById = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));

      await bed.prisma.$transaction([
        bed.prisma.post.create({ data: { title: "new", slug: `${s}-new` } }),
        bed.prisma.post.delete({ where: { id: post.id } }),
        bed.prisma.$executeRaw(dialect(bed.provider).sql`UPDATE "User" SET name = ${"Raw"} WHERE id = ${user.id}`),
      ]);

      expect(await probe.expectFresh(created)).toMatchObject({ slug: `${s}-new` });
      expect(await probe.expectFresh(deleted)).toBeNull();
      expect(await probe.expectFresh(userById)).toMatchObject({ name: "Raw" });
    });

    it("a batch that fails leaves the committed data readable", async () => {
      const s = scope();
      const { post } = await seed(s);
      const other = await bed.base.prisma.post.create({ data: { title: "other", slug: `${s}-taken` } });
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));

      await expect(
        bed.prisma.$transaction([
          bed.prisma.post.update({ where: { id: post.id }, data: { title: "rolled back" } }),
          bed.prisma.post.update({ where: { id: other.id }, data: { slug: s } }), // unique violation
        ]),
      ).rejects.toThrow();

      // The entry may or may not have been evicted; either way the read returns the committed row.
      expect(await probe.current(postById)).toEqual(postById.before);
      expect(await bed.base.prisma.post.findUnique({ where: { id: post.id } })).toEqual(postById.before);
    });
  });

  describe("interactive $transaction(async tx => ...)", () => {
    it("evicts the cached reads of its writes before $transaction resolves", async () => {
      const { user, post, tag } = await seed(scope());
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
      const userWithPosts = await probe.cache((db) => db.user.findUnique({ where: { id: user.id }, include: { posts: true } }));
      const tagById = await probe.cache((db) => db.tag.findUnique({ where: { id: tag.id } }));

      const result = await bed.prisma.$transaction(async (tx) => {
        await tx.post.update({ where: { id: post.id }, data: { title: "after" } });
        return "committed";
      });
      expect(result).toBe("committed");

      expect(await probe.expectFresh(postById)).toMatchObject({ title: "after" });
      await probe.expectFresh(userWithPosts);
      await probe.expectSurvives(tagById);
    });

    // Prisma's SQLite adapter runs everything on one connection, so a read outside an open transaction sees its
    // uncommitted writes; these two tests need the other callers to see the committed rows.
    const isolated = provider !== "sqlite";

    it.runIf(isolated)("a read cached by another caller while the transaction is open is not served after the commit", async () => {
      const { post } = await seed(scope());
      let during: CachedRead<unknown> | undefined;

      await bed.prisma.$transaction(async (tx) => {
        await tx.post.update({ where: { id: post.id }, data: { title: "after" } });
        // Outside the transaction the committed row is still the old one: a miss now loads and caches it.
        during = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
        expect(during.before).toMatchObject({ title: "before" });
      });

      expect(await probe.expectFresh(during!)).toMatchObject({ title: "after" });
    });

    it("a read served from the cache while the transaction is open is not served after the commit", async () => {
      const { post } = await seed(scope());
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));

      await bed.prisma.$transaction(async (tx) => {
        await tx.post.update({ where: { id: post.id }, data: { title: "after" } });
        expect(await probe.current(postById)).toMatchObject({ title: "before" });
      });

      expect(await probe.expectFresh(postById)).toMatchObject({ title: "after" });
    });

    it("a read another caller cached while the transaction was open is not served after a rollback", async () => {
      // On SQLite that read saw the uncommitted write (see above); after the rollback it must not outlive it.
      const { post } = await seed(scope());
      let during: CachedRead<unknown> | undefined;
      const rollback = new Error("roll back");

      await expect(
        bed.prisma.$transaction(async (tx) => {
          await tx.post.update({ where: { id: post.id }, data: { title: "rolled back" } });
          during = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));
          throw rollback;
        }),
      ).rejects.toBe(rollback);

      const truth = await bed.base.prisma.post.findUnique({ where: { id: post.id } });
      expect(truth).toMatchObject({ title: "before" });
      expect(during!.before).toBeDefined();
      expect(await bed.prisma.post.findUnique({ where: { id: post.id } })).toStrictEqual(truth);
    });

    it.runIf(isolated)("a null cached by another caller while a create is uncommitted is not served after the commit", async () => {
      const s = scope();
      await seed(s);
      let lookup: CachedRead<unknown> | undefined;
      let count: CachedRead<unknown> | undefined;

      await bed.prisma.$transaction(async (tx) => {
        await tx.post.create({ data: { title: "new", slug: `${s}-new` } });
        lookup = await probe.cache((db) => db.post.findUnique({ where: { slug: `${s}-new` } }));
        count = await probe.cache((db) => db.post.count({ where: { slug: `${s}-new` } }));
        expect(lookup.before).toBeNull();
        expect(count.before).toBe(0);
      });

      expect(await probe.expectFresh(lookup!)).toMatchObject({ slug: `${s}-new` });
      expect(await probe.expectFresh(count!)).toBe(1);
    });

    it("evicts reads of nested writes and raw SQL made in the transaction", async () => {
      const s = scope();
      const { user, post } = await seed(s);
      const posts = await probe.cache((db) => db.post.findMany({ where: { slug: { startsWith: s } }, orderBy: { id: "asc" } }));
      const userById = await probe.cache((db) => db.user.findUnique({ where: { id: user.id } }));
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));

      await bed.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { posts: { create: { title: "nested", slug: `${s}-nested` } } } });
        await tx.$executeRaw(dialect(bed.provider).sql`UPDATE "Post" SET views = 9 WHERE id = ${post.id}`);
        await tx.$executeRawUnsafe(dialect(bed.provider).unsafe('UPDATE "User" SET name = $1 WHERE id = $2'), "Raw", user.id);
      });

      expect(await probe.expectFresh(posts)).toHaveLength(2);
      expect(await probe.expectFresh(userById)).toMatchObject({ name: "Raw" });
      expect(await probe.expectFresh(postById)).toMatchObject({ views: 9 });
    });

    it("reads inside the transaction see its own uncommitted writes", async () => {
      const { post } = await seed(scope());
      await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));

      await bed.prisma.$transaction(async (tx) => {
        await tx.post.update({ where: { id: post.id }, data: { title: "inside" } });
        expect(await tx.post.findUnique({ where: { id: post.id } })).toMatchObject({ title: "inside" });
      });
    });

    it("a rolled-back transaction leaves the committed value readable", async () => {
      const { post } = await seed(scope());
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));

      await expect(
        bed.prisma.$transaction(async (tx) => {
          await tx.post.update({ where: { id: post.id }, data: { title: "rolled back" } });
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);

      // The entry may or may not have been evicted; either way the read returns the committed row.
      expect(await probe.current(postById)).toEqual(postById.before);
      expect(await bed.base.prisma.post.findUnique({ where: { id: post.id } })).toEqual(postById.before);
    });

    it("a value read inside a rolled-back transaction is never served afterwards", async () => {
      const s = scope();
      const { post } = await seed(s);

      await expect(
        bed.prisma.$transaction(async (tx) => {
          await tx.post.update({ where: { id: post.id }, data: { title: "rolled back" } });
          await tx.post.create({ data: { title: "ghost", slug: `${s}-ghost` } });
          // Read inside the transaction (uncommitted data): these must not reach the cache.
          expect(await tx.post.findUnique({ where: { id: post.id } })).toMatchObject({ title: "rolled back" });
          expect(await tx.post.findUnique({ where: { slug: `${s}-ghost` } })).not.toBeNull();
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);

      expect(await bed.prisma.post.findUnique({ where: { id: post.id } })).toMatchObject({ title: "before" });
      expect(await bed.prisma.post.findUnique({ where: { slug: `${s}-ghost` } })).toBeNull();
    });

    it("a transaction rolled back by a failing statement leaves the committed value readable", async () => {
      const s = scope();
      const { post } = await seed(s);
      await bed.base.prisma.post.create({ data: { title: "taken", slug: `${s}-taken` } });
      const postById = await probe.cache((db) => db.post.findUnique({ where: { id: post.id } }));

      await expect(
        bed.prisma.$transaction(async (tx) => {
          await tx.post.update({ where: { id: post.id }, data: { title: "rolled back" } });
          await tx.post.update({ where: { id: post.id }, data: { slug: `${s}-taken` } });
        }),
      ).rejects.toThrow();

      expect(await probe.current(postById)).toEqual(postById.before);
      expect(postById.before).toMatchObject({ title: "before" });
    });
  });
});
